"""qh.converter.two-state: a two-state optimizer with a unit eigenvalue is a QHM (general map derived here).

Ma & Yarats (App.) define the two-state optimizer (TSO) a' = h a + k x + l g, x' = m a + q x + z g and
give a map to QHM; qhoptim's formula is right only when q = 1 and k = 0. The general map (momentum =
h + q - 1, lr = -(z (1 - h) + m l)/(2 - h - q), nu = (lr + z)/(lr momentum)) and the start on the
invariant line a_0 = k x_0/(1 - h) are derived here by matching transfer functions
(docs/quasi-hyperbolic.md).
"""
import numpy as np

from stochopt import qh
from verify.registry import Claim
from verify.symbolic import converters as symbolic

from . import _common as C
from ._targets import qhm_loop, qhoptim_two_state, tso_loop, tso_of_qhm
from .sizes import SIZES

CLAIM = Claim(
    id="qh.converter.two-state",
    statement=("A two-state optimizer a' = h a + k x + l g, x' = m a + q x + z g with a unit eigenvalue, "
               "(1 - h)(1 - q) = k m, started on its invariant line a_0 = k x_0/(1 - h), has the x_t of QHM with "
               "momentum = h + q - 1, lr = -(z (1 - h) + m l)/(2 - h - q), nu = (lr + z)/(lr momentum), for every t "
               "and every gradient sequence; qhoptim's formula gives the same only in the narrow case q = 1, k = 0."),
    source=f"{C.MA_YARATS}, App. (TSO); {C.QHOPTIM}; the general map is derived here (docs/quasi-hyperbolic.md)",
    assumptions=["(1 - h)(1 - q) = k m", "other eigenvalue h + q - 1 in [0, 1)", "a_0 = k x_0/(1 - h)"],
    reconstructed="the general map and the invariant-line start are derived here, not taken from the sources",
    sizes=SIZES["converter.two-state"],
)


def _draw(ctx, narrow=False):
    """Random recoverable TSOs: QHM draws in a stable region written as TSOs with first state
    a = scale b + shift x (scale in +-[0.5, 2], shift in [-1, 1]; ``narrow``: shift = 0, so k = 0, q = 1)."""
    rng, sources, x0 = C.setup(ctx)
    R = ctx.size["replicas"]
    lr, beta, nu = C.qhm_draw(rng, R)
    scale = rng.uniform(0.5, 2.0, R) * rng.choice([-1.0, 1.0], R)
    shift = np.zeros(R) if narrow else rng.uniform(-1.0, 1.0, R)
    return sources, x0, tso_of_qhm(lr, beta, nu, scale, shift)


def _run(ctx, zero_start=False):
    sources, x0, tso = _draw(ctx)
    a0 = np.zeros_like(x0) if zero_start else None
    targets = {"TSO loop": lambda x, o, n: tso_loop(x, o, n, **tso, a0=a0),
               "stochopt.qh.two_state": C.method_run(qh.two_state(**tso, a0="zeros" if zero_start else "invariant"))}
    qhm = C.method_run(qh.qhm(**qh.from_two_state_optimizer(**tso)))
    return C.compare(qhm, targets, sources, x0, ctx.size["steps"]), sources, x0, tso


@CLAIM.part("iterates x_t (general map)", statistic=C.IDENTITY_STATISTIC)
def iterates(ctx):
    curves, *_ = _run(ctx)
    return C.identity_check(ctx, curves, f"from_two_state_optimizer: QHM vs {ctx.size['replicas']} random TSOs",
                            "Max relative error per step, per gradient source and target; passing: every curve "
                            "below the dashed 1e-12.")


@iterates.control(breaks=("the TSO starts at a_0 = 0 instead of its invariant line: x_1 = q x_0 + z g_0 misses "
                          "m k x_0/(1 - h), so the relative error at t = 1 is |m k/(1 - h)| ||x_0|| / ||q x_0 + z g_0|| "
                          "(predicted per replica and source)"))
def iterates_zero_start(ctx):
    curves, sources, x0, tso = _run(ctx, zero_start=True)
    h, k, m, q, z = (tso[n][:, None] for n in "hkmqz")
    predicted = {s: np.linalg.norm(m * k / (1 - h) * x0, axis=-1) / np.linalg.norm(q * x0 + z * o(x0, 0), axis=-1)
                 for s, o in sources.items()}
    return C.predicted_control(ctx, curves.statistic, curves.at(1), C.per_source(predicted, 2), "t = 1",
                               details={"max_relative_error": curves.worst()})


def _qhoptim_run(ctx, narrow):
    sources, x0, tso = _draw(ctx, narrow=narrow)
    p = qhoptim_two_state(**tso)
    qhm = lambda x, o, n: qhm_loop(x, o, n, p["lr"], p["momentum"], p["nu"])  # noqa: E731 (bare loop: any values)
    curves = C.compare(qhm, {"TSO loop": lambda x, o, n: tso_loop(x, o, n, **tso)}, sources, x0, ctx.size["steps"])
    return curves, sources, x0, tso, p


@CLAIM.part("qhoptim's formula in the narrow case q = 1, k = 0", statistic=C.IDENTITY_STATISTIC.replace(
    "both targets (the paper's recursion as a plain loop, and stochopt.qh's target)",
    "the target (the TSO loop), QHM run with qhoptim's (lr, momentum, nu)"))
def qhoptim_narrow(ctx):
    curves, *_ = _qhoptim_run(ctx, narrow=True)
    return C.identity_check(ctx, curves, "qhoptim's TSO formula on narrow TSOs (q = 1, k = 0)",
                            "Max relative error per step and gradient source; passing: below the dashed 1e-12.")


@qhoptim_narrow.control(breaks=("general TSOs (shift != 0, so k != 0 and q != 1), outside the case qhoptim's formula was "
                                "written for: its first step lr' (1 - nu' momentum') differs from -z, so the relative "
                                "error at t = 1 is |lr' (1 - nu' momentum') + z| ||g_0|| / ||x_0 + z g_0|| (predicted)"))
def qhoptim_general(ctx):
    curves, sources, x0, tso, p = _qhoptim_run(ctx, narrow=False)
    predicted = C.first_step_errors(sources, x0, p["lr"] * (1 - p["nu"] * p["momentum"]), -tso["z"])
    return C.predicted_control(ctx, curves.statistic, curves.at(1), C.per_source(predicted, 1), "t = 1",
                               details={"max_relative_error": curves.worst()})


C.transfer_part(CLAIM, symbolic.prove_two_state, "from_two_state_optimizer: symbolic proof obligations",
                dict(start="zero-memory"), symbolic.OBLIGATIONS[1],
                breaks="the start a_0 = 0: off the invariant line, so exactly that obligation fails (statistic 1)")
