"""adaptive.adan.conventions: stochopt.adan is Adan's Algorithm 1 in every convention it offers.

Xie et al. (arXiv 2208.06677), Algorithm 1, and the official code (sail-sg/Adan, adan.py), whose
conventions differ from the paper's by conversions: its betas are 1 - the paper's, it divides m, v,
n by their bias corrections, starts with g_(-1) = g_0, offers decoupled decay (no_prox) and
restarts. Each part runs ``stochopt.adan`` in one convention against Adan's plain loop
(``stochopt.ground_truth.adan``: Algorithm 1 written from the paper's equations, one replica and one
step at a time, sharing no code with the rule) on stochastic gradients whose differences g_k - g_(k-1)
span two decades, with one stepsize and one decay per replica. Each control hands the plain loop the
convention with one assumption broken; the statistic must then equal the gap between the two plain
loops (the predicted amount, in details).
"""
from __future__ import annotations

import numpy as np

import stochopt
from stochopt import ground_truth
from verify.registry import Claim, decide

from ._adan import gradient_sequence, relative_gap
from ._common import ADAN, gap_figure, per_run
from .sizes import SIZES

CLAIM = Claim(
    id="adaptive.adan.conventions",
    statement="stochopt.adan equals the paper's Algorithm 1 written as a plain loop, iterate by iterate to 1e-10 "
              "relative, in the paper convention, the official one (betas 1 - b, bias corrections, g_(-1) = g_0), "
              "with decoupled decay (no_prox) and with restarts.",
    source=ADAN + ", Algorithm 1, and the official code (sail-sg/Adan, adan.py)",
    assumptions=["official beta_i = 1 - paper beta_i", "official: m, v, n divided by 1 - (1 - b_i)^t, g_(-1) = g_0",
                 "no_prox: x <- (1 - lr lambda) x before the step; prox: division by 1 + lr lambda after it",
                 "restart: moments, step count and g_(-1) reset every N steps",
                 "float64; 1e-10 relative is rounding over the run (a stated numerical tolerance)"],
    sizes=SIZES["adan-conventions"],
)

TOLERANCE = 1e-10
PAPER = (0.02, 0.08, 0.01)           # the paper's default betas (weights of the new term)
_STATISTIC = ("max over steps and replicas of ||x_k - x_k^loop||_inf / max(||x_k^loop||_inf, 1) between stochopt.adan "
              "and the plain loop of Algorithm 1; lower is good; threshold 1e-10 (rounding, a stated tolerance)")


@per_run
def _inputs(ctx):
    """Per-replica stepsizes and decays, x0 and the gradient sequence of a run."""
    s = ctx.size
    rng = np.random.default_rng([ctx.seed, 40])
    shape = (s["replicas"], s["d"])
    lr = rng.uniform(0.005, 0.05, size=s["replicas"])
    wd = rng.uniform(0.0, 0.1, size=s["replicas"])
    return lr, wd, rng.standard_normal(shape), gradient_sequence(ctx.seed, s["steps"], shape)


@per_run
def _iterates(ctx, which, items):
    """Iterates (steps + 1, R, d) of stochopt.adan ("method") or of its ground-truth loop ("loop") with the
    keyword arguments ``items``; memoised, so a control does not rerun what its check ran."""
    lr, wd, x0, grads = _inputs(ctx)
    if which == "method":
        return ground_truth.trajectory(stochopt.adan(lr=lr, weight_decay=wd, eps=1e-8, **dict(items)), x0, grads).x
    return ground_truth.adan(x0, grads, lr=lr, eps=1e-8, weight_decay=wd, **dict(items)).x


def _gaps(a, b):
    return [relative_gap(a[k], b[k]) for k in range(a.shape[0])]


