"""schedules.polynomial.conditions: a/(k + b)^p with 1/2 < p <= 1 satisfies every diminishing-step condition.

The conditions are those of the convergence theorems as reconstructed in spec 1.2; sympy proves
each from the schedule's formula, and the code part shows the formula is what runs.
"""
from stochopt import schedules as S
from verify import symbolic
from verify.registry import Claim

from . import _common as C
from .sizes import SIZES

CLAIM = Claim(
    id="schedules.polynomial.conditions",
    statement=("eta_k = a / (k + b)^p with 1/2 < p <= 1 satisfies every diminishing-step condition: sum eta_k = inf, "
               "sum eta_k^2 < inf, eta_k -> 0 and eta_k log k -> 0; and the schedule that runs is that formula."),
    source=C.SOURCE,
    assumptions=["a > 0, b > 0", "1/2 < p <= 1"],
    sizes=SIZES["polynomial.conditions"],
)


def cases(ctx, p=None):
    return {f"{a}/(k+{b})^{(p if p is not None else q):.3g}": S.polynomial(a, b, p if p is not None else q)
            for a, b, q in ctx.size["cases"]}


@CLAIM.part("runs as its formula", statistic=C.CODE_STATISTIC)
def code(ctx):
    return C.code_check(ctx, cases(ctx), "polynomial schedules: code against formula")


@code.control(breaks=("a polynomial schedule whose code is the constant a/b^p (its value at k = 0) while its formula says "
                      "a/(k + b)^p: the error at k is |a/b^p - f_k| / max(f_k, 1e-3 a/b^p), predicted at every k from the "
                      "closed forms; it reaches about 1000 once f_k < 1e-3 a/b^p"))
def code_runs_constant(ctx):
    a, b, p = ctx.size["cases"][0]
    miscoded = S.from_function(lambda k: a / b ** p, formula=symbolic.formula_of(S.polynomial(a, b, p)))
    return C.code_control(ctx, miscoded, lambda ks: C.error_measure(a / b ** p, a / (ks + b) ** p, ks))


C.condition_part(CLAIM, "divergent_sum", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=2.0),
                 "p = 2 (> 1): sum 1/(k + b)^2 converges, so every control schedule is refused (statistic = their number)",
                 C.partial_sums_figure(1, 10_000, "sum eta_k of a/(k+b)^p, 1/2 < p <= 1"))
C.condition_part(CLAIM, "summable_squares", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=0.5),
                 "p = 1/2: sum eta_k^2 = sum a^2/(k + b) diverges, so every control schedule is refused",
                 C.partial_sums_figure(2, 10_000, "sum eta_k^2 of a/(k+b)^p, 1/2 < p <= 1"))
C.condition_part(CLAIM, "vanishing", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=0.0),
                 "p = 0 (a constant step a): eta_k -> a != 0, so every control schedule is refused", C.VANISHING_FIGURE)
C.condition_part(CLAIM, "log_vanishing", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=0.0),
                 "p = 0: eta_k log k = a log k -> inf, so every control schedule is refused", C.LOG_VANISHING_FIGURE)
