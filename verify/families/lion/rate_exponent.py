"""lion.rate-exponent: Lion with horizon-dependent hyperparameters satisfies the O(sqrt(d) K^(-1/4))
bound on its averaged l1 gradient norm, and on its averaged KKT measure under weight decay.

Theorem (Dong, Li, Lin, arXiv 2411.07724: rate O(sqrt(d) K^(-1/4)) in the l1 norm, to KKT points
of the box problem with weight decay and to critical points without; the schedule
beta1 = 1 - c1/sqrt(K), beta2 = 1 - c2/sqrt(K), eta = c3/(sqrt(d) K^(3/4)) is quoted from a secondary
source). The constant is RECONSTRUCTED (``verify.lion_theory.rate_bound``, proof in docs/lion.md;
the paper's own constants could not be confirmed): for L1-smooth f (||grad f(x) - grad f(y)||_1 <=
L1 ||x - y||_inf, L1 <= d L), unbiased gradients with E||xi||^2 <= sigma^2,

    (1/K) sum_{k<K} E G(x_k) <= B(K) = sqrt(d) K^(-1/4) (gap/c3 + sigma sqrt(2 c2) + 2 s (L1/d) c3/c2) + O(sqrt(d) K^(-1/2)),

with G = ||grad f||_1 and s = 1 without decay, G = the KKT measure and s = 2 with decoupled decay
(start in the box). We check B itself, per replica (its gap f(x_0) - f* and ||grad f(x_0)||_1), over
a range of horizons K AND of dimensions d at fixed (L1/d, sigma, gap): problems
``separable-quadratic`` with ``normalized`` scaling, from generic starts (uniform over the same
range as the minimiser, not near it). The l1/l2 ratio of the gradients is measured on the same
runs (the sqrt(d) of the bound is that ratio). The fitted exponent in K is reported with the reason
when it sits on the wrong side of -1/4; it does not decide the verdict (the theorem is the bound).
Control: constant hyperparameters (the schedule frozen at K = 1, lr = c3/sqrt(d), beta_i = 1 - c_i):
no convergence, the average stalls at the period-2 floor (sum_i a_i lr/2 without decay; with decay
lr lambda = 1 puts every step on a face and each interior coordinate alternates faces:
(2/lambda) sum_interior a_i), while B(K) keeps falling like K^(-1/4). The control fails only when
its statistic reaches at least that floor over the bound at K_max (else it is inconclusive).
"""
from __future__ import annotations

import math

import numpy as np

import problems
import stochopt
from verify.lion_theory import kkt_measure, rate_bound
from verify.registry import Claim, Verdict, decide
from verify.stats import fit_exponent, mean_ci

from ._common import DONG, figure
from .sizes import SIZES

C1, C2, C3 = 1.0, 1.0, 3.0        # schedule constants (ours)
SIGMA = 1.0                       # total noise standard deviation, E||xi||^2 = sigma^2
LAM0 = 1.0 / 3.0                  # weight decay lambda = LAM0 sqrt(d) (the box radius shrinks like the coordinates)

CLAIM = Claim(
    id="lion.rate-exponent",
    statement=("With beta1 = 1 - c1/sqrt(K), beta2 = 1 - c2/sqrt(K), eta = c3/(sqrt(d) K^(3/4)) over a horizon K, "
               "Lion's averaged l1 gradient norm (1/K) sum_k E||grad f(x_k)||_1 stays below the reconstructed bound "
               "B(K) = sqrt(d) K^(-1/4) (gap/c3 + sigma sqrt(2 c2) + 2 (L1/d) c3/c2) + O(sqrt(d) K^(-1/2)) at every K in "
               "the range and every d (at fixed L1/d, sigma, gap), and with decoupled weight decay the averaged KKT "
               "measure stays below the same bound with step factor 2; the fitted exponent in K is reported."),
    source=f"{DONG} (the O(sqrt(d) K^(-1/4)) rate; the schedule from a secondary source; the constant reconstructed)",
    assumptions=["L1-smooth f: ||grad f(x) - grad f(y)||_1 <= L1 ||x - y||_inf (separable quadratic, curvatures in "
                 "[0.5, 2], L1 = sum a_i)", "unbiased Gaussian gradient noise, E||xi||^2 = sigma^2 = 1",
                 f"c1 = {C1:g}, c2 = {C2:g}, c3 = {C3:g}", "generic starts: uniform over the minimiser's range "
                 "(no decay) or over the box (decay)", f"weight decay lambda = sqrt(d)/3 (box radius 3/sqrt(d))"],
    reconstructed=("the constant of the bound (verify.lion_theory.rate_bound; our derivation following the structure "
                   "of Dong, Li, Lin, whose constants could not be confirmed) and the schedule (secondary source)"),
    sizes=SIZES["rate-exponent"],
)


