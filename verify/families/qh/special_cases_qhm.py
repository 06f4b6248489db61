"""qh.special-cases.qhm: QHM recovers SGD, heavy ball (EMA and undampened forms) and Nesterov exactly.

Ma & Yarats (Sec. 3) state that QHM recovers plain SGD, momentum and NAG; the exact forms (which
learning rate, which momentum convention) are written out here (spec 2.1). One part per case, each
against a plain loop of the target and, where stochopt has it, stochopt's method.
"""
import numpy as np

import stochopt
from stochopt import qh
from verify.registry import Claim

from . import _common as C
from ._targets import gd_loop
from .sizes import SIZES

CLAIM = Claim(
    id="qh.special-cases.qhm",
    statement=("QHM(lr, momentum beta, nu) is exactly: SGD(lr) when nu = 0, and when beta = 0 for any nu; "
               "heavy_ball(lr, beta) (EMA momentum) when nu = 1, i.e. undampened momentum (torch.optim.SGD) with "
               "lr (1 - beta); PyTorch's Nesterov SGD with lr (1 - beta) when nu = beta; for every gradient sequence."),
    source=f"{C.MA_YARATS}, Sec. 3 (QHM recovers SGD, momentum and NAG); spec 2.1 (the exact forms)",
    assumptions=["b_0 = 0, no weight decay", "the same gradient oracle"],
    sizes=SIZES["special-cases.qhm"],
)
STATISTIC = C.IDENTITY_STATISTIC.replace(
    "both targets (the paper's recursion as a plain loop, and stochopt.qh's target)",
    "the targets (a plain loop of the special case and, where it exists, stochopt's method)")


def _momentum_loop(lr, beta, nesterov):
    """torch.optim.SGD's undampened momentum: buf = beta buf + g; x -= lr (buf, or g + beta buf when nesterov)."""
    lr, beta = lr[:, None], beta[:, None]

    def run(x0, oracle, steps):
        x, buf, out = x0, np.zeros_like(x0), [x0]
        for t in range(steps):
            g = oracle(x, t)
            buf = beta * buf + g
            x = x - lr * (g + beta * buf if nesterov else buf)
            out.append(x)
        return np.stack(out)
    return run


def _ema_momentum_loop(lr, beta):
    """Heavy ball in the framework's EMA form: m = beta m + (1 - beta) g; x -= lr m."""
    lr, beta = lr[:, None], beta[:, None]

    def run(x0, oracle, steps):
        x, m, out = x0, np.zeros_like(x0), [x0]
        for t in range(steps):
            m = beta * m + (1 - beta) * oracle(x, t)
            x = x - lr * m
            out.append(x)
        return np.stack(out)
    return run


def _setup(ctx):
    rng, sources, x0 = C.setup(ctx)
    return sources, x0, C.qhm_draw(rng, ctx.size["replicas"])


def _compare(ctx, qhm_params, targets_of):
    sources, x0, (lr, beta, nu) = _setup(ctx)
    targets = targets_of(lr, beta, nu)
    curves = C.compare(C.method_run(qh.qhm(*qhm_params(lr, beta, nu))), targets, sources, x0, ctx.size["steps"])
    return curves, sources, x0, (lr, beta, nu), len(targets)


def _first_step_prediction(ctx, curves, sources, x0, n_targets, qhm_coef, target_coef):
    """Both first steps are x_0 - c g_0: the relative error at t = 1 is |c_QHM - c_target| ||g_0|| / ||x_0 - c_target g_0||."""
    predicted = C.first_step_errors(sources, x0, qhm_coef, target_coef)
    return C.predicted_control(ctx, curves.statistic, curves.at(1), C.per_source(predicted, n_targets), "t = 1",
                               details={"max_relative_error": curves.worst()})


def _check(ctx, curves, case):
    return C.identity_check(ctx, curves, f"QHM special case {case}, {ctx.size['replicas']} replicas",
                            "Max relative error per step, per gradient source and target; passing: every curve "
                            "below the dashed 1e-12.")


def _sgd_targets(lr, beta, nu):
    return {"SGD loop": lambda x, o, n: gd_loop(x, o, n, lr), "stochopt.sgd": C.method_run(stochopt.sgd(lr=lr))}


# ---------------------------------------------------------------------------- nu = 0
@CLAIM.part("nu = 0 is SGD", statistic=STATISTIC)
def nu_zero(ctx):
    return _check(ctx, _compare(ctx, lambda lr, beta, nu: (lr, beta, 0.0), _sgd_targets)[0], "nu = 0 vs SGD")


@nu_zero.control(breaks=("nu = 0.5 instead of 0: QHM's first step is lr (1 - nu beta) g_0, not lr g_0, so the relative "
                         "error at t = 1 is lr nu beta ||g_0|| / ||x_0 - lr g_0|| (predicted per replica and source)"))
