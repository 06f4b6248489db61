"""Claims: the convergence theory of the general framework GSGD (spec 1.5-1.7).

Source: Xiao, Hu, Toh, "Convergence Guarantees for Stochastic Subgradient Methods in Nonsmooth
Nonconvex Optimization", arXiv 2307.10053 (later versions: "SGD-type Methods with Guaranteed
Global Stability in Nonsmooth Nonconvex Optimization"). The statements below are written in the
form we verify; where the paper's exact statement could not be confirmed they are marked
"reconstructed" and no theorem number is attributed.

The iteration (spec 1.2), with g_k an element of a conservative field D_f of f at x_k plus
zero-mean minibatch noise:

    m_{k+1} = m_k + theta_k (g_k - m_k),    x_{k+1} = x_k - eta_k s_{k+1},   s_{k+1} in dphi(m_{k+1})

- single timescale, theta_k = tau eta_k: the limiting dynamics x' in -dphi(m), m' in tau(D_f(x) - m)
  has the Lyapunov function H(x, m) = f(x) + phi(m)/tau (dH/dt = -<s, m> <= 0), hence m_k -> 0,
  x_k -> D_f-stationary points and f(x_k) converges;
- two timescales, eta_k / theta_k -> 0: m tracks D_f(x) and x follows x' in -dphi(D_f(x));
- random stepsizes and a random x_0 (finite sums): the iterates almost surely avoid the null set
  where the oracle differs from the gradient, so the limits are Clarke stationary.

Every claim is one experiment in lock-step over many replicas (``verify.experiments``), a
statistic with a confidence interval, a threshold, and a negative control that breaks exactly
one assumption and must fail. The experiment functions (``lyapunov_experiment``, ...) take the
pieces a planted-mistake test may swap (a direction, tau in H) as keyword arguments; the
registered claims call them with the correct pieces.

Sizes: ``SIZES[claim][mode]``; docs/claims/gsgd.md lists them with run times.
"""
from __future__ import annotations

import numpy as np

import problems as _problems
from stochopt import directions as _directions
from stochopt import schedules

from .. import experiments as E
from ..registry import Verdict, decide
from ..registry import claim as _claim

#: Claims already rewritten in the package ``verify.families.gsgd`` (transitional: this module goes
#: when the list holds every claim below).
MOVED = {"gsgd.single-timescale.stationarity", "gsgd.random-stepsizes.clarke", "gsgd.methods",
         "gsgd.schedule-conditions", "gsgd.single-timescale.lyapunov", "gsgd.ode-tracking", "gsgd.two-timescale",
         "gsgd.value-convergence", "gsgd.boundedness"}


def claim(id, **kwargs):
    """The registry's legacy decorator, skipping the claims that moved."""
    return (lambda fn: fn) if id in MOVED else _claim(id=id, **kwargs)

SOURCE = ("Xiao, Hu, Toh, arXiv 2307.10053 (GSGD framework; later title 'SGD-type Methods with Guaranteed Global "
          "Stability in Nonsmooth Nonconvex Optimization')")

_ORDER = {"pass": 0, "inconclusive": 1, "fail": 2, "error": 3}

#: Experiment sizes per claim and mode. Quick: CI (check + control <= ~10 s on one core).
SIZES = {
    "lyapunov": {"quick": dict(steps=1000, replicas=12), "full": dict(steps=8000, replicas=64)},
    "value": {"quick": dict(base=500, doublings=4, replicas=24), "full": dict(base=1000, doublings=6, replicas=128)},
    "two-timescale": {"quick": dict(steps=4000, replicas=24, checkpoints=4),
                      "full": dict(steps=64000, replicas=48, checkpoints=6)},
    "tracking": {"quick": dict(etas=(0.04, 0.02, 0.01), replicas=12, diminishing_steps=2000, n_starts=5),
                 "full": dict(etas=(0.04, 0.02, 0.01, 0.005, 0.0025), replicas=64, diminishing_steps=20000,
                              n_starts=10)},
    "boundedness": {"quick": dict(seeds=8, steps=400), "full": dict(seeds=64, steps=4000)},
}


def _size(name, mode):
    if mode not in ("quick", "full"):
        raise ValueError(f"mode must be 'quick' or 'full'; got {mode!r}")
    return dict(SIZES[name][mode])