def schedule(K, d):
    """(lr, beta1, beta2) of the horizon-K schedule in dimension d."""
    return C3 / (math.sqrt(d) * K ** 0.75), 1.0 - C1 / math.sqrt(K), 1.0 - C2 / math.sqrt(K)


def _problem(d, seed, decay):
    """The d-dimensional problem, its weight decay, and the starts (normalised: constants fixed in d)."""
    rng = np.random.default_rng([seed, d, 61])
    if not decay:
        p = problems.get("separable-quadratic", d=d, center=(-3.0, 3.0), normalized=True, noise=SIGMA, seed=seed)
        return p, 0.0, lambda R: rng.uniform(-3.0, 3.0, (R, d)) / math.sqrt(d)
    lam = LAM0 * math.sqrt(d)   # half of the centres outside the box (the constraint is active), half inside
    outside = np.arange(d) % 2 == 0
    b = np.where(outside, rng.choice([-1.0, 1.0], d) * rng.uniform(1.2, 2.0, d), rng.uniform(-0.8, 0.8, d)) / lam
    p = problems.get("separable-quadratic", d=d, centers=b.tolist(), noise=SIGMA, seed=seed)
    return p, lam, lambda R: rng.uniform(-1.0, 1.0, (R, d)) / lam


def run_rates(seed, dims, horizons, replicas, decay, frozen):
    """Per (K, d): measured averages of G, of ||grad f||_1 and ||grad f||_2 per replica, and B per replica.

    All dimensions run in lock-step: d-dimensional runs are padded with zero coordinates (zero
    gradient, zero start: sign(0) = 0 and the decay leave them at 0, and Lion acts coordinatewise, so
    every padded run is exactly its d-dimensional run). The schedule depends on K, so each horizon
    is its own run; with ``frozen`` hyperparameters one run of K_max steps gives every horizon's
    average as a prefix.
    """
    rng = np.random.default_rng([seed, 62])
    dmax, R = max(dims), replicas * len(dims)
    setups = [_problem(d, seed, decay) for d in dims]
    x0 = np.zeros((R, dmax))
    rows = [slice(j * replicas, (j + 1) * replicas) for j in range(len(dims))]
    for (p, lam, starts), sl, d in zip(setups, rows, dims):
        x0[sl, :d] = starts(replicas)
    lam = np.repeat([s[1] for s in setups], replicas)
    noise_std = np.zeros((R, dmax))
    for (p, _, _), sl, d in zip(setups, rows, dims):
        noise_std[sl, :d] = p.noise_std          # the problem's Gaussian noise, drawn here in one call

    def run(K, lr, b1, b2):
        opt = stochopt.lion(lr=lr, betas=(b1, b2), weight_decay=lam)
        state, acc = opt.init(x0), np.zeros((3, K, R))
        grad = np.zeros((R, dmax))
        for k in range(K):
            for (p, _, _), sl, d in zip(setups, rows, dims):
                grad[sl, :d] = p.grad(state.x[sl, :d])
            acc[0, k] = kkt_measure(grad, state.x, lam)        # = ||grad f||_1 when lambda = 0
            acc[1, k] = np.sum(np.abs(grad), axis=1)
            acc[2, k] = np.sqrt(np.sum(grad * grad, axis=1))
            state = opt.step(state, grad + noise_std * rng.standard_normal((R, dmax)))
        return acc

    sched = [[schedule(K, d) for d in dims] for K in horizons]
    if frozen:
        hp = np.array([schedule(1, d) for d in dims]).repeat(replicas, axis=0)
        acc = run(max(horizons), *hp.T)
        avg = {K: acc[:, :K].mean(axis=1) for K in horizons}
    else:
        avg = {}
        for K, hps in zip(horizons, sched):
            hp = np.array(hps).repeat(replicas, axis=0)
            avg[K] = run(K, *hp.T).mean(axis=1)
    out = {"G": {}, "l1": {}, "l2": {}, "bound": {}}
    for K, hps in zip(horizons, sched):
        for j, ((p, lm, _), d, sl) in enumerate(zip(setups, dims, rows)):
            x = x0[sl, :d]
            gap = p.value(x) - (p.box_solution(lm)[1] if decay else p.f_star)
            b = rate_bound(K, *hps[j], p.constants["smoothness_L1"], math.sqrt(d) * SIGMA, gap,
                           np.sum(np.abs(p.grad(x)), axis=1), weight_decay=decay)
            for key, idx in (("G", 0), ("l1", 1), ("l2", 2)):
                out[key][K, d] = avg[K][idx, sl]
            out["bound"][K, d] = b.total
    out["floor"] = {d: _floor(p, lm, d, decay) for (p, lm, _), d in zip(setups, dims)}
    return out


