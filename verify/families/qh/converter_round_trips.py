"""qh.converter.round-trips: where a converter is bijective, its inverse undoes it.

The inverse maps (to_synthesized_nesterov, to_pid, to_two_state) are derived here, not taken from
the sources: solving Ma & Yarats' converter formulas for the target's parameters.
"""
import numpy as np

from stochopt import qh
from verify.registry import Claim

from . import _common as C
from ._targets import tso_of_qhm
from .sizes import SIZES

CLAIM = Claim(
    id="qh.converter.round-trips",
    statement=("Where a converter is bijective its inverse undoes it, to 1e-12 relative on a well-conditioned domain: "
               "from_synthesized_nesterov and to_synthesized_nesterov both ways (momentum in (0, 1)), from_pid and "
               "to_pid both ways (restricted to k_p != 0, i.e. nu != 0), and from_two_state_optimizer after "
               "to_two_state (every scale != 0 and shift)."),
    source=f"{C.MA_YARATS}, App. (the converters' formulas); inverses derived here",
    assumptions=["momentum in [0.05, 0.95], |nu| >= 0.05, |beta2| >= 0.05 (the maps' condition numbers grow like "
                 "1/(1 - momentum) and 1/|nu|)", "PID: k_p != 0, k_i != 0, k_d != 0, k_d != k_p",
                 "TSO: scale != 0"],
    reconstructed="the inverse maps are derived here",
    sizes=SIZES["converter.round-trips"],
)
STATISTIC = ("largest relative error |out - in| / |in| over the random points and every returned parameter of the "
             "round trip(s); lower is good; threshold 1e-12, the stated float64 tolerance")


def _rel(out, ref):
    return float(max(np.max(np.abs(np.asarray(out[k]) - ref[k]) / np.abs(ref[k])) for k in ref))


def _away_from_zero(values):
    return np.where(np.abs(values) < 0.05, 0.5, values)


def _qhm_points(ctx, nu_range=(-2.0, 2.0), momentum=(0.05, 0.95)):
    n = ctx.size["points"]
    rng = np.random.default_rng(ctx.seed)
    lr, beta = C.log_uniform(rng, 1e-3, 10.0, n), rng.uniform(*momentum, n)
    return rng, {"lr": lr, "momentum": beta, "nu": _away_from_zero(rng.uniform(*nu_range, n))}


# ------------------------------------------------------------------ synthesized Nesterov
def _snv(ctx, q, rng):
    snv = {"alpha": q["lr"], "beta1": q["momentum"], "beta2": _away_from_zero(rng.uniform(-1.0, 2.0, len(q["lr"])))}
    return {"qhm -> snv -> qhm": _rel(qh.from_synthesized_nesterov(**qh.to_synthesized_nesterov(**q)), q),
            "snv -> qhm -> snv": _rel(qh.to_synthesized_nesterov(**qh.from_synthesized_nesterov(**snv)), snv)}


@CLAIM.part("synthesized Nesterov, both ways", statistic=STATISTIC)
def snv(ctx):
    rng, q = _qhm_points(ctx)
    errors = _snv(ctx, q, rng)
    figs = ctx.figures((C.bars_figure(f"SNV round trips, {ctx.size['points']} points", errors),
                        "Worst relative error of each round trip; passing: bars left of the dashed 1e-12.")) \
        if ctx.draw else []
    return C.decide(max(errors.values()), C.EXACT, "lower", details={"max_relative_error": errors}, figures=figs)


@snv.control(breaks=("|nu| in [1e-9, 1e-8] (the well-conditioned domain |nu| >= 0.05 dropped): nu = 1 - beta2 (1 - beta1)"
                     "/beta1 cancels, so rounding is amplified by 1/|nu|: predicted statistic of order u/min|nu| ~ 1e-7 "
                     "(within a factor 10), far above 1e-12"))
