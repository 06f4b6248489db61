"""pytest plugin: the theorems' claims as tests in your own suite (``pytest11`` entry point).

Installed with stochopt (``pip install stochopt``), the plugin adds a marker::

    @pytest.mark.stochopt_claim("gsgd.single-timescale.lyapunov", direction="mypkg:MyDirection",
                                mode="quick", seeds="0:3")
    def test_my_direction_is_an_instance():
        pass

The claims named (ids or prefixes) run before the test body, on your direction or method when
given (``direction=`` / ``method=``: objects or "module:name", as ``stochopt verify --direction``;
the framework's assumptions are checked first, see ``verify.user``). The test fails unless every
claim is verified, with a message that gives, for each part and seed, the statistic, its
interval, the threshold and the control's verdict, and the paths of the figures; the whole report
(report.md, report.html, results.json) is written to pytest's temporary directory, or under
``--stochopt-report DIR``. The fixture ``stochopt_result`` gives the run to the test body
(``.ok``, ``.claims``: ClaimResults, ``.assumptions``, ``.doc``: results.json, ``.report_dir``).

Without installing, enable it with ``pytest -p verify.pytest_plugin``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

import pytest

MARKER = "stochopt_claim"
OPTIONS = ("direction", "method", "mode", "seeds")
_RESULT = pytest.StashKey()


@dataclass
class ClaimRun:
    """What a marked test ran: the claims' results, the assumption report (user runs), the report."""

    claims: list
    assumptions: object
    doc: dict
    report_dir: str

    @property
    def ok(self) -> bool:
        return bool(self.doc["summary"]["ok"])


def pytest_addoption(parser):
    group = parser.getgroup("stochopt", "stochopt claims (@pytest.mark.stochopt_claim)")
    group.addoption("--stochopt-report", default=None, metavar="DIR",
                    help="write the report of each stochopt_claim test under DIR (default: pytest's temporary "
                         "directory)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", f"{MARKER}(*claims, direction=None, method=None, mode='quick', seeds='0'): run these stochopt "
                   "claims (ids or prefixes) before the test, on a user direction or method if given; the test fails "
                   "unless every claim is verified")


def _arguments(marker):
    claims = list(marker.args)
    if not claims or not all(isinstance(c, str) and c for c in claims):
        raise pytest.UsageError(f"@pytest.mark.{MARKER} needs one or more claim ids or prefixes as positional "
                                f"arguments, e.g. @pytest.mark.{MARKER}('gsgd.single-timescale.lyapunov'); got {claims!r}")
    unknown = sorted(set(marker.kwargs) - set(OPTIONS))
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: unknown argument(s) {', '.join(unknown)}; accepted: "
                                f"{', '.join(OPTIONS)}")
    options = {"direction": None, "method": None, "mode": "quick", "seeds": "0", **marker.kwargs}
    if options["direction"] is not None and options["method"] is not None:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: give direction= or method=, not both")
    return claims, options


def _run(item, tmp_path_factory) -> ClaimRun:
    from . import registry
    from .registry import parse_seeds
    from .report import write_report

    claims, options = _arguments(item.get_closest_marker(MARKER))
    seeds = parse_seeds(options["seeds"])
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", item.nodeid)[-120:].strip("-.") or "test"
    root = item.config.getoption("--stochopt-report")
    report_dir = os.path.join(os.path.abspath(root), name) if root else str(tmp_path_factory.mktemp("stochopt-report"))
    ids = [c.id for c in registry.claims(claims)]
    direction, method = options["direction"], options["method"]
    assumptions = None
    if direction is not None or method is not None:
        from .user import run_user

        run = run_user(ids, direction=direction, method=method, mode=options["mode"], seeds=seeds, progress=False)
        results, assumptions = run.claims, run.assumptions
    else:
        results = registry.run_claims(ids, mode=options["mode"], seeds=seeds, progress=False)
    doc = write_report(results, report_dir, mode=options["mode"], seeds=seeds, load_errors=registry.load_errors(),
                       direction=direction, method=method, assumptions=assumptions)
    return ClaimRun(results, assumptions, doc, report_dir)


def _failure_message(run: ClaimRun) -> str:
    """What a failing stochopt_claim test says: every part's statistic, interval, threshold and control, figures."""
    from .ci import verdict_text

    doc = run.doc
    user = doc.get("user") or {}
    who = "; ".join(f"{k} {v}" for k, v in (("direction", user.get("direction")), ("method", user.get("method"))) if v)
    seeds = doc["seeds"]
    lines = [f"stochopt claims NOT VERIFIED (mode {doc['mode']}, seed{'s' if len(seeds) > 1 else ''} "
             f"{', '.join(map(str, seeds))}{'; ' + who if who else ''})"]
    if run.assumptions is not None and not run.assumptions.ok:
        lines += run.assumptions.lines()
    for module, tb in (doc.get("load_errors") or {}).items():
        lines.append(f"claim module {module} failed to import: {tb.strip().splitlines()[-1]}")
    for c in doc["claims"]:
        seeds_ok = sum(s["ok"] for s in c["by_seed"])
        lines.append(f"{c['id']}: {c['status']} (verified at {seeds_ok}/{len(c['by_seed'])} seeds)")
        figures = {p["name"]: [os.path.join(run.report_dir, f["file"]) for kind in ("check", "control")
                               for f in p[kind].get("figures", [])] for p in c["parts"]}
        reasons = {p["name"]: (p["check"].get("details") or {}).get("reason") for p in c["parts"]}
        for s in c["by_seed"]:
            for p in s["parts"]:
                if not p.get("applicable", True):
                    lines.append(f"  n/a seed {s['seed']}, part '{p['name']}': not applicable: {reasons.get(p['name'])}")
                    continue
                lines.append(f"  {'ok ' if p['ok'] else 'BAD'} seed {s['seed']}, part '{p['name']}': check "
                             f"{verdict_text(p['check'])}; control {verdict_text(p['control'])}")
        for part, files in figures.items():
            if files:
                lines.append(f"  figures of '{part}': {', '.join(files)}")
        for problem in c.get("problems", [])[:8]:
            lines.append(f"  problem: {problem}")
    lines.append(f"report: {os.path.join(run.report_dir, 'report.html')} (also report.md, results.json)")
    return "\n".join(lines)


@pytest.fixture(autouse=True)
def _stochopt_claim_marker(request, tmp_path_factory):
    """Runs the claims of a stochopt_claim marker (a no-op for tests without it)."""
    if request.node.get_closest_marker(MARKER) is not None:
        request.node.stash[_RESULT] = _run(request.node, tmp_path_factory)


@pytest.fixture
def stochopt_result(request):
    """The ClaimRun of this test's stochopt_claim marker."""
    run = request.node.stash.get(_RESULT, None)
    if run is None:
        raise pytest.UsageError(f"the stochopt_result fixture needs @pytest.mark.{MARKER}(...) on the test")
    return run


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    run = item.stash.get(_RESULT, None)
    if run is not None and not run.ok:
        pytest.fail(_failure_message(run), pytrace=False)
