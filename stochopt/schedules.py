"""Stepsize schedules: pure functions of the step counter k.

A schedule maps k = 0, 1, 2, ... (the number of steps already taken) to a stepsize: a float,
or an ``(R,)`` array when a parameter is given per replica. Deterministic schedules also give
their formula as a sympy expression in ``k`` (``formula()``), which ``verify.symbolic`` uses to
prove a theorem's conditions (divergent sum, summable squares, vanishing ratio).

``randomized`` multiplies a deterministic envelope by i.i.d. factors zeta_k uniform on [a, b],
drawn from a counter-based stream: the value for replica r at step k is a pure function of
(seed, r, k).

``values(ks, replica_ids)`` evaluates a schedule for a whole block of steps at once (the engine
calls it once per block, not once per step); each value equals ``schedule(k, replica_ids)``
bit for bit, because transcendental functions of scalar parameters are still evaluated by
Python's math library, once per step, and everything else is elementwise arithmetic.

>>> from stochopt import schedules
>>> eta = schedules.polynomial(0.5, b=1.0, p=0.75)
>>> round(eta(0), 6), round(eta(15), 6)
(0.5, 0.0625)
>>> str(eta.formula())
'0.5/(k + 1.0)**(3/4)'
"""
from __future__ import annotations

import hashlib
import json
import math
import types

import numpy as np

from . import streams
from ._checks import NONNEGATIVE, POSITIVE, Interval, check_int, check_real

__all__ = [
    "Schedule",
    "constant",
    "polynomial",
    "step_decay",
    "cosine",
    "warmup",
    "coupled",
    "randomized",
    "as_schedule",
    "K",
]


def _symbol():
    import sympy

    return sympy.Symbol("k", integer=True, nonnegative=True)


#: The sympy symbol used for the step counter in ``Schedule.formula()``.
K = None  # filled lazily by ``k_symbol()`` so that importing stochopt does not import sympy


def k_symbol():
    """The sympy symbol ``k`` (integer, nonnegative) used by every ``formula()``."""
    global K
    if K is None:
        K = _symbol()
    return K


def _pick(value, replica):
    if np.ndim(value) == 0:
        return float(value)
    if replica is None:
        raise ValueError("this schedule has per-replica parameters: call formula(replica=r)")
    return float(np.asarray(value)[replica])


