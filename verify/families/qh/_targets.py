"""The converters' target algorithms as plain loops, written from their papers (the ground truth).

Each loop runs R replicas in lock-step (hyperparameters of shape (R,) or scalars), takes the
gradient oracle ``oracle(x, t)`` at the point where its paper evaluates it, and returns that
sequence, shape (steps + 1, R, d): the sequence QHM is claimed to reproduce. Coefficients are
computed here from the papers' formulas, never from ``stochopt`` (so a mistake in a converter's
coefficient code cannot hide in the target). Initial states are parameters, so that a control
can start a target off its rest point.

>>> import numpy as np
>>> ys = snv_loop(np.ones((1, 2)), lambda x, t: x, 3, alpha=0.5, beta1=0.5, beta2=0.5)
>>> ys.shape, ys[0].tolist()
((4, 1, 2), [[1.0, 1.0]])
"""
from __future__ import annotations

import numpy as np


def _col(value):
    value = np.asarray(value, dtype=float)
    return value[:, None] if value.ndim == 1 else value


def pid_loop(x0, oracle, steps, k_p, k_i, k_d, beta_f):
    """PID (Recht 2018; An et al. 2018): e_t = -g_t, w_t = w_{t-1} + e_t,
    v_t = beta_f v_{t-1} + (1 - beta_f)(e_t - e_{t-1}), x_{t+1} = x_0 + k_p e_t + k_i w_t + k_d v_t,
    e_{-1} = w_{-1} = v_{-1} = 0. Returns x_t."""
    k_p, k_i, k_d, beta_f = (_col(v) for v in (k_p, k_i, k_d, beta_f))
    x, e_prev, w, v, out = x0, np.zeros_like(x0), np.zeros_like(x0), np.zeros_like(x0), [x0]
    for t in range(steps):
        e = -oracle(x, t)
        w = w + e
        v = beta_f * v + (1 - beta_f) * (e - e_prev)
        x, e_prev = x0 + k_p * e + k_i * w + k_d * v, e
        out.append(x)
    return np.stack(out)


def snv_loop(x0, oracle, steps, alpha, beta1, beta2, xi_prev=None):
    """Synthesized Nesterov (Lessard, Recht & Packard 2016, Sec. 6):
    xi_{t+1} = xi_t + beta1 (xi_t - xi_{t-1}) - alpha grad(y_t), y_t = xi_t + beta2 (xi_t - xi_{t-1}),
    xi_0 = x_0 and xi_{-1} = x_0 unless ``xi_prev`` is given. Returns the gradient points y_t."""
    alpha, beta1, beta2 = (_col(v) for v in (alpha, beta1, beta2))
    xi, prev = x0, (x0 if xi_prev is None else xi_prev)
    out = []
    for t in range(steps + 1):
        y = xi + beta2 * (xi - prev)
        out.append(y)
        if t < steps:
            xi, prev = xi + beta1 * (xi - prev) - alpha * oracle(y, t), xi
    return np.stack(out)


def rm_coefficients(L, kappa, rho):
    """Robust Momentum's stepsizes (Cyrus, Hu, Van Scoy & Lessard, ACC 2018, eq. for alpha, beta, gamma)."""
    L, kappa, rho = (np.asarray(v, dtype=float) for v in (L, kappa, rho))
    alpha = kappa * (1 - rho) ** 2 * (1 + rho) / L
    beta = kappa * rho ** 3 / (kappa - 1)
    gamma = rho ** 3 / ((kappa - 1) * (1 - rho) ** 2 * (1 + rho))
    return alpha, beta, gamma


def rm_loop(x0, oracle, steps, L, kappa, rho, x_prev=None):
    """Robust Momentum: x_{k+1} = x_k + beta (x_k - x_{k-1}) - alpha grad(y_k), y_k = x_k + gamma (x_k - x_{k-1}),
    x_{-1} = x_0 unless ``x_prev`` is given. Returns y_k."""
    alpha, beta, gamma = rm_coefficients(L, kappa, rho)
    return snv_loop(x0, oracle, steps, alpha, beta, gamma, x_prev)


def tm_loop(x0, oracle, steps, L, kappa, xi_prev=None, output=False):
    """Triple Momentum (Van Scoy, Freeman & Lynch 2018), in its own parametrization:
    rho = 1 - 1/sqrt(kappa), alpha = (1 + rho)/L, beta = rho^2/(2 - rho), gamma = rho^2/((1 + rho)(2 - rho)),
    delta = rho^2/(1 - rho^2); xi_{k+1} = (1 + beta) xi_k - beta xi_{k-1} - alpha grad(y_k),
    y_k = (1 + gamma) xi_k - gamma xi_{k-1}, output x_k = (1 + delta) xi_k - delta xi_{k-1}.
    Returns y_k (``output=True``: x_k)."""
    rho = 1 - 1 / np.sqrt(_col(kappa))
    L = _col(L)
    alpha, beta = (1 + rho) / L, rho ** 2 / (2 - rho)
    gamma, delta = rho ** 2 / ((1 + rho) * (2 - rho)), rho ** 2 / (1 - rho ** 2)
    xi, prev = x0, (x0 if xi_prev is None else xi_prev)
    ys, outs = [], []
    for t in range(steps + 1):
        y = (1 + gamma) * xi - gamma * prev
        ys.append(y)
        outs.append((1 + delta) * xi - delta * prev)
        if t < steps:
            xi, prev = (1 + beta) * xi - beta * prev - alpha * oracle(y, t), xi
    return np.stack(outs if output else ys)