def _floor(p, lam, d, decay):
    """The control's predicted floor of the average (deterministic period-2 orbits at lr = c3/sqrt(d))."""
    a, b = np.asarray(p.a), np.asarray(p.b)
    if not decay:
        return float(np.sum(a) * schedule(1, d)[0] / 2)       # a lower bound: noise only adds
    return float(2.0 / lam * np.sum(a[np.abs(b) < 1.0 / lam]))


def _cells(ctx, decay, frozen):
    size = ctx.size
    return run_rates(ctx.seed, tuple(size["dims"]), tuple(size["horizons"]), size["replicas"], decay, frozen)


def _verdict(ctx, decay, frozen):
    size = ctx.size
    dims, Ks = size["dims"], size["horizons"]
    out = _cells(ctx, decay, frozen)
    ratio = {c: out["G"][c] / out["bound"][c] for c in out["G"]}
    n = size["replicas"]
    cells = {c: mean_ci(r) for c, r in ratio.items()}                    # 95% Student-t interval per cell
    mean = {c: m.statistic for c, m in cells.items()}
    worst = max(mean, key=mean.get)
    stat, ci = mean[worst], (max(m.ci[0] for m in cells.values()), max(m.ci[1] for m in cells.values()))
    G = np.array([[np.mean(out["G"][K, d]) for K in Ks] for d in dims])          # (n_d, n_K)
    fits = {d: fit_exponent(Ks, np.array([out["G"][K, d] for K in Ks]), seed=ctx.seed) for d in dims}
    local = {d: np.diff(np.log(G[i])) / np.diff(np.log(Ks)) for i, d in enumerate(dims)}
    l1 = np.array([np.mean(out["l1"][Ks[-1], d]) for d in dims])
    l2 = np.array([np.mean(out["l2"][Ks[-1], d]) for d in dims])
    d_slope = float(np.polyfit(np.log(dims), np.log(G[:, -1]), 1)[0])
    r_slope = float(np.polyfit(np.log(dims), np.log(l1 / l2), 1)[0])
    details = {"worst_cell": {"K": worst[0], "d": worst[1]},
               "ratio_by_cell": {f"K={K},d={d}": mean[K, d] for K, d in mean},
               "exponent_in_K": {d: fits[d].slope for d in dims}, "exponent_ci": {d: fits[d].ci for d in dims},
               "local_exponents": {d: local[d].tolist() for d in dims},
               "prefactor_G_K^(1/4)/sqrt(d)": {d: (G[i] * np.array(Ks) ** 0.25 / math.sqrt(d)).tolist()
                                               for i, d in enumerate(dims)},
               "exponent_in_d_at_K_max": d_slope, "l1_l2_ratio_at_K_max": dict(zip(dims, (l1 / l2).tolist())),
               "l1_l2_ratio_exponent_in_d": r_slope, "replicas_per_cell": n, "schedule": f"c = ({C1}, {C2}, {C3})",
               "hyperparameters": "frozen at K = 1 (control)" if frozen else "horizon-dependent schedule"}
    if not frozen:
        wrong = [d for d in dims if fits[d].ci[1] > -0.25]
        details["exponent_note"] = (
            ("fitted exponents on the wrong side of -1/4 for d in %s: pre-asymptotic, the prefactor "
             "G K^(1/4)/sqrt(d) is still rising with K (see prefactor and local exponents, which approach -1/4); "
             "the theorem bounds the average, it does not fix its exponent, and the bound holds" % wrong)
            if wrong else "fitted exponents at or below -1/4")
    else:
        details["predicted_floor"] = out["floor"]
        details["predicted_ratio_at_K_max_at_least"] = min(
            out["floor"][d] / float(np.mean(out["bound"][Ks[-1], d])) for d in dims)
    figs = []
    if ctx.draw:
        fig, (ax1, ax2) = figure()
        for i, d in enumerate(dims):
            B = [float(np.mean(out["bound"][K, d])) for K in Ks]
            ax1.loglog(Ks, G[i], "o-", color=f"C{i}", label=f"measured, d = {d}")
            ax1.loglog(Ks, B, "--", color=f"C{i}", lw=0.9)
        ax1.plot([], [], "k--", lw=0.9, label="bound B(K) (dashed)")
        ax1.set(xlabel="horizon K", ylabel="(1/K) sum_k G(x_k)" + (" (KKT measure)" if decay else " (||grad f||_1)"),
                title="average against the bound" + (" (constant hyperparameters)" if frozen else ""))
        ax1.legend(fontsize=7)
        for i, d in enumerate(dims):
            ax2.semilogx(Ks, [mean[K, d] for K in Ks], "o-", color=f"C{i}", label=f"d = {d}")
        ax2.axhline(1.0, color="r", ls="--", lw=1, label="threshold 1")
        ax2.set(xlabel="horizon K", ylabel="measured / bound (mean over replicas)",
                title=f"l1/l2 ratio ~ d^{r_slope:.2f}, average ~ d^{d_slope:.2f}")
        ax2.legend(fontsize=7)
        fig.suptitle("Control fails: with constant hyperparameters the ratio grows like K^(1/4) past 1" if frozen
                     else "Pass: every measured average below its bound (ratios below the red line)", fontsize=9)
        figs = [(fig, "Passing: measured/bound stays below 1 at every horizon and dimension.")]
    if frozen and not stat >= details["predicted_ratio_at_K_max_at_least"]:
        # constant hyperparameters must fail by at least the period-2 floor, not by some other amount
        details.update(better="lower", note="the ratio exceeds 1, but stays below the predicted period-2 floor")
        return Verdict("inconclusive", stat, 1.0, ci, details, figs)
    return decide(stat, 1.0, "lower", ci=ci, details=details, figures=figs)


