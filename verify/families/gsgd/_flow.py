"""Shared pieces of the gsgd claims on the limiting dynamics (tracking, two timescales, Lyapunov).

- ``directions(ctx, blocks)``: the directions a part runs: the user's (``--direction``) alone, else
  the framework's: identity (heavy ball), sign (Signum), normalized and clipped by norm (per block
  when the problem has blocks, like the official code per tensor), clipped by coordinate; by name
  also "lion" and "signsgd", the two iterations whose direction is sign but which are not
  ``stochopt.gsgd`` with theta_k = tau eta_k (single-timescale Lion, signSGD);
- ``with_initial_momentum``: a method whose momentum buffer starts at a given m_0;
- ``tracked_method``, ``limiting_inclusion``: an instance's iteration at constant steps and the
  inclusion its iterates track (``verify.families.gsgd.inclusion_tracking`` derives Lion's and signSGD's);
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
from ._common import CLIP_THRESHOLD, LION_BETAS

__all__ = ["DIRECTION_NAMES", "directions", "with_initial_momentum", "tracked_method", "limiting_inclusion", "starts",
           "relu", "order_verdict", "loglog_figure"]

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
        "lion": _directions.get("sign"),
        "signsgd": _directions.get("sign"),
    }
    return {name: table[name] for name in names}


def with_initial_momentum(opt, m0):
    """``opt`` (a ``stochopt.Method`` with a ``momentum_buffer``) whose momentum starts at m0, not at 0
    (for methods without an ``m0`` argument, such as ``stochopt.lion_singlescale``).

    >>> import stochopt
    >>> opt = with_initial_momentum(stochopt.lion_singlescale(lr=0.1), np.array([[1.0, -1.0]]))
    >>> opt.init(np.zeros((1, 2))).buffers["m"].tolist()
    [[1.0, -1.0]]
    """
    import types

    init, name, m0 = opt.init, opt.momentum_buffer, np.asarray(m0, dtype=float)

    def start(x0, replica_ids=None):
        state = init(x0, replica_ids=replica_ids)
        m = np.broadcast_to(m0, state.x.shape).astype(state.x.dtype)
        return state.replace(buffers=types.MappingProxyType({**state.buffers, name: m}))

    opt.init = start
    return opt


def tracked_method(name, direction, lr, tau, m0):
    """The iteration of instance ``name`` at constant steps lr (one per replica), its momentum started at m0:
    signSGD (theta_k = 1, no momentum state), single-timescale Lion (1 - mu2 = tau eta = theta_k,
    1 - mu1 = tau eta (1 - beta1) / (1 - beta2)), else ``stochopt.gsgd`` with theta_k = tau eta_k.

    >>> opt = tracked_method("lion", None, np.array([0.1]), 1.0, np.array([[2.0]]))
    >>> opt.step(opt.init(np.zeros((1, 1))), np.array([[-1.0]])).x.tolist()   # c = 2 + 0.5 (-1 - 2) > 0
    [[-0.1]]
    """
    import stochopt

    if name == "signsgd":
        return stochopt.gsgd(lr=lr, momentum_lr=1.0, direction=direction)
    if name == "lion":
        opt = stochopt.lion_singlescale(lr=lr, betas=LION_BETAS, scaling=tau / (1.0 - LION_BETAS[1]))
        return with_initial_momentum(opt, m0)
    return stochopt.gsgd(lr=lr, momentum_lr=tau * lr, direction=direction, m0=m0)


def limiting_inclusion(name, problem, direction, tau, h, x0, m0):
    """(the inclusion instance ``name`` tracks, its initial states (R, n)): for signSGD the sign-hull flow of x
    alone, else the single-timescale flow of (x, m) (Lion's is Signum's), kinks located to h.

    >>> class Q:
    ...     dim = 1
    ...     def grad(self, x): return x
    >>> flow, z0 = limiting_inclusion("signsgd", Q(), None, 1.0, 0.01, np.ones((2, 1)), np.zeros((2, 1)))
    >>> flow.name, z0.shape
    ('sign flow[signSGD]', (2, 1))
    """
    from ...inclusions import sign_flow, single_timescale_flow

    if name == "signsgd":
        return sign_flow(problem), x0
    return single_timescale_flow(problem, direction, tau=tau, kink_accuracy=h), np.concatenate([x0, m0], axis=1)


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
