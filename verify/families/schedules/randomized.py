"""schedules.randomized.envelope: random stepsizes inherit the conditions of their deterministic envelope.

eta_k = eta_bar_k zeta_k with zeta_k in [low, high], 0 < low: low eta_bar_k <= eta_k <= high eta_bar_k,
so divergent sum, summable squares and the limits transfer from the envelope (spec 1.2, the
finite-sum theorem with random stepsizes, reconstructed). The code part checks the bounds on the
realised values of every replica, and the envelope's code against its formula.
"""
import numpy as np

from stochopt import schedules as S
from verify import symbolic
from verify.registry import Claim

from . import _common as C
from .sizes import SIZES

CLAIM = Claim(
    id="schedules.randomized.envelope",
    statement=("Random stepsizes eta_k = eta_bar_k zeta_k, zeta_k uniform on [low, high] with 0 < low, satisfy the "
               "diminishing-step conditions whenever the envelope eta_bar_k does, because low eta_bar_k <= eta_k <= "
               "high eta_bar_k; the realised values of every replica respect these bounds."),
    source="Xiao, Hu, Toh (arXiv 2307.10053), finite-sum theorem with random stepsizes (reconstructed; spec 1.2)",
    assumptions=["zeta_k i.i.d. with a density on [low, high], 0 < low < high", "envelope a/(k + b)^p, 1/2 < p <= 1"],
    sizes=SIZES["randomized.envelope"],
)


def cases(ctx, p=None):
    low, high = ctx.size["bounds"]
    return {f"randomized({a}/(k+{b})^{(p if p is not None else q):.3g}, [{low}, {high}])":
            S.randomized(S.polynomial(a, b, p if p is not None else q), low, high, seed=ctx.seed)
            for a, b, q in ctx.size["cases"]}


class DrawsOutsideItsBounds(S.Randomized):
    """A randomized schedule that states zeta in [low, high] but draws it on [low - widen, high + widen]
    (the same uniform u, mapped to the wider interval): the control's mis-coded schedule."""

    def __init__(self, envelope, low, high, seed, widen):
        super().__init__(envelope, low, high, seed)
        self.widen = widen

    def __call__(self, k, replica_ids=None):
        envelope = self.envelope(k, replica_ids)
        u = (super().__call__(k, replica_ids) / envelope - self.low) / (self.high - self.low)
        return envelope * (self.low - self.widen + (self.high - self.low + 2 * self.widen) * u)


@CLAIM.part("realised values within [low, high] x envelope", statistic=C.CODE_STATISTIC.replace(
        "|code - formula|", "the distance of the realised eta_k outside [low, high] x envelope formula (and the "
                            "envelope's own |code - formula|)").replace("every replica", "every replica (16 quick, 64 full)"))
def code(ctx):
    return C.code_check(ctx, cases(ctx), "randomized stepsizes: realised values and envelope",
                        replica_ids=np.arange(ctx.size["replicas"]))


@code.control(breaks=("factors drawn on [low - 1/4, high + 1/4] while the schedule states [low, high]: the distance "
                      "outside the stated bounds is predicted at every k from the uniform draws u (zeta' = low - 1/4 + "
                      "(high - low + 1/2) u), up to about 1/4 of the envelope"))
def code_draws_outside(ctx):
    (a, b, p), (low, high) = ctx.size["cases"][0], ctx.size["bounds"]
    envelope, ids = S.polynomial(a, b, p), np.arange(ctx.size["replicas"])
    honest = S.randomized(envelope, low, high, seed=ctx.seed)

    def predicted(ks):
        env = np.array([envelope(int(k)) for k in ks])[:, None]
        u = (np.stack([honest(int(k), ids) for k in ks]) / env - low) / (high - low)
        zeta = low - 0.25 + (high - low + 0.5) * u
        outside = np.maximum(np.maximum(low - zeta, zeta - high), 0.0) * env
        return np.max(outside / np.maximum(env, 1e-3 * env.max()), axis=1)

    return C.code_control(ctx, DrawsOutsideItsBounds(envelope, low, high, ctx.seed, widen=0.25), predicted,
                          replica_ids=ids)


C.condition_part(CLAIM, "divergent_sum", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=2.0),
                 "envelope a/(k + b)^2: its sum converges, so the transferred condition is refused for every control",
                 C.partial_sums_figure(1, 10_000, "sum eta_k of random stepsizes (replica 0)"))
C.condition_part(CLAIM, "summable_squares", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=0.5),
                 "envelope a/(k + b)^(1/2): squares not summable, so the transferred condition is refused",
                 C.partial_sums_figure(2, 10_000, "sum eta_k^2 of random stepsizes (replica 0)"))
C.condition_part(CLAIM, "vanishing", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=0.0),
                 "a constant envelope: eta_k does not tend to 0, so the transferred condition is refused",
                 C.VANISHING_FIGURE)
C.condition_part(CLAIM, "log_vanishing", symbolic.PROVED, cases, lambda ctx: cases(ctx, p=0.0),
                 "a constant envelope: eta_k log k -> inf, so the transferred condition is refused",
                 C.LOG_VANISHING_FIGURE)