STATISTIC = ("max over horizons K and dimensions d of the mean over replicas of (measured average of G over the "
             "horizon) / B(K) (each replica's B from its own gap and ||grad f(x_0)||_1), with a 95% t-interval per "
             "cell; lower is good; threshold 1 (the theorem's bound; B is an expectation bound, so the mean is what "
             "it bounds)")


@CLAIM.part("l1 gradient norm, no weight decay", statistic=STATISTIC)
def unconstrained(ctx):
    return _verdict(ctx, decay=False, frozen=False)


@unconstrained.control(breaks=("constant hyperparameters (the schedule frozen at K = 1: lr = c3/sqrt(d), beta1 = beta2 = "
                                "0): no convergence; the average stalls at least at the period-2 floor sum_i a_i lr/2 "
                                "while B(K) falls like K^(-1/4), so the ratio grows past 1 "
                                "(predicted_ratio_at_K_max_at_least)"))
def unconstrained_constant(ctx):
    return _verdict(ctx, decay=False, frozen=True)


@CLAIM.part("KKT measure under weight decay", statistic=STATISTIC)
def constrained(ctx):
    return _verdict(ctx, decay=True, frozen=False)


@constrained.control(breaks=("constant hyperparameters (frozen at K = 1: lr lambda = 1, so every step lands on a face): "
                             "coordinates with their minimiser outside stay on the face (G's term 0), interior ones "
                             "alternate faces, so G averages (2/lambda) sum_interior a_i while B(K) falls like "
                             "K^(-1/4): the ratio grows past 1"))
def constrained_constant(ctx):
    return _verdict(ctx, decay=True, frozen=True)
