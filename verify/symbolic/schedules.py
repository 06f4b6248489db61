"""Symbolic proofs of stepsize conditions (spec 5.5) from a schedule's sympy formula.

Conditions, each answered "proved", "disproved" or "unproved" (sympy could not decide; never
reported as false):

- ``divergent_sum``:  sum_k eta_k = infinity
- ``summable_squares``: sum_k eta_k^2 < infinity
- ``vanishing``:  eta_k -> 0
- ``log_vanishing``:  eta_k log k -> 0 (the bounded-noise alternative to summable squares)
- ``ratio_vanishing(eta, theta)``:  eta_k / theta_k -> 0 (two timescales)

Method. Floats of the formula are made exact rationals (``nsimplify``: the decimal value is
used). Only the tail matters, so the expression is first reduced to its tail: a ``Piecewise``
becomes its branch for large k, ``Min``/``Max`` the argument with the smaller/larger limit, and
``floor(u)`` is handled by the sandwich u - 1 < floor(u) <= u (only when the expression is
provably monotone in every floor, in one direction; both bounds must give the same answer and
differ by a bounded factor). The sum of a sequence that sympy cannot show eventually positive is
"unproved" (sign changes can make it converge). A series of positive terms is decided by the order test
q = -lim log(eta_k) / log k (q > 1 converges, q < 1 diverges; rigorous: eventually
eta_k <= k^{-(1+q)/2} or >= k^{-(1+q)/2}), and, when q = 1, by sympy's ``Sum.is_convergent``.
Results are cached by the formula's ``srepr``.

Proofs are about the code that runs. Every function here that is given a ``Schedule`` (not a
bare sympy expression) first runs ``formula_matches_code``: the formula is evaluated exactly
(mpmath, 40 digits) at every k = 0..255 and at 96 steps spread geometrically up to 10^12, for
every replica, and compared with what the schedule executes (``schedule(k, replica_ids)`` and
its block evaluation ``schedule.values``). When they differ by more than the tolerance (1e-12
relative), the condition's status is ``MISMATCH`` ("formula is not the code"): never proved,
never disproved. That comparison is never cached (the code may change under a test's patch).

>>> from stochopt import schedules
>>> check_schedule(schedules.polynomial(0.5, p=0.75)).status
{'divergent_sum': 'proved', 'summable_squares': 'proved', 'vanishing': 'proved', 'log_vanishing': 'proved'}
>>> summable_squares(schedules.polynomial(0.5, p=0.5)).status
'disproved'
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

__all__ = [
    "PROVED",
    "DISPROVED",
    "UNPROVED",
    "MISMATCH",
    "CODE_TOLERANCE",
    "CodeAgreement",
    "formula_matches_code",
    "check_steps",
    "ratio_tends_to",
    "ConditionResult",
    "ScheduleReport",
    "formula_of",
    "tail",
    "divergent_sum",
    "summable_squares",
    "vanishing",
    "log_vanishing",
    "ratio_vanishing",
    "ratio_limit",
    "check_schedule",
    "CONDITIONS",
]

PROVED, DISPROVED, UNPROVED = "proved", "disproved", "unproved"
#: status of a condition whose schedule does not run as its formula (the proof would be about other code)
MISMATCH = "formula is not the code"
#: the stated numerical tolerance of float64 identities in this project (relative)
CODE_TOLERANCE = 1e-12


@dataclass
class ConditionResult:
    """One condition: ``status`` in proved / disproved / unproved / MISMATCH, plus how it was decided."""

    condition: str
    status: str
    expression: str
    reason: str = ""

    @property
    def proved(self) -> bool:
        return self.status == PROVED

    def __bool__(self) -> bool:  # truthy only when proved
        return self.proved


@dataclass
class ScheduleReport:
    """All conditions for one schedule. ``status`` maps condition -> proved/disproved/unproved/MISMATCH.

    ``code`` is the ``CodeAgreement`` of the schedule with its formula (None for an expression).
    """

    schedule: str
    formula: str
    results: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    code: object = None

    @property
    def status(self) -> dict:
        return {name: r.status for name, r in self.results.items()}

    def all_proved(self, names=None) -> bool:
        names = names or list(self.results)
        return all(self.results[n].proved for n in names)


def _k():
    from stochopt.schedules import k_symbol

    return k_symbol()


def _n():
    """A positive real symbol used for limits (sympy's limit works best on a real variable)."""
    return sp.Symbol("n", positive=True)


def formula_of(schedule, replica=None):
    """The schedule's exact sympy formula (floats made rational), or the expression itself.

    For a randomized schedule (eta_k = eta_bar_k zeta_k, zeta_k in [low, high], low > 0) this is the
    envelope's formula: every condition of this module transfers from the envelope.

    >>> from stochopt import schedules
    >>> formula_of(schedules.polynomial(0.5, 1.0, 0.75))
    1/(2*(k + 1)**(3/4))
    """
    if isinstance(schedule, sp.Basic):
        expr = schedule
    elif getattr(schedule, "random", False) and hasattr(schedule, "envelope"):
        # low * envelope <= eta_k <= high * envelope with low > 0: every condition checked here
        # (divergent sum, summable squares, limits 0, ratio -> 0) transfers from the envelope.
        return formula_of(schedule.envelope, replica)
    elif isinstance(schedule, (int, float)):
        expr = sp.Float(schedule)
    else:
        expr = schedule.formula(replica)
    key = sp.srepr(expr)  # nsimplify is a pure function of the expression: cache it
    if key not in _RATIONAL:
        _RATIONAL[key] = sp.nsimplify(expr, rational=True)
    return _RATIONAL[key]


_RATIONAL: dict = {}


def _to_real(expr):
    return expr.subs(_k(), _n())


def _limit(expr):
    n = _n()
    try:
        return sp.limit(expr, n, sp.oo)
    except Exception:  # sympy raises many kinds of errors on hard limits
        return None


def _reduce_tail(expr):
    """Replace Piecewise / Min / Max by their branch for large n (n real)."""
    n = _n()
    if isinstance(expr, sp.Piecewise):
        for e, c in expr.args:
            holds = _eventually(c)
            if holds is None:
                raise _Undecided(f"cannot tell whether {c} holds for large k in {expr}")
            if holds:
                return _reduce_tail(e)
        raise _Undecided(f"no branch of {expr} holds for large k")
    if isinstance(expr, (sp.Min, sp.Max)):
        args = [_reduce_tail(a) for a in expr.args]
        lims = [_limit(a) for a in args]
        if any(lim is None or not lim.is_extended_real for lim in lims):
            raise _Undecided(f"cannot find the limits of the arguments of {expr}")
        pick = min if isinstance(expr, sp.Min) else max
        best = pick(lims, key=lambda v: float(v) if v.is_finite else (float("inf") if v > 0 else float("-inf")))
        if sum(1 for lim in lims if lim == best) > 1:
            raise _Undecided(f"two arguments of {expr} have the same limit {best}")
        return args[lims.index(best)]
    if expr.args:
        return expr.func(*[_reduce_tail(a) for a in expr.args])
    return expr


def _eventually(cond):
    """True / False when cond holds / fails for every large n; None when undecided.

    Only True and inequalities between expressions (k <= 1000, k + 1 < W, ...) are decided, by the
    limit of their difference; anything else (parity, equalities, logical combinations) is not.
    """
    if cond is sp.true or cond is True:
        return True
    if cond is sp.false or cond is False:
        return False
    if not isinstance(cond, (sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan)):
        return None
    diff = _limit(cond.lhs - cond.rhs)  # lhs - rhs as n -> oo
    if diff is None or not diff.is_extended_real or diff == 0:
        return None
    less = isinstance(cond, (sp.StrictLessThan, sp.LessThan))
    return bool(diff < 0) if less else bool(diff > 0)


class _Undecided(Exception):
    """sympy could not decide a step of the argument: the condition is reported as unproved."""


def tail(expr):
    """The expression valid for all large k, in a positive real variable n, with floor(.) kept.

    >>> from stochopt import schedules
    >>> tail(formula_of(schedules.warmup(schedules.polynomial(1.0, p=1.0), 10)))
    1/(n + 1)
    """
    return _reduce_tail(_to_real(expr))


def _floor_bounds(expr):
    """(lower-or-upper, upper-or-lower) replacements of floor(u) by u - 1 and u; None if no floor.

    u - 1 < floor(u) <= u sandwiches the expression between the two replacements only when it
    is monotone in every floor, all in the same direction; ``_floor_monotone`` checks that.
    """
    floors = list(expr.atoms(sp.floor))
    if not floors:
        return None
    a = expr.subs({f: f.args[0] - 1 for f in floors})
    b = expr.subs({f: f.args[0] for f in floors})
    return a, b


def _floor_monotone(expr):
    """True when expr is provably monotone in each of its floors, all in the same direction.

    Each floor(u) is replaced by a free symbol s (positive when u -> oo, else real) and the sign
    of d expr / d s must be decided by sympy for every s: then expr lies between its values at
    s = u - 1 and s = u, which is what the floor sandwich uses. Otherwise (e.g. an oscillating
    function of floor(k/2)) the sandwich proves nothing and the answer is "unproved".
    """
    floors = list(expr.atoms(sp.floor))
    subs, symbols = {}, []
    for i, f in enumerate(floors):
        lim = _limit(f.args[0])
        s = sp.Symbol(f"_floor{i}", positive=True) if lim is sp.oo else sp.Symbol(f"_floor{i}", real=True)
        subs[f] = s
        symbols.append(s)
    e = expr.subs(subs)
    directions = set()
    for s in symbols:
        try:
            raw = sp.diff(e, s)
            # simplify can hide a sign (it rewrites (9/10)^s log(9/10) as log((9/10)^((9/10)^s))): try both forms
            forms = (raw, sp.simplify(raw))
        except Exception:  # pragma: no cover - sympy internals
            return False
        if any(d.is_zero for d in forms):
            continue
        if any(d.is_nonnegative for d in forms):
            directions.add(1)
        elif any(d.is_nonpositive for d in forms):
            directions.add(-1)
        else:
            return False
    return len(directions) <= 1


def _series_convergent(e):
    """True (converges), False (diverges) or None, for a positive term sequence e(n)."""
    n = _n()
    e = sp.simplify(e)
    if e.is_zero:
        return True, "terms are eventually 0"
    order = _limit(sp.log(e) / sp.log(n))
    if order is not None and order.is_extended_real:
        if order == -sp.oo or (order.is_finite and order < -1):
            return True, f"order test: log(term)/log(k) -> {order} < -1"
        if order.is_finite and order > -1:
            return False, f"order test: log(term)/log(k) -> {order} > -1"
    k = _k()
    try:
        conv = sp.Sum(e.subs(n, k), (k, 1, sp.oo)).is_convergent()
    except Exception as exc:  # pragma: no cover - sympy internals
        return None, f"sympy could not decide ({type(exc).__name__})"
    if conv is sp.true or conv is True:
        return True, "sympy Sum.is_convergent"
    if conv is sp.false or conv is False:
        return False, "sympy Sum.is_convergent"
    return None, "sympy could not decide"


def _decide_series(expr, power, want_convergent, name):
    """Decide convergence of sum expr^power after reducing the tail and floors."""
    try:
        t = tail(expr)
    except _Undecided as exc:
        return ConditionResult(name, UNPROVED, str(expr), str(exc))
    term = t ** power
    if power % 2 == 1 and not term.is_positive:
        # The series tests below are for positive terms; a sign-changing sum can converge
        # (sum cos(k)/(k+1) does) although sum |eta_k| diverges. A stepsize must be positive.
        if term.is_zero or term.is_nonpositive:  # the sum cannot be +infinity; its absolute value may
            return ConditionResult(name, DISPROVED if not want_convergent else UNPROVED, str(term),
                                   "terms are eventually <= 0")
        return ConditionResult(name, UNPROVED, str(term), "cannot establish that the terms are eventually positive")
    bounds = _floor_bounds(term)
    if bounds is not None and not _floor_monotone(term):
        return ConditionResult(name, UNPROVED, str(term), "floor sandwich not justified: the term is not provably "
                                                          "monotone in its floor(.) arguments")
    if bounds is None:
        verdict, why = _series_convergent(term)
    else:
        ratio = _limit(sp.simplify(bounds[0] / bounds[1]))
        if ratio is None or not (ratio.is_finite and ratio.is_positive):
            ratio = None
        va, wa = _series_convergent(bounds[0])
        vb, wb = _series_convergent(bounds[1])
        # floor(u) lies between u - 1 and u, so the term lies between the two bounds; when the
        # bounds differ by a bounded factor and agree, the term does too.
        simple_ratio = sp.simplify(bounds[0] / bounds[1])
        bounded = simple_ratio.free_symbols == set() and simple_ratio.is_positive
        if va is not None and va == vb and (bounded or ratio is not None):
            verdict, why = va, f"floor sandwich u-1 < floor(u) <= u; both bounds: {wa}"
        else:
            verdict, why = None, "floor sandwich inconclusive"
    if verdict is None:
        status = UNPROVED
    else:
        status = PROVED if verdict == want_convergent else DISPROVED
    return ConditionResult(name, status, str(term), why)


def _decide_limit_zero(expr, name):
    try:
        t = tail(expr)
    except _Undecided as exc:
        return ConditionResult(name, UNPROVED, str(expr), str(exc))
    bounds = _floor_bounds(t)
    if bounds is not None and not _floor_monotone(t):
        return ConditionResult(name, UNPROVED, str(t), "floor sandwich not justified: the expression is not provably "
                                                       "monotone in its floor(.) arguments")
    cands = [t] if bounds is None else list(bounds)
    lims = [_limit(c) for c in cands]
    if any(lim is None for lim in lims):
        return ConditionResult(name, UNPROVED, str(t), "sympy could not find the limit")
    if all(lim == 0 for lim in lims):
        return ConditionResult(name, PROVED, str(t), "limit = 0" + (" (floor sandwich)" if bounds else ""))
    if all(lim != 0 and (lim.is_number and (lim.is_infinite or lim.is_nonzero)) for lim in lims) and len(
            set(lims)) == 1:
        return ConditionResult(name, DISPROVED, str(t), f"limit = {lims[0]}")
    # Sandwiched between bounds whose limits are both > 0 (or both < 0): bounded away from 0.
    if bounds is not None and (all(lim.is_extended_positive for lim in lims)
                               or all(lim.is_extended_negative for lim in lims)):
        return ConditionResult(name, DISPROVED, str(t), f"limits of the floor bounds = {lims} (same sign, nonzero)")
    return ConditionResult(name, UNPROVED, str(t), f"limit = {lims}")


# ------------------------------------------------------------------ the formula is the code
#: Below this fraction F of a schedule's largest checked value M, an error is measured against F M
#: instead of the value itself: a float64 evaluation of a few operations on numbers of size M
#: carries an absolute rounding error of a few ulps of M (8 ulps: 8 * 2^-53 M = 8.9e-16 M), which
#: must fit in the tolerance, 1e-12 F M >= 8.9e-16 M, so F = 1e-3. (Cosine annealing to 0 loses
#: relative accuracy near its end exactly so: 1 + cos(pi k/T) cancels.)
SMALL_VALUE_FRACTION = 1e-3


def check_steps(small: int = 256, large: int = 96, largest: int = 10 ** 12) -> np.ndarray:
    """The steps k at which a schedule's code is compared with its formula.

    Every k = 0 .. small-1 (warm-ups, caps, the first decays), then ``large`` steps spread
    geometrically from ``small`` to ``largest`` (the tail, where the theorems' conditions live).

    >>> ks = check_steps()
    >>> len(ks), int(ks[255]), int(ks[-1])
    (352, 255, 1000000000000)
    """
    tail = np.geomspace(small, largest, large).round().astype(np.int64)
    return np.unique(np.concatenate([np.arange(small, dtype=np.int64), tail]))


@dataclass
class CodeAgreement:
    """How the schedule that runs compares with the formula the proofs are about.

    statistic : the largest error over every step checked, every replica and every evaluation
        path: |code - formula| / max(|formula|, F M) (F = ``SMALL_VALUE_FRACTION``, M the largest
        |formula| of that replica), or, for a randomized schedule, the distance of the realised
        value outside [low, high] x envelope measured the same way (and the envelope's own error).
    ok : statistic <= tolerance (1e-12 unless given).
    ks, errors : the steps checked and the worst error over replicas at each (for figures).
    code, exact : executed values and formula values, shape (len(ks), R) (randomized: the
        envelope's formula values in ``exact``).
    """

    schedule: str
    formula: str
    statistic: float
    tolerance: float
    ks: np.ndarray
    errors: np.ndarray
    code: np.ndarray
    exact: np.ndarray
    worst: dict
    paths: tuple
    bounds: tuple | None = None

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.statistic) and self.statistic <= self.tolerance)

    @property
    def replicas(self) -> int:
        return int(self.code.shape[1])

    def to_dict(self) -> dict:
        return {"schedule": self.schedule, "formula": self.formula, "statistic": float(self.statistic),
                "tolerance": self.tolerance, "ok": self.ok, "steps_checked": int(len(self.ks)),
                "largest_step": int(self.ks.max()), "replicas": self.replicas, "paths": list(self.paths),
                "worst": self.worst, "bounds": self.bounds}