# ------------------------------------------------------------------------------ problems
def l1_problem(seed: int = 0):
    """The l1-regression instance of the claims: N = 40 samples, d = 5, Laplace label noise.

    >>> p = l1_problem(0); (p.dim, p.n_samples)
    (5, 40)
    """
    return _problems.get("l1-regression", n=40, d=5, seed=seed)


def mlp_problem(seed: int = 0, kink_inputs: bool = False):
    """The ReLU-network instance: one hidden layer of width 4, N = 24, 3 inputs (d = 21), regression.

    >>> p = mlp_problem(0); (p.dim, len(p.blocks))
    (21, 4)
    """
    return _problems.get("relu-mlp", hidden=(4,), n=24, d_in=3, task="regression", kink_inputs=kink_inputs,
                         seed=seed)


# ------------------------------------------------------------------------------- helpers
def _combine(verdicts, statistic_of=0, details=None, figures=None) -> Verdict:
    """One verdict from several sub-verdicts: the worst status wins (fail > inconclusive > pass).

    The statistic, threshold and interval reported are those of the worst sub-verdict (ties: the
    one at ``statistic_of``); every sub-verdict is listed in ``details["parts"]``.
    """
    worst = max(range(len(verdicts)), key=lambda i: (_ORDER[verdicts[i].status], i == statistic_of))
    w = verdicts[worst]
    det = dict(details or {})
    det["parts"] = [{"name": v.details.get("name", str(i)), "status": v.status, "statistic": v.statistic,
                     "threshold": v.threshold, "ci": v.ci, "better": v.details.get("better")}
                    for i, v in enumerate(verdicts)]
    det["decided_by"] = w.details.get("name", str(worst))
    det.setdefault("better", w.details.get("better"))
    figs = list(figures or [])
    for v in verdicts:
        figs.extend(v.figures)
    return Verdict(w.status, w.statistic, w.threshold, w.ci, det, figs)


def _named(verdict, name):
    verdict.details["name"] = name
    return verdict


def _subplots(ncols=1, figsize=None):
    from ..report import subplots

    return subplots(1, ncols, figsize=figsize or (4.2 * ncols + 0.6, 3.6), squeeze=False)


def _finite(a):
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


# ===================================================================== 1. Lyapunov decrease
LYAPUNOV_METHODS = ("heavy-ball", "signum", "normalized", "clipped")
LYAPUNOV_THRESHOLD = 0.2
#: eta_k = lr0 10/(k+10); smaller on the ReLU network, where a sign step moves every one of 21 coordinates.
LYAPUNOV_LR0 = {"l1-regression": 0.5, "relu-mlp": 0.2}


