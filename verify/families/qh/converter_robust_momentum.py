"""qh.converter.robust-momentum: QHM with from_robust_momentum(L, kappa, rho) is Robust Momentum's y_k.

Cyrus, Hu, Van Scoy & Lessard (ACC 2018) tune x_{k+1} = x_k + beta (x_k - x_{k-1}) - alpha grad(y_k),
y_k = x_k + gamma (x_k - x_{k-1}) by rho in [1 - 1/sqrt(kappa), 1 - 1/kappa]; Ma & Yarats (App.) map it
to QHM through synthesized Nesterov. The target here is a plain loop whose (alpha, beta, gamma) are
written from Cyrus et al. in ``_targets``, independently of stochopt's coefficient code; the two
ends of the range anchor those formulas to algorithms with other formulas: at rho = 1 - 1/kappa the
gradient point follows gradient descent with step 1/L (gamma = beta/(1 - beta) there, so QHM's nu = 0
and its lr = alpha/(1 - beta) = 1/L: derived here), at rho = 1 - 1/sqrt(kappa) it is Van Scoy et
al.'s Triple Momentum.
"""
import numpy as np

from stochopt import qh
from verify.registry import Claim
from verify.symbolic import converters as symbolic

from . import _common as C
from ._targets import gd_loop, rm_coefficients, rm_loop, tm_coefficients, tm_loop
from .sizes import SIZES

CLAIM = Claim(
    id="qh.converter.robust-momentum",
    statement=("QHM with from_robust_momentum(L, kappa, rho) reproduces Robust Momentum's gradient point "
               "y_k = x_k + gamma (x_k - x_{k-1}) (Cyrus et al.'s alpha, beta, gamma; rho in [1 - 1/sqrt(kappa), "
               "1 - 1/kappa]) for every k and every gradient sequence, from x_{-1} = x_0; at rho = 1 - 1/kappa that is "
               "gradient descent with step 1/L, at rho = 1 - 1/sqrt(kappa) Van Scoy et al.'s Triple Momentum."),
    source=f"{C.MA_YARATS}, App.; Cyrus, Hu, Van Scoy & Lessard, ACC 2018 (arXiv 1710.04753)",
    assumptions=["matching sequence: the gradient point y_k, not x_k", "x_{-1} = x_0, QHM b_0 = 0", "kappa > 1",
                 "rho in [1 - 1/sqrt(kappa), 1 - 1/kappa]"],
    reconstructed="the two endpoint identities are derived here from Cyrus et al.'s formulas",
    sizes=SIZES["converter.robust-momentum"],
)


def _setup(ctx):
    rng, sources, x0 = C.setup(ctx)
    R = ctx.size["replicas"]
    L, kappa = rng.uniform(1.0, 2.0, R), C.log_uniform(rng, 10.0, 100.0, R)  # L >= max curvature 1
    return sources, x0, L, kappa, rng


def _qhm(L, kappa, rho):
    return C.method_run(qh.qhm(**qh.from_robust_momentum(L, kappa, rho)))


# ------------------------------------------------------------------------ any rho in the range
def _run(ctx, zero_memory=False):
    sources, x0, L, kappa, rng = _setup(ctx)
    low, high = 1 - 1 / np.sqrt(kappa), 1 - 1 / kappa
    rho = low + rng.uniform(0, 1, len(kappa)) * (high - low)
    x_prev = np.zeros_like(x0) if zero_memory else None
    _, _, gamma = rm_coefficients(L, kappa, rho)

    def start(state, x):   # the stochopt target started at x_{-1} = 0 (its buffer ``xi`` is the paper's x_k)
        return state.replace(x=(1 + gamma[:, None]) * x, buffers={**state.buffers, "xi": x,
                                                                   "xi_prev": np.zeros_like(x)})

    targets = {"RM loop (Cyrus et al.)": lambda x, o, n: rm_loop(x, o, n, L, kappa, rho, x_prev),
               "stochopt.qh.robust_momentum": C.method_run(qh.robust_momentum(L, kappa, rho),
                                                           start if zero_memory else None)}
    return C.compare(_qhm(L, kappa, rho), targets, sources, x0, ctx.size["steps"]), gamma


@CLAIM.part("gradient points y_k", statistic=C.IDENTITY_STATISTIC)
def iterates(ctx):
    curves, _ = _run(ctx)
    return C.identity_check(ctx, curves, f"from_robust_momentum: QHM vs Robust Momentum's y_k, "
                                         f"{ctx.size['replicas']} replicas",
                            "Max relative error per step, per gradient source and target; passing: every curve "
                            "below the dashed 1e-12.")


@iterates.control(breaks=("the wrong initial state x_{-1} = 0: the target's first gradient point is (1 + gamma) x_0, so "
                          "the relative error at t = 0 is gamma/(1 + gamma) (predicted per replica) and the same "
                          "statistic fails"))
