"""qh.from-nadam.asymptotic: QHAdam with from_nadam approaches Dozat's constant-mu NAdam.

Ma & Yarats (Sec. 4) say NAdam is QHAdam with nus = (beta1, 1) "modulo bias correction". Written
out (Dozat 2016, constant mu): NAdam's step is ((1 - mu) g/(1 - mu^t) + mu m/(1 - mu^(t+1))) / den,
QHAdam's ((1 - mu) g + mu m/(1 - mu^t)) / den with the same den = sqrt(v/(1 - beta2^t)) + eps. Their
difference is O(mu^t) (derived here), and the first step's ratio is (1 + 2 mu)/(1 + mu) (sympy:
``verify.symbolic.converters.nadam_first_step_ratio``). Steps are measured exactly: the gradients are
open loop and there is no weight decay, so a step does not depend on x and is taken from x = 0.
"""
import numpy as np

from stochopt import qh
from verify.registry import Claim
from verify.symbolic import converters as symbolic

from . import _common as C
from .sizes import SIZES

CLAIM = Claim(
    id="qh.from-nadam.asymptotic",
    statement=("QHAdam with from_nadam(lr, betas) (nus = (beta1, 1)) takes asymptotically the same steps as Dozat's "
               "constant-mu NAdam on the same gradients: the relative difference of the steps decays like mu^t (to "
               "rounding level by the last 10% of the steps), and the first step differs by exactly the factor "
               "(1 + 2 mu)/(1 + mu)."),
    source=(f"{C.MA_YARATS}, Sec. 4 (NAdam as QHAdam, 'modulo bias correction'); Dozat, ICLR 2016 workshop, "
            "Incorporating Nesterov Momentum into Adam"),
    assumptions=["nu1 = beta1 = mu (constant), nu2 = 1", "the same gradient sequence", "no weight decay"],
    reconstructed="the O(mu^t) difference and the first-step factor are derived here from the two update rules",
    sizes=SIZES["from-nadam.asymptotic"],
)
MUS = np.array([0.5, 0.9, 0.95, 0.975])
LR, BETA2, EPS = 1e-3, 0.999, 1e-8


def _steps(opt, G):
    """Each step taken from x = 0 with the method's buffers: exact steps, no cancellation in x_{t+1} - x_t."""
    state, out = opt.init(np.zeros(G.shape[1:])), []
    for g in G:
        state = opt.step(state, g)
        out.append(np.array(state.x))
        state = state.replace(x=np.zeros_like(state.x))
    return np.stack(out)


def _run(ctx, nus=None):
    rng = np.random.default_rng(ctx.seed)
    G = rng.standard_normal((ctx.size["steps"], len(MUS), ctx.size["dim"])) + 0.3
    conv = qh.from_nadam(LR, (MUS, BETA2))
    ours = _steps(qh.qhadam(lr=conv["lr"], betas=conv["betas"], nus=conv["nus"] if nus is None else nus, eps=EPS), G)
    dozat = _steps(qh.nadam_dozat(lr=LR, betas=(MUS, BETA2), eps=EPS), G)
    rel = np.linalg.norm(ours - dozat, axis=-1) / np.linalg.norm(dozat, axis=-1)   # (steps, R)
    return rel, ours, dozat, G


def _figure(rel, title, show_mu=True):
    fig, ax = C.new_axes()
    t = np.arange(1, len(rel) + 1)
    for r, mu in enumerate(MUS):
        ax.plot(t, np.log10(np.maximum(rel[:, r], 1e-18)), label=f"mu={mu}")
        if show_mu:
            ax.plot(t, np.maximum(t * np.log10(mu), -18), "k:", lw=0.7)
    ax.axhline(np.log10(C.EXACT), color="k", ls="--", lw=1, label="threshold 1e-12")
    ax.set(title=title, xlabel="step t", ylabel="log10 |step_QHAdam - step_NAdam| / |step_NAdam|")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7)
    return fig


@CLAIM.part("late steps agree", statistic=(
        "largest relative difference ||step_QHAdam - step_NAdam|| / ||step_NAdam|| over the last 10% of the steps "
        "and the four mu; lower is good; threshold 1e-12, the stated float64 tolerance (the difference C mu^t is "
        "below 1e-20 there)"))
def late(ctx):
    rel, *_ = _run(ctx)
    late_rel = float(np.max(rel[int(0.9 * len(rel)):]))
    figs = ctx.figures((_figure(rel, "from_nadam vs Dozat's NAdam (mu^t dotted)"),
                        "Passing: every curve follows mu^t down to rounding level, below 1e-12 at the end.")) \
        if ctx.draw else []
    return C.decide(late_rel, C.EXACT, "lower", details={"mu": MUS, "late": late_rel}, figures=figs)