def nu_half_vs_sgd(ctx):
    curves, sources, x0, (lr, beta, nu), n = _compare(ctx, lambda lr, beta, nu: (lr, beta, 0.5), _sgd_targets)
    return _first_step_prediction(ctx, curves, sources, x0, n, lr * (1 - 0.5 * beta), lr)


# ---------------------------------------------------------------------------- beta = 0
@CLAIM.part("beta = 0 is SGD for any nu", statistic=STATISTIC)
def beta_zero(ctx):
    return _check(ctx, _compare(ctx, lambda lr, beta, nu: (lr, 0.0, nu), _sgd_targets)[0], "beta = 0 vs SGD")


@beta_zero.control(breaks=("beta = 0.5 instead of 0: the first step is lr (1 - 0.5 nu) g_0, so the relative error at t = 1 "
                           "is 0.5 lr nu ||g_0|| / ||x_0 - lr g_0|| (predicted)"))
def beta_half_vs_sgd(ctx):
    curves, sources, x0, (lr, beta, nu), n = _compare(ctx, lambda lr, beta, nu: (lr, 0.5, nu), _sgd_targets)
    return _first_step_prediction(ctx, curves, sources, x0, n, lr * (1 - 0.5 * nu), lr)


# ---------------------------------------------------------------------------- nu = 1
def _hb_targets(lr, beta, nu):
    return {"EMA momentum loop": _ema_momentum_loop(lr, beta),
            "stochopt.heavy_ball": C.method_run(stochopt.heavy_ball(lr=lr, momentum=beta))}


@CLAIM.part("nu = 1 is heavy_ball(lr, beta)", statistic=STATISTIC)
def nu_one(ctx):
    return _check(ctx, _compare(ctx, lambda lr, beta, nu: (lr, beta, 1.0), _hb_targets)[0], "nu = 1 vs heavy ball")


@nu_one.control(breaks=("nu = 0.5 instead of 1: the first step is lr (1 - 0.5 beta) g_0 instead of lr (1 - beta) g_0, so "
                        "the relative error at t = 1 is 0.5 lr beta ||g_0|| / ||x_0 - lr (1 - beta) g_0|| (predicted)"))
def nu_half_vs_heavy_ball(ctx):
    curves, sources, x0, (lr, beta, nu), n = _compare(ctx, lambda lr, beta, nu: (lr, beta, 0.5), _hb_targets)
    return _first_step_prediction(ctx, curves, sources, x0, n, lr * (1 - 0.5 * beta), lr * (1 - beta))


def _torch_targets(rescale):
    def targets(lr, beta, nu):
        return {"undampened momentum loop (torch.optim.SGD)": _momentum_loop(lr * (1 - beta) if rescale else lr, beta,
                                                                             nesterov=False)}
    return targets


@CLAIM.part("nu = 1 is undampened momentum with lr (1 - beta)", statistic=STATISTIC)
def nu_one_torch(ctx):
    return _check(ctx, _compare(ctx, lambda lr, beta, nu: (lr, beta, 1.0), _torch_targets(True))[0],
                  "nu = 1 vs torch-style momentum")


@nu_one_torch.control(breaks=("the learning rate not rescaled (torch-style momentum with lr instead of lr (1 - beta), the "
                              "porting mistake): first steps lr (1 - beta) g_0 and lr g_0, so the relative error at t = 1 "
                              "is lr beta ||g_0|| / ||x_0 - lr g_0|| (predicted)"))
def nu_one_torch_not_rescaled(ctx):
    curves, sources, x0, (lr, beta, nu), n = _compare(ctx, lambda lr, beta, nu: (lr, beta, 1.0), _torch_targets(False))
    return _first_step_prediction(ctx, curves, sources, x0, n, lr * (1 - beta), lr)


# ---------------------------------------------------------------------------- nu = beta
def _nesterov_targets(lr, beta, nu):
    return {"Nesterov loop (torch.optim.SGD, nesterov=True)": _momentum_loop(lr * (1 - beta), beta, nesterov=True)}


@CLAIM.part("nu = beta is Nesterov SGD with lr (1 - beta)", statistic=STATISTIC)
def nu_beta(ctx):
    return _check(ctx, _compare(ctx, lambda lr, beta, nu: (lr, beta, beta), _nesterov_targets)[0],
                  "nu = beta vs torch-style Nesterov")


@nu_beta.control(breaks=("nu = 1 instead of beta (plain momentum, not Nesterov): first steps lr (1 - beta) g_0 and "
                         "lr (1 - beta)(1 + beta) g_0, so the relative error at t = 1 is lr (1 - beta) beta ||g_0|| / "
                         "||x_0 - lr (1 - beta^2) g_0|| (predicted)"))
def nu_one_vs_nesterov(ctx):
    curves, sources, x0, (lr, beta, nu), n = _compare(ctx, lambda lr, beta, nu: (lr, beta, 1.0), _nesterov_targets)
    return _first_step_prediction(ctx, curves, sources, x0, n, lr * (1 - beta), lr * (1 - beta) * (1 + beta))
