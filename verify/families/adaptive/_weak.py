"""The weak-error experiment of the SDE claims (RMSprop and Adam): discrete runs over an eta grid.

For each eta of the grid the discrete method runs with the hyperparameters whose SDE limit is
fixed (lr = eta, sigma = sigma0/eta, eps = eps0/eta, beta_i = 1 - c_i eta^2), for T/eta^2 steps,
and E L(x_k) is estimated at ``n_times`` equally spaced SDE times t = k eta^2 in (0, T] with a
companion path driven by the same draws (``verify.sde.monte_carlo``): a control variate on the
quadratic (the reference is then the SDE's exact moments), or a coupled Euler-Maruyama path of the
SDE (the estimate is then the weak error itself, for any smooth loss).

The statistic of both claims is the smallest local order of sup_{t <= horizon} |weak error| over
consecutive etas and over the horizons T/2 and T (``_common.smallest_local_order``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import problems
import stochopt
from verify import sde

from verify.registry import decide

from ._common import ORDER_MARGIN, figure, per_run, smallest_local_order

#: the SDE held fixed as eta -> 0 (sigma0, eps0, c1, c2)
SDE = {"sigma0": 1.0, "eps0": 0.5, "c1": 4.0, "c2": 1.0}


def make_problem(name, d):
    """The two losses: a quadratic with curvatures 0.5..2 from x0 = 1, a log-cosh with weights 0.5..2
    from x0 = 2 (where tanh saturates); Sigma = I for both."""
    spread = np.linspace(0.5, 2.0, d)
    if name == "quadratic":
        return problems.get("noisy-quadratic", hessian=spread.tolist(), noise_cov=1.0, x0=[1.0] * d)
    return problems.get("noisy-logcosh", weights=spread.tolist(), noise_cov=1.0, x0=[2.0] * d)


@dataclass(frozen=True)
class WeakRuns:
    """Estimates at the recorded steps of each eta: ``estimates`` (n_eta, n_times) of ``quantity``,
    their covariance ``covariances`` (n_eta, n_times, n_times) (sample covariance / R),
    ``steps`` (n_eta, n_times) recorded steps, ``times`` = steps eta^2."""

    etas: tuple
    steps: np.ndarray
    times: np.ndarray
    estimates: np.ndarray
    covariances: np.ndarray
    quantity: str
    replicas: int
    problem: object


def _method(kind, h, eps):
    if kind == "rmsprop":   # torch convention started at v0 = sigma^2 (Sigma = I): u(0) = Sigma
        return stochopt.rmsprop(lr=h["lr"], alpha=h["beta2"], eps=eps, v0=h["sigma"] ** 2)
    return stochopt.adam(lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=eps)


def _companion(kind, reference, problem, h, eps, noise, seed):
    s = sde.diagonal_noise(problem)
    if reference == "coupled SDE":
        limit = (sde.RMSpropSDE(SDE["sigma0"], SDE["eps0"], SDE["c2"], s) if kind == "rmsprop"
                 else sde.AdamSDE(SDE["sigma0"], SDE["eps0"], SDE["c1"], SDE["c2"], s))
        return lambda x: sde.CoupledSDE(limit, problem, x, h["lr"], seed)
    if kind == "rmsprop":
        return lambda x: sde.RMSpropShadow(problem, x, noise, h["lr"], h["beta2"], eps, v0=h["sigma"] ** 2)
    return lambda x: sde.AdamShadow(problem, x, noise, h["lr"], (h["beta1"], h["beta2"]), eps)


@per_run
def weak_runs(ctx, kind, loss, etas, T, replicas, d, n_times, reference, eps_of_eta=None) -> WeakRuns:
    """Run ``kind`` ("rmsprop"/"adam") on ``loss`` ("quadratic"/"logcosh") at every eta of ``etas``.

    ``reference``: "control variate" (estimates are E L(x_k)) or "coupled SDE" (estimates are
    the weak errors). ``eps_of_eta``: None (eps = eps0/eta, the SDE scaling), or an eta whose eps is
    kept for every eta (a control: the scaling of eps broken). Memoised within a claim run: a
    control that only reads the same runs differently does not run them again.
    """
    seed = ctx.seed
    problem = make_problem(loss, d)
    steps, est, cov = [], [], []
    for i, eta in enumerate(etas):
        h = sde.discrete_from_sde(eta, SDE["sigma0"], SDE["eps0"], SDE["c2"], SDE["c1"] if kind == "adam" else None)
        eps = h["eps"] if eps_of_eta is None else SDE["eps0"] / eps_of_eta
        total = int(round(T / eta ** 2))
        rec = [int(round(j * total / n_times)) for j in range(1, n_times + 1)]
        noise = sde.GradientNoise(h["sigma"])
        run_seed = [seed, i]
        curve = sde.expected_loss(_method(kind, h, eps), problem, problem.x0, total, replicas, noise,
                                  seed=run_seed, record_steps=rec,
                                  companion=_companion(kind, reference, problem, h, eps, noise, run_seed))
        steps.append(rec)
        est.append(curve.estimate)
        cov.append(np.atleast_2d(np.cov(curve.samples)) / replicas)
    steps = np.array(steps)
    return WeakRuns(tuple(etas), steps, steps * np.asarray(etas)[:, None] ** 2, np.array(est), np.array(cov),
                    curve.quantity, replicas, problem)


def exact_expected_loss(kind, problem, times, x0):
    """E L(X(t)) of the SDE on the quadratic at ``times`` (any shape), from its exact moments."""
    a = np.diag(problem.A)
    s = sde.diagonal_noise(problem)
    flat = np.ravel(times)
    if kind == "rmsprop":
        mean, var = sde.rmsprop_sde_moments(flat, x0, a, s, SDE["sigma0"], SDE["eps0"], SDE["c2"])
    else:
        mean, var = sde.adam_sde_moments(flat, x0, a, s, SDE["sigma0"], SDE["eps0"], SDE["c1"], SDE["c2"])
    return sde.quadratic_loss(a, mean, var, problem.f_star).reshape(np.shape(times))


def order_figure(title, etas, sups, errors, covariances, horizons):
    """sup |weak error| against eta (log-log) for each horizon, 2-s.e. bars, and a slope-1 guide."""
    fig, ax = figure(title, "learning rate eta (log)", "sup_t |E L(x_k) - E L(X(t))| (log)")
    etas = np.asarray(etas)
    se = np.sqrt(np.stack([np.diagonal(c) for c in covariances]))
    for j, h in enumerate(horizons):
        at = np.abs(errors[:, :h]).argmax(axis=1)
        ax.errorbar(etas, sups[:, j], yerr=2 * se[np.arange(len(etas)), at], marker="o", capsize=3,
                    label=f"sup over t <= {h}/{errors.shape[1]} T")
    ax.plot(etas, sups[0, -1] * etas / etas[0], "k--", label="order 1 (the theorem)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    return fig


ORDER_STATISTIC = ("smallest local order log(e_i/e_(i+1))/log(eta_i/eta_(i+1)) of e = sup_(t<=H) |weak error of E L| "
                   "over consecutive etas of the grid and over the horizons H = T/2 and T, with a 99% parametric-"
                   "bootstrap interval from the Monte Carlo covariance; higher is good; threshold 0.8 = the theorem's "
                   "order 1 minus the pre-asymptotic margin 0.2 of spec 4.4")


def decide_order(ctx, runs, errors, title):
    """The verdict of a weak-error part from its errors (n_eta, n_times); a figure when ``title`` is given."""
    size = ctx.size
    horizons = (size["n_times"] // 2, size["n_times"])
    stat, ci, orders, sups = smallest_local_order(runs.etas, errors, runs.covariances, horizons, ctx.seed)
    z = sups / np.sqrt(np.stack([np.diagonal(c) for c in runs.covariances]).max(axis=1))[:, None]
    details = {"etas": runs.etas, "horizons_T_fraction": [h / size["n_times"] for h in horizons],
               "sup_weak_error": sups, "local_orders": orders, "sup_error_over_largest_se": z,
               "weak_errors_at_times": errors, "sde_times": runs.times, "replicas": runs.replicas,
               "estimate": runs.quantity, "sde": SDE}
    figs = ctx.figures((order_figure(title, runs.etas, sups, errors, runs.covariances, horizons),
                        "sup over time of the weak error against eta; passing: the points fall at least as fast "
                        "as the dashed order-1 line at every horizon")) if title else []
    return decide(stat, 1 - ORDER_MARGIN, "higher", ci=ci, details=details, figures=figs)


def quadratic_order(ctx, kind, title, wrong_clock=False):
    """The quadratic part of a weak-error claim: control-variate runs against the SDE's exact E L, read at
    t = k eta^2 (or, for the control, at SGD's t = k eta). The control reuses the check's runs."""
    s = ctx.size
    runs = weak_runs(ctx, kind, "quadratic", tuple(s["etas"]), s["T"], s["replicas"], s["d"], s["n_times"],
                     "control variate")
    times = runs.steps * np.asarray(runs.etas)[:, None] if wrong_clock else runs.times
    errors = runs.estimates - exact_expected_loss(kind, runs.problem, times, runs.problem.x0)
    return decide_order(ctx, runs, errors, title)
