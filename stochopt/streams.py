"""Counter-based random streams.

A draw is a pure function of (seed, stream, counters...), e.g. (seed, BATCH, replica, step, j).
Nothing is carried from one draw to the next, so a replica's randomness does not depend on how
many replicas run beside it, and a run can be resumed at any step with the same numbers. The
engine draws a whole block of steps at once (counters (replica, k, j) broadcast to (B, R, b));
the numbers are the same as one step at a time, because each one depends on its counters only.

The hash chains the SplitMix64 finalizer (Steele, Lea, Flood 2014) over the counters: each
counter is added to the running hash with a Weyl increment and mixed again.

>>> import numpy as np
>>> from stochopt import streams
>>> block = streams.integers(10, 0, streams.BATCH, np.arange(3)[:, None], np.arange(4)[None, :])
>>> bool(np.array_equal(block[:, 2], streams.integers(10, 0, streams.BATCH, np.arange(3), 2)))
True
"""
from __future__ import annotations

import numpy as np

# Stream identifiers: one per use, so that different uses never share numbers.
BATCH = 1
STEPSIZE = 2
START = 3
NOISE = 4
USER = 16  # first identifier free for callers

_MASK = (1 << 64) - 1
_GOLDEN_INT = 0x9E3779B97F4A7C15
_M1_INT = 0xBF58476D1CE4E5B9
_M2_INT = 0x94D049BB133111EB
_GOLDEN = np.uint64(_GOLDEN_INT)
_M1 = np.uint64(_M1_INT)
_M2 = np.uint64(_M2_INT)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def _mix_int(z: int) -> int:
    """The finalizer on a Python integer (scalar seeds and counters cost no NumPy call)."""
    z = ((z ^ (z >> 30)) * _M1_INT) & _MASK
    z = ((z ^ (z >> 27)) * _M2_INT) & _MASK
    return z ^ (z >> 31)


def _mix_inplace(z: np.ndarray, tmp: np.ndarray) -> None:
    """The finalizer in place on a uint64 buffer ``z`` (``tmp``: scratch of the same shape)."""
    np.right_shift(z, _S30, out=tmp)
    z ^= tmp
    z *= _M1
    np.right_shift(z, _S27, out=tmp)
    z ^= tmp
    z *= _M2
    np.right_shift(z, _S31, out=tmp)
    z ^= tmp


def _counter(value):
    """A counter as a Python int in [0, 2**64) or a uint64 array; negative or non-integer refused."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = int(value)
        if not 0 <= value <= _MASK:
            raise ValueError(f"stream counters and seeds must be integers in [0, 2**64 - 1]; got {value}")
        return value
    arr = np.asarray(value)
    if arr.dtype.kind == "i":
        if arr.size and arr.min() < 0:
            raise ValueError("stream counters and seeds must be non-negative integers")
        return arr.astype(np.uint64)
    if arr.dtype.kind == "u":
        return arr.astype(np.uint64, copy=False)
    raise TypeError(f"stream counters and seeds must be integers in [0, 2**64 - 1]; got dtype {arr.dtype}")


def hash64(seed, stream: int, *counters) -> np.ndarray:
    """64-bit hash of (seed, stream, *counters); counters broadcast against each other.

    Leading scalar counters are hashed with Python integers; from the first array counter on,
    the hash is updated in place in one buffer per broadcast shape.

    >>> int(hash64(0, 1, 2)) == int(hash64(0, 1, np.array([2]))[0])
    True
    """
    seed = _counter(seed)
    if isinstance(seed, int):
        h = _mix_int((seed * _GOLDEN_INT + int(stream)) & _MASK)
    else:
        with np.errstate(over="ignore"):
            h = _mix(seed * _GOLDEN + np.uint64(stream))
    for c in counters:
        c = _counter(c)
        if isinstance(h, int) and isinstance(c, int):
            h = _mix_int((h + (c + 1) * _GOLDEN_INT) & _MASK)
            continue
        # h + (c + 1) G = c G + (h + G), mod 2**64
        shape = np.broadcast_shapes(np.shape(h), np.shape(c))
        out = np.empty(shape, dtype=np.uint64)
        out[...] = c
        out *= _GOLDEN
        out += (h + _GOLDEN_INT) & _MASK if isinstance(h, int) else h + _GOLDEN
        _mix_inplace(out, np.empty_like(out))
        h = out
    return np.uint64(h) if isinstance(h, int) else h


def _unit(h: np.ndarray) -> np.ndarray:
    """Uniform float64 numbers in (0, 1) from the top 53 bits of ``h``."""
    u = (h >> _S11).astype(np.float64)
    u += 0.5
    u *= 2.0**-53
    return u


def uniform(seed, stream: int, *counters) -> np.ndarray:
    """Uniform float64 numbers in the open interval (0, 1).

    >>> u = uniform(0, USER, np.arange(4)); bool(((0 < u) & (u < 1)).all())
    True
    """
    return _unit(hash64(seed, stream, *counters))


def integers(high: int, seed, stream: int, *counters) -> np.ndarray:
    """Integers uniform on {0, ..., high - 1} (modulo bias below high / 2**64).

    >>> integers(5, 0, BATCH, np.arange(6)).tolist()
    [0, 0, 2, 4, 0, 0]
    """
    h = hash64(seed, stream, *counters)
    if np.ndim(h) == 0:
        return np.int64(int(h) % int(high))
    h %= np.uint64(high)
    return h.view(np.int64)


def normal(seed, stream: int, *counters) -> np.ndarray:
    """Standard normal numbers (Box-Muller on two independent uniform draws).

    >>> normal(0, USER, np.arange(3)).shape
    (3,)
    """
    h = hash64(seed, stream, *counters)
    with np.errstate(over="ignore"):
        u1 = _unit(_mix(h ^ np.uint64(1)))
        u2 = _unit(_mix(h ^ np.uint64(2)))
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