def accsgd_loop(x0, oracle, steps, delta, kappa, xi, eps, wbar0=None):
    """AccSGD (Kidambi, Netrapalli, Jain & Kakade 2018): A = 1 - eps^2 xi / kappa, zeta = eps/(eps + 1 - A),
    wbar_{t+1} = A wbar_t + (1 - A)(w_t - (kappa delta/eps) g_t), w_{t+1} = zeta (w_t - delta g_t) + (1 - zeta) wbar_{t+1},
    wbar_0 = w_0 = x_0 unless ``wbar0`` is given. Returns w_t."""
    delta, kappa, xi, eps = (_col(v) for v in (delta, kappa, xi, eps))
    A = 1 - eps * eps * xi / kappa
    zeta = eps / (eps + 1 - A)
    w, wbar, out = x0, (x0 if wbar0 is None else wbar0), [x0]
    for t in range(steps):
        g = oracle(w, t)
        wbar = A * wbar + (1 - A) * (w - (kappa * delta / eps) * g)
        w = zeta * (w - delta * g) + (1 - zeta) * wbar
        out.append(w)
    return np.stack(out)


def tso_loop(x0, oracle, steps, h, k, l, m, q, z, a0=None):
    """Two-state optimizer (Ma & Yarats, App.): a_{t+1} = h a_t + k x_t + l g_t, x_{t+1} = m a_t + q x_t + z g_t,
    a_0 = k x_0 / (1 - h) (its invariant line) unless ``a0`` is given. Returns x_t."""
    h, k, l, m, q, z = (_col(v) for v in (h, k, l, m, q, z))
    x, a, out = x0, (k * x0 / (1 - h) if a0 is None else a0), [x0]
    for t in range(steps):
        g = oracle(x, t)
        a, x = h * a + k * x + l * g, m * a + q * x + z * g
        out.append(x)
    return np.stack(out)


def gd_loop(x0, oracle, steps, lr):
    """Gradient descent x_{t+1} = x_t - lr g_t."""
    lr = _col(lr)
    x, out = x0, [x0]
    for t in range(steps):
        x = x - lr * oracle(x, t)
        out.append(x)
    return np.stack(out)


def tm_coefficients(L, kappa):
    """Van Scoy et al.'s (alpha, beta, gamma, delta) of Triple Momentum, rho = 1 - 1/sqrt(kappa)."""
    rho = 1 - 1 / np.sqrt(np.asarray(kappa, dtype=float))
    return (1 + rho) / np.asarray(L, dtype=float), rho ** 2 / (2 - rho), rho ** 2 / ((1 + rho) * (2 - rho)), \
        rho ** 2 / (1 - rho ** 2)


def tso_of_qhm(lr, momentum, nu, scale, shift):
    """A two-state optimizer with the x sequence of QHM(lr, momentum, nu): its first state is
    a = scale b + shift x (b QHM's buffer), which gives, by substitution into QHM's two lines,
    h = beta (1 - shift lr nu / scale), k = shift (1 - h), l = scale (1 - beta) - shift lr (1 - nu beta),
    m = -lr nu beta / scale, q = 1 + lr nu beta shift / scale, z = -lr (1 - nu beta)."""
    lr, beta, nu, s, r = (np.asarray(v, dtype=float) for v in (lr, momentum, nu, scale, shift))
    h = beta * (1 - r * lr * nu / s)
    return {"h": h, "k": r * (1 - h), "l": s * (1 - beta) - r * lr * (1 - nu * beta), "m": -lr * nu * beta / s,
            "q": 1 + lr * nu * beta * r / s, "z": -lr * (1 - nu * beta)}


def qhm_loop(x0, oracle, steps, lr, momentum, nu):
    """QHM as a bare loop accepting any (lr, momentum, nu) (for formulas whose outputs QHM's factory
    would reject): b <- beta b + (1 - beta) g, x <- x - lr ((1 - nu) g + nu b)."""
    lr, beta, nu = (_col(v) for v in (lr, momentum, nu))
    x, b, out = x0, np.zeros_like(x0), [x0]
    for t in range(steps):
        g = oracle(x, t)
        b = beta * b + (1 - beta) * g
        x = x - lr * ((1 - nu) * g + nu * b)
        out.append(x)
    return np.stack(out)


def qhoptim_two_state(h, k, l, m, q, z):
    """qhoptim 1.1.0's TSO formula (transcribed from its documented algebra):
    phi = sqrt((h - q)^2 + 4 k m), psi = k m - h q, xi = (h - q - phi)(l m - h z) + 2 m (l q - k z);
    lr = xi / (2 phi psi), nu = 2 m (l q - k z) / xi, momentum = (h + q - phi) / 2.

    >>> {k: float(v) for k, v in qhoptim_two_state(h=0, k=1, l=-0.5, m=-0.5, q=1.5, z=-0.75).items()}
    {'lr': 1.0, 'momentum': 0.5, 'nu': 0.0}
    """
    h, k, l, m, q, z = (np.asarray(v, dtype=float) for v in (h, k, l, m, q, z))
    with np.errstate(all="ignore"):
        phi = np.sqrt((h - q) ** 2 + 4 * k * m)
        psi = k * m - h * q
        xi = (h - q - phi) * (l * m - h * z) + 2 * m * (l * q - k * z)
        return {"lr": xi / (2 * phi * psi), "momentum": (h + q - phi) / 2, "nu": 2 * m * (l * q - k * z) / xi}
