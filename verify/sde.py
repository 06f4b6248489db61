"""SDE tools for adaptive methods: integrators, closed-form moments, scaling rules and SVAG.

Malladi, Lyu, Panigrahi, Arora, "On the SDEs and Scaling Rules for Adaptive Gradient
Algorithms" (NeurIPS 2022). Noise model g = grad L(x) + sigma z, Cov z = Sigma(x) (diagonal
here), sigma ~ 1/sqrt(batch). Hold sigma0 = sigma eta, eps0 = eps eta,
c_i = (1 - beta_i) / eta^2 fixed as eta -> 0; time t = k eta^2; u = v / sigma^2::

    RMSprop: dX = -P^{-1} (grad L dt + sigma0 Sigma^{1/2} dW),  P = sigma0 diag(u)^{1/2} + eps0
             du = c2 (diag Sigma - u) dt
    Adam:    dX = -(sqrt(gamma2)/gamma1) P^{-1} m dt,  P = sigma0 diag(u)^{1/2} + eps0 sqrt(gamma2)
             dm = c1 (grad L - m) dt + sigma0 c1 Sigma^{1/2} dW,   du = c2 (diag Sigma - u) dt
             gamma_i(t) = 1 - exp(-c_i t)

These forms were re-derived from the discrete updates (and confirmed numerically by the claims
``adaptive.rmsprop.sde-weak-error`` and ``adaptive.adam.sde-weak-error``), not copied from
the paper's theorem statement.

On a separable quadratic L = sum_i a_i x_i^2 / 2 with constant diagonal Sigma, u is
deterministic, the RMSprop SDE is a (time-inhomogeneous) Ornstein-Uhlenbeck process and the
Adam SDE is linear in (X, m): their first two moments solve linear ODEs
(``rmsprop_sde_moments``, ``adam_sde_moments``), in closed form when u starts at Sigma.

>>> import numpy as np
>>> from verify import sde
>>> mean, var = sde.rmsprop_sde_moments([0.0, 1.0], x0=[1.0], curvature=[1.0], noise_var=[1.0],
...                                     sigma0=1.0, eps0=0.0, c2=1.0)
>>> np.round(mean[:, 0], 6), np.round(var[:, 0], 6)       # OU: e^{-t}, (1 - e^{-2t})/2
(array([1.      , 0.367879]), array([0.      , 0.432332]))
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "NoisyQuadratic",
    "discrete_from_sde",
    "euler_maruyama",
    "rmsprop_sde_moments",
    "adam_sde_moments",
    "sgd_sde_moments",
    "sqrt_scaling",
    "linear_scaling",
    "svag_adaptive",
    "svag_sgd",
    "svag_coefficients",
    "simulate_adaptive",
    "LossCurve",
]


# --------------------------------------------------------------------------- the test problem

@dataclass(frozen=True)
class NoisyQuadratic:
    """L(x) = sum_i a_i x_i^2 / 2 with gradient noise sigma Sigma^{1/2} z, Sigma = diag(noise_var).

    >>> import numpy as np
    >>> p = NoisyQuadratic(curvature=np.array([1.0, 2.0]), noise_var=np.array([1.0, 4.0]), sigma=0.5)
    >>> p.gradient(np.ones(2), z=np.ones(2))            # a x + sigma sqrt(Sigma) z
    array([1.5, 3. ])
    >>> float(p.value(np.ones(2)))
    1.5
    """

    curvature: np.ndarray
    noise_var: np.ndarray
    sigma: float = 1.0

    def __post_init__(self):
        a = np.asarray(self.curvature, dtype=float)
        s = np.asarray(self.noise_var, dtype=float)
        if a.ndim != 1 or s.shape != a.shape:
            raise ValueError(f"curvature and noise_var must be 1-D arrays of one shape; got {a.shape}, {s.shape}")
        if np.any(a <= 0) or np.any(s < 0) or not (self.sigma >= 0 and math.isfinite(self.sigma)):
            raise ValueError("curvature must be > 0, noise_var >= 0 and sigma a finite number >= 0")
        object.__setattr__(self, "curvature", a)
        object.__setattr__(self, "noise_var", s)

    @property
    def dim(self) -> int:
        return self.curvature.shape[0]

    def value(self, x):
        return 0.5 * np.sum(self.curvature * x * x, axis=-1)

    def grad(self, x):
        return self.curvature * x

    def gradient(self, x, z):
        """A stochastic gradient given standard normal draws z of the shape of x."""
        return self.curvature * x + self.sigma * np.sqrt(self.noise_var) * z

    def noise_to_signal(self, x):
        """E||noise||^2 / ||grad L(x)||^2, per replica (the regime gate of the scaling rules)."""
        signal = np.sum((self.curvature * x) ** 2, axis=-1)
        noise = self.sigma ** 2 * np.sum(self.noise_var)
        return noise / np.maximum(signal, 1e-300)


def discrete_from_sde(eta, sigma0, eps0, c2, c1=None):
    """Discrete hyperparameters whose SDE limit is (sigma0, eps0, c1, c2): lr = eta, sigma = sigma0/eta,
    eps = eps0/eta, beta_i = 1 - c_i eta^2.

    >>> discrete_from_sde(0.1, sigma0=1.0, eps0=0.5, c2=2.0, c1=1.0)
    {'lr': 0.1, 'sigma': 10.0, 'eps': 5.0, 'beta2': 0.98, 'beta1': 0.99}
    """
    out = {"lr": eta, "sigma": sigma0 / eta, "eps": eps0 / eta, "beta2": 1.0 - c2 * eta ** 2}
    if c1 is not None:
        out["beta1"] = 1.0 - c1 * eta ** 2
    if not 0 <= out["beta2"] < 1 or ("beta1" in out and not 0 <= out["beta1"] < 1):
        raise ValueError(f"eta={eta} is too large for c1={c1}, c2={c2}: need c_i eta^2 in (0, 1]")
    return out


# --------------------------------------------------------------------------- Euler-Maruyama

def euler_maruyama(kind, problem: NoisyQuadratic, x0, T, dt, sigma0, eps0, c2, c1=None, u0=None, seed=0,
                   record_times=None):
    """Batched Euler-Maruyama for the RMSprop (``kind="rmsprop"``) or Adam (``kind="adam"``) SDE.

    x0 has shape (R, d) (R independent paths in lock-step); the noise covariance is the problem's
    diagonal Sigma (any diagonal). u0 defaults to Sigma for RMSprop and 0 for Adam (v0 = 0); m0 = 0.
    For Adam the factor sqrt(gamma2)/gamma1 is singular at t = 0, so each step updates m first and
    evaluates the gamma factors at the end of the step (as the discrete method's bias correction
    does at t = k + 1). Returns (times, X) with X of shape (len(times), R, d).

    >>> import numpy as np
    >>> p = NoisyQuadratic(np.ones(1), np.ones(1))
    >>> t, X = euler_maruyama("rmsprop", p, np.ones((20000, 1)), T=1.0, dt=0.01, sigma0=1.0, eps0=0.0, c2=1.0)
    >>> bool(abs(X[-1].mean() - np.exp(-1)) < 0.02), bool(abs(X[-1].var() - (1 - np.exp(-2)) / 2) < 0.02)
    (True, True)
    """
    if kind not in ("rmsprop", "adam"):
        raise ValueError(f"kind must be 'rmsprop' or 'adam'; got {kind!r}")
    if kind == "adam" and c1 is None:
        raise ValueError("the Adam SDE needs c1 = (1 - beta1)/eta^2 > 0")
    x = np.array(x0, dtype=float, copy=True)
    if x.ndim != 2:
        raise ValueError(f"x0 must have shape (R, d); got {x.shape}")
    steps = int(round(T / dt))
    if steps < 1 or abs(steps * dt - T) > 1e-9 * max(T, 1):
        raise ValueError(f"T must be a positive multiple of dt; got T={T}, dt={dt}")
    rng = np.random.default_rng(seed)
    s = problem.noise_var
    root_s = np.sqrt(s)
    u = np.broadcast_to(s if kind == "rmsprop" else 0.0, x.shape).copy() if u0 is None else \
        np.broadcast_to(np.asarray(u0, float), x.shape).copy()
    m = np.zeros_like(x)
    record_times = [T] if record_times is None else list(record_times)
    record_steps = {int(round(tr / dt)): i for i, tr in enumerate(record_times)}
    out = np.empty((len(record_times),) + x.shape)
    if 0 in record_steps:
        out[record_steps[0]] = x
    sq = math.sqrt(dt)
    for n in range(steps):
        dw = sq * rng.standard_normal(x.shape)
        grad = problem.grad(x)
        if kind == "rmsprop":
            P = sigma0 * np.sqrt(u) + eps0
            x = x - (grad * dt + sigma0 * root_s * dw) / P
            u = u + c2 * (s - u) * dt
        else:
            t1 = (n + 1) * dt
            g1, g2 = -math.expm1(-c1 * t1), -math.expm1(-c2 * t1)
            m = m + c1 * (grad - m) * dt + sigma0 * c1 * root_s * dw
            u = u + c2 * (s - u) * dt
            P = sigma0 * np.sqrt(u) + eps0 * math.sqrt(g2)
            x = x - (math.sqrt(g2) / g1) * (m / P) * dt
        if n + 1 in record_steps:
            out[record_steps[n + 1]] = x
    return np.asarray(record_times, float), out


# --------------------------------------------------------------------------- moments

def _u_of_t(t, s, u0, c2):
    return s + (u0 - s) * np.exp(-c2 * t)


def rmsprop_sde_moments(times, x0, curvature, noise_var, sigma0, eps0, c2, u0=None, rtol=1e-11):
    """Mean and variance of X(t) for the RMSprop SDE on a separable quadratic, constant diagonal Sigma.

    u(t) = Sigma + (u0 - Sigma) e^{-c2 t} is deterministic, so each coordinate is an OU process
    dX = -(a/P) X dt - (sigma0 sqrt(s)/P) dW with P(t) = sigma0 sqrt(u(t)) + eps0. When u0 = Sigma
    (the default) P is constant and the moments are the OU closed form; otherwise the two linear
    moment ODEs are integrated with scipy at rtol ``rtol``. Returns (mean, var), each (len(times), d).

    >>> import numpy as np
    >>> m, v = rmsprop_sde_moments([2.0], [1.0], [1.0], [1.0], sigma0=1.0, eps0=1.0, c2=1.0)
    >>> np.round([m[0, 0], v[0, 0]], 6)                 # P = 2: rate 1/2, diffusion 1/4
    array([0.367879, 0.216166])
    """
    t = np.asarray(times, float)
    x0, a, s = (np.broadcast_to(np.asarray(v, float), np.shape(curvature)) for v in (x0, curvature, noise_var))
    if u0 is None or np.allclose(u0, s, rtol=0, atol=0):
        P = sigma0 * np.sqrt(s) + eps0
        rate = a / P
        mean = x0 * np.exp(-np.outer(t, rate))
        var = (sigma0 ** 2 * s / P ** 2) * (-np.expm1(-2 * np.outer(t, rate))) / (2 * rate)
        return mean, var
    from scipy.integrate import solve_ivp

    u0 = np.broadcast_to(np.asarray(u0, float), a.shape)
    d = a.shape[0]

    def rhs(tt, y):
        P = sigma0 * np.sqrt(_u_of_t(tt, s, u0, c2)) + eps0
        mu, var = y[:d], y[d:]
        return np.concatenate([-(a / P) * mu, -2 * (a / P) * var + sigma0 ** 2 * s / P ** 2])

    te, back = np.unique(t, return_inverse=True)
    sol = solve_ivp(rhs, (0.0, float(te.max())), np.concatenate([x0, np.zeros(d)]), t_eval=te,
                    rtol=rtol, atol=1e-14, method="DOP853")
    y = sol.y.T[np.asarray(back).reshape(-1)]
    return y[:, :d], y[:, d:]


def adam_sde_moments(times, x0, curvature, noise_var, sigma0, eps0, c1, c2, u0=0.0, rtol=1e-10):
    """Mean and variance of X(t) for the Adam SDE on a separable quadratic, constant diagonal Sigma.

    (X, m) is a linear SDE per coordinate with deterministic coefficients:
    dX = -b(t) m dt, dm = c1 (a X - m) dt + sigma0 c1 sqrt(s) dW, b = sqrt(gamma2)/(gamma1 P).
    Its mean (2 components) and covariance (3) solve linear ODEs, integrated with an implicit
    solver from t0 = 1e-9 (b ~ 1/t is singular at 0) with the leading-order series as initial
    values. Returns (mean, var) of X, each (len(times), d).

    >>> import numpy as np
    >>> m, v = adam_sde_moments([1.0], [1.0], [1.0], [1.0], sigma0=1.0, eps0=0.1, c1=50.0, c2=1.0)
    >>> bool(0 < m[0, 0] < 1 and v[0, 0] > 0)
    True
    """
    from scipy.integrate import solve_ivp

    t = np.asarray(times, float)
    a = np.asarray(curvature, float)
    x0, s, u0 = (np.broadcast_to(np.asarray(v, float), a.shape) for v in (x0, noise_var, u0))
    # coordinates are independent: solve once per distinct (x0, a, s, u0)
    keys = np.stack([x0, a, s, u0], axis=1)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    x0, a, s, u0 = uniq.T
    d = a.shape[0]
    t0 = 1e-9

    def b_of(tt):
        g1, g2 = -math.expm1(-c1 * tt), -math.expm1(-c2 * tt)
        P = sigma0 * np.sqrt(_u_of_t(tt, s, u0, c2)) + eps0 * math.sqrt(g2)
        return math.sqrt(g2) / (g1 * P)

    def rhs(tt, y):
        mx, mm, cxx, cxm, cmm = y.reshape(5, d)
        b = b_of(tt)
        return np.concatenate([
            -b * mm, c1 * (a * mx - mm),
            -2 * b * cxm, -b * cmm + c1 * (a * cxx - cxm), 2 * c1 * (a * cxm - cmm) + sigma0 ** 2 * c1 ** 2 * s,
        ])

    def jac(tt, y):
        b = b_of(tt)
        J = np.zeros((5, d, 5, d))
        i = np.arange(d)
        J[0, i, 1, i] = -b
        J[1, i, 0, i] = c1 * a
        J[1, i, 1, i] = -c1
        J[2, i, 3, i] = -2 * b
        J[3, i, 4, i] = -b
        J[3, i, 2, i] = c1 * a
        J[3, i, 3, i] = -c1
        J[4, i, 3, i] = 2 * c1 * a
        J[4, i, 4, i] = -2 * c1
        return J.reshape(5 * d, 5 * d)

    P0 = sigma0 * np.sqrt(s) + eps0  # small-t behaviour when u0 = 0: b ~ 1/(c1 t P0)
    init = np.concatenate([x0, c1 * t0 * a * x0, 2 * sigma0 ** 2 * s * t0 / P0 ** 2,
                           -sigma0 ** 2 * c1 * s * t0 / P0, sigma0 ** 2 * c1 ** 2 * s * t0])
    te, back = np.unique(np.maximum(t, t0), return_inverse=True)
    sol = solve_ivp(rhs, (t0, float(te.max())), init, t_eval=te, rtol=rtol, atol=1e-13, method="Radau", jac=jac)
    y = sol.y.T[np.asarray(back).reshape(-1)]
    return y[:, :d][:, inverse], y[:, 2 * d:3 * d][:, inverse]


def sgd_sde_moments(times, x0, curvature, noise_var, eta):
    """Mean and variance of SGD's SDE dX = -a X dt + (eta s)^{1/2} dW (time t = k eta) on a quadratic.

    >>> import numpy as np
    >>> m, v = sgd_sde_moments([1.0], [1.0], [1.0], [2.0], eta=0.5)
    >>> np.round([m[0, 0], v[0, 0]], 6)
    array([0.367879, 0.432332])
    """
    t = np.asarray(times, float)
    a = np.asarray(curvature, float)
    x0, s = (np.broadcast_to(np.asarray(v, float), a.shape) for v in (x0, noise_var))
    mean = x0 * np.exp(-np.outer(t, a))
    var = eta * s * (-np.expm1(-2 * np.outer(t, a))) / (2 * a)
    return mean, var


# --------------------------------------------------------------------------- scaling rules, SVAG

def _betas_of(h):
    if "betas" in h:
        return list(h["betas"]), "betas"
    if "alpha" in h:
        return [h["alpha"]], "alpha"
    return [], None


def sqrt_scaling(hparams: dict, kappa: float) -> dict:
    """The square-root scaling rule for batch B -> kappa B (Malladi et al. 2022).

    lr -> sqrt(kappa) lr, 1 - beta_i -> kappa (1 - beta_i), eps -> eps / sqrt(kappa),
    batch_size -> kappa batch_size, steps -> steps / kappa (same number of epochs). Keys that are
    absent are left out; ``betas`` (a tuple) or ``alpha`` (RMSprop) are both understood.

    >>> sqrt_scaling({"lr": 0.01, "betas": (0.9, 0.99), "eps": 1e-8, "batch_size": 32, "steps": 1000}, 4)
    {'lr': 0.02, 'betas': (0.6, 0.96), 'eps': 5e-09, 'batch_size': 128, 'steps': 250}
    """
    kappa = float(kappa)
    if not kappa > 0:
        raise ValueError(f"kappa must be > 0; got {kappa}")
    out = dict(hparams)
    out["lr"] = hparams["lr"] * math.sqrt(kappa)
    betas, key = _betas_of(hparams)
    if key:
        new = [1.0 - kappa * (1.0 - b) for b in betas]
        if any(not 0 <= b < 1 for b in new):
            raise ValueError(f"kappa={kappa} gives betas {new} outside [0, 1): the rule needs kappa (1 - beta) <= 1")
        out[key] = tuple(round(b, 15) for b in new) if key == "betas" else round(new[0], 15)
    if "eps" in hparams:
        out["eps"] = hparams["eps"] / math.sqrt(kappa)
    _scale_batch_steps(out, hparams, kappa)
    return out


def linear_scaling(hparams: dict, kappa: float) -> dict:
    """SGD's linear scaling rule (Goyal et al.; Li, Malladi, Arora 2021): lr -> kappa lr, steps / kappa.

    Betas and eps are unchanged.

    >>> linear_scaling({"lr": 0.01, "betas": (0.9, 0.99), "batch_size": 32, "steps": 1000}, 4)
    {'lr': 0.04, 'betas': (0.9, 0.99), 'batch_size': 128, 'steps': 250}
    """
    out = dict(hparams)
    out["lr"] = hparams["lr"] * float(kappa)
    _scale_batch_steps(out, hparams, kappa)
    return out


def _scale_batch_steps(out, hparams, kappa):
    if "batch_size" in hparams:
        out["batch_size"] = int(round(hparams["batch_size"] * kappa))
    if "steps" in hparams:
        out["steps"] = int(round(hparams["steps"] / kappa))


def svag_coefficients(l, adaptive=True):
    """SVAG's gradient weights (r1, r2): g = r1 g(batch1) + r2 g(batch2), r1 + r2 = 1.

    Adaptive methods: r = (1 +- sqrt(2 l^2 - 1))/2 (noise variance times l^2);
    SGD (Li, Malladi, Arora 2021): r = (1 +- sqrt(2 l - 1))/2 (noise variance times l).

    >>> svag_coefficients(1)
    (1.0, 0.0)
    >>> r1, r2 = svag_coefficients(2); round(r1 ** 2 + r2 ** 2, 12)
    4.0
    """
    l = float(l)
    if not l >= 1:
        raise ValueError(f"l must be >= 1; got {l}")
    root = math.sqrt(2 * l * l - 1) if adaptive else math.sqrt(2 * l - 1)
    return (1 + root) / 2, (1 - root) / 2


def svag_adaptive(hparams: dict, l: float) -> dict:
    """SVAG for adaptive methods (Malladi et al. 2022): lr -> lr/l, 1 - beta_i -> (1 - beta_i)/l^2,
    eps -> eps l, weights (r1, r2) from ``svag_coefficients(l)``, steps -> l^2 steps.

    >>> h = svag_adaptive({"lr": 0.1, "betas": (0.9, 0.99), "eps": 1e-3, "steps": 10}, 2)
    >>> h["lr"], h["betas"], h["eps"], h["steps"], round(h["r1"] ** 2 + h["r2"] ** 2, 12)
    (0.05, (0.975, 0.9975), 0.002, 40, 4.0)
    """
    l = float(l)
    out = dict(hparams)
    out["lr"] = hparams["lr"] / l
    betas, key = _betas_of(hparams)
    if key:
        new = [1.0 - (1.0 - b) / l ** 2 for b in betas]
        out[key] = tuple(round(b, 15) for b in new) if key == "betas" else round(new[0], 15)
    if "eps" in hparams:
        out["eps"] = hparams["eps"] * l
    if "steps" in hparams:
        out["steps"] = int(round(hparams["steps"] * l * l))
    out["r1"], out["r2"] = svag_coefficients(l, adaptive=True)
    return out


def svag_sgd(hparams: dict, l: float) -> dict:
    """SVAG for SGD (Li, Malladi, Arora 2021): lr -> lr/l, r from ``svag_coefficients(l, adaptive=False)``,
    l times more steps. Its limit is dX = -grad L dt + (eta Sigma)^{1/2} dW in time t = k eta.

    >>> h = svag_sgd({"lr": 0.1, "steps": 10}, 4)
    >>> h["lr"], h["steps"], round(h["r1"] ** 2 + h["r2"] ** 2, 12)
    (0.025, 40, 4.0)
    """
    l = float(l)
    out = dict(hparams)
    out["lr"] = hparams["lr"] / l
    if "steps" in hparams:
        out["steps"] = int(round(hparams["steps"] * l))
    out["r1"], out["r2"] = svag_coefficients(l, adaptive=False)
    return out


# --------------------------------------------------------------------------- discrete runs with a control variate

@dataclass
class LossCurve:
    """E L(x_k) at recorded steps: Monte Carlo estimate, its standard error, and the raw samples.

    ``samples`` (n_rec, R) are per-replica values whose mean is ``estimate`` (after adding the
    control variate's exact expectation ``shift``); ``se`` is their standard error.
    """

    steps: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    samples: np.ndarray
    shift: np.ndarray


def simulate_adaptive(kind, problem: NoisyQuadratic, x0, lr, beta2, eps, steps, replicas, seed=0, beta1=0.0,
                      v0=0.0, noise="gaussian", weights=None, record_steps=None, control_variate=True):
    """Run discrete RMSprop (torch convention, ``kind="rmsprop"``) or Adam (``kind="adam"``) on the
    noisy quadratic, R replicas in lock-step, and estimate E L(x_k) at ``record_steps``.

    The methods are ``stochopt.rmsprop`` / ``stochopt.adam`` themselves. ``noise`` is
    ``"gaussian"`` or ``"exponential"`` (centred Exp(1): skewed, unit variance); ``weights``
    (r1, r2) combine two independent draws as SVAG does (noise r1 z1 + r2 z2). With
    ``control_variate`` the estimate subtracts a coupled linear recursion Y driven by the same
    draws, whose second moment v is replaced by its noise-only mean (so Y is linear Gaussian in
    its moments, which are computed exactly) and adds E L(Y_k) back: unbiased, with a standard
    error that shrinks with the step size.

    >>> import numpy as np
    >>> p = NoisyQuadratic(np.ones(2), np.ones(2), sigma=10.0)
    >>> c = simulate_adaptive("rmsprop", p, np.ones(2), lr=0.1, beta2=0.99, eps=5.0, steps=100,
    ...                       replicas=500, v0=100.0, record_steps=[100])
    >>> c.estimate.shape, bool(c.se[0] < 0.01)
    ((1,), True)
    """
    import stochopt

    if kind not in ("rmsprop", "adam"):
        raise ValueError(f"kind must be 'rmsprop' or 'adam'; got {kind!r}")
    if noise not in ("gaussian", "exponential"):
        raise ValueError(f"noise must be 'gaussian' or 'exponential'; got {noise!r}")
    d = problem.dim
    a, s, sig = problem.curvature, problem.noise_var, problem.sigma
    r = (1.0, 0.0) if weights is None else tuple(float(w) for w in weights)
    noise_scale = sig * math.sqrt(r[0] ** 2 + r[1] ** 2)   # std of the combined noise per unit Sigma
    if kind == "rmsprop":
        opt = stochopt.rmsprop(lr=lr, alpha=beta2, eps=eps, v0=v0)
    else:
        opt = stochopt.adam(lr=lr, betas=(beta1, beta2), eps=eps)
    x0 = np.broadcast_to(np.asarray(x0, float), (replicas, d))
    state = opt.init(x0)
    record_steps = [steps] if record_steps is None else sorted(int(k) for k in record_steps)
    rec = {k: i for i, k in enumerate(record_steps)}
    n_rec = len(record_steps)
    samples = np.empty((n_rec, replicas))
    shift = np.zeros(n_rec)
    rng = np.random.default_rng(seed)
    # control variate Y: same draws, v replaced by its noise-only mean vbar
    y = x0.copy()
    my = np.zeros_like(y)
    vbar = np.broadcast_to(np.asarray(v0, float), (d,)).astype(float).copy()
    mean = np.stack([x0[0].copy(), np.zeros(d)])          # E(Y, m)
    cov = np.zeros((3, d))                                 # Var Y, Cov(Y, m), Var m
    root = np.sqrt(s)

    def draw():
        z = rng.standard_normal if noise == "gaussian" else (lambda shape: rng.standard_exponential(shape) - 1.0)
        out = r[0] * z((replicas, d))
        if r[1] != 0.0:
            out = out + r[1] * z((replicas, d))
        return out

    def store(k):
        i = rec[k]
        lx = problem.value(state.x)
        if control_variate:
            ey = 0.5 * np.sum(a * (mean[0] ** 2 + cov[0]))
            samples[i] = lx - problem.value(y)
            shift[i] = ey
        else:
            samples[i] = lx

    if 0 in rec:
        store(0)
    for k in range(steps):
        z = draw()
        state = opt.step(state, a * state.x + sig * root * z)
        if control_variate:
            vbar = beta2 * vbar + (1 - beta2) * noise_scale ** 2 * s
            b = noise_scale * root                        # noise coefficient of the combined draw (unit var)
            if kind == "rmsprop":
                c = lr / (np.sqrt(vbar) + eps)
                y = y - c * (a * y + sig * root * z)
                f = 1 - c * a
                mean[0] = f * mean[0]
                cov[0] = f * f * cov[0] + (c * b) ** 2
            else:
                t = k + 1
                c = lr / (1 - beta1 ** t) / (np.sqrt(vbar / (1 - beta2 ** t)) + eps)
                my = beta1 * my + (1 - beta1) * (a * y + sig * root * z)
                y = y - c * my
                # (Y, m) <- A (Y, m) + B w with A = [[1 - c(1-b1)a, -c b1], [(1-b1)a, b1]], B = b(1-b1)[-c, 1]
                a11, a12, a21, a22 = 1 - c * (1 - beta1) * a, -c * beta1, (1 - beta1) * a, beta1
                b1_, b2_ = -c * (1 - beta1) * b, (1 - beta1) * b
                mean = np.stack([a11 * mean[0] + a12 * mean[1], a21 * mean[0] + a22 * mean[1]])
                vyy, vym, vmm = cov
                cov = np.stack([
                    a11 * a11 * vyy + 2 * a11 * a12 * vym + a12 * a12 * vmm + b1_ * b1_,
                    a11 * a21 * vyy + (a11 * a22 + a12 * a21) * vym + a12 * a22 * vmm + b1_ * b2_,
                    a21 * a21 * vyy + 2 * a21 * a22 * vym + a22 * a22 * vmm + b2_ * b2_,
                ])
        if k + 1 in rec:
            store(k + 1)
    est = samples.mean(axis=1) + shift
    se = samples.std(axis=1, ddof=1) / math.sqrt(replicas)
    return LossCurve(np.asarray(record_steps), est, se, samples, shift)
