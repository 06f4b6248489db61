"""adaptive.adan.nme-identity: Nesterov momentum estimation, the reformulation Adan is built on.

Xie et al. (arXiv 2208.06677), Sec. 4.1: Nesterov's method (gradient at the extrapolated point
x_k - lr mu m_{k-1}) produces exactly the points xbar_k of the recursion
mbar_k = mu mbar_{k-1} + g_k + mu (g_k - g_{k-1}) with g_k taken at xbar_k and g_{-1} = 0
(mu = 1 - b). Adan's direction is this momentum, averaged: with b1 = b2 = b, m_k + (1 - b) v_k =
b mbar_k for the same gradients. Part 1 checks the identity itself (plain loops); part 2 checks
that ``stochopt.adan`` (paper convention, and the official one with converted betas) carries
exactly that direction in its buffers.
"""
from __future__ import annotations

import numpy as np

import stochopt
from stochopt import ground_truth
from verify.registry import Claim, decide

from ._adan import gradient_sequence, nesterov, nme, relative_gap, smooth_oracle
from ._common import ADAN, gap_figure
from .sizes import SIZES

CLAIM = Claim(
    id="adaptive.adan.nme-identity",
    statement="Nesterov's method equals the NME recursion mbar_k = (1-b) mbar_{k-1} + g_k + (1-b)(g_k - g_{k-1}) at "
              "xbar = x - lr(1-b) m exactly when g_{-1} = 0, and stochopt.adan with b1 = b2 = b carries "
              "m_k + (1-b) v_k = b mbar_k in its buffers (paper and official conventions), to 1e-10 relative.",
    source=ADAN + ", Sec. 4.1 (Nesterov momentum estimation) and Algorithm 1",
    assumptions=["m_{-1} = 0 and g_{-1} = 0", "b1 = b2 = b (Adan's two momenta set equal)",
                 "float64; 1e-10 relative is rounding over the run (a stated numerical tolerance)"],
    sizes=SIZES["adan-nme-identity"],
)

TOLERANCE = 1e-10


def _setup(ctx):
    s = ctx.size
    rng = np.random.default_rng([ctx.seed, 30])
    shape = (s["replicas"], s["d"])
    lr = rng.uniform(0.01, 0.05, size=(s["replicas"], 1))      # one stepsize per replica
    b = float(rng.uniform(0.05, 0.5))
    return shape, lr, b, rng.standard_normal(shape)


def _lemma(ctx, first_grad):
    shape, lr, b, x0 = _setup(ctx)
    grad = smooth_oracle(ctx.seed, shape, noise=0.0)                      # deterministic: a gradient field
    steps = ctx.size["steps"]
    look_ahead = nesterov(x0, grad, steps, lr, 1 - b)
    xbar, _ = nme(x0, grad, steps, lr, 1 - b, first_grad=first_grad)
    per_step = [relative_gap(xbar[k], look_ahead[k]) for k in range(steps + 1)]
    g0 = grad(x0, 0)      # the NME's first step is x0 - lr g0 instead of x0 - lr (2 - b) g0
    predicted = relative_gap(x0 - lr * g0, x0 - lr * (2 - b) * g0) if first_grad else 0.0
    details = {"max_relative_gap": max(per_step), "b": b, "g_minus_1": "g_0" if first_grad else "0",
               "predicted_first_step_gap": predicted, "measured_first_step_gap": per_step[1]}
    figs = [] if first_grad else gap_figure(ctx, "Nesterov's look-ahead points vs the NME recursion",
                                            {"|xbar_k - (x_k - lr mu m_(k-1))|": per_step}, TOLERANCE,
                                            "passing: the gap stays at rounding level (below the dashed line)")
    return decide(max(per_step), TOLERANCE, "lower", details=details, figures=figs)


@CLAIM.part("Nesterov equals the NME recursion",
            statistic="max over steps and replicas of ||xbar_k - (x_k - lr (1-b) m_(k-1))||_inf / max(||.||_inf, 1); "
                      "lower is good; threshold 1e-10 (rounding, a stated tolerance: the identity is exact)")
def lemma(ctx):
    return _lemma(ctx, first_grad=False)


@lemma.control(breaks="g_(-1) = g_0 (the official code's start) instead of 0: the first NME step lacks (1-b) g_0, so "
                      "xbar_1 is off by lr (1-b) g_0 (the predicted first-step gap, in details) and stays off")
def lemma_first_grad(ctx):
    return _lemma(ctx, first_grad=True)


def _adan_buffers(ctx, prev_grad):
    shape, lr, b, x0 = _setup(ctx)
    steps = ctx.size["steps"]
    g = gradient_sequence(ctx.seed, steps, shape)
    g_before = np.concatenate([np.zeros((1,) + shape), g[:-1]])         # g_(-1) = 0
    gaps, worst = {}, 0.0
    conventions = {"paper": dict(convention="paper", betas=(b, b, 0.01), bias_correction=False),
                   "official": dict(betas=(1 - b, 1 - b, 0.99), bias_correction=False)}
    for name, kw in conventions.items():
        buf = ground_truth.trajectory(stochopt.adan(lr=lr[:, 0], eps=1e-8, prev_grad=prev_grad, **kw), x0, g).buffers
        mbar, momentum = np.zeros(shape), 1 - b
        target = []
        for k in range(steps):                                         # NME momentum of the same gradients
            mbar = momentum * mbar + g[k] + momentum * (g[k] - g_before[k])
            target.append(b * mbar)
        direction = buf["m"][1:] + (1 - b) * buf["v"][1:]                 # the buffers after each step
        gaps[name] = [relative_gap(direction[k], target[k]) for k in range(steps)]
        worst = max(worst, max(gaps[name]))
    predicted = relative_gap(b * g[0], b * (2 - b) * g[0])            # with g_(-1) = g_0, k = 0: b g0, not b(2-b) g0
    return worst, gaps, b, predicted


@CLAIM.part("Adan's direction is the NME momentum",
            statistic="max over steps, replicas and both conventions of ||m_k + (1-b) v_k - b mbar_k||_inf / "
                      "max(||b mbar_k||_inf, 1), m and v read from stochopt.adan's buffers; lower is good; threshold "
                      "1e-10 (rounding, a stated tolerance)")
def adan_direction(ctx):
    worst, gaps, b, _ = _adan_buffers(ctx, "zero")
    figs = gap_figure(ctx, "stochopt.adan's m + (1-b) v against b x the NME momentum",
                      {f"{k} convention": v for k, v in gaps.items()}, TOLERANCE,
                      "passing: both conventions stay at rounding level (below the dashed line)")
    return decide(worst, TOLERANCE, "lower", details={"max_relative_gap": worst, "b": b}, figures=figs)


@adan_direction.control(breaks="g_(-1) = g_0 (prev_grad='first', the official start) instead of 0: v_0 loses b g_0, "
                               "so the direction is off by b (1-b)^(k+1) g_0; at k = 0 the relative gap is "
                               "(1-b)/(2-b) of the step (predicted, in details)")
def adan_direction_first_grad(ctx):
    worst, _, b, predicted = _adan_buffers(ctx, "first")
    return decide(worst, TOLERANCE, "lower",
                  details={"max_relative_gap": worst, "b": b, "predicted_gap_at_k0": predicted})
