"""The problem base class, input validation and small shared helpers.

A problem is an objective f on R^d with a subgradient oracle. Every method is batched over
leading replica axes: ``value`` maps (..., d) to (...), ``grad`` and ``oracle`` map to (..., d).
Batched results equal a per-replica loop bit for bit, because no BLAS product runs across the
replica axis (``np.einsum(..., optimize=False)`` and last-axis sums only).

>>> import numpy as np, problems
>>> p = problems.get("cb3")
>>> p.dim, p.n_samples, float(p.value(p.x0)), p.f_star
(2, 1, 20.0, 2.0)
>>> p.oracle(np.zeros((3, 2)), np.zeros((3, 1), dtype=int)).shape
(3, 2)
"""
from __future__ import annotations

import difflib
import itertools
import math

import numpy as np

__all__ = ["Problem", "FiniteSum", "check_int", "check_real", "check_choice", "bdot", "readonly",
           "not_representable"]

# Clarke generators are enumerated explicitly; beyond this many the set is refused, not truncated.
MAX_GENERATORS = 4096
# Largest number of samples sitting on a kink for which a finite sum enumerates its zonotope.
MAX_KINKS = 12


# ----------------------------------------------------------------------------- validation
def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int in [low, high], or raise an error naming ``name``.

    >>> check_int("n", 5, low=2)
    5
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}]; got {value}")
    return value


def check_real(name: str, value, low: float = -math.inf, high: float = math.inf, *, low_open: bool = False) -> float:
    """Return ``value`` as a finite float in [low, high] (or (low, high]), or raise naming ``name``.

    >>> check_real("lam", 0.5, low=0.0)
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    value = float(value)
    left = "(" if low_open or not math.isfinite(low) else "["
    right = "]" if math.isfinite(high) else ")"
    ok = math.isfinite(value) and (value > low if low_open else value >= low) and value <= high
    if not ok:
        raise ValueError(f"{name} must be a finite real in {left}{low:g}, {high:g}{right}; got {value!r}")
    return value


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise listing them.

    >>> check_choice("task", "regression", ["regression", "classification"])
    'regression'
    """
    choices = list(choices)
    if value in choices:
        return value
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValueError(f"unknown {name} {value!r}.{hint} Accepted: {', '.join(map(repr, choices))}")


def not_representable(name: str) -> ValueError:
    """The error for a Clarke set whose generators overflow float64 at the given point.

    >>> str(not_representable("cb2")).startswith("the Clarke subdifferential of 'cb2'")
    True
    """
    return ValueError(
        f"the Clarke subdifferential of {name!r} at this x is not representable in float64: a piece or its "
        "gradient overflows (|value| > 1.8e308). Use a point where f(x) is finite"
    )


def readonly(a) -> np.ndarray:
    """A float64 copy of ``a`` that cannot be written to (problem metadata is immutable).

    >>> readonly([1, 2]).flags.writeable
    False
    """
    out = np.array(a, dtype=np.float64)
    out.flags.writeable = False
    return out


def _einsum(subscripts: str, *operands) -> np.ndarray:
    return np.einsum(subscripts, *operands, optimize=False)


try:  # the C function np.einsum(..., optimize=False) calls, without its Python-level argument handling
    from numpy._core.multiarray import c_einsum as einsum
except ImportError:  # pragma: no cover - older NumPy
    einsum = _einsum
# ``einsum(subscripts, *operands)`` is ``np.einsum(subscripts, *operands, optimize=False)``: without
# optimisation einsum contracts each replica in the same order whatever the number of replicas
# (no BLAS across the replica axis), so batched results equal per-replica ones.


