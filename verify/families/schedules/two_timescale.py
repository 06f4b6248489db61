"""schedules.two-timescale.ratio: eta_k = a/(k + b)^p and theta_k = c/(k + b)^q with q < p form a two-timescale pair.

Two timescales in spec 1.2: eta_k / theta_k -> 0 (the momentum is the fast variable), both sums
diverge, both stepsizes tend to 0, and sum eta_k^2 < inf.
"""
from stochopt import schedules as S
from verify import symbolic
from verify.registry import Claim

from . import _common as C
from .sizes import SIZES

CLAIM = Claim(
    id="schedules.two-timescale.ratio",
    statement=("eta_k = a/(k + b)^p and theta_k = c/(k + b)^q with 1/2 < q < p <= 1 form a two-timescale pair: "
               "eta_k / theta_k -> 0, sum eta_k = sum theta_k = inf, eta_k, theta_k -> 0, and sum eta_k^2 < inf; and "
               "the schedules that run are their formulas."),
    source=C.SOURCE,
    assumptions=["eta_k / theta_k -> 0 (two timescales)", "1/2 < q < p <= 1"],
    sizes=SIZES["two-timescale.ratio"],
)


def pairs(ctx, p=None, q=None):
    out = {}
    for a, b, pe, c, qt in ctx.size["cases"]:
        pe, qt = (pe if p is None else p), (qt if q is None else q)
        out[f"eta = {a}/(k+{b})^{pe:.3g}"] = S.polynomial(a, b, pe)
        out[f"theta = {c}/(k+{b})^{qt:.3g}"] = S.polynomial(c, b, qt)
    return out


def etas(ctx, p=None):
    return {label: s for label, s in pairs(ctx, p=p).items() if label.startswith("eta")}


def ratio_cases(ctx):
    return {f"{a}/(k+{b})^{p:.3g} over {c}/(k+{b})^{q:.3g}": (S.polynomial(a, b, p), S.polynomial(c, b, q))
            for a, b, p, c, q in ctx.size["cases"]}


def ratio_control_cases(ctx):
    """theta = c/(k + b)^p, the exponent of eta (q = p: the assumption q < p broken): eta/theta -> a/c != 0."""
    return {f"{a}/(k+{b})^{p:.3g} over {c}/(k+{b})^{p:.3g}": (S.polynomial(a, b, p), S.polynomial(c, b, p))
            for a, b, p, c, q in ctx.size["cases"]}


@CLAIM.part("runs as its formula", statistic=C.CODE_STATISTIC)
def code(ctx):
    return C.code_check(ctx, pairs(ctx), "two-timescale pairs: code against formula")


@code.control(breaks=("theta coded as the constant c/b^q (its value at k = 0) while its formula says c/(k + b)^q: "
                      "predicted error at every k from the closed forms, about 1000 once the formula has decayed below "
                      "1e-3 of its start"))
def code_theta_constant(ctx):
    a, b, p, c, q = ctx.size["cases"][0]
    miscoded = S.from_function(lambda k: c / b ** q, formula=symbolic.formula_of(S.polynomial(c, b, q)))
    return C.code_control(ctx, miscoded, lambda ks: C.error_measure(c / b ** q, c / (ks + b) ** q, ks))


C.condition_part(CLAIM, "ratio_vanishing", symbolic.PROVED, ratio_cases, ratio_control_cases,
                 "q = p instead of q < p (theta_k = c/(k + b)^p decays as fast as eta_k): eta_k / theta_k -> a/c, "
                 "not 0, so every control pair is refused (statistic = their number)",
                 C.tail_figure(lambda case, ks: C.values_at(case[0], ks) / C.values_at(case[1], ks),
                               "log10 eta_k / theta_k", "eta_k / theta_k of the executed schedules",
                               "eta_k / theta_k up to k = 10^12; passing: the curve falls like k^(q - p)."))
C.condition_part(CLAIM, "divergent_sum", symbolic.PROVED, pairs, lambda ctx: pairs(ctx, p=2.0, q=2.0),
                 "both exponents 2: sum eta_k and sum theta_k converge, so every control schedule is refused",
                 C.partial_sums_figure(1, 10_000, "sum eta_k and sum theta_k"), name="sum eta_k = sum theta_k = inf")
C.condition_part(CLAIM, "summable_squares", symbolic.PROVED, etas, lambda ctx: etas(ctx, p=0.5),
                 "eta_k = a/(k + b)^(1/2): squares not summable, so every control schedule is refused",
                 C.partial_sums_figure(2, 10_000, "sum eta_k^2"))
C.condition_part(CLAIM, "vanishing", symbolic.PROVED, pairs, lambda ctx: pairs(ctx, p=0.0, q=0.0),
                 "both exponents 0 (constant steps): neither tends to 0, so every control schedule is refused",
                 C.VANISHING_FIGURE, name="eta_k -> 0 and theta_k -> 0")
