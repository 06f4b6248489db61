"""lion.box-invariance: with decoupled weight decay, Lion's iterates enter the box
||x||_inf <= 1/lambda at rate (1 - eta lambda) and never leave it, for ANY gradients.

Theorem (one line, ours; the box is the one of Chen, Liu, Liang, Liu, arXiv 2310.05898): with
x_{t+1} = (1 - eta lambda) x_t - eta d_t, |d_{t,i}| <= 1 and 0 < eta lambda <= 1,
|x_{t+1,i}| <= (1 - eta lambda)|x_{t,i}| + eta, i.e. |x_{t+1,i}| - 1/lambda <= (1 - eta lambda)(|x_{t,i}| - 1/lambda).
It holds for Lion (d = sign(c), sign(0) = 0) and for Lion-K whenever ||grad K||_inf <= 1 (tanh,
clip with delta <= 1, the l2 normalisation), whatever the gradients. Each part has a control that
breaks one assumption; the violation it must produce is predicted exactly by the same algebra:
with d_i pointing the worst way, |x_{t+1,i}| - 1/lambda - (1 - eta lambda)(|x_{t,i}| - 1/lambda) equals
2 (eta lambda - 1)|x_{t,i}| + eta (|d_i| - 1) when eta lambda > 1, and eta (|d_i| - 1) when eta lambda <= 1.
A control fails only when each replica's worst violation equals that prediction (computed from x_t
and the direction of the gradients and momentum, not from x_{t+1}) to 1e-9; otherwise it is
inconclusive (the bound is broken, but by another update than the one the algebra describes).
"""
from __future__ import annotations

import numpy as np

import stochopt
from stochopt.lionk import kernel
from verify.registry import Claim, Verdict, decide

from ._common import CHEN_LYAP, figure
from .sizes import SIZES

CLAIM = Claim(
    id="lion.box-invariance",
    statement=("With decoupled weight decay lambda > 0 and 0 < eta lambda <= 1, for ANY gradients, every coordinate "
               "of Lion satisfies |x_{t+1,i}| - 1/lambda <= (1 - eta lambda)(|x_{t,i}| - 1/lambda): the iterate enters "
               "the box ||x||_inf <= 1/lambda at geometric rate and never leaves it. Lion-K with ||grad K||_inf <= 1 "
               "(tanh, clip, l2) obeys the same bound."),
    source=f"{CHEN_LYAP} (the box); the one-line proof is ours (docs/lion.md)",
    assumptions=["decoupled weight decay: x <- x - eta (d + lambda x) with d = sign(c) or grad K(mt)",
                 "0 < eta lambda <= 1", "|d_i| <= 1 (sign, tanh, clip with delta <= 1, l2 normalisation)",
                 "no assumption on the gradients (adversarial: heavy tails, exact zeros, pushing outward)"],
    sizes=SIZES["box-invariance"],
)

STATISTIC = ("largest per-step violation of the bound, max over replicas, steps and coordinates of "
             "[|x_{t+1,i}| - 1/lambda - (1 - eta lambda)(|x_{t,i}| - 1/lambda)] / (|x_{t,i}| + 1/lambda); lower is good; "
             "threshold 1e-12 (the bound is exact algebra: only rounding of numbers of size |x| + 1/lambda remains)")
THRESHOLD = 1e-12
#: a control fails only by the predicted amount: each replica's worst violation must equal the algebra's
#: prediction to 1e-9 of the largest one (rounding is ~1e-16; a different update rule is off by O(1))
PREDICTION_TOLERANCE = 1e-9


def _gradients(rng, x):
    """Adversarial gradients: magnitudes over 6 decades, Cauchy tails, 10% exact zeros, and half of
    the replicas (at each step) pushing every coordinate outward."""
    R, d = x.shape
    mag = 10.0 ** rng.uniform(-3.0, 3.0, (R, 1)) * np.abs(rng.standard_cauchy((R, d)))
    mag = mag * (rng.random((R, d)) > 0.1)
    outward = rng.random((R, 1)) < 0.5
    return np.where(outward, -np.sign(x) * mag, rng.choice([-1.0, 1.0], (R, d)) * mag)


