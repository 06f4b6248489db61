"""ODE / differential-inclusion tracking (spec 5.3).

Reference flows of the framework's limiting dynamics (spec 1.5), with the full-batch field:

- single timescale, state z = (x, m):  x' = -s(m) - alpha grad f(x),  m' = tau (grad f(x) - m);
- two timescales, state z = x:         x' = -s(grad f(x)) - alpha grad f(x);
- a linear ODE z' = A z (closed form by the matrix exponential) for testing the integrators.

Here s = ``direction.select`` (sign(0) = 0 for the sign direction), ``grad`` is the problem's
full-batch oracle. Integrators:

- ``"solve_ivp"``: scipy's DOP853 with rtol = 1e-12, atol = 1e-14 (smooth fields only);
- ``"rk4"``: classical Runge-Kutta with a fixed step h, vectorised over many initial conditions
  (used by ``tracking_error`` for smooth fields; checked against solve_ivp in the tests);
- ``"euler-event"``: for discontinuous fields. Explicit Euler with a fixed step h, plus event
  location for coordinatewise switching directions (sign, srsgd): when a coordinate of the
  selection's argument u (m, or grad f(x)) changes sign within a step, the step is shortened to
  the crossing, found by linear interpolation of u (exact when u is affine along the step).
  Arguments with |u_i| <= 1e-12 max(1, max_j |u_j|) are treated as 0, so the selection there is
  s(0) (sign(0) = 0): on a sliding surface of a separable problem this is the Filippov
  solution; elsewhere the scheme chatters with amplitude O(h) around the surface. Kinks of f
  itself are not located (an O(h) error). A single reference solution of an inclusion gives an
  upper bound of the distance to the solution set, not the distance itself.

``tracking_error(trace, flow, window)`` returns D_T(t_m) = max over recorded iterate times t in
[t_m, t_m + T] of ||x(t) - z(t - t_m)||, where z solves the flow from the recorded state at t_m,
with the trace's ODE time sum eta (per replica) as the clock.

>>> import numpy as np
>>> flow = linear_flow([[-1.0, 0.0], [0.0, -2.0]])
>>> z = integrate(flow, [1.0, 1.0], [0.0, 1.0])
>>> bool(np.allclose(z[-1], np.exp([-1.0, -2.0]), atol=1e-10))
True
"""
from __future__ import annotations

import abc

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Flow",
    "linear_flow",
    "single_timescale_flow",
    "two_timescale_flow",
    "integrate",
    "TrackingResult",
    "tracking_error",
    "MomentumRecorder",
    "momentum_error",
]

_SMOOTH_DIRECTIONS = ("identity", "smooth_sign", "clip_norm", "clip_coord")
_SWITCHING_DIRECTIONS = ("sign", "srsgd")
_DEAD_ZONE = 1e-12


class Flow(abc.ABC):
    """An autonomous vector field z' = F(z), batched over a leading axis.

    Attributes: ``name``, ``dim`` (length of z), ``x_dim`` (the first ``x_dim`` entries of z are
    x), ``smooth`` (the field is Lipschitz along paths: solve_ivp / rk4 are valid),
    ``has_momentum`` (z = (x, m)). ``field(z)`` maps (N, dim) to (N, dim); ``switching(z)`` returns
    the argument u of a coordinatewise-discontinuous selection (N, x_dim), or None.
    """

    name = "flow"
    has_momentum = False
    switching = None

    def __init__(self, dim, x_dim, smooth):
        self.dim, self.x_dim, self.smooth = int(dim), int(x_dim), bool(smooth)

    @abc.abstractmethod
    def field(self, z):  # pragma: no cover - abstract
        """Implemented by each subclass."""

    def x_part(self, z):
        return z[..., : self.x_dim]

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim}, smooth={self.smooth})"


class _Linear(Flow):
    name = "linear"

    def __init__(self, A):
        A = np.asarray(A, dtype=float)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be a square matrix; got shape {A.shape}")
        super().__init__(A.shape[0], A.shape[0], True)
        self.A = A

    def field(self, z):
        return z @ self.A.T

    def exact(self, z0, t):
        """Closed form exp(A t) z0."""
        from scipy.linalg import expm

        return expm(self.A * float(t)) @ np.asarray(z0, dtype=float)