def lyapunov_experiment(mode="quick", seed=0, control=False, methods=LYAPUNOV_METHODS, direction=None,
                        tau_H_factor=None, problem_set=("l1-regression", "relu-mlp"), sizes=None,
                        plot=True) -> Verdict:
    """Claim 1. For each problem and method: the fraction r = (sum of increases of H after burn-in,
    H sampled every unit of ODE time) / (H_0 - H_K), per replica; statistic = the largest (over
    problems and methods) median over replicas, with the bootstrap interval of that median.

    ``direction`` replaces every method's direction and ``tau_H_factor`` multiplies the tau used
    in H (planted mistakes); ``control=True`` runs an increasing stepsize eta_k = eta_0 (1 + k/30).

    >>> v = lyapunov_experiment("quick", 0, methods=("heavy-ball",), problem_set=("l1-regression",),
    ...                         sizes={"steps": 300, "replicas": 4}, plot=False)
    >>> v.status, v.threshold
    ('pass', 0.2)
    """
    size = dict(_size("lyapunov", mode), **(sizes or {}))
    steps = size["steps"] if not control else min(size["steps"], 300)
    probs = {"l1-regression": l1_problem(seed), "relu-mlp": mlp_problem(seed)}
    rows, runs = [], []
    tau = 1.0
    for pname in problem_set:
        p = probs[pname]
        lr0 = LYAPUNOV_LR0[pname]
        for m in methods:
            lr = E.increasing(lr0, 30.0) if control else None
            run = E.lyapunov_run(p, m, steps=steps, replicas=size["replicas"], seed=seed, lr0=lr0, power=1.0,
                                 tau=tau, lr=lr, direction=direction,
                                 tau_H=None if tau_H_factor is None else tau * tau_H_factor)
            fr = np.where(np.isfinite(run.fraction), run.fraction, 1e300)
            med, ci = E.median_ci(fr, seed=seed)
            rows.append({"problem": pname, "method": m, "median_fraction": med, "ci": ci,
                         "max_fraction": float(np.max(fr)), "diverged": int(run.diverged.sum())})
            runs.append(run)
    worst = max(range(len(rows)), key=lambda i: rows[i]["median_fraction"])
    stat, ci = rows[worst]["median_fraction"], rows[worst]["ci"]
    details = {"rows": rows, "worst": rows[worst], "steps": steps, "replicas": size["replicas"],
               "lr0": {p: LYAPUNOV_LR0[p] for p in problem_set},
               "schedule": "eta_k = lr0 10/(k + 10) (control: lr0 (1 + k/30))", "tau": tau, "grid": 1.0,
               "burn_in": "first 20% of ODE time", "batch": "full batch"}
    if not plot:
        return decide(stat, LYAPUNOV_THRESHOLD, "lower", ci=ci, details=details)
    fig, axes = _subplots(len(problem_set))
    for j, pname in enumerate(problem_set):
        ax = axes[0, j]
        mine = [run for run in runs if run.problem == pname]
        for run in mine:
            H = _finite(run.H)
            ax.plot(run.time, np.nanmedian(H, axis=1), label=run.method, lw=1)
            ax.plot(run.time[run.grid_rows], np.nanmedian(H[run.grid_rows], axis=1), ".", ms=3,
                    color=ax.lines[-1].get_color())
        ax.axvline(mine[0].time[mine[0].grid_rows[0]], color="grey", ls=":", lw=1)
        ax.set(yscale="log", title=f"Lyapunov function H_k ({pname})", xlabel="ODE time t_k = sum eta_i",
               ylabel="median H_k = f(x_k) + phi(m_k)/tau")
        ax.legend(fontsize=7)
    caption = ("Median over replicas of H_k = f(x_k) + phi(m_k)/tau against ODE time (dots: the ODE-time grid on "
               "which increases are counted; dotted line: end of burn-in). Passing: curves go down; the increases "
               f"after burn-in are at most {LYAPUNOV_THRESHOLD:.0%} of the total decrease.")
    return decide(stat, LYAPUNOV_THRESHOLD, "lower", ci=ci, details=details, figures=[(fig, caption)])


@claim(
    id="gsgd.single-timescale.lyapunov",
    statement=("Single timescale (theta_k = tau eta_k), full batch, diminishing steps: H_k = f(x_k) + phi(m_k)/tau "
               "decreases up to vanishing noise. On the flow's clock (H sampled every unit of ODE time) the sum of "
               "the increases of H after burn-in is a small fraction (<= 0.2) of the total decrease, for the "
               "heavy-ball, sign, normalized and clipped directions on l1 regression and a ReLU network."),
    source=SOURCE + ", Lyapunov function of the single-timescale limiting dynamics (spec 1.5; reconstructed)",
    assumptions=["f locally Lipschitz, path-differentiable (l1 regression, ReLU network)",
                 "phi convex with unique minimum at 0; s_k in dphi(m_k)", "theta_k = tau eta_k, tau = 1",
                 "eta_k = a 10/(k+10), a = 0.5 (l1), 0.2 (ReLU net): eta_k -> 0, sum eta_k = inf, "
                 "sum eta_k^2 < inf", "full-batch oracle"],
    control="An increasing stepsize eta_k = a (1 + k/30) (eta_k does not vanish): H grows, the fraction is infinite.",
    caption=("Median H_k = f(x_k) + phi(m_k)/tau against ODE time, one curve per direction, one panel per problem; "
             "passing: decreasing curves whose increases after burn-in are at most 20% of the total decrease."),
)
def single_timescale_lyapunov(mode, seed, control=False):
    return lyapunov_experiment(mode, seed, control)


