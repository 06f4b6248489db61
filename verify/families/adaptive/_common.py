"""Shared pieces of the adaptive family's claims: sources, the figure helper, order statistics.

Intervals of Monte Carlo statistics are two-sided at ``LEVEL`` = 99%: over about 25 parts x 20
seeds a 95% interval would put some true statistic outside its interval by chance every run.
"""
from __future__ import annotations

import collections
import functools

import numpy as np

MALLADI = ("Malladi, Lyu, Panigrahi, Arora, 'On the SDEs and Scaling Rules for Adaptive Gradient Algorithms' "
           "(NeurIPS 2022)")
MA_WU_E = ("Ma, Wu, E, 'A Qualitative Study of the Dynamic Behavior for Adaptive Gradient Algorithms' "
           "(arXiv 2009.06125)")
ADAN = "Xie, Zhou, Li, Lin, Yan, 'Adan: Adaptive Nesterov Momentum Algorithm' (arXiv 2208.06677)"
ADAMSSM = "Chakrabarti & Chopra, 'A Control Theoretic Framework for Adaptive Gradient Optimizers' (arXiv 2206.02034)"
GCLIP = ("Tucat, Mukherjee et al., 'Regularized Gradient Clipping Provably Trains Wide and Deep Neural Networks' "
         "(arXiv 2404.08624)")

LEVEL = 0.99
#: the stated pre-asymptotic margin on an order of convergence (spec 4.4): order p is shown by a
#: fitted local order >= p - 0.2 over the whole grid
ORDER_MARGIN = 0.2


def per_run(fn):
    """Memoise ``fn(ctx, *args)`` within one claim run, never across runs.

    A claim run hands the same Context object to every part's check and control, so a control that
    reads the check's runs differently does not run them again. A new run (another seed, or code
    patched with a planted mistake) has a new Context and recomputes: no result outlives its run.
    """
    recent = collections.OrderedDict()

    @functools.wraps(fn)
    def memo(ctx, *args):
        key = (id(ctx), args)
        hit = recent.get(key)
        if hit is not None and hit[0] is ctx:
            return hit[1]
        value = fn(ctx, *args)
        recent[key] = (ctx, value)          # holding ctx keeps its id from being reused while cached
        while len(recent) > 8:
            recent.popitem(last=False)
        return value

    return memo


def figure(title, xlabel, ylabel, size=(5.2, 3.6), margins=None):
    """A matplotlib Figure (no pyplot state) with one labelled axes (``margins``: see ``report.subplots``)."""
    from ...report import subplots

    fig, ax = subplots(1, 1, figsize=size, margins=margins)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    return fig, ax


def gap_figure(ctx, title, series, tolerance, caption, ylabel="relative gap (log)", xlabel="step k"):
    """``ctx.figures(...)`` of gaps along a run (log scale) against a tolerance line: {label: values}."""
    if not ctx.draw:
        return []
    fig, ax = figure(title, xlabel, ylabel)
    for label, values in series.items():
        ax.semilogy(np.maximum(np.abs(values), 1e-18), label=label)
    ax.axhline(tolerance, color="k", ls="--", label=f"tolerance {tolerance:g}")
    ax.legend(fontsize=7)
    return [(fig, caption)]


def percentile_ci(draws, level=LEVEL):
    """Two-sided percentile interval of bootstrap draws."""
    tail = 50 * (1 - level)
    return float(np.percentile(draws, tail)), float(np.percentile(draws, 100 - tail))


def sup_errors(errors, horizons):
    """sup over the recorded times up to each horizon of |error|: (..., n_times) -> (..., n_horizons).

    ``horizons`` are counts of leading recorded times (e.g. (4, 8): up to T/2 and up to T).
    """
    mag = np.abs(errors)
    return np.stack([mag[..., :h].max(axis=-1) for h in horizons], axis=-1)


def local_orders(sizes, values):
    """log(v_i / v_{i+1}) / log(s_i / s_{i+1}) for consecutive sizes: the order seen at each scale.

    ``values`` (n_sizes, ...) -> (n_sizes - 1, ...).

    >>> local_orders([0.4, 0.2, 0.1], np.array([0.16, 0.04, 0.01])).round(6).tolist()
    [2.0, 2.0]
    """
    s = np.log(np.asarray(sizes, float))
    v = np.log(np.asarray(values, float))
    ds = (s[:-1] - s[1:]).reshape((-1,) + (1,) * (v.ndim - 1))
    return (v[:-1] - v[1:]) / ds


def smallest_local_order(sizes, errors, covariances, horizons, seed, n_boot=2000):
    """Smallest local order of sup_{t <= horizon} |weak error| over consecutive sizes and horizons.

    ``errors`` (n_sizes, n_times) Monte Carlo estimates at the recorded times; ``covariances``
    (n_sizes, n_times, n_times) their covariance (sample covariance / R). The interval comes from a
    parametric bootstrap: the estimates are redrawn from N(errors, covariance) per size (the
    sizes are independent runs), and the whole statistic is recomputed. Returns
    (statistic, ci, orders (n_sizes - 1, n_horizons), sups (n_sizes, n_horizons)).
    """
    rng = np.random.default_rng([seed, 77])
    sups = sup_errors(errors, horizons)
    orders = local_orders(sizes, sups)
    draws = []
    roots = [np.linalg.cholesky(c + 1e-30 * np.eye(len(c))) for c in covariances]
    for _ in range(n_boot):
        e = np.stack([err + L @ rng.standard_normal(len(err)) for err, L in zip(errors, roots)])
        draws.append(local_orders(sizes, np.maximum(sup_errors(e, horizons), 1e-300)).min())
    return float(orders.min()), percentile_ci(draws), orders, sups
