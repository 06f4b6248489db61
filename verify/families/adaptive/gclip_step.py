"""adaptive.delta-gclip.step-factor: delta-GClip's step factor stays in [lr delta, lr], so it never stalls.

Tucat, Mukherjee et al. (arXiv 2404.08624): x <- x - h(x) grad f(x), h = lr min(1, max(delta, gamma/||grad f||)).
h >= lr delta is what separates delta-GClip from plain clipping (delta = 0), whose h = lr gamma/||g||
vanishes when gradients are huge. On a mu-PL, L-smooth f with lr <= 1/L, any step h in [lr delta, lr]
decreases f by at least (h/2)||g||^2 >= mu h (f - f*), so (f_k - f*) <= (1 - mu lr delta)^k (f_0 - f*):
a linear rate whatever the gradient scale (this consequence is our derivation from the definition).
"""
from __future__ import annotations

import math

import numpy as np

import problems
import stochopt
from verify.registry import Claim, decide
from verify.sde import loss_and_gradient

from ._common import GCLIP, figure
from .sizes import SIZES

CLAIM = Claim(
    id="adaptive.delta-gclip.step-factor",
    statement="delta-GClip's step factor h = lr min(1, max(delta, gamma/||g||)) lies in [lr delta, lr] at every step "
              "whatever the gradient scale, and hence never stalls: on a mu-PL quadratic with lr <= 1/L, "
              "(f_k - f*)/(f_0 - f*) <= (1 - mu lr delta)^k at every k, even from starts with gradients of 1e2..1e5.",
    source=GCLIP + ", definition of delta-GClip (the PL rate from h >= lr delta is our derivation)",
    assumptions=["delta > 0", "global l2 norm of the whole gradient",
                 "f mu-PL and L-smooth, lr <= 1/L (no-stall part)"],
    reconstructed="the linear-rate consequence of h >= lr delta (derived here, not a statement of the paper)",
    sizes=SIZES["delta-gclip-step-factor"],
)

LR, GAMMA, DELTA = 0.3, 0.1, 1e-3


def _factors(ctx, delta):
    s = ctx.size
    rng = np.random.default_rng([ctx.seed, 60])
    opt = stochopt.delta_gclip(lr=LR, gamma=GAMMA, delta=delta)
    scales = 10.0 ** rng.uniform(-6, 6, size=(s["replicas"], 1))     # gradient norms over 12 decades
    state = opt.init(rng.standard_normal((s["replicas"], s["d"])))
    hs, norms = [], []
    for _ in range(s["steps"]):
        g = scales * rng.standard_normal(state.x.shape) + 0.1 * state.x
        new = opt.step(state, g)
        hs.append(-np.sum((new.x - state.x) * g, axis=1) / np.sum(g * g, axis=1))   # the factor actually used
        norms.append(np.sqrt(np.sum(g * g, axis=1)))
        state = new
    return np.concatenate(hs) / LR, np.concatenate(norms)


_TOL = 1e-9   # relative rounding in recovering h from the iterates


@CLAIM.part("h in [lr delta, lr]",
            statistic="number of steps (over replicas with gradient norms 1e-6..1e6) whose measured factor "
                      "h = -<x_(k+1) - x_k, g>/||g||^2 leaves [lr delta, lr] by more than 1e-9 relative; lower is "
                      "good; threshold 0 (the definition)")
def bounds(ctx):
    h, norms = _factors(ctx, DELTA)
    violations = int(np.sum((h < DELTA * (1 - _TOL)) | (h > 1 + _TOL)))
    fig, ax = figure("delta-GClip step factor h / lr against the gradient norm", "||g|| (log)", "h / lr (log)")
    ax.loglog(norms, np.maximum(h, 1e-30), ".", ms=2, alpha=0.4)
    ax.axhline(DELTA, color="k", ls="--", label="delta")
    ax.axhline(1.0, color="k", ls=":", label="1")
    ax.legend(fontsize=7)
    return decide(violations, 0, "lower", details={"violations": violations, "samples": int(h.size),
                                                    "min_h_over_lr": float(h.min()), "max_h_over_lr": float(h.max())},
                  figures=ctx.figures((fig, "passing: every point lies between the dashed (delta) and dotted (1) "
                                            "lines")))