def _per_replica_formulas(schedule, replicas: int) -> list:
    """The exact formula of each replica (one entry when the parameters are shared)."""
    if getattr(schedule, "replicas", None) is None:
        return [formula_of(schedule)]
    return [formula_of(schedule, r) for r in range(replicas)]


def _exact_values(exprs, ks, replicas: int) -> np.ndarray:
    """The formulas evaluated exactly (mpmath, 40 digits) at every k, one per replica: (len(ks), R).

    A pure function of the formulas and the steps, so it is cached (the code side never is).
    """
    import mpmath

    columns = []
    for expr in exprs:
        key = (sp.srepr(expr), ks.tobytes())
        if key not in _EXACT:
            f = sp.lambdify(_k(), expr, "mpmath")
            with mpmath.workdps(40):
                _EXACT[key] = np.array([float(mpmath.re(f(mpmath.mpf(int(kk))))) for kk in ks])
        columns.append(_EXACT[key])
    out = np.stack(columns, axis=1)
    return np.repeat(out, replicas, axis=1) if out.shape[1] == 1 else out


_EXACT: dict = {}


def _executed(schedule, ks, ids) -> list:
    """[(path, row indices into ks, values (rows, R))]: what the schedule runs, per step and in blocks."""
    R = len(ids)

    def per_step(value, k):
        value = np.asarray(value, dtype=float)
        if value.ndim > 1 or (value.ndim == 1 and value.shape[0] not in (1, R)):
            raise ValueError(f"schedule({k}, replica_ids) has shape {value.shape}; expected a scalar or ({R},)")
        return np.broadcast_to(value, (R,))

    def block(values, n, what):
        values = np.asarray(values, dtype=float)
        values = values[:, None] if values.ndim == 1 else values
        if values.ndim != 2 or values.shape[0] != n or values.shape[1] not in (1, R):
            raise ValueError(f"{what} has shape {values.shape}; expected ({n},) or ({n}, {R})")
        return np.broadcast_to(values, (n, R))

    out = [("schedule(k, replica_ids)", np.arange(len(ks)), np.stack([per_step(schedule(int(k), ids), int(k))
                                                                        for k in ks]))]
    params = list(inspect.signature(schedule.values).parameters)
    if params and params[0] == "ks":  # block evaluation at any steps (what the engine calls)
        what = "schedule.values(ks, replica_ids)"
        out.append((what, np.arange(len(ks)), block(schedule.values(ks, ids), len(ks), what)))
    else:  # values(steps): the first steps 0 .. n-1 only
        prefix = ks == np.arange(len(ks))
        n = len(ks) if prefix.all() else int(np.argmin(prefix))
        what = "schedule.values(steps, replica_ids)"
        out.append((what, np.arange(n), block(schedule.values(n, ids), n, what)))
    return out


