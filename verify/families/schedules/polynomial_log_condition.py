"""schedules.polynomial.log-condition: a/(k + b)^p with 0 < p <= 1/2 meets the bounded-noise alternative.

Squares are not summable for p <= 1/2, but the alternative noise condition of spec 1.2 (eta_k log k
-> 0, with bounded noise) holds, with sum eta_k = inf and eta_k -> 0.
"""
from stochopt import schedules as S
from verify import symbolic
from verify.registry import Claim

from . import _common as C
from .sizes import SIZES

CLAIM = Claim(
    id="schedules.polynomial.log-condition",
    statement=("eta_k = a / (k + b)^p with 0 < p <= 1/2 does not have summable squares but satisfies the bounded-noise "
               "alternative eta_k log k -> 0, with sum eta_k = inf and eta_k -> 0; and the schedule that runs is that "
               "formula."),
    source=C.SOURCE,
    assumptions=["a > 0, b > 0", "0 < p <= 1/2", "bounded noise (for the alternative condition to apply)"],
    sizes=SIZES["polynomial.log-condition"],
)


def cases(ctx, p=None):
    return {f"{a}/(k+{b})^{(p if p is not None else q):.3g}": S.polynomial(a, b, p if p is not None else q)
            for a, b, q in ctx.size["cases"]}


@CLAIM.part("runs as its formula", statistic=C.CODE_STATISTIC)
def code(ctx):
    return C.code_check(ctx, cases(ctx), "polynomial schedules, p <= 1/2: code against formula")


@code.control(breaks=("an off-by-one in the step counter: the code is a/(k + 1 + b)^p while the formula says a/(k + b)^p; "
                      "predicted error at every k from the closed forms, largest at k = 0: 1 - (b/(1 + b))^p"))
def code_off_by_one(ctx):
    a, b, p = ctx.size["cases"][0]
    miscoded = S.from_function(lambda k: a / (k + 1 + b) ** p, formula=symbolic.formula_of(S.polynomial(a, b, p)))
    return C.code_control(ctx, miscoded, lambda ks: C.error_measure(a / (ks + 1.0 + b) ** p, a / (ks + b) ** p, ks))


C.condition_part(CLAIM, "summable_squares", symbolic.DISPROVED, cases, lambda ctx: cases(ctx, p=0.75),
                 "p = 3/4 (> 1/2): sum eta_k^2 converges, so sympy proves summable squares for every control schedule",
                 C.partial_sums_figure(2, 10_000, "sum eta_k^2 of a/(k+b)^p, p <= 1/2"))
C.condition_part(CLAIM, "log_vanishing", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=0.0),
                 "p = 0 (a constant step): eta_k log k -> inf, so every control schedule is refused",
                 C.LOG_VANISHING_FIGURE)
C.condition_part(CLAIM, "divergent_sum", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=2.0),
                 "p = 2: sum eta_k converges, so every control schedule is refused",
                 C.partial_sums_figure(1, 10_000, "sum eta_k of a/(k+b)^p, p <= 1/2"))
C.condition_part(CLAIM, "vanishing", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=0.0),
                 "p = 0 (a constant step): eta_k -> a != 0, so every control schedule is refused", C.VANISHING_FIGURE)
