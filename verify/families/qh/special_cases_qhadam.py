"""qh.special-cases.qhadam: QHAdam recovers Adam, AdamW and Adam with beta1 = 0; its first step is lr g/(|g| + eps).

Ma & Yarats (Sec. 4) state that QHAdam recovers Adam and RMSProp (the latter "modulo bias
correction"); the exact statements are written out here (spec 2.2). One part per statement, each
against the project's ground truth (``stochopt.ground_truth``: one plain loop per method, here
Adam, AdamW, and RMSprop in Adam's and in torch's convention) and, where it exists, stochopt's method.

The gradients are open-loop sequences (Gaussian and Cauchy, scaled by 1e-3..1e3 per replica so that
eps matters): closed loop, Adam-type steps near a minimiser are not contractive and amplify rounding
(a 1e-16 difference grows to 1e-2 within 300 steps on a quadratic), which would measure the
dynamics' sensitivity, not the identity. The identities hold for every gradient sequence.
"""
import numpy as np

import stochopt
from stochopt import ground_truth as truth
from stochopt import qh
from verify.registry import Claim

from . import _common as C
from .sizes import SIZES

CLAIM = Claim(
    id="qh.special-cases.qhadam",
    statement=("QHAdam with nus = (1, 1) is Adam (coupled weight decay) and QHAdamW with nus = (1, 1) is AdamW; nus = "
               "(0, 1) is Adam with beta1 = 0 (RMSProp with a bias-corrected second moment); the first step is "
               "lr g/(|g| + eps) for any nus; for every gradient sequence."),
    source=f"{C.MA_YARATS}, Sec. 4 (QHAdam recovers Adam, RMSProp and NAdam); spec 2.2",
    assumptions=["bias-corrected moments, eps outside the square root", "the same gradient oracle"],
    sizes=SIZES["special-cases.qhadam"],
)
STATISTIC = C.IDENTITY_STATISTIC.replace(
    "both targets (the paper's recursion as a plain loop, and stochopt.qh's target)",
    "the targets (stochopt.ground_truth's plain loop and, where it exists, stochopt's method)").replace(
    "the three gradient sources", "two open-loop gradient sequences (Gaussian and Cauchy, scaled by 1e-3..1e3 per "
    "replica so that eps matters)")


class OpenLoop:
    """An open-loop gradient source: ``oracle(x, t)`` returns ``gradients[t]`` whatever x."""

    def __init__(self, gradients):
        self.gradients = gradients

    def __call__(self, x, t):
        return self.gradients[t]


def ground_truth(fn, **hyper):
    """A target run by ``stochopt.ground_truth``'s plain loop on the source's gradient array."""
    return lambda x0, oracle, steps: fn(x0, oracle.gradients[:steps], **hyper).x


def _setup(ctx):
    size = ctx.size
    rng = np.random.default_rng(ctx.seed)
    R, d = size["replicas"], size["dim"]
    scale = C.log_uniform(rng, 1e-3, 1e3, (1, R, 1))
    sources = {"gaussian": OpenLoop(scale * rng.standard_normal((size["steps"], R, d))),
               "cauchy": OpenLoop(scale * rng.standard_cauchy((size["steps"], R, d)))}
    x0 = rng.standard_normal((R, d))
    hp = dict(lr=C.log_uniform(rng, 1e-3, 1e-1, R), beta1=rng.uniform(0.5, 0.95, R), beta2=rng.uniform(0.9, 0.9999, R),
              eps=C.log_uniform(rng, 1e-10, 1e-6, R), wd=rng.uniform(0.0, 0.1, R))
    return sources, x0, hp, rng


def _rel(a, b):
    return np.linalg.norm(a - b, axis=-1) / np.linalg.norm(b, axis=-1)


def _check(ctx, curves, case):
    return C.identity_check(ctx, curves, f"QHAdam special case {case}, {ctx.size['replicas']} replicas",
                            "Max relative error per step, per gradient source and target; passing: every curve "
                            "below the dashed 1e-12.")


# -------------------------------------------------------------------- nus = (1, 1): Adam
def _adam_case(ctx, nu1):
    sources, x0, h, _ = _setup(ctx)
    qhadam = qh.qhadam(h["lr"], (h["beta1"], h["beta2"]), (nu1, 1.0), h["wd"], eps=h["eps"])
    betas = (h["beta1"], h["beta2"])
    targets = {"ground_truth.adam": ground_truth(truth.adam, lr=h["lr"], betas=betas, eps=h["eps"], weight_decay=h["wd"]),
               "stochopt.adam": C.method_run(stochopt.adam(h["lr"], betas, h["eps"], h["wd"]))}
    return C.compare(C.method_run(qhadam), targets, sources, x0, ctx.size["steps"]), sources, x0, h


