"""verify.sde, piece by piece, each against a known answer: the SDE steps and integrator, the exact
moments, the gradient noise, the two control variates, the coupled SDE reference, the estimator,
the scaling rules and SVAG."""
import math

import numpy as np
import pytest

import problems
import stochopt
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
    then X with the gamma factors at the end of the step, as ``AdamSDE.step`` documents)."""
    mx, mm = np.array(x0, float), np.zeros(len(a))
    cxx, cxm, cmm = np.zeros(len(a)), np.zeros(len(a)), np.zeros(len(a))
    u, q = np.zeros(len(a)), sigma0 * c1 * np.sqrt(s)
    out = []
    for n in range(max(n_rec)):
        t1 = (n + 1) * dt
        g1, g2 = -math.expm1(-c1 * t1), -math.expm1(-c2 * t1)
        u = u + c2 * (s - u) * dt
        B = math.sqrt(g2) / g1 / (sigma0 * np.sqrt(u) + eps0 * math.sqrt(g2)) * dt
        a21, a22 = c1 * a * dt, 1 - c1 * dt          # m' = c1 a dt X + (1 - c1 dt) m + q dW,  X' = X - B m'
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


A3, S3 = np.array([1.0, 2.0, 0.5]), np.array([1.0, 0.25, 4.0])


# ----------------------------------------------------------------------------- SDE steps and integrator
def test_em_rmsprop_reproduces_ou_moments():
    """The integrator's sample moments equal the Euler chain's exact moments within 4 s.e., and those
    converge to the closed-form OU moments at first order in dt (the Euler bias computed, not guessed)."""
    R = 10000
    x0 = np.tile([1.0, -1.0, 2.0], (R, 1))
    kw = dict(sigma0=0.7, eps0=0.3, c2=2.0)
    times, dt = [0.5, 1.0], 2e-3
    for u0 in (None, 0.3 * S3):          # constant P (exact OU) and time-varying u (moment ODE)
        limit = sde.RMSpropSDE(noise_var=S3, **kw)
        t, X = sde.euler_maruyama(limit, lambda x: A3 * x, x0, T=1.0, dt=dt, seed=1, record_times=times, u0=u0)
        mean, var = sde.rmsprop_sde_moments(times, x0[0], A3, S3, u0=u0, **kw)
        em_mean, em_var = _em_rmsprop_moments([250, 500], dt, x0[0], A3, S3, u0=u0, **kw)
        _assert_mc(X, em_mean, em_var, R)
        bias = np.max(np.abs(np.concatenate([em_mean - mean, em_var - var])))
        assert bias < 2e-3
        half_mean, half_var = _em_rmsprop_moments([500, 1000], dt / 2, x0[0], A3, S3, u0=u0, **kw)
        assert 0.4 < np.max(np.abs(np.concatenate([half_mean - mean, half_var - var]))) / bias < 0.6


def test_em_adam_matches_moment_ode():
    R, dt = 10000, 5e-4
    a, s = np.array([1.0, 3.0]), np.array([1.0, 0.5])
    x0 = np.tile([1.0, 0.5], (R, 1))
    kw = dict(sigma0=1.0, eps0=0.5, c1=4.0, c2=1.0)
    t, X = sde.euler_maruyama(sde.AdamSDE(noise_var=s, **kw), lambda x: a * x, x0, T=1.0, dt=dt, seed=2,
                              record_times=[0.5, 1.0])
    mean, var = sde.adam_sde_moments([0.5, 1.0], x0[0], a, s, **kw)
    em_mean, em_var = _em_adam_moments([1000, 2000], dt, x0[0], a, s, **kw)
    _assert_mc(X, em_mean, em_var, R)
    bias = np.max(np.abs(np.concatenate([em_mean - mean, em_var - var])))
    assert bias < 1e-3                                  # Euler chain -> moment ODE (first order in dt)
    half_mean, half_var = _em_adam_moments([2000, 4000], dt / 2, x0[0], a, s, **kw)
    assert np.max(np.abs(np.concatenate([half_mean - mean, half_var - var]))) < 0.6 * bias


def test_em_planted_noise_scale_is_detected():
    """The moment test has power: a diffusion 10% too strong is more than 4 standard errors off."""
    R = 10000
    x0 = np.tile([1.0, -1.0, 2.0], (R, 1))
    kw = dict(sigma0=0.7, eps0=0.3, c2=2.0)
    wrong = sde.RMSpropSDE(noise_var=1.21 * S3, **kw)
    t, X = sde.euler_maruyama(wrong, lambda x: A3 * x, x0, T=1.0, dt=2e-3, seed=1, record_times=[0.5, 1.0])
    em_mean, em_var = _em_rmsprop_moments([250, 500], 2e-3, x0[0], A3, S3, **kw)
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


def test_quadratic_loss_of_moments():
    assert sde.quadratic_loss([2.0, 1.0], [1.0, 3.0], [0.5, 1.0], offset=1.0) == pytest.approx(
        0.5 * (2 * 1.5 + 1 * 10.0) + 1.0)


# ----------------------------------------------------------------------------- Monte Carlo pieces
def test_gradient_noise_moments():
    rng = np.random.default_rng(0)
    for dist in ("gaussian", "exponential"):
        noise = sde.GradientNoise(sigma=3.0, weights=(1.5, -0.5), distribution=dist)
        z = noise.draw(rng, (200000,))
        assert abs(z.mean()) < 4 * math.sqrt(2.5 / z.size)
        assert abs(z.var() - 2.5) < 0.05                            # r1^2 + r2^2
        assert noise.variance == pytest.approx(9.0 * 2.5)
    skew = sde.GradientNoise(distribution="exponential").draw(rng, (200000,))
    assert abs(np.mean(skew ** 3) - 2.0) < 0.2                      # centred Exp(1): third moment 2


def _quadratic(d=3):
    return problems.get("noisy-quadratic", hessian=[0.5, 1.0, 2.0][:d], noise_cov=1.0, center=[0.2, 0.0, -0.1][:d])


def test_rmsprop_shadow_matches_its_closed_form():
    """With v0 = sigma^2 Sigma the shadow's coefficient c is constant: mean (1 - ca)^k (x0 - c*), variance
    c^2 sigma^2 s (1 - f^(2k)) / (1 - f^2), f = 1 - c a."""
    p, sigma, lr, eps = _quadratic(), 4.0, 0.1, 2.0
    x0 = np.ones((20000, 3))
    sh = sde.RMSpropShadow(p, x0, sde.GradientNoise(sigma), lr=lr, alpha=0.9, eps=eps, v0=sigma ** 2)
    rng = np.random.default_rng(3)
    for _ in range(30):
        sh.step(rng.standard_normal(x0.shape))
    c = lr / (sigma + eps)
    f = 1 - c * np.diag(p.A)
    mean = f ** 30 * (1 - p.x_star)
    var = c * c * sigma ** 2 * (1 - f ** 60) / (1 - f ** 2)
    np.testing.assert_allclose(sh.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(sh.var, var, rtol=1e-12)
    _assert_mc(sh.y[None], mean, var, x0.shape[0])                   # the paths have those moments
    assert sh.expected_loss() == pytest.approx(sde.quadratic_loss(np.diag(p.A), mean, var, p.f_star), rel=1e-12)


def test_adam_shadow_moments_match_its_paths():
    p, sigma = _quadratic(), 3.0
    R = 20000
    sh = sde.AdamShadow(p, np.ones((R, 3)), sde.GradientNoise(sigma), lr=0.05, betas=(0.8, 0.95), eps=1.0)
    rng = np.random.default_rng(4)
    for _ in range(25):
        sh.step(rng.standard_normal((R, 3)))
    _assert_mc(sh.y[None], sh.mean[0], sh.cov[0], R)
    assert np.allclose(sh.m.mean(axis=0), sh.mean[1], atol=4 * np.sqrt(sh.cov[2] / R))
    # noise-free: the shadow is Adam with v replaced by 0, i.e. x <- x - lr m_hat / eps
    quiet = sde.AdamShadow(p, np.ones((1, 3)), sde.GradientNoise(0.0), lr=0.05, betas=(0.8, 0.95), eps=1.0)
    y, m = np.ones(3) - p.x_star, np.zeros(3)
    for t in range(1, 6):
        quiet.step(np.zeros((1, 3)))
        m = 0.8 * m + 0.2 * np.diag(p.A) * y
        y = y - 0.05 / (1 - 0.8 ** t) * m / 1.0
    np.testing.assert_allclose(quiet.y[0], y, rtol=1e-13)


def test_control_variate_is_unbiased_and_smaller():
    p = _quadratic()
    noise = sde.GradientNoise(5.0)
    opt = stochopt.adam(lr=0.1, betas=(0.9, 0.99), eps=2.0)
    shadow = lambda x: sde.AdamShadow(p, x, noise, 0.1, (0.9, 0.99), 2.0)  # noqa: E731
    with_cv = sde.expected_loss(opt, p, np.ones(3), 50, 4000, noise, seed=4, companion=shadow)
    plain = sde.expected_loss(opt, p, np.ones(3), 50, 4000, noise, seed=5)
    assert abs(with_cv.estimate[0] - plain.estimate[0]) < 4 * math.hypot(with_cv.se[0], plain.se[0])
    assert with_cv.se[0] < 0.5 * plain.se[0]
    assert with_cv.quantity == plain.quantity == "E L(x_k)"


def test_coupled_sde_reference_matches_exact_moments():
    """On a quadratic both Euler chains are linear, so their E L is exact (``_em_rmsprop_moments``): the
    Monte Carlo mean of the Richardson combination is within 4 s.e. of 2 E L(dt/2) - E L(dt), and that
    combination is much closer to the SDE's exact E L than Euler alone (its O(dt) bias cancels)."""
    p = _quadratic()
    a, s = np.diag(p.A), sde.diagonal_noise(p)
    eta, R, steps = 0.4, 20000, 8
    x0 = 1 - p.x_star
    ref = sde.CoupledSDE(sde.RMSpropSDE(1.0, 0.5, 1.0, s), p, np.ones((R, 3)), eta, seed=6)
    rng = np.random.default_rng(7)
    for _ in range(steps):
        ref.step(rng.standard_normal((R, 3)))

    def euler(n, dt=eta ** 2):                       # E L after time steps * eta^2 with n Euler steps per eta^2
        mean, var = _em_rmsprop_moments([int(round(steps * eta ** 2 / dt)) * n], dt / n, x0, a, s, 1.0, 0.5, 1.0)
        return sde.quadratic_loss(a, mean[0], var[0], p.f_star)

    combined = 2 * euler(2) - euler(1)
    samples = ref.loss()
    assert abs(samples.mean() - combined) < 4 * samples.std() / math.sqrt(R)
    mean, var = sde.rmsprop_sde_moments([steps * eta ** 2], x0, a, s, 1.0, 0.5, 1.0)
    exact = sde.quadratic_loss(a, mean, var, p.f_star)[0]
    assert abs(combined - exact) < 0.2 * abs(euler(1) - exact)
    finer = 2 * euler(2, dt=eta ** 2 / 4) - euler(1, dt=eta ** 2 / 4)     # dt / 4: second order, about 16x
    assert abs(finer - exact) < abs(combined - exact) / 8


