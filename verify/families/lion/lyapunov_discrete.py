"""lion.lyapunov-discrete: along discrete hard-sign Lion, H is a Lyapunov function up to O(eta^2)
per step and O(eta) summed over a fixed ODE time.

Statement (the orders are the spec's reconstruction of the discrete-time analysis of Chen, Liu,
Liang, Liu, arXiv 2310.05898; not a quoted theorem): run Lion at fixed continuous parameters
(alpha = gamma, eps, lambda: beta2 = 1 - gamma eta, beta1 = 1 - eps gamma) with eta -> 0. Each step is
an Euler step of the flow, along which dH/dt = -Delta <= 0, so the increase of H over a step is
at most its local error, O(eta^2); over the steps in [0, T] (T/eta of them) the increases sum to
O(eta). If H were not a Lyapunov function (dH/dt > 0 somewhere on the path, as with the wrong
coefficient) the increases would be O(eta) per step and O(1) summed. The thresholds sit midway
between the two hypotheses: fitted order >= 1.5 (max per step) and >= 0.5 (sum).
Why hard sign still gives O(eta^2) (our explanation): when m_i crosses 0 inside a step the O(eta)
jump of K(m) = ||m||_1 is compensated by Delta's second term provided eta <= eps (the look-ahead mt
sees the crossing first).
"""
from __future__ import annotations

import math

import numpy as np

import problems
import stochopt
from verify.lion_theory import LionKFlow, box_violation, flow_state, to_discrete, wrong_coefficient
from verify.registry import Claim, decide
from verify.stats import fit_exponent

from ._common import CHEN_LYAP, figure
from .sizes import SIZES

CLAIM = Claim(
    id="lion.lyapunov-discrete",
    statement=("For discrete hard-sign Lion run at fixed continuous parameters (beta2 = 1 - gamma eta, beta1 = 1 - eps "
               "gamma, lambda), the largest per-step increase of H is O(eta^2) and the summed increases over a fixed "
               "ODE time are O(eta): fitted orders (bootstrap over replicas) at least 1.5 and 0.5, midway between "
               "these orders and those of a function that is not Lyapunov (1 and 0)."),
    source=f"{CHEN_LYAP} (discrete-time analysis; the orders are the spec's reconstruction)",
    assumptions=["K = ||.||_1; x in the box (K*(lambda x) = 0 there: Lion stays in the box, lion.box-invariance)",
                 "gamma = alpha = 0.1, eps = 1, lambda = 1", "eta <= eps", "ODE horizon T = 10 (quick), 20 (full)",
                 "f smooth nonconvex (problems 'smooth-nonconvex', d = 4, seed 0: its minimiser is partly outside "
                 "the box), exact gradients"],
    reconstructed="the orders O(eta^2) and O(eta) (spec 3.5, claim 3)",
    sizes=SIZES["lyapunov-discrete"],
)

GAMMA, EPS, LAM = 0.1, 1.0, 1.0


def increases(seed, replicas, horizon, etas, wrong):
    """Per-step increases of H along discrete hard-sign Lion for each eta: (max, sum, H traces)."""
    rng = np.random.default_rng([seed, 41])
    problem = problems.get("smooth-nonconvex", d=4, seed=0)   # fixed problem; the seed draws the starts
    coef = wrong_coefficient(EPS, GAMMA, LAM) if wrong else None
    flow = LionKFlow(problem.grad, "l1", GAMMA, GAMMA, LAM, EPS, value=problem.value, coefficient=coef)
    x0 = rng.uniform(-0.9, 0.9, (replicas, 4)) / LAM
    m0 = rng.standard_normal((replicas, 4))
    max_inc, sum_inc, traces = [], [], {}
    for eta in etas:
        opt = stochopt.lion(**to_discrete(GAMMA, EPS, LAM, eta))
        state = opt.init(x0).replace(buffers={"m": -m0})   # Lion's buffer is -m
        H = [flow.lyapunov(x0, m0)]
        for _ in range(int(round(horizon / eta))):
            state = opt.step(state, problem.grad(state.x))
            x, m = flow_state(state)
            if np.max(box_violation(x, LAM)) > 1e-12:
                raise AssertionError("discrete Lion left the box: lion.box-invariance is broken")
            H.append(flow.lyapunov(np.clip(x, -1 / LAM, 1 / LAM), m))   # K*(lambda x) = 0 on the box
        inc = np.maximum(np.diff(np.array(H), axis=0), 0.0)
        max_inc.append(inc.max(axis=0))
        sum_inc.append(inc.sum(axis=0))
        traces[eta] = np.array(H)
    return np.array(max_inc), np.array(sum_inc), traces


