"""Shared experiments of the GSGD claims (``verify/families/gsgd.py``), each one array program.

Every function here runs one experiment of the framework's theory (spec 1.5-1.7) on many
replicas in lock-step with ``stochopt.run`` and returns a small record of numbers; the claim
module turns those numbers into verdicts and figures. The pieces a planted-mistake test may want
to swap are keyword arguments: the ``direction`` (e.g. a select that is not a subgradient), the
``tau_H`` used in the Lyapunov function, the schedules.

Being dismantled (issue 12): the statistics moved to ``verify.stats`` and the method factories to
``verify.families.gsgd._common``; they are re-exported here until every claim has moved.

>>> import numpy as np
>>> sizes = np.array([100.0, 200.0, 400.0, 800.0])
>>> values = sizes[:, None] ** -0.5 * (1 + 0.01 * np.arange(8.0))[None, :]
>>> fit = log_slope(sizes, values)
>>> round(fit.slope, 3), fit.ci[0] <= -0.5 <= fit.ci[1]
(-0.5, True)
>>> round(binomial_upper(0, 1000), 4)
0.003
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import stochopt
from stochopt import directions as _directions
from stochopt import schedules

from .families.gsgd import _common
from .stats import SlopeFit, binomial_lower, binomial_upper, geomean_ci, log_slope, median_ci  # noqa: F401

__all__ = [
    "SlopeFit",
    "log_slope",
    "median_ci",
    "geomean_ci",
    "binomial_upper",
    "binomial_lower",
    "diminishing",
    "METHODS",
    "build_method",
    "LyapunovRun",
    "lyapunov_run",
    "goldstein_values",
    "OscillationRun",
    "oscillation_run",
    "TwoTimescaleRun",
    "two_timescale_run",
    "TrackingRun",
    "tracking_run",
    "BoundednessRun",
    "boundedness_run",
]


# ------------------------------------------------------------------------------- schedules
from .families.gsgd._common import diminishing, increasing  # noqa: E402,F401  (moved)


# --------------------------------------------------------------------------------- methods
#: Old hyphenated names of the old claims -> (``stochopt.METHODS`` name, direction, per block?).
METHODS = {
    "heavy-ball": ("heavy_ball", "identity", False),
    "signum": ("signum", "sign", False),
    "normalized": ("normalized_sgd", "normalized", True),
    "clipped": ("clipped_sgd", f"clip_norm:{_common.CLIP_THRESHOLD}", True),
    "lion": ("lion_singlescale", "sign", False),
}
LION_BETAS = _common.LION_BETAS


def build_method(method: str, lr, tau: float = None, momentum_lr=None, blocks=None, direction=None):
    """(optimizer, direction object, tau) for an instance of the framework (the old claims' interface;
    the optimizer comes from ``verify.families.gsgd._common.method_factories``).

    ``method`` is a key of ``METHODS``; single timescale theta_k = tau eta_k unless ``momentum_lr``
    is given. ``direction`` overrides the method's direction (a planted mistake).

    >>> opt, d, tau = build_method("signum", diminishing(0.1), tau=2.0)
    >>> opt.name, d.name, tau
    ('gsgd', 'sign', 2.0)
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; accepted: {', '.join(METHODS)}")
    name, dname, per_block = METHODS[method]
    use_blocks = blocks if per_block else None
    if name == "lion_singlescale" and momentum_lr is not None:
        raise ValueError("lion is run single-timescale only here")
    theta = momentum_lr if momentum_lr is not None else schedules.coupled(lr, tau, cap=1.0)
    if direction is None:
        opt = _common.method_factories((name,), blocks=use_blocks)[name](lr, theta)
        direc = _directions.get(dname)
    else:
        direc = _directions.get(direction)
        opt = stochopt.gsgd(lr=lr, momentum_lr=theta, direction=direc)
    if use_blocks is not None:
        direc = direc.per_block(use_blocks)
    return opt, direc, (None if tau is None else float(tau))


