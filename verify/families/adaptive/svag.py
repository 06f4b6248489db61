"""adaptive.svag: SVAG's discrete runs converge to the Adam SDE as l doubles, at order 1 in 1/l.

Malladi, Lyu, Panigrahi, Arora (NeurIPS 2022), Sec. 4.2: SVAG for adaptive methods runs lr/l,
1 - beta_i -> (1 - beta_i)/l^2, eps -> eps l, l^2 times more steps, with the gradient
r1 g(batch 1) + r2 g(batch 2), r = (1 +- sqrt(2 l^2 - 1))/2 (mean kept, noise variance times l^2).
Its limit as l -> infinity is the Adam SDE of the base run (sigma0 = sigma lr, eps0 = eps lr,
c_i = (1 - beta_i)/lr^2), at weak order 1 in lr/l. We measure the distance of the SVAG expected-loss
curve to the SDE's exact one (closed-form moments on a quadratic) for l = 1, 2, 4 (8 in full mode).
"""
from __future__ import annotations

import numpy as np

import stochopt
from verify import sde
from verify.registry import Claim, decide

from ._common import MALLADI, ORDER_MARGIN, per_run, smallest_local_order
from ._weak import SDE, exact_expected_loss, make_problem, order_figure
from .sizes import SIZES

CLAIM = Claim(
    id="adaptive.svag",
    statement="SVAG for Adam converges to the Adam SDE as l doubles: sup_t |E L_SVAG,l(t) - E L_SDE(t)| falls at "
              "order 1 in 1/l (smallest local order over l = 1, 2, 4 and horizons T/2, T at least 0.8).",
    source=MALLADI + ", Sec. 4.2 (SVAG for adaptive methods)",
    assumptions=["quadratic loss with curvatures 0.5..2, Gaussian noise, Sigma = I",
                 "base lr = 0.2 with (sigma0, eps0, c1, c2) = (1, 0.5, 4, 1), horizon T = 1.28 in SDE time",
                 "r1 + r2 = 1 and r1^2 + r2^2 = l^2 (noise variance times l^2)"],
    sizes=SIZES["svag"],
)

BASE_LR = 0.2


@per_run
def svag_runs(ctx, ls, T, replicas, d, n_times, adaptive_r=True):
    """Estimates of E L at n_times SDE times for each l (control variate), their covariance, and the SDE's."""
    problem = make_problem("quadratic", d)
    h = sde.discrete_from_sde(BASE_LR, SDE["sigma0"], SDE["eps0"], SDE["c2"], SDE["c1"])
    base = {"lr": BASE_LR, "betas": (h["beta1"], h["beta2"]), "eps": h["eps"], "steps": int(round(T / BASE_LR ** 2))}
    est, cov, times = [], [], None
    for i, l in enumerate(ls):
        hp = sde.svag_adaptive(base, l)
        r = (hp["r1"], hp["r2"]) if adaptive_r else sde.svag_coefficients(l, adaptive=False)
        noise = sde.GradientNoise(h["sigma"], r)
        rec = [int(round(j * hp["steps"] / n_times)) for j in range(1, n_times + 1)]
        times = np.array(rec) * hp["lr"] ** 2
        curve = sde.expected_loss(stochopt.adam(lr=hp["lr"], betas=hp["betas"], eps=hp["eps"]), problem, problem.x0,
                                  hp["steps"], replicas, noise, seed=(ctx.seed, i), record_steps=rec,
                                  companion=lambda x: sde.AdamShadow(problem, x, noise, hp["lr"], hp["betas"],
                                                                     hp["eps"]))
        est.append(curve.estimate)
        cov.append(np.cov(curve.samples) / replicas)
    reference = exact_expected_loss("adam", problem, times, problem.x0)
    return np.array(est) - reference, np.array(cov)


_STATISTIC = ("smallest local order log(e_l/e_2l)/log 2 of e_l = sup_(t<=H) |E L_SVAG,l(t) - E L_SDE(t)| over "
              "consecutive l and horizons H = T/2, T, with a 99% parametric-bootstrap interval from the Monte Carlo "
              "covariance; higher is good; threshold 0.8 = the order 1 of the weak approximation (in lr/l) minus "
              "the stated pre-asymptotic margin 0.2")


def _decide(ctx, adaptive_r):
    s = ctx.size
    ls = tuple(s["ls"])
    errors, cov = svag_runs(ctx, ls, s["T"], s["replicas"], s["d"], s["n_times"], adaptive_r)
    horizons = (s["n_times"] // 2, s["n_times"])
    stat, ci, orders, sups = smallest_local_order(1.0 / np.array(ls, float), errors, cov, horizons, ctx.seed)
    details = {"l": ls, "sup_distance_to_sde": sups, "local_orders": orders,
               "r": "SVAG (1 +- sqrt(2 l^2 - 1))/2" if adaptive_r else "SGD's (1 +- sqrt(2 l - 1))/2 (control)"}
    figs = []
    if adaptive_r:
        figs = ctx.figures((order_figure("SVAG for Adam: distance to the SDE against lr/l", BASE_LR / np.array(ls),
                                         sups, errors, cov, horizons),
                            "passing: the distance falls at least like the dashed order-1 line as l doubles"))
    return decide(stat, 1 - ORDER_MARGIN, "higher", ci=ci, details=details, figures=figs)


@CLAIM.part("converges to the Adam SDE", statistic=_STATISTIC)
def converges(ctx):
    return _decide(ctx, adaptive_r=True)


@converges.control(breaks="r from SGD's SVAG, (1 +- sqrt(2 l - 1))/2: the noise variance grows like l, not l^2, so "
                          "sigma0 shrinks like l^(-1/2) and the runs approach the noise-free SDE: the distance to the "
                          "Adam SDE grows (local order < 0)")
def converges_wrong_r(ctx):
    return _decide(ctx, adaptive_r=False)
