"""Plain loops and inputs for the Adan (and AdamSSM) claims, sharing nothing with stochopt's rules.

``nesterov`` and ``nme`` are the two sides of the Nesterov momentum estimation (NME) identity of
Xie et al. (arXiv 2208.06677); each runs all replicas as one array (hyperparameters broadcast
against x) and takes the gradient as an oracle ``grad(x, k)``. Adan's own plain loop (Algorithm 1,
every convention) is the method's ground truth, ``stochopt.ground_truth.adan``.
"""
from __future__ import annotations

import numpy as np


def nesterov(x0, grad, steps, lr, momentum):
    """Nesterov's method, gradient at the extrapolated point: m_k = mu m_{k-1} + grad(x_k - lr mu m_{k-1}),
    x_{k+1} = x_k - lr m_k (mu = 1 - b). Returns the look-ahead points x_k - lr mu m_{k-1}, (steps + 1, R, d)."""
    x, m = np.array(x0, dtype=float), np.zeros_like(np.asarray(x0, float))
    points = [x.copy()]
    for k in range(steps):
        m = momentum * m + grad(x - lr * momentum * m, k)
        x = x - lr * m
        points.append(x - lr * momentum * m)
    return np.stack(points)


def nme(x0, grad, steps, lr, momentum, first_grad=False):
    """The NME reformulation at the look-ahead point xbar: mbar_k = mu mbar_{k-1} + g_k + mu (g_k - g_{k-1}),
    g_k = grad(xbar_k), xbar_{k+1} = xbar_k - lr mbar_k; g_{-1} = 0 (or g_0 with ``first_grad``).
    Returns (xbar (steps + 1, R, d), mbar (steps, R, d))."""
    x, mbar = np.array(x0, dtype=float), np.zeros_like(np.asarray(x0, float))
    xs, ms, g_prev = [x.copy()], [], None
    for k in range(steps):
        g = grad(x, k)
        if g_prev is None:
            g_prev = g if first_grad else np.zeros_like(g)
        mbar = momentum * mbar + g + momentum * (g - g_prev)
        x = x - lr * mbar
        g_prev = g
        xs.append(x.copy())
        ms.append(mbar.copy())
    return np.stack(xs), np.stack(ms)


def relative_gap(a, b):
    """max over steps and replicas of ||a - b||_inf / max(||b||_inf, 1): the rounding-level yardstick."""
    a, b = np.asarray(a), np.asarray(b)
    scale = np.maximum(np.abs(b).max(axis=-1), 1.0)
    return float(np.max(np.abs(a - b).max(axis=-1) / scale))


def smooth_oracle(seed, shape, noise=0.5):
    """grad(x, k) of f(x) = sum log cosh(x - c) + 0.1 |x|^2 + 0.1 sum cos(3 x), plus noise drawn per step:
    smooth, nonconvex, with gradients that change from step to step (the difference terms matter)."""
    rng = np.random.default_rng([seed, 31])
    shift = rng.standard_normal(shape)
    draws = {}

    def grad(x, k):
        if k not in draws:
            draws[k] = noise * rng.standard_normal(shape)
        return np.tanh(x - shift) + 0.2 * x - 0.3 * np.sin(3 * x) + draws[k]

    return grad


def gradient_sequence(seed, steps, shape):
    """Stochastic gradients (steps, R, d) that drift like a field along a trajectory plus noise, so that
    consecutive differences g_k - g_(k-1) are of every size (the terms Adan adds)."""
    rng = np.random.default_rng([seed, 32])
    walk = np.cumsum(0.1 * rng.standard_normal((steps,) + shape), axis=0)
    return np.tanh(walk) + 0.5 * rng.standard_normal((steps,) + shape) * 10.0 ** rng.uniform(-2, 0, (steps, 1, 1))
