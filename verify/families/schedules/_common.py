"""The parts of the schedules claims: "runs as its formula" and one part per stepsize condition.

A **code part** compares each schedule of the claim with its formula (``formula_matches_code``).
Its control is a schedule that runs differently from the formula it states (built with
``schedules.from_function(code, formula=...)``, the way a mis-coded schedule would look); the
control must fail by the error predicted at every checked step from the two closed forms
(evaluated in float64 here, to 1e-6 of the largest predicted error).

A **condition part** asks sympy (``verify.symbolic``, which first repeats the code comparison)
for one condition of each case and counts the cases whose answer is not the claimed one. Its
control breaks the assumption the condition rests on (an exponent outside the range, a constant
step, ...): every control case must get the opposite answer (predicted: the statistic equals the
number of control cases); an undecided or "formula is not the code" answer makes it inconclusive.
"""
from __future__ import annotations

import numpy as np

from verify import symbolic
from verify.registry import Verdict, decide  # noqa: F401 (decide and Verdict used by the claim modules)

SOURCE = ("Xiao, Hu, Toh (arXiv 2307.10053), stepsize conditions of the convergence theorems (reconstructed; "
          "spec 01-framework.md 1.2)")
PREDICTION_TOLERANCE = 1e-6
LABELS = {
    "divergent_sum": "sum eta_k = inf",
    "summable_squares": "sum eta_k^2 < inf",
    "vanishing": "eta_k -> 0",
    "log_vanishing": "eta_k log k -> 0",
    "ratio_vanishing": "eta_k / theta_k -> 0",
    "ratio_limit": "theta_k / eta_k -> tau",
}
CODE_STATISTIC = ("largest error |code - formula| / max(|formula|, 1e-3 M) over the steps k = 0..255 and 96 steps up "
                  "to 10^12, every replica, both evaluation paths (per step and in blocks), M the schedule's largest "
                  "|formula| (verify.symbolic.formula_matches_code; the formula evaluated exactly); lower is good; "
                  "threshold 1e-12, the stated float64 tolerance (below 1e-3 M the error is taken against 1e-3 M: "
                  "8 ulps of M fit in 1e-12 of it)")


def _new_axes(figsize=(6.4, 3.6), left=0.12, bottom=0.14):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.add_axes([left, bottom, 0.97 - left, 0.89 - bottom])


def log10(values):
    return np.log10(np.clip(np.abs(np.asarray(values, dtype=float)), 1e-300, None))


# ------------------------------------------------------------------------------ code parts
def code_check(ctx, schedules: dict, title, replica_ids=None) -> Verdict:
    """Every schedule in ``schedules`` ({label: Schedule}) against its formula (at ``replica_ids``, default all)."""
    agreements = {label: symbolic.formula_matches_code(s, replica_ids=replica_ids) for label, s in schedules.items()}
    statistic = max(a.statistic for a in agreements.values())
    figs = []
    if ctx.draw:
        fig, ax = _new_axes()
        for label, a in agreements.items():
            k = log10(a.ks + 1)
            line, = ax.plot(k, log10(a.exact[:, 0]), lw=1, label=f"formula: {label}")
            ax.plot(k[::6], log10(a.code[::6, 0]), "o", ms=3, color=line.get_color(), label="code (every 6th k checked)")
        ax.set(title=title, xlabel="log10(k + 1)", ylabel="log10 eta_k (replica 0)")
        ax.title.set_fontsize(9)
        ax.legend(fontsize=6)
        figs = ctx.figures((fig, "The executed schedule (dots) on its formula (line); passing: every dot on its "
                                 "line, error below 1e-12 at every checked k."))
    details = {label: a.to_dict() for label, a in agreements.items()}
    return decide(statistic, symbolic.CODE_TOLERANCE, "lower", details=details, figures=figs)


def code_control(ctx, miscoded, predicted_error, replica_ids=None) -> Verdict:
    """A schedule whose code differs from its formula; ``predicted_error(ks) -> (len(ks),)`` the error
    the closed forms predict at each step (worst over replicas)."""
    a = symbolic.formula_matches_code(miscoded, replica_ids=replica_ids)
    predicted = np.asarray(predicted_error(a.ks), dtype=float)
    mismatch = float(np.max(np.abs(a.errors - predicted)) / max(np.max(predicted), 1e-300))
    details = {"agreement": a.to_dict(), "prediction": {"predicted_statistic": float(np.max(predicted)),
                                                        "measured": a.statistic, "mismatch": mismatch,
                                                        "tolerance": PREDICTION_TOLERANCE}}
    if not mismatch <= PREDICTION_TOLERANCE:
        details.update(better="lower", note="the control fails, but not by the error its closed forms predict")
        return Verdict("inconclusive", a.statistic, symbolic.CODE_TOLERANCE, None, details)
    return decide(a.statistic, symbolic.CODE_TOLERANCE, "lower", details=details)


def error_measure(code, formula, ks):
    """The error of ``formula_matches_code`` computed from closed forms in float64 (the controls' prediction)."""
    code, formula = np.asarray(code, dtype=float), np.asarray(formula, dtype=float)
    scale = np.max(np.abs(formula))
    return np.abs(code - formula) / np.maximum(np.abs(formula), symbolic.schedules.SMALL_VALUE_FRACTION * scale)


