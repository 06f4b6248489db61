"""schedules.warmup.conditions: a linear warm-up keeps the diminishing-step conditions of the schedule it wraps.

warmup(eta, W) multiplies eta_k by min(1, (k + 1)/W): it changes finitely many steps, so every
tail condition of spec 1.2 transfers; sympy proves them from the Piecewise formula.
"""
import numpy as np

from stochopt import schedules as S
from verify import symbolic
from verify.registry import Claim

from . import _common as C
from .sizes import SIZES

CLAIM = Claim(
    id="schedules.warmup.conditions",
    statement=("A linear warm-up changes finitely many steps, so warmup(a/(k + b)^p, W) with 1/2 < p <= 1 keeps all "
               "four diminishing-step conditions (sum eta_k = inf, sum eta_k^2 < inf, eta_k -> 0, eta_k log k -> 0); "
               "and the schedule that runs is its formula."),
    source=C.SOURCE,
    assumptions=["the wrapped schedule satisfies the conditions", "finite warm-up length W"],
    sizes=SIZES["warmup.conditions"],
)


def cases(ctx, p=None):
    return {f"warmup({a}/(k+{b})^{(p if p is not None else q):.3g}, {w})":
            S.warmup(S.polynomial(a, b, p if p is not None else q), w) for a, b, q, w in ctx.size["cases"]}


@CLAIM.part("runs as its formula", statistic=C.CODE_STATISTIC)
def code(ctx):
    return C.code_check(ctx, cases(ctx), "warm-up schedules: code against formula")


@code.control(breaks=("a warm-up coded over 2W steps while its formula says W: eta_k min(1, (k + 1)/(2W)) against "
                      "eta_k min(1, (k + 1)/W); predicted error at every k from the closed forms, 1/2 for every k < W"))
def code_ramp_too_long(ctx):
    a, b, p, w = ctx.size["cases"][0]
    miscoded = S.from_function(lambda k: a / (k + b) ** p * min(1.0, (k + 1) / (2 * w)),
                               formula=symbolic.formula_of(S.warmup(S.polynomial(a, b, p), w)))
    inner = lambda ks: a / (ks + b) ** p  # noqa: E731
    return C.code_control(ctx, miscoded, lambda ks: C.error_measure(
        inner(ks) * np.minimum(1.0, (ks + 1.0) / (2 * w)), inner(ks) * np.minimum(1.0, (ks + 1.0) / w), ks))


C.condition_part(CLAIM, "divergent_sum", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=2.0),
                 "the warm-up of a/(k + b)^2: its sum converges, so every control schedule is refused",
                 C.partial_sums_figure(1, 10_000, "sum eta_k of warmed-up polynomial schedules"))
C.condition_part(CLAIM, "summable_squares", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=0.5),
                 "the warm-up of a/(k + b)^(1/2): its squares are not summable, so every control schedule is refused",
                 C.partial_sums_figure(2, 10_000, "sum eta_k^2 of warmed-up polynomial schedules"))
C.condition_part(CLAIM, "vanishing", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=0.0),
                 "the warm-up of a constant: eta_k -> a != 0 after the warm-up, so every control schedule is refused",
                 C.VANISHING_FIGURE)
C.condition_part(CLAIM, "log_vanishing", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=0.0),
                 "the warm-up of a constant: eta_k log k -> inf, so every control schedule is refused",
                 C.LOG_VANISHING_FIGURE)