def _order_verdict(ctx, which, wrong):
    size = ctx.size
    etas = tuple(size["etas"])
    max_inc, sum_inc, traces = increases(ctx.seed, size["replicas"], size["horizon"], etas, wrong)
    values = max_inc if which == "max" else sum_inc
    stated, threshold = (2.0, 1.5) if which == "max" else (1.0, 0.5)
    keep = np.all(values > 0, axis=0)
    details = {"etas": list(etas), "replicas": size["replicas"], "horizon": size["horizon"],
               "replicas_with_increases": int(keep.sum()), "stated_order": stated,
               "coefficient": "wrong" if wrong else "c*"}
    if keep.sum() < 4:
        # H (almost) never increased: the bound holds trivially but the order cannot be measured
        return decide(math.nan, threshold, "higher", details={**details, "note": "too few replicas with increases "
                                                                                  "to fit an order: inconclusive"})
    fit = fit_exponent(np.array(etas), values[:, keep], seed=ctx.seed)
    figs = []
    if ctx.draw:
        fig, (ax1, ax2) = figure()
        for r in np.flatnonzero(keep)[:12]:
            ax1.loglog(etas, values[:, r], ".-", color="C0", alpha=0.3, lw=0.7)
        e = np.array(etas)
        ax1.loglog(e, fit.predict(e), "C0-", lw=2, label=f"fit: order {fit.slope:.2f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]")
        ax1.loglog(e, fit.predict(e[0]) * (e / e[0]) ** stated, "k--", lw=0.8, label=f"order {stated:g} (stated)")
        ax1.loglog(e, fit.predict(e[0]) * (e / e[0]) ** (stated - 1), "k:", lw=0.8,
                   label=f"order {stated - 1:g} (not Lyapunov)")
        ax1.set(xlabel="stepsize eta", ylabel=("largest per-step increase of H" if which == "max"
                                               else "summed increases of H over [0, T]"),
                title=("per-step increases" if which == "max" else "summed increases") + (" (wrong c)" if wrong else ""))
        ax1.legend(fontsize=7)
        H = traces[etas[0]]
        tt = np.arange(H.shape[0]) * etas[0]
        for r in range(min(H.shape[1], 10)):
            ax2.plot(tt, H[:, r], lw=0.8)
        ax2.set(xlabel="ODE time t = k eta", ylabel="H(x_k, m_k)", title=f"H along discrete Lion, eta = {etas[0]}")
        fig.suptitle(f"Pass: fitted order (and its interval) >= {threshold:g}, i.e. the fit follows the dashed line",
                     fontsize=9)
        figs = [(fig, f"Passing: the fitted order is at least {threshold:g} (stated order {stated:g}).")]
    details.update(order=fit.slope, ci=fit.ci, per_replica_orders_median=float(np.median(fit.per_seed)))
    return decide(fit.slope, threshold, "higher", ci=fit.ci, details=details, figures=figs)


@CLAIM.part("largest per-step increase is O(eta^2)",
            statistic=("fitted order p of the largest per-step increase of H against eta (log-log least squares, "
                       "bootstrap interval over replicas; replicas along which H never increases satisfy any bound and "
                       "are dropped and counted); higher is good; threshold 1.5, midway between the stated order 2 and "
                       "the order 1 of a function that is not Lyapunov (fewer than 4 replicas with increases: "
                       "inconclusive)"))
def max_increase(ctx):
    return _order_verdict(ctx, "max", False)


@max_increase.control(breaks=("the coefficient (1 - eps lambda)/(1 + eps lambda) in H (c* broken, gamma = 0.1 != lambda "
                              "= 1): dH/dt > 0 on part of the path, so per-step increases are O(eta): order near 1, "
                              "below 1.5"))
def max_increase_wrong(ctx):
    return _order_verdict(ctx, "max", True)


@CLAIM.part("summed increases are O(eta)",
            statistic=("fitted order p of the summed increases of H over the ODE time [0, T] against eta (as above); "
                       "higher is good; threshold 0.5, midway between the stated order 1 and the order 0 of a function "
                       "that is not Lyapunov"))
def sum_increase(ctx):
    return _order_verdict(ctx, "sum", False)


@sum_increase.control(breaks=("the coefficient (1 - eps lambda)/(1 + eps lambda) in H: the increases sum to the O(1) "
                              "integral of the positive part of dH_c/dt, order near 0, below 0.5"))
def sum_increase_wrong(ctx):
    return _order_verdict(ctx, "sum", True)