def run_box(ctx, kernels, eta_lambda_range):
    """Run Lion / Lion-K (``kernels``: "sign" or kernel names) under adversarial gradients.

    Returns per-replica worst normalised violation (observed), the violation the update's algebra
    predicts from x_t and the direction d_t computed from the gradients and the momentum (module
    docstring), eta*lambda, and Lion's excess ratio curves.
    """
    size = ctx.size
    rng = np.random.default_rng([ctx.seed, 11])
    R, d, steps = size["replicas"], size["dim"], size["steps"]
    lam = 10.0 ** rng.uniform(-1.0, 1.0, R)
    low, high = eta_lambda_range
    eta_lam = rng.uniform(low, high, R)
    if high == 1.0:                          # the edge cases of the theorem: eta lambda = 1 and slow entry
        eta_lam[:8], eta_lam[8:16] = 1.0, 1e-3
    lr = eta_lam / lam
    beta1, beta2 = rng.uniform(0.0, 0.999, R), rng.uniform(0.0, 0.999, R)
    x0 = rng.standard_normal((R, d)) * 10.0 ** rng.uniform(-1.0, 2.0, (R, 1)) / lam[:, None]
    inv, q = (1.0 / lam)[:, None], eta_lam[:, None]
    worst, predicted, curves = np.full(R, -np.inf), np.full(R, -np.inf), None
    for name in kernels:
        if name == "sign":
            opt, direction = stochopt.lion(lr=lr, betas=(beta1, beta2), weight_decay=lam), np.sign
        else:
            K = kernel(name)
            opt = stochopt.lion_k(lr=lr, betas=(beta1, beta2), weight_decay=lam, K=K)
            direction = lambda c, K=K: -K.grad(-c)  # noqa: E731  (lion_k's direction of the interpolated c)
        state = opt.init(x0)
        e0 = np.maximum(np.abs(x0) - inv, 0.0)
        ratios = []
        for t in range(steps):
            g = _gradients(rng, state.x)
            x, c = state.x, beta1[:, None] * state.m + (1 - beta1[:, None]) * g
            state = opt.step(state, g)
            norm = np.abs(x) + inv
            violation = (np.abs(state.x) - inv) - (1.0 - q) * (np.abs(x) - inv)
            worst = np.maximum(worst, np.max(violation / norm, axis=1))
            # the algebra's prediction from x_t and the direction d_t = grad K(mt) (sign(c) for Lion), computed
            # from the gradients and the momentum, not from x_{t+1}
            step = lr[:, None] * direction(c)
            v_pred = np.abs((1.0 - q) * x - step) - inv - (1.0 - q) * (np.abs(x) - inv)
            predicted = np.maximum(predicted, np.max(v_pred / norm, axis=1))
            if name == kernels[0]:
                bound = e0 * (1.0 - q) ** (t + 1) + 1e-12 * inv   # rounding after entry: 1e-12 / lambda
                ratios.append(np.maximum(np.abs(state.x) - inv, 0.0) / bound)
        if name == kernels[0]:
            curves = np.array(ratios)
    return {"worst": worst, "predicted": predicted, "eta_lambda": eta_lam, "curves": curves, "x0": x0, "lam": lam,
            "inside_at_end": float(np.mean(np.all(np.abs(state.x) <= inv * (1 + 1e-12), axis=1)))}


def _check_verdict(ctx, out, title):
    stat = float(np.max(out["worst"]))
    figs = []
    if ctx.draw:
        fig, (ax1, ax2) = figure()
        outside = np.flatnonzero(np.any(np.abs(out["x0"]) * out["lam"][:, None] > 1.0, axis=1))[:40]
        tt = np.arange(1, out["curves"].shape[0] + 1)
        for r in outside:
            i = int(np.argmax(np.abs(out["x0"][r]) * out["lam"][r]))
            ax1.plot(tt, out["curves"][:, r, i], lw=0.7, alpha=0.6)
        ax1.axhline(1.0, ls="--", color="k", lw=1)
        ax1.set_yscale("symlog", linthresh=1e-3)
        ax1.set(xlabel="step t", ylabel="e_t / ((1 - eta lambda)^t e_0)", title=f"entry into the box ({title})")
        ax2.semilogx(out["eta_lambda"], np.maximum(out["worst"], 1e-18), ".", ms=3)
        ax2.axhline(THRESHOLD, ls="--", color="r", lw=1, label="threshold 1e-12")
        ax2.set_yscale("symlog", linthresh=1e-16)
        ax2.set(xlabel="eta * lambda (per replica)", ylabel="max_t normalised violation",
                title="largest per-step violation of the bound")
        ax2.legend(fontsize=8)
        fig.suptitle("Pass: left curves <= 1 (e_t = excess over the box), right points below the red line",
                     fontsize=9)
        figs = [(fig, "Passing: every excess curve stays at or below 1 and every replica's violation is rounding.")]
    return decide(stat, THRESHOLD, "lower", figures=figs,
                  details={"replicas": ctx.size["replicas"], "steps": ctx.size["steps"], "dim": ctx.size["dim"],
                           "max_excess_ratio": float(np.nanmax(out["curves"])),
                           "fraction_inside_at_end": out["inside_at_end"]})


