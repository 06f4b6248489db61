"""schedules.coupled.single-timescale: theta_k = min(cap, tau eta_k) is a single-timescale partner of eta_k.

Single timescale in spec 1.2 means theta_k = tau eta_k; ``schedules.coupled`` adds an optional cap
(the official code's theta is capped at 1 - beta), inactive in the tail, so theta_k/eta_k -> tau and
theta_k inherits sum theta_k = inf and theta_k -> 0 from eta_k.
"""
import numpy as np

from stochopt import schedules as S
from verify import symbolic
from verify.registry import Claim

from . import _common as C
from .sizes import SIZES

CLAIM = Claim(
    id="schedules.coupled.single-timescale",
    statement=("theta_k = coupled(eta, tau, cap) = min(cap, tau eta_k) is a single-timescale pair with eta_k = a/(k + b)^p "
               "(1/2 < p <= 1): theta_k / eta_k -> tau (the cap is inactive for large k), and theta_k inherits "
               "sum theta_k = inf and theta_k -> 0; and the schedules that run are their formulas."),
    source=C.SOURCE,
    assumptions=["tau > 0", "eta_k = a/(k + b)^p with 1/2 < p <= 1"],
    sizes=SIZES["coupled.single-timescale"],
)


def _label(a, b, p, tau, cap):
    return f"min({cap}, {tau} x {a}/(k+{b})^{p:.3g})" if cap is not None else f"{tau} x {a}/(k+{b})^{p:.3g}"


def thetas(ctx, p=None):
    return {_label(a, b, p if p is not None else q, tau, cap): S.coupled(S.polynomial(a, b, p if p is not None else q),
                                                                          tau, cap)
            for a, b, q, tau, cap in ctx.size["cases"]}


def ratio_cases(ctx):
    return {_label(a, b, p, tau, cap): (S.coupled(S.polynomial(a, b, p), tau, cap), S.polynomial(a, b, p), tau)
            for a, b, p, tau, cap in ctx.size["cases"]}


def ratio_control_cases(ctx):
    """theta = a/(k + b)^0.6 against eta = a/(k + b): a two-timescale pair, theta/eta -> inf."""
    return {f"{a}/(k+{b})^0.6 over {a}/(k+{b})": (S.polynomial(a, b, 0.6), S.polynomial(a, b, 1.0), tau)
            for a, b, p, tau, cap in ctx.size["cases"]}


@CLAIM.part("runs as its formula", statistic=C.CODE_STATISTIC)
def code(ctx):
    return C.code_check(ctx, thetas(ctx), "coupled schedules: code against formula")


@code.control(breaks=("the cap dropped from the code (theta_k = tau eta_k) while the formula is min(cap, tau eta_k): "
                      "predicted error at every k from the closed forms, (tau eta_0 - cap)/cap at k = 0 (1 for the "
                      "quick case: tau eta_0 = 1, cap = 1/2)"))
def code_without_cap(ctx):
    a, b, p, tau, cap = ctx.size["cases"][0]
    miscoded = S.from_function(lambda k: tau * a / (k + b) ** p,
                               formula=symbolic.formula_of(S.coupled(S.polynomial(a, b, p), tau, cap)))
    return C.code_control(ctx, miscoded, lambda ks: C.error_measure(
        tau * a / (ks + b) ** p, np.minimum(cap, tau * a / (ks + b) ** p), ks))


C.condition_part(CLAIM, "ratio_limit", symbolic.PROVED, ratio_cases, ratio_control_cases,
                 "a two-timescale partner theta_k = a/(k + b)^0.6 of eta_k = a/(k + b): theta_k / eta_k -> inf, not "
                 "tau, so every control pair is refused",
                 C.tail_figure(lambda case, ks: C.values_at(case[0], ks) / C.values_at(case[1], ks),
                               "log10 theta_k / eta_k", "theta_k / eta_k of the executed schedules",
                               "theta_k / eta_k up to k = 10^12; passing: flat at tau once the cap stops binding."),
                 name="theta_k / eta_k -> tau")
C.condition_part(CLAIM, "divergent_sum", symbolic.PROVED, thetas, lambda ctx: thetas(ctx, p=2.0),
                 "eta_k = a/(k + b)^2: sum theta_k converges, so every control schedule is refused",
                 C.partial_sums_figure(1, 10_000, "sum theta_k of coupled schedules"), name="sum theta_k = inf")
C.condition_part(CLAIM, "vanishing", symbolic.PROVED, thetas, lambda ctx: thetas(ctx, p=0.0),
                 "eta_k constant (p = 0): theta_k -> min(cap, tau a) != 0, so every control schedule is refused",
                 C.VANISHING_FIGURE, name="theta_k -> 0")