def _relative(err_abs, exact):
    """|error| / max(|exact|, F M) per replica column (inf where the code is not finite)."""
    scale = np.max(np.abs(exact), axis=0, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = err_abs / np.maximum(np.abs(exact), SMALL_VALUE_FRACTION * scale)
    return np.where(np.isfinite(out), out, np.inf)


def formula_matches_code(schedule, ks=None, replica_ids=None, tolerance: float = CODE_TOLERANCE) -> CodeAgreement:
    """Compare what ``schedule`` executes with the formula the proofs use, at many steps.

    The formula (``formula_of``: floats made exact rationals) is evaluated exactly with mpmath at
    40 digits; the code is run as ``schedule(k, replica_ids)`` at every k and as its block
    evaluation ``schedule.values``. ``ks`` defaults to ``check_steps()`` (0..255 and 96 steps up to
    10^12); ``replica_ids`` to every replica of a per-replica schedule (4 for a randomized one).
    A randomized schedule eta_k = eta_bar_k zeta_k has no formula of its own: its realised
    values must lie in [low, high] x the envelope's formula, and the envelope's code must match
    its formula. A schedule without a formula raises ``ValueError``.

    >>> from stochopt import schedules
    >>> formula_matches_code(schedules.polynomial(0.5, 1.0, 0.75)).ok
    True
    >>> runs_constant = schedules.from_function(lambda k: 0.5, formula=formula_of(schedules.polynomial(0.5, 1.0, 0.75)))
    >>> agreement = formula_matches_code(runs_constant)
    >>> agreement.ok, agreement.worst["k"]
    (False, 1000000000000)
    """
    from stochopt.schedules import Schedule

    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a stochopt.schedules.Schedule; got {type(schedule).__name__}")
    ks = check_steps() if ks is None else np.asarray(ks, dtype=np.int64)
    if ks.ndim != 1 or ks.size == 0 or np.any(ks < 0):
        raise ValueError(f"ks must be a non-empty 1-D array of steps k >= 0; got {ks!r}")
    ks = np.unique(ks)
    random = bool(getattr(schedule, "random", False))
    if replica_ids is None:
        replica_ids = np.arange(schedule.replicas or (4 if random else 1), dtype=np.int64)
    ids = np.asarray(replica_ids, dtype=np.int64)
    executed = _executed(schedule, ks, ids)
    bounds, inner = None, None
    if random:
        if not hasattr(schedule, "envelope"):
            raise ValueError(f"{schedule!r} is random without a deterministic envelope and bounds: it has no "
                             "formula to compare with (use schedules.randomized(envelope, low, high))")
        inner = formula_matches_code(schedule.envelope, ks, ids, tolerance)
        exact, bounds = inner.exact, (float(schedule.low), float(schedule.high))
        formula = f"[{bounds[0]}, {bounds[1]}] x ({inner.formula})"
    else:
        exprs = _per_replica_formulas(schedule, len(ids))
        exact = _exact_values(exprs, ks, len(ids))
        formula = str(exprs[0]) + ("" if len(exprs) == 1 else f" (replica 0 of {len(exprs)})")
    errors = np.zeros((len(ks), len(ids)))
    for _, rows, values in executed:
        if bounds is None:
            err = _relative(np.abs(values - exact[rows]), exact[rows])
        else:
            low, high = bounds[0] * exact[rows], bounds[1] * exact[rows]
            outside = np.maximum(np.maximum(low - values, values - high), 0.0)
            err = _relative(np.where(np.isfinite(values), outside, np.inf), exact[rows])
        errors[rows] = np.maximum(errors[rows], err)
    if inner is not None:
        errors = np.maximum(errors, inner.errors[:, None])
    i, r = np.unravel_index(int(np.argmax(errors)), errors.shape)
    code = executed[0][2]
    worst = {"k": int(ks[i]), "replica": int(ids[r]), "code": float(code[i, r]), "formula": float(exact[i, r]),
             "error": float(errors[i, r])}
    return CodeAgreement(describe(schedule), formula, float(errors.max()), float(tolerance), ks, errors.max(axis=1),
                         code, exact, worst, tuple(p for p, _, _ in executed), bounds)


def describe(schedule) -> str:
    """The schedule's repr without memory addresses (reports must not depend on the process).

    >>> from stochopt import schedules
    >>> describe(schedules.from_function(abs))
    'FromFunction(fn=<built-in function abs>)'
    """
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(schedule))