# ================================================================= 2. stationarity
STATIONARITY_THRESHOLD = -0.1  # fitted log-log slope must be below this (a decrease at least like k^-0.1)
#: Per problem: eta_k = lr0 (10/(k+10))^power, theta_k = eta_k; Goldstein radius eps with 40 sampled
#: gradients; values below ``resolution`` count as ``resolution`` (the sampled measure's floor).
def _slope_verdict(fit, name, threshold=STATIONARITY_THRESHOLD, better="lower"):
    return _named(decide(fit.slope, threshold, better, ci=fit.ci,
                         details={"sizes": fit.sizes, "center": fit.center}), name)


# ================================================================= 3. convergence of f
def value_experiment(mode="quick", seed=0, control=False, sizes=None) -> Verdict:
    """Claim 3. Oscillation of f(x_k) over the last 10% of horizons K, 2K, 4K, ...: slope of
    log(mean oscillation) against log K below -0.1. Control: constant stepsize.

    >>> v = value_experiment("quick", 0, sizes={"base": 250, "doublings": 3, "replicas": 16})
    >>> v.status, v.details["horizons"].tolist()
    ('pass', [250, 500, 1000])
    """
    size = dict(_size("value", mode), **(sizes or {}))
    p = l1_problem(seed)
    run = E.oscillation_run(p, "heavy-ball", base=size["base"], doublings=size["doublings"],
                            replicas=size["replicas"], seed=seed, lr0=0.3, power=0.75, constant=control, batch_size=8)
    fit = E.log_slope(run.horizons, run.oscillation, seed=seed)
    fig, axes = _subplots(2)
    ax = axes[0, 0]
    ax.semilogy(run.k, np.nanmedian(run.value, axis=1) - p.f_star, lw=1)
    for K in run.horizons:
        ax.axvspan(0.9 * K, K, color="orange", alpha=0.3)
    ax.set(title="f(x_k) - f* (l1 regression)", xlabel="k (steps)", ylabel="median over replicas")
    ax = axes[0, 1]
    ax.loglog(run.horizons, fit.center, "o-", label=f"slope {fit.slope:.2f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]")
    ax.set(title="oscillation over the last 10%", xlabel="horizon K (steps)", ylabel="mean max - min of f")
    ax.legend(fontsize=7)
    caption = ("Left: f(x_k) - f* with the last-10% windows shaded. Right: mean oscillation (max - min of f over "
               "[0.9K, K]) against K. Passing: slope below -0.1 (the oscillation shrinks as the horizon doubles).")
    details = {"horizons": run.horizons, "mean_oscillation": fit.center, **size, "batch_size": 8,
               "schedule": "eta_k = 0.3 (10/(k+10))^0.75" if not control else "eta = 0.3 constant"}
    return decide(fit.slope, STATIONARITY_THRESHOLD, "lower", ci=fit.ci, details=details, figures=[(fig, caption)])


@claim(
    id="gsgd.value-convergence",
    statement=("f(x_k) converges: the oscillation max - min of f(x_k) over the last 10% of the horizon shrinks as "
               "the horizon doubles (log-log slope against K below -0.1, 95% bootstrap interval), heavy ball with "
               "minibatch noise on l1 regression."),
    source=SOURCE + ", convergence of f(x_k) (spec 1.5; reconstructed)",
    assumptions=["f locally Lipschitz, path-differentiable", "minibatch oracle (batch 8)", "theta_k = eta_k",
                 "eta_k = 0.3 (10/(k+10))^0.75"],
    control="Constant stepsize eta = 0.3: f(x_k) keeps oscillating at a level set by the step (slope near 0).",
    caption="Oscillation of f over the last 10% against the horizon; passing: a decreasing line.",
)
def value_convergence(mode, seed, control=False):
    return value_experiment(mode, seed, control)


# ================================================================= 4. two timescales
FAST_ERROR_THRESHOLD = 0.05  # final relative error of the momentum as a gradient estimate


