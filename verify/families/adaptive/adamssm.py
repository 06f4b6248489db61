"""adaptive.adamssm.reductions: AdamSSM's second moment is the output of its filter H(z), with unit DC gain,
and zeta = p gives back Adam.

Chakrabarti & Chopra (arXiv 2206.02034) write Adam's second moment as a first-order filter of g^2
and AdamSSM adds a pole p and a zero zeta: H(z) = K (1 - zeta z^-1) / ((1 - beta2 z^-1)(1 - p z^-1)),
K = (1 - beta2)(1 - p)/(1 - zeta) (unit DC gain). The truth here is H's difference equation
v_k = (beta2 + p) v_{k-1} - beta2 p v_{k-2} + K (u_k - zeta u_{k-1}), u = g^2, written from H's
coefficients (independent of stochopt's cascade realisation). The bias correction by the filter's
step response is our choice (the paper's could not be confirmed): a constant g then gives
v_hat = g^2 at every step.
"""
from __future__ import annotations

import numpy as np

import stochopt
from stochopt import ground_truth
from verify.registry import Claim, decide

from ._adan import gradient_sequence, relative_gap
from ._common import ADAMSSM, figure, gap_figure
from .sizes import SIZES

CLAIM = Claim(
    id="adaptive.adamssm.reductions",
    statement="stochopt.adamssm's second moment is the output of H(z) = K(1 - zeta/z)/((1 - beta2/z)(1 - p/z)) "
              "applied to g^2 (impulse response equal to H's difference equation), a constant gradient gives the "
              "bias-corrected v_hat = g^2 at every step (unit DC gain), and zeta = p reproduces Adam's iterates; "
              "all to 1e-10 relative.",
    source=ADAMSSM + " (filter form; bias correction by the filter's step response is ours)",
    assumptions=["|p| < 1, |beta2| < 1 (a stable filter)", "K = (1 - beta2)(1 - p)/(1 - zeta)",
                 "zeta = p for the Adam reduction",
                 "float64; 1e-10 relative is rounding over the run (a stated numerical tolerance)"],
    reconstructed="the bias correction of AdamSSM (division by the filter's step response)",
    sizes=SIZES["adamssm-reductions"],
)

TOLERANCE = 1e-10
BETA2 = 0.99


def filter_output(u, beta2, pole, zero):
    """v_k from H's difference equation driven by u_0, u_1, ... (v_{-1} = v_{-2} = u_{-1} = 0)."""
    gain = (1 - beta2) * (1 - pole) / (1 - zero)
    v1 = v2 = u_prev = 0.0
    out = []
    for uk in u:
        v = (beta2 + pole) * v1 - beta2 * pole * v2 + gain * (uk - zero * u_prev)
        out.append(v)
        v1, v2, u_prev = v, v1, uk
    return np.array(out)


def _pole_zero(ctx):
    rng = np.random.default_rng([ctx.seed, 50])
    pole = float(rng.uniform(0.3, 0.95))
    return pole, float(rng.uniform(-0.5, 0.9) * pole)


def _second_moment(steps, g, pole, zero, corrected):
    """The second moment the update uses after each step, for gradients g (steps, d): v, or v / cv when corrected."""
    buf = ground_truth.trajectory(stochopt.adamssm(lr=1e-3, betas=(0.0, BETA2), pole=pole, zero=zero,
                                                   bias_correction=corrected), np.zeros(g.shape[1:]), g).buffers
    v = buf["v"][1:]                                          # after each step (index 0 is the start)
    return v / buf["cv"][1:] if corrected else v


def _impulse(ctx, corrected):
    pole, zero = _pole_zero(ctx)
    n = ctx.size["impulse_steps"]
    g = np.zeros((n, 1))
    g[0] = 1.0
    measured = _second_moment(n, g, pole, zero, corrected)[:, 0]
    h = filter_output(g[:, 0] ** 2, BETA2, pole, zero)
    gap = float(np.max(np.abs(measured - h) / np.abs(h)))
    details = {"max_relative_gap": gap, "pole": pole, "zero": zero, "beta2": BETA2,
               "predicted_gap": float(1 / h[0] - 1) if corrected else 0.0}
    figs = []
    if not corrected:
        fig, ax = figure("AdamSSM: impulse response of the second moment", "step j", "h_j (log)")
        ax.semilogy(np.abs(h), "k-", label="H's difference equation")
        ax.semilogy(np.abs(measured), "r:", label="stochopt.adamssm")
        ax.legend(fontsize=7)
        figs = ctx.figures((fig, "passing: the dotted implementation lies on the solid line of H"))
    return decide(gap, TOLERANCE, "lower", details=details, figures=figs)