def iterates_zero_memory(ctx):
    curves, gamma = _run(ctx, zero_memory=True)
    return C.predicted_control(ctx, curves.statistic, curves.at(0), np.tile(gamma / (1 + gamma), 2 * len(C.SOURCES)),
                               "t = 0", details={"max_relative_error": curves.worst()})


# ------------------------------------------------------------------ the ends of the range
def _gd_end(ctx, rho_of):
    sources, x0, L, kappa, _ = _setup(ctx)
    targets = {"gradient descent, step 1/L": lambda x, o, n: gd_loop(x, o, n, 1 / L)}
    return C.compare(_qhm(L, kappa, rho_of(kappa)), targets, sources, x0, ctx.size["steps"]), sources, x0, L, kappa


@CLAIM.part("rho = 1 - 1/kappa is gradient descent with step 1/L", statistic=C.IDENTITY_STATISTIC.replace(
    "both targets (the paper's recursion as a plain loop, and stochopt.qh's target)", "the target (gradient descent)"))
def gd_end(ctx):
    curves, *_ = _gd_end(ctx, lambda kappa: 1 - 1 / kappa)
    return C.identity_check(ctx, curves, "from_robust_momentum(rho = 1 - 1/kappa) vs gradient descent (1/L)",
                            "Max relative error per step and gradient source; passing: below the dashed 1e-12.")


@gd_end.control(breaks=("rho = 1 - 1/sqrt(kappa) (the other end of the range): QHM's first step is alpha (1 + gamma) g_0 "
                        "with Cyrus et al.'s coefficients instead of g_0/L, so the relative error at t = 1 is "
                        "|alpha (1 + gamma) - 1/L| ||g_0|| / ||x_0 - g_0/L|| (predicted per replica and source)"))
def gd_end_other_rho(ctx):
    curves, sources, x0, L, kappa = _gd_end(ctx, lambda kappa: 1 - 1 / np.sqrt(kappa))
    alpha, _, gamma = rm_coefficients(L, kappa, 1 - 1 / np.sqrt(kappa))
    predicted = C.first_step_errors(sources, x0, alpha * (1 + gamma), 1 / L)
    return C.predicted_control(ctx, curves.statistic, curves.at(1), C.per_source(predicted, 1), "t = 1",
                               details={"max_relative_error": curves.worst()})


def _tm_end(ctx, rho_of):
    sources, x0, L, kappa, _ = _setup(ctx)
    targets = {"TM loop (Van Scoy et al.)": lambda x, o, n: tm_loop(x, o, n, L, kappa)}
    return C.compare(_qhm(L, kappa, rho_of(kappa)), targets, sources, x0, ctx.size["steps"]), sources, x0, L, kappa


@CLAIM.part("rho = 1 - 1/sqrt(kappa) is Triple Momentum", statistic=C.IDENTITY_STATISTIC.replace(
    "both targets (the paper's recursion as a plain loop, and stochopt.qh's target)",
    "the target (Triple Momentum in Van Scoy et al.'s parametrization)"))
def tm_end(ctx):
    curves, *_ = _tm_end(ctx, lambda kappa: 1 - 1 / np.sqrt(kappa))
    return C.identity_check(ctx, curves, "from_robust_momentum(rho = 1 - 1/sqrt(kappa)) vs Triple Momentum",
                            "Max relative error per step and gradient source; passing: below the dashed 1e-12.")


@tm_end.control(breaks=("rho = 1 - 1/kappa (the other end): QHM takes gradient-descent steps g_0/L while Triple "
                        "Momentum's first step is (1 + gamma) alpha g_0 (Van Scoy et al.'s coefficients), so the relative "
                        "error at t = 1 is |(1 + gamma) alpha - 1/L| ||g_0|| / ||x_0 - (1 + gamma) alpha g_0|| (predicted)"))
def tm_end_other_rho(ctx):
    curves, sources, x0, L, kappa = _tm_end(ctx, lambda kappa: 1 - 1 / kappa)
    alpha, _, gamma, _ = tm_coefficients(L, kappa)
    predicted = C.first_step_errors(sources, x0, 1 / L, (1 + gamma) * alpha)
    return C.predicted_control(ctx, curves.statistic, curves.at(1), C.per_source(predicted, 1), "t = 1",
                               details={"max_relative_error": curves.worst()})


# --------------------------------------------------------------------------------- sympy
C.transfer_part(CLAIM, symbolic.prove_robust_momentum, "from_robust_momentum: symbolic proof obligations",
                dict(start="zero-memory"), symbolic.OBLIGATIONS[1],
                breaks="the start x_{-1} = 0: not a rest point, so exactly that obligation fails (statistic 1)")
