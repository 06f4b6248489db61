"""Verdicts where CI systems read them: JUnit XML, and drift against a baseline results.json.

``junit_xml(doc)`` turns a results document (``results.json``, ``verify.report.results_dict``)
into JUnit XML: one testsuite per family, one testcase per claim (``classname`` = the family,
``name`` = the claim id) and one per part (``name`` = "claim id :: part name"). A claim or part
that is not verified is a ``<failure>`` whose message carries the statistic, its interval, the
threshold and the control's verdict; one whose experiment raised is an ``<error>``; a part that
does not run the user's object is ``<skipped>``. In a run with a user direction or method, each
of its assumptions is a testcase too (classname ``assumptions``), and a claim module that failed
to import is an ``<error>`` (classname ``load-errors``).

``compare(doc, baseline)`` flags, for every claim of ``doc`` also in ``baseline`` (any earlier
results.json): a changed verdict (verified / not verified / not applicable), and a statistic
(of a part's check or control, at a seed run in both) that moved outside the baseline's interval;
a statistic without an interval (deterministic) is flagged when it moved by more than
``STAT_RTOL`` relative. ``stochopt verify --compare BASELINE.json`` exits non-zero when a
verdict changed (either way: a claim that became verified also needs a new baseline).

>>> doc = {"claims": [{"id": "a.b", "family": "a", "status": "verified", "ok": True, "elapsed_s": 1.0,
...         "problems": [], "parts": [], "by_seed": [{"seed": 0, "parts": [{"name": "p",
...          "check": {"status": "pass", "statistic": 0.5, "ci": [0.4, 0.6], "threshold": 1.0, "better": "lower"},
...          "control": {"status": "fail", "statistic": 2.0, "ci": None, "threshold": 1.0, "better": "lower"}}]}]}]}
>>> import copy; later = copy.deepcopy(doc)
>>> later["claims"][0]["by_seed"][0]["parts"][0]["check"]["statistic"] = 0.7
>>> [d.kind for d in compare(later, doc).drifts], compare(later, doc).verdict_changed
(['statistic'], False)
"""
from __future__ import annotations

import json
import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

__all__ = ["junit_xml", "write_junit", "load_baseline", "compare", "Comparison", "Drift", "STAT_RTOL",
           "verdict_text"]

#: Relative change of a statistic without an interval (a deterministic number) that counts as a move.
STAT_RTOL = 1e-9


