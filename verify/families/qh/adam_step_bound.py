"""qh.adam-step-bound: the tight per-step bound of the QHAdam (and Adam) update without bias correction.

Ma & Yarats (App.) bound the QHAdam step by Cauchy-Schwarz: with no bias correction and eps = 0, a
coordinate's step is lr sum_i a_i g_{t-i} / sqrt(sum_i b_i g_{t-i}^2) with the weights a_i, b_i below,
so |dx|/lr <= sqrt(sum_i a_i^2 / b_i), with equality when g_{t-i} is proportional to a_i/b_i. The
series converges when beta1^2 < beta2 (ratio r = beta1^2/beta2) and then has the closed form
a_0^2/b_0 + (nu1 (1 - beta1))^2/(nu2 (1 - beta2)) r/(1 - r) used as the bound here.
"""
import numpy as np

from stochopt import qh
from verify.registry import Claim

from . import _common as C
from .sizes import SIZES

CLAIM = Claim(
    id="qh.adam-step-bound",
    statement=("Without bias correction and with eps = 0, every coordinate of a QHAdam (and Adam: nus = (1, 1)) step "
               "satisfies |dx|/lr <= sqrt(sum_i a_i^2 / b_i), a_0 = 1 - nu1 + nu1 (1 - beta1), a_i = nu1 (1 - beta1) "
               "beta1^i, b_0 = 1 - nu2 + nu2 (1 - beta2), b_i = nu2 (1 - beta2) beta2^i, finite when beta1 < "
               "sqrt(beta2); the bound is the supremum: attained by g_{t-i} proportional to a_i/b_i and never "
               "exceeded (random Gaussian, Cauchy and sign-alternating gradients included)."),
    source=f"{C.MA_YARATS}, App. (bound on the QHAdam step; Cauchy-Schwarz); spec 2.4",
    assumptions=["no bias correction (here: a state after 10^5 zero-gradient steps, where 1 - beta^t = 1 in float64)",
                 "eps = 0", "beta1 < sqrt(beta2)", "nu2 > 0"],
    sizes=SIZES["adam-step-bound"],
)
#: (beta1, beta2, nu1, nu2): Adam's defaults, beta1 = 0, and QHAdam settings, all with beta1 < sqrt(beta2)
SETTINGS = [(0.9, 0.999, 1.0, 1.0), (0.9, 0.99, 0.7, 1.0), (0.5, 0.9, 0.3, 0.6), (0.8, 0.95, 1.0, 0.5),
            (0.0, 0.9, 0.5, 0.8), (0.7, 0.999, 0.9, 0.99)]
#: beta1 > sqrt(beta2): the series diverges
DIVERGENT = [(0.95, 0.8, 1.0, 1.0), (0.9, 0.7, 0.7, 0.9), (0.99, 0.9, 1.0, 0.5)]
STATISTIC = ("|max ratio - 1| with ratio = |dx| / (lr * bound) per coordinate, the max over the settings' coordinates, "
             "every step of three random gradient sequences and the last step of the adversarial sequence; lower is "
             "good; threshold 1e-12 (the stated float64 tolerance: the sup must equal the bound)")


def weights(beta1, beta2, nu1, nu2, terms):
    """a_i, b_i for i < terms (columns: settings)."""
    i = np.arange(terms)[:, None]
    a, b = nu1 * (1 - beta1) * beta1 ** i, nu2 * (1 - beta2) * beta2 ** i
    a[0] += 1 - nu1
    b[0] += 1 - nu2
    return a, b


def closed_form_bound(beta1, beta2, nu1, nu2):
    """sqrt(sum_{i >= 0} a_i^2 / b_i) in closed form (beta1^2 < beta2).

    >>> round(float(closed_form_bound(0.9, 0.999, 1.0, 1.0)), 4)     # Adam's defaults
    7.2703
    """
    a0, b0 = 1 - nu1 + nu1 * (1 - beta1), 1 - nu2 + nu2 * (1 - beta2)
    r = beta1 ** 2 / beta2
    return np.sqrt(a0 ** 2 / b0 + (nu1 * (1 - beta1)) ** 2 / (nu2 * (1 - beta2)) * r / (1 - r))