class Schedule:
    """Base class: a pure function of the step counter k.

    Subclasses implement ``_value(k)`` (deterministic) and ``_formula(replica)``; random
    schedules override ``__call__`` and take the replica ids.
    """

    random = False
    #: size of the per-replica axis of the values, or None for scalar values
    replicas: int | None = None

    def __call__(self, k: int, replica_ids=None):
        return self._value(k)

    def _value(self, k: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def formula(self, replica: int | None = None):
        """The schedule as a sympy expression in ``k`` (see ``k_symbol()``)."""
        return self._formula(replica)

    def _formula(self, replica):  # pragma: no cover - abstract
        raise NotImplementedError

    def values(self, ks, replica_ids=None) -> np.ndarray:
        """Values at the steps ``ks`` stacked on a leading axis: shape (len(ks),) or (len(ks), R).

        An integer ``ks`` means the steps 0 .. ks-1 (for plots and sums). Each row equals
        ``self(k, replica_ids)`` bit for bit.

        >>> from stochopt import schedules
        >>> schedules.polynomial(1.0).values([0, 1, 3]).tolist()
        [1.0, 0.5, 0.25]
        """
        if isinstance(ks, (int, np.integer)) and not isinstance(ks, bool):
            ks = np.arange(int(ks), dtype=np.int64)
        ks = np.asarray(ks)
        if ks.ndim != 1 or (ks.size and (ks.dtype.kind not in "iu" or ks.min() < 0)):
            raise ValueError(f"ks must be a 1-D array of step counts k >= 0; got {ks!r}")
        return self._block(ks.astype(np.int64, copy=False), replica_ids)

    def _block(self, ks: np.ndarray, replica_ids) -> np.ndarray:
        """Values at the steps ``ks`` (int64, 1-D); subclasses vectorise where it is exact."""
        return _stack_per_step(self, ks, replica_ids)

    def to_dict(self) -> dict:
        """JSON-able description (for trace metadata)."""
        out = {"schedule": type(self).__name__.lower()}
        for key, val in vars(self).items():
            if key.startswith("_"):
                continue
            if isinstance(val, Schedule):
                out[key] = val.to_dict()
            elif isinstance(val, np.ndarray):
                out[key] = val.tolist()
            else:
                out[key] = val
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


def _replicas(*values) -> int | None:
    from ._checks import replica_count

    return replica_count(*values)


def _stack_per_step(schedule, ks, replica_ids) -> np.ndarray:
    """``schedule(k)`` for each k, checked to be a real scalar or 1-D array of one shape.

    A scalar at some steps and a per-replica array (one value per replica) at others is allowed:
    the scalar then holds for every replica (e.g. theta_0 = 1 before a random stepsize starts).
    """
    rows, shapes = [], set()
    for k in ks.tolist():
        try:
            raw = schedule(k, replica_ids)
        except Exception as exc:  # a user's function: say where it failed
            raise ValueError(f"the schedule failed at step k = {k}: {type(exc).__name__}: {exc}") from exc
        value = np.asarray(raw)
        if value.dtype.kind not in "iuf":
            raise ValueError(f"the schedule gives {raw!r} at step k = {k}, not a real number or array of them")
        value = value.astype(float, copy=False)
        arrays = shapes - {()}
        if replica_ids is not None and np.ndim(replica_ids) == 1:
            arrays = arrays | {(len(replica_ids),)}
        if value.ndim > 1 or (value.ndim == 1 and arrays and value.shape not in arrays):
            expected = ("a scalar or a 1-D array" if not arrays
                        else f"a scalar or shape {sorted(arrays)[0]} (one value per replica)")
            raise ValueError(f"the schedule gives an array of shape {value.shape} at step k = {k}; expected {expected}")
        shapes.add(value.shape)
        rows.append(value)
    if not rows:
        return np.zeros((0,))
    arrays = shapes - {()}
    if arrays:
        shape = arrays.pop()
        rows = [np.broadcast_to(r, shape) for r in rows]
    return np.stack(rows)


def _column(values: np.ndarray, *params) -> np.ndarray:
    """A per-step vector (B,) as a column (B, 1) when some parameter is per replica (R,)."""
    if values.ndim == 1 and any(np.ndim(p) == 1 for p in params):
        return values[:, None]
    return values


def _per_step_scalar(fn, ks: np.ndarray) -> np.ndarray:
    """``fn(k)`` (a Python float) for each k: scalar pow/cos stay Python's, as in ``__call__``."""
    return np.array([fn(k) for k in ks.tolist()], dtype=float)


class Constant(Schedule):
    def __init__(self, value):
        self.value = check_real("value", value)
        self.replicas = _replicas(self.value)

    def _value(self, k):
        return self.value

    def _block(self, ks, replica_ids):
        if np.ndim(self.value) == 0:
            return np.full(ks.shape[0], self.value)
        return np.repeat(self.value[None, :], ks.shape[0], axis=0)

    def _formula(self, replica):
        import sympy

        return sympy.Float(_pick(self.value, replica))


class Polynomial(Schedule):
    def __init__(self, a, b=1.0, p=1.0):
        self.a = check_real("a", a, POSITIVE)
        self.b = check_real("b", b, POSITIVE)
        self.p = check_real("p", p, NONNEGATIVE)
        self.replicas = _replicas(self.a, self.b, self.p)

    def _value(self, k):
        return self.a / (k + self.b) ** self.p

    def _block(self, ks, replica_ids):
        if np.ndim(self.b) == 0 and np.ndim(self.p) == 0:
            b, p = self.b, self.p
            denominator = _column(_per_step_scalar(lambda k: (k + b) ** p, ks), self.a)
        else:
            denominator = (ks[:, None] + self.b) ** self.p
        return self.a / denominator

    def _formula(self, replica):
        import sympy

        return sympy.Float(_pick(self.a, replica)) / (k_symbol() + sympy.Float(_pick(self.b, replica))) ** _exact(
            _pick(self.p, replica)
        )


def _exact(value: float):
    """A float as an exact sympy number when it is a simple fraction (so limits are decidable)."""
    import sympy

    frac = sympy.Rational(value).limit_denominator(1000)
    if abs(float(frac) - value) < 1e-15 * max(1.0, abs(value)):
        return frac
    return sympy.Float(value)


class StepDecay(Schedule):
    def __init__(self, initial, factor, every):
        self.initial = check_real("initial", initial, POSITIVE)
        self.factor = check_real("factor", factor, Interval(0.0, 1.0, low_closed=False))
        self.every = check_int("every", every, low=1)
        self.replicas = _replicas(self.initial, self.factor)

    def _value(self, k):
        return self.initial * self.factor ** (k // self.every)

    def _block(self, ks, replica_ids):
        # one evaluation per distinct exponent, by the same expression as __call__
        exponents, where = np.unique(ks // self.every, return_inverse=True)
        powers = [np.asarray(self.factor ** int(e), dtype=float) for e in exponents.tolist()]
        return _column(np.stack(powers)[where], self.initial) * self.initial

    def _formula(self, replica):
        import sympy

        return sympy.Float(_pick(self.initial, replica)) * _exact(_pick(self.factor, replica)) ** sympy.floor(
            k_symbol() / self.every
        )


class Cosine(Schedule):
    def __init__(self, initial, total_steps, final=0.0):
        self.initial = check_real("initial", initial, POSITIVE)
        self.total_steps = check_int("total_steps", total_steps, low=1)
        self.final = check_real("final", final, NONNEGATIVE)
        self.replicas = _replicas(self.initial, self.final)

    def _value(self, k):
        return self.final + 0.5 * (self.initial - self.final) * (1.0 + self._cos(k))

    def _cos(self, k):
        return math.cos(math.pi * (min(k, self.total_steps) / self.total_steps))

    def _block(self, ks, replica_ids):
        cos = _column(_per_step_scalar(self._cos, ks), self.initial, self.final)
        return self.final + 0.5 * (self.initial - self.final) * (1.0 + cos)

    def _formula(self, replica):
        import sympy

        k = k_symbol()
        lo, hi = sympy.Float(_pick(self.final, replica)), sympy.Float(_pick(self.initial, replica))
        inside = lo + (hi - lo) * (1 + sympy.cos(sympy.pi * k / self.total_steps)) / 2
        return sympy.Piecewise((inside, k <= self.total_steps), (lo, True))


class Warmup(Schedule):
    def __init__(self, schedule, warmup_steps):
        self.schedule = as_schedule("schedule", schedule, POSITIVE)
        self.warmup_steps = check_int("warmup_steps", warmup_steps, low=1)
        self.replicas = self.schedule.replicas
        self.random = self.schedule.random

    def __call__(self, k, replica_ids=None):
        return self.schedule(k, replica_ids) * min(1.0, (k + 1) / self.warmup_steps)

    def _block(self, ks, replica_ids):
        inner = self.schedule._block(ks, replica_ids)
        ramp = np.minimum(1.0, (ks + 1) / self.warmup_steps)
        return inner * (ramp[:, None] if inner.ndim == 2 else ramp)

    def _formula(self, replica):
        import sympy

        k = k_symbol()
        inner = self.schedule.formula(replica)
        return sympy.Piecewise((inner * (k + 1) / self.warmup_steps, k + 1 < self.warmup_steps), (inner, True))


class Coupled(Schedule):
    """theta_k = min(cap, tau * eta_k): the single-timescale coupling of the framework."""

    def __init__(self, schedule, tau, cap=None):
        self.schedule = as_schedule("schedule", schedule, POSITIVE)
        self.tau = check_real("tau", tau, POSITIVE)
        self.cap = None if cap is None else check_real("cap", cap, POSITIVE)
        self.replicas = _replicas(self.tau, *(() if self.cap is None else (self.cap,)))
        self.replicas = self.replicas or self.schedule.replicas
        self.random = self.schedule.random

    def __call__(self, k, replica_ids=None):
        value = self.tau * self.schedule(k, replica_ids)
        if self.cap is None:
            return value
        return np.minimum(self.cap, value) if np.ndim(value) or np.ndim(self.cap) else min(self.cap, value)

    def _block(self, ks, replica_ids):
        value = self.tau * _column(self.schedule._block(ks, replica_ids), self.tau, self.cap)
        return value if self.cap is None else np.minimum(self.cap, value)

    def _formula(self, replica):
        import sympy

        expr = sympy.Float(_pick(self.tau, replica)) * self.schedule.formula(replica)
        return expr if self.cap is None else sympy.Min(sympy.Float(_pick(self.cap, replica)), expr)


class Randomized(Schedule):
    """eta_k = eta_bar_k * zeta_{k, r}, zeta i.i.d. uniform on [low, high], 0 < low < high."""

    random = True

    def __init__(self, envelope, low=0.5, high=1.5, seed=0):
        self.envelope = as_schedule("envelope", envelope, POSITIVE)
        self.low = check_real("low", low, POSITIVE, allow_array=False)
        self.high = check_real("high", high, POSITIVE, allow_array=False)
        if not self.high > self.low:
            raise ValueError(f"high must be larger than low (zeta is uniform on [low, high]); got [{low}, {high}]")
        self.seed = check_int("seed", seed, low=0)
        self.replicas = self.envelope.replicas

    def __call__(self, k, replica_ids=None):
        ids = np.zeros(1, dtype=np.int64) if replica_ids is None else np.asarray(replica_ids)
        zeta = self.low + (self.high - self.low) * streams.uniform(self.seed, streams.STEPSIZE, ids, k)
        value = self.envelope(k, replica_ids) * zeta
        return float(value[0]) if replica_ids is None and np.ndim(value) == 1 and value.size == 1 else value

    def _block(self, ks, replica_ids):
        ids = np.zeros(1, dtype=np.int64) if replica_ids is None else np.asarray(replica_ids)
        zeta = self.low + (self.high - self.low) * streams.uniform(self.seed, streams.STEPSIZE, ids[None, :],
                                                                   ks[:, None])
        envelope = self.envelope._block(ks, replica_ids)
        value = (envelope[:, None] if envelope.ndim == 1 else envelope) * zeta
        return value[:, 0] if replica_ids is None and value.shape[1] == 1 else value

    def _formula(self, replica):
        raise ValueError(
            "a randomized schedule has no formula; check its deterministic envelope "
            "(schedule.envelope.formula()) with the bounds low and high"
        )


def constant(value) -> Schedule:
    """eta_k = value (a float, or an (R,) array of per-replica values)."""
    return Constant(value)


def polynomial(a, b=1.0, p=1.0) -> Schedule:
    """eta_k = a / (k + b)^p; with p in (1/2, 1] it satisfies sum eta = inf, sum eta^2 < inf."""
    return Polynomial(a, b, p)


def step_decay(initial, factor, every) -> Schedule:
    """eta_k = initial * factor^floor(k / every)."""
    return StepDecay(initial, factor, every)


def cosine(initial, total_steps, final=0.0) -> Schedule:
    """Cosine annealing from ``initial`` to ``final`` over ``total_steps``, then ``final``."""
    return Cosine(initial, total_steps, final)


def warmup(schedule, warmup_steps) -> Schedule:
    """Linear warm-up: schedule(k) * min(1, (k + 1) / warmup_steps)."""
    return Warmup(schedule, warmup_steps)


def coupled(schedule, tau, cap=None) -> Schedule:
    """theta_k = tau * eta_k (single timescale), optionally capped: min(cap, tau * eta_k)."""
    return Coupled(schedule, tau, cap)


def randomized(envelope, low=0.5, high=1.5, seed=0) -> Schedule:
    """Random stepsizes eta_bar_k * zeta_{k,r}, zeta i.i.d. uniform on [low, high] per replica."""
    return Randomized(envelope, low, high, seed)


def as_schedule(name: str, value, interval: Interval = POSITIVE) -> Schedule:
    """Coerce a float, an (R,) array or a Schedule into a checked Schedule.

    The value at k = 0 must be finite, in ``interval``, and a scalar or an (R,) array.
    """
    if isinstance(value, Schedule):
        sched = value
        try:
            first = sched(0, np.arange(sched.replicas or 1)) if sched.random else sched(0)
        except Exception as exc:
            raise ValueError(f"{name}: the schedule failed at k = 0: {exc}") from exc
        check_real(f"{name} (schedule value at k = 0)", first, interval)
        return sched
    if callable(value):
        raise TypeError(
            f"{name} must be a float, an (R,) array or a stochopt.schedules.Schedule; got the callable {value!r}. "
            "Wrap a function of k with schedules.from_function(fn, formula=None)"
        )
    return Constant(check_real(name, value, interval))


class FromFunction(Schedule):
    """A user function of k; ``formula`` is an optional sympy expression in ``k_symbol()``.

    ``key`` (a string) names the function for resume checks; without it the function is
    identified by ``function_identity(fn)``.
    """

    def __init__(self, fn, formula=None, key=None):
        if not callable(fn):
            raise TypeError(f"fn must be a function of the step k; got {fn!r}")
        if key is not None and not isinstance(key, str):
            raise TypeError(f"key must be a string naming the function; got {key!r}")
        self.fn = fn
        self._expr = formula
        self._key = key
        self._replicas = None

    @property
    def replicas(self):
        if self._replicas is None:
            value = np.asarray(self.fn(0), dtype=float)
            self._replicas = (value.shape[0],) if value.ndim == 1 else ()
        return self._replicas[0] if self._replicas else None

    def _value(self, k):
        value = self.fn(k)
        return float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=float)

    def _formula(self, replica):
        if self._expr is None:
            raise ValueError("this schedule was built from a function without a formula")
        return self._expr

    def to_dict(self):
        out = {"schedule": "fromfunction", "fn": getattr(self.fn, "__qualname__", type(self.fn).__name__)}
        if self._key is not None:
            out["key"] = self._key
        else:
            out.update(function_identity(self.fn))
        return out


def from_function(fn, formula=None, key=None) -> Schedule:
    """Wrap a pure function of k (returning a float or an (R,) array) as a Schedule.

    A run resumed from a trace checks that the function is the same one: by ``key`` when given
    (a string you choose, e.g. ``"lr0=0.05 halved every 100"``), otherwise by
    ``function_identity(fn)``.

    >>> from stochopt import schedules
    >>> s = schedules.from_function(lambda k: 0.1 / (k + 1))
    >>> s(1), s.to_dict()["unverified"]
    (0.05, [])
    """
    return FromFunction(fn, formula, key)


def function_identity(fn) -> dict:
    """How a function given to ``from_function`` is recognised again when a run is resumed.

    ``sha256`` hashes what determines the function's values: its bytecode, constants and
    names (not its file or line numbers, so moving the code does not change it), its default
    arguments, and the values it reads from its closure or its module's globals: numbers,
    strings, arrays and schedules by value, modules by name, functions recursively. Anything
    else it reads (an arbitrary object, a callable instance) cannot be compared; its name is
    listed under ``unverified`` and a resume warns about it. Pass ``key=`` to name the function
    yourself instead.

    >>> a = function_identity(lambda k: 0.05); b = function_identity(lambda k: 0.5)
    >>> a["sha256"] != b["sha256"], a["unverified"]
    (True, [])
    """
    digest = hashlib.sha256()
    unverified: list = []
    _feed_identity(digest, fn, "fn", unverified, set())
    return {"sha256": digest.hexdigest()[:32], "unverified": sorted(set(unverified))}


_PLAIN = (bool, int, float, complex, str, bytes, type(None), np.generic)


def _feed_identity(digest, obj, label: str, unverified: list, seen: set) -> None:
    """Add ``obj`` to ``digest`` (see ``function_identity``); ``label`` names it in ``unverified``."""
    if isinstance(obj, _PLAIN):
        digest.update(repr((type(obj).__name__, obj)).encode())
    elif isinstance(obj, (tuple, list, frozenset)):
        digest.update(f"{type(obj).__name__}{len(obj)}".encode())
        for i, item in enumerate(sorted(obj, key=repr) if isinstance(obj, frozenset) else obj):
            _feed_identity(digest, item, f"{label}[{i}]", unverified, seen)
    elif isinstance(obj, np.ndarray) and obj.dtype != object:
        digest.update(f"array{obj.dtype.str}{obj.shape}".encode() + np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, types.ModuleType):
        digest.update(f"module {obj.__name__}".encode())
    elif isinstance(obj, Schedule):
        digest.update(json.dumps(obj.to_dict(), sort_keys=True, default=str).encode())
    elif isinstance(obj, types.CodeType):
        digest.update(obj.co_code + repr((obj.co_names, obj.co_varnames, obj.co_freevars)).encode())
        for const in obj.co_consts:
            _feed_identity(digest, const, label, unverified, seen)
    elif isinstance(obj, types.FunctionType):
        _feed_function(digest, obj, label, unverified, seen)
    elif isinstance(obj, (types.BuiltinFunctionType, np.ufunc)):
        digest.update(f"builtin {getattr(obj, '__module__', '')}.{obj.__name__}".encode())
    else:
        digest.update(f"object {type(obj).__qualname__}".encode())
        unverified.append(label)


def _feed_function(digest, fn, label: str, unverified: list, seen: set) -> None:
    if id(fn) in seen:
        digest.update(b"(recursive)")
        return
    seen.add(id(fn))
    code = fn.__code__
    _feed_identity(digest, code, label, unverified, seen)
    _feed_identity(digest, fn.__defaults__, f"{label} defaults", unverified, seen)
    _feed_identity(digest, tuple(sorted((fn.__kwdefaults__ or {}).items())), f"{label} defaults", unverified, seen)
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell: a name assigned after the function was made
            value = None
        _feed_identity(digest, value, name, unverified, seen)
    for name in sorted(_global_names(code)):
        if name in fn.__globals__:
            digest.update(name.encode())
            _feed_identity(digest, fn.__globals__[name], name, unverified, seen)


def _global_names(code: types.CodeType) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


__all__.append("from_function")
__all__.append("function_identity")
__all__.append("k_symbol")
