"""The problem's functions as the engine calls them: checked once, then trusted, split over cores.

The first ``value`` and the first gradient of a run go through the problem's public, checked
methods, and their outputs are checked (one real value per replica; a float array of the
iterate's shape). Later calls go to the unchecked fast paths (``unchecked_value``,
``unchecked_oracle``, ``unchecked_grad``) when the problem has them and x is float64.

When one call moves many values (at least ``MIN_SPLIT_VALUES``: the gathered minibatch rows,
R * b * d, or R * N * d for a full pass over the data), the replicas' rows are split into one
slice per available core and the slices are computed in threads (NumPy releases the GIL in
its loops). The result is the same, bit for bit: every problem in ``problems`` gives each
replica the same numbers whatever other replicas share the call (tested for each of them).
Set the environment variable ``STOCHOPT_THREADS=1`` to keep every call in one thread.

>>> import numpy as np, problems
>>> p = problems.get("l1-regression", n=30, d=4)
>>> calls = ProblemCalls(p, batch_size=2, replicas=3, dim=4, dtype=np.float64)
>>> x, idx = np.zeros((3, 4)), np.zeros((3, 2), dtype=np.int64)
>>> bool(np.array_equal(calls.gradient(x, idx), p.oracle(x, idx)))   # checked first call
True
>>> bool(np.array_equal(calls.gradient(x, idx), p.oracle(x, idx)))   # unchecked afterwards
True
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["ProblemCalls", "threads_available", "MIN_SPLIT_VALUES"]

# Below this many values moved per call, a thread's hand-off costs more than it saves.
MIN_SPLIT_VALUES = 2**18
_POOL: dict = {}


def threads_available() -> int:
    """Cores this process may use (``STOCHOPT_THREADS`` overrides), at least 1.

    >>> threads_available() >= 1
    True
    """
    setting = os.environ.get("STOCHOPT_THREADS", "").strip()
    if setting:
        if not setting.isdigit() or int(setting) < 1:
            raise ValueError(f"STOCHOPT_THREADS must be a positive integer; got {setting!r}")
        return int(setting)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class ProblemCalls:
    """The problem's value and stochastic gradient as the engine calls them (see the module)."""

    def __init__(self, problem, batch_size, replicas: int, dim: int, dtype):
        self._shape = (replicas, dim)
        fast = dtype == np.float64 and all(callable(getattr(problem, f"unchecked_{n}", None))
                                           for n in ("value", "oracle", "grad"))
        self._checked_value = problem.value
        self._fast_value = problem.unchecked_value if fast else problem.value
        self._checked_gradient = _gradient_of(problem, batch_size, replicas, fast=False)
        self._fast_gradient = _gradient_of(problem, batch_size, replicas, fast=fast)
        threads = min(threads_available(), replicas // 2) if fast else 1
        samples = int(getattr(problem, "n_samples", 1) or 1)
        if threads > 1 and replicas * samples * dim >= MIN_SPLIT_VALUES:
            value = self._fast_value
            self._fast_value = _SplitRows(lambda x, idx: value(x), replicas, threads)
        if threads > 1 and replicas * (batch_size or samples) * dim >= MIN_SPLIT_VALUES:
            self._fast_gradient = _SplitRows(self._fast_gradient, replicas, threads)
        self._what = "oracle(x, idx)" if batch_size is not None else "grad(x)"
        self.value = self._first_value
        self.gradient = self._first_gradient

    def _first_value(self, x):
        v = np.asarray(self._checked_value(x))
        if v.shape != self._shape[:1] or v.dtype.kind not in "fiu":
            raise ValueError(f"problem.value(x) must return one real value per replica, shape {self._shape[:1]} "
                             f"for x of shape {self._shape}; got shape {v.shape}, dtype {v.dtype}")
        self.value = self._fast_value
        return v.astype(float, copy=False)

    def _first_gradient(self, x, idx):
        g = np.asarray(self._checked_gradient(x, idx))
        if g.shape != self._shape or g.dtype.kind != "f":
            raise ValueError(f"problem.{self._what} must return a float array of x's shape {self._shape}; "
                             f"got shape {g.shape}, dtype {g.dtype}")
        self.gradient = self._fast_gradient
        return g


def _gradient_of(problem, batch_size, replicas: int, fast: bool):
    """``gradient(x, idx)``: the minibatch oracle, or the full-batch gradient (idx is then None)."""
    prefix = "unchecked_" if fast else ""
    if batch_size is not None:
        return getattr(problem, prefix + "oracle")
    if hasattr(problem, "grad"):
        full = getattr(problem, prefix + "grad")
        return lambda x, idx: full(x)
    oracle = getattr(problem, prefix + "oracle")
    every = np.broadcast_to(np.arange(int(problem.n_samples)), (replicas, int(problem.n_samples)))
    return lambda x, idx: oracle(x, every)


class _SplitRows:
    """``fn(x, ...)`` on slices of the replica rows, one per thread, joined: the same numbers."""

    def __init__(self, fn, replicas: int, threads: int):
        self._fn = fn
        cuts = np.linspace(0, replicas, threads + 1).astype(int)
        self._slices = [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:])]
        if threads - 1 not in _POOL:
            _POOL[threads - 1] = ThreadPoolExecutor(threads - 1, thread_name_prefix="stochopt")
        self._pool = _POOL[threads - 1]

    def __call__(self, x, idx=None):
        def part(rows):
            return self._fn(x[rows], None if idx is None else idx[rows])

        others = [self._pool.submit(part, rows) for rows in self._slices[1:]]
        first = part(self._slices[0])
        return np.concatenate([first] + [f.result() for f in others])