def snv_ill_conditioned(ctx):
    rng, q = _qhm_points(ctx)
    q["nu"] = rng.uniform(1e-9, 1e-8, len(q["nu"])) * rng.choice([-1.0, 1.0], len(q["nu"]))
    errors = _snv(ctx, q, rng)
    return C.rounding_control(ctx, max(errors.values()), 1 / np.min(np.abs(q["nu"])),
                              details={"max_relative_error": errors})


# --------------------------------------------------------------------------------- PID
def _pid(q):
    gains = qh.to_pid(**q)
    return {"qhm -> pid -> qhm": _rel(qh.from_pid(**gains), q), "pid -> qhm -> pid": _rel(qh.to_pid(**qh.from_pid(**gains)), gains)}


@CLAIM.part("PID, both ways (k_p != 0)", statistic=STATISTIC)
def pid(ctx):
    _, q = _qhm_points(ctx)
    errors = _pid(q)
    figs = ctx.figures((C.bars_figure(f"PID round trips, {ctx.size['points']} points", errors),
                        "Worst relative error of each round trip; passing: bars left of the dashed 1e-12.")) \
        if ctx.draw else []
    return C.decide(max(errors.values()), C.EXACT, "lower", details={"max_relative_error": errors}, figures=figs)


@pid.control(breaks=("momentum in [1 - 1e-8, 1 - 1e-9] (the domain momentum <= 0.95 dropped): to_pid divides by "
                     "1 - momentum, recovered from k_d/(k_d - k_p) with a relative error amplified by "
                     "momentum/(1 - momentum): predicted statistic of order u * max momentum/(1 - momentum) ~ 1e-7"))
def pid_ill_conditioned(ctx):
    rng, q = _qhm_points(ctx)
    q["momentum"] = 1 - C.log_uniform(rng, 1e-9, 1e-8, len(q["lr"]))
    errors = _pid(q)
    return C.rounding_control(ctx, max(errors.values()), np.max(q["momentum"] / (1 - q["momentum"])),
                              details={"max_relative_error": errors})


# --------------------------------------------------------------------------------- TSO
def _tso_points(ctx):
    rng, q = _qhm_points(ctx)
    n = len(q["lr"])
    return q, rng.uniform(0.5, 2.0, n) * rng.choice([-1.0, 1.0], n), rng.uniform(-1.0, 1.0, n)


@CLAIM.part("two-state: QHM -> TSO -> QHM", statistic=STATISTIC)
def tso(ctx):
    q, scale, shift = _tso_points(ctx)
    errors = {"qhm -> tso -> qhm": _rel(qh.from_two_state_optimizer(**qh.to_two_state(**q, scale=scale, shift=shift)), q)}
    figs = ctx.figures((C.bars_figure(f"TSO round trip, {ctx.size['points']} points", errors),
                        "Worst relative error of the round trip; passing: the bar left of the dashed 1e-12.")) \
        if ctx.draw else []
    return C.decide(max(errors.values()), C.EXACT, "lower", details={"max_relative_error": errors}, figures=figs)


@tso.control(breaks=("the other order, TSO -> QHM -> TSO, where the first map is not injective (every scale and shift "
                     "give the same QHM): the trip returns the narrow TSO (scale 1, shift 0), whose k is 0, so the "
                     "relative error of k is exactly 1 at every point (predicted) and the statistic is at least 1"))
def tso_other_order(ctx):
    q, scale, shift = _tso_points(ctx)
    tso_in = tso_of_qhm(q["lr"], q["momentum"], q["nu"], scale, shift)
    back = qh.to_two_state(**qh.from_two_state_optimizer(**tso_in))
    k_error = np.abs(np.asarray(back["k"]) - tso_in["k"]) / np.abs(tso_in["k"])
    return C.predicted_control(ctx, _rel(back, tso_in), k_error, np.ones_like(k_error), "the coefficient k",
                               details={"max_relative_error": {"tso -> qhm -> tso": _rel(back, tso_in)}})
