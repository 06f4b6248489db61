"""Claims, their parts, verdicts, and the registry (the claim contract, second version).

A **claim** is one checkable statement of a theorem: an id, the statement in the form we verify,
its source, its assumptions, what had to be reconstructed, its sizes per mode, and one or more
**parts**. A part is an experiment read through one statistic (declared in words: what number,
which side is good, where the threshold comes from). Each part has its own **control**: the same
experiment with one assumption of that part broken on purpose, read through the same statistic,
which must FAIL by the amount the broken assumption predicts. A claim is verified at a seed when
every part passes and every part's control fails; verified when verified at every seed run.

A claim module reads as the theorem, the parts, the verdict::

    CLAIM = Claim(id="doc.halving", statement="...", source="...", assumptions=[...],
                  sizes={"quick": {"n": 8}, "full": {"n": 64}})

    @CLAIM.part("halving", statistic="max |x_n| after n halvings; lower is good; threshold 2^-n")
    def halving(ctx):
        ...
        return decide(statistic, threshold, "lower")

    @halving.control(breaks="factor 1.5 instead of 0.5: |x_n| grows, the statistic exceeds 2^-n")
    def halving_control(ctx):
        ...

>>> CLAIM = Claim(id="doc.halving", statement="x/2^n -> 0", source="arithmetic",
...               sizes={"quick": {"n": 8}, "full": {"n": 64}})
>>> @CLAIM.part("halving", statistic="|x_n| after n halvings of x_0 = 1; lower is good; threshold 2^-n")
... def halving(ctx):
...     return decide(0.5 ** ctx.size["n"], 2.0 ** -ctx.size["n"], "lower")
>>> @halving.control(breaks="multiplying by 1.5 instead of 0.5: |x_n| = 1.5^n exceeds 2^-n")
... def halving_control(ctx):
...     return decide(1.5 ** ctx.size["n"], 2.0 ** -ctx.size["n"], "lower")
>>> result = CLAIM.run("quick", seed=0)
>>> result.ok, [(p.name, p.check.status, p.control.status) for p in result.parts]
(True, [('halving', 'pass', 'fail')])
>>> unregister("doc.halving")
"""
from __future__ import annotations

import importlib
import math
import pkgutil
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

__all__ = ["Claim", "Part", "Context", "Verdict", "FigureRecord", "PartResult", "SeedResult", "ClaimResult",
           "decide", "claims", "get_claim", "run_claims", "run_task", "load_errors", "unregister", "claim",
           "STATUSES", "MODES"]

STATUSES = ("pass", "fail", "inconclusive", "error", "not-applicable")
MODES = ("quick", "full")
USES = ("direction", "method")

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


# =============================================================================== verdicts
@dataclass(frozen=True)
class FigureRecord:
    """A figure rendered to PNG right after its part ran (so results can cross processes)."""

    name: str
    caption: str
    png: bytes


