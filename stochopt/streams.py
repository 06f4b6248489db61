"""Counter-based random streams.

A draw is a pure function of (seed, stream, counters...), e.g. (seed, BATCH, replica, step, j).
Nothing is carried from one draw to the next, so a replica's randomness does not depend on how
many replicas run beside it, and a run can be resumed at any step with the same numbers.

The hash chains the SplitMix64 finalizer (Steele, Lea, Flood 2014) over the counters: each
counter is added to the running hash with a Weyl increment and mixed again.
"""
from __future__ import annotations

import numpy as np

# Stream identifiers: one per use, so that different uses never share numbers.
BATCH = 1
STEPSIZE = 2
START = 3
NOISE = 4
USER = 16  # first identifier free for callers

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def _u64(value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind == "i":
        if np.any(arr < 0):
            raise ValueError("stream counters and seeds must be non-negative integers")
        return arr.astype(np.uint64)
    if arr.dtype.kind == "u":
        return arr.astype(np.uint64)
    raise TypeError(f"stream counters and seeds must be integers; got dtype {arr.dtype}")


def hash64(seed, stream: int, *counters) -> np.ndarray:
    """64-bit hash of (seed, stream, *counters); counters broadcast against each other."""
    with np.errstate(over="ignore"):
        h = _mix(_u64(seed) * _GOLDEN + np.uint64(stream))
        for c in counters:
            h = _mix(h + (_u64(c) + np.uint64(1)) * _GOLDEN)
    return h


def uniform(seed, stream: int, *counters) -> np.ndarray:
    """Uniform float64 numbers in the open interval (0, 1)."""
    h = hash64(seed, stream, *counters)
    return ((h >> _S11).astype(np.float64) + 0.5) * 2.0**-53


def integers(high: int, seed, stream: int, *counters) -> np.ndarray:
    """Integers uniform on {0, ..., high - 1} (modulo bias below high / 2**64)."""
    h = hash64(seed, stream, *counters)
    return (h % np.uint64(high)).astype(np.int64)


def normal(seed, stream: int, *counters) -> np.ndarray:
    """Standard normal numbers (Box-Muller on two independent uniform draws)."""
    h = hash64(seed, stream, *counters)
    u1 = ((_mix(h ^ np.uint64(1)) >> _S11).astype(np.float64) + 0.5) * 2.0**-53
    u2 = ((_mix(h ^ np.uint64(2)) >> _S11).astype(np.float64) + 0.5) * 2.0**-53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