@late.control(breaks=("nus = (1, 1) (plain Adam) instead of (beta1, 1): the late steps differ by (1 - mu)(g_t - m^_t)/den "
                      "relative to NAdam's step, of order 1 for these noisy gradients (predicted at the last step from "
                      "the EMAs written out)"))
def late_adam(ctx):
    rel, ours, dozat, G = _run(ctx, nus=(1.0, 1.0))
    mu, T = MUS[:, None], len(G)
    m, v = np.zeros(G.shape[1:]), np.zeros(G.shape[1:])
    for g in G:
        m, v = mu * m + (1 - mu) * g, BETA2 * v + (1 - BETA2) * g * g
    den = np.sqrt(v / (1 - BETA2 ** T)) + EPS
    adam = m / (1 - mu ** T) / den
    nadam = ((1 - mu) * G[-1] / (1 - mu ** T) + mu * m / (1 - mu ** (T + 1))) / den
    predicted = np.linalg.norm(adam - nadam, axis=-1) / np.linalg.norm(nadam, axis=-1)
    return C.predicted_control(ctx, float(np.max(rel[int(0.9 * T):])), rel[-1], predicted, "the last step",
                               details={"mu": MUS})


def _ratio_error(rel, ours, dozat, t):
    ratio = np.linalg.norm(dozat[t], axis=-1) / np.linalg.norm(ours[t], axis=-1)
    return np.abs(ratio / ((1 + 2 * MUS) / (1 + MUS)) - 1), ratio


@CLAIM.part("first step ratio (1 + 2 mu)/(1 + mu)", statistic=(
        "largest |ratio / ((1 + 2 mu)/(1 + mu)) - 1| over the four mu, ratio = ||NAdam's first step|| / ||QHAdam's "
        "first step||; lower is good; threshold 1e-12, the stated float64 tolerance"))
def first(ctx):
    rel, ours, dozat, _ = _run(ctx)
    error, ratio = _ratio_error(rel, ours, dozat, 0)
    figs = []
    if ctx.draw:
        fig, ax = C.new_axes(figsize=(6.4, 3.4))
        ax.plot(MUS, ratio, "o", ms=8, label="measured ||NAdam step 1|| / ||QHAdam step 1||")
        grid = np.linspace(0.45, 1.0, 100)
        ax.plot(grid, (1 + 2 * grid) / (1 + grid), "k-", lw=1, label="(1 + 2 mu)/(1 + mu)")
        ax.set(title="first-step ratio of NAdam to from_nadam's QHAdam", xlabel="mu = beta1", ylabel="ratio")
        ax.legend(fontsize=7)
        figs = ctx.figures((fig, "Passing: the dots on the curve."))
    details = {"mu": MUS, "ratio": ratio, "sympy": str(symbolic.nadam_first_step_ratio())}
    return C.decide(float(np.max(error)), C.EXACT, "lower", details=details, figures=figs)


@first.control(breaks=("the second step instead of the first (m^ no longer equals g): the ratio is ||NAdam step 2|| / "
                       "||QHAdam step 2||, predicted from both update rules written out for two steps, and differs from "
                       "(1 + 2 mu)/(1 + mu)"))
def second(ctx):
    rel, ours, dozat, G = _run(ctx)
    error, ratio = _ratio_error(rel, ours, dozat, 1)
    mu, (g0, g1) = MUS[:, None], G[:2]
    m2 = mu * (1 - mu) * g0 + (1 - mu) * g1                        # the EMAs after two steps
    den = np.sqrt((BETA2 * (1 - BETA2) * g0 ** 2 + (1 - BETA2) * g1 ** 2) / (1 - BETA2 ** 2)) + EPS
    nadam = ((1 - mu) * g1 / (1 - mu ** 2) + mu * m2 / (1 - mu ** 3)) / den
    qhadam = ((1 - mu) * g1 + mu * m2 / (1 - mu ** 2)) / den
    predicted = np.linalg.norm(nadam, axis=-1) / np.linalg.norm(qhadam, axis=-1)
    predicted_error = np.abs(predicted / ((1 + 2 * MUS) / (1 + MUS)) - 1)
    return C.predicted_control(ctx, float(np.max(error)), error, predicted_error, "the second step",
                               details={"mu": MUS, "ratio": ratio})