@dataclass
class Verdict:
    """The outcome of a part's check or control.

    status : "pass", "fail" or "inconclusive" ("error" when the experiment raised,
        "not-applicable" when a user's direction/method does not enter this part).
    statistic, threshold : the number compared and the bound it is compared with.
    ci : (low, high) confidence interval of the statistic where it is random, else None.
    details : JSON-able dict of everything worth reporting.
    figures : while the part runs, matplotlib Figures or (Figure, caption) pairs; after it ran,
        ``FigureRecord`` objects (PNG bytes).
    seeds, elapsed, mode : filled by the runner.
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

    @property
    def better(self) -> str:
        """Which side of the threshold is good: "lower" or "higher"."""
        return self.details.get("better", "lower") if isinstance(self.details, dict) else "lower"

    def to_dict(self, details: bool = True) -> dict:
        out = {"status": self.status, "statistic": self.statistic, "threshold": self.threshold, "ci": self.ci,
               "better": self.better, "seeds": self.seeds, "elapsed_s": self.elapsed, "mode": self.mode}
        if details:
            out["details"] = self.details
        return _jsonable(out)


def decide(statistic, threshold, better: str = "lower", ci=None, details=None, figures=None,
           tolerance: float = 0.0) -> Verdict:
    """Turn a statistic and a threshold into a Verdict.

    With ``better="lower"`` the good side is statistic <= threshold + tolerance (``"higher"``:
    statistic >= threshold - tolerance). Pass when the statistic and the whole ``ci`` are on the
    good side; fail when the statistic and the whole ci are on the bad side; inconclusive
    otherwise (the interval straddles the threshold) or when the statistic is NaN. A tolerance
    must be a stated numerical tolerance, never a margin chosen to rescue an observed value.

    >>> decide(0.01, 0.05).status, decide(0.2, 0.05).status, decide(0.04, 0.05, ci=(0.03, 0.07)).status
    ('pass', 'fail', 'inconclusive')
    >>> decide(0.9, 0.5, better="higher", ci=(0.8, 0.95)).status
    'pass'
    """
    if better not in ("lower", "higher"):
        raise ValueError(f"better must be 'lower' or 'higher'; got {better!r}")
    stat, thr, tol = float(statistic), float(threshold), float(tolerance)
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


# =============================================================================== context
@dataclass(frozen=True)
class Context:
    """What a part's experiment receives.

    mode : "quick" (CI sizes) or "full" (research sizes).
    seed : the seed of every random stream of the experiment.
    size : the claim's sizes for this mode (a dict).
    draw : draw figures (the runner draws for the first seed of a claim only).
    direction : a user ``stochopt.directions.Direction`` replacing the built-in directions, or None.
    method : a user factory ``(lr, momentum_lr) -> stochopt.Method`` replacing the built-in methods, or None.

    >>> ctx = Context(mode="quick", seed=3, size={"steps": 10})
    >>> ctx.directions(["sign", "identity"]), ctx.size["steps"]
    (['sign', 'identity'], 10)
    """

    mode: str = "quick"
    seed: int = 0
    size: dict = field(default_factory=dict)
    draw: bool = True
    direction: object = None
    method: object = None

    def directions(self, default):
        """The directions to run: the user's alone when given, else ``default`` (a list)."""
        return [self.direction] if self.direction is not None else list(default)

    def methods(self, default: dict) -> dict:
        """The method factories to run, by name: the user's alone when given, else ``default``."""
        return {"user method": self.method} if self.method is not None else dict(default)

    def figures(self, *items):
        """``[(fig, caption), ...]`` when drawing, else [] (so parts can write ``figures=ctx.figures(...)``)."""
        return list(items) if self.draw else []


# =============================================================================== parts, claims
class Part:
    """One experiment of a claim, read through one statistic, with its own control.

    Built by ``Claim.part``; ``part.control(breaks=...)`` registers the control.
    """

    def __init__(self, claim: "Claim", name: str, statistic: str, check: Callable, uses=()):
        if not name or not isinstance(name, str):
            raise ValueError(f"claim {claim.id}: a part needs a name")
        if not statistic or not isinstance(statistic, str):
            raise ValueError(f"claim {claim.id}, part {name!r}: declare the statistic in words (statistic=...): "
                             "what number, which side is good, where the threshold comes from")
        uses = tuple(uses)
        bad = [u for u in uses if u not in USES]
        if bad:
            raise ValueError(f"claim {claim.id}, part {name!r}: uses must be drawn from {USES}; got {bad}")
        self.claim, self.name, self.statistic, self.uses = claim, name, statistic, uses
        self.check_fn = check
        self.control_fn = None
        self.breaks = ""
        self.__doc__ = getattr(check, "__doc__", None)

    def control(self, breaks: str):
        """Decorator registering the control: the experiment with ONE assumption of this part broken."""
        if not breaks or not isinstance(breaks, str):
            raise ValueError(f"claim {self.claim.id}, part {self.name!r}: say which assumption the control breaks "
                             "and what the statistic must then do (breaks=...)")

        def wrap(fn):
            if self.control_fn is not None:
                raise ValueError(f"claim {self.claim.id}, part {self.name!r} already has a control")
            self.control_fn, self.breaks = fn, breaks
            return fn

        return wrap

    def __call__(self, ctx: Context) -> Verdict:
        return self.check_fn(ctx)

    def applies(self, direction, method) -> bool:
        """Whether this part runs in a run with a user direction/method (always in a plain run)."""
        if direction is None and method is None:
            return True
        return ("direction" in self.uses and direction is not None) or ("method" in self.uses and method is not None)

    def __repr__(self):
        return f"Part({self.claim.id!r}, {self.name!r})"


