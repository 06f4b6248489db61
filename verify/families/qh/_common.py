"""Shared experiment code of the quasi-hyperbolic claims: gradient sources, runs, statistics, figures.

An identity part runs QHM (the code under test) and its target (``_targets``' plain loop from
the paper, and ``stochopt.qh``'s target method) on three gradient sources, R replicas in
lock-step, each replica with its own random hyperparameters:

- ``random``: one i.i.d. Gaussian gradient sequence fed to both (open loop);
- ``quadratic``: f = sum_i lambda_i (x_i - x*_i)^2 / 2, lambda_i in [0.1, 1], |x*_i| in [1, 3];
- ``l1-regression``: the nonsmooth (1/N) sum |a_i x - b_i| of ``problems`` (n = 40).

Its statistic is the largest relative error ||x^QHM_t - y_t|| / ||y_t|| over steps, replicas,
sources and targets, threshold 1e-12 (``EXACT``, the stated float64 tolerance). A control runs
the same experiment with one assumption broken and is read by the same statistic; it must also
fail BY THE PREDICTED AMOUNT: at the first step where the broken assumption acts, the measured
error must equal the closed-form prediction to 1e-9 (``PREDICTION_TOLERANCE``, far above
rounding); otherwise the control is "inconclusive" (it failed for another reason).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verify.registry import Verdict, decide

MA_YARATS = "Ma & Yarats, Quasi-hyperbolic momentum and Adam for deep learning (ICLR 2019, arXiv 1810.06801)"
QHOPTIM = "qhoptim 1.1.0 (facebookresearch/qhoptim), param_conv"
EXACT = 1e-12
PREDICTION_TOLERANCE = 1e-9
SOURCES = ("random", "quadratic", "l1-regression")
IDENTITY_STATISTIC = ("largest relative error ||x^QHM_t - y_t|| / ||y_t|| over steps t = 0..T, replicas, the three "
                      "gradient sources and both targets (the paper's recursion as a plain loop, and stochopt.qh's "
                      "target), y_t the target's matching sequence; lower is good; threshold 1e-12, the stated "
                      "float64 tolerance of an exact identity")


def log_uniform(rng, low, high, size):
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def qhm_draw(rng, R):
    """QHM hyperparameters in a stable region: lr in [0.1, 1], momentum in [0.2, 0.95], nu in [0.1, 1]."""
    return rng.uniform(0.1, 1.0, R), rng.uniform(0.2, 0.95, R), rng.uniform(0.1, 1.0, R)


def quadratic(rng, R, d):
    """Curvatures lambda in [0.1, 1] and minimisers x* with |x*_i| in [1, 3], per replica and coordinate."""
    return rng.uniform(0.1, 1.0, (R, d)), rng.uniform(1.0, 3.0, (R, d)) * rng.choice([-1.0, 1.0], (R, d))


def gradient_sources(rng, R, d, steps, seed, lam=None, x_star=None) -> dict:
    """{source: oracle(x, t)} for the three gradient sources (``lam``, ``x_star``: the quadratic's)."""
    import problems

    noise = rng.standard_normal((steps, R, d))
    if lam is None:
        lam, x_star = quadratic(rng, R, d)
    l1 = problems.get("l1-regression", n=40, d=d, seed=seed)
    return {"random": lambda x, t: noise[t], "quadratic": lambda x, t: lam * (x - x_star),
            "l1-regression": lambda x, t: l1.grad(x)}


def setup(ctx):
    """(rng, sources, x0) of an identity part: the generator of seed ctx.seed, the three gradient
    sources and R starting points (R = ctx.size["replicas"], d = ctx.size["dim"])."""
    size = ctx.size
    rng = np.random.default_rng(ctx.seed)
    sources = gradient_sources(rng, size["replicas"], size["dim"], size["steps"], ctx.seed)
    return rng, sources, rng.standard_normal((size["replicas"], size["dim"]))


def first_step_errors(sources, x0, c_qhm, c_target) -> dict:
    """The predicted relative error at t = 1 when both first steps are x_0 - c g_0 (c per replica):
    |c_qhm - c_target| ||g_0|| / ||x_0 - c_target g_0||, per source."""
    cq, ct = np.asarray(c_qhm, dtype=float)[:, None], np.asarray(c_target, dtype=float)[:, None]
    return {s: np.linalg.norm((cq - ct) * o(x0, 0), axis=-1) / np.linalg.norm(x0 - ct * o(x0, 0), axis=-1)
            for s, o in sources.items()}


def method_run(opt, start=None):
    """A run function ``fn(x0, oracle, steps) -> states' x`` of a stochopt Method.

    ``start(state, x0) -> state`` replaces the initial state (a control's wrong initial state).
    """
    def fn(x0, oracle, steps):
        state = opt.init(x0)
        state = state if start is None else start(state, x0)
        out = [np.array(state.x)]
        for t in range(steps):
            state = opt.step(state, oracle(state.x, t))
            out.append(np.array(state.x))
        return np.stack(out)
    return fn


def rel_error(a, b):
    """||a_t - b_t|| / ||b_t|| per step and replica, shape (T + 1, R); inf where either is not finite."""
    with np.errstate(all="ignore"):
        out = np.linalg.norm(a - b, axis=-1) / np.maximum(np.linalg.norm(b, axis=-1), 1e-300)
    return np.where(np.isfinite(out), out, np.inf)


@dataclass
class Curves:
    """Relative error curves by label ("source: target"), each (T + 1, R)."""

    curves: dict

    @property
    def statistic(self) -> float:
        return float(max(np.max(c) for c in self.curves.values()))

    def at(self, t: int) -> np.ndarray:
        """The errors of every label and replica at step t (one flat array, labels in order)."""
        return np.concatenate([c[t] for c in self.curves.values()])

    def worst(self) -> dict:
        return {label: float(np.max(c)) for label, c in self.curves.items()}


def compare(qhm_fn, targets: dict, sources: dict, x0, steps) -> Curves:
    """Run QHM and every target on every source; the relative error of QHM against each target."""
    curves = {}
    with np.errstate(all="ignore"):
        for source, oracle in sources.items():
            a = qhm_fn(x0, oracle, steps)
            for label, fn in targets.items():
                curves[f"{source}: {label}"] = rel_error(a, fn(x0, oracle, steps))
    return Curves(curves)


def per_source(values: dict, targets: int) -> np.ndarray:
    """A prediction per source (R,) repeated for each target, in ``Curves.at`` order."""
    return np.concatenate([np.asarray(v, dtype=float) for v in values.values() for _ in range(targets)])


def new_axes(figsize=(6.4, 3.8), left=0.11, bottom=0.13):
    """(Figure, Axes) on the Agg canvas with a fixed layout (a constrained layout doubles the drawing time)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    ax = fig.add_axes([left, bottom, 0.97 - left, 0.89 - bottom])
    return fig, ax


def error_figure(title, curves: dict, threshold=EXACT, ylabel="log10 of the max relative error over replicas",
                 xlabel="step t"):
    """log10 of each curve's max over replicas against t (a linear axis of log10 values draws faster than a log axis)."""
    fig, ax = new_axes()
    for label, y in curves.items():
        y = np.asarray(y, dtype=float)
        y = np.max(y, axis=1) if y.ndim == 2 else y
        ax.plot(np.arange(len(y)), np.log10(np.clip(y, 1e-18, 1e300)), label=label, lw=1)
    if threshold is not None:
        ax.axhline(np.log10(threshold), color="k", ls="--", lw=1, label=f"threshold {threshold:g}")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=6, ncol=2)
    return fig