def linear_flow(A) -> Flow:
    """z' = A z, with ``exact(z0, t) = expm(A t) z0``.

    >>> import numpy as np
    >>> linear_flow(np.eye(2)).field(np.ones((1, 2)))
    array([[1., 1.]])
    """
    return _Linear(A)


def _dead_zone(u):
    scale = np.maximum(1.0, np.max(np.abs(u), axis=-1, keepdims=True))
    return np.where(np.abs(u) <= _DEAD_ZONE * scale, 0.0, u)


def _grad_fn(problem):
    from .measures import _grad_fn as g

    return g(problem)


class _SingleTimescale(Flow):
    has_momentum = True

    def __init__(self, problem, direction, tau, alpha, smooth):
        from stochopt import directions

        self.direction = directions.get(direction)
        self.grad = _grad_fn(problem)
        self.tau, self.alpha = float(tau), float(alpha)
        if not self.tau > 0 or not self.alpha >= 0:
            raise ValueError(f"tau must be > 0 and alpha >= 0; got tau={tau}, alpha={alpha}")
        d = int(getattr(problem, "dim", 0) or np.asarray(problem.x0).shape[-1])
        if smooth is None:
            smooth = bool(getattr(problem, "smooth", False)) and self.direction.name in _SMOOTH_DIRECTIONS
        super().__init__(2 * d, d, smooth)
        self.name = f"single-timescale[{self.direction.name}, tau={self.tau:g}, alpha={self.alpha:g}]"
        if self.direction.name in _SWITCHING_DIRECTIONS:
            self.switching = lambda z: z[..., d:]

    def field(self, z):
        d = self.x_dim
        x, m = z[..., :d], z[..., d:]
        g = np.asarray(self.grad(x), dtype=float)
        s = self.direction.select(_dead_zone(m) if self.switching else m)
        return np.concatenate([-s - self.alpha * g, self.tau * (g - m)], axis=-1)


class _TwoTimescale(Flow):
    def __init__(self, problem, direction, alpha, smooth):
        from stochopt import directions

        self.direction = directions.get(direction)
        self.grad = _grad_fn(problem)
        self.alpha = float(alpha)
        if not self.alpha >= 0:
            raise ValueError(f"alpha must be >= 0; got {alpha}")
        d = int(getattr(problem, "dim", 0) or np.asarray(problem.x0).shape[-1])
        if smooth is None:
            smooth = bool(getattr(problem, "smooth", False)) and self.direction.name in _SMOOTH_DIRECTIONS
        super().__init__(d, d, smooth)
        self.name = f"two-timescale[{self.direction.name}, alpha={self.alpha:g}]"
        if self.direction.name in _SWITCHING_DIRECTIONS:
            self.switching = lambda z: np.asarray(self.grad(z), dtype=float)

    def field(self, z):
        g = np.asarray(self.grad(z), dtype=float)
        s = self.direction.select(_dead_zone(g) if self.switching else g)
        return -s - self.alpha * g


def single_timescale_flow(problem, direction="identity", tau: float = 1.0, alpha: float = 0.0,
                          smooth: bool | None = None) -> Flow:
    """x' = -s(m) - alpha grad f(x), m' = tau (grad f(x) - m); state z = (x, m) of length 2d.

    ``smooth`` defaults to ``problem.smooth`` (False when absent) and a Lipschitz direction.

    >>> import numpy as np
    >>> class Q:
    ...     dim, smooth = 1, True
    ...     def grad(self, x): return x
    >>> single_timescale_flow(Q(), "identity", tau=2.0).field(np.array([[1.0, 0.5]]))
    array([[-0.5,  1. ]])
    """
    return _SingleTimescale(problem, direction, tau, alpha, smooth)


def two_timescale_flow(problem, direction="sign", alpha: float = 0.0, smooth: bool | None = None) -> Flow:
    """x' = -s(grad f(x)) - alpha grad f(x) (the slow flow; the momentum has converged to grad f).

    >>> import numpy as np
    >>> class Q:
    ...     dim = 2
    ...     def grad(self, x): return x
    >>> two_timescale_flow(Q(), "sign").field(np.array([[3.0, -2.0]]))
    array([[-1.,  1.]])
    """
    return _TwoTimescale(problem, direction, alpha, smooth)