class _PhiRecorder:
    """Callback recording phi(m_k) at every record (phi(m_0) = phi(0) = 0 is prepended)."""

    def __init__(self, direction):
        self.direction, self.values = direction, []

    def __call__(self, k, state):
        self.values.append(np.asarray(self.direction.phi(state.buffers["m"]), dtype=float))

    def array(self, replicas):
        return np.stack([np.zeros(replicas)] + self.values)


# ------------------------------------------------------------------------ 1. Lyapunov
@dataclass
class LyapunovRun:
    """H_k = f(x_k) + phi(m_k) / tau_H at every step of a full-batch run.

    fraction : (R,) summed positive increments of H after burn-in / the total decrease H_0 - H_K
    (inf when H did not decrease), with H sampled every ``grid`` units of ODE time. H : (n, R) at every step.
    k : (n,). time : (n,) ODE time. grid_rows : the rows of the ODE-time grid. diverged : (R,) bool.
    """

    method: str
    problem: str
    fraction: np.ndarray
    H: np.ndarray
    k: np.ndarray
    burn_in: int
    diverged: np.ndarray
    tau: float
    tau_H: float
    schedule: object = None
    time: np.ndarray = None
    grid_rows: np.ndarray = None


def lyapunov_run(problem, method: str = "heavy-ball", *, steps: int = 600, replicas: int = 16, seed: int = 0,
                 lr0: float = 0.3, power: float = 0.75, offset: float = 10.0, tau: float = 1.0,
                 lr=None, tau_H: float | None = None, direction=None, burn_in: float = 0.2, grid: float = 1.0,
                 x0_radius: float = 1.0) -> LyapunovRun:
    """Full-batch single-timescale run recording H_k = f(x_k) + phi(m_k) / tau_H (tau_H = tau).

    ``lr`` overrides the diminishing schedule (the control passes an increasing one);
    ``tau_H`` and ``direction`` are injection points for planted mistakes.

    >>> import problems
    >>> p = problems.get("l1-regression", n=20, d=3, seed=0)
    >>> run = lyapunov_run(p, "heavy-ball", steps=100, replicas=4)
    >>> run.H.shape, bool(run.fraction.max() < 0.1)
    ((101, 4), True)
    """
    eta = lr if lr is not None else diminishing(lr0, power, offset)
    opt, direc, tau = build_method(method, eta, tau=tau, blocks=getattr(problem, "blocks", None), direction=direction)
    rec = _PhiRecorder(direc)
    trace = stochopt.run(opt, problem, steps=steps, replicas=replicas, seed=seed, record_every=1,
                         x0_radius=x0_radius, callbacks=[rec], record_x=False, progress=False)
    tau_H = tau if tau_H is None else float(tau_H)
    H = trace.value + rec.array(trace.replicas) / tau_H
    # Sample H on a grid of ODE time t_k = sum eta_i with spacing `grid`: the limit theorem is a
    # statement about the interpolated process on the flow's clock, where the discrete chatter
    # of size O(eta_k) at the kinks averages out (spec 1.5, 5.3).
    t = np.median(trace.time, axis=1)
    marks = np.arange(burn_in * t[-1], t[-1] + 1e-12, grid)
    rows = np.unique(np.minimum(np.searchsorted(t, marks), len(t) - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        increases = np.sum(np.maximum(np.diff(H[rows], axis=0), 0.0), axis=0)
        total = H[0] - H[-1]
        frac = np.where(total > 0, increases / np.where(total > 0, total, 1.0), np.inf)
    frac = np.where(trace.diverged | ~np.all(np.isfinite(H), axis=0), np.inf, frac)
    return LyapunovRun(method, getattr(problem, "name", "?"), frac, H, trace.k, int(rows[0]), trace.diverged, tau,
                       tau_H, eta, t, rows)


def goldstein_values(problem, X, eps, samples=None, seed=0, alive=None):
    """Goldstein eps-measure (``verify.measures.goldstein``) of each row of X (R, d); NaN for rows
    not ``alive`` (diverged replicas) and for rows where a sampled gradient is not finite.

    >>> import problems
    >>> p = problems.get("l1-regression", n=20, d=3, seed=0)
    >>> X = np.stack([p.x_star, p.x_star + 1.0])
    >>> v = goldstein_values(p, X, 0.05, samples=24, alive=np.array([True, False]))
    >>> bool(v[0] < 0.05), bool(np.isnan(v[1]))
    (True, True)
    """
    from .measures import goldstein

    X = np.asarray(X, dtype=float)
    out = np.full(X.shape[0], np.nan)
    ok = np.all(np.isfinite(X), axis=1) if alive is None else (np.asarray(alive, bool) & np.all(np.isfinite(X), axis=1))
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return out
    try:
        out[rows] = goldstein(problem, X[rows], eps, samples=samples, seed=seed, replica_ids=rows).value
    except ValueError:  # a non-finite sampled gradient (far-out iterate): measure the rows one by one
        for r in rows:
            try:
                out[r] = float(goldstein(problem, X[r:r + 1], eps, samples=samples, seed=seed,
                                         replica_ids=[r]).value[0])
            except ValueError:
                out[r] = np.nan
    return out


# --------------------------------------------------------------------- 2. stationarity
# ------------------------------------------------------------- 3. convergence of f(x_k)
@dataclass
class OscillationRun:
    """osc[j, r] = max - min of f(x_k) over k in [0.9 K_j, K_j], horizons K_j = K_0 2^j."""

    horizons: np.ndarray
    oscillation: np.ndarray
    value: np.ndarray
    k: np.ndarray


def oscillation_run(problem, method: str = "heavy-ball", *, base: int = 500, doublings: int = 4, replicas: int = 16,
                    seed: int = 0, lr0: float = 0.3, power: float = 0.75, offset: float = 10.0, tau: float = 1.0,
                    constant: bool = False, batch_size: int | None = 8, x0_radius: float = 0.5) -> OscillationRun:
    """One minibatch run of base 2^(doublings-1) steps; a run of horizon K is its prefix (the
    schedule is a function of k alone), so the oscillation over the last 10% of each horizon
    K_j = base 2^j is read from the same trace.

    >>> import problems
    >>> p = problems.get("l1-regression", n=20, d=3, seed=0)
    >>> r = oscillation_run(p, base=100, doublings=3, replicas=4)
    >>> r.horizons.tolist(), r.oscillation.shape
    ([100, 200, 400], (3, 4))
    """
    eta = schedules.constant(lr0) if constant else diminishing(lr0, power, offset)
    opt, _, _ = build_method(method, eta, tau=tau, blocks=getattr(problem, "blocks", None))
    steps = base * 2 ** (doublings - 1)
    every = max(1, base // 50)
    trace = stochopt.run(opt, problem, steps=steps, replicas=replicas, seed=seed, record_every=every,
                         batch_size=batch_size, x0_radius=x0_radius, record_x=False, progress=False)
    horizons = base * 2 ** np.arange(doublings)
    osc = []
    for K in horizons:
        sel = (trace.k >= 0.9 * K) & (trace.k <= K)
        v = trace.value[sel]
        osc.append(v.max(axis=0) - v.min(axis=0))
    osc = np.array(osc)
    osc[:, trace.diverged] = np.nan
    return OscillationRun(horizons, osc, trace.value, trace.k)


# --------------------------------------------------------------------- 4. two timescales
@dataclass
class TwoTimescaleRun:
    """Relative fast error ||m_k - grad f(x_k)|| / ||grad f(x_k)|| and ||grad f(x_k)|| at
    geometric checkpoints (rows) for each replica (columns); ``kinks`` counts exact zero
    pre-activations at the checkpoints (points where f may not be differentiable)."""

    k: np.ndarray
    relative_error: np.ndarray
    error: np.ndarray
    grad_norm: np.ndarray
    goldstein: np.ndarray
    ratio: np.ndarray


def two_timescale_run(problem, *, steps: int = 4000, replicas: int = 16, seed: int = 0, lr0: float = 0.05,
                      eta_power: float = 0.9, theta0: float = 0.5, theta_power: float = 0.5, offset: float = 10.0,
                      coupled_tau: float | None = None, checkpoints: int = 4, eps: float = 0.02,
                      direction="identity", batch_size: int | None = None, x0_radius: float = 0.5) -> TwoTimescaleRun:
    """Run x on the slow clock eta_k = lr0 (offset/(k+offset))^eta_power and m on the fast one
    theta_k = theta0 (offset/(k+offset))^theta_power (eta_k / theta_k -> 0 when eta_power >
    theta_power). ``coupled_tau`` replaces theta by tau eta_k (a ratio that does not vanish: the
    control).

    >>> import problems
    >>> p = problems.get("relu-mlp", hidden=(4,), n=16, d_in=2, seed=0)
    >>> r = two_timescale_run(p, steps=200, replicas=3, checkpoints=3)
    >>> r.relative_error.shape
    (3, 3)
    """
    eta = diminishing(lr0, eta_power, offset)
    theta = schedules.coupled(eta, coupled_tau, cap=1.0) if coupled_tau is not None else diminishing(
        theta0, theta_power, offset)
    opt = stochopt.gsgd(lr=eta, momentum_lr=theta, direction=direction)
    from .tracking import MomentumRecorder

    every = steps // 2 ** (checkpoints - 1)
    rec = MomentumRecorder()
    trace = stochopt.run(opt, problem, steps=steps, replicas=replicas, seed=seed, record_every=every,
                         batch_size=batch_size, x0_radius=x0_radius, callbacks=[rec], progress=False)
    rows = [2 ** j for j in range(checkpoints)]
    M = rec.array(trace)[rows]
    X = trace.x[rows]
    g = problem.grad(X)
    err = np.sqrt(np.sum((M - g) ** 2, axis=-1))
    gn = np.sqrt(np.sum(g * g, axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = err / gn
    G = np.array([goldstein_values(problem, X[j], eps, seed=seed * 7919 + j, alive=~trace.diverged)
                  for j in range(len(rows))])
    ks = trace.k[rows]
    ratio = np.array([float(np.mean(np.asarray(eta(int(k))) / np.asarray(theta(int(k))))) for k in ks])
    for a in (rel, err, gn, G):
        a[:, trace.diverged] = np.nan
    return TwoTimescaleRun(ks, rel, err, gn, G, ratio)


# ----------------------------------------------------------------------- 5. ODE tracking
@dataclass
class TrackingRun:
    """Windowed tracking error D_T against the single-timescale flow.

    constant: ``etas`` (n_eta,), ``constant_error`` (n_eta, R): D_T from t = 0 for each step.
    diminishing: ``start_times`` (S,), ``diminishing_error`` (S, R): D_T(t_m) along one run.
    """

    etas: np.ndarray
    constant_error: np.ndarray
    start_times: np.ndarray
    diminishing_error: np.ndarray
    window: float


def tracking_run(problem, *, etas=(0.04, 0.02, 0.01, 0.005), tau: float = 1.0, window: float = 1.0,
                 replicas: int = 16, seed: int = 0, batch_size: int | None = 4, direction="identity",
                 decoupled_theta: float | None = None, diminishing_steps: int = 3000, lr0: float = 0.2,
                 power: float = 0.75, offset: float = 10.0, n_starts: int = 6, x0_radius: float = 0.5) -> TrackingRun:
    """Track the iterates against x' = -s(m), m' = tau (grad f(x) - m) (``verify.tracking``).

    Constant steps: for each eta, run 1.2 window / eta steps with theta = tau eta and measure
    D_T(0). Diminishing steps: one run of ``diminishing_steps`` steps, D_T at ``n_starts`` window
    starts. ``decoupled_theta`` fixes theta_k to a constant instead of tau eta_k (the control: the
    momentum is no longer on the flow's clock).

    >>> import problems
    >>> p = problems.get("l1-regression", n=20, d=3, seed=0)
    >>> r = tracking_run(p, etas=(0.04, 0.02), replicas=3, diminishing_steps=300, n_starts=2)
    >>> r.constant_error.shape, r.diminishing_error.shape
    ((2, 3), (2, 3))
    """
    from .inclusions import single_timescale_flow
    from .tracking import MomentumRecorder, tracking_error

    flow = single_timescale_flow(problem, direction, tau=tau)
    errs = []
    for eta in etas:
        lr = schedules.constant(eta)
        theta = decoupled_theta if decoupled_theta is not None else min(1.0, tau * eta)
        opt = stochopt.gsgd(lr=lr, momentum_lr=theta, direction=direction)
        rec = MomentumRecorder()
        steps = int(np.ceil(1.05 * window / eta))
        tr = stochopt.run(opt, problem, steps=steps, replicas=replicas, seed=seed, record_every=1,
                          batch_size=batch_size, x0_radius=x0_radius, callbacks=[rec], progress=False)
        res = tracking_error(tr, flow, window, starts=[0], momentum=rec.array(tr), h=min(eta / 10, window / 2000))
        errs.append(res.error[0])
    eta_d = diminishing(lr0, power, offset)
    theta_d = schedules.constant(decoupled_theta) if decoupled_theta is not None else schedules.coupled(eta_d, tau, 1.0)
    opt = stochopt.gsgd(lr=eta_d, momentum_lr=theta_d, direction=direction)
    rec = MomentumRecorder()
    tr = stochopt.run(opt, problem, steps=diminishing_steps, replicas=replicas, seed=seed + 1, record_every=1,
                      batch_size=batch_size, x0_radius=x0_radius, callbacks=[rec], progress=False)
    M = rec.array(tr)
    t = np.median(tr.time, axis=1)
    t_last = float(np.min(tr.time[-1])) - window
    marks = np.linspace(0.0, t_last, n_starts)
    starts = np.array([int(np.searchsorted(t, s)) for s in marks])
    res = tracking_error(tr, flow, window, starts=starts, momentum=M)
    return TrackingRun(np.asarray(etas, float), np.array(errs), np.median(res.start_times, axis=1), res.error,
                       float(window))


# ------------------------------------------------------------------------ 8. boundedness
@dataclass
class BoundednessRun:
    """sup_k ||x_k|| (lr0 values by rows, seeds by columns); inf where a replica diverged."""

    lr0: np.ndarray
    sup_norm: np.ndarray
    x0_norm: float
    weight_decay: float = 0.0
    extra: dict = field(default_factory=dict)


def boundedness_run(problem, lr0_grid, *, seeds: int = 16, steps: int = 1000, seed: int = 0, power: float = 0.75,
                    offset: float = 10.0, tau: float = 1.0, weight_decay: float = 1e-2, direction="identity",
                    batch_size: int | None = 8, x0_radius: float = 0.5) -> BoundednessRun:
    """Single-timescale runs with eta_k = a (offset/(k+offset))^power for every a in ``lr0_grid``
    and ``seeds`` replicas each, in ONE array program (per-replica schedule parameters), on
    f + weight_decay ||x||^2 / 2 (coupled weight decay makes any f bounded below coercive).

    >>> import problems
    >>> p = problems.get("relu-mlp", hidden=(4,), n=16, d_in=2, seed=0)
    >>> r = boundedness_run(p, [0.01, 0.1], seeds=2, steps=50)
    >>> r.sup_norm.shape
    (2, 2)
    """
    grid = np.asarray(lr0_grid, dtype=float)
    a = np.repeat(grid, seeds)
    eta = schedules.polynomial(a * offset ** power, b=offset, p=power)
    theta = schedules.coupled(eta, tau, cap=1.0)
    opt = stochopt.gsgd(lr=eta, momentum_lr=theta, direction=direction, weight_decay=weight_decay)
    R = a.size
    running = np.zeros(R)

    def track(k, state):
        running[:] = np.maximum(running, np.sqrt(np.sum(state.x * state.x, axis=-1)))

    tr = stochopt.run(opt, problem, steps=steps, replicas=R, seed=seed, record_every=1, batch_size=batch_size,
                      x0_radius=x0_radius, callbacks=[track], record_x=False, progress=False)
    sup = np.where(tr.diverged, np.inf, running)
    return BoundednessRun(grid, sup.reshape(grid.size, seeds), float(np.linalg.norm(problem.x0)), weight_decay)