def _why(agreement) -> str:
    w = agreement.worst
    return (f"{agreement.schedule} does not run as its formula {agreement.formula}: at k = {w['k']} (replica "
            f"{w['replica']}) the code gives {w['code']:.6g}, the formula {w['formula']:.6g} (error {w['error']:.3g} "
            f"> {agreement.tolerance:g})")


def _mismatch(*schedules):
    """(agreement, reason) for the first Schedule among these that does not run as its formula, else (None, "")."""
    for s in schedules:
        if s is None or isinstance(s, (sp.Basic, int, float)):
            continue
        agreement = formula_matches_code(s)
        if not agreement.ok:
            return agreement, _why(agreement)
    return None, ""


_CACHE: dict = {}


def _decide(kind, a, b=None, tau=None):
    if kind == "divergent_sum":
        return _decide_series(a, 1, False, kind)
    if kind == "summable_squares":
        return _decide_series(a, 2, True, kind)
    if kind == "vanishing":
        return _decide_limit_zero(a, kind)
    if kind == "log_vanishing":
        return _decide_limit_zero(a * sp.log(_k() + 1), kind)
    if kind == "ratio_vanishing":
        return _decide_limit_zero(a / b, kind)
    if kind == "ratio_limit":
        return _decide_ratio_limit(a, b, tau)
    raise ValueError(kind)  # pragma: no cover