def bdot(x: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """Rows of ``mat`` (n, d) dotted with batched ``x`` (..., d) -> (..., n), replica-stable.

    >>> bdot(np.ones((2, 3)), np.eye(3)).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    return einsum("...j,nj->...n", x, mat)


def rowsum(a: np.ndarray) -> np.ndarray:
    """Sum over the last axis of a contiguous copy: the same rounding for every replica.

    >>> rowsum(np.ones((2, 4))).tolist()
    [4.0, 4.0]
    """
    return np.ascontiguousarray(a).sum(axis=-1)


def batch_mean(a: np.ndarray) -> np.ndarray:
    """Mean over the batch axis -2 of (..., b, d) -> (..., d), replica-stable.

    >>> batch_mean(np.arange(6.0).reshape(3, 2)).tolist()
    [2.0, 3.0]
    """
    # A reduction over axis -2 of a C-contiguous array adds whole rows in a fixed order per
    # replica, so it does not depend on how many replicas share the array (and needs no copy).
    return np.ascontiguousarray(a).sum(axis=-2) / a.shape[-2]


def unique_rows(g: np.ndarray) -> np.ndarray:
    """Distinct rows of ``g``, in first-seen order.

    >>> unique_rows(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    _, first = np.unique(g, axis=0, return_index=True)
    return g[np.sort(first)]


def zonotope(center: np.ndarray, low: np.ndarray, high: np.ndarray, what: str = "samples") -> np.ndarray:
    """Vertices-generating set of center + sum_k [low_k, high_k] (segments given by endpoints).

    ``low`` and ``high`` have shape (k, d); the 2^k sums of one endpoint per segment generate
    the zonotope as a convex hull. Refused (ValueError) when k > MAX_KINKS.

    >>> zonotope(np.zeros(1), np.array([[-1.0]]), np.array([[1.0]])).ravel().tolist()
    [-1.0, 1.0]
    """
    k = low.shape[0]
    if k > MAX_KINKS:
        raise ValueError(
            f"the Clarke subdifferential here is a zonotope with {k} segments ({k} {what} at a kink); "
            f"enumerating its 2^{k} generators is refused above {MAX_KINKS} segments. "
            "Use a point off the kinks, or a smaller problem"
        )
    if k == 0:
        return center[None, :].copy()
    choice = np.array(list(itertools.product((0, 1), repeat=k)), dtype=bool)  # (2^k, k)
    ends = np.where(choice[:, :, None], high[None], low[None])  # (2^k, k, d)
    return unique_rows(center[None, :] + ends.sum(axis=1))


# ----------------------------------------------------------------------------- base class
class Problem:
    """Base of every problem: metadata, input checks, and the batched public methods.

    Subclasses implement ``_value(x)`` and ``_grad(x)`` on float64 arrays of shape (..., d)
    (and ``_clarke(x, tol)`` on a single point when ``has_clarke``). Finite sums derive from
    :class:`FiniteSum` instead and implement ``_oracle(x, idx)``.

    >>> import numpy as np, problems
    >>> p = problems.get("dem")
    >>> p.value(np.array([[0.0, -3.0], [1.0, 1.0]])).tolist()
    [-3.0, 6.0]
    >>> p.clarke(p.x_star).shape
    (3, 2)
    """

    name = "problem"
    reference = ""
    formula = ""
    convex = False
    has_clarke = False
    clarke_note = "no exact Clarke subdifferential is implemented for this problem"
    n_samples = 1
    blocks = None

    def __init__(self, dim: int, x0, params: dict, x_star=None, f_star=None, constants: dict | None = None):
        self.dim = int(dim)
        self.x0 = readonly(x0)
        if self.x0.shape != (self.dim,):
            raise AssertionError(f"x0 of {self.name} has shape {self.x0.shape}, expected ({self.dim},)")
        self.params = dict(params)
        self.constants = dict(constants or {})
        self._solution = None if x_star is None and f_star is None else (x_star, f_star)

    # -- the known answer, possibly computed lazily (solvers run on first access, then cached)
    def _solve(self):
        """(x*, f*) when they are computed numerically; (None, None) when unknown."""
        return None, None

    def _answer(self):
        if self._solution is None:
            xs, fs = self._solve()
            self._solution = (xs, fs)
        return self._solution

    @property
    def x_star(self):
        """A minimiser (shape (d,)), or None when unknown.

        >>> import problems
        >>> problems.get("dem").x_star.tolist(), problems.get("artifact-relu-difference").x_star
        ([0.0, -3.0], None)
        """
        xs = self._answer()[0]
        return None if xs is None else readonly(xs)

    @property
    def f_star(self):
        """The optimal value, or None when unknown.

        >>> import problems
        >>> problems.get("crescent").f_star
        0.0
        """
        fs = self._answer()[1]
        return None if fs is None else float(fs)

    # -- input checks
    def _as_x(self, x, name: str = "x") -> np.ndarray:
        arr = np.asarray(x)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise TypeError(f"{name} must be a real array of shape (..., {self.dim}); got dtype {arr.dtype}")
        if arr.ndim == 0 or arr.shape[-1] != self.dim:
            raise ValueError(
                f"{name} must have shape (..., {self.dim}): its trailing axis is the dimension d = {self.dim} "
                f"of problem {self.name!r}; got shape {arr.shape}"
            )
        # C order always: einsum's rounding can depend on memory layout, not only on values.
        return np.ascontiguousarray(arr, dtype=np.float64)

    def _as_point(self, x, name: str = "x") -> np.ndarray:
        arr = self._as_x(x, name)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one point of shape ({self.dim},) here; got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
        return arr

    def _as_idx(self, idx, x: np.ndarray) -> np.ndarray:
        arr = np.asarray(idx)
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"idx (batch indices) must be an integer array; got dtype {arr.dtype}")
        if arr.ndim == 0 or arr.shape[-1] == 0:
            raise ValueError(f"idx (batch indices) must have shape (..., batch) with batch >= 1; got shape {arr.shape}")
        lead = x.shape[:-1]
        try:
            arr = np.broadcast_to(arr, lead + arr.shape[-1:])
        except ValueError:
            raise ValueError(
                f"idx (batch indices) must have shape {lead + ('batch',)} to match x of shape {x.shape}; "
                f"got shape {np.shape(idx)}"
            ) from None
        if arr.size and (arr.min() < 0 or arr.max() >= self.n_samples):
            raise ValueError(
                f"idx (batch indices) must be in [0, n_samples - 1] = [0, {self.n_samples - 1}]; "
                f"got values in [{arr.min()}, {arr.max()}]"
            )
        return arr.astype(np.int64, copy=False)

    # -- public, batched
    def value(self, x) -> np.ndarray:
        """f(x) for x of shape (..., d), returned with shape (...).

        >>> import problems
        >>> problems.get("dem").value([[0.0, -3.0], [1.0, 1.0]]).tolist()
        [-3.0, 6.0]
        """
        return self._value(self._as_x(x))

    def grad(self, x) -> np.ndarray:
        """The full-batch oracle at x (..., d): the gradient wherever f is differentiable.

        >>> import problems
        >>> problems.get("dem").grad([2.0, 0.0]).tolist()       # piece 5 x1 + x2 is active
        [5.0, 1.0]
        """
        return self._grad(self._as_x(x))

    def oracle(self, x, idx) -> np.ndarray:
        """Mean of the per-sample oracle over ``idx`` (..., batch) at x (..., d).

        Deterministic problems (n_samples = 1) check ``idx`` and return ``grad(x)``.

        >>> import numpy as np, problems
        >>> p = problems.get("artifact-sum-rule")                 # two samples
        >>> p.oracle(np.array([[0.0], [0.0]]), np.array([[0], [1]])).tolist()
        [[-1.0], [1.0]]
        """
        x = self._as_x(x)
        idx = self._as_idx(idx, x)
        return self._oracle(x, idx)

    def _oracle(self, x, idx):
        return self._grad(x)

    # -- unchecked paths: a caller that validated its inputs once (the engine does, at the start of
    # a run) calls these every step. Same results as the checked methods, bit for bit.
    def unchecked_value(self, x: np.ndarray) -> np.ndarray:
        """``value`` for a float64 array x (..., d), without input checks.

        >>> import numpy as np, problems
        >>> problems.get("dem").unchecked_value(np.array([[0.0, -3.0]])).tolist()
        [-3.0]
        """
        return self._value(np.ascontiguousarray(x))

    def unchecked_grad(self, x: np.ndarray) -> np.ndarray:
        """``grad`` for a float64 array x (..., d), without input checks.

        >>> import numpy as np, problems
        >>> problems.get("dem").unchecked_grad(np.array([2.0, 0.0])).tolist()
        [5.0, 1.0]
        """
        return self._grad(np.ascontiguousarray(x))

    def unchecked_oracle(self, x: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """``oracle`` for float64 x (..., d) and int64 idx (..., b) in [0, n_samples), without checks.

        >>> import numpy as np, problems
        >>> problems.get("artifact-sum-rule").unchecked_oracle(np.zeros((2, 1)), np.array([[0], [1]])).tolist()
        [[-1.0], [1.0]]
        """
        return self._oracle(np.ascontiguousarray(x), idx)

    def clarke(self, x, tol: float = 1e-9) -> np.ndarray:
        """Generators (m, d) whose convex hull is the Clarke subdifferential at one point x (d,).

        Pieces (or samples, or kinks) count as active when they are within ``tol`` (relative to
        max(1, |value|)) of the activity threshold.

        >>> import problems
        >>> problems.get("lq").clarke([0.0, 0.0]).tolist()          # one active piece: the gradient
        [[-1.0, -1.0]]
        """
        if not self.has_clarke:
            raise ValueError(f"problem {self.name!r} has no exact Clarke subdifferential ({self.clarke_note})")
        tol = check_real("tol", tol, low=0.0)
        generators = self._clarke(self._as_point(x), tol)
        if not np.all(np.isfinite(generators)):
            raise not_representable(self.name)
        return generators

    # -- metadata
    def describe(self) -> dict:
        """One row of the problem table (JSON-able).

        >>> import problems
        >>> problems.get("dem").describe()["f_star"]
        -3.0
        """
        return {
            "name": self.name,
            "dim": self.dim,
            "n_samples": self.n_samples,
            "convex": bool(self.convex),
            "f_star": self.f_star,
            "reference": self.reference,
            "clarke": bool(self.has_clarke),
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"problems.get({self.name!r}{', ' if args else ''}{args})"


class FiniteSum(Problem):
    """A finite sum f = (1/N) sum_i f_i: ``oracle(x, idx)`` averages the per-sample oracle.

    Subclasses implement ``_oracle(x, idx)`` for x (..., d), idx (..., b); ``grad`` defaults to
    the oracle over all samples.

    >>> import numpy as np, problems
    >>> p = problems.get("l1-regression", n=20, d=3, seed=0)
    >>> g = p.oracle(np.zeros((2, 3)), np.array([[0, 1], [2, 3]]))
    >>> g.shape
    (2, 3)
    """

    def _grad(self, x):
        idx = np.broadcast_to(np.arange(self.n_samples), x.shape[:-1] + (self.n_samples,))
        return self._oracle(x, idx)