class Claim:
    """A registered claim: metadata and its parts (each with check and control).

    Parameters: ``id`` ("family.short-name"), ``statement`` (the theorem in the form we verify),
    ``source`` (paper, section), ``assumptions`` (list of strings), ``reconstructed`` (what of the
    statement had to be reconstructed, or None), ``sizes`` ({"quick": {...}, "full": {...}}),
    ``caption`` (a default caption for its figures). Creating a Claim registers it.
    """

    def __init__(self, id: str, statement: str, source: str, assumptions=(), reconstructed: str | None = None,
                 sizes: dict | None = None, caption: str = "", register: bool = True):
        if not isinstance(id, str) or not id or " " in id or id.startswith(".") or id.endswith(".") or "." not in id:
            raise ValueError(f"claim id must be a dotted name like 'family.short-name'; got {id!r}")
        for name, value in (("statement", statement), ("source", source)):
            if not value or not isinstance(value, str):
                raise ValueError(f"claim {id}: {name} must be a non-empty string")
        sizes = {} if sizes is None else dict(sizes)
        bad = [m for m in sizes if m not in MODES]
        if bad:
            raise ValueError(f"claim {id}: sizes keys must be 'quick' and 'full'; got {bad}")
        self.id, self.statement, self.source = id, statement, source
        self.assumptions = list(assumptions)
        self.reconstructed, self.sizes, self.caption = reconstructed, sizes, caption
        self.parts: list[Part] = []
        self.module = _caller_module()
        if register:
            if id in _REGISTRY:
                raise ValueError(f"duplicate claim id {id!r} (already defined in {_REGISTRY[id].module})")
            _REGISTRY[id] = self

    @property
    def family(self) -> str:
        return self.id.split(".")[0]

    def part(self, name: str, statistic: str, uses=()):
        """Decorator registering a part's check ``fn(ctx) -> Verdict``; returns the ``Part``."""
        if any(p.name == name for p in self.parts):
            raise ValueError(f"claim {self.id}: duplicate part name {name!r}")
        Part(self, name, statistic, None, uses)  # validates the declaration before the function is seen

        def wrap(fn):
            part = Part(self, name, statistic, fn, uses)
            self.parts.append(part)
            return part

        return wrap

    def get_part(self, name: str) -> Part:
        for p in self.parts:
            if p.name == name:
                return p
        raise ValueError(f"claim {self.id} has no part {name!r}; parts: {', '.join(p.name for p in self.parts)}")

    def context(self, mode: str = "quick", seed: int = 0, draw: bool = True, direction=None, method=None) -> Context:
        if mode not in MODES:
            raise ValueError(f"mode must be 'quick' or 'full'; got {mode!r}")
        return Context(mode=mode, seed=int(seed), size=dict(self.sizes.get(mode, {})), draw=draw,
                       direction=direction, method=method)

    def run(self, mode: str = "quick", seed: int = 0, draw: bool = True, direction=None, method=None,
            parts=None, render: bool = True) -> "SeedResult":
        """Run every part (check and control) at one seed; ``parts`` selects parts by name.

        With ``render=False`` the verdicts keep their matplotlib figures (for notebooks and for
        tests that inspect titles and labels) instead of PNG records.
        """
        missing = [p.name for p in self.parts if p.control_fn is None]
        if missing:
            raise ValueError(f"claim {self.id}: part(s) {missing} have no control; every part needs one")
        ctx = self.context(mode, seed, draw, direction, method)
        start = time.perf_counter()
        chosen = self.parts if parts is None else [self.get_part(n) for n in ([parts] if isinstance(parts, str)
                                                                                else parts)]
        results = [_run_part(self, p, ctx, render) for p in chosen]
        return SeedResult(self.id, int(seed), mode, results, time.perf_counter() - start)

    def __repr__(self):
        return f"Claim({self.id!r}, parts={[p.name for p in self.parts]})"


def _caller_module() -> str:
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    return frame.f_globals.get("__name__", "") if frame is not None else ""