def _decide_ratio_limit(a, b, tau):
    lim = _ratio_limit_expr(a, b)
    if lim is None:
        return ConditionResult("ratio_limit", UNPROVED, str(a / b), "sympy could not find the limit")
    ok = lim.is_number and lim.is_finite and abs(float(lim) - float(tau)) <= 1e-12 * max(1.0, abs(float(tau)))
    return ConditionResult("ratio_limit", PROVED if ok else DISPROVED, str(a / b), f"limit = {lim}, expected {tau}")


def _decide_cached(kind, a, b=None, tau=None):
    key = (kind, sp.srepr(a), None if b is None else sp.srepr(b), tau)
    if key not in _CACHE:
        _CACHE[key] = _decide(kind, a, b, tau)
    return _CACHE[key]


def _formulas(schedule):
    """[formula per replica] of a Schedule (randomized: of its envelope), or [expr] for an expression."""
    if isinstance(schedule, (sp.Basic, int, float)):
        return [formula_of(schedule)]
    target = schedule.envelope if getattr(schedule, "random", False) and hasattr(schedule, "envelope") else schedule
    replicas = getattr(target, "replicas", None)
    return _per_replica_formulas(target, replicas or 1)


def _combine(kind, results):
    """One result for a condition proved per replica: proved when proved for every replica,
    disproved when disproved for one (the statement "for every replica" is then false)."""
    if len(results) == 1:
        return results[0]
    statuses = [r.status for r in results]
    status = PROVED if all(s == PROVED for s in statuses) else DISPROVED if DISPROVED in statuses else UNPROVED
    reason = "; ".join(f"replica {i}: {r.status} ({r.reason})" for i, r in enumerate(results))
    return ConditionResult(kind, status, results[0].expression, reason)