def identity_check(ctx, curves: Curves, title, caption, details=None) -> Verdict:
    """The check of an identity part: the largest relative error against 1e-12."""
    details = {**(details or {}), "max_relative_error": curves.worst()}
    figs = ctx.figures((error_figure(title, curves.curves), caption)) if ctx.draw else []
    return decide(curves.statistic, EXACT, "lower", details=details, figures=figs)


def predicted_control(ctx, statistic, measured, predicted, where, threshold=EXACT, better="lower", details=None,
                      figure=None) -> Verdict:
    """A control's verdict: the part's statistic against its threshold, provided the broken
    assumption acted by the amount predicted at ``where`` (measured vs predicted arrays, to 1e-9
    of the largest prediction); otherwise "inconclusive" (it failed for another reason)."""
    measured, predicted = np.asarray(measured, dtype=float), np.asarray(predicted, dtype=float)
    scale = max(float(np.max(np.abs(predicted))), 1e-300)
    mismatch = float(np.max(np.abs(measured - predicted))) / scale
    details = {**(details or {}), "prediction": {
        "where": where, "predicted_max": float(np.max(predicted)), "measured_max": float(np.max(measured)),
        "mismatch": mismatch, "tolerance": PREDICTION_TOLERANCE}}
    figs = ctx.figures(figure) if (figure is not None and ctx.draw) else []
    if not mismatch <= PREDICTION_TOLERANCE:
        details.update(better=better, note="the control fails, but not by the amount its broken assumption predicts")
        return Verdict("inconclusive", float(statistic), threshold, None, details, figs)
    return decide(statistic, threshold, better, details=details, figures=figs)


