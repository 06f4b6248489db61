"""Claims: the stepsize conditions of the schedules stochopt ships (spec 1.2, 1.7 item 7, 5.5).

The convergence theorems of the framework (reconstructed, spec 1.2) ask of the stepsizes

    eta_k, theta_k > 0,  eta_k -> 0,  sum eta_k = infinity,
    and a noise-averaging condition: sum eta_k^2 < infinity, or eta_k log k -> 0 (bounded noise);
    single timescale: theta_k = tau eta_k;  two timescales: eta_k / theta_k -> 0.

Each claim below states which shipped schedule satisfies which condition, proves it with sympy
from the schedule's formula (``verify.symbolic``), and has a negative control: a schedule that
violates the condition in question, which the same proof must refuse. Schedules that are not
meant to satisfy the diminishing conditions (constant, cosine, step decay) are claimed to fail
them, honestly: the theorems do not cover them, and the control shows that the classification
can tell them apart from a schedule that does satisfy the conditions.

A requirement counts as met only when sympy *proves* the expected answer; when sympy cannot
decide ("unproved"), the verdict is inconclusive, never pass.
"""
from __future__ import annotations

import numpy as np

from stochopt import schedules as S

from .. import symbolic
from ..registry import Verdict, claim

SOURCE = "Xiao, Hu, Toh (arXiv 2307.10053), stepsize conditions of the convergence theorems (reconstructed; spec 1.2)"
TWO_TIMESCALE = "eta_k / theta_k -> 0 (two timescales)"

_LABELS = {
    "divergent_sum": "sum eta_k = inf",
    "summable_squares": "sum eta_k^2 < inf",
    "vanishing": "eta_k -> 0",
    "log_vanishing": "eta_k log k -> 0",
    "ratio_vanishing": "eta_k / theta_k -> 0",
    "ratio_limit": "theta_k / eta_k -> tau",
}


def _status(kind, args):
    if kind in symbolic.CONDITIONS:
        r = symbolic.CONDITIONS[kind](args[0])
        return r.status, r.reason, r.expression
    if kind == "ratio_vanishing":
        r = symbolic.ratio_vanishing(args[0], args[1])
        return r.status, r.reason, r.expression
    if kind == "ratio_limit":
        num, den, tau = args
        lim = symbolic.ratio_limit(num, den)
        if lim is None:
            return symbolic.UNPROVED, "sympy could not find the limit", ""
        ok = lim.is_number and lim.is_finite and abs(float(lim) - float(tau)) <= 1e-12 * max(1.0, abs(tau))
        return (symbolic.PROVED if ok else symbolic.DISPROVED), f"limit = {lim}", f"theta/eta -> {lim}"
    raise ValueError(kind)  # pragma: no cover


def _evaluate(requirements, figures=()):
    """requirements: list of (label, kind, args, expected status). Build the Verdict."""
    rows, unmet, mismatched, undecided = [], 0, 0, 0
    for label, kind, args, expected in requirements:
        status, reason, expr = _status(kind, args)
        met = status == expected
        unmet += not met
        mismatched += (not met) and status != symbolic.UNPROVED
        undecided += status == symbolic.UNPROVED
        rows.append({"schedule": label, "condition": _LABELS[kind], "expected": expected, "sympy": status,
                     "met": met, "reason": reason, "expression": expr})
    if unmet == 0:
        status = "pass"
    elif mismatched:
        status = "fail"
    else:
        status = "inconclusive"
    return Verdict(status, statistic=unmet, threshold=0, details={"better": "lower", "requirements": rows},
                   figures=list(figures))


def _values(schedule, K, replicas=None):
    if getattr(schedule, "random", False):
        ids = np.arange(replicas or 1)
        return np.stack([np.asarray(schedule(k, ids), float) for k in range(K)])
    return np.array([float(schedule(k)) for k in range(K)])