@CLAIM.part("impulse response is H",
            statistic="max_j |v_j - h_j| / |h_j| over the run, v the second moment the update uses after an impulse "
                      "g_0 = 1 (bias correction off), h from H's difference equation; lower is good; threshold 1e-10")
def impulse(ctx):
    return _impulse(ctx, corrected=False)


@impulse.control(breaks="reads the bias-corrected moment v / S (S the step response) instead of the filter's output: "
                        "the first value is h_0 / S_1 = 1 instead of h_0 = K, a relative gap 1/K - 1 (predicted_gap)")
def impulse_corrected(ctx):
    return _impulse(ctx, corrected=True)


def _dc(ctx, corrected):
    pole, zero = _pole_zero(ctx)
    n = ctx.size["dc_steps"]
    g = np.broadcast_to(np.random.default_rng([ctx.seed, 51]).standard_normal((1, ctx.size["d"])), (n, ctx.size["d"]))
    measured = _second_moment(n, np.array(g), pole, zero, corrected)
    per_step = np.abs(measured / (g * g) - 1).max(axis=-1)
    gap = float(per_step.max())
    step_response = np.cumsum(filter_output(np.r_[1.0, np.zeros(n - 1)], BETA2, pole, zero))
    figs = [] if not corrected else gap_figure(
        ctx, "AdamSSM: constant gradient, bias-corrected second moment",
        {"bias-corrected (the claim)": per_step, "uncorrected: 1 - step response": step_response - 1}, TOLERANCE,
        "passing: the corrected moment stays at rounding level, below the dashed line", "|v_hat_k / g^2 - 1| (log)")
    return decide(gap, TOLERANCE, "lower",
                  details={"max_relative_gap": gap, "pole": pole, "zero": zero,
                           "predicted_gap": 0.0 if corrected else float(np.max(np.abs(step_response - 1)))},
                  figures=figs)


@CLAIM.part("unit DC gain",
            statistic="max over steps and coordinates of |v_hat_k / g^2 - 1| for a constant gradient g, v_hat the "
                      "bias-corrected second moment; lower is good; threshold 1e-10 (the filter has unit DC gain and "
                      "the correction divides by its step response)")
def dc_gain(ctx):
    return _dc(ctx, corrected=True)


@dc_gain.control(breaks="no bias correction: v_k = g^2 S_k with S_k the step response, so the gap is max_k |S_k - 1| "
                        "= 1 - K at the first step (predicted_gap)")
def dc_gain_uncorrected(ctx):
    return _dc(ctx, corrected=False)


def _adam(ctx, zero_of):
    pole, _ = _pole_zero(ctx)
    zero = zero_of(pole)
    s = ctx.size
    shape = (s["replicas"], s["d"])
    grads = gradient_sequence(ctx.seed, s["steps"], shape) * 10.0 ** np.random.default_rng([ctx.seed, 53]).normal()
    x0 = np.random.default_rng([ctx.seed, 52]).standard_normal(shape)
    kw = dict(lr=1e-2, betas=(0.9, BETA2))
    ssm = ground_truth.trajectory(stochopt.adamssm(pole=pole, zero=zero, **kw), x0, grads).x
    adam = ground_truth.trajectory(stochopt.adam(**kw), x0, grads).x
    per_step = [relative_gap(ssm[k], adam[k]) for k in range(s["steps"] + 1)]
    figs = [] if zero != pole else gap_figure(ctx, "AdamSSM with zeta = p against Adam",
                                              {"iterates": per_step}, TOLERANCE,
                                              "passing: the gap stays at rounding level, below the dashed line")
    return decide(max(per_step), TOLERANCE, "lower", details={"max_relative_gap": max(per_step), "pole": pole,
                                                              "zero": zero}, figures=figs)


@CLAIM.part("zeta = p is Adam",
            statistic="max over steps and replicas of ||x_k^AdamSSM - x_k^Adam||_inf / max(||x_k^Adam||_inf, 1) on "
                      "stochastic gradients; lower is good; threshold 1e-10 (rounding)")
def adam_reduction(ctx):
    return _adam(ctx, lambda p: p)


@adam_reduction.control(breaks="zeta = p/2: the zero no longer cancels the pole, v follows a second-order filter and "
                               "the iterates leave Adam's (a gap of order |p - zeta|)")
def adam_reduction_zero_moved(ctx):
    return _adam(ctx, lambda p: p / 2)