# ---------------------------------------------------------------------------- integrators
def _rk4(flow, z, dt):
    dt = dt[:, None]
    k1 = flow.field(z)
    k2 = flow.field(z + 0.5 * dt * k1)
    k3 = flow.field(z + 0.5 * dt * k2)
    k4 = flow.field(z + dt * k3)
    return z + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4), dt[:, 0]


def _euler_event(flow, z, dt):
    F = flow.field(z)
    z1 = z + dt[:, None] * F
    if flow.switching is None:
        return z1, dt
    u0 = _dead_zone(flow.switching(z))
    u1 = flow.switching(z1)
    cross = (u0 * u1 < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(cross, u0 / (u0 - u1), 1.0)
    f = np.clip(np.min(frac, axis=1), 0.0, 1.0)
    f = np.where(f * dt < 1e-6 * np.max(dt), 1.0, f)  # never stall on a jump of u (a kink of f)
    step = f * dt
    return z + step[:, None] * F, step


_STEPPERS = {"rk4": _rk4, "euler-event": _euler_event}


def _march(flow, z0, targets, valid, h, method):
    """Advance rows of z0 (N, n) and return states at their targets (N, J) (nondecreasing)."""
    step = _STEPPERS[method]
    N, J = targets.shape
    z = np.array(z0, dtype=float)
    t = np.zeros(N)
    ptr = np.zeros(N, dtype=np.int64)
    out = np.full((N, J, z.shape[1]), np.nan)
    rows = np.arange(N)
    last = np.where(valid, targets, -np.inf).max(axis=1)
    snap = 1e-12 * np.maximum(1.0, np.abs(last))
    active = rows[ptr < J]
    while active.size:
        # record every row that sits at its next target (several equal targets in a row)
        while True:
            live = ptr[active] < J
            active = active[live]
            if not active.size:
                break
            nxt = targets[active, ptr[active]]
            at = (nxt - t[active]) <= snap[active]
            if not at.any():
                break
            hit = active[at]
            out[hit, ptr[hit]] = z[hit]
            ptr[hit] += 1
        if not active.size:
            break
        nxt = targets[active, ptr[active]]
        dt = np.minimum(h, nxt - t[active])
        znew, taken = step(flow, z[active], dt)
        z[active] = znew
        t[active] = t[active] + taken
        t[active] = np.where(np.abs(nxt - t[active]) <= snap[active], nxt, t[active])
    return out


def _auto(flow, method, vectorised):
    if method == "auto":
        return ("rk4" if vectorised else "solve_ivp") if flow.smooth else "euler-event"
    if method not in ("solve_ivp", "rk4", "euler-event"):
        raise ValueError(f"method must be 'auto', 'solve_ivp', 'rk4' or 'euler-event'; got {method!r}")
    if method in ("solve_ivp", "rk4") and not flow.smooth:
        raise ValueError(f"{flow.name} has a discontinuous field: use method='euler-event' (or pass smooth=True "
                         "when building the flow if you know the field is Lipschitz along the path)")
    return method


def integrate(flow: Flow, z0, times, method: str = "auto", h: float | None = None) -> np.ndarray:
    """Solve z' = F(z) from z0 and return z at ``times`` (relative, sorted, >= 0).

    z0 is (dim,) -> result (J, dim), or (N, dim) -> (N, J, dim). ``method``: "auto" (solve_ivp
    for smooth flows, euler-event otherwise), "solve_ivp", "rk4" or "euler-event"; ``h`` is the
    fixed step of rk4 / euler-event (default: T / 4000).

    >>> import numpy as np
    >>> class Q:
    ...     dim = 1
    ...     def grad(self, x): return x
    >>> integrate(two_timescale_flow(Q(), "sign"), [1.0], [0.5, 2.0]).round(12)   # unit speed to 0, then rest
    array([[0.5],
           [0. ]])
    """
    z0 = np.asarray(z0, dtype=float)
    single = z0.ndim == 1
    Z0 = z0[None] if single else z0
    if Z0.shape[1] != flow.dim:
        raise ValueError(f"z0 has length {Z0.shape[1]} but the flow's state has length {flow.dim}")
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or np.any(np.diff(times) < 0) or np.any(times < 0):
        raise ValueError("times must be a sorted 1-D array of non-negative times")
    method = _auto(flow, method, vectorised=False)
    T = float(times[-1]) if times.size else 0.0
    if method == "solve_ivp":
        from scipy.integrate import solve_ivp

        N = Z0.shape[0]
        n = flow.dim

        def rhs(t, y):
            return flow.field(y.reshape(N, n)).ravel()

        if T == 0:
            out = np.repeat(Z0[:, None], times.size, axis=1)
        else:
            sol = solve_ivp(rhs, (0.0, T), Z0.ravel(), method="DOP853", t_eval=times, rtol=1e-12, atol=1e-14)
            if not sol.success:
                raise RuntimeError(f"solve_ivp failed: {sol.message}")
            out = sol.y.T.reshape(times.size, N, n).transpose(1, 0, 2)
    else:
        h = float(h) if h is not None else max(T, 1e-300) / 4000.0
        targets = np.broadcast_to(times, (Z0.shape[0], times.size))
        out = _march(flow, Z0, np.array(targets), np.ones(targets.shape, bool), h, method)
    return out[0] if single else out


# ------------------------------------------------------------------------------- tracking
@dataclass
class TrackingResult:
    """D_T per window start and replica.

    starts : (S,) record indices of the window starts.
    start_times : (S, R) ODE times t_m of the starts.
    error : (S, R) D_T(t_m); NaN where a replica diverged.
    window : T; method, h : the integrator used; flow : its name.
    """

    starts: np.ndarray
    start_times: np.ndarray
    error: np.ndarray
    window: float
    method: str
    h: float
    flow: str

    @property
    def median(self) -> np.ndarray:
        """Median over replicas of D_T per window start (S,)."""
        return np.nanmedian(self.error, axis=1)


def tracking_error(trace, flow: Flow, window: float, starts=None, momentum=None, method: str = "auto",
                   h: float | None = None, max_starts: int = 40) -> TrackingResult:
    """Windowed tracking error D_T(t_m) of a trace against a reference flow (spec 5.3).

    Parameters
    ----------
    trace : a ``stochopt.Trace`` with iterates (x: (n_rec, R, d)) and ODE times (time: (n_rec, R)).
    flow : a Flow whose x part has the trace's dimension.
    window : T > 0, in ODE time.
    starts : record indices of the window starts; default: up to ``max_starts`` evenly spaced
        records whose window ends before the last record (for every replica).
    momentum : (n_rec, R, d) recorded momentum (``MomentumRecorder``), needed by single-timescale flows.
    method : "auto" (rk4 for smooth flows, euler-event otherwise), "rk4", "euler-event" or "solve_ivp".
    h : integrator step; default min(T / 4000, smallest recorded step in ODE time / 20).

    >>> import numpy as np, stochopt
    >>> class Q:
    ...     n_samples, dim, smooth, x0 = 1, 1, True, np.ones(1)
    ...     def value(self, x): return 0.5 * np.sum(x * x, axis=-1)
    ...     def oracle(self, x, idx): return x.copy()
    ...     def grad(self, x): return x.copy()
    >>> tr = stochopt.run(stochopt.sgd(lr=0.01), Q(), steps=300, record_every=1)
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
    method = _auto(flow, method, vectorised=True)
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
        if method == "solve_ivp":
            Z = np.stack([integrate(flow, z0[n], targets[n], method="solve_ivp") for n in np.flatnonzero(good)])
        else:
            Z = _march(flow, z0[good], targets[good], valid[good], h, method)
        dist = np.sqrt(np.sum((flow.x_part(Z) - obs[good]) ** 2, axis=-1))
        err[good] = np.max(np.where(valid[good], dist, 0.0), axis=1)
    return TrackingResult(starts, time[starts], err.reshape(S, R), T, method, h, flow.name)


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