def _run(kind, schedule, other=None, tau=None):
    _, why = _mismatch(schedule, other)
    if why:
        return ConditionResult(kind, MISMATCH, describe(schedule), why)
    a = _formulas(schedule)
    b = [None] if other is None else _formulas(other)
    if len(a) > 1 and len(b) > 1 and len(a) != len(b):
        raise ValueError(f"the two schedules have {len(a)} and {len(b)} replicas")
    n = max(len(a), len(b))
    pairs = [(a[i if len(a) > 1 else 0], b[i if len(b) > 1 else 0]) for i in range(n)]
    return _combine(kind, [_decide_cached(kind, x, y, tau) for x, y in pairs])


def divergent_sum(schedule) -> ConditionResult:
    """sum_k eta_k = infinity.

    >>> from stochopt import schedules
    >>> divergent_sum(schedules.polynomial(1.0, p=1.0)).status, divergent_sum(schedules.polynomial(1.0, p=2.0)).status
    ('proved', 'disproved')
    """
    return _run("divergent_sum", schedule)


def summable_squares(schedule) -> ConditionResult:
    """sum_k eta_k^2 < infinity.

    >>> from stochopt import schedules
    >>> summable_squares(schedules.polynomial(1.0, p=0.6)).status
    'proved'
    """
    return _run("summable_squares", schedule)