def _control_verdict(ctx, out, broken):
    stat, pred = float(np.max(out["worst"])), float(np.max(out["predicted"]))
    figs = []
    if ctx.draw:
        fig, (ax,) = figure(1, 6.0, 4.2, left=0.14)
        ax.loglog(np.maximum(out["predicted"], 1e-18), np.maximum(out["worst"], 1e-18), ".", ms=3)
        lim = [max(1e-6, float(np.min(out["predicted"][out["predicted"] > 0], initial=1e-6))), 2 * max(pred, 1e-6)]
        ax.plot(lim, lim, "k--", lw=0.8, label="observed = predicted")
        ax.axhline(THRESHOLD, ls="--", color="r", lw=1, label="threshold 1e-12")
        ax.set(xlabel="predicted worst violation (algebra, per replica)", ylabel="observed worst violation",
               title=f"control: {broken}")
        ax.legend(fontsize=8)
        fig.suptitle("Control fails as predicted: points on the diagonal, far above the red line", fontsize=9)
        figs = [(fig, "The control must fail: each replica's violation equals the predicted one, above 1e-12.")]
    mismatch = float(np.max(np.abs(out["worst"] - out["predicted"])) / max(pred, 1e-300))
    details = {"predicted": pred, "observed": stat, "broken": broken, "mismatch": mismatch,
               "prediction_tolerance": PREDICTION_TOLERANCE}
    if not mismatch <= PREDICTION_TOLERANCE:
        details.update(better="lower", note="the bound is violated, but not by the amount the update's algebra predicts")
        return Verdict("inconclusive", stat, THRESHOLD, None, details, figs)
    return decide(stat, THRESHOLD, "lower", figures=figs, details=details)


# ============================================================================ parts
@CLAIM.part("Lion (sign)", statistic=STATISTIC)
def lion_sign(ctx):
    """Lion, eta*lambda uniform in (0, 1] with the edges 1 and 1e-3, betas in [0, 0.999)."""
    return _check_verdict(ctx, run_box(ctx, ["sign"], (1e-4, 1.0)), "Lion")


@lion_sign.control(breaks=("eta*lambda in (1, 1.5] (the step condition eta lambda <= 1 is broken): (1 - eta lambda) x "
                           "flips sign and overshoots; where sign(c) points the worst way the bound is exceeded by "
                           "exactly 2 (eta lambda - 1)|x| (normalised: 2 (eta lambda - 1) u/(u + 1), u = lambda |x|)"))
def lion_sign_large_step(ctx):
    return _control_verdict(ctx, run_box(ctx, ["sign"], (1.0 + 1e-3, 1.5)), "eta*lambda > 1")


@CLAIM.part("Lion-K with ||grad K||_inf <= 1", statistic=STATISTIC)
def lion_k_bounded(ctx):
    """Lion-K with K = log cosh (tanh), Huber (clip at 1) and the l2 norm (normalised direction)."""
    return _check_verdict(ctx, run_box(ctx, ["tanh", "huber", "l2"], (1e-4, 1.0)), "Lion-K")


@lion_k_bounded.control(breaks=("clip at delta = 2 (Huber:2, so |grad K|_i reaches 2 > 1): where the direction pushes "
                                "outward the bound is exceeded by exactly eta (|d_i| - 1), normalised "
                                "eta lambda (|d_i| - 1)/(u + 1)"))
def lion_k_unbounded(ctx):
    return _control_verdict(ctx, run_box(ctx, ["huber:2"], (1e-4, 1.0)), "|grad K|_i up to 2")
