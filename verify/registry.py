"""Claims, verdicts and the registry.

A claim is one checkable statement of a theorem. It is written as one function
``fn(mode, seed, control=False) -> Verdict`` decorated with ``@claim(...)``; the control breaks
one assumption on purpose and must FAIL (a claim whose control passes proves nothing).

>>> from verify.registry import decide
>>> decide(0.01, 0.05).status, decide(0.2, 0.05).status, decide(0.04, 0.05, ci=(0.03, 0.07)).status
('pass', 'fail', 'inconclusive')
>>> decide(0.9, 0.5, better="higher", ci=(0.8, 0.95)).status
'pass'
"""
from __future__ import annotations

import importlib
import math
import pkgutil
import sys
import time
import traceback
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Claim", "Verdict", "ClaimResult", "claim", "decide", "claims", "get_claim", "run_claims",
           "load_errors", "STATUSES", "MODES"]

STATUSES = ("pass", "fail", "inconclusive", "error")
MODES = ("quick", "full")

_REGISTRY: dict = {}
_LOAD_ERRORS: dict = {}
_DISCOVERED = False


def _jsonable(value):
    """Convert numpy scalars/arrays (recursively) to plain Python for JSON."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


@dataclass
class Verdict:
    """The outcome of a check or a control.

    status : "pass", "fail" or "inconclusive" ("error" when the experiment raised).
    statistic, threshold : the number compared and the bound it is compared with.
    ci : (low, high) confidence interval of the statistic where it is random, else None.
    details : JSON-able dict of everything worth reporting.
    figures : list of matplotlib Figures or (Figure, caption) pairs.
    seeds, elapsed, mode : filled by the registry (a claim may set ``seeds`` itself when it used several).
    """

    status: str
    statistic: object = None
    threshold: object = None
    ci: object = None
    details: dict = field(default_factory=dict)
    figures: list = field(default_factory=list)
    seeds: list | None = None
    elapsed: float | None = None
    mode: str | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"Verdict status must be one of {', '.join(STATUSES)}; got {self.status!r}")
        if self.ci is not None:
            if len(self.ci) != 2:
                raise ValueError(f"ci must be a (low, high) pair; got {self.ci!r}")
            self.ci = (float(self.ci[0]), float(self.ci[1]))
        if self.details is None:
            self.details = {}
        if self.figures is None:
            self.figures = []

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict:
        return _jsonable({"status": self.status, "statistic": self.statistic, "threshold": self.threshold,
                          "ci": self.ci, "seeds": self.seeds, "elapsed_s": self.elapsed, "mode": self.mode,
                          "details": self.details})


def decide(statistic, threshold, better: str = "lower", ci=None, details=None, figures=None,
           tolerance: float = 0.0) -> Verdict:
    """Turn a statistic and a threshold into a Verdict.

    With ``better="lower"`` the good side is statistic <= threshold + tolerance (``"higher"``:
    statistic >= threshold - tolerance). Pass when the statistic and the whole ``ci`` are on the
    good side; fail when the statistic and the whole ci are on the bad side; inconclusive
    otherwise (the interval straddles the threshold) or when the statistic is NaN.

    >>> decide(3, 0, better="lower").status          # e.g. 3 conditions not proved
    'fail'
    """
    if better not in ("lower", "higher"):
        raise ValueError(f"better must be 'lower' or 'higher'; got {better!r}")
    stat = float(statistic)
    thr = float(threshold)
    tol = float(tolerance)
    if better == "lower":
        good = lambda v: v <= thr + tol  # noqa: E731
    else:
        good = lambda v: v >= thr - tol  # noqa: E731
    if math.isnan(stat) or (ci is not None and any(math.isnan(float(c)) for c in ci)):
        status = "inconclusive"
    else:
        pts = [stat] + ([] if ci is None else [float(ci[0]), float(ci[1])])
        if all(good(v) for v in pts):
            status = "pass"
        elif not any(good(v) for v in pts):
            status = "fail"
        else:
            status = "inconclusive"
    details = dict(details or {})
    details.setdefault("better", better)
    if tol:
        details.setdefault("tolerance", tol)
    return Verdict(status, stat, thr, ci, details, list(figures or []))


@dataclass
class Claim:
    """A registered claim: metadata plus ``check(mode, seed)`` and ``control(mode, seed)``."""

    id: str
    statement: str
    source: str
    assumptions: list
    control_description: str
    caption: str
    fn: object
    module: str = ""

    @property
    def family(self) -> str:
        return self.id.split(".")[0]

    def _call(self, mode, seed, control):
        if mode not in MODES:
            raise ValueError(f"mode must be 'quick' or 'full'; got {mode!r}")
        start = time.perf_counter()
        verdict = self.fn(mode, int(seed), control=control)
        if not isinstance(verdict, Verdict):
            raise TypeError(f"claim {self.id} returned {type(verdict).__name__}, not a Verdict")
        verdict.elapsed = time.perf_counter() - start
        verdict.mode = mode
        if verdict.seeds is None:
            verdict.seeds = [int(seed)]
        return verdict

    def check(self, mode: str = "quick", seed: int = 0) -> Verdict:
        """Run the experiment with every assumption in place (must pass).

        >>> v = get_claim("schedules.two-timescale.ratio").check("quick", seed=0)
        >>> v.status, v.mode, v.seeds
        ('pass', 'quick', [0])
        """
        return self._call(mode, seed, False)

    def control(self, mode: str = "quick", seed: int = 0) -> Verdict:
        """Run the negative control (one assumption broken: must fail).

        >>> get_claim("schedules.two-timescale.ratio").control("quick", seed=0).status
        'fail'
        """
        return self._call(mode, seed, True)

    def __repr__(self):
        return f"Claim({self.id!r})"


def claim(id: str, statement: str, source: str, assumptions=(), control: str = "", caption: str = ""):
    """Decorator registering ``fn(mode, seed, control=False) -> Verdict`` as a Claim.

    The decorated name is bound to the Claim object (call ``.check`` / ``.control``, or the
    original function as ``.fn``). Duplicate ids raise ValueError.

    >>> @claim(id="doc.example", statement="0 <= 1", source="arithmetic", control="1 <= 0 must fail")
    ... def example(mode, seed, control=False):
    ...     return decide(1.0 if control else 0.0, 0.5)
    >>> example.check().status, example.control().status
    ('pass', 'fail')
    >>> _ = _REGISTRY.pop("doc.example")                      # keep the doctest out of the registry
    """
    if not isinstance(id, str) or not id or " " in id or id.startswith(".") or id.endswith("."):
        raise ValueError(f"claim id must be a dotted name like 'family.short-name'; got {id!r}")
    if not control:
        raise ValueError(f"claim {id}: describe the negative control (control=...): every claim needs one")

    def wrap(fn):
        if id in _REGISTRY:
            raise ValueError(f"duplicate claim id {id!r} (already defined in {_REGISTRY[id].module})")
        obj = Claim(id, statement, source, list(assumptions), control, caption, fn, getattr(fn, "__module__", ""))
        _REGISTRY[id] = obj
        return obj

    return wrap


def _discover():
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    pkg = importlib.import_module("verify.families")  # one module per claim family

    for info in pkgutil.iter_modules(pkg.__path__):
        name = f"{pkg.__name__}.{info.name}"
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except Exception:  # a broken claim module must not hide the others; it is reported
            _LOAD_ERRORS[name] = traceback.format_exc()


def load_errors() -> dict:
    """{module: traceback} of claim modules that failed to import (reported by run_claims and the CLI).

    >>> isinstance(load_errors(), dict)
    True
    """
    _discover()
    return dict(_LOAD_ERRORS)


def _match(ids, prefixes):
    if prefixes is None:
        return sorted(ids)
    if isinstance(prefixes, str):
        prefixes = [prefixes]
    out = []
    for p in prefixes:
        hits = [i for i in ids if i == p or i.startswith(p + ".")]
        if not hits:
            raise ValueError(_unknown_claim(p, ids))
        out.extend(h for h in sorted(hits) if h not in out)
    return out


def _unknown_claim(name, ids):
    import difflib

    prefixes = sorted({".".join(i.split(".")[:n]) for i in ids for n in range(1, i.count(".") + 2)})
    close = difflib.get_close_matches(str(name), prefixes, n=5, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    families = sorted({i.split(".")[0] for i in ids})
    return (f"unknown claim or prefix {name!r}.{hint} Families: {', '.join(families)} "
            "(`stochopt list claims` lists every id)")


def claims(prefixes=None) -> list:
    """Registered claims (after importing every module of ``verify.families``), sorted by id.

    ``prefixes``: None (all), a string or a list; "gsgd" matches "gsgd" and "gsgd.*".

    >>> import verify
    >>> all(c.id.startswith("schedules.") for c in verify.claims("schedules"))
    True
    """
    _discover()
    return [_REGISTRY[i] for i in _match(list(_REGISTRY), prefixes)]


def get_claim(id: str) -> Claim:
    """The claim with this exact id (ValueError listing close matches otherwise).

    >>> get_claim("schedules.polynomial.conditions").family
    'schedules'
    >>> get_claim("schedules.polynomial.condition")
    Traceback (most recent call last):
    ...
    ValueError: unknown claim or prefix 'schedules.polynomial.condition'. Did you mean 'schedules.polynomial.conditions'...
    """
    _discover()
    if id not in _REGISTRY:
        raise ValueError(_unknown_claim(id, list(_REGISTRY)))
    return _REGISTRY[id]


@dataclass
class ClaimResult:
    """A claim with its check and control verdicts; ok = check passed and control failed."""

    claim: Claim
    verdict: Verdict
    control_verdict: Verdict

    @property
    def ok(self) -> bool:
        return self.verdict.status == "pass" and self.control_verdict.status == "fail"

    @property
    def problems(self) -> list:
        """Human-readable reasons why this result is not ok (empty when ok)."""
        out = []
        v, c = self.verdict, self.control_verdict
        if v.status == "error":
            out.append("CHECK RAISED AN ERROR")
        elif v.status != "pass":
            out.append(f"check {v.status.upper()}")
        if c.status == "pass":
            out.append("CONTROL PASSED: the claim cannot tell right from wrong")
        elif c.status == "error":
            out.append("CONTROL RAISED AN ERROR")
        elif c.status != "fail":
            out.append(f"control {c.status} (it must fail)")
        return out


def _safe(cl, kind, mode, seed):
    start = time.perf_counter()
    try:
        return getattr(cl, kind)(mode, seed)
    except Exception as exc:
        return Verdict("error", details={"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()},
                       seeds=[int(seed)], elapsed=time.perf_counter() - start, mode=mode)


def _progress_fn(progress, total):
    if callable(progress):
        return progress
    show = progress if progress is not None else sys.stderr.isatty()
    if not show:
        return lambda i, n, cid, stage: None
    start = time.perf_counter()

    def bar(i, n, cid, stage):
        frac = i / max(n, 1)
        done = "#" * int(30 * frac)
        sys.stderr.write(f"\r[{done:<30}] {i}/{n} claims {time.perf_counter() - start:6.1f}s  {stage:<7} {cid[:50]:<50}")
        if i >= n:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return bar


def run_claims(ids_or_prefixes=None, mode: str = "quick", seed: int = 0, report_dir=None, progress=None,
               keep_figures: bool = False) -> list:
    """Run check and control of each selected claim; write the report when ``report_dir`` is given.

    Returns a list of ``ClaimResult`` (claim, verdict, control_verdict, ok). A check or control
    that raises becomes a Verdict with status "error" (and the traceback in details). Figures
    are saved (with a report) and closed unless ``keep_figures``. ``progress``: None (a bar on
    a terminal), True/False, or a function ``(i, n, claim_id, stage)``.

    >>> import verify
    >>> res = verify.run_claims("schedules.polynomial.conditions")
    >>> res[0].verdict.status, res[0].control_verdict.status, res[0].ok
    ('pass', 'fail', True)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be 'quick' or 'full'; got {mode!r}")
    selected = claims(ids_or_prefixes)
    bar = _progress_fn(progress, len(selected))
    results = []
    for i, cl in enumerate(selected):
        bar(i, len(selected), cl.id, "check")
        v = _safe(cl, "check", mode, seed)
        bar(i, len(selected), cl.id, "control")
        c = _safe(cl, "control", mode, seed)
        results.append(ClaimResult(cl, v, c))
    bar(len(selected), len(selected), "", "done")
    if report_dir is not None:
        from .report import write_report

        write_report(results, report_dir, mode=mode, seed=seed, load_errors=load_errors())
    if not keep_figures:
        _close_figures(results)
    return results


def _close_figures(results):
    """Release pyplot-managed figures (figures made with ``verify.report.subplots`` need nothing)."""
    if "matplotlib.pyplot" not in sys.modules:
        return
    import matplotlib.pyplot as plt

    for r in results:
        for v in (r.verdict, r.control_verdict):
            for item in v.figures:
                plt.close(item[0] if isinstance(item, tuple) else item)
