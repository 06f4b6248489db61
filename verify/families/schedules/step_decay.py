"""schedules.step-decay.finite-time: step decay has a finite total ODE time.

eta_k = eta_0 r^floor(k/W) (0 < r < 1) sums to eta_0 W/(1 - r) (a geometric series of W-step
blocks): the divergent-sum condition of spec 1.2 fails, so runs with it are finite-horizon
experiments, not covered by the convergence theorems. sympy handles floor(k/W) by the sandwich
k/W - 1 < floor(k/W) <= k/W (verify.symbolic).
"""
import math

import numpy as np

from stochopt import schedules as S
from verify import symbolic
from verify.registry import Claim

from . import _common as C
from .sizes import SIZES

CLAIM = Claim(
    id="schedules.step-decay.finite-time",
    statement=("Step decay eta_k = eta_0 r^floor(k/W) (0 < r < 1) has summable stepsizes: the total ODE time "
               "sum eta_k = eta_0 W/(1 - r) is finite, so the divergent-sum condition fails (runs with it are "
               "finite-horizon experiments); eta_k -> 0; and the schedule that runs is that formula."),
    source=C.SOURCE,
    assumptions=["0 < r < 1", "W >= 1"],
    sizes=SIZES["step-decay.finite-time"],
)


def cases(ctx):
    return {f"step_decay({e}, {r}, {w})": S.step_decay(e, r, w) for e, r, w in ctx.size["cases"]}


@CLAIM.part("runs as its formula", statistic=C.CODE_STATISTIC)
def code(ctx):
    return C.code_check(ctx, cases(ctx), "step decay: code against formula")


@code.control(breaks=("an off-by-one at the block boundaries: the code decays at floor((k + 1)/W) while the formula says "
                      "floor(k/W); predicted error at every k from the closed forms, 1 - r at k = W - 1, 2W - 1, ..."))
def code_off_by_one(ctx):
    e, r, w = ctx.size["cases"][0]
    miscoded = S.from_function(lambda k: e * r ** ((k + 1) // w), formula=symbolic.formula_of(S.step_decay(e, r, w)))
    return C.code_control(ctx, miscoded, lambda ks: C.error_measure(e * r ** ((ks + 1) // w).astype(float),
                                                                    e * r ** (ks // w).astype(float), ks))


def no_decay(ctx):
    """The control's schedules: the same step decays with r = 1 (the assumption 0 < r < 1 broken)."""
    return {f"step_decay({e}, 1.0, {w})": S.step_decay(e, 1.0, w) for e, r, w in ctx.size["cases"]}


C.condition_part(CLAIM, "divergent_sum", symbolic.DISPROVED, cases, no_decay,
                 "r = 1 instead of 0 < r < 1 (the same step decays without decay): eta_k = eta_0 for every k, so "
                 "sum eta_k = inf is proved for every control schedule (statistic = their number)",
                 C.partial_sums_figure(1, 10_000, "sum eta_k of step decay (levels off)"))


def _total_time_error(ctx, every_of):
    """|sum_k eta_k - eta_0 W/(1 - r)| / (eta_0 W/(1 - r)), the sum over enough blocks that the tail is below 1e-16
    of the total (math.fsum: exactly rounded)."""
    errors = {}
    for e, r, w in ctx.size["cases"]:
        sched = S.step_decay(e, r, every_of(w))
        blocks = int(math.ceil(math.log(1e-16) / math.log(r))) + 1
        total = e * w / (1 - r)
        partial = math.fsum(float(v) for v in sched.values(blocks * w))
        errors[f"step_decay({e}, {r}, {every_of(w)})"] = abs(partial - total) / total
    return errors


@CLAIM.part("total ODE time eta_0 W/(1 - r)", statistic=(
        "largest relative error |sum_k eta_k - eta_0 W/(1 - r)| / (eta_0 W/(1 - r)) over the cases, the sum taken over "
        "enough blocks that the rest is below 1e-16 of the total (exactly rounded, math.fsum); lower is good; threshold "
        "1e-12, the stated float64 tolerance"))
def total_time(ctx):
    errors = _total_time_error(ctx, lambda w: w)
    figs = []
    if ctx.draw:
        fig, ax = C._new_axes()
        for e, r, w in ctx.size["cases"]:
            K = 60 * w
            sums = np.cumsum(S.step_decay(e, r, w).values(K))
            ax.plot(np.arange(1, K + 1), sums, label=f"step_decay({e}, {r}, {w})")
            ax.axhline(e * w / (1 - r), color="k", lw=0.8, ls="--")
        ax.set(title="partial sums of step decay and eta_0 W/(1 - r) (dashed)", xlabel="K (steps)",
               ylabel="sum_(k<K) eta_k (ODE time)")
        ax.legend(fontsize=6)
        figs = ctx.figures((fig, "Passing: each partial sum levels off on its dashed line."))
    return C.decide(max(errors.values()), 1e-12, "lower", details={"relative_error": errors}, figures=figs)


@total_time.control(breaks=("the decay applied every W/2 steps (not every W) against the same closed form: the sum is "
                            "eta_0 (W/2)/(1 - r), so the relative error is exactly 1/2 (predicted)"))
def total_time_half_blocks(ctx):
    errors = _total_time_error(ctx, lambda w: w // 2)
    measured = np.array(list(errors.values()))
    mismatch = float(np.max(np.abs(measured - 0.5)) / 0.5)
    details = {"relative_error": errors, "prediction": {"predicted": 0.5, "mismatch": mismatch, "tolerance": 1e-9}}
    if not mismatch <= 1e-9:
        details.update(better="lower", note="not the predicted error 1/2")
        return C.Verdict("inconclusive", float(measured.max()), 1e-12, None, details)
    return C.decide(float(measured.max()), 1e-12, "lower", details=details)


C.condition_part(CLAIM, "vanishing", symbolic.PROVED, cases, no_decay,
                 "r = 1 instead of 0 < r < 1 (the same step decays without decay): eta_k = eta_0 != 0 for every k, so "
                 "every control schedule is refused (statistic = their number)", C.VANISHING_FIGURE)
