"""schedules.constant.not-diminishing: a constant step is outside the diminishing-step theorems.

A constant eta has sum eta_k = inf but neither eta_k -> 0 nor eta_k log k -> 0, and its squares are
not summable: the almost-sure theorems of spec 1.2 do not cover it; the constant-step results
(tracking error and stationarity that shrink with eta) do. Checked for a shared value and for
per-replica values (one per replica, as a sweep over R step sizes would run).
"""
import numpy as np

from stochopt import schedules as S
from verify import symbolic
from verify.registry import Claim

from . import _common as C
from .sizes import SIZES

CLAIM = Claim(
    id="schedules.constant.not-diminishing",
    statement=("A constant stepsize eta > 0 (shared or per replica) has sum eta_k = inf but eta_k does not tend to 0 (nor "
               "eta_k log k), and its squares are not summable: it is outside the diminishing-step theorems; and the "
               "schedule that runs is that constant, for every replica."),
    source=C.SOURCE,
    assumptions=["eta_k = eta > 0 for all k (per replica)"],
    sizes=SIZES["constant.not-diminishing"],
)


def _label(value):
    return f"constant {value}" if np.ndim(value) == 0 else f"constant per replica {list(value)}"


def cases(ctx):
    return {_label(v): S.constant(np.array(v) if np.ndim(v) else v) for v in ctx.size["cases"]}


def decaying(ctx, p=0.75):
    """The control's schedules: a/(k + 1)^p with a the constant's (first) value."""
    return {f"{np.ravel(v)[0]}/(k+1)^{p}": S.polynomial(float(np.ravel(v)[0]), 1.0, p) for v in ctx.size["cases"]}


@CLAIM.part("runs as its formula", statistic=C.CODE_STATISTIC)
def code(ctx):
    return C.code_check(ctx, cases(ctx), "constant schedules: code against formula")


@code.control(breaks=("a 'constant' coded as eta 0.999^k while its formula says eta: predicted error at every k from the "
                      "closed forms, 1 - 0.999^k, which reaches 1 (the code underflows to 0) long before k = 10^12"))
def code_decays(ctx):
    value = float(np.ravel(ctx.size["cases"][0])[0])
    miscoded = S.from_function(lambda k: value * 0.999 ** k, formula=symbolic.formula_of(S.constant(value)))
    return C.code_control(ctx, miscoded, lambda ks: C.error_measure(value * 0.999 ** ks.astype(float), value + 0 * ks, ks))


C.condition_part(CLAIM, "divergent_sum", symbolic.PROVED, cases, lambda ctx: decaying(ctx, p=2.0),
                 "eta_k = eta/(k + 1)^2 instead of a constant: its sum converges, so every control schedule is refused",
                 C.partial_sums_figure(1, 10_000, "sum eta_k of constant steps"))
C.condition_part(CLAIM, "vanishing", symbolic.DISPROVED, cases, decaying,
                 "eta_k = eta/(k + 1)^(3/4) instead of a constant: eta_k -> 0 is proved for every control schedule",
                 C.VANISHING_FIGURE)
C.condition_part(CLAIM, "log_vanishing", symbolic.DISPROVED, cases, decaying,
                 "eta_k = eta/(k + 1)^(3/4): eta_k log k -> 0 is proved for every control schedule",
                 C.LOG_VANISHING_FIGURE)
C.condition_part(CLAIM, "summable_squares", symbolic.DISPROVED, cases, decaying,
                 "eta_k = eta/(k + 1)^(3/4): its squares are summable, proved for every control schedule",
                 C.partial_sums_figure(2, 10_000, "sum eta_k^2 of constant steps"))