def _compare(ctx, method_kw, loop_kw, broken_kw=None, title=None):
    """stochopt.adan(**method_kw) against ground_truth.adan(**loop_kw); a control replaces loop_kw by broken_kw."""
    xs = _iterates(ctx, "method", tuple(sorted(method_kw.items())))
    truth = _iterates(ctx, "loop", tuple(sorted(loop_kw.items())))
    per_step = _gaps(xs, truth)
    details = {"max_relative_gap": max(per_step), "stochopt": {k: str(v) for k, v in method_kw.items()},
               "loop": {k: str(v) for k, v in loop_kw.items()}}
    if broken_kw is not None:
        broken = _iterates(ctx, "loop", tuple(sorted(broken_kw.items())))
        gap = max(_gaps(xs, broken))
        details.update(max_relative_gap=gap, loop={k: str(v) for k, v in broken_kw.items()},
                       predicted_gap=max(_gaps(truth, broken)))
        return decide(gap, TOLERANCE, "lower", details=details)
    figs = gap_figure(ctx, title, {"stochopt.adan vs the plain loop": per_step}, TOLERANCE,
                      "passing: the gap stays at rounding level, below the dashed line, for the whole run")
    return decide(max(per_step), TOLERANCE, "lower", details=details, figures=figs)


_PAPER_LOOP = dict(convention="paper", betas=PAPER)
_OFFICIAL_LOOP = dict(convention="paper", betas=PAPER, bias_correction=True, prev_grad="first")


@CLAIM.part("paper convention", statistic=_STATISTIC)
def paper(ctx):
    return _compare(ctx, dict(convention="paper", betas=PAPER), _PAPER_LOOP,
                    title="stochopt.adan (paper convention) vs Algorithm 1")


@paper.control(breaks="g_(-1) = g_0 in the loop instead of the paper's 0: the first v and n differ by b2 g_0, so "
                      "the iterates part by the gap between the two loops (predicted_gap)")
def paper_first_grad(ctx):
    return _compare(ctx, dict(convention="paper", betas=PAPER), _PAPER_LOOP, dict(_PAPER_LOOP, prev_grad="first"))


@CLAIM.part("official convention", statistic=_STATISTIC)
def official(ctx):
    return _compare(ctx, dict(betas=tuple(1 - b for b in PAPER)), _OFFICIAL_LOOP,
                    title="stochopt.adan (official convention) vs Algorithm 1 converted")


@official.control(breaks="the official betas (0.98, 0.92, 0.99) used as the paper's, unconverted: the new terms get "
                         "weight ~1 instead of ~0.02, so the loop runs a different method (gap = predicted_gap)")
def official_unconverted(ctx):
    return _compare(ctx, dict(betas=tuple(1 - b for b in PAPER)), _OFFICIAL_LOOP,
                    dict(_OFFICIAL_LOOP, betas=tuple(1 - b for b in PAPER)))


@CLAIM.part("decoupled decay (no_prox)", statistic=_STATISTIC)
def decoupled(ctx):
    return _compare(ctx, dict(betas=tuple(1 - b for b in PAPER), no_prox=True), dict(_OFFICIAL_LOOP, no_prox=True),
                    title="stochopt.adan (no_prox) vs Algorithm 1 with decoupled decay")


@decoupled.control(breaks="the proximal decay x/(1 + lr lambda) in the loop instead of (1 - lr lambda) x: the two "
                          "differ by O((lr lambda)^2 x) per step (gap = predicted_gap)")
def decoupled_prox(ctx):
    return _compare(ctx, dict(betas=tuple(1 - b for b in PAPER), no_prox=True), dict(_OFFICIAL_LOOP, no_prox=True),
                    _OFFICIAL_LOOP)


@CLAIM.part("restarts", statistic=_STATISTIC)
def restarts(ctx):
    every = ctx.size["restart_every"]
    return _compare(ctx, dict(betas=tuple(1 - b for b in PAPER), restart_every=every),
                    dict(_OFFICIAL_LOOP, restart_every=every), title="stochopt.adan (restarts) vs Algorithm 1")


@restarts.control(breaks="no restart in the loop: after the first restart the moments and bias corrections differ "
                         "(gap = predicted_gap)")
def restarts_missing(ctx):
    every = ctx.size["restart_every"]
    return _compare(ctx, dict(betas=tuple(1 - b for b in PAPER), restart_every=every),
                    dict(_OFFICIAL_LOOP, restart_every=every), _OFFICIAL_LOOP)