@bounds.control(breaks="delta = 0 (plain clipping): h = lr gamma/||g|| falls below lr delta exactly when "
                       "||g|| > gamma/delta; the number of violations equals that count (predicted, in details)")
def bounds_no_delta(ctx):
    h, norms = _factors(ctx, 0.0)
    violations = int(np.sum((h < DELTA * (1 - _TOL)) | (h > 1 + _TOL)))
    return decide(violations, 0, "lower", details={"violations": violations, "samples": int(h.size),
                                                    "predicted_violations": int(np.sum(norms > GAMMA / DELTA))})


MU = 0.1                   # curvatures in [MU, 1]: mu-PL, 1-smooth, lr = 1 <= 1/L
STALL_DELTA = 1e-2


def _stall_run(ctx, delta):
    s = ctx.size
    rng = np.random.default_rng([ctx.seed, 61])
    p = problems.get("noisy-quadratic", hessian=np.linspace(MU, 1.0, s["d"]).tolist(), noise_cov=0.0)
    radius = 10.0 ** rng.uniform(2, 5, size=(s["stall_replicas"], 1))   # ||grad f(x_0)|| about 1e1 to 1e5
    direction = rng.standard_normal((s["stall_replicas"], s["d"]))
    x = radius * direction / np.linalg.norm(direction, axis=1, keepdims=True)
    opt = stochopt.delta_gclip(lr=1.0, gamma=GAMMA, delta=delta)
    state = opt.init(x)
    value, grad = loss_and_gradient(p)          # p's own numbers, by elementwise products (diagonal A)
    values = [value(x)]
    for _ in range(s["stall_steps"]):
        state = opt.step(state, grad(state.x))
        values.append(value(state.x))
    ratio = np.array(values) / values[0]                          # (f_k - f*) / (f_0 - f*), f* = 0
    k = np.arange(len(values))[:, None]
    excess = np.log10(np.maximum(ratio, 1e-300)) - k * math.log10(1 - MU * STALL_DELTA)
    # a step of plain clipping moves x by at most gamma, so ||x_K|| >= ||x_0|| - K gamma and f_K >= mu/2 (...)^2
    K = s["stall_steps"]
    floor = MU / 2 * np.maximum(radius[:, 0] - K * GAMMA, 0.0) ** 2 / values[0]
    predicted = float(np.max(np.log10(np.maximum(floor, 1e-300)) - K * math.log10(1 - MU * STALL_DELTA)))
    return float(excess[1:].max()), ratio, predicted


_STALL_STAT = ("max over steps k >= 1 and replicas of log10[(f_k - f*)/(f_0 - f*)] - k log10(1 - mu lr delta), the "
               "excess over the guaranteed linear rate, in decades; lower is good; threshold 0 (the bound itself)")


@CLAIM.part("no stall under huge gradients", statistic=_STALL_STAT)
def no_stall(ctx):
    stat, ratio, _ = _stall_run(ctx, STALL_DELTA)
    fig, ax = figure("delta-GClip from huge gradients: loss ratio vs the guaranteed rate", "step k",
                     "(f_k - f*)/(f_0 - f*) (log)")
    ax.semilogy(np.maximum(ratio, 1e-300), color="C0", alpha=0.5)
    ks = np.arange(ratio.shape[0])
    ax.semilogy(ks, (1 - MU * STALL_DELTA) ** ks, "k--", lw=2, label="(1 - mu lr delta)^k")
    ax.legend(fontsize=7)
    return decide(stat, 0.0, "lower", details={"excess_decades": stat, "delta": STALL_DELTA, "mu": MU},
                  figures=ctx.figures((fig, "passing: every run stays below the dashed guaranteed rate")))


@no_stall.control(breaks="delta = 0 (plain clipping): each step moves x by at most lr gamma, so from ||g|| up to 1e5 "
                         "the loss barely moves and exceeds the rate by at least predicted_excess decades")
def no_stall_without_delta(ctx):
    stat, _, predicted = _stall_run(ctx, 0.0)
    return decide(stat, 0.0, "lower", details={"excess_decades": stat, "predicted_excess_at_least": predicted})