def two_timescale_experiment(mode="quick", seed=0, control=False, sizes=None, coupled_tau=0.2) -> Verdict:
    """Claim 4. ReLU network, full batch, identity direction, eta_k = 0.15 (10/(k+10))^0.9 and
    theta_k = 0.5 (10/(k+10))^0.3. Statistics (geometric means over replicas, robust to the rare
    iterate next to a kink where the gradient jumps): the relative fast error
    ||m_k - grad f(x_k)|| / ||grad f(x_k)|| at the last checkpoint (<= 0.05) and its log-log slope
    against k (< 0); the Goldstein measure's slope (mean over replicas, < -0.1). Control:
    theta_k = 0.2 eta_k (eta/theta = 5 does not vanish): the momentum lags, the error stays O(1)."""
    size = dict(_size("two-timescale", mode), **(sizes or {}))
    p = mlp_problem(seed)
    run = E.two_timescale_run(p, steps=size["steps"], replicas=size["replicas"], seed=seed, lr0=0.15, eta_power=0.9,
                              theta0=0.5, theta_power=0.3, coupled_tau=coupled_tau if control else None,
                              checkpoints=size["checkpoints"], eps=0.02, batch_size=None)
    level, level_ci = E.geomean_ci(run.relative_error[-1], seed=seed)
    fit_rel = E.log_slope(run.k, run.relative_error, seed=seed, center="geomean")
    fit_g = E.log_slope(run.k, run.goldstein, seed=seed)
    parts = [_named(decide(level, FAST_ERROR_THRESHOLD, "lower", ci=level_ci), "final relative fast error"),
             _slope_verdict(fit_rel, "relative fast error slope", 0.0),
             _slope_verdict(fit_g, "goldstein slope")]
    fig, axes = _subplots(2)
    axes[0, 0].loglog(run.k, fit_rel.center, "o-", label="||m - grad f|| / ||grad f|| (geometric mean)")
    axes[0, 0].loglog(run.k, run.ratio, "k--", label="eta_k / theta_k")
    axes[0, 0].axhline(FAST_ERROR_THRESHOLD, color="C3", ls=":", label="threshold at the end")
    axes[0, 0].set(title="fast variable (two timescales)", xlabel="k (steps)", ylabel="relative error")
    axes[0, 0].legend(fontsize=7)
    axes[0, 1].loglog(run.k, fit_g.center, "o-")
    axes[0, 1].set(title="Goldstein measure (eps = 0.02)", xlabel="k (steps)", ylabel="mean over replicas")
    caption = ("Left: relative error of the momentum as an estimate of grad f(x_k), with the stepsize ratio "
               "eta_k/theta_k (dashed). Right: Goldstein measure. Passing: the error decreases to below 0.05 and "
               "the Goldstein measure decreases (slope below -0.1); the control's error stays near 1.")
    details = {"ratio": run.ratio, "k": run.k, **size,
               "schedule": ("eta_k = 0.15 (10/(k+10))^0.9, theta_k = 0.5 (10/(k+10))^0.3" if not control
                            else f"eta_k = 0.15 (10/(k+10))^0.9, theta_k = {coupled_tau} eta_k"),
               "relative_error_geomean": fit_rel.center, "goldstein_mean": fit_g.center}
    return _combine(parts, details=details, figures=[(fig, caption)])


@claim(
    id="gsgd.two-timescale",
    statement=("Two timescales (eta_k / theta_k -> 0), ReLU network, full batch: the momentum tracks the gradient, "
               "||m_k - grad f(x_k)|| / ||grad f(x_k)|| -> 0 at the (differentiable) iterates (decreasing, below "
               "0.05 at the end), and the Goldstein measure of x_k decreases (log-log slope below -0.1)."),
    source=SOURCE + ", two-timescale limiting dynamics (spec 1.5; reconstructed)",
    assumptions=["f locally Lipschitz, differentiable at the iterates (no pre-activation exactly 0)",
                 "eta_k = 0.15 (10/(k+10))^0.9, theta_k = 0.5 (10/(k+10))^0.3: eta_k/theta_k -> 0",
                 "sum eta_k = inf", "full-batch oracle (E g_k = grad f(x_k))"],
    control=("theta_k = 0.2 eta_k: the ratio eta/theta = 5 does not vanish, the momentum lags, the relative error "
             "stays ~1."),
    caption="Relative momentum error and Goldstein measure against k; passing: both decrease.",
)
def two_timescale(mode, seed, control=False):
    return two_timescale_experiment(mode, seed, control)


# ================================================================= 5. ODE tracking
TRACKING_ETA_THRESHOLD = 0.25  # D_T must shrink at least like eta^0.25 for constant steps


