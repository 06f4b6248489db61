"""Smooth problems for the Lion theory: a separable quadratic with a box and a noisy oracle, and a
smooth nonconvex quadratic-plus-sines.

``separable-quadratic``: f(x) = sum_i a_i (x_i - b_i)^2 / 2 with curvatures a_i evenly spaced in
``curvature`` and centres b_i drawn uniformly in ``center`` (or given). Its minimiser over the box
||x||_inf <= 1/lambda is the clipped point clip(b, -1/lambda, 1/lambda) (the problem is separable),
which is the KKT point Lion with decoupled weight decay lambda solves for (``box_solution``).
With ``noise = sigma > 0`` the oracle adds Gaussian noise with E||xi||^2 = sigma^2 (sigma/sqrt(d) per
coordinate), a counter-based hash of (seed, sample index) as in ``noisy-quadratic``; ``noise_std``
says the per-coordinate standard deviation for code that draws the same noise from its own
generator. ``normalized=True`` divides the centres and the start by sqrt(d), so that f(x0) - f*,
the curvatures and sigma do not grow with d (the setting of a dimension sweep at fixed constants).

``smooth-nonconvex``: f(x) = (x - b)^T A (x - b)/2 + sum_i sin(3 x_i)/6, A = Q Q^T/d + 0.3 I with Q
standard normal and b uniform in [-b_range, b_range]^d: smooth and nonconvex (the sines' curvature
reaches -1.5, below -0.3 >= -(A's smallest eigenvalue)), with part of its minimisers outside the box
||x||_inf <= 1 for the default b_range = 3.

>>> import numpy as np, problems
>>> p = problems.get("separable-quadratic", d=3, curvature=(1.0, 2.0), centers=[2.0, 0.5, -3.0])
>>> p.grad(np.zeros(3)).tolist(), p.f_star
([-2.0, -0.75, 6.0], 0.0)
>>> x_box, f_box = p.box_solution(lam=1.0)
>>> x_box.tolist(), round(f_box, 6)
([1.0, 0.5, -1.0], 4.5)
>>> q = problems.get("smooth-nonconvex", d=4, seed=1)
>>> q.value(np.zeros((2, 4))).shape, q.x_star is None
((2,), True)
"""
from __future__ import annotations

import math

import numpy as np

from ._base import FiniteSum, Problem, batch_mean, bdot, check_int, check_real, readonly, rowsum
from .noisy import hash_normal

__all__ = ["SeparableQuadratic", "SmoothNonconvex"]

CHEN_LYAP = ("Chen, Liu, Liang, Liu (2023), Lion secretly solves constrained optimization, as Lyapunov "
             "predicts, arXiv 2310.05898")


def _pair(name, value):
    if np.ndim(value) != 1 or len(value) != 2:
        raise ValueError(f"{name} must be a (low, high) pair of reals; got {value!r}")
    low, high = (check_real(f"{name}[{i}]", v) for i, v in enumerate(value))
    if low > high:
        raise ValueError(f"{name} must be (low, high) with low <= high; got {value!r}")
    return low, high