def vanishing(schedule) -> ConditionResult:
    """eta_k -> 0.

    >>> from stochopt import schedules
    >>> vanishing(schedules.constant(0.1)).status
    'disproved'
    """
    return _run("vanishing", schedule)


def log_vanishing(schedule) -> ConditionResult:
    """eta_k log k -> 0 (checked as eta_k log(k + 1)).

    >>> from stochopt import schedules
    >>> log_vanishing(schedules.polynomial(1.0, p=0.5)).status
    'proved'
    """
    return _run("log_vanishing", schedule)


def ratio_vanishing(eta, theta) -> ConditionResult:
    """eta_k / theta_k -> 0 (two timescales: the momentum is the fast variable).

    >>> from stochopt import schedules
    >>> eta, theta = schedules.polynomial(1.0, p=1.0), schedules.polynomial(1.0, p=0.6)
    >>> ratio_vanishing(eta, theta).status, ratio_vanishing(eta, schedules.coupled(eta, 2.0)).status
    ('proved', 'disproved')
    """
    return _run("ratio_vanishing", eta, theta)


def _ratio_limit_expr(a, b):
    try:
        t = tail(a / b)
    except _Undecided:
        return None
    return _limit(sp.simplify(t))


def ratio_limit(eta, theta):
    """lim eta_k / theta_k as a sympy number (None when sympy cannot find it, or when a schedule
    does not run as its formula: see ``ratio_tends_to`` for the reasoned result).

    >>> from stochopt import schedules
    >>> eta = schedules.polynomial(1.0, p=0.75)
    >>> ratio_limit(schedules.coupled(eta, 4.0), eta)
    4
    """
    agreement, _ = _mismatch(eta, theta)
    if agreement is not None:
        return None
    a, b = _formulas(eta), _formulas(theta)
    if len(a) > 1 or len(b) > 1:
        raise ValueError("ratio_limit takes schedules with shared parameters; use ratio_tends_to per replica")
    return _ratio_limit_expr(a[0], b[0])


