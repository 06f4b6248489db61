"""qh.converter.synthesized-nesterov: QHM reproduces synthesized Nesterov's gradient point y_t.

Lessard, Recht & Packard (2016, Sec. 6) write the family xi_{t+1} = xi_t + beta1 (xi_t - xi_{t-1})
- alpha grad(y_t), y_t = xi_t + beta2 (xi_t - xi_{t-1}); Ma & Yarats (App.) give the QHM
hyperparameters. Which sequence matches (y_t, not xi_t) and from which start (xi_{-1} = xi_0 = x_0)
is stated here, not in the sources.
"""
import numpy as np

from stochopt import qh
from verify.registry import Claim
from verify.symbolic import converters as symbolic

from . import _common as C
from ._targets import snv_loop
from .sizes import SIZES

CLAIM = Claim(
    id="qh.converter.synthesized-nesterov",
    statement=("QHM with from_synthesized_nesterov(alpha, beta1, beta2) = (alpha/(1 - beta1), beta1, "
               "1 - beta2 (1 - beta1)/beta1) reproduces synthesized Nesterov's gradient point "
               "y_t = xi_t + beta2 (xi_t - xi_{t-1}) for every t and every gradient sequence, with xi_{-1} = xi_0 = x_0."),
    source=f"{C.MA_YARATS}, App.; Lessard, Recht & Packard, SIAM J. Optim. 2016 (arXiv 1408.3595), Sec. 6",
    assumptions=["matching sequence: the gradient point y_t", "xi_{-1} = xi_0 = x_0, QHM b_0 = 0",
                 "alpha > 0, 0 < beta1 < 1"],
    sizes=SIZES["converter.synthesized-nesterov"],
)


def _zero_memory(beta2):
    """Start the stochopt target at xi_{-1} = 0: its first gradient point is y_0 = (1 + beta2) x_0."""
    def start(state, x0):
        return state.replace(x=(1 + beta2[:, None]) * x0, buffers={**state.buffers, "xi": x0,
                                                                    "xi_prev": np.zeros_like(x0)})
    return start


def _run(ctx, zero_memory=False):
    rng, sources, x0 = C.setup(ctx)
    R = ctx.size["replicas"]
    alpha, beta1, beta2 = rng.uniform(0.05, 0.5, R), rng.uniform(0.1, 0.9, R), rng.uniform(0.0, 1.0, R)
    xi_prev = np.zeros_like(x0) if zero_memory else None
    targets = {"SNV loop (paper)": lambda x, o, n: snv_loop(x, o, n, alpha, beta1, beta2, xi_prev),
               "stochopt.qh.synthesized_nesterov": C.method_run(qh.synthesized_nesterov(alpha, beta1, beta2),
                                                                _zero_memory(beta2) if zero_memory else None)}
    qhm = C.method_run(qh.qhm(**qh.from_synthesized_nesterov(alpha, beta1, beta2)))
    return C.compare(qhm, targets, sources, x0, ctx.size["steps"]), beta2


@CLAIM.part("gradient points y_t", statistic=C.IDENTITY_STATISTIC)
def iterates(ctx):
    curves, _ = _run(ctx)
    return C.identity_check(ctx, curves, f"from_synthesized_nesterov: QHM vs y_t, {ctx.size['replicas']} replicas",
                            "Max relative error per step, per gradient source and target; passing: every curve "
                            "below the dashed 1e-12.")


@iterates.control(breaks=("the wrong initial state xi_{-1} = 0 (instead of x_0): the target's first gradient point is "
                          "y_0 = (1 + beta2) x_0, so the relative error at t = 0 is beta2/(1 + beta2) (predicted per "
                          "replica, up to 0.5), and the same statistic fails"))
def iterates_zero_memory(ctx):
    curves, beta2 = _run(ctx, zero_memory=True)
    predicted = np.tile(beta2 / (1 + beta2), 2 * len(C.SOURCES))
    return C.predicted_control(ctx, curves.statistic, curves.at(0), predicted, "t = 0",
                               details={"max_relative_error": curves.worst()})


C.transfer_part(CLAIM, symbolic.prove_synthesized_nesterov, "from_synthesized_nesterov: symbolic proof obligations",
                dict(start="zero-memory"), symbolic.OBLIGATIONS[1],
                breaks=("the start xi_{-1} = 0: it is not a rest point of the zero-gradient dynamics, so exactly "
                      "that obligation fails (statistic 1) while the transfer functions stay equal"))
