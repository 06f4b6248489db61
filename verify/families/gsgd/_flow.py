"""Shared pieces of the gsgd claims on the limiting dynamics (tracking, two timescales, Lyapunov).

- ``directions(ctx, blocks)``: the directions a part runs: the user's (``--direction``) alone, else
  the framework's: identity (heavy ball), sign (Signum), normalized and clipped by norm (per block
  when the problem has blocks, like the official code per tensor), clipped by coordinate;
- ``starts``: random starting points, a pure function of (seed, stream);
- ``relu``: the ReLU network of these claims;
- ``order_verdict``: "D ~ step^q with q at least the predicted order minus a margin", read from a
  log-log fit, the worst case over directions, with a bootstrap interval of that worst case;
- ``loglog_figure``: the figure of such a part (one line per direction, the predicted slope).

>>> from verify.registry import Context
>>> list(directions(Context()))
['identity', 'sign', 'normalized', 'clip_norm', 'clip_coord']
"""
from __future__ import annotations

import numpy as np

import problems
from stochopt import directions as _directions

from ...registry import decide
from ._common import CLIP_THRESHOLD

__all__ = ["DIRECTION_NAMES", "directions", "starts", "relu", "order_verdict", "loglog_figure"]

DIRECTION_NAMES = ("identity", "sign", "normalized", "clip_norm", "clip_coord")


def directions(ctx, blocks=None, names=DIRECTION_NAMES) -> dict:
    """{name: Direction}: the user's direction alone when given, else the framework's ``names``.

    >>> from verify.registry import Context
    >>> d = directions(Context(), blocks=[[0, 1], [2]])
    >>> d["normalized"].blocks is not None, d["clip_coord"].threshold
    (True, 0.5)
    """
    if ctx.direction is not None:
        return {"user direction": _directions.get(ctx.direction)}
    table = {
        "identity": _directions.get("identity"),
        "sign": _directions.get("sign"),
        "normalized": _directions.get("normalized", blocks=blocks),
        "clip_norm": _directions.ClipNorm(CLIP_THRESHOLD, blocks=blocks),
        "clip_coord": _directions.ClipCoordinate(CLIP_THRESHOLD),
    }
    return {name: table[name] for name in names}


def starts(center, replicas: int, radius: float, seed: int, stream: int = 0) -> np.ndarray:
    """(replicas, d): center + uniform[-radius, radius]^d, drawn from ``default_rng([seed, stream])``.

    >>> starts(np.zeros(2), 3, 1.0, seed=0).shape
    (3, 2)
    """
    center = np.asarray(center, dtype=float)
    rng = np.random.default_rng([int(seed), int(stream)])
    return center + rng.uniform(-radius, radius, (int(replicas), center.size))


def relu():
    """The ReLU network of the flow claims: one hidden layer of 4, 3 inputs, 24 samples (d = 21).

    >>> relu().dim
    21
    """
    return problems.get("relu-mlp", hidden=(4,), n=24, d_in=3, task="regression", seed=0)


def _orders(logx, D, idx):
    """Least-squares slopes of log(mean over the replicas idx (B, R) of D (n, R)) against logx: (B,)."""
    y = np.log(np.maximum(np.nanmean(D[:, idx], axis=2), 1e-300))  # (n, B)
    xc = logx - logx.mean()
    return np.sum((y - y.mean(axis=0)) * xc[:, None], axis=0) / np.sum(xc * xc)


def order_verdict(steps, errors: dict, order: float, margin: float, seed: int = 0, details=None, figures=None,
                  n_boot: int = 2000):
    """Worst case over directions of the fitted order q in error ~ step^q.

    ``errors`` maps a direction's name to its (len(steps), R) errors, replicas in the same order for
    every direction (replica r of each direction starts from the same point). For each direction, q
    is the least-squares slope of log(mean over replicas) against log(step). The statistic is the
    smallest q; its 95% interval is the percentile bootstrap of that minimum, resampling replicas
    jointly for all directions; higher is good; threshold ``order - margin``.

    >>> s = np.array([0.04, 0.02, 0.01])
    >>> v = order_verdict(s, {"a": s[:, None] * np.ones((1, 4)), "b": np.sqrt(s)[:, None] * np.ones((1, 4))}, 1, 0.2)
    >>> v.status, round(v.statistic, 6), v.details["worst"]
    ('fail', 0.5, 'b')
    """
    logx = np.log(np.asarray(steps, dtype=float))
    names = list(errors)
    R = next(iter(errors.values())).shape[1]
    every = np.arange(R)[None]
    point = {n: float(_orders(logx, errors[n], every)[0]) for n in names}
    idx = np.random.default_rng(seed).integers(0, R, (int(n_boot), R))
    worst_boot = np.min(np.stack([_orders(logx, errors[n], idx) for n in names]), axis=0)
    ci = tuple(float(c) for c in np.quantile(worst_boot, [0.025, 0.975]))
    worst = min(point, key=point.get)
    rows = {n: {"order": point[n], "mean_error": np.nanmean(errors[n], axis=1)} for n in names}
    return decide(point[worst], order - margin, "higher", ci=ci,
                  details={"worst": worst, "per_direction": rows, "steps": np.asarray(steps), "predicted_order": order,
                           "margin": margin, **(details or {})},
                  figures=figures)


def loglog_figure(steps, errors: dict, order: float, title: str, xlabel: str, ylabel: str, caption: str):
    """One line per direction (mean over replicas) and a dashed line of the predicted slope."""
    from ...report import subplots

    fig, ax = subplots(1, 1, figsize=(5.6, 4.0))
    steps = np.asarray(steps, dtype=float)
    top = 0.0
    for name, D in errors.items():
        mean = np.nanmean(D, axis=1)
        ax.loglog(steps, mean, "o-", ms=3, label=name)
        top = max(top, float(np.nanmax(mean)))
    ref = top * (steps / steps.max()) ** order
    ax.loglog(steps, ref, "k--", lw=1, label=f"slope {order:g} (predicted)")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=7)
    return fig, caption