def ratio_tends_to(eta, theta, tau) -> ConditionResult:
    """eta_k / theta_k -> tau (a number): the single-timescale coupling theta_k ~ eta_k / tau.

    >>> from stochopt import schedules
    >>> eta = schedules.polynomial(1.0, p=0.75)
    >>> ratio_tends_to(schedules.coupled(eta, 4.0, cap=0.5), eta, 4.0).status
    'proved'
    >>> ratio_tends_to(schedules.polynomial(1.0, p=0.6), eta, 4.0).status
    'disproved'
    """
    return _run("ratio_limit", eta, theta, tau=float(tau))


CONDITIONS = {
    "divergent_sum": divergent_sum,
    "summable_squares": summable_squares,
    "vanishing": vanishing,
    "log_vanishing": log_vanishing,
}


def check_schedule(schedule, conditions=None, replica=None) -> ScheduleReport:
    """Every single-schedule condition for ``schedule`` (a Schedule or a sympy expression in k).

    A Schedule is first compared with its formula (``formula_matches_code``, in ``report.code``);
    when it does not run as its formula, every condition gets the status ``MISMATCH``. A schedule
    with per-replica parameters is proved for every replica (``replica=r``: that replica only).
    A randomized schedule eta_k = eta_bar_k zeta_k with zeta_k in [low, high], 0 < low, is checked
    on its envelope: low eta_bar_k <= eta_k <= high eta_bar_k, so each condition (divergent sum,
    summable squares, limits 0) transfers from the envelope to every realisation.

    >>> from stochopt import schedules
    >>> rep = check_schedule(schedules.randomized(schedules.polynomial(1.0, p=1.0), 0.5, 1.5))
    >>> rep.all_proved(), rep.notes[0][:38], rep.code.ok
    (True, 'randomized: conditions of the envelope', True)
    """
    names = list(CONDITIONS) if conditions is None else list(conditions)
    unknown = [n for n in names if n not in CONDITIONS]
    if unknown:
        from stochopt._checks import unknown_name_message

        raise ValueError(unknown_name_message("condition", unknown[0], list(CONDITIONS)))
    notes = []
    target = schedule
    if getattr(schedule, "random", False) and hasattr(schedule, "envelope"):
        target = schedule.envelope
        notes.append(f"randomized: conditions of the envelope {target!r}, transferred by the bounds "
                     f"{schedule.low} eta_bar_k <= eta_k <= {schedule.high} eta_bar_k")
        if getattr(target, "random", False):
            raise ValueError("the envelope of a randomized schedule must be deterministic")
    agreement = None if isinstance(schedule, (sp.Basic, int, float)) else formula_matches_code(schedule)
    why = _why(agreement) if agreement is not None and not agreement.ok else ""
    exprs = [formula_of(target, replica)] if replica is not None else _formulas(target)
    if why:
        results = {n: ConditionResult(n, MISMATCH, str(exprs[0]), why) for n in names}
    else:
        results = {n: _combine(n, [_decide_cached(n, e) for e in exprs]) for n in names}
    return ScheduleReport(describe(schedule), str(exprs[0]), results, notes, agreement)