@CLAIM.part("nus = (1, 1) is Adam", statistic=STATISTIC)
def adam(ctx):
    return _check(ctx, _adam_case(ctx, 1.0)[0], "nus = (1, 1) vs Adam")


@adam.control(breaks=("nu1 = 0 instead of 1: the first step is the same for any nus, the second is lr g~_1/den instead of "
                      "lr m^_2/den (g~ with the coupled decay, m^_2 the bias-corrected EMA, den = sqrt(v^_2) + eps), so "
                      "the relative error at t = 2 is ||lr (m^_2 - g~_1)/den|| / ||x_2^Adam|| (predicted from the two "
                      "steps written out)"))
def adam_nu1_zero(ctx):
    curves, sources, x0, h = _adam_case(ctx, 0.0)
    lr, b1, b2, eps, wd = (h[k][:, None] for k in ("lr", "beta1", "beta2", "eps", "wd"))
    predicted = {}
    for s, oracle in sources.items():
        g0 = oracle(x0, 0) + wd * x0
        x1 = x0 - lr * g0 / (np.abs(g0) + eps)                     # step 1: m^ = g, v^ = g^2
        g1 = oracle(x1, 1) + wd * x1
        m_hat = (b1 * (1 - b1) * g0 + (1 - b1) * g1) / (1 - b1 ** 2)
        den = np.sqrt((b2 * (1 - b2) * g0 ** 2 + (1 - b2) * g1 ** 2) / (1 - b2 ** 2)) + eps
        predicted[s] = _rel(x1 - lr * g1 / den, x1 - lr * m_hat / den)
    return C.predicted_control(ctx, curves.statistic, curves.at(2), C.per_source(predicted, 2), "t = 2",
                               details={"max_relative_error": curves.worst()})


# ------------------------------------------------------------------ QHAdamW (1, 1): AdamW
def _adamw_case(ctx, decoupled):
    sources, x0, h, _ = _setup(ctx)
    betas = (h["beta1"], h["beta2"])
    method = qh.qhadamw(h["lr"], betas, (1.0, 1.0), h["wd"], eps=h["eps"]) if decoupled else \
        qh.qhadam(h["lr"], betas, (1.0, 1.0), h["wd"], eps=h["eps"])
    targets = {"ground_truth.adamw": ground_truth(truth.adamw, lr=h["lr"], betas=betas, eps=h["eps"],
                                                  weight_decay=h["wd"]),
               "stochopt.adamw": C.method_run(stochopt.adamw(h["lr"], betas, h["eps"], h["wd"]))}
    return C.compare(C.method_run(method), targets, sources, x0, ctx.size["steps"]), sources, x0, h


@CLAIM.part("qhadamw with nus = (1, 1) is AdamW", statistic=STATISTIC)
def adamw(ctx):
    return _check(ctx, _adamw_case(ctx, True)[0], "QHAdamW nus = (1, 1) vs AdamW")


@adamw.control(breaks=("coupled instead of decoupled weight decay (qhadam, not qhadamw): x_1 = x_0 - lr g~/(|g~| + eps) "
                       "with g~ = g_0 + lambda x_0, against AdamW's (1 - lr lambda) x_0 - lr g_0/(|g_0| + eps); the "
                       "relative error at t = 1 is predicted from these two formulas"))
def adamw_coupled(ctx):
    curves, sources, x0, h = _adamw_case(ctx, False)
    lr, eps, wd = (h[k][:, None] for k in ("lr", "eps", "wd"))
    predicted = {}
    for s, oracle in sources.items():
        g0 = oracle(x0, 0)
        coupled = x0 - lr * (g0 + wd * x0) / (np.abs(g0 + wd * x0) + eps)
        predicted[s] = _rel(coupled, (1 - lr * wd) * x0 - lr * g0 / (np.abs(g0) + eps))
    return C.predicted_control(ctx, curves.statistic, curves.at(1), C.per_source(predicted, 2), "t = 1",
                               details={"max_relative_error": curves.worst()})