def test_coupled_estimate_is_the_weak_error():
    """Two estimators of the same weak error agree: control variate minus the exact SDE value, and the
    coupled difference (RMSprop on a quadratic, where both exist)."""
    p = _quadratic()
    eta = 0.2
    h = sde.discrete_from_sde(eta, 1.0, 0.5, 1.0)
    noise = sde.GradientNoise(h["sigma"])
    opt = stochopt.rmsprop(lr=eta, alpha=h["beta2"], eps=h["eps"], v0=h["sigma"] ** 2)
    limit = sde.RMSpropSDE(1.0, 0.5, 1.0, sde.diagonal_noise(p))
    coupled = sde.expected_loss(opt, p, np.ones(3), 25, 20000, noise, seed=8,
                                companion=lambda x: sde.CoupledSDE(limit, p, x, eta, seed=8))
    cv = sde.expected_loss(opt, p, np.ones(3), 25, 20000, noise, seed=9,
                           companion=lambda x: sde.RMSpropShadow(p, x, noise, eta, h["beta2"], h["eps"],
                                                                 v0=h["sigma"] ** 2))
    mean, var = sde.rmsprop_sde_moments([1.0], 1 - p.x_star, np.diag(p.A), np.ones(3), 1.0, 0.5, 1.0)
    exact = sde.quadratic_loss(np.diag(p.A), mean, var, p.f_star)[0]
    assert coupled.quantity == "E L(x_k) - E L(X(k eta^2))"
    assert abs(coupled.estimate[0] - (cv.estimate[0] - exact)) < 4 * math.hypot(coupled.se[0], cv.se[0])