def _call(fn, ctx, claim_id, kind, render=True) -> Verdict:
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        # NumPy's overflow and invalid-value warnings (a control's run that blows up, a NaN that a statistic
        # reads as inconclusive) belong in the verdict's record, not on the user's terminal
        warnings.simplefilter("always", RuntimeWarning)
        try:
            verdict = fn(ctx)
            if not isinstance(verdict, Verdict):
                raise TypeError(f"claim {claim_id}: the {kind} returned {type(verdict).__name__}, not a Verdict")
        except Exception as exc:  # a broken experiment is reported as an error, never as a pass or a fail
            verdict = Verdict("error", details={"error": f"{type(exc).__name__}: {exc}",
                                                "traceback": traceback.format_exc()})
    numerical = sorted({f"{w.category.__name__}: {w.message}" for w in caught
                        if issubclass(w.category, RuntimeWarning)})
    for w in caught:
        if not issubclass(w.category, RuntimeWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if numerical:
        verdict.details = dict(verdict.details or {}, numerical_warnings=numerical)
    verdict.elapsed = time.perf_counter() - start
    verdict.mode = ctx.mode
    if verdict.seeds is None:
        verdict.seeds = [ctx.seed]
    if render:
        verdict.figures = _render(verdict.figures, claim_id, kind)
    return verdict


def _render(figures, claim_id, kind) -> list:
    """Render matplotlib figures to PNG records (and close pyplot-managed ones)."""
    from .report import render_png

    out = []
    for n, item in enumerate(figures):
        if isinstance(item, FigureRecord):
            out.append(item)
            continue
        fig, caption = item if isinstance(item, tuple) else (item, "")
        out.append(FigureRecord(f"{kind}-{n + 1}", caption, render_png(fig)))
        if "matplotlib.pyplot" in sys.modules:
            import matplotlib.pyplot as plt

            plt.close(fig)
    return out


def _not_applicable(ctx, why) -> Verdict:
    return Verdict("not-applicable", details={"reason": why}, seeds=[ctx.seed], elapsed=0.0, mode=ctx.mode)


def _run_part(claim: Claim, part: Part, ctx: Context, render: bool = True) -> "PartResult":
    if not part.applies(ctx.direction, ctx.method):
        why = "this part does not run a user " + ("direction" if ctx.direction is not None else "method")
        na = _not_applicable(ctx, why)
        return PartResult(part.name, part.statistic, part.breaks, na, replace(na), applicable=False)
    check = _call(part.check_fn, ctx, claim.id, f"{_slug(part.name)}-check", render)
    control = _call(part.control_fn, ctx, claim.id, f"{_slug(part.name)}-control", render)
    return PartResult(part.name, part.statistic, part.breaks, check, control)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


# =============================================================================== results
@dataclass
class PartResult:
    """A part's check and control at one seed; ok = check passed and control failed."""

    name: str
    statistic: str
    breaks: str
    check: Verdict
    control: Verdict
    applicable: bool = True

    @property
    def ok(self) -> bool:
        return self.applicable and self.check.status == "pass" and self.control.status == "fail"

    @property
    def problems(self) -> list:
        """Human-readable reasons why this part is not ok (empty when ok)."""
        if not self.applicable:
            return [f"not applicable: {self.check.details.get('reason', '')}"]
        out = []
        v, c = self.check, self.control
        if v.status == "error":
            out.append("CHECK RAISED AN ERROR")
        elif v.status != "pass":
            out.append(f"check {v.status.upper()}")
        if c.status == "pass":
            out.append("CONTROL PASSED: the part cannot tell right from wrong")
        elif c.status == "error":
            out.append("CONTROL RAISED AN ERROR")
        elif c.status != "fail":
            out.append(f"control {c.status} (it must fail)")
        return out


@dataclass
class SeedResult:
    """Every part of one claim at one seed."""

    claim_id: str
    seed: int
    mode: str
    parts: list
    elapsed: float = 0.0

    @property
    def applicable(self) -> bool:
        return any(p.applicable for p in self.parts)

    @property
    def ok(self) -> bool:
        used = [p for p in self.parts if p.applicable]
        return bool(used) and all(p.ok for p in used)

    @property
    def problems(self) -> list:
        return [f"{p.name}: {msg}" for p in self.parts if p.applicable for msg in p.problems]


@dataclass
class ClaimResult:
    """A claim's results at every seed run; ok = verified at every seed."""

    claim: Claim
    by_seed: list

    @property
    def ok(self) -> bool:
        return bool(self.by_seed) and all(s.ok for s in self.by_seed)

    @property
    def applicable(self) -> bool:
        return any(s.applicable for s in self.by_seed)

    @property
    def parts(self) -> list:
        """The parts at the first seed run (the seed the figures were drawn at)."""
        return self.by_seed[0].parts if self.by_seed else []

    @property
    def seeds(self) -> list:
        return [s.seed for s in self.by_seed]

    @property
    def elapsed(self) -> float:
        return float(sum(s.elapsed for s in self.by_seed))

    @property
    def status(self) -> str:
        """"verified", "not verified" or "not applicable"."""
        if not self.applicable:
            return "not applicable"
        return "verified" if self.ok else "not verified"

    @property
    def problems(self) -> list:
        """Reasons why the claim is not verified, with the seed where each occurred."""
        return [f"seed {s.seed}: {msg}" for s in self.by_seed for msg in s.problems]


# =============================================================================== discovery
def _discover():
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    pkg = importlib.import_module("verify.families")  # one package (or module) per claim family

    def onerror(name):
        _LOAD_ERRORS[name] = traceback.format_exc()

    for info in pkgutil.walk_packages(pkg.__path__, prefix=pkg.__name__ + ".", onerror=onerror):
        if info.name in sys.modules or info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        try:
            importlib.import_module(info.name)
        except Exception:  # a broken claim module must not hide the others; it is reported
            _LOAD_ERRORS[info.name] = traceback.format_exc()


def load_errors() -> dict:
    """{module: traceback} of claim modules that failed to import (reported by run_claims and the CLI).

    >>> isinstance(load_errors(), dict)
    True
    """
    _discover()
    return dict(_LOAD_ERRORS)


def unregister(claim_id: str) -> None:
    """Remove a claim from the registry (for examples and tests that define throw-away claims)."""
    _REGISTRY.pop(claim_id, None)


def canonical_id(name: str) -> str:
    """A claim id or prefix in the one accepted spelling: lower case, hyphens inside words.

    >>> canonical_id("GSGD.Single_Timescale.Lyapunov")
    'gsgd.single-timescale.lyapunov'
    """
    return str(name).strip().lower().replace("_", "-")


def _match(ids, prefixes):
    if prefixes is None:
        return sorted(ids)
    if isinstance(prefixes, str):
        prefixes = [prefixes]
    out = []
    for p in prefixes:
        p = p if any(i == p or i.startswith(p + ".") for i in ids) else canonical_id(p)
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
    """Registered claims (after importing every module under ``verify.families``), sorted by id.

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
    >>> get_claim("Schedules.Polynomial.Conditions").id          # other spellings are normalised
    'schedules.polynomial.conditions'
    >>> get_claim("schedules.polynomial.condition")
    Traceback (most recent call last):
    ...
    ValueError: unknown claim or prefix 'schedules.polynomial.condition'. Did you mean 'schedules.polynomial.conditions'...
    """
    _discover()
    if id not in _REGISTRY and canonical_id(id) in _REGISTRY:
        id = canonical_id(id)
    if id not in _REGISTRY:
        raise ValueError(_unknown_claim(id, list(_REGISTRY)))
    return _REGISTRY[id]


# =============================================================================== running
def parse_seeds(text) -> list:
    """Seeds from "A:B" (A..B-1), "N", an int or an iterable of ints (all >= 0).

    >>> parse_seeds("0:3"), parse_seeds("5"), parse_seeds(range(2))
    ([0, 1, 2], [5], [0, 1])
    >>> parse_seeds("3:1")
    Traceback (most recent call last):
    ...
    ValueError: seeds must be 'A:B' with 0 <= A < B (seeds A..B-1), a seed N >= 0 or a list of them; got '3:1'
    """
    err = ValueError("seeds must be 'A:B' with 0 <= A < B (seeds A..B-1), a seed N >= 0 or a list of them; "
                     f"got {text!r}")
    if isinstance(text, str):
        try:
            if ":" in text:
                a, b = (int(s) for s in text.split(":"))
                seeds = list(range(a, b)) if 0 <= a < b else None
            else:
                seeds = [int(text)]
        except ValueError:
            raise err from None
    elif isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        seeds = [int(text)]
    else:
        try:
            seeds = [int(s) for s in text if isinstance(s, (int, np.integer)) and not isinstance(s, bool)]
            seeds = seeds if len(seeds) == len(list(text)) else None
        except TypeError:
            raise err from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise err
    return seeds


@dataclass(frozen=True)
class Task:
    """One unit of work: one claim at one seed (a pure function of its fields)."""

    claim_id: str
    mode: str
    seed: int
    draw: bool
    direction: object = None
    method: object = None
    module: str = ""
    parts: tuple = ()


def run_task(task: Task) -> SeedResult:
    """Run one task (importable, picklable: what executors send to workers).

    A worker imports only the claim's own module (not every family) before running it.
    """
    from .overrides import resolve_direction, resolve_method

    if task.claim_id not in _REGISTRY and task.module:
        importlib.import_module(task.module)
    cl = _REGISTRY.get(task.claim_id) or get_claim(task.claim_id)
    here = tuple(p.name for p in cl.parts)
    if task.parts and here != tuple(task.parts):
        # a part registered from another module than the claim's own would silently go missing on a worker
        raise RuntimeError(f"claim {task.claim_id}: this process has the parts {list(here)} but the run asked for "
                           f"{list(task.parts)}; a claim's module must import every module that adds parts to it")
    return cl.run(task.mode, task.seed, draw=task.draw, direction=resolve_direction(task.direction),
                  method=resolve_method(task.method))


def _is_failure(out) -> bool:
    return type(out).__name__ == "TaskFailure" or isinstance(out, BaseException)


def _failed(task: Task, failure) -> SeedResult:
    """A task that produced no result: every part's check and control are errors saying why."""
    cl = get_claim(task.claim_id)
    error = getattr(failure, "error", None) or f"{type(failure).__name__}: {failure}"
    why = {"error": f"the task (claim {task.claim_id}, seed {task.seed}) produced no result: {error}"}
    def error():
        return Verdict("error", details=dict(why), seeds=[task.seed], mode=task.mode)

    parts = [PartResult(p.name, p.statistic, p.breaks, error(), error()) for p in cl.parts]
    return SeedResult(task.claim_id, task.seed, task.mode, parts)


def _progress_fn(progress):
    if callable(progress):
        return progress
    show = progress if progress is not None else sys.stderr.isatty()
    if not show:
        return lambda done, total, label: None
    start = time.perf_counter()

    def bar(done, total, label):
        frac = done / max(total, 1)
        sys.stderr.write(f"\r[{'#' * int(30 * frac):<30}] {done}/{total} tasks {time.perf_counter() - start:6.1f}s "
                         f"{label[:50]:<50}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return bar


def run_claims(ids_or_prefixes=None, mode: str = "quick", seeds=(0,), report_dir=None, progress=None,
               executor=None, direction=None, method=None, seed=None) -> list:
    """Run every part (check and control) of each selected claim at each seed.

    Returns a list of ``ClaimResult`` in claim-id order, each with ``by_seed`` in seed order.
    ``seeds``: an iterable of seeds or "A:B"; ``seed=N`` is shorthand for ``seeds=[N]``.
    ``executor``: None (in this process) or an object with ``map(fn, tasks, on_done)`` (see
    ``verify.executors``); results do not depend on it. ``direction`` / ``method``: a user's
    direction or method factory (objects or "module:name" strings) replacing the built-in ones
    in the parts that declare ``uses``. Figures are drawn at the first seed. With
    ``report_dir``, the report is written (atomically, as a whole).

    >>> import verify
    >>> res = verify.run_claims("schedules.polynomial.conditions", seeds="0:2", progress=False)
    >>> res[0].ok, res[0].seeds
    (True, [0, 1])
    """
    if mode not in MODES:
        raise ValueError(f"mode must be 'quick' or 'full'; got {mode!r}")
    seeds = parse_seeds(seeds if seed is None else seed)
    selected = claims(ids_or_prefixes)
    out_dir = None
    if report_dir is not None:
        from .report import prepare_report_dir

        out_dir = prepare_report_dir(report_dir)  # checked before any work
    tasks = [Task(cl.id, mode, s, i == 0, direction, method, cl.module, tuple(p.name for p in cl.parts))
             for cl in selected
             for i, s in enumerate(seeds)]
    bar = _progress_fn(progress)
    if executor is None:
        from .executors import InProcess

        executor = InProcess()
    done = [0]

    def on_done(i, result):
        done[0] += 1
        bar(done[0], len(tasks), f"{tasks[i].claim_id} (seed {tasks[i].seed})")

    bar(0, len(tasks), "")
    flat = [_failed(task, out) if _is_failure(out) else out
            for task, out in zip(tasks, executor.map(run_task, tasks, on_done))]
    results, n = [], len(seeds)
    for j, cl in enumerate(selected):
        results.append(ClaimResult(cl, list(flat[j * n:(j + 1) * n])))
    if out_dir is not None:
        from .report import write_report

        write_report(results, out_dir, mode=mode, seeds=seeds, load_errors=load_errors(),
                     executor=getattr(executor, "describe", lambda: {"backend": "in-process"})(),
                     direction=direction, method=method)
    return results
