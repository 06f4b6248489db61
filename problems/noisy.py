"""The noisy quadratic (Ornstein-Uhlenbeck) problem with exact gradient-noise moments.

f(x) = 0.5 (x - x*)^T A (x - x*) + f*, and the single-sample oracle is A (x - x*) + xi_i with
xi_i = L z_i, L L^T = Sigma and z_i standard normal. z_i is a pure function of (seed, i): a
counter-based hash (SplitMix64 finaliser chained over the counters, Box-Muller for normals),
so sample i always carries the same noise, and with n_samples = 2^62 every drawn index is in
effect a fresh draw. A minibatch of b indices has noise covariance Sigma / b.

>>> import numpy as np, problems
>>> p = problems.get("noisy-quadratic", hessian=[1.0, 0.1], noise_cov=[0.5, 0.2])
>>> p.noise_covariance(p.x0).tolist(), p.batch_noise_covariance(4).tolist()
([[0.5, 0.0], [0.0, 0.2]], [[0.125, 0.0], [0.0, 0.05]])
>>> float(p.value(p.x_star)), p.grad(p.x_star).tolist()
(0.0, [0.0, 0.0])
"""
from __future__ import annotations

import numpy as np

from ._base import FiniteSum, batch_mean, check_int, check_real, readonly, rowsum

__all__ = ["NoisyQuadratic", "hash_normal"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)


def _finalise(z):
    z = (z ^ (z >> np.uint64(30))) * _C1
    z = (z ^ (z >> np.uint64(27))) * _C2
    return z ^ (z >> np.uint64(31))


def _hash(seed, *counters):
    with np.errstate(over="ignore"):
        h = _finalise(np.uint64(seed) * _GOLDEN + np.uint64(0x6E6F697379))  # salt: "noisy"
        for c in counters:
            h = _finalise(h + (np.asarray(c).astype(np.uint64) + np.uint64(1)) * _GOLDEN)
    return h


def _unit(h):
    """Uniform numbers in (0, 1) from the top 53 bits."""
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def hash_normal(seed: int, *counters) -> np.ndarray:
    """Standard normals that are a pure function of (seed, counters); counters broadcast.

    >>> a = hash_normal(0, np.arange(3)); b = hash_normal(0, np.arange(3))
    >>> bool(np.array_equal(a, b)), a.shape
    (True, (3,))
    """
    h = _hash(seed, *counters)
    with np.errstate(over="ignore"):
        u1 = _unit(_finalise(h ^ np.uint64(0x5555555555555555)))
        u2 = _unit(_finalise(h ^ np.uint64(0xAAAAAAAAAAAAAAAA)))
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def _matrix(name, value, d, allow_scalar):
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0 and allow_scalar and d is not None:
        arr = np.full(d, float(arr))
    if arr.ndim == 1:
        if d is not None and arr.shape != (d,):
            raise ValueError(f"{name} as a diagonal must have length {d}; got shape {arr.shape}")
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"{name} must have finite, nonnegative diagonal entries; got {arr.tolist()}")
        return np.diag(arr), True
    if arr.ndim == 2 and arr.shape[0] == arr.shape[1] and (d is None or arr.shape[0] == d):
        if not np.all(np.isfinite(arr)) or not np.allclose(arr, arr.T, rtol=0, atol=1e-12 * max(1.0, np.abs(arr).max())):
            raise ValueError(f"{name} must be a finite symmetric matrix")
        if np.linalg.eigvalsh(arr).min() < -1e-12 * max(1.0, np.abs(arr).max()):
            raise ValueError(f"{name} must be positive semidefinite")
        return 0.5 * (arr + arr.T), False
    expect = f"({d},) or ({d}, {d})" if d is not None else "(d,) or (d, d)"
    raise ValueError(f"{name} must be {'a scalar, ' if allow_scalar else ''}a diagonal of shape {expect} or a "
                     f"matrix; got shape {arr.shape}")


