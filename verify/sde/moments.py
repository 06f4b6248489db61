"""Exact first and second moments of the RMSprop, Adam and SGD SDEs on a separable quadratic.

On L = sum_i a_i x_i^2 / 2 with constant diagonal Sigma, u is deterministic, the RMSprop SDE is a
(time-inhomogeneous) Ornstein-Uhlenbeck process and the Adam SDE is linear in (X, m): their
first two moments solve linear ODEs, in closed form when u starts at Sigma. ``quadratic_loss``
turns moments into E L.

>>> import numpy as np
>>> mean, var = rmsprop_sde_moments([0.0, 1.0], x0=[1.0], curvature=[1.0], noise_var=[1.0],
...                                 sigma0=1.0, eps0=0.0, c2=1.0)
>>> np.round(mean[:, 0], 6), np.round(var[:, 0], 6)       # OU: e^{-t}, (1 - e^{-2t})/2
(array([1.      , 0.367879]), array([0.      , 0.432332]))
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["rmsprop_sde_moments", "adam_sde_moments", "sgd_sde_moments", "quadratic_loss"]


def quadratic_loss(curvature, mean, var, offset=0.0):
    """E L(X) for L = sum_i a_i (x_i - c_i)^2 / 2 + offset, from the mean (of x - c) and variance per coordinate.

    ``mean`` and ``var`` have shape (..., d); returns shape (...).

    >>> quadratic_loss([1.0, 2.0], [[1.0, 0.0]], [[0.5, 0.25]])
    array([1.])
    """
    a = np.asarray(curvature, float)
    return 0.5 * np.sum(a * (np.asarray(mean) ** 2 + np.asarray(var)), axis=-1) + offset


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