def _ratios(ctx, settings, bound_of):
    """Max |dx|/(lr bound) per setting: over random gradients (3 kinds x T steps) and adversarial (last step)."""
    rng = np.random.default_rng(ctx.seed)
    beta1, beta2, nu1, nu2 = (np.array(c) for c in zip(*settings))
    R, d, T, lr = len(settings), ctx.size["dim"], ctx.size["steps"], 1e-2
    bound = bound_of(beta1, beta2, nu1, nu2, T)
    opt = qh.qhadam(lr=lr, betas=(beta1, beta2), nus=(nu1, nu2), eps=0.0)
    start = opt.init(np.zeros((R, d))).replace(k=100_000)   # after 1e5 zero gradients: no bias correction
    random = {}
    for kind in ("gaussian", "cauchy", "alternating"):
        state, worst = start, np.zeros(R)
        for t in range(T):
            g = {"gaussian": lambda: rng.standard_normal((R, d)), "cauchy": lambda: rng.standard_cauchy((R, d)),
                 "alternating": lambda: (-1.0) ** t * np.abs(rng.standard_normal((R, d))) * rng.uniform(0.5, 1.5, (R, 1))
                 }[kind]()
            new = opt.step(state, g)
            worst = np.maximum(worst, np.max(np.abs(new.x - state.x), axis=-1) / (lr * bound))
            state = new
        random[kind] = worst
    # adversarial: g at step s proportional to a_{T-1-s}/b_{T-1-s}, random sign and scale per coordinate; where
    # a_i = 0 (beta1 = 0) the best g is 0: 1e-150 instead avoids 0/0 at eps = 0 and adds ~1e-300 to v
    a, b = weights(beta1, beta2, nu1, nu2, T)
    shape = np.maximum(a / b, 1e-150)
    coef = rng.choice([-1.0, 1.0], (R, d)) * C.log_uniform(rng, 1e-3, 1e3, (R, d))
    state = start
    with np.errstate(over="ignore"):
        for s in range(T):
            new = opt.step(state, coef * shape[T - 1 - s][:, None])
            last = np.abs(new.x - state.x) / lr
            state = new
    adversarial = np.max(last, axis=-1) / bound
    return random, adversarial, np.min(last, axis=-1) / bound, bound


def _figure(settings, random, adversarial, title):
    fig, ax = C.new_axes(bottom=0.2)
    R = len(settings)
    for kind, ratio in random.items():
        ax.plot(np.arange(R), ratio, "o", label=f"random ({kind}), max over steps")
    ax.plot(np.arange(R), adversarial, "*", ms=12, label="adversarial g ~ a_i/b_i")
    ax.axhline(1.0, color="k", ls="--", lw=1, label="bound")
    ax.set_xticks(np.arange(R), [f"b=({c[0]},{c[1]})\nnu=({c[2]},{c[3]})" for c in settings], fontsize=6)
    ax.set(title=title, xlabel="setting (betas, nus)", ylabel="|dx| / (lr * bound)")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7)
    return fig


@CLAIM.part("the bound is the supremum of the step", statistic=STATISTIC)
def supremum(ctx):
    random, adversarial, attained_every, bound = _ratios(ctx, SETTINGS, lambda b1, b2, n1, n2, T: closed_form_bound(
        b1, b2, n1, n2))
    ratio = np.maximum(np.max(np.stack(list(random.values())), axis=0), adversarial)
    figs = ctx.figures((_figure(SETTINGS, random, adversarial, "QHAdam per-step bound (no bias correction, eps = 0)"),
                        "Passing: stars on the bound line, dots at or below it.")) if ctx.draw else []
    details = {"settings (beta1, beta2, nu1, nu2)": SETTINGS, "bound": bound, "adversarial ratio": adversarial,
               "adversarial ratio, smallest coordinate": attained_every,
               "random ratio": {k: v for k, v in random.items()}}
    return C.decide(float(np.max(np.abs(ratio - 1))), C.EXACT, "lower", details=details, figures=figs)


@supremum.control(breaks=("beta1 > sqrt(beta2): the series diverges, so the bound taken from its first T/2 terms (no "
                          "closed form exists) is exceeded by the adversarial T-step sequence by exactly "
                          "sqrt(S_T / S_{T/2}) (S_n the n-term sum; predicted per setting, 7e7 to 3e9)"))
def divergent_series(ctx):
    T = ctx.size["steps"]
    random, adversarial, _, bound = _ratios(ctx, DIVERGENT, lambda b1, b2, n1, n2, T: np.sqrt(np.sum(
        np.divide(*(w ** p for w, p in zip(weights(b1, b2, n1, n2, T // 2), (2, 1)))), axis=0)))
    beta1, beta2, nu1, nu2 = (np.array(c) for c in zip(*DIVERGENT))
    a, b = weights(beta1, beta2, nu1, nu2, T)
    predicted = np.sqrt(np.sum(a * a / b, axis=0)) / bound
    ratio = np.maximum(np.max(np.stack(list(random.values())), axis=0), adversarial)
    return C.predicted_control(ctx, float(np.max(np.abs(ratio - 1))), adversarial, predicted, "the adversarial step",
                               details={"settings": DIVERGENT, "adversarial ratio": adversarial})