def test_fast_loss_and_gradient_equal_the_problem_bit_for_bit():
    p = problems.get("noisy-quadratic", hessian=[0.3, 1.0, 7.0], noise_cov=[1.0, 2.0, 0.5], center=[1.0, -2.0, 0.5],
                     offset=0.25)
    value, grad = sde.loss_and_gradient(p)
    x = np.random.default_rng(0).standard_normal((64, 3)) * 10
    assert np.array_equal(grad(x), p.grad(x)) and np.array_equal(value(x), p.value(x))
    q = problems.get("noisy-logcosh")
    assert sde.loss_and_gradient(q) == (q.value, q.grad)            # anything else: the problem's own


def test_discrete_rmsprop_error_falls_like_eta_squared_on_the_quadratic():
    """The known order of this case (measured by the claim at 1.6-2): halving eta quarters the weak error."""
    p = problems.get("noisy-quadratic", hessian=[1.0] * 10, noise_cov=1.0)
    errs = []
    for eta in (0.4, 0.2):
        h = sde.discrete_from_sde(eta, 1.0, 0.5, 1.0)
        noise = sde.GradientNoise(h["sigma"])
        c = sde.expected_loss(stochopt.rmsprop(lr=eta, alpha=h["beta2"], eps=h["eps"], v0=h["sigma"] ** 2), p,
                              np.ones(10), int(round(1.28 / eta ** 2)), 4000, noise, seed=3,
                              companion=lambda x: sde.RMSpropShadow(p, x, noise, eta, h["beta2"], h["eps"],
                                                                    v0=h["sigma"] ** 2))
        mean, var = sde.rmsprop_sde_moments([1.28], np.ones(10), np.ones(10), np.ones(10), 1.0, 0.5, 1.0)
        errs.append(abs(c.estimate[0] - sde.quadratic_loss(np.ones(10), mean, var)[0]))
    assert errs[1] < 0.45 * errs[0]