def _vector(name, value, d):
    arr = np.asarray(value, dtype=float)
    if arr.shape != (d,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite array of shape ({d},); got shape {arr.shape}")
    return arr


class SeparableQuadratic(FiniteSum):
    """sum_i a_i (x_i - b_i)^2 / 2, optionally with Gaussian gradient noise (see the module).

    Parameters: ``d``; ``curvature`` (low, high) with 0 < low (a_i evenly spaced); ``center``
    (low, high) (b_i uniform, from ``seed``) or ``centers`` (the d values); ``noise`` sigma >= 0
    (total standard deviation of the oracle's noise); ``normalized`` (divide drawn centres and the
    drawn start by sqrt(d)); ``x0`` (default uniform in the ``center`` range, from ``seed``); ``seed``.

    Constants: ``smoothness_L`` = max a_i (l2), ``smoothness_L1`` = sum a_i (the l_inf -> l1
    smoothness: ||grad f(x) - grad f(y)||_1 <= L1 ||x - y||_inf), ``noise_sigma``.

    >>> import numpy as np, problems
    >>> p = problems.get("separable-quadratic", d=4, noise=2.0, seed=3)
    >>> p.noise_std, p.n_samples == 2**62, p.constants["smoothness_L1"]
    (1.0, True, 5.0)
    """

    name, convex, has_clarke = "separable-quadratic", True, True
    reference = (CHEN_LYAP + "; Dong, Li, Lin (2024), Convergence rate analysis of LION, arXiv 2411.07724 "
                 "(the box-constrained quadratic and the noisy setting of their KKT rate)")
    formula = "sum_i a_i (x_i - b_i)^2 / 2 (+ Gaussian oracle noise, E||xi||^2 = sigma^2)"

    def __init__(self, d=8, curvature=(0.5, 2.0), center=(-3.0, 3.0), centers=None, noise=0.0, normalized=False,
                 x0=None, seed=0):
        d = check_int("d", d, low=1)
        seed = check_int("seed", seed, low=0)
        noise = check_real("noise", noise, low=0.0)
        if not isinstance(normalized, (bool, np.bool_)):
            raise TypeError(f"normalized must be True or False; got {normalized!r}")
        low_a, high_a = _pair("curvature", curvature)
        if low_a <= 0:
            raise ValueError(f"curvature must be a (low, high) pair with 0 < low <= high; got {curvature!r}")
        low_b, high_b = _pair("center", center)
        rng = np.random.default_rng(seed)
        scale = 1.0 / math.sqrt(d) if normalized else 1.0
        a = np.linspace(low_a, high_a, d)
        b = rng.uniform(low_b, high_b, d) * scale if centers is None else _vector("centers", centers, d)
        start = rng.uniform(low_b, high_b, d) * scale if x0 is None else _vector("x0", x0, d)
        self.a, self.b = readonly(a), readonly(b)
        self.seed, self.noise = seed, noise
        self.noise_std = noise / math.sqrt(d)
        self.n_samples = 2**62 if noise > 0 else 1
        params = {"d": d, "curvature": [low_a, high_a], "center": [low_b, high_b],
                  "centers": None if centers is None else b.tolist(), "noise": noise, "normalized": bool(normalized),
                  "x0": None if x0 is None else start.tolist(), "seed": seed}
        super().__init__(d, start, params, x_star=b, f_star=0.0,
                         constants={"smoothness_L": float(a.max()), "smoothness_L1": float(a.sum()),
                                    "strong_convexity_mu": float(a.min()), "noise_sigma": noise})

    def _value(self, x):
        r = x - self.b
        return 0.5 * rowsum(self.a * r * r)

    def _grad(self, x):
        return self.a * (x - self.b)

    def _oracle(self, x, idx):
        g = self._grad(x)
        if self.noise == 0.0:
            return g
        return g + self.noise_std * batch_mean(hash_normal(self.seed, idx[..., None], np.arange(self.dim)))

    def _clarke(self, x, tol):
        return self._grad(x)[None, :]

    def box_solution(self, lam):
        """(x, f(x)) of min f over ||x||_inf <= 1/lam: the clipped point, its KKT point.

        >>> import problems
        >>> problems.get("separable-quadratic", d=2, curvature=(1.0, 1.0), centers=[3.0, 0.0]).box_solution(0.5)
        (array([2., 0.]), 0.5)
        """
        lam = check_real("lam", lam, low=0.0, low_open=True)
        x = np.clip(np.asarray(self.b), -1.0 / lam, 1.0 / lam)
        return x, float(self.value(x))


class SmoothNonconvex(Problem):
    """(x - b)^T A (x - b)/2 + sum_i sin(3 x_i)/6 (see the module); minimisers unknown.

    Constants: ``smoothness_L`` = ||A||_2 + 1.5 (the sines' curvature is at most 1.5).

    >>> import numpy as np, problems
    >>> p = problems.get("smooth-nonconvex", d=3, seed=0)
    >>> bool(np.allclose(p.grad(p.b), 0.5 * np.cos(3 * p.b)))
    True
    """

    name, convex, has_clarke = "smooth-nonconvex", False, True
    reference = CHEN_LYAP + " (a smooth nonconvex f for the Lion-K Lyapunov function)"
    formula = "(x - b)^T A (x - b)/2 + sum_i sin(3 x_i)/6, A = Q Q^T/d + 0.3 I"

    def __init__(self, d=5, b_range=3.0, seed=0):
        d = check_int("d", d, low=1)
        b_range = check_real("b_range", b_range, low=0.0)
        seed = check_int("seed", seed, low=0)
        rng = np.random.default_rng(seed)
        q = rng.standard_normal((d, d))
        A = q @ q.T / d + 0.3 * np.eye(d)
        self.A = readonly(0.5 * (A + A.T))
        self.b = readonly(rng.uniform(-b_range, b_range, d))
        super().__init__(d, np.zeros(d), {"d": d, "b_range": b_range, "seed": seed},
                         constants={"smoothness_L": float(np.linalg.eigvalsh(self.A).max()) + 1.5})

    def _value(self, x):
        r = x - self.b
        return 0.5 * rowsum(bdot(r, self.A) * r) + rowsum(np.sin(3.0 * x)) / 6.0

    def _grad(self, x):
        return bdot(x - self.b, self.A) + 0.5 * np.cos(3.0 * x)

    def _clarke(self, x, tol):
        return self._grad(x)[None, :]
