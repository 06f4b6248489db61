"""schedules.cosine.eventually-constant: cosine annealing never meets both eta_k -> 0 and sum eta_k = inf.

cosine(initial, T, final) equals final after T steps: with final > 0 it is asymptotically a constant
step (eta_k does not tend to 0); with final = 0 its total ODE time is finite. Either way it is outside
the diminishing-step theorems of spec 1.2.
"""
import math

import numpy as np

from stochopt import schedules as S
from verify import symbolic
from verify.registry import Claim

from . import _common as C
from .sizes import SIZES

CLAIM = Claim(
    id="schedules.cosine.eventually-constant",
    statement=("Cosine annealing is constant (= final) after total_steps, so it never satisfies both eta_k -> 0 and "
               "sum eta_k = inf: with final > 0 eta_k does not tend to 0, with final = 0 its total ODE time is finite; "
               "and the schedule that runs is that formula."),
    source=C.SOURCE,
    assumptions=["cosine(initial, total_steps, final), final >= 0"],
    sizes=SIZES["cosine.eventually-constant"],
)


def positive(ctx):
    return {f"cosine({i}, {t}, {f})": S.cosine(i, t, f) for i, t, f in ctx.size["positive"]}


def zero(ctx):
    return {f"cosine({i}, {t}, 0)": S.cosine(i, t, 0.0) for i, t in ctx.size["zero"]}


@CLAIM.part("runs as its formula", statistic=C.CODE_STATISTIC)
def code(ctx):
    return C.code_check(ctx, {**positive(ctx), **zero(ctx)}, "cosine annealing: code against formula")


@code.control(breaks=("the clamp at total_steps dropped from the code (cos(pi k/T) keeps oscillating) while the formula "
                      "stays at final after T: predicted error at every k from the closed forms, up to "
                      "(initial - final)/final (9 for the quick case) where cos(pi k/T) = 1"))
def code_without_clamp(ctx):
    i, t, f = ctx.size["positive"][0]
    miscoded = S.from_function(lambda k: f + 0.5 * (i - f) * (1.0 + math.cos(math.pi * (k / t))),
                               formula=symbolic.formula_of(S.cosine(i, t, f)))

    def predicted(ks):
        code = np.array([f + 0.5 * (i - f) * (1.0 + math.cos(math.pi * (int(k) / t))) for k in ks])
        formula = np.array([f + 0.5 * (i - f) * (1.0 + math.cos(math.pi * min(int(k), t) / t)) for k in ks])
        return C.error_measure(code, formula, ks)

    return C.code_control(ctx, miscoded, predicted)


C.condition_part(CLAIM, "vanishing", symbolic.DISPROVED, positive, zero,
                 "final = 0 instead of final > 0 (the same cosine schedules annealed to 0): the schedule is 0 after "
                 "total_steps, so eta_k -> 0 is proved for every control schedule (statistic = their number)",
                 C.VANISHING_FIGURE, name="final > 0: not (eta_k -> 0)")
C.condition_part(CLAIM, "divergent_sum", symbolic.DISPROVED, zero, positive,
                 "final > 0 instead of final = 0 (the same cosine schedules with a positive final value): the tail is "
                 "the constant final, so sum eta_k = inf is proved for every control schedule (statistic = their number)",
                 C.partial_sums_figure(1, 10_000, "sum eta_k of cosine annealing to 0 (levels off)"),
                 name="final = 0: not (sum eta_k = inf)")