# ----------------------------------------------------------------------------- scaling rules and SVAG
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


def test_discrete_and_sde_parameters_are_inverse():
    h = sde.discrete_from_sde(0.05, 1.3, 0.2, 2.0, 5.0)
    back = sde.sde_from_discrete(h["lr"], h["sigma"], h["eps"], h["beta2"], h["beta1"])
    assert back == pytest.approx({"sigma0": 1.3, "eps0": 0.2, "c2": 2.0, "c1": 5.0}, rel=1e-9)


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


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs_name_the_parameter():
    with pytest.raises(ValueError, match="c2"):
        sde.RMSpropSDE(1.0, 0.5, -1.0, [1.0])
    with pytest.raises(ValueError, match="noise_var"):
        sde.AdamSDE(1.0, 0.5, 1.0, 1.0, [-1.0])
    with pytest.raises(ValueError, match="x0"):
        sde.euler_maruyama(sde.RMSpropSDE(1.0, 0.5, 1.0, [1.0]), lambda x: x, np.ones(2), 1.0, 0.1)
    with pytest.raises(ValueError, match="multiple of dt"):
        sde.euler_maruyama(sde.RMSpropSDE(1.0, 0.5, 1.0, [1.0]), lambda x: x, np.ones((2, 1)), 1.0, 0.3)
    with pytest.raises(ValueError, match="distribution"):
        sde.GradientNoise(distribution="cauchy")
    with pytest.raises(ValueError, match="sigma"):
        sde.GradientNoise(sigma=-1.0)
    with pytest.raises(ValueError, match="eta"):
        sde.discrete_from_sde(2.0, 1.0, 1.0, c2=1.0)
    with pytest.raises(ValueError, match="diagonal"):
        sde.diagonal_noise(problems.get("noisy-quadratic", hessian=[1.0, 1.0], noise_cov=[[1.0, 0.5], [0.5, 1.0]]))
    with pytest.raises(TypeError, match="noise"):
        sde.diagonal_noise(problems.get("cb2"))
