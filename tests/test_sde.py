"""SDE tools: the Euler-Maruyama integrator against closed-form moments, scaling rules, SVAG."""
import math

import numpy as np
import pytest

from verify import sde


def _em_rmsprop_moments(n_rec, dt, x0, a, s, sigma0, eps0, c2, u0=None):
    """Exact mean and variance of the Euler-Maruyama chain for the RMSprop SDE (independent of
    verify.sde): X' = (1 - a dt/P_n) X - sigma0 sqrt(s) dW/P_n is linear with deterministic P_n."""
    mean, var = np.array(x0, float), np.zeros(len(a))
    u = np.array(s if u0 is None else u0, float)
    out = []
    for n in range(max(n_rec)):
        P = sigma0 * np.sqrt(u) + eps0
        f = 1 - a * dt / P
        mean, var = f * mean, f * f * var + sigma0 ** 2 * s * dt / P ** 2
        u = u + c2 * (s - u) * dt
        if n + 1 in n_rec:
            out.append((mean.copy(), var.copy()))
    return np.array([o[0] for o in out]), np.array([o[1] for o in out])


def _em_adam_moments(n_rec, dt, x0, a, s, sigma0, eps0, c1, c2):
    """Exact mean and variance of X for the Euler-Maruyama chain of the Adam SDE (m first, then u,
    then X with the gamma factors at the end of the step, as ``euler_maruyama`` documents)."""
    mx, mm = np.array(x0, float), np.zeros(len(a))
    cxx, cxm, cmm = np.zeros(len(a)), np.zeros(len(a)), np.zeros(len(a))
    u, q = np.zeros(len(a)), sigma0 * c1 * np.sqrt(s)
    out = []
    for n in range(max(n_rec)):
        t1 = (n + 1) * dt
        g1, g2 = -math.expm1(-c1 * t1), -math.expm1(-c2 * t1)
        u = u + c2 * (s - u) * dt
        B = math.sqrt(g2) / g1 / (sigma0 * np.sqrt(u) + eps0 * math.sqrt(g2)) * dt
        # m' = c1 a dt X + (1 - c1 dt) m + q dW,  X' = X - B m'
        a21, a22 = c1 * a * dt, 1 - c1 * dt
        a11, a12 = 1 - B * a21, -B * a22
        b1, b2 = -B * q, q
        mx, mm = a11 * mx + a12 * mm, a21 * mx + a22 * mm
        cxx, cxm, cmm = (a11 * a11 * cxx + 2 * a11 * a12 * cxm + a12 * a12 * cmm + b1 * b1 * dt,
                         a11 * a21 * cxx + (a11 * a22 + a12 * a21) * cxm + a12 * a22 * cmm + b1 * b2 * dt,
                         a21 * a21 * cxx + 2 * a21 * a22 * cxm + a22 * a22 * cmm + b2 * b2 * dt)
        if n + 1 in n_rec:
            out.append((mx.copy(), cxx.copy()))
    return np.array([o[0] for o in out]), np.array([o[1] for o in out])


def _assert_mc(X, mean, var, R, z=4.0):
    """Sample mean and variance of X (n_rec, R, d) within z Monte Carlo standard errors, no slack."""
    z_mean = np.abs(X.mean(axis=1) - mean) / np.sqrt(var / R)
    z_var = np.abs(X.var(axis=1) - var) / (var * math.sqrt(2.0 / R))
    assert z_mean.max() < z and z_var.max() < z, (z_mean, z_var)


def test_em_rmsprop_reproduces_ou_moments():
    """Monte Carlo precision: the sample moments of the integrator equal the exact moments of the
    Euler chain within 4 standard errors (no absolute slack), and those converge to the closed-form
    OU moments at first order in dt (the Euler bias, computed, not guessed)."""
    R = 10000
    p = sde.NoisyQuadratic(np.array([1.0, 2.0, 0.5]), np.array([1.0, 0.25, 4.0]))
    x0 = np.tile([1.0, -1.0, 2.0], (R, 1))
    kw = dict(sigma0=0.7, eps0=0.3, c2=2.0)
    times, dt = [0.5, 1.0], 2e-3
    for u0 in (None, 0.3 * p.noise_var):          # constant P (exact OU) and time-varying u (moment ODE)
        t, X = sde.euler_maruyama("rmsprop", p, x0, T=1.0, dt=dt, u0=u0, seed=1, record_times=times, **kw)
        mean, var = sde.rmsprop_sde_moments(times, x0[0], p.curvature, p.noise_var, u0=u0, **kw)
        em_mean, em_var = _em_rmsprop_moments([250, 500], dt, x0[0], p.curvature, p.noise_var, u0=u0, **kw)
        _assert_mc(X, em_mean, em_var, R)
        # the Euler bias is O(dt) and far below the Monte Carlo error of the test ...
        bias = np.max(np.abs(np.concatenate([em_mean - mean, em_var - var])))
        assert bias < 2e-3
        # ... and halves with dt: the chain's moments converge to the closed form
        half_mean, half_var = _em_rmsprop_moments([500, 1000], dt / 2, x0[0], p.curvature, p.noise_var, u0=u0, **kw)
        half = np.max(np.abs(np.concatenate([half_mean - mean, half_var - var])))
        assert 0.4 < half / bias < 0.6
        # so the sample moments also reproduce the closed form within 4 s.e. plus that computed bias
        assert np.all(np.abs(X.mean(axis=1) - mean) < 4 * np.sqrt(var / R) + np.abs(em_mean - mean))
        assert np.all(np.abs(X.var(axis=1) - var) < 4 * var * math.sqrt(2.0 / R) + np.abs(em_var - var))