def tracking_experiment(mode="quick", seed=0, control=False, sizes=None) -> Verdict:
    """Claim 5. Heavy ball (identity direction, tau = 1) on l1 regression with minibatch noise.
    Constant steps: slope of log median-ish (mean) D_T(0), T = 1, against log eta must be above
    0.25. Diminishing steps: slope of log mean D_T(t_m) against log(t_m + T) must be below -0.1.
    Control: theta_k = 0.5 fixed instead of tau eta_k (the momentum is off the flow's clock)."""
    size = dict(_size("tracking", mode), **(sizes or {}))
    p = l1_problem(seed)
    run = E.tracking_run(p, etas=size["etas"], tau=1.0, window=1.0, replicas=size["replicas"], seed=seed,
                         batch_size=4, decoupled_theta=0.5 if control else None,
                         diminishing_steps=size["diminishing_steps"], lr0=0.2, power=0.75,
                         n_starts=size["n_starts"])
    fit_eta = E.log_slope(run.etas, run.constant_error, seed=seed)
    later = run.start_times + run.window
    fit_t = E.log_slope(later, run.diminishing_error, seed=seed)
    parts = [_slope_verdict(fit_eta, "D_T slope in eta (constant steps)", TRACKING_ETA_THRESHOLD, "higher"),
             _slope_verdict(fit_t, "D_T slope in t (diminishing steps)")]
    fig, axes = _subplots(2)
    axes[0, 0].loglog(run.etas, fit_eta.center, "o-", label=f"slope {fit_eta.slope:.2f}")
    axes[0, 0].set(title="constant steps: D_T(0), T = 1", xlabel="eta", ylabel="mean tracking error")
    axes[0, 0].legend(fontsize=7)
    axes[0, 1].loglog(later, fit_t.center, "o-", label=f"slope {fit_t.slope:.2f}")
    axes[0, 1].set(title="diminishing steps: D_T(t_m)", xlabel="t_m + T (ODE time)", ylabel="mean tracking error")
    axes[0, 1].legend(fontsize=7)
    caption = ("Distance between the interpolated iterates and the solution of x' = -m, m' = grad f(x) - m from the "
               "same state over a window T = 1 of ODE time. Passing: the error shrinks with eta (slope above 0.25) "
               "and along the diminishing-step run (slope below -0.1).")
    details = {**size, "window": 1.0, "tau": 1.0, "batch_size": 4, "integrator": "euler-event (verify.tracking)",
               "note": "a single reference solution of an inclusion bounds the distance to the solution set above",
               "constant_error_mean": fit_eta.center, "diminishing_error_mean": fit_t.center,
               "start_times": run.start_times}
    return _combine(parts, details=details, figures=[(fig, caption)])


@claim(
    id="gsgd.ode-tracking",
    statement=("The interpolated iterates track the single-timescale limiting dynamics x' = -s(m), m' = tau(grad f(x) "
               "- m): the windowed error D_T shrinks as the constant step shrinks (fitted slope in eta above 0.25) "
               "and as t grows along a diminishing schedule (slope below -0.1)."),
    source=SOURCE + ", asymptotic pseudo-trajectories of the limiting differential inclusion (spec 1.5, 5.3)",
    assumptions=["f locally Lipschitz (l1 regression)", "minibatch oracle (batch 4)",
                 "theta_k = tau eta_k with tau = 1", "diminishing: eta_k = 0.2 (10/(k+10))^0.75"],
    control="theta_k = 0.5 fixed (not tau eta_k): the momentum runs on another clock and D_T does not shrink.",
    caption=("Tracking error D_T against the step (constant steps) and against time (diminishing steps); "
             "passing: both lines go down (slope in eta above 0.25, in t below -0.1)."),
)
def ode_tracking(mode, seed, control=False):
    return tracking_experiment(mode, seed, control)


# ================================================================= 8. boundedness
BOUNDED_GROWTH = 5.0  # sup_k ||x_k|| may grow to at most 5 times the largest ||x_0||
BOUNDEDNESS_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
SMALL_STEP, LARGE_STEP = 0.03, 10.0


