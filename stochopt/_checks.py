"""Validation of user input, done once at construction so that runs never fail half-way.

Every error names the parameter and the accepted range, so that the message tells the fix.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A real interval such as [0, 1) used to describe the accepted range of a parameter."""

    low: float = -math.inf
    high: float = math.inf
    low_closed: bool = True
    high_closed: bool = True

    def contains(self, values: np.ndarray) -> np.ndarray:
        above = values >= self.low if self.low_closed else values > self.low
        below = values <= self.high if self.high_closed else values < self.high
        return above & below

    def __str__(self) -> str:
        left = "[" if self.low_closed and math.isfinite(self.low) else "("
        right = "]" if self.high_closed and math.isfinite(self.high) else ")"
        return f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"


def _fmt(v: float) -> str:
    if v == math.inf:
        return "inf"
    if v == -math.inf:
        return "-inf"
    return f"{v:g}"


POSITIVE = Interval(0.0, math.inf, low_closed=False)
NONNEGATIVE = Interval(0.0, math.inf)
UNIT_HALF_OPEN = Interval(0.0, 1.0, high_closed=False)  # [0, 1): momentum, betas
UNIT_CLOSED = Interval(0.0, 1.0)
UNIT_LEFT_OPEN = Interval(0.0, 1.0, low_closed=False)  # (0, 1]: momentum stepsize theta
REAL = Interval()


def check_real(name: str, value, interval: Interval = REAL, *, allow_array: bool = True):
    """Return ``value`` as a Python float or a 1-D float64 array of per-replica values.

    Raises ``TypeError`` for non-numbers and ``ValueError`` for values outside ``interval``,
    wrong shapes or non-finite entries, each naming ``name`` and the accepted range.
    """
    if isinstance(value, bool) or value is None:
        raise TypeError(f"{name} must be a real number in {interval}; got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        arr = np.asarray(float(value))
    else:
        try:
            arr = np.asarray(value)
        except Exception as exc:  # pragma: no cover - exotic objects
            raise TypeError(f"{name} must be a real number in {interval}; got {value!r}") from exc
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)) or np.iscomplexobj(arr):
            raise TypeError(f"{name} must be a real number in {interval} (or an array of them); got {value!r}")
        arr = arr.astype(np.float64)
    if arr.ndim > 1 or (arr.ndim == 1 and not allow_array):
        shape = "a scalar" if not allow_array else "a scalar or a 1-D array of per-replica values (shape (R,))"
        raise ValueError(f"{name} must be {shape}; got shape {arr.shape}")
    if arr.ndim == 1 and arr.size == 0:
        raise ValueError(f"{name} must not be an empty array")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite and in {interval}; got {value!r}")
    if not np.all(interval.contains(arr)):
        raise ValueError(f"{name} must be in {interval}; got {value!r}")
    return float(arr) if arr.ndim == 0 else arr.copy()


def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int in [low, high], or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}]; got {value}")
    return value


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise list the choices and close matches."""
    choices = list(choices)
    if value in choices:
        return value
    raise ValueError(unknown_name_message(name, value, choices))


def unknown_name_message(what: str, value, choices) -> str:
    import difflib

    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown {what} {value!r}.{hint} Accepted: {', '.join(repr(c) for c in choices)}"


def as_float_array(name: str, x) -> np.ndarray:
    """Accept a float array of shape (d,) or (R, d); reject integer, complex and object arrays."""
    arr = np.asarray(x)
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(
            f"{name} must be a float array (float64 by default); got dtype {arr.dtype}. "
            f"Convert it first, e.g. np.asarray({name}, dtype=float)"
        )
    if arr.ndim not in (1, 2) or arr.shape[-1] == 0:
        raise ValueError(f"{name} must have shape (d,) or (R, d) with d >= 1; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got non-finite entries")
    return arr


def replica_count(*values) -> int | None:
    """The common replica count R of per-replica (R,) values, or None when all are scalar."""
    sizes = {np.shape(v)[0] for v in values if np.ndim(v) == 1}
    if len(sizes) > 1:
        raise ValueError(f"per-replica hyperparameters disagree on the number of replicas: {sorted(sizes)}")
    return sizes.pop() if sizes else None


def check_tuple(name: str, value, parts, what: str = "each in [0, 1)") -> tuple:
    """``value`` as a tuple with one entry per name in ``parts`` (``betas=(beta1, beta2)``), or raise.

    Only the shape is checked here; each entry is then validated under its own name
    (``beta2``) like any hyperparameter (a float, an (R,) array or a Schedule).

    >>> check_tuple("betas", (0.9, 0.999), ("beta1", "beta2"))
    (0.9, 0.999)
    >>> check_tuple("betas", 0.9, ("beta1", "beta2"))
    Traceback (most recent call last):
    ...
    ValueError: betas must be a pair (beta1, beta2), each in [0, 1); got 0.9
    """
    parts = tuple(parts)
    if not isinstance(value, (tuple, list)) or len(value) != len(parts):
        kind = {2: "a pair", 3: "a triple"}.get(len(parts), f"a tuple of {len(parts)}")
        raise ValueError(f"{name} must be {kind} ({', '.join(parts)}), {what}; got {value!r}")
    return tuple(value)


def renamed_argument(new: str, new_value, old: str, old_value, default):
    """The value of a renamed keyword: the new one, or the old one with a DeprecationWarning.

    ``old_value`` is None when the caller did not use the old name. Passing both is an error.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     renamed_argument("extra_gradient", 0.0, "nesterov", 0.5, default=0.0), caught[0].category.__name__
    (0.5, 'DeprecationWarning')
    """
    if old_value is None:
        return new_value
    if new_value is not default and not (np.ndim(new_value) == 0 and np.ndim(default) == 0 and new_value == default):
        raise TypeError(f"pass {new} only ({old} is its former name); got both")
    import warnings

    warnings.warn(f"{old} is deprecated; use {new} (same meaning)", DeprecationWarning, stacklevel=3)
    return old_value