def test_em_adam_matches_moment_ode():
    R, dt = 10000, 5e-4
    p = sde.NoisyQuadratic(np.array([1.0, 3.0]), np.array([1.0, 0.5]))
    x0 = np.tile([1.0, 0.5], (R, 1))
    kw = dict(sigma0=1.0, eps0=0.5, c1=4.0, c2=1.0)
    t, X = sde.euler_maruyama("adam", p, x0, T=1.0, dt=dt, seed=2, record_times=[0.5, 1.0], **kw)
    mean, var = sde.adam_sde_moments([0.5, 1.0], x0[0], p.curvature, p.noise_var, **kw)
    em_mean, em_var = _em_adam_moments([1000, 2000], dt, x0[0], p.curvature, p.noise_var, **kw)
    _assert_mc(X, em_mean, em_var, R)
    bias = np.max(np.abs(np.concatenate([em_mean - mean, em_var - var])))
    assert bias < 1e-3                                  # Euler chain -> moment ODE (first order in dt)
    half_mean, half_var = _em_adam_moments([2000, 4000], dt / 2, x0[0], p.curvature, p.noise_var, **kw)
    assert np.max(np.abs(np.concatenate([half_mean - mean, half_var - var]))) < 0.6 * bias


def test_em_planted_noise_scale_is_detected():
    """The test above has power: an integrator whose diffusion is 10% too strong (a planted
    mistake) is more than 4 standard errors away from the exact moments."""
    R = 10000
    p = sde.NoisyQuadratic(np.array([1.0, 2.0, 0.5]), np.array([1.0, 0.25, 4.0]))
    wrong = sde.NoisyQuadratic(p.curvature, 1.21 * p.noise_var)   # sqrt(Sigma) * 1.1 in dW, and in u
    x0 = np.tile([1.0, -1.0, 2.0], (R, 1))
    kw = dict(sigma0=0.7, eps0=0.3, c2=2.0)
    t, X = sde.euler_maruyama("rmsprop", wrong, x0, T=1.0, dt=2e-3, seed=1, record_times=[0.5, 1.0], **kw)
    em_mean, em_var = _em_rmsprop_moments([250, 500], 2e-3, x0[0], p.curvature, p.noise_var, **kw)
    with pytest.raises(AssertionError):
        _assert_mc(X, em_mean, em_var, R)


def test_rmsprop_moments_closed_form_equals_ode_path():
    a, s = np.array([1.0, 2.0]), np.array([1.0, 3.0])
    m1, v1 = sde.rmsprop_sde_moments([0.3, 1.2], [1.0, 2.0], a, s, 0.8, 0.2, 1.5)
    m2, v2 = sde.rmsprop_sde_moments([0.3, 1.2], [1.0, 2.0], a, s, 0.8, 0.2, 1.5, u0=s * (1 + 1e-15))
    np.testing.assert_allclose(m1, m2, rtol=1e-8)
    np.testing.assert_allclose(v1, v2, rtol=1e-8)


def test_sgd_sde_moments_match_sgd_stationary_variance_in_the_limit():
    # SGD on a x^2/2 with noise variance s: stationary var = lr s / (a (2 - lr a)) -> lr s / (2a)
    m, v = sde.sgd_sde_moments([50.0], [1.0], [2.0], [3.0], eta=0.01)
    assert abs(v[0, 0] - 0.01 * 3.0 / (2 * 2.0 * (1 - 0.01))) < 1e-4


def test_discrete_rmsprop_converges_to_its_sde():
    """The weak error of RMSprop (torch convention, v0 = sigma^2 Sigma) falls as eta halves."""
    d, R, T = 20, 1000, 1.0
    ones = np.ones(d)
    mean, var = sde.rmsprop_sde_moments([T], ones, ones, ones, 1.0, 0.5, 1.0)
    ref = 0.5 * np.sum(mean ** 2 + var)
    errs = []
    for eta in (0.2, 0.1):
        h = sde.discrete_from_sde(eta, 1.0, 0.5, 1.0)
        p = sde.NoisyQuadratic(ones, ones, sigma=h["sigma"])
        c = sde.simulate_adaptive("rmsprop", p, ones, h["lr"], h["beta2"], h["eps"], int(round(T / eta ** 2)), R,
                                  v0=h["sigma"] ** 2, seed=3)
        errs.append(abs(c.estimate[0] - ref))
    assert errs[1] < 0.6 * errs[0]