class NoisyQuadratic(FiniteSum):
    """Quadratic with additive Gaussian gradient noise of chosen covariance (OU / SDE problem).

    Parameters: ``hessian`` A (diagonal as a list, or a PSD matrix), ``noise_cov`` Sigma (a
    scalar s for s I, a diagonal, or a PSD matrix), ``center`` x* (default 0), ``offset`` f*,
    ``x0`` (default ones), ``seed``. Attributes ``A``, ``Sigma``, ``x_star``.

    >>> import numpy as np, problems
    >>> p = problems.get("noisy-quadratic", hessian=[2.0], noise_cov=0.0)
    >>> p.oracle(np.array([[1.0]]), np.array([[5, 7]])).tolist()
    [[2.0]]
    """

    name, convex, has_clarke = "noisy-quadratic", True, True
    reference = "Mandt, Hoffman & Blei (2017), Stochastic gradient descent as approximate Bayesian inference, JMLR"
    formula = "0.5 (x - x*)^T A (x - x*) + f*, oracle A(x - x*) + mean_i xi_i, xi_i ~ N(0, Sigma)"
    n_samples = 2**62

    def __init__(self, hessian=(1.0, 0.1), noise_cov=1.0, center=None, offset=0.0, x0=None, seed=0):
        A, self._diag_A = _matrix("hessian", hessian, None, allow_scalar=False)
        d = A.shape[0]
        S, self._diag_S = _matrix("noise_cov", noise_cov, d, allow_scalar=True)
        seed = check_int("seed", seed, low=0)
        offset = check_real("offset", offset)
        xs = np.zeros(d) if center is None else np.asarray(center, dtype=float)
        if xs.shape != (d,) or not np.all(np.isfinite(xs)):
            raise ValueError(f"center must be a finite array of shape ({d},); got {np.shape(center)}")
        start = np.ones(d) if x0 is None else np.asarray(x0, dtype=float)
        if start.shape != (d,) or not np.all(np.isfinite(start)):
            raise ValueError(f"x0 must be a finite array of shape ({d},); got {np.shape(x0)}")
        self.A = readonly(A)
        self.Sigma = readonly(S)
        self.seed = seed
        self._center = xs
        # Sigma = L L^T via the eigendecomposition (works for singular PSD Sigma).
        w, V = np.linalg.eigh(S)
        self._L = np.sqrt(np.diag(S)) if self._diag_S else V * np.sqrt(np.clip(w, 0.0, None))
        eig = np.linalg.eigvalsh(A)
        params = {"hessian": np.asarray(hessian, float).tolist(), "noise_cov": np.asarray(noise_cov, float).tolist(),
                  "center": xs.tolist(), "offset": offset, "x0": start.tolist(), "seed": seed}
        super().__init__(d, start, params, x_star=xs, f_star=offset,
                         constants={"smoothness_L": float(eig.max()), "strong_convexity_mu": float(eig.min()),
                                    "noise_trace": float(np.trace(S))})

    def _value(self, x):
        r = x - self._center
        return 0.5 * rowsum(r * self._grad(x)) + self.params["offset"]

    def _grad(self, x):
        return rowsum(self.A * (x - self._center)[..., None, :])

    def noise(self, idx) -> np.ndarray:
        """The noise vectors xi_i for integer indices idx (...) -> (..., d).

        >>> import problems
        >>> problems.get("noisy-quadratic").noise([0, 1]).shape
        (2, 2)
        """
        idx = np.asarray(idx)
        z = hash_normal(self.seed, idx[..., None], np.arange(self.dim))
        if self._diag_S:
            return z * self._L
        return rowsum(self._L * z[..., None, :])

    def _oracle(self, x, idx):
        return self._grad(x) + batch_mean(self.noise(idx))

    def noise_covariance(self, x=None) -> np.ndarray:
        """Exact covariance (d, d) of a single-sample oracle at x (constant in x): Sigma.

        >>> import problems
        >>> problems.get("noisy-quadratic", hessian=[1.0], noise_cov=0.3).noise_covariance().tolist()
        [[0.3]]
        """
        return np.array(self.Sigma)

    def batch_noise_covariance(self, batch_size: int) -> np.ndarray:
        """Exact covariance of the oracle averaged over ``batch_size`` distinct indices: Sigma / b.

        >>> import problems
        >>> problems.get("noisy-quadratic", hessian=[1.0], noise_cov=0.3).batch_noise_covariance(3).tolist()
        [[0.09999999999999999]]
        """
        return np.array(self.Sigma) / check_int("batch_size", batch_size, low=1)

    def _clarke(self, x, tol):
        return self._grad(x)[None, :]
