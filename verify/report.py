"""The verification report (spec 5.6): report.md, results.json and the figures as PNG.

``write_report(results, directory)`` is called by ``verify.run_claims(..., report_dir=...)`` and by
``stochopt verify``. ``subplots`` makes figures that need no display and no pyplot state (they are
rendered with the Agg canvas), the recommended way for claims to draw.

>>> import tempfile, os, verify
>>> out = tempfile.mkdtemp()
>>> _ = verify.run_claims("schedules.polynomial.conditions", report_dir=out, progress=False)
>>> sorted(n for n in os.listdir(out) if not n.startswith("."))
['figures', 'report.md', 'results.json']
"""
from __future__ import annotations

import datetime as _dt
import io
import json
import os
import platform

__all__ = ["subplots", "write_report", "versions", "results_dict"]


def subplots(nrows: int = 1, ncols: int = 1, figsize=(6.4, 4.0), **kwargs):
    """(Figure, axes) rendered with the Agg canvas: no display, no pyplot global state.

    >>> fig, ax = subplots()
    >>> _ = ax.set(title="t", xlabel="k (steps)", ylabel="eta_k")
    >>> type(fig).__name__
    'Figure'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def versions() -> dict:
    """Versions of the packages a verdict depends on.

    >>> sorted(versions())[:3]
    ['matplotlib', 'numpy', 'platform']
    """
    import matplotlib
    import numpy
    import scipy
    import sympy

    import stochopt

    return {"stochopt": stochopt.__version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
            "sympy": sympy.__version__, "matplotlib": matplotlib.__version__,
            "python": platform.python_version(), "platform": platform.platform()}


def _atomic_bytes(path, data: bytes):
    from stochopt.engine import atomic_write

    atomic_write(path, lambda f: f.write(data))


def _save_figures(verdict, claim, directory, tag):
    saved = []
    for n, item in enumerate(verdict.figures):
        fig, caption = (item if isinstance(item, tuple) else (item, claim.caption))
        name = f"{claim.id}{'-control' if tag else ''}-{n + 1}.png"
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        _atomic_bytes(os.path.join(directory, "figures", name), buf.getvalue())
        saved.append({"file": f"figures/{name}", "caption": caption or claim.caption})
    return saved


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _ci(ci) -> str:
    return "" if ci is None else f" [{ci[0]:.3g}, {ci[1]:.3g}]"


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def results_dict(results, mode, seed, figures=None, load_errors=None) -> dict:
    """The JSON document of a run (see ``write_report``).

    >>> import verify
    >>> doc = results_dict(verify.run_claims("schedules.two-timescale", progress=False), "quick", 0)
    >>> doc["claims"][0]["status"], doc["claims"][0]["control"]["status"], doc["summary"]["ok"]
    ('pass', 'fail', True)
    """
    from .registry import _jsonable

    figures = figures or {}
    out = []
    for r in results:
        v, c, cl = r.verdict, r.control_verdict, r.claim
        out.append({
            "id": cl.id, "statement": cl.statement, "source": cl.source, "assumptions": cl.assumptions,
            "status": v.status, "statistic": v.statistic, "threshold": v.threshold, "ci": v.ci,
            "mode": v.mode or mode, "seeds": v.seeds, "elapsed_s": v.elapsed, "details": v.details,
            "control": {"description": cl.control_description, "status": c.status, "statistic": c.statistic,
                        "threshold": c.threshold, "ci": c.ci, "seeds": c.seeds, "elapsed_s": c.elapsed,
                        "details": c.details},
            "ok": r.ok, "problems": r.problems, "figures": figures.get(cl.id, []),
        })
    summary = {"claims": len(results), "checks_passed": sum(r.verdict.status == "pass" for r in results),
               "controls_failed": sum(r.control_verdict.status == "fail" for r in results),
               "ok": all(r.ok for r in results) and not load_errors}
    doc = {"created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "mode": mode,
           "seed": seed, "versions": versions(), "summary": summary, "load_errors": load_errors or {},
           "claims": out}
    return _jsonable(doc)


def write_report(results, directory, mode="quick", seed=0, load_errors=None) -> dict:
    """Write ``report.md``, ``results.json`` and ``figures/*.png`` into ``directory``; return the JSON doc.

    results.json has top-level ``created``, ``versions``, ``mode``, ``seed``, ``summary``,
    ``load_errors`` and ``claims``: per claim id, statement, source, status, statistic, threshold,
    ci, mode, seeds, elapsed_s and ``control`` (its own status, statistic, ...).

    >>> import json, os, tempfile, verify
    >>> out = tempfile.mkdtemp()
    >>> _ = write_report(verify.run_claims("schedules.two-timescale", progress=False), out)
    >>> sorted(json.load(open(os.path.join(out, "results.json")))["claims"][0])[:4]
    ['assumptions', 'ci', 'control', 'details']
    """
    directory = os.fspath(directory)
    os.makedirs(os.path.join(directory, "figures"), exist_ok=True)
    figures = {}
    for r in results:
        figures[r.claim.id] = (_save_figures(r.verdict, r.claim, directory, False)
                               + _save_figures(r.control_verdict, r.claim, directory, True))
    doc = results_dict(results, mode, seed, figures, load_errors)
    _atomic_bytes(os.path.join(directory, "results.json"), json.dumps(doc, indent=2).encode())
    _atomic_bytes(os.path.join(directory, "report.md"), _markdown(results, doc, figures).encode())
    return doc


def _markdown(results, doc, figures) -> str:
    s = doc["summary"]
    lines = ["# stochopt verification report", "",
             f"Created {doc['created']} - mode **{doc['mode']}** - seed {doc['seed']} - "
             + ", ".join(f"{k} {v}" for k, v in doc["versions"].items() if k != "platform"), "",
             f"**{s['checks_passed']}/{s['claims']} checks passed, {s['controls_failed']}/{s['claims']} negative "
             f"controls failed (as they must).** Overall: **{'OK' if s['ok'] else 'NOT OK'}**.", "",
             "A claim is verified when its check passes *and* its negative control (the same experiment with "
             "one assumption broken) fails.", ""]
    bad = [r for r in results if not r.ok]
    if bad or doc["load_errors"]:
        lines += ["## Attention", ""]
        for r in bad:
            lines.append(f"- **{r.claim.id}**: {'; '.join(r.problems)}")
        for mod, tb in doc["load_errors"].items():
            lines.append(f"- **claim module {mod} failed to import**: `{tb.strip().splitlines()[-1]}`")
        lines.append("")
    lines += ["## Summary", "", "| claim | statement | source | verdict | statistic vs threshold | control | runtime |",
              "|---|---|---|---|---|---|---|"]
    for r in results:
        v, c = r.verdict, r.control_verdict
        better = v.details.get("better", "lower") if isinstance(v.details, dict) else "lower"
        op = "<=" if better == "lower" else ">="
        runtime = (v.elapsed or 0) + (c.elapsed or 0)
        lines.append(f"| [{r.claim.id}](#{_anchor(r.claim.id)}) | {_cell(r.claim.statement)} | {_cell(r.claim.source)} | "
                     f"**{v.status}** | {_fmt(v.statistic)}{_ci(v.ci)} {op} {_fmt(v.threshold)} | "
                     f"{c.status}{' (must fail!)' if c.status != 'fail' else ''} | {runtime:.2f} s |")
    lines.append("")
    for r in results:
        cl, v, c = r.claim, r.verdict, r.control_verdict
        lines += [f"## {cl.id}", "", f"**Statement.** {cl.statement}", "", f"**Source.** {cl.source}", ""]
        if cl.assumptions:
            lines += ["**Assumptions.**", ""] + [f"- {a}" for a in cl.assumptions] + [""]
        lines += [f"**Verdict: {v.status}.** statistic {_fmt(v.statistic)}{_ci(v.ci)}, threshold {_fmt(v.threshold)}, "
                  f"seeds {v.seeds}, {(v.elapsed or 0):.2f} s ({v.mode}).", "",
                  f"**Negative control: {c.status}** ({'as required' if c.status == 'fail' else 'IT MUST FAIL'}). "
                  f"{cl.control_description} statistic {_fmt(c.statistic)}{_ci(c.ci)}, threshold {_fmt(c.threshold)}.",
                  ""]
        for label, verdict in (("check", v), ("control", c)):
            if verdict.status == "error":
                lines += [f"Error in the {label}:", "", "```", str(verdict.details.get("traceback", "")).strip(),
                          "```", ""]
        for fig in figures.get(cl.id, []):
            lines += [f"![{_cell(fig['caption'])}]({fig['file']})", "", f"*{fig['caption']}*", ""]
        details = {k: val for k, val in (v.details or {}).items() if k != "traceback"}
        if details:
            lines += ["<details><summary>details</summary>", "", "```json",
                      json.dumps(_jsonable_safe(details), indent=1)[:4000], "```", "", "</details>", ""]
    return "\n".join(lines)


def _jsonable_safe(value):
    from .registry import _jsonable

    return _jsonable(value)


def _anchor(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch in "-_ ").replace(" ", "-")