def _figure(title, named, K, ratio=None):
    """eta_k (left) and the partial sums of eta_k and eta_k^2 (right), log axes."""
    from ..report import subplots

    fig, (ax1, ax2) = subplots(1, 2, figsize=(9.5, 3.6))
    k = np.arange(1, K + 1)
    for label, sched in named:
        v = _values(sched, K, replicas=3)
        v = v if v.ndim == 1 else v[:, 0]
        line, = ax1.loglog(k, v, label=label)
        ax2.loglog(k, np.cumsum(v), color=line.get_color(), label=f"sum eta ({label})")
        ax2.loglog(k, np.cumsum(v * v), color=line.get_color(), ls="--", label=f"sum eta^2 ({label})")
    if ratio is not None:
        lab, num, den = ratio
        ax1.loglog(k, _values(num, K) / _values(den, K), color="k", ls=":", label=lab)
    ax1.set(title=f"{title}: stepsizes", xlabel="step k (count)", ylabel="eta_k (dimensionless)")
    ax2.set(title="partial sums", xlabel="step k (count)", ylabel="partial sum up to k (ODE time / its square)")
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=6)
    return fig


def _K(mode):
    return 5_000 if mode == "quick" else 1_000_000


# ------------------------------------------------------------------------------ polynomial
@claim(
    id="schedules.polynomial.conditions",
    statement="eta_k = a / (k + b)^p with 1/2 < p <= 1 satisfies every diminishing-step condition: "
              "sum eta_k = inf, sum eta_k^2 < inf, eta_k -> 0 and eta_k log k -> 0.",
    source=SOURCE,
    assumptions=["a > 0, b > 0", "1/2 < p <= 1"],
    control="p = 1/2 breaks summable squares (sum 1/(k+1) diverges): the proof must refuse it.",
    caption="Passing: sympy proves all four conditions; in the figure the partial sums of eta_k keep growing "
            "while those of eta_k^2 level off.",
)
def polynomial_conditions(mode, seed, control=False):
    ps = [0.5] if control else ([0.6, 0.75, 1.0] if mode == "quick" else [0.51, 0.55, 0.6, 2 / 3, 0.75, 0.9, 1.0])
    abs_ = [(0.5, 1.0)] if mode == "quick" else [(0.5, 1.0), (0.1, 10.0), (2.0, 100.0)]
    reqs, named = [], []
    for p in ps:
        for a, b in abs_:
            sched = S.polynomial(a, b, p)
            label = f"{a}/(k+{b})^{p:.3g}"
            named.append((label, sched))
            for cond in ("divergent_sum", "summable_squares", "vanishing", "log_vanishing"):
                reqs.append((label, cond, (sched,), symbolic.PROVED))
    figs = [] if control else [_figure("polynomial a/(k+b)^p", named[:4], _K(mode) // (1 if mode == "quick" else 10))]
    return _evaluate(reqs, figs)


@claim(
    id="schedules.polynomial.log-condition",
    statement="eta_k = a / (k + b)^p with 0 < p <= 1/2 does not have summable squares but satisfies the "
              "bounded-noise alternative eta_k log k -> 0, with sum eta_k = inf and eta_k -> 0.",
    source=SOURCE,
    assumptions=["a > 0, b > 0", "0 < p <= 1/2", "bounded noise (for the alternative condition to apply)"],
    control="A constant stepsize breaks eta_k log k -> 0 (and eta_k -> 0): the proof must refuse it.",
    caption="Passing: eta_k log k decays for p <= 1/2 although sum eta_k^2 grows without bound (dashed curves).",
)
def polynomial_log_condition(mode, seed, control=False):
    scheds = [("constant 0.1", S.constant(0.1))] if control else [
        (f"0.5/(k+1)^{p}", S.polynomial(0.5, 1.0, p)) for p in ((0.25, 0.5) if mode == "quick" else (0.1, 0.25, 0.4, 0.5))]
    reqs = []
    for label, sched in scheds:
        reqs += [(label, "divergent_sum", (sched,), symbolic.PROVED),
                 (label, "vanishing", (sched,), symbolic.PROVED),
                 (label, "log_vanishing", (sched,), symbolic.PROVED)]
        if not control:
            reqs.append((label, "summable_squares", (sched,), symbolic.DISPROVED))
    figs = [] if control else [_figure("polynomial, p <= 1/2", scheds, _K(mode))]
    return _evaluate(reqs, figs)


# ---------------------------------------------------------------------------------- warmup
@claim(
    id="schedules.warmup.conditions",
    statement="A linear warm-up changes finitely many steps, so warmup(a/(k+b)^p, W) with 1/2 < p <= 1 keeps "
              "all four diminishing-step conditions.",
    source=SOURCE,
    assumptions=["the wrapped schedule satisfies the conditions", "finite warm-up length W"],
    control="Warm-up of a constant stepsize: eta_k -> 0 fails after the warm-up, and the proof must refuse it.",
    caption="Passing: after the warm-up the curve is the wrapped polynomial schedule; its partial sums of "
            "eta_k^2 level off.",
)
def warmup_conditions(mode, seed, control=False):
    inner = S.constant(0.05) if control else S.polynomial(0.5, 1.0, 0.75)
    sched = S.warmup(inner, 100)
    label = f"warmup({'constant' if control else 'polynomial p=0.75'}, 100)"
    conds = ("divergent_sum", "summable_squares", "vanishing", "log_vanishing")
    reqs = [(label, c, (sched,), symbolic.PROVED) for c in conds]
    figs = [] if control else [_figure("warm-up", [(label, sched)], _K(mode))]
    return _evaluate(reqs, figs)


# ------------------------------------------------------------------------------ randomized
@claim(
    id="schedules.randomized.envelope",
    statement="Random stepsizes eta_k = eta_bar_k zeta_k, zeta_k uniform on [low, high] with 0 < low, satisfy "
              "the diminishing-step conditions whenever the envelope eta_bar_k does, because "
              "low eta_bar_k <= eta_k <= high eta_bar_k; the realised values respect these bounds.",
    source="Xiao, Hu, Toh (arXiv 2307.10053), finite-sum theorem with random stepsizes (reconstructed; spec 1.2)",
    assumptions=["zeta_k i.i.d. with a density on [low, high], 0 < low < high",
                 "envelope a/(k+b)^p with 1/2 < p <= 1"],
    control="An envelope with p = 1/2 (squares not summable): the transferred condition must be refused.",
    caption="Passing: every realised eta_k lies between low and high times the envelope; the envelope's "
            "partial sums of eta^2 level off.",
)
def randomized_envelope(mode, seed, control=False):
    env = S.polynomial(0.5, 1.0, 0.5 if control else 0.75)
    sched = S.randomized(env, low=0.5, high=1.5, seed=seed)
    label = f"randomized(0.5/(k+1)^{env.p:g}, [0.5, 1.5])"
    conds = ("divergent_sum", "summable_squares", "vanishing", "log_vanishing")
    reqs = [(label, c, (sched,), symbolic.PROVED) for c in conds]
    K, R = (2_000, 16) if mode == "quick" else (100_000, 64)
    ids = np.arange(R)
    vals = np.stack([np.asarray(sched(k, ids), float) for k in range(K)])
    envv = np.array([env(k) for k in range(K)])[:, None]
    ratio = vals / envv
    outside = int(np.sum((ratio < 0.5 * (1 - 1e-12)) | (ratio > 1.5 * (1 + 1e-12))))
    figs = []
    if not control:
        fig = _figure("random stepsizes", [(label, sched), ("envelope", env)], _K(mode))
        figs.append(fig)
    verdict = _evaluate(reqs, figs)
    verdict.details["realised"] = {"steps": K, "replicas": R, "outside_bounds": outside,
                                   "ratio_min": float(ratio.min()), "ratio_max": float(ratio.max())}
    if outside:
        verdict.status = "fail"
        verdict.statistic = int(verdict.statistic) + 1
    return verdict


# ------------------------------------------------------------------------- timescales
@claim(
    id="schedules.coupled.single-timescale",
    statement="theta_k = coupled(eta, tau) = min(cap, tau eta_k) is a single-timescale pair: theta_k / eta_k -> tau "
              "(a positive constant, the cap is inactive for large k), and theta_k inherits sum theta_k = inf and "
              "theta_k -> 0 from eta_k = a/(k+b)^p.",
    source=SOURCE,
    assumptions=["tau > 0", "eta_k = a/(k+b)^p with 1/2 < p <= 1"],
    control="A two-timescale partner theta_k = a/(k+b)^0.6 with eta_k = a/(k+b)^1: theta_k / eta_k -> inf, not tau; "
            "the single-timescale test must refuse it.",
    caption="Passing: theta_k / eta_k (dotted) is flat at tau after the cap stops binding.",
)
def coupled_single_timescale(mode, seed, control=False):
    tau = 2.0
    eta = S.polynomial(0.5, 1.0, 1.0 if control else 0.75)
    theta = S.polynomial(0.5, 1.0, 0.6) if control else S.coupled(eta, tau, cap=0.5)
    label = "theta = 0.5/(k+1)^0.6" if control else f"theta = min(0.5, {tau} eta)"
    reqs = [(label, "ratio_limit", (theta, eta, tau), symbolic.PROVED),
            (label, "divergent_sum", (theta,), symbolic.PROVED),
            (label, "vanishing", (theta,), symbolic.PROVED)]
    figs = [] if control else [_figure("single timescale", [("eta", eta), (label, theta)], _K(mode),
                                       ratio=("theta/eta", theta, eta))]
    return _evaluate(reqs, figs)


@claim(
    id="schedules.two-timescale.ratio",
    statement="eta_k = a/(k+b) and theta_k = c/(k+b)^0.6 form a two-timescale pair: eta_k / theta_k -> 0, "
              "both sums diverge, both tend to 0, and sum eta_k^2 < inf.",
    source=SOURCE,
    assumptions=[TWO_TIMESCALE, "sum eta_k = sum theta_k = inf", "eta_k, theta_k -> 0"],
    control="The single-timescale coupling theta_k = 2 eta_k: eta_k / theta_k -> 1/2, not 0; the two-timescale "
            "test must refuse it.",
    caption="Passing: eta_k / theta_k (dotted) decays like k^-0.4.",
)
def two_timescale_ratio(mode, seed, control=False):
    eta = S.polynomial(0.5, 1.0, 1.0)
    theta = S.coupled(eta, 2.0) if control else S.polynomial(0.5, 1.0, 0.6)
    label = "theta = 2 eta" if control else "theta = 0.5/(k+1)^0.6"
    reqs = [("eta/theta", "ratio_vanishing", (eta, theta), symbolic.PROVED),
            ("eta", "divergent_sum", (eta,), symbolic.PROVED),
            ("eta", "summable_squares", (eta,), symbolic.PROVED),
            (label, "divergent_sum", (theta,), symbolic.PROVED),
            (label, "vanishing", (theta,), symbolic.PROVED)]
    figs = [] if control else [_figure("two timescales", [("eta", eta), (label, theta)], _K(mode),
                                       ratio=("eta/theta", eta, theta))]
    return _evaluate(reqs, figs)


# ------------------------------------------------------- schedules outside the theorems
@claim(
    id="schedules.constant.not-diminishing",
    statement="A constant stepsize has sum eta_k = inf but eta_k does not tend to 0 (nor eta_k log k): it is "
              "outside the diminishing-step theorems and falls under the constant-step results (tracking error "
              "and stationarity that shrink with eta).",
    source=SOURCE,
    assumptions=["eta_k = eta > 0 for all k"],
    control="A diminishing schedule a/(k+b)^0.75 classified by the same test: eta_k -> 0 is proved, so the "
            "'not diminishing' classification must fail.",
    caption="Passing: eta_k is flat; its partial sums grow linearly and so do those of eta_k^2.",
)
def constant_not_diminishing(mode, seed, control=False):
    sched = S.polynomial(0.5, 1.0, 0.75) if control else S.constant(0.05)
    label = "0.5/(k+1)^0.75" if control else "constant 0.05"
    reqs = [(label, "divergent_sum", (sched,), symbolic.PROVED),
            (label, "vanishing", (sched,), symbolic.DISPROVED),
            (label, "log_vanishing", (sched,), symbolic.DISPROVED),
            (label, "summable_squares", (sched,), symbolic.DISPROVED)]
    figs = [] if control else [_figure("constant", [(label, sched)], _K(mode))]
    return _evaluate(reqs, figs)


@claim(
    id="schedules.step-decay.finite-time",
    statement="Step decay eta_k = eta_0 r^floor(k/W) (0 < r < 1) has summable stepsizes: the total ODE time "
              "sum eta_k = eta_0 W / (1 - r) is finite, so the divergent-sum condition fails and runs with it are "
              "finite-horizon experiments, not covered by the convergence theorems.",
    source=SOURCE,
    assumptions=["0 < r < 1", "W >= 1"],
    control="The same test applied to eta_k = a/(k+b) (whose sum diverges) must fail.",
    caption="Passing: the partial sums of eta_k level off at eta_0 W / (1 - r) (horizontal line).",
)
def step_decay_finite_time(mode, seed, control=False):
    eta0, r, W = 0.1, 0.5, 100
    sched = S.polynomial(0.5, 1.0, 1.0) if control else S.step_decay(eta0, r, W)
    label = "0.5/(k+1)" if control else f"step_decay({eta0}, {r}, {W})"
    reqs = [(label, "divergent_sum", (sched,), symbolic.DISPROVED),
            (label, "vanishing", (sched,), symbolic.PROVED)]
    figs = []
    total = eta0 * W / (1 - r)
    K = _K(mode)
    partial = float(np.sum(_values(sched, min(K, 10_000))))
    if not control:
        fig = _figure("step decay", [(label, sched)], K)
        fig.axes[1].axhline(total, color="k", lw=0.8)
        figs.append(fig)
    verdict = _evaluate(reqs, figs)
    verdict.details["total_time"] = {"closed_form": total, "partial_sum_10000_steps": partial}
    return verdict


@claim(
    id="schedules.cosine.eventually-constant",
    statement="Cosine annealing is constant (= final) after total_steps, so it never satisfies both eta_k -> 0 "
              "and sum eta_k = inf: with final > 0 it is asymptotically a constant step, with final = 0 its total "
              "ODE time is finite.",
    source=SOURCE,
    assumptions=["cosine(initial, total_steps, final), final >= 0"],
    control="The same test applied to eta_k = a/(k+b)^0.75, which satisfies both conditions, must fail.",
    caption="Passing: both curves end flat at k = total_steps (at final, or at 0 which a log axis cannot show).",
)
def cosine_eventually_constant(mode, seed, control=False):
    if control:
        cases = [("0.5/(k+1)^0.75", S.polynomial(0.5, 1.0, 0.75), "both")]
    else:
        cases = [("cosine(0.1, 1000, 0.01)", S.cosine(0.1, 1000, 0.01), "constant"),
                 ("cosine(0.1, 1000, 0)", S.cosine(0.1, 1000, 0.0), "finite")]
    reqs = []
    for label, sched, kind in cases:
        if kind == "constant":
            reqs += [(label, "vanishing", (sched,), symbolic.DISPROVED),
                     (label, "divergent_sum", (sched,), symbolic.PROVED)]
        elif kind == "finite":
            reqs += [(label, "divergent_sum", (sched,), symbolic.DISPROVED)]
        else:  # control: the classifier asks for one condition to be refused
            reqs += [(label, "vanishing", (sched,), symbolic.DISPROVED)]
    figs = [] if control else [_figure("cosine annealing", [(lbl, s) for lbl, s, _ in cases], 5_000)]
    return _evaluate(reqs, figs)
