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

>>> from stochopt import schedules
>>> check_schedule(schedules.polynomial(0.5, p=0.75)).status
{'divergent_sum': 'proved', 'summable_squares': 'proved', 'vanishing': 'proved', 'log_vanishing': 'proved'}
>>> summable_squares(schedules.polynomial(0.5, p=0.5)).status
'disproved'
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

__all__ = [
    "PROVED",
    "DISPROVED",
    "UNPROVED",
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


@dataclass
class ConditionResult:
    """One condition: ``status`` in proved / disproved / unproved, plus how it was decided."""

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
    """All conditions for one schedule. ``status`` maps condition -> proved/disproved/unproved."""

    schedule: str
    formula: str
    results: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

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
    return sp.nsimplify(expr, rational=True)


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
            d = sp.simplify(sp.diff(e, s))
        except Exception:  # pragma: no cover - sympy internals
            return False
        if d.is_zero:
            continue
        if d.is_nonnegative:
            directions.add(1)
        elif d.is_nonpositive:
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


_CACHE: dict = {}


def _decide(kind, a, b=None):
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
    raise ValueError(kind)  # pragma: no cover


def _run(kind, schedule, other=None):
    a = formula_of(schedule)
    b = None if other is None else formula_of(other)
    key = (kind, sp.srepr(a), None if b is None else sp.srepr(b))
    if key not in _CACHE:
        _CACHE[key] = _decide(kind, a, b)
    return _CACHE[key]


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


def ratio_limit(eta, theta):
    """lim eta_k / theta_k as a sympy number (None when sympy cannot find it).

    >>> from stochopt import schedules
    >>> eta = schedules.polynomial(1.0, p=0.75)
    >>> ratio_limit(schedules.coupled(eta, 4.0), eta)
    4
    """
    try:
        t = tail(formula_of(eta) / formula_of(theta))
    except _Undecided:
        return None
    return _limit(sp.simplify(t))


CONDITIONS = {
    "divergent_sum": divergent_sum,
    "summable_squares": summable_squares,
    "vanishing": vanishing,
    "log_vanishing": log_vanishing,
}


def check_schedule(schedule, conditions=None, replica=None) -> ScheduleReport:
    """Every single-schedule condition for ``schedule`` (a Schedule or a sympy expression in k).

    A randomized schedule eta_k = eta_bar_k zeta_k with zeta_k in [low, high], 0 < low, is checked
    on its envelope: low eta_bar_k <= eta_k <= high eta_bar_k, so each condition (divergent sum,
    summable squares, limits 0) transfers from the envelope to every realisation.

    >>> from stochopt import schedules
    >>> rep = check_schedule(schedules.randomized(schedules.polynomial(1.0, p=1.0), 0.5, 1.5))
    >>> rep.all_proved(), rep.notes[0][:38]
    (True, 'randomized: conditions of the envelope')
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
    if replica is not None:
        target_expr = formula_of(target, replica)
    else:
        target_expr = formula_of(target)
    results = {n: CONDITIONS[n](target_expr) for n in names}
    return ScheduleReport(repr(schedule), str(target_expr), results, notes)
