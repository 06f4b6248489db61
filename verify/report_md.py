"""``report.md``: the verification report as Markdown, readable by someone who never saw the code.

One summary table (a row per claim), then one section per claim: statement, source, assumptions,
what was reconstructed, a table of its parts (statistic in words, the check's statistic against
its threshold with its interval, the control's verdict and which assumption it breaks), the seed
table when several seeds ran, and the figures with their captions.

>>> import verify
>>> text = markdown(verify.run_claims("schedules.two-timescale", progress=False), None)
>>> "| claim | verdict | parts | seeds | runtime |" in text
True
"""
from __future__ import annotations

import json

__all__ = ["markdown", "fmt", "fmt_ci"]


def fmt(value) -> str:
    """A statistic for a table cell.

    >>> fmt(0.0123456), fmt(None), fmt(3)
    ('0.01235', '-', '3')
    """
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def fmt_ci(ci) -> str:
    return "" if ci is None else f" [{ci[0]:.3g}, {ci[1]:.3g}]"


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _anchor(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch in "-_ ").replace(" ", "-")


def _op(verdict) -> str:
    return "<=" if verdict.better == "lower" else ">="


def _versus(verdict) -> str:
    if verdict.status in ("error", "not-applicable"):
        return verdict.status
    return f"{fmt(verdict.statistic)}{fmt_ci(verdict.ci)} {_op(verdict)} {fmt(verdict.threshold)}"


def _header(results, doc) -> list:
    if doc is None:
        from .report import results_dict

        doc = results_dict(results)
    s = doc["summary"]
    seeds = doc["seeds"]
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}..{seeds[-1]} ({len(seeds)})"
    lines = ["# stochopt verification report", "",
             f"Created {doc['created']} - mode **{doc['mode']}** - {seed_text} - "
             + ", ".join(f"{k} {v}" for k, v in doc["versions"].items() if k != "platform"), "",
             f"**{s['verified']}/{s['claims']} claims verified** ({s['parts']} parts). Overall: "
             f"**{'OK' if s['ok'] else 'NOT OK'}**.", "",
             "A claim is verified when, at every seed run, every one of its parts passes *and* every part's "
             "negative control (the same experiment with one assumption of that part broken) fails through the "
             "same statistic.", ""]
    user = doc.get("user") or {}
    if user.get("direction") or user.get("method"):
        lines += [f"User objects: direction `{user.get('direction')}`, method `{user.get('method')}`; parts that do "
                  "not run them are not applicable.", ""]
    return lines, doc


def _attention(results, doc) -> list:
    bad = [r for r in results if r.applicable and not r.ok]
    if not bad and not doc["load_errors"]:
        return []
    lines = ["## Attention", ""]
    for r in bad:
        lines.append(f"- **{r.claim.id}**: {'; '.join(r.problems[:6])}{' ...' if len(r.problems) > 6 else ''}")
    for mod, tb in doc["load_errors"].items():
        lines.append(f"- **claim module {mod} failed to import**: `{tb.strip().splitlines()[-1]}`")
    return lines + [""]


def _summary(results) -> list:
    lines = ["## Summary", "", "| claim | verdict | parts | seeds | runtime |", "|---|---|---|---|---|"]
    for r in results:
        n_ok = sum(p.ok for p in r.parts)
        seeds_ok = sum(s.ok for s in r.by_seed)
        lines.append(f"| [{r.claim.id}](#{_anchor(r.claim.id)}) | **{r.status}** | {n_ok}/{len(r.parts)} | "
                     f"{seeds_ok}/{len(r.by_seed)} | {r.elapsed:.1f} s |")
    return lines + [""]


def _parts_table(r) -> list:
    lines = ["| part | statistic | check | control | control breaks |", "|---|---|---|---|---|"]
    for p in r.parts:
        lines.append(f"| {_cell(p.name)} | {_cell(p.statistic)} | **{p.check.status}** {_cell(_versus(p.check))} | "
                     f"**{p.control.status}**{'' if p.control.status in ('fail', 'not-applicable') else ' (MUST FAIL)'}"
                     f" {_cell(_versus(p.control))} | {_cell(p.breaks)} |")
    return lines + [""]


def _seed_table(r) -> list:
    if len(r.by_seed) < 2:
        return []
    names = [p.name for p in r.parts]
    lines = ["**By seed** (check / control status; statistic of the check).", "",
             "| seed | ok | " + " | ".join(_cell(n) for n in names) + " |", "|---|---|" + "---|" * len(names)]
    for s in r.by_seed:
        cells = [f"{p.check.status} / {p.control.status} ({fmt(p.check.statistic)})" for p in s.parts]
        lines.append(f"| {s.seed} | {'yes' if s.ok else '**no**'} | " + " | ".join(cells) + " |")
    return lines + [""]


def _errors(r) -> list:
    lines = []
    for s in r.by_seed:
        for p in s.parts:
            for kind, v in (("check", p.check), ("control", p.control)):
                if v.status == "error":
                    lines += [f"Error in the {kind} of part '{p.name}' (seed {s.seed}):", "", "```",
                              str(v.details.get("traceback", "")).strip(), "```", ""]
    return lines


def _claim_section(r, entry) -> list:
    cl = r.claim
    lines = [f"## {cl.id}", "", f"**Statement.** {cl.statement}", "", f"**Source.** {cl.source}", ""]
    if cl.reconstructed:
        lines += [f"**Reconstructed.** {cl.reconstructed}", ""]
    if cl.assumptions:
        lines += ["**Assumptions.**", ""] + [f"- {a}" for a in cl.assumptions] + [""]
    lines += [f"**Verdict: {r.status}** at {sum(s.ok for s in r.by_seed)}/{len(r.by_seed)} seeds, "
              f"{r.elapsed:.1f} s.", ""]
    lines += _parts_table(r) + _seed_table(r) + _errors(r)
    for part in entry["parts"]:
        for kind in ("check", "control"):
            for fig in part[kind]["figures"]:
                lines += [f"![{_cell(fig['caption'])}]({fig['file']})", "",
                          f"*{part['name']} ({kind}): {fig['caption']}*", ""]
    details = {p["name"]: {k: v for k, v in (p["check"].get("details") or {}).items() if k != "traceback"}
               for p in entry["parts"]}
    if any(details.values()):
        lines += ["<details><summary>details of the checks</summary>", "", "```json",
                  json.dumps(details, indent=1)[:6000], "```", "", "</details>", ""]
    return lines


def markdown(results, doc) -> str:
    """The whole report.md text for ``results`` (``doc``: the results.json document, or None)."""
    lines, doc = _header(results, doc)
    lines += _attention(results, doc) + _summary(results)
    entries = {c["id"]: c for c in doc["claims"]}
    for r in results:
        lines += _claim_section(r, entries[r.claim.id])
    return "\n".join(lines)