def boundedness_experiment(mode="quick", seed=0, control=False, sizes=None) -> Verdict:
    """Claim 8. Heavy ball on the ReLU network plus (lambda/2)||x||^2, lambda = 0.01 (coercive), with
    eta_k = a (10/(k+10))^0.75 for a on a grid, all in one array program. Statistic: the growth
    max_seeds sup_k ||x_k|| / max ||x_0|| at a = 0.03 (<= 5); reported: the largest a of the grid
    for which every seed stays within that growth. Control: a = 10 (diverges)."""
    size = dict(_size("boundedness", mode), **(sizes or {}))
    p = mlp_problem(seed)
    run = E.boundedness_run(p, BOUNDEDNESS_GRID, seeds=size["seeds"], steps=size["steps"], seed=seed,
                            weight_decay=1e-2, batch_size=8, x0_radius=0.5)
    x0_max = run.x0_norm + 0.5 * np.sqrt(p.dim)
    growth = run.sup_norm / x0_max
    ok = np.all(growth <= BOUNDED_GROWTH, axis=1)
    largest = float(run.lr0[ok].max()) if ok.any() else None
    if ok.all():
        largest_ok = float(run.lr0[-1])
    else:
        first_bad = int(np.argmin(ok))
        largest_ok = float(run.lr0[first_bad - 1]) if first_bad > 0 else None
    a = LARGE_STEP if control else SMALL_STEP
    row = int(np.argmin(np.abs(run.lr0 - a)))
    stat = float(np.max(growth[row]))
    fig, axes = _subplots(1)
    ax = axes[0, 0]
    shown = np.where(np.isfinite(growth), growth, np.nan)
    for j in range(growth.shape[1]):
        ax.loglog(run.lr0, shown[:, j], ".", color="C0", alpha=0.5)
    top = np.array([np.max(row[np.isfinite(row)]) if np.isfinite(row).any() else np.nan for row in shown])
    ax.loglog(run.lr0, top, "k-", label="max over seeds (finite)")
    dead = ~np.all(np.isfinite(growth), axis=1)
    for x in run.lr0[dead]:
        ax.axvline(x, color="C3", ls=":", lw=1)
    ax.axhline(BOUNDED_GROWTH, color="C3", ls="--", label=f"growth bound {BOUNDED_GROWTH:g}")
    ax.set(title="sup_k ||x_k|| / max ||x_0|| (red dotted: diverged)", xlabel="initial step a (eta_0)",
           ylabel="growth factor")
    ax.legend(fontsize=7)
    caption = ("Largest norm reached by each seed against the initial step. Passing: at small initial steps every seed "
               "stays below the bound; the largest such step is reported; the control's a = 10 diverges.")
    details = {"grid": run.lr0, "max_growth": np.nanmax(np.where(np.isfinite(growth), growth, np.inf), axis=1),
               "largest_bounded_initial_step": largest_ok, "largest_bounded_any": largest, "a_tested": a,
               "weight_decay": 0.01, "x0_max_norm": x0_max, **size,
               "diverged_per_step": (~np.isfinite(growth)).sum(axis=1)}
    return decide(stat if np.isfinite(stat) else 1e300, BOUNDED_GROWTH, "lower", details=details,
                  figures=[(fig, caption)])


@claim(
    id="gsgd.boundedness",
    statement=("For a coercive f and small initial steps the iterates stay bounded: sup_k ||x_k|| <= 5 max ||x_0|| "
               "for every seed at eta_0 = 0.03; the largest initial step of the grid for which this holds is "
               "reported."),
    source=SOURCE + ", global stability (boundedness) of the iterates (later versions' title; reconstructed)",
    assumptions=["f = ReLU-network loss + 0.005 ||x||^2 (coercive)", "theta_k = eta_k",
                 "eta_k = a (10/(k+10))^0.75, small a", "minibatch oracle (batch 8)"],
    control="A large initial step a = 10: the iterates blow up (diverge to inf) before the steps become small.",
    caption="Growth of sup ||x_k|| against the initial step; passing: bounded at small steps.",
)
def boundedness(mode, seed, control=False):
    return boundedness_experiment(mode, seed, control)


# ================================================================= 9. methods as instances
class NotDescent(_directions.Sign):
    """A planted mistake: phi(m) = ||m||_1 but select(m) = -sign(m), which is NOT in dphi(m)
    (<select(m), m> = -||m||_1 < 0: the update climbs instead of descending).

    >>> NotDescent().select(np.array([2.0, -1.0, 0.0]))
    array([-1.,  1., -0.])
    """

    name = "not_descent"

    def select(self, m):
        return -np.sign(m)
