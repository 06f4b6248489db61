"""Rates and Monte Carlo statistics (spec 5.4).

- ``fit_exponent(sizes, values)``: least-squares slope of log(value) against log(size), with a
  bootstrap confidence interval over seeds (the columns of ``values``).
- ``log_slope(sizes, values)``: slope of log(center over replicas) against log(size), with a
  bootstrap interval over replicas (robust to replicas whose value is exactly 0, unlike a fit of
  per-replica logarithms).
- ``standard_error``, ``mean_ci``, ``bootstrap``, ``median_ci``, ``geomean_ci``: Monte Carlo
  standard errors and intervals.
- ``binomial_upper``, ``binomial_lower``, ``binomial_ci``: exact (Clopper-Pearson) bounds of a rate.

Every result is a small record with named fields (``statistic``, ``ci``), as in scipy.stats.

>>> import numpy as np
>>> sizes = np.array([1e2, 1e3, 1e4])
>>> values = sizes[:, None] ** -0.5 * np.exp(0.01 * np.random.default_rng(0).standard_normal((3, 8)))
>>> fit = fit_exponent(sizes, values)
>>> round(fit.slope, 2), fit.ci[0] < -0.5 < fit.ci[1]
(-0.5, True)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

__all__ = ["ExponentFit", "fit_exponent", "standard_error", "MeanCI", "mean_ci", "BootstrapResult", "bootstrap",
           "SlopeFit", "log_slope", "median_ci", "geomean_ci", "binomial_upper", "binomial_lower", "binomial_ci"]


@dataclass
class ExponentFit:
    """Power-law fit value ~ C * size^slope.

    slope, intercept : least-squares fit of log(value) on log(size), pooled over seeds (equal to
        the fit of the per-size mean of log(value)).
    ci : (low, high) bootstrap percentile interval of the slope over seeds, at ``level``.
    standard_error : bootstrap standard deviation of the slope.
    per_seed : (n_seeds,) slope fitted to each seed alone.
    """

    slope: float
    intercept: float
    ci: tuple
    level: float
    standard_error: float
    per_seed: np.ndarray
    n_boot: int
    sizes: np.ndarray
    values: np.ndarray

    @property
    def statistic(self) -> float:
        return self.slope

    def predict(self, sizes) -> np.ndarray:
        return np.exp(self.intercept) * np.asarray(sizes, dtype=float) ** self.slope


def _slopes(logx, logy):
    """LS slope of each column of logy (n_sizes, n) on logx (n_sizes,)."""
    xc = logx - logx.mean()
    return (xc @ (logy - logy.mean(axis=0))) / (xc @ xc)


def fit_exponent(sizes, values, level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> ExponentFit:
    """Fit value ~ C size^slope in log-log; bootstrap the slope over seeds.

    Parameters
    ----------
    sizes : (n_sizes,) positive sizes (horizons K, stepsizes eta, ...), at least two distinct.
    values : (n_sizes, n_seeds) positive statistics, one column per seed (a 1-D array is one seed,
        and then the interval is empty-width: no seed variability to resample).
    level : confidence level of the percentile interval.
    n_boot : bootstrap resamples of the seeds (columns) with replacement.
    seed : seed of the bootstrap's generator.

    >>> import numpy as np
    >>> fit_exponent([1, 2, 4, 8], np.array([[1.0], [0.5], [0.25], [0.125]])).slope
    -1.0
    """
    x = np.asarray(sizes, dtype=float)
    y = np.asarray(values, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    if x.ndim != 1 or y.ndim != 2 or y.shape[0] != x.size:
        raise ValueError(f"sizes must be (n_sizes,) and values (n_sizes, n_seeds); got {x.shape} and {y.shape}")
    if np.unique(x).size < 2:
        raise ValueError("fit_exponent needs at least two distinct sizes")
    if np.any(~np.isfinite(x)) or np.any(x <= 0):
        raise ValueError("sizes must be finite and positive (a log-log fit)")
    if np.any(~np.isfinite(y)) or np.any(y <= 0):
        raise ValueError("values must be finite and positive (a log-log fit); drop diverged or zero seeds "
                         "explicitly and say so in the verdict")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    logx, logy = np.log(x), np.log(y)
    per_seed = _slopes(logx, logy)
    mean_logy = logy.mean(axis=1)
    slope = float(_slopes(logx, mean_logy[:, None])[0])
    intercept = float(mean_logy.mean() - slope * logx.mean())
    n = y.shape[1]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(int(n_boot), n))
    boot = per_seed[idx].mean(axis=1)  # the pooled slope is the mean of the per-seed slopes
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boot, [alpha, 1 - alpha])
    return ExponentFit(slope, intercept, (float(lo), float(hi)), float(level), float(boot.std(ddof=1)) if n > 1
                       else 0.0, per_seed, int(n_boot), x, y)


def standard_error(samples, axis: int = 0) -> np.ndarray:
    """Standard error of the mean: std(ddof=1) / sqrt(n) along ``axis``.

    >>> float(standard_error([1.0, 2.0, 3.0, 4.0]).round(4))
    0.6455
    """
    a = np.asarray(samples, dtype=float)
    n = a.shape[axis]
    if n < 2:
        raise ValueError("standard_error needs at least two samples")
    return np.std(a, axis=axis, ddof=1) / np.sqrt(n)


@dataclass
class MeanCI:
    """Sample mean with its standard error and a Student-t interval."""

    statistic: object
    standard_error: object
    ci: tuple
    level: float
    n: int


def mean_ci(samples, level: float = 0.95, axis: int = 0) -> MeanCI:
    """Mean, standard error and the t interval mean +- t_{n-1} se.

    >>> r = mean_ci([1.0, 2.0, 3.0, 4.0])
    >>> float(r.statistic), [round(float(v), 3) for v in r.ci]
    (2.5, [0.446, 4.554])
    """
    a = np.asarray(samples, dtype=float)
    n = a.shape[axis]
    se = standard_error(a, axis)
    mean = a.mean(axis=axis)
    t = _st.t.ppf(0.5 + level / 2, n - 1)
    lo, hi = mean - t * se, mean + t * se
    if np.ndim(mean) == 0:
        mean, se, lo, hi = float(mean), float(se), float(lo), float(hi)
    return MeanCI(mean, se, (lo, hi), float(level), int(n))


@dataclass
class BootstrapResult:
    """Bootstrap of a statistic over samples: point value, percentile interval, standard error."""

    statistic: float
    ci: tuple
    standard_error: float
    level: float
    n_boot: int


def bootstrap(samples, statistic=np.mean, level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> BootstrapResult:
    """Percentile bootstrap of ``statistic(samples)`` (resampling along the first axis).

    >>> r = bootstrap(np.arange(20.0), np.median, seed=1)
    >>> r.statistic, r.ci[0] < 9.5 < r.ci[1]
    (9.5, True)
    """
    a = np.asarray(samples, dtype=float)
    n = a.shape[0]
    if n < 2:
        raise ValueError("bootstrap needs at least two samples")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(int(n_boot), n))
    boot = np.array([statistic(a[i]) for i in idx], dtype=float)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boot, [alpha, 1 - alpha])
    return BootstrapResult(float(statistic(a)), (float(lo), float(hi)), float(boot.std(ddof=1)), float(level),
                           int(n_boot))


# ------------------------------------------------------------ slopes over replicas, rates
@dataclass
class SlopeFit:
    """Least-squares slope of log(center) against log(size) with a bootstrap interval.

    center : (n_sizes,) center (mean, median or geometric mean) over replicas at each size.
    """

    slope: float
    ci: tuple
    sizes: np.ndarray
    center: np.ndarray
    level: float = 0.95

    @property
    def statistic(self) -> float:
        return self.slope


def log_slope(sizes, values, level: float = 0.95, n_boot: int = 1000, seed: int = 0,
              floor: float = 1e-12, center: str = "mean") -> SlopeFit:
    """Slope of log(center_r values[:, r]) against log(sizes); bootstrap over replicas (columns).

    ``values`` is (n_sizes, R) with non-negative entries; NaN columns (diverged replicas) are dropped.
    Centers below ``floor`` (a measure that reached 0 to solver precision) are raised to it.
    ``center="median"`` uses the median over replicas instead of the mean, ``"geomean"`` the
    geometric mean (both robust to rare outliers; the geometric mean also has a stable bootstrap).

    >>> import numpy as np
    >>> log_slope([1.0, 2.0, 4.0], np.array([[1.0, 1.0], [0.5, 0.5], [0.25, 0.25]])).slope
    -1.0
    """
    if center not in ("mean", "median", "geomean"):
        raise ValueError(f"center must be 'mean', 'median' or 'geomean'; got {center!r}")
    sizes = np.asarray(sizes, dtype=float)
    V = np.asarray(values, dtype=float)
    V = V[:, np.all(np.isfinite(V), axis=0)]
    if V.shape[1] < 2:
        return SlopeFit(float("nan"), (float("nan"), float("nan")), sizes, np.full(sizes.shape, np.nan), level)
    if center == "geomean":
        V = np.log(np.maximum(V, floor))
        reduce = lambda a, axis: np.exp(np.mean(a, axis=axis))  # noqa: E731
    else:
        reduce = np.mean if center == "mean" else np.median
    logx = np.log(sizes)
    mid = reduce(V, axis=1)
    slope = float(_slopes(logx, np.log(np.maximum(mid, floor))[:, None])[0])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, V.shape[1], size=(int(n_boot), V.shape[1]))
    boot = reduce(V[:, idx], axis=2)  # (n_sizes, n_boot)
    slopes = _slopes(logx, np.log(np.maximum(boot, floor)))
    alpha = (1 - level) / 2
    lo, hi = np.quantile(slopes, [alpha, 1 - alpha])
    return SlopeFit(slope, (float(lo), float(hi)), sizes, mid, level)


def median_ci(samples, level: float = 0.95, n_boot: int = 1000, seed: int = 0):
    """(median, (low, high)): percentile bootstrap of the median of a 1-D sample.

    >>> m, (lo, hi) = median_ci(np.arange(21.0))
    >>> m, lo <= 10.0 <= hi
    (10.0, True)
    """
    a = np.asarray(samples, dtype=float).ravel()
    rng = np.random.default_rng(seed)
    boot = np.median(a[rng.integers(0, a.size, size=(int(n_boot), a.size))], axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boot, [alpha, 1 - alpha])
    return float(np.median(a)), (float(lo), float(hi))


def geomean_ci(samples, level: float = 0.95, n_boot: int = 1000, seed: int = 0, floor: float = 1e-300):
    """(geometric mean, (low, high)): percentile bootstrap of exp(mean(log samples)).

    >>> g, (lo, hi) = geomean_ci([1.0, 10.0, 100.0])
    >>> round(g, 6), lo <= g <= hi
    (10.0, True)
    """
    a = np.log(np.maximum(np.asarray(samples, dtype=float).ravel(), floor))
    a = a[np.isfinite(a)]
    rng = np.random.default_rng(seed)
    boot = np.exp(np.mean(a[rng.integers(0, a.size, size=(int(n_boot), a.size))], axis=1))
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boot, [alpha, 1 - alpha])
    return float(np.exp(np.mean(a))), (float(lo), float(hi))


def binomial_upper(k: int, n: int, level: float = 0.95) -> float:
    """Exact one-sided (Clopper-Pearson) upper confidence bound of a rate from k successes in n.

    >>> round(binomial_upper(0, 100), 4), round(binomial_upper(100, 100), 4)
    (0.0295, 1.0)
    """
    if k >= n:
        return 1.0
    return float(_st.beta.ppf(level, k + 1, n - k))


def binomial_lower(k: int, n: int, level: float = 0.95) -> float:
    """Exact one-sided (Clopper-Pearson) lower confidence bound of a rate.

    >>> binomial_lower(0, 100), round(binomial_lower(100, 100), 4)
    (0.0, 0.9705)
    """
    if k <= 0:
        return 0.0
    return float(_st.beta.ppf(1 - level, k, n - k + 1))


def binomial_ci(k: int, n: int, level: float = 0.95) -> tuple:
    """Exact two-sided (Clopper-Pearson) interval of a rate from k successes in n trials.

    >>> lo, hi = binomial_ci(0, 60)
    >>> lo, round(hi, 4)
    (0.0, 0.0596)
    """
    k, n = int(k), int(n)
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"binomial_ci needs 0 <= k <= n and n >= 1; got k = {k}, n = {n}")
    tail = (1 + level) / 2
    return binomial_lower(k, n, tail), binomial_upper(k, n, tail)