def test_control_variate_is_unbiased():
    d, R = 4, 4000
    p = sde.NoisyQuadratic(np.ones(d), np.ones(d), sigma=5.0)
    kw = dict(lr=0.1, beta2=0.99, eps=2.0, steps=50, replicas=R, beta1=0.9, seed=4)
    with_cv = sde.simulate_adaptive("adam", p, np.ones(d), **kw)
    plain = sde.simulate_adaptive("adam", p, np.ones(d), control_variate=False, **{**kw, "seed": 5})
    assert abs(with_cv.estimate[0] - plain.estimate[0]) < 4 * math.hypot(with_cv.se[0], plain.se[0])
    assert with_cv.se[0] < 0.5 * plain.se[0]


def test_scaling_rules_keep_the_sde_invariants():
    base = {"lr": 0.01, "betas": (0.99, 0.999), "eps": 1e-6, "batch_size": 8, "steps": 1600}
    sigma = 3.0                                       # noise scale at batch 8
    for kappa in (2, 4, 16):
        h = sde.sqrt_scaling(base, kappa)
        sig = sigma / math.sqrt(kappa)
        assert math.isclose(sig * h["lr"], sigma * base["lr"])                                 # sigma0
        assert math.isclose(h["eps"] * h["lr"], base["eps"] * base["lr"])                      # eps0
        for b_new, b_old in zip(h["betas"], base["betas"]):
            assert math.isclose((1 - b_new) / h["lr"] ** 2, (1 - b_old) / base["lr"] ** 2, rel_tol=1e-9)  # c_i
        assert math.isclose(h["steps"] * h["lr"] ** 2, base["steps"] * base["lr"] ** 2)        # SDE time
        assert h["batch_size"] * h["steps"] == base["batch_size"] * base["steps"]              # epochs
        lin = sde.linear_scaling(base, kappa)
        assert lin["lr"] == base["lr"] * kappa and lin["betas"] == base["betas"]
    with pytest.raises(ValueError, match="kappa"):
        sde.sqrt_scaling(base, 1000)


@pytest.mark.parametrize("l", [1, 2, 3, 8])
def test_svag_coefficients_and_invariants(l):
    r1, r2 = sde.svag_coefficients(l)
    assert math.isclose(r1 + r2, 1.0) and math.isclose(r1 ** 2 + r2 ** 2, l ** 2)
    q1, q2 = sde.svag_coefficients(l, adaptive=False)
    assert math.isclose(q1 + q2, 1.0) and math.isclose(q1 ** 2 + q2 ** 2, l)
    base = {"lr": 0.1, "betas": (0.9, 0.99), "eps": 1e-3, "steps": 25}
    h = sde.svag_adaptive(base, l)
    noise = math.sqrt(h["r1"] ** 2 + h["r2"] ** 2)               # sigma -> sigma l
    assert math.isclose(noise * h["lr"], base["lr"])             # sigma0 unchanged
    assert math.isclose(h["eps"] * h["lr"], base["eps"] * base["lr"])
    assert math.isclose((1 - h["betas"][1]) / h["lr"] ** 2, (1 - base["betas"][1]) / base["lr"] ** 2, rel_tol=1e-9)
    assert math.isclose(h["steps"] * h["lr"] ** 2, base["steps"] * base["lr"] ** 2)
    g = sde.svag_sgd({"lr": 0.1, "steps": 10}, l)
    assert math.isclose(g["lr"] * g["steps"], 1.0)               # same SGD time k eta
    assert math.isclose(g["lr"] * (g["r1"] ** 2 + g["r2"] ** 2), 0.1)   # eta * variance: SDE noise kept


def test_bad_inputs():
    with pytest.raises(ValueError, match="kind"):
        sde.euler_maruyama("sgd", sde.NoisyQuadratic(np.ones(1), np.ones(1)), np.ones((2, 1)), 1.0, 0.1, 1, 0, 1)
    with pytest.raises(ValueError, match="c1"):
        sde.euler_maruyama("adam", sde.NoisyQuadratic(np.ones(1), np.ones(1)), np.ones((2, 1)), 1.0, 0.1, 1, 0, 1)
    with pytest.raises(ValueError):
        sde.NoisyQuadratic(np.array([-1.0]), np.ones(1))
    with pytest.raises(ValueError, match="eta"):
        sde.discrete_from_sde(2.0, 1.0, 1.0, c2=1.0)