# ----------------------------------------------------------------------------- proofs
PROOF_STATISTIC = ("number of proof obligations that fail, among: the transfer functions from the gradient sequence to "
                   "the matching sequence are equal (sympy cancels their difference to 0); both starts are rest points "
                   "of the zero-gradient dynamics with output x_0; the converter formulas transcribed from the paper "
                   "equal stochopt.qh's numbers at 32 random points to 1e-12; lower is good; threshold 0 (a proof is "
                   "exact)")


def obligations_figure(proof, title):
    fig, ax = new_axes(figsize=(6.4, 2.4), left=0.42, bottom=0.2)
    items = list(proof.obligations.items())
    ax.barh(range(len(items)), [1] * len(items), color=["C2" if ok else "C3" for _, ok in items])
    notes = {0: f"residual {proof.residual}"[:60], 1: "holds" if proof.start_fixed_point else "fails",
             2: f"max rel. difference {proof.numeric_agreement:.2g}" if proof.numeric_agreement is not None else "n/a"}
    for i in range(len(items)):
        ax.text(0.5, i, notes[i], ha="center", va="center", fontsize=7, color="white")
    ax.set_yticks(range(len(items)), [name for name, _ in items], fontsize=7)
    ax.set(title=title, xlabel="green = holds, red = fails", xticks=[])
    ax.title.set_fontsize(9)
    ax.invert_yaxis()
    return fig


def proof_check(ctx, proof, title, caption) -> Verdict:
    figs = ctx.figures((obligations_figure(proof, title), caption)) if ctx.draw else []
    return decide(len(proof.failed), 0, "lower", details={"symbolic": proof.to_dict()}, figures=figs)


def proof_control(ctx, proof, predicted_failed) -> Verdict:
    """The control of a proof part: exactly the predicted obligation fails (else inconclusive)."""
    details = {"symbolic": proof.to_dict(), "predicted_failed": list(predicted_failed)}
    if sorted(proof.failed) != sorted(predicted_failed):
        details.update(better="lower", note="not the obligation the broken assumption predicts")
        return Verdict("inconclusive", len(proof.failed), 0, None, details)
    return decide(len(proof.failed), 0, "lower", details=details)


# ------------------------------------------------------------------------ rounding controls
UNIT_ROUNDOFF = 2.0 ** -53
ROUNDING_BAND = (0.1, 10.0)


def rounding_control(ctx, statistic, condition, details=None) -> Verdict:
    """A control whose broken assumption is a well-conditioned domain: rounding (unit roundoff u)
    amplified by the condition number predicts a statistic of order u * condition; it must lie
    within ``ROUNDING_BAND`` (a factor 10 either way) of that, else "inconclusive"."""
    predicted = UNIT_ROUNDOFF * float(condition)
    ratio = float(statistic) / predicted
    details = {**(details or {}), "prediction": {"predicted_order": predicted, "measured": float(statistic),
                                                 "ratio": ratio, "band": ROUNDING_BAND}}
    if not ROUNDING_BAND[0] <= ratio <= ROUNDING_BAND[1]:
        details.update(better="lower", note="the control fails, but not by the amount rounding predicts")
        return Verdict("inconclusive", float(statistic), EXACT, None, details)
    return decide(statistic, EXACT, "lower", details=details)


def bars_figure(title, values: dict, threshold=EXACT, xlabel="log10 of the max relative error over random points",
                ylabel="round trip"):
    fig, ax = new_axes(figsize=(6.4, 0.4 * len(values) + 1.6), left=0.3, bottom=0.25)
    ax.barh(list(values), [np.log10(max(float(v), 1e-18)) + 18 for v in values.values()], left=-18)
    ax.axvline(np.log10(threshold), color="k", ls="--", lw=1, label=f"threshold {threshold:g}")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7)
    return fig


def transfer_part(claim, prove, title, broken: dict, predicted_failed: str, breaks: str):
    """Register the sympy part "transfer functions (sympy)" on ``claim``: ``prove(seed=)`` must hold,
    and its control ``prove(**broken, seed=)`` must fail exactly the obligation ``predicted_failed``."""
    def check(ctx):
        return proof_check(ctx, prove(seed=ctx.seed), title, "Each obligation of the proof; passing: all three green.")

    def control(ctx):
        return proof_control(ctx, prove(**broken, seed=ctx.seed), [predicted_failed])

    check.__name__, control.__name__ = "transfer", "transfer_" + "_".join(f"{k}_{v}" for k, v in broken.items())
    part = claim.part("transfer functions (sympy)", statistic=PROOF_STATISTIC)(check)
    part.control(breaks=breaks)(control)
    return part
