"""ODE / differential-inclusion tracking (spec 5.3): the windowed tracking error D_T.

The limiting dynamics and the integrator live in ``verify.inclusions`` (the subgradient flow, the
single- and two-timescale flows, the event-driven scheme and its selection). Here:

- ``tracking_error(trace, flow, window)``: D_T(t_m) = max over recorded iterate times t in
  [t_m, t_m + T] of ||x(t) - z(t - t_m)||, where z solves the flow from the recorded state at t_m,
  with the trace's ODE time sum eta (per replica) as the clock. A single reference solution of an
  inclusion whose solutions are not unique bounds the distance of the iterates to the solution set
  from above, not the distance itself.
- ``common_start_error(trace, flow, z0, window)``: D_T from the start for groups of replicas that
  share their starts (one group per constant step size: D_T against the step from one integration);
- ``MomentumRecorder``: records the momentum buffer (single-timescale flows start from (x, m));
- ``momentum_error``: the fast-variable error ||m - grad f(x)|| of two-timescale runs.

>>> import numpy as np, stochopt
>>> from verify.inclusions import two_timescale_flow
>>> class Q:
...     n_samples, dim, x0 = 1, 1, np.ones(1)
...     def value(self, x): return 0.5 * np.sum(x * x, axis=-1)
...     def oracle(self, x, idx): return x.copy()
...     def grad(self, x): return x.copy()
>>> tr = stochopt.run(stochopt.sgd(lr=0.01), Q(), steps=300, record_every=1)
>>> res = tracking_error(tr, two_timescale_flow(Q(), "identity"), window=1.0, starts=[0])
>>> float(res.error[0, 0]) < 0.01                  # Euler's O(eta) bias of gradient descent
True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .inclusions import Inclusion, march

__all__ = ["TrackingResult", "tracking_error", "common_start_error", "MomentumRecorder", "momentum_error"]


def _grad_fn(problem):
    from .measures import _grad_fn as g

    return g(problem)


# ------------------------------------------------------------------------------- tracking
@dataclass
class TrackingResult:
    """D_T per window start and replica.

    starts : (S,) record indices of the window starts.
    start_times : (S, R) ODE times t_m of the starts.
    error : (S, R) D_T(t_m); NaN where a replica diverged.
    window : T; h : the integrator's largest step; flow : the flow's name.
    """

    starts: np.ndarray
    start_times: np.ndarray
    error: np.ndarray
    window: float
    h: float
    flow: str

    @property
    def median(self) -> np.ndarray:
        """Median over replicas of D_T per window start (S,)."""
        return np.nanmedian(self.error, axis=1)


def tracking_error(trace, flow: Inclusion, window: float, starts=None, momentum=None, h: float | None = None,
                   max_starts: int = 40) -> TrackingResult:
    """Windowed tracking error D_T(t_m) of a trace against a reference flow (spec 5.3).

    Parameters
    ----------
    trace : a ``stochopt.Trace`` with iterates (x: (n_rec, R, d)) and ODE times (time: (n_rec, R)).
    flow : an inclusion of ``verify.inclusions`` whose x part has the trace's dimension.
    window : T > 0, in ODE time.
    starts : record indices of the window starts; default: up to ``max_starts`` evenly spaced
        records whose window ends before the last record (for every replica).
    momentum : (n_rec, R, d) recorded momentum (``MomentumRecorder``), needed by single-timescale flows.
    h : the integrator's largest step; default min(T / 4000, smallest recorded step in ODE time / 20).

    >>> import numpy as np, stochopt
    >>> class Q:
    ...     n_samples, dim, smooth, x0 = 1, 1, True, np.ones(1)
    ...     def value(self, x): return 0.5 * np.sum(x * x, axis=-1)
    ...     def oracle(self, x, idx): return x.copy()
    ...     def grad(self, x): return x.copy()
    >>> tr = stochopt.run(stochopt.sgd(lr=0.01), Q(), steps=300, record_every=1)
    >>> from verify.inclusions import two_timescale_flow
    >>> res = tracking_error(tr, two_timescale_flow(Q(), "identity"), window=1.0, starts=[0])
    >>> float(res.error[0, 0]) < 0.01
    True
    """
    if trace.x is None:
        raise ValueError("the trace has no iterates: run with record_x=True")
    X = np.asarray(trace.x, dtype=float)
    time = np.asarray(trace.time, dtype=float)
    n_rec, R, d = X.shape
    if flow.x_dim != d:
        raise ValueError(f"the flow's x has dimension {flow.x_dim} but the trace has d = {d}")
    T = float(window)
    if not T > 0:
        raise ValueError(f"window must be > 0 (ODE time); got {window}")
    if flow.has_momentum:
        if momentum is None:
            raise ValueError("a single-timescale flow starts from (x, m): pass momentum=(n_rec, R, d), recorded with "
                             "verify.tracking.MomentumRecorder (a callback of stochopt.run)")
        M = np.asarray(momentum, dtype=float)
        if M.shape != X.shape:
            raise ValueError(f"momentum must have the shape of trace.x {X.shape}; got {M.shape}")
    ends_ok = np.all(time + T <= time[-1][None, :] * (1 + 1e-12), axis=1)
    if starts is None:
        cand = np.flatnonzero(ends_ok)
        if cand.size == 0:
            raise ValueError(f"no window of length {T} fits in the trace (final ODE time {time[-1].min():g})")
        pick = np.unique(np.round(np.linspace(0, cand.size - 1, min(max_starts, cand.size))).astype(int))
        starts = cand[pick]
    starts = np.asarray(starts, dtype=np.int64)
    if starts.ndim != 1 or np.any(starts < 0) or np.any(starts >= n_rec):
        raise ValueError(f"starts must be record indices in [0, {n_rec}); got {starts}")
    if h is None:
        steps = np.diff(time, axis=0)
        positive = steps[steps > 0]
        h = min(T / 4000.0, (positive.min() / 20.0) if positive.size else T / 4000.0)
    h = float(h)

    S = starts.size
    z0, targets, valid, obs = [], [], [], []
    J = 0
    blocks = []
    for i in starts:
        rel = time[i:] - time[i][None, :]  # (n_rec - i, R)
        inside = rel <= T * (1 + 1e-12)
        blocks.append((i, rel, inside))
        J = max(J, int(inside.sum(axis=0).max()))
    for i, rel, inside in blocks:
        for r in range(R):
            idx = np.flatnonzero(inside[:, r])
            tt = np.full(J, rel[idx[-1], r])
            tt[: idx.size] = rel[idx, r]
            ok = np.zeros(J, bool)
            ok[: idx.size] = True
            xs = np.zeros((J, d))
            xs[: idx.size] = X[i + idx, r]
            targets.append(tt)
            valid.append(ok)
            obs.append(xs)
            z0.append(np.concatenate([X[i, r], M[i, r]]) if flow.has_momentum else X[i, r])
    z0, targets, valid, obs = map(np.array, (z0, targets, valid, obs))
    good = np.all(np.isfinite(z0), axis=1)
    err = np.full(S * R, np.nan)
    if good.any():
        Z, _ = march(flow, z0[good], targets[good], h)
        dist = np.sqrt(np.sum((flow.x_part(Z) - obs[good]) ** 2, axis=-1))
        err[good] = np.max(np.where(valid[good], dist, 0.0), axis=1)
    return TrackingResult(starts, time[starts], err.reshape(S, R), T, h, flow.name)


def common_start_error(trace, flow: Inclusion, z0, window: float, h: float | None = None) -> np.ndarray:
    """D_T from the start, for groups of replicas that share their starting states.

    The trace's replicas are G groups of R (group-major: replica g R + r started at z0[r]), e.g. one
    group per constant step size. The flow is integrated once per start, to every recorded time of
    every group within the window (each replica's own ODE clock ``trace.time``); returns (G, R):
    max over recorded times t <= T of ||x(t) - z_r(t)|| (NaN for a diverged replica).

    >>> import numpy as np, stochopt
    >>> from verify.inclusions import two_timescale_flow
    >>> class Q:
    ...     n_samples, dim, x0 = 1, 1, np.ones(1)
    ...     def value(self, x): return 0.5 * np.sum(x * x, axis=-1)
    ...     def oracle(self, x, idx): return x.copy()
    ...     def grad(self, x): return x.copy()
    >>> opt = stochopt.sgd(lr=np.array([0.02, 0.01]))              # two groups of one replica
    >>> tr = stochopt.run(opt, Q(), steps=100, replicas=2, record_every=1)
    >>> D = common_start_error(tr, two_timescale_flow(Q(), "identity"), np.ones((1, 1)), window=1.0)
    >>> D.shape, bool(D[0, 0] > D[1, 0])                             # Euler's bias halves with the step
    ((2, 1), True)
    """
    if trace.x is None:
        raise ValueError("the trace has no iterates: run with record_x=True")
    X = np.asarray(trace.x, dtype=float)
    time = np.asarray(trace.time, dtype=float)
    z0 = np.atleast_2d(np.asarray(z0, dtype=float))
    n_rec, GR, d = X.shape
    R = z0.shape[0]
    if GR % R or z0.shape[1] != flow.dim or flow.x_dim != d:
        raise ValueError(f"the trace's {GR} replicas must be groups of the {R} starts z0 (R, {flow.dim}) of a flow "
                         f"whose x has dimension {d}")
    T = float(window)
    if not T > 0 or np.any(time[-1] < T * (1 - 1e-12)):
        raise ValueError(f"window must be > 0 and covered by every replica's ODE time; got {window}")
    G = GR // R
    inside = time <= T * (1 + 1e-12)
    times = [np.unique(np.concatenate([time[inside[:, g * R + r], g * R + r] for g in range(G)])) for r in range(R)]
    J = max(t.size for t in times)
    targets = np.stack([np.concatenate([t, np.full(J - t.size, t[-1])]) for t in times])
    if h is None:
        steps = np.diff(time, axis=0)
        h = min(T / 4000.0, steps[steps > 0].min() / 20.0)
    Z, _ = march(flow, z0, targets, float(h))
    D = np.full((G, R), np.nan)
    for g in range(G):
        for r in range(R):
            c = g * R + r
            k = np.flatnonzero(inside[:, c])
            j = np.searchsorted(targets[r], time[k, c] - 1e-12 * max(T, 1.0))
            D[g, r] = np.max(np.sqrt(np.sum((X[k, c] - flow.x_part(Z[r, j])) ** 2, axis=-1)))
    return D


class MomentumRecorder:
    """A ``stochopt.run`` callback that records the momentum buffer at every record.

    >>> import numpy as np, stochopt
    >>> class Q:
    ...     n_samples, x0 = 1, np.ones(2)
    ...     def value(self, x): return 0.5 * np.sum(x * x, axis=-1)
    ...     def oracle(self, x, idx): return x.copy()
    >>> rec = MomentumRecorder()
    >>> tr = stochopt.run(stochopt.heavy_ball(lr=0.1, momentum=0.5), Q(), steps=4, record_every=2, callbacks=[rec])
    >>> rec.array(tr).shape
    (3, 1, 2)
    """

    def __init__(self, buffer: str = "m", m0=None):
        self.buffer, self.m0, self.frames = buffer, m0, []

    def __call__(self, k, state):
        self.frames.append(np.array(state.buffers[self.buffer], dtype=float))
        return None

    def array(self, trace) -> np.ndarray:
        """(n_rec, R, d): m0 (zeros by default) at record 0, then the recorded buffers."""
        shape = trace.final_state.x.shape
        first = np.zeros(shape) if self.m0 is None else np.broadcast_to(np.asarray(self.m0, float), shape)
        out = np.stack([first] + self.frames[-(len(trace.k) - 1):] if len(trace.k) > 1 else [first])
        if out.shape[0] != len(trace.k):
            raise ValueError(f"recorded {out.shape[0]} momenta for {len(trace.k)} records: pass the recorder to "
                             "stochopt.run(callbacks=[recorder]) of this very trace")
        return out


def momentum_error(problem, x, m) -> np.ndarray:
    """Fast-variable error ||m - grad f(x)|| (two-timescale claims), batched over leading axes.

    >>> import numpy as np
    >>> class Q:
    ...     def grad(self, x): return x
    >>> momentum_error(Q(), np.ones((2, 3)), np.zeros((2, 3))).round(3).tolist()
    [1.732, 1.732]
    """
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    g = np.asarray(_grad_fn(problem)(x.reshape(-1, x.shape[-1])), dtype=float).reshape(x.shape)
    return np.sqrt(np.sum((m - g) ** 2, axis=-1))
