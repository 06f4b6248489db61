"""A smooth non-quadratic loss with the noisy quadratic's gradient noise (the SDE claims' second case).

f(x) = sum_i w_i log cosh(x_i - c_i) + f*: convex, smooth (Hessian diag(w_i / cosh^2) <= max w),
quadratic near its minimiser c and linear far from it, so its gradient w tanh(x - c) saturates: the
drift of an SDE on it is genuinely nonlinear. The single-sample oracle adds the same noise as
``noisy-quadratic`` (xi_i = L z_i with L L^T = Sigma, z_i a pure function of (seed, i)), so a
minibatch of b indices has noise covariance Sigma / b.

>>> import numpy as np, problems
>>> p = problems.get("noisy-logcosh", weights=[1.0, 2.0], noise_cov=[0.5, 0.1])
>>> float(p.value(p.x_star)), p.grad(np.array([0.0, 0.0])).tolist()
(0.0, [0.0, 0.0])
>>> np.round(p.grad(np.array([1.0, -1.0])), 6).tolist()          # w tanh(x)
[0.761594, -1.523188]
"""
from __future__ import annotations

import numpy as np

from ._base import readonly, rowsum
from .noisy import NoisyQuadratic

__all__ = ["NoisyLogCosh"]


class NoisyLogCosh(NoisyQuadratic):
    """sum_i w_i log cosh(x_i - c_i) + f* with additive Gaussian gradient noise of covariance Sigma.

    Parameters: ``weights`` w (a list of positive numbers: one per coordinate), ``noise_cov``
    Sigma (a scalar s for s I, a diagonal, or a PSD matrix), ``center`` c (default 0),
    ``offset`` f*, ``x0`` (default 2 in every coordinate: on the saturating part of tanh),
    ``seed``. The noise model and its methods (``noise``, ``noise_covariance``,
    ``batch_noise_covariance``) are the noisy quadratic's; only the loss differs.

    >>> import numpy as np, problems
    >>> p = problems.get("noisy-logcosh", weights=[1.0], noise_cov=0.0)
    >>> p.oracle(np.array([[0.5]]), np.array([[3, 4]])).tolist() == [[float(np.tanh(0.5))]]
    True
    """

    name = "noisy-logcosh"
    reference = ("log-cosh loss (smooth Huber); noise model of Mandt, Hoffman & Blei (2017); used for the SDE "
                 "weak-error claims of Malladi, Lyu, Panigrahi & Arora (NeurIPS 2022) beyond quadratics")
    formula = "sum_i w_i log cosh(x_i - c_i) + f*, oracle w tanh(x - c) + mean_i xi_i, xi_i ~ N(0, Sigma)"

    def __init__(self, weights=(1.0, 0.5), noise_cov=1.0, center=None, offset=0.0, x0=None, seed=0):
        w = np.asarray(weights, dtype=float)
        if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ValueError(f"weights must be a non-empty list of finite positive numbers; got {weights!r}")
        start = np.full(w.size, 2.0) if x0 is None else x0
        super().__init__(hessian=w, noise_cov=noise_cov, center=center, offset=offset, x0=start, seed=seed)
        self.weights = readonly(w)
        self.params = {"weights": w.tolist(), **{k: v for k, v in self.params.items() if k != "hessian"}}
        # A is diag(w): the Hessian at the minimiser; far from it the curvature vanishes.
        self.constants = {"smoothness_L": float(w.max()), "curvature_at_minimiser": w.tolist(),
                          "noise_trace": float(np.trace(self.Sigma))}

    def _value(self, x):
        r = np.abs(x - self._center)
        # log cosh r = r + log1p(exp(-2 r)) - log 2: no overflow for large |r|
        return rowsum(self.weights * (r + np.log1p(np.exp(-2.0 * r)) - np.log(2.0))) + self.params["offset"]

    def _grad(self, x):
        return self.weights * np.tanh(x - self._center)