# ============================================================================ formatting
def _num(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def verdict_text(v: dict) -> str:
    """"pass: statistic 0.01 [0.005, 0.02] <= threshold 0.05" for a verdict dict of results.json.

    >>> verdict_text({"status": "fail", "statistic": 0.3, "ci": [0.2, 0.4], "threshold": 0.2, "better": "lower"})
    'fail: statistic 0.3 [0.2, 0.4] <= threshold 0.2'
    """
    status = v.get("status", "?")
    if status in ("error", "not-applicable") or v.get("statistic") is None:
        return status
    ci = v.get("ci")
    interval = f" [{_num(ci[0])}, {_num(ci[1])}]" if ci else ""
    op = "<=" if v.get("better", "lower") == "lower" else ">="
    return f"{status}: statistic {_num(v.get('statistic'))}{interval} {op} threshold {_num(v.get('threshold'))}"


def _part_lines(claim: dict, bad_only: bool = False) -> list:
    """One line per part per seed: check, then the control (which must fail); ``bad_only``: parts not ok."""
    lines = []
    for s in claim.get("by_seed", []):
        for p in s.get("parts", []):
            if bad_only and (p.get("ok") or not p.get("applicable", True)):
                continue
            lines.append(f"seed {s.get('seed')}, part '{p.get('name')}': check {verdict_text(p.get('check', {}))}; "
                         f"control {verdict_text(p.get('control', {}))}")
    return lines


def _part_state(results: list) -> str:
    """"ok", "failure", "error" or "skipped" for one part's results over the seeds."""
    if all(not p.get("applicable", True) for p in results):
        return "skipped"
    if any(p.get(k, {}).get("status") == "error" for p in results for k in ("check", "control")):
        return "error"
    ok = all(p.get("ok", p.get("check", {}).get("status") == "pass" and p.get("control", {}).get("status") == "fail")
             for p in results if p.get("applicable", True))
    return "ok" if ok else "failure"


# ============================================================================ JUnit XML
def _case(suite, classname, name, elapsed, state, message="", text=""):
    case = ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{float(elapsed or 0.0):.3f}")
    if state in ("failure", "error", "skipped"):
        kind = {"failure": "NotVerified", "error": "ExperimentError", "skipped": "NotApplicable"}[state]
        child = ET.SubElement(case, state, message=message[:2000], type=kind)
        child.text = text or None
    return case


def junit_xml(doc: dict) -> str:
    """The JUnit XML document of a results document (see the module docstring).

    >>> import verify, xml.etree.ElementTree as ET
    >>> from verify.report import results_dict
    >>> doc = results_dict(verify.run_claims("schedules.two-timescale.ratio", progress=False))
    >>> root = ET.fromstring(junit_xml(doc))
    >>> cases = list(root.iter("testcase"))            # the claim, then each of its parts
    >>> cases[0].get("name"), len(cases) == 1 + len(doc["claims"][0]["parts"]), {c.get("classname") for c in cases}
    ('schedules.two-timescale.ratio', True, {'schedules'})
    >>> root.get("failures")
    '0'
    """
    root = ET.Element("testsuites", name="stochopt verify")
    suites = {}
    counts = {}

    def suite_of(name):
        if name not in suites:
            suites[name] = ET.SubElement(root, "testsuite", name=name)
            counts[name] = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
        return suites[name]

    def add(family, name, elapsed, state, message="", text=""):
        _case(suite_of(family), family, name, elapsed, state, message, text)
        c = counts[family]
        c["tests"] += 1
        c["time"] += float(elapsed or 0.0)
        key = {"failure": "failures", "error": "errors", "skipped": "skipped"}.get(state)
        if key:
            c[key] += 1

    assumptions = ((doc.get("user") or {}).get("assumptions") or {})
    for check in assumptions.get("checks", []):
        state = {"fail": "failure", "not-checked": "skipped"}.get(check["status"], "ok")
        add("assumptions", f"{assumptions.get('kind')} {assumptions.get('subject')} :: {check['name']}", 0.0, state,
            check.get("message", ""), check.get("statement", ""))
    for module, tb in (doc.get("load_errors") or {}).items():
        add("load-errors", module, 0.0, "error", f"claim module {module} failed to import", tb)
    for claim in doc.get("claims", []):
        family, status = claim.get("family") or claim["id"].split(".")[0], claim.get("status")
        lines = _part_lines(claim)
        names = [p.get("name") for p in (claim.get("by_seed") or [{}])[0].get("parts", [])]
        per_part = {n: [p for s in claim.get("by_seed", []) for p in s.get("parts", []) if p.get("name") == n]
                    for n in names}
        states = {n: _part_state(r) for n, r in per_part.items()}
        if status == "not applicable":
            reasons = {p.get("check", {}).get("details", {}).get("reason") for p in claim.get("parts", [])}
            state, message = "skipped", "not applicable: " + "; ".join(sorted(r for r in reasons if r))
        elif claim.get("ok"):
            state, message = "ok", ""
        else:
            state = "error" if "error" in states.values() else "failure"
            bad = _part_lines(claim, bad_only=True) or claim.get("problems") or []
            message = f"{claim['id']} not verified: " + "; ".join(bad[:6]) + (" ..." if len(bad) > 6 else "")
        add(family, claim["id"], claim.get("elapsed_s"), state, message, "\n".join(lines))
        for n, results in per_part.items():
            first = results[0] if results else {}
            part_message = (f"part '{n}': check {verdict_text(first.get('check', {}))}; control "
                            f"{verdict_text(first.get('control', {}))}")
            if states[n] == "skipped":
                part_message = "not applicable: " + str(first.get("check", {}).get("details", {}).get("reason", ""))
            seeds = "\n".join(line for line in lines if f"part '{n}'" in line)
            add(family, f"{claim['id']} :: {n}", sum(float(p.get("check", {}).get("elapsed_s") or 0.0)
                                                     + float(p.get("control", {}).get("elapsed_s") or 0.0)
                                                     for p in results),
                states[n], part_message if states[n] != "ok" else "", seeds if states[n] != "ok" else "")
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for name, suite in suites.items():
        for key, value in counts[name].items():
            suite.set(key, f"{value:.3f}" if key == "time" else str(value))
            total[key] += value
    for key, value in total.items():
        root.set(key, f"{value:.3f}" if key == "time" else str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(doc: dict, path) -> str:
    """Write ``junit_xml(doc)`` to ``path`` atomically; return the absolute path."""
    from stochopt.engine import atomic_write

    path = os.path.abspath(os.fspath(path))
    data = junit_xml(doc).encode()
    atomic_write(path, lambda f: f.write(data))
    return path


# ============================================================================ baseline drift
@dataclass
class Drift:
    """One difference from the baseline: ``kind`` "verdict", "statistic" or "new"."""

    claim: str
    kind: str
    message: str
    part: str | None = None
    seed: int | None = None

    def to_dict(self) -> dict:
        return {"claim": self.claim, "kind": self.kind, "message": self.message, "part": self.part, "seed": self.seed}


@dataclass
class Comparison:
    """The drifts of a run from its baseline; ``verdict_changed`` decides the exit status."""

    baseline: dict
    drifts: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def verdict_changed(self) -> bool:
        return any(d.kind == "verdict" for d in self.drifts)

    def of(self, claim_id: str) -> list:
        return [d for d in self.drifts if d.claim == claim_id]

    def lines(self) -> list:
        head = (f"compared with the baseline of {self.baseline.get('created', '?')} ({self.baseline.get('mode', '?')} "
                f"mode): {sum(d.kind == 'verdict' for d in self.drifts)} verdict(s) changed, "
                f"{sum(d.kind == 'statistic' for d in self.drifts)} statistic(s) moved outside their interval")
        return [head] + [f"  {d.kind.upper():<9} {d.claim}: {d.message}" for d in self.drifts] + \
            [f"  note: {n}" for n in self.notes]

    def to_dict(self) -> dict:
        return {"baseline": self.baseline, "verdict_changed": self.verdict_changed,
                "drifts": [d.to_dict() for d in self.drifts], "notes": list(self.notes)}


def load_baseline(path) -> dict:
    """Read a results.json to compare with (JSON only, nothing unpickled); clear errors, before any work.

    >>> load_baseline("/nonexistent/results.json")
    Traceback (most recent call last):
    ...
    ValueError: --compare: cannot read /nonexistent/results.json (No such file or directory); give an earlier results.json
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as exc:
        raise ValueError(f"--compare: cannot read {path} ({exc.strerror or exc}); give an earlier results.json") \
            from None
    except ValueError as exc:
        raise ValueError(f"--compare: {path} is not JSON ({exc}); give an earlier results.json") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list) or \
            not all(isinstance(c, dict) and "id" in c for c in doc["claims"]):
        raise ValueError(f"--compare: {path} is not a stochopt results.json (no list of claims with ids)")
    return doc


def _moved(new, old) -> str | None:
    """Why a statistic moved (None when it did not)."""
    stat, base = new.get("statistic"), old.get("statistic")
    if not isinstance(stat, (int, float)) or not isinstance(base, (int, float)):
        return None
    if not math.isfinite(stat) or not math.isfinite(base):
        return None if stat == base else f"{_num(stat)} (baseline {_num(base)})"
    ci = old.get("ci")
    if ci and all(isinstance(c, (int, float)) for c in ci):
        lo, hi = min(ci), max(ci)
        if lo <= stat <= hi:
            return None
        return f"{_num(stat)} outside the baseline interval [{_num(lo)}, {_num(hi)}] (baseline {_num(base)})"
    if abs(stat - base) <= STAT_RTOL * max(abs(stat), abs(base)):
        return None
    return f"{_num(stat)} differs from the baseline's {_num(base)} (no interval: a deterministic statistic)"


def compare(doc: dict, baseline: dict) -> Comparison:
    """The drifts of ``doc`` from ``baseline`` (two results documents); see the module docstring."""
    info = {k: baseline.get(k) for k in ("created", "mode", "seeds")}
    out = Comparison(info)
    if baseline.get("mode") and doc.get("mode") and baseline.get("mode") != doc.get("mode"):
        out.notes.append(f"the baseline ran in {baseline['mode']} mode, this run in {doc['mode']} mode: sizes differ")
    old = {c["id"]: c for c in baseline.get("claims", [])}
    for claim in doc.get("claims", []):
        cid = claim["id"]
        if cid not in old:
            out.drifts.append(Drift(cid, "new", "not in the baseline"))
            continue
        before = old[cid]
        was = before.get("status") or ("verified" if before.get("ok") else "not verified")
        now = claim.get("status") or ("verified" if claim.get("ok") else "not verified")
        if was != now:
            out.drifts.append(Drift(cid, "verdict", f"verdict changed: {was} -> {now}"))
        old_seeds = {s.get("seed"): s for s in before.get("by_seed", [])}
        for s in claim.get("by_seed", []):
            base_seed = old_seeds.get(s.get("seed"))
            if base_seed is None:
                continue
            old_parts = {p.get("name"): p for p in base_seed.get("parts", [])}
            for p in s.get("parts", []):
                bp = old_parts.get(p.get("name"))
                if bp is None:
                    continue
                for kind in ("check", "control"):
                    why = _moved(p.get(kind) or {}, bp.get(kind) or {})
                    if why:
                        out.drifts.append(Drift(cid, "statistic", f"part '{p['name']}' ({kind}, seed {s['seed']}): "
                                                                  f"statistic {why}", p["name"], s["seed"]))
    missing = sorted(set(old) - {c["id"] for c in doc.get("claims", [])})
    if missing:
        out.notes.append(f"{len(missing)} claim(s) of the baseline were not run now (e.g. {missing[0]})")
    return out