# ------------------------------------------------------------- nus = (0, 1): Adam(beta1 = 0)
def _rms_case(ctx, bias_correction):
    sources, x0, h, _ = _setup(ctx)
    qhadam = qh.qhadam(h["lr"], (h["beta1"], h["beta2"]), (0.0, 1.0), eps=h["eps"])
    convention = "adam" if bias_correction else "torch"
    targets = {f"ground_truth.rmsprop ({convention} convention)": ground_truth(
        truth.rmsprop, lr=h["lr"], alpha=h["beta2"], eps=h["eps"], convention=convention)}
    return C.compare(C.method_run(qhadam), targets, sources, x0, ctx.size["steps"]), sources, x0, h


@CLAIM.part("nus = (0, 1) is Adam with beta1 = 0", statistic=STATISTIC)
def rmsprop(ctx):
    return _check(ctx, _rms_case(ctx, True)[0], "nus = (0, 1) vs Adam(beta1 = 0)")


@rmsprop.control(breaks=("RMSProp without bias correction (torch.optim.RMSprop's convention): the recovery holds only "
                         "modulo bias correction; the first steps are lr g_0/(|g_0| + eps) and lr g_0/(sqrt(1 - beta2) "
                         "|g_0| + eps), so the relative error at t = 1 is predicted from these two formulas"))
def rmsprop_no_bias_correction(ctx):
    curves, sources, x0, h = _rms_case(ctx, False)
    lr, b2, eps = (h[k][:, None] for k in ("lr", "beta2", "eps"))
    predicted = {s: _rel(x0 - lr * o(x0, 0) / (np.abs(o(x0, 0)) + eps),
                         x0 - lr * o(x0, 0) / (np.sqrt(1 - b2) * np.abs(o(x0, 0)) + eps)) for s, o in sources.items()}
    return C.predicted_control(ctx, curves.statistic, curves.at(1), C.per_source(predicted, 1), "t = 1",
                               details={"max_relative_error": curves.worst()})


# ----------------------------------------------------------------------------- first step
def _first_step(ctx, k):
    """QHAdam's first step from a state that has taken ``k`` steps (k = 0: the first step), random nus."""
    sources, x0, h, rng = _setup(ctx)
    R = len(h["lr"])
    nus = (rng.uniform(-0.5, 1.5, R), rng.uniform(0.0, 1.0, R))
    opt = qh.qhadam(h["lr"], (h["beta1"], h["beta2"]), nus, eps=h["eps"])
    lr, eps = h["lr"][:, None], h["eps"][:, None]
    curves = {}
    for s, o in sources.items():
        x1 = opt.step(opt.init(x0).replace(k=k), o(x0, 0)).x
        curves[f"{s}: lr g/(|g| + eps)"] = C.rel_error(np.stack([x0, x1]), np.stack([x0, x0 - lr * o(x0, 0) / (
            np.abs(o(x0, 0)) + eps)]))
    return C.Curves(curves), sources, x0, h, nus


@CLAIM.part("the first step is lr g/(|g| + eps) for any nus", statistic=STATISTIC.replace(
    "steps t = 0..T", "the first step").replace("the targets (stochopt.ground_truth's plain loop and, where it exists, "
                                                "stochopt's method)", "the target x_0 - lr g_0/(|g_0| + eps)"))
def first_step(ctx):
    return _check(ctx, _first_step(ctx, 0)[0], "first step, random nus")


@first_step.control(breaks=("no bias correction (a state after 10^7 steps, where 1 - beta^t = 1 in float64 for every "
                            "beta2 <= 0.9999 drawn: 0.9999^(10^7) underflows to 0): the step is "
                            "lr g (1 - nu1 beta1)/(sqrt(1 - nu2 beta2) |g| + eps), so the relative error at t = 1 is "
                            "predicted from that formula"))
def first_step_no_bias_correction(ctx):
    # 10^7, not 10^5: 0.9999^(10^5 + 1) = 4.5e-5 would leave a bias correction the prediction ignores
    curves, sources, x0, h, (nu1, nu2) = _first_step(ctx, 10_000_000)
    lr, b1, b2, eps, nu1, nu2 = (v[:, None] for v in (h["lr"], h["beta1"], h["beta2"], h["eps"], nu1, nu2))
    predicted = {s: _rel(x0 - lr * o(x0, 0) * (1 - nu1 * b1) / (np.sqrt(1 - nu2 * b2) * np.abs(o(x0, 0)) + eps),
                         x0 - lr * o(x0, 0) / (np.abs(o(x0, 0)) + eps)) for s, o in sources.items()}
    return C.predicted_control(ctx, curves.statistic, curves.at(1), C.per_source(predicted, 1), "t = 1",
                               details={"max_relative_error": curves.worst()})
