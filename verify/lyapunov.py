"""Lyapunov helpers: a function of the state evaluated along a trace, its increments, the
summed positive part, the fraction of the total decrease that the increases amount to, and the
largest rise above the running minimum (a statistic that needs no sampling grid).

For the single-timescale framework (spec 1.5) the Lyapunov function is
H(x, m) = f(x) + phi(m) / tau; ``framework_lyapunov`` builds it. A discrete trajectory that tracks
the flow has increases of H that are a vanishing fraction of its total decrease.

>>> import numpy as np
>>> s = decrease_summary(np.array([5.0, 3.0, 3.5, 1.0, 0.0]))
>>> s.positive_sum, s.total_decrease, s.fraction
(0.5, 5.0, 0.1)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["increments", "positive_part_sum", "LyapunovSummary", "decrease_summary", "largest_rise",
           "relative_rise", "values_along", "framework_lyapunov"]


def increments(values, axis: int = 0) -> np.ndarray:
    """H_{k+1} - H_k along the record axis (shape of values minus one along ``axis``).

    >>> increments([3.0, 1.0, 2.0]).tolist()
    [-2.0, 1.0]
    """
    return np.diff(np.asarray(values, dtype=float), axis=axis)


def positive_part_sum(values, axis: int = 0) -> np.ndarray:
    """sum_k max(H_{k+1} - H_k, 0): the total of the increases.

    >>> float(positive_part_sum([3.0, 1.0, 2.0, 2.5]))
    1.5
    """
    return np.sum(np.maximum(increments(values, axis), 0.0), axis=axis)


@dataclass
class LyapunovSummary:
    """increments: H_{k+1} - H_k after burn-in; positive_sum: their summed positive part;
    total_decrease: H[burn_in] - H[-1]; fraction: positive_sum / total_decrease (inf when H did
    not decrease). Scalars, or (R,) arrays when batched over replicas."""

    increments: np.ndarray
    positive_sum: object
    total_decrease: object
    fraction: object
    burn_in: int


def decrease_summary(values, burn_in: int = 0, axis: int = 0) -> LyapunovSummary:
    """Increments of H after ``burn_in`` records, their positive part, and its fraction.

    ``fraction = positive_sum / total_decrease`` where ``total_decrease = H[burn_in] - H[-1]``;
    it is ``inf`` when H did not decrease overall. ``values`` is (n_rec,) or (n_rec, R).

    >>> decrease_summary(np.array([[4.0, 1.0], [2.0, 2.0], [0.0, 3.0]])).fraction.tolist()
    [0.0, inf]
    """
    v = np.moveaxis(np.asarray(values, dtype=float), axis, 0)[burn_in:]
    if v.shape[0] < 2:
        raise ValueError(f"need at least two values after burn_in={burn_in}")
    inc = np.diff(v, axis=0)
    pos = np.sum(np.maximum(inc, 0.0), axis=0)
    total = v[0] - v[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(total > 0, pos / np.where(total > 0, total, 1.0), np.inf)
    if np.ndim(frac) == 0:
        pos, total, frac = float(pos), float(total), float(frac)
    return LyapunovSummary(inc, pos, total, frac, int(burn_in))


def largest_rise(values, axis: int = 0) -> np.ndarray:
    """max_j (H_j - min_{i <= j} H_i): the largest increase of H above its running minimum.

    It needs no sampling grid: H is read at every value given (every step of a run), and on any
    coarser grid (a subsequence) the largest rise can only be smaller (the running minimum over a
    subsequence is larger, the maximum over fewer terms smaller). A verdict "the rise is small"
    taken at every step therefore holds on every coarser grid. ``values``: (n,) or (n, R).

    >>> largest_rise([5.0, 3.0, 3.5, 1.0, 1.2, 0.0]).tolist()
    0.5
    >>> largest_rise([5.0, 3.0, 3.5, 1.0, 1.2, 0.0][::2]).tolist()      # every other value: smaller
    0.0
    """
    v = np.moveaxis(np.asarray(values, dtype=float), axis, 0)
    return np.max(v - np.minimum.accumulate(v, axis=0), axis=0)


def relative_rise(values, axis: int = 0) -> np.ndarray:
    """``largest_rise`` over the total decrease H_0 - min_j H_j (inf where H never went below H_0).

    >>> relative_rise(np.array([[4.0, 1.0], [2.0, 2.0], [3.0, 3.0], [0.0, 4.0]])).tolist()
    [0.25, inf]
    """
    v = np.moveaxis(np.asarray(values, dtype=float), axis, 0)
    rise = largest_rise(v)
    total = v[0] - np.min(v, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, rise / np.where(total > 0, total, 1.0), np.inf)


def values_along(fn, trace, momentum=None) -> np.ndarray:
    """H evaluated at every record of a trace: ``fn(x)`` or ``fn(x, m)`` -> (n_rec, R).

    ``momentum`` is (n_rec, R, d) (see ``verify.tracking.MomentumRecorder``), needed when fn takes m.

    >>> import numpy as np, stochopt
    >>> class Q:
    ...     n_samples, x0 = 1, np.ones(2)
    ...     def value(self, x): return 0.5 * np.sum(x * x, axis=-1)
    ...     def oracle(self, x, idx): return x.copy()
    >>> tr = stochopt.run(stochopt.sgd(lr=0.5), Q(), steps=2, record_every=1)
    >>> values_along(Q().value, tr)[:, 0].tolist()            # f halves its argument each step
    [1.0, 0.25, 0.0625]
    """
    if trace.x is None:
        raise ValueError("the trace has no iterates (run with record_x=True)")
    n, R, d = trace.x.shape
    X = trace.x.reshape(n * R, d)
    if momentum is None:
        out = fn(X)
    else:
        M = np.asarray(momentum, dtype=float).reshape(n * R, d)
        out = fn(X, M)
    return np.asarray(out, dtype=float).reshape(n, R)


def framework_lyapunov(problem, direction, tau: float):
    """H(x, m) = f(x) + phi(m) / tau for the single-timescale framework (spec 1.5).

    >>> import numpy as np
    >>> class Q:
    ...     def value(self, x): return 0.5 * np.sum(x * x, axis=-1)
    >>> H = framework_lyapunov(Q(), "identity", tau=2.0)
    >>> float(H(np.array([[1.0, 0.0]]), np.array([[2.0, 0.0]]))[0])
    1.5
    """
    from stochopt import directions

    direc = directions.get(direction)
    tau = float(tau)
    if not tau > 0:
        raise ValueError(f"tau must be > 0; got {tau}")

    def H(x, m):
        return np.asarray(problem.value(x), dtype=float) + direc.phi(m) / tau

    return H