# ------------------------------------------------------------------------- condition parts
def evaluate(condition, case):
    """The ConditionResult of ``condition`` for a case: a Schedule, or (eta, theta), or (theta, eta, tau)."""
    if condition in symbolic.CONDITIONS:
        return symbolic.CONDITIONS[condition](case)
    if condition == "ratio_vanishing":
        return symbolic.ratio_vanishing(*case)
    if condition == "ratio_limit":
        return symbolic.ratio_tends_to(*case)
    raise ValueError(f"unknown condition {condition!r}")


def condition_statistic(condition, expected) -> str:
    claim = LABELS[condition] if expected == symbolic.PROVED else f"not ({LABELS[condition]})"
    return (f"number of the claim's schedules for which sympy does not answer '{expected}' to '{LABELS[condition]}' "
            f"(i.e. does not prove {claim}) about the code that runs (verify.symbolic, which first compares the "
            "schedule with its formula); lower is good; threshold 0 (a proof is exact); an undecided answer makes "
            "the part inconclusive")


def condition_check(ctx, condition, expected, cases: dict, figure=None) -> Verdict:
    results = {label: evaluate(condition, case) for label, case in cases.items()}
    unmet = {label: r for label, r in results.items() if r.status != expected}
    details = {"condition": LABELS[condition], "expected": expected,
               "results": {label: {"status": r.status, "reason": r.reason, "expression": r.expression}
                           for label, r in results.items()}}
    figs = ctx.figures(figure(cases)) if (figure is not None and ctx.draw) else []
    if unmet and all(r.status == symbolic.UNPROVED for r in unmet.values()):
        details["better"] = "lower"
        return Verdict("inconclusive", len(unmet), 0, None, details, figs)
    return decide(len(unmet), 0, "lower", details=details, figures=figs)


def condition_control(ctx, condition, expected, cases: dict) -> Verdict:
    """Every control case must get the opposite answer, so the statistic is the number of cases."""
    opposite = symbolic.DISPROVED if expected == symbolic.PROVED else symbolic.PROVED
    results = {label: evaluate(condition, case) for label, case in cases.items()}
    statistic = sum(r.status != expected for r in results.values())
    details = {"condition": LABELS[condition], "claimed": expected, "predicted": opposite,
               "results": {label: {"status": r.status, "reason": r.reason} for label, r in results.items()}}
    if any(r.status != opposite for r in results.values()):
        details.update(better="lower", note=f"a control case is not '{opposite}': it fails for another reason")
        return Verdict("inconclusive", statistic, 0, None, details)
    return decide(statistic, 0, "lower", details=details)


def condition_part(claim, condition, expected, cases, control_cases, breaks, figure, name=None):
    """Register a condition part (check and control) on ``claim``; ``cases(ctx)`` / ``control_cases(ctx)``
    return {label: case}; ``figure(cases) -> (Figure, caption)`` draws the check."""
    name = name or (LABELS[condition] if expected == symbolic.PROVED else f"not ({LABELS[condition]})")

    def check(ctx):
        return condition_check(ctx, condition, expected, cases(ctx), figure)

    def control(ctx):
        return condition_control(ctx, condition, expected, control_cases(ctx))

    check.__name__ = control.__name__ = f"{condition}_{expected}"
    part = claim.part(name, statistic=condition_statistic(condition, expected))(check)
    part.control(breaks=breaks)(control)
    return part


# ----------------------------------------------------------------------------------- figures
def _values(schedule, ks, replicas=3):
    ids = np.arange(replicas)
    vals = np.stack([np.broadcast_to(np.asarray(schedule(int(k), ids), dtype=float), (replicas,)) for k in ks])
    return vals[:, 0]


def partial_sums_figure(power, K, title):
    """Partial sums of eta_k^power over k < K (from the executed schedule), on log10 axes."""
    def figure(cases):
        fig, ax = _new_axes()
        n = np.unique(np.geomspace(1, K, 60).astype(int))
        for label, schedule in cases.items():
            sums = np.cumsum(_values(schedule, np.arange(K)) ** power)[n - 1]
            ax.plot(log10(n), log10(sums), label=label)
        ax.set(title=title, xlabel="log10 K (steps)", ylabel=f"log10 sum_(k<K) eta_k^{power}")
        ax.title.set_fontsize(9)
        ax.legend(fontsize=6)
        return fig, (f"Partial sums of eta_k^{power} of the executed schedules; a sum that diverges keeps rising, "
                     "one that converges levels off.")
    return figure


def tail_figure(transform, ylabel, title, caption):
    """``transform(case, ks) -> values`` at the checked steps up to 10^12, on log10 axes."""
    def figure(cases):
        fig, ax = _new_axes()
        ks = symbolic.check_steps()
        for label, case in cases.items():
            ax.plot(log10(ks + 1), log10(transform(case, ks)), label=label)
        ax.set(title=title, xlabel="log10(k + 1)", ylabel=ylabel)
        ax.title.set_fontsize(9)
        ax.legend(fontsize=6)
        return fig, caption
    return figure


def values_at(schedule, ks):
    return _values(schedule, ks)


VANISHING_FIGURE = tail_figure(lambda s, ks: values_at(s, ks), "log10 eta_k", "eta_k of the executed schedules",
                               "eta_k up to k = 10^12; passing for eta_k -> 0: every curve falls without bound.")
LOG_VANISHING_FIGURE = tail_figure(lambda s, ks: values_at(s, ks) * np.log(ks + 1.0), "log10 eta_k log(k + 1)",
                                   "eta_k log(k + 1) of the executed schedules",
                                   "eta_k log(k + 1) up to k = 10^12; passing for -> 0: every curve falls.")
