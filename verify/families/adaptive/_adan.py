"""Plain loops for the Adan claims, written from the equations and sharing nothing with stochopt's rule.

``algorithm1`` is Adan's Algorithm 1 (Xie et al., arXiv 2208.06677) in the paper's convention
(betas weight the new term), with the official code's differences as named options:

    m_k = (1 - b1) m_{k-1} + b1 g_k
    v_k = (1 - b2) v_{k-1} + b2 (g_k - g_{k-1})
    n_k = (1 - b3) n_{k-1} + b3 [g_k + (1 - b2)(g_k - g_{k-1})]^2
    x_{k+1} = (1 + lr lambda)^{-1} [x_k - lr (m_k + (1 - b2) v_k) / (sqrt(n_k) + eps)]

``nesterov`` and ``nme`` are the two sides of the Nesterov momentum estimation (NME) identity.
Every loop runs all replicas as one array (hyperparameters broadcast against x) and takes the
gradient as an oracle ``grad(x, k)``.
"""
from __future__ import annotations

import numpy as np


def algorithm1(x0, grad, steps, lr, betas, eps, weight_decay=0.0, bias_correction=False, first_grad=False,
               decoupled=False, restart_every=None):
    """Iterates x_0..x_steps (steps + 1, R, d) of Adan with the paper's betas ``betas``.

    ``bias_correction``: divide m, v, n by 1 - (1 - b_i)^t (official code); ``first_grad``: g_{-1} = g_0
    (official code) instead of 0 (paper); ``decoupled``: x <- (1 - lr lambda) x - lr (...) (official
    no_prox) instead of the proximal division; ``restart_every``: zero the moments, the step count
    and g_{-1} every N steps (official restart_opt).
    """
    b1, b2, b3 = betas
    x = np.array(x0, dtype=float)
    xs = [x.copy()]
    for k in range(steps):
        j = k if restart_every is None else k % restart_every          # steps since the last (re)start
        g = grad(x, k)
        if j == 0:
            m, v, n = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
            g_prev = g if first_grad else np.zeros_like(x)
        m = (1 - b1) * m + b1 * g
        v = (1 - b2) * v + b2 * (g - g_prev)
        n = (1 - b3) * n + b3 * (g + (1 - b2) * (g - g_prev)) ** 2
        if bias_correction:
            t = j + 1
            m_hat, v_hat, n_hat = m / (1 - (1 - b1) ** t), v / (1 - (1 - b2) ** t), n / (1 - (1 - b3) ** t)
        else:
            m_hat, v_hat, n_hat = m, v, n
        step = lr * (m_hat + (1 - b2) * v_hat) / (np.sqrt(n_hat) + eps)
        if decoupled:
            x = (1 - lr * weight_decay) * x - step
        else:
            x = (x - step) / (1 + lr * weight_decay)
        g_prev = g
        xs.append(x.copy())
    return np.stack(xs)


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


def run_method(method, x0, grad, steps):
    """A stochopt method's iterates (steps + 1, R, d), its buffers after each step {name: (steps, R, d)} and the
    gradients it was given (steps, R, d)."""
    state = method.init(np.array(x0, dtype=float))
    xs, buffers, grads = [state.x.copy()], {}, []
    for k in range(steps):
        grads.append(grad(state.x, k))
        state = method.step(state, grads[-1])
        xs.append(state.x.copy())
        for name, value in state.buffers.items():
            buffers.setdefault(name, []).append(np.array(value, copy=True))
    return np.stack(xs), {name: np.stack(v) for name, v in buffers.items()}, np.stack(grads)
