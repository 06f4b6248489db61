"""The batched run engine: R replicas of one method on one problem, in lock-step.

``run`` validates everything once (``run_config.make_config``), then moves all replicas one
step at a time with a constant number of NumPy calls per step, whatever R is: one oracle call,
the method's update rule, one reduction per state array to check finiteness. What does not
depend on the iterate is prepared a block of steps at a time: each replica's minibatch indices
(a counter-based stream keyed by (seed, replica id, k, j)) and the hyperparameter values, which
are checked for every step (range, shape, finiteness) before the first step is taken.

A replica whose iterate or buffers become non-finite, or whose f(x) is not finite at a record,
is frozen at its last finite state and reported; the others continue. Because every random
number is a pure function of (seed, replica id, k, ...), a replica's trajectory does not depend
on how many replicas run beside it, and a run resumed from a saved trace is bit-identical to an
uninterrupted one.

>>> import numpy as np, stochopt
>>> class Quadratic:                       # any object with value, oracle, n_samples
...     n_samples, x0 = 1, np.ones(2)
...     def value(self, x): return 0.5 * np.sum(x * x, axis=-1)
...     def oracle(self, x, idx): return x.copy()
>>> trace = stochopt.run(stochopt.sgd(lr=0.5), Quadratic(), steps=4, replicas=3, batch_size=1, record_every=2)
>>> trace.k.tolist(), trace.value[-1].round(6).tolist()
([0, 2, 4], [0.003906, 0.003906, 0.003906])
"""
from __future__ import annotations

import math
import sys
import time as _time
import types
import warnings
from dataclasses import dataclass

import numpy as np

from . import streams
from ._checks import current_names, check_schedule_block
from .base import State
from .problem_calls import ProblemCalls
from .run_config import RunConfig, make_config
from .schedules import Constant
from .trace import Trace, atomic_write

__all__ = ["run", "Trace", "freeze_diverged", "atomic_write"]

# A block of steps shares one draw of minibatch indices and one evaluation of the schedules.
MAX_BLOCK = 512
# ... and holds at most about this many minibatch indices (2 MiB of int64).
_BLOCK_INDICES = 2**18
# The schedules' values for the whole run are kept from the checking pass when they fit here.
_CACHE_BYTES = 2**25


def run(opt, problem, steps: int, replicas: int = 1, seed: int = 0, batch_size: int | None = None,
        record_every: int | None = None, x0=None, x0_radius: float = 0.0, replica_ids=None, callbacks=(),
        progress: bool | None = None, resume=None, record_x: bool = True,
        checkpoint=None, checkpoint_every: int | None = None) -> Trace:
    """Run ``opt`` on ``problem`` for ``steps`` steps with ``replicas`` independent replicas.

    Parameters
    ----------
    opt : a method (``stochopt.heavy_ball(...)``).
    problem : any object with ``value(x)``, ``oracle(x, idx)`` and ``n_samples`` (and ``x0`` when
        ``x0`` is not given; ``grad(x)`` is used for full batches when present). Problems with
        ``unchecked_value/oracle/grad`` (every problem in ``problems``) are called through those
        after the first, checked, call.
    steps : total number of steps (>= 0); with ``resume``, the total including the resumed part.
    replicas : number R of replicas (>= 1); ignored when ``replica_ids`` is given.
    seed : seed of every random stream (minibatches, random starts, random stepsizes), in [0, 2**64).
    batch_size : minibatch size per replica per step, drawn with replacement; None: full batch.
    record_every : record every this many steps (and the last); default about 500 records, or the
        resumed trace's setting.
    x0 : start, shape (d,) (shared) or (R, d); default ``problem.x0``.
    x0_radius : random start x0 + uniform noise on [-x0_radius, x0_radius]^d per replica.
    replica_ids : explicit replica ids in [0, 2**63) (default 0..R-1): ``replica_ids=[5]`` reruns
        replica 5 alone.
    callbacks : functions ``cb(k, state)`` called after each recorded step (not at k = 0);
        returning True stops the run there.
    progress : show a progress bar on stderr (default: when stderr is a terminal and steps >= 2000).
    resume : a Trace (from ``run`` or ``Trace.load``), or the path of a saved one, to continue; the
        result is bit-identical to an uninterrupted run with the same arguments. Everything that
        shapes the trajectory must match the trace (method and schedules, problem and its
        parameters, seed, batch size, start, record settings); otherwise ValueError says what differs.
    record_x : record iterates (turn off for very large R * d).
    checkpoint, checkpoint_every : save the trace so far to this path every so many steps (and at
        the end). The destination is tried before the run starts.

    Before the first step, the memory the records and the state need is estimated: a run that
    cannot fit raises ValueError with the numbers (a warning when it needs more than half of
    the available memory). Hyperparameter schedules are evaluated for every step of the run and
    a value out of range, non-finite or of the wrong shape raises ValueError naming the
    hyperparameter and the step, also before the first step.
    """
    config = make_config(opt, problem, steps, replicas=replicas, seed=seed, batch_size=batch_size,
                         record_every=record_every, x0=x0, x0_radius=x0_radius, replica_ids=replica_ids,
                         callbacks=callbacks, progress=progress, resume=resume, record_x=record_x,
                         checkpoint=checkpoint, checkpoint_every=checkpoint_every)
    return _Loop(config).run()


def freeze_diverged(frozen: np.ndarray, x_old: np.ndarray, buffers_old, x_new: np.ndarray, buffers_new):
    """The new state with every frozen replica (row) kept at its old state: a pure function.

    >>> import numpy as np
    >>> x, b = freeze_diverged(np.array([False, True]), np.zeros((2, 1)), {"m": np.zeros((2, 1))},
    ...                        np.ones((2, 1)), {"m": np.full((2, 1), np.nan)})
    >>> x.ravel().tolist(), b["m"].ravel().tolist()
    ([1.0, 0.0], [nan, 0.0])
    """
    def keep(new, old):
        return np.where(frozen.reshape(frozen.shape + (1,) * (new.ndim - 1)), old, new)

    return keep(x_new, x_old), {n: keep(b, buffers_old[n]) for n, b in buffers_new.items()}


def _all_finite(x: np.ndarray, buffers, _sum=np.add.reduce, _isfinite=math.isfinite) -> bool:
    """One reduction per array: a sum is finite when every entry is (or, rarely, overflows)."""
    total = _sum(x, None)
    for b in buffers.values():
        total += _sum(b, None)
    return _isfinite(total)


def _nonfinite_rows(x: np.ndarray, buffers) -> np.ndarray:
    bad = ~np.isfinite(x).all(axis=1)
    for b in buffers.values():
        bad |= ~np.isfinite(b.reshape(b.shape[0], -1)).all(axis=1)
    return bad


@dataclass
class _Carry:
    """What the loop carries from step to step, beside the records."""

    x: np.ndarray
    buffers: dict
    k: int
    time: np.ndarray
    diverged_step: np.ndarray
    reasons: list
    frozen: np.ndarray
    any_frozen: bool

    def mark(self, rows: np.ndarray, step: int, reason: str) -> None:
        for r in np.flatnonzero(rows):  # once per diverging replica, not per step
            self.diverged_step[r] = step
            self.reasons[r] = reason
        self.frozen = self.frozen | rows
        self.any_frozen = True

    def state(self, replica_ids) -> State:
        return State(x=self.x, k=self.k, buffers=types.MappingProxyType(dict(self.buffers)), replica_ids=replica_ids)


def _start(config: RunConfig) -> _Carry:
    """The carry at the first step: from the start point (and random radius) or the resumed trace."""
    R = config.replicas
    trace = config.resume
    if trace is not None:
        fs = trace.final_state
        return _Carry(np.array(fs.x), {n: np.array(v) for n, v in fs.buffers.items()}, int(fs.k),
                      np.array(trace.final_time, dtype=float), np.array(trace.diverged_step),
                      list(trace.diverged_reason), trace.diverged_step >= 0, bool(np.any(trace.diverged_step >= 0)))
    x0 = config.x0
    if config.x0_radius > 0:
        coords = np.arange(x0.shape[1], dtype=np.int64)
        u = streams.uniform(config.seed, streams.START, config.replica_ids[:, None], coords[None, :])
        x0 = x0 + (config.x0_radius * (2.0 * u - 1.0)).astype(x0.dtype)
    state = config.opt.init(x0, replica_ids=config.replica_ids)
    return _Carry(state.x, dict(state.buffers), 0, np.zeros(R), np.full(R, -1, dtype=np.int64), [""] * R,
                  np.zeros(R, dtype=bool), False)


@dataclass
class _Block:
    """What steps ``start .. start + size - 1`` need besides the iterate."""

    start: int
    size: int
    typed: list  # [(name, rows)]: the varying hyperparameters as the rule sees them, x's dtype
    recorded: dict  # name -> float64 rows (size + 1, ...) at k = start .. start + size
    eta: np.ndarray  # float64 (size,) or (size, R): the time increments eta_k
    idx: np.ndarray | None  # (size, R, batch) minibatch indices


class _HyperPlan:
    """Hyperparameter values for blocks of steps, every step checked before the run starts."""

    def __init__(self, config: RunConfig, dtype, block: int):
        self._hyper, self._ids, self._dtype = config.opt.hyper, config.replica_ids, dtype
        self._steps, self._R = config.steps, config.replicas
        self.time_name = config.opt.time_hyper
        constant = {n for n, hp in self._hyper.items() if isinstance(hp.schedule, Constant)}
        self.varying = [n for n in self._hyper if n not in constant]
        self.fixed = {n: self._rule_rows(self._values(n, np.zeros(1, dtype=np.int64)))[0, ...] for n in constant}
        self.bounds = [(k, min(k + block, config.steps)) for k in range(config.start, config.steps, block)]
        self._cache = self._check_all()

    def _values(self, name: str, ks: np.ndarray) -> np.ndarray:
        try:
            return self._hyper[name].schedule.values(ks, self._ids)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from exc

    def _rule_rows(self, rows: np.ndarray) -> np.ndarray:
        """Rows as the rule sees them: x's dtype, per-replica values as columns (R, 1)."""
        rows = rows.astype(self._dtype, copy=False)
        return rows[:, :, None] if rows.ndim == 2 else rows

    def evaluate(self, start: int, stop: int) -> dict:
        """float64 values at k = start .. stop (stop only recorded: NaN where the schedule ends there)."""
        ks = np.arange(start, stop, dtype=np.int64)
        out = {}
        for name in self._hyper:
            if name not in self.varying:
                value = self._hyper[name].schedule.values(np.zeros(1, dtype=np.int64), self._ids)[0]
                out[name] = np.broadcast_to(value, (stop - start + 1,) + np.shape(value))
                continue
            rows = self._values(name, ks)
            check_schedule_block(name, rows, self._hyper[name].interval, ks, self._R)
            out[name] = np.concatenate([rows, self._last_row(name, stop, rows.shape[1:])])
        return out

    def _last_row(self, name: str, k: int, shape) -> np.ndarray:
        """Values at k alone; at k = steps (recorded, never used by a step) NaN if the schedule ends there."""
        if k < self._steps:
            return self._values(name, np.array([k]))
        try:
            row = self._hyper[name].schedule.values(np.array([k]), self._ids)
        except Exception:  # noqa: BLE001 - a schedule defined for the run's steps only
            return np.full((1,) + (shape or ()), np.nan)
        return row if shape is None or row.shape[1:] == shape else np.full((1,) + shape, np.nan)

    def record_row(self, k: int) -> dict:
        """float64 values at the single step k (for a record outside any block)."""
        return {n: self._last_row(n, k, None)[0] for n in self._hyper}

    def _check_all(self) -> list | None:
        """Evaluate and check every block; keep the values when they fit in _CACHE_BYTES."""
        kept, size = [], 0
        for start, stop in self.bounds:
            values = self.evaluate(start, stop)
            size += sum(values[n].nbytes for n in self.varying)
            if kept is not None and size <= _CACHE_BYTES:
                kept.append(values)
            else:
                kept = None
        return kept

    def block(self, i: int) -> tuple:
        start, stop = self.bounds[i]
        recorded = self._cache[i] if self._cache is not None else self.evaluate(start, stop)
        typed = [(n, self._rule_rows(recorded[n][:-1])) for n in self.varying]
        return start, stop - start, typed, recorded, recorded[self.time_name][:-1]


class _Recorder:
    """The records, preallocated for the whole run (see ``run_config.estimate_memory``)."""

    def __init__(self, config: RunConfig, carry: _Carry):
        R, d = config.replicas, carry.x.shape[1]
        trace, every = config.resume, config.record_every
        kept = 0 if trace is None else len(trace.k) - (trace.k[-1] % every != 0)
        n = kept + (config.steps - config.start) // every + 3
        self.k = np.zeros(n, dtype=np.int64)
        self.x = np.empty((n, R, d), dtype=carry.x.dtype) if config.record_x else None
        self.value, self.time, self.momentum_norm = (np.empty((n, R)) for _ in range(3))
        self.hyper = {name: np.empty((n, R)) for name in config.opt.hyper}
        self.n = 0
        if trace is not None:
            self._copy_rows(trace, kept)

    def _copy_rows(self, trace: Trace, kept: int) -> None:
        self.k[:kept] = trace.k[:kept]
        if self.x is not None:
            self.x[:kept] = trace.x[:kept]
        for name in ("value", "time", "momentum_norm"):
            getattr(self, name)[:kept] = getattr(trace, name)[:kept]
        saved = current_names(trace.hyper)  # a trace saved before a keyword was renamed
        for name, rows in self.hyper.items():
            rows[:kept] = saved[name][:kept]
        self.n = kept

    def append(self, k: int, x, value, time, momentum_norm, hyper: dict) -> None:
        i = self.n
        self.k[i] = k
        if self.x is not None:
            self.x[i] = x
        self.value[i], self.time[i], self.momentum_norm[i] = value, time, momentum_norm
        for name, rows in self.hyper.items():
            rows[i] = hyper[name]
        self.n = i + 1

    def trace(self, carry: _Carry, config: RunConfig, meta: dict) -> Trace:
        n = self.n

        def cut(a):
            return None if a is None else a[:n].copy()

        return Trace(cut(self.k), cut(self.x), cut(self.value), cut(self.time),
                     {name: cut(rows) for name, rows in self.hyper.items()}, cut(self.momentum_norm),
                     carry.diverged_step.copy(), list(carry.reasons), carry.state(config.replica_ids),
                     carry.time.copy(), dict(meta))


class _Loop:
    """One run: the hot loop over blocks of steps, and what happens at records and checkpoints."""

    def __init__(self, config: RunConfig):
        self.config, self.meta = config, config.meta()
        self.carry = _start(config)
        x = self.carry.x
        batch = config.batch_size or 0
        block = max(1, min(MAX_BLOCK, _BLOCK_INDICES // max(1, config.replicas * batch)))
        self.plan = _HyperPlan(config, x.dtype, block)
        self.calls = ProblemCalls(config.problem, config.batch_size, config.replicas, x.shape[1], x.dtype)
        self.recorder = _Recorder(config, self.carry)
        self.rule = config.opt.rule
        self.h = types.SimpleNamespace(**self.plan.fixed)
        self.momentum = config.opt.momentum_buffer
        show = config.progress if config.progress is not None else (
            config.steps - config.start >= 2000 and sys.stderr.isatty())
        self.bar = _Progress(config.steps, bool(show), config.opt.name)
        self.next_event = self._next_event(self.carry.k)

    def run(self) -> Trace:
        config = self.config
        if self.recorder.n == 0:
            self._record(self.plan.record_row(config.start))
        with np.errstate(all="ignore"):
            for i in range(len(self.plan.bounds)):
                start, size, typed, recorded, eta = self.plan.block(i)
                idx = self._indices(start, size)
                if self._run_block(_Block(start, size, typed, recorded, eta, idx)):
                    break
        if self.recorder.k[self.recorder.n - 1] != self.carry.k:  # a resume that dropped an off-grid record
            self._record(self.plan.record_row(self.carry.k))
        self.bar.update(config.steps)
        trace = self.recorder.trace(self.carry, config, self.meta)
        if config.checkpoint is not None:
            _save_checkpoint(trace, config.checkpoint, final=True)
        return trace

    def _indices(self, start: int, size: int):
        c = self.config
        if c.batch_size is None:
            return None
        ks = np.arange(start, start + size, dtype=np.int64)
        return streams.integers(int(c.problem.n_samples), c.seed, streams.BATCH, c.replica_ids[None, :, None],
                                ks[:, None, None], np.arange(c.batch_size, dtype=np.int64)[None, None, :])

    def _run_block(self, block: _Block) -> bool:
        """Steps of one block; True when a callback asked to stop."""
        carry, rule, h, calls = self.carry, self.rule, self.h, self.calls
        x, buffers, k = carry.x, carry.buffers, carry.k
        dtype, idx, eta = x.dtype, block.idx, block.eta
        for j in range(block.size):
            for name, rows in block.typed:
                setattr(h, name, rows[j, ...])
            g = calls.gradient(x, None if idx is None else idx[j])
            if g.dtype != dtype:
                g = g.astype(dtype)
            x_new, buffers_new = rule(x, buffers, g, h, k)
            if carry.any_frozen or not _all_finite(x_new, buffers_new):
                x_new, buffers_new = self._screen(k, x, buffers, x_new, buffers_new)
            carry.time += np.where(carry.frozen, 0.0, eta[j]) if carry.any_frozen else eta[j]
            x, buffers, k = x_new, buffers_new, k + 1
            if k == self.next_event:
                carry.x, carry.buffers, carry.k = x, buffers, k
                if self._event(block):
                    return True
        carry.x, carry.buffers, carry.k = x, buffers, k
        return False

    def _screen(self, k, x, buffers, x_new, buffers_new):
        """Mark replicas that became non-finite at step k + 1, and keep every frozen one at its old state."""
        carry = self.carry
        newly = _nonfinite_rows(x_new, buffers_new) & ~carry.frozen
        if newly.any():
            carry.mark(newly, k + 1, "non-finite iterate or buffer (NaN/inf)")
        if not carry.any_frozen:  # a finite sum overflowed: nothing diverged
            return x_new, buffers_new
        return freeze_diverged(carry.frozen, x, buffers, x_new, buffers_new)

    def _next_event(self, k: int) -> int:
        c = self.config
        nxt = min(c.steps, (k // c.record_every + 1) * c.record_every)
        if c.checkpoint_every is not None:
            nxt = min(nxt, (k // c.checkpoint_every + 1) * c.checkpoint_every)
        return nxt

    def _event(self, block: _Block) -> bool:
        """A record (with callbacks) and/or a checkpoint at the current step; True to stop."""
        c, carry = self.config, self.carry
        k = carry.k
        stop = False
        if k % c.record_every == 0 or k == c.steps:
            j = k - block.start
            self._record({n: rows[j] for n, rows in block.recorded.items()})
            stop = any(cb(k, carry.state(c.replica_ids)) is True for cb in c.callbacks)
            self.bar.update(k)
        if c.checkpoint_every is not None and k % c.checkpoint_every == 0 and k < c.steps and not stop:
            _save_checkpoint(self.recorder.trace(carry, c, self.meta), c.checkpoint, final=False)
        self.next_event = self._next_event(k)
        return stop

    def _record(self, recorded: dict) -> None:
        """Record the current state; ``recorded`` holds each hyperparameter's row at k."""
        carry = self.carry
        value = np.asarray(self.calls.value(carry.x), dtype=float)
        finite = np.isfinite(value)
        if not finite.all():
            unbounded = ~finite & ~carry.frozen
            if unbounded.any():
                carry.mark(unbounded, carry.k, "f(x) is not finite (inf/NaN) at a finite iterate")
        R = carry.x.shape[0]
        if self.momentum:
            m = carry.buffers[self.momentum]
            momentum_norm = np.sqrt(np.square(m, dtype=float).sum(axis=-1))
        else:
            momentum_norm = np.full(R, np.nan)
        # each row (a scalar or one value per replica) is broadcast into the record by assignment
        self.recorder.append(carry.k, carry.x, value, carry.time, momentum_norm, recorded)


def _save_checkpoint(trace: Trace, path: str, final: bool) -> None:
    """Save; a failure mid-run warns and the run goes on, a failure at the end raises with the trace."""
    try:
        trace.save(path)
    except OSError as exc:
        if not final:
            warnings.warn(f"checkpoint {path!r} could not be written at step {trace.final_state.k} ({exc}); "
                          "the run continues", RuntimeWarning, stacklevel=2)
            return
        exc.trace = trace
        exc.add_note("the trace is attached to this error as .trace (save it elsewhere with .trace.save(path))")
        raise


class _Progress:
    """A minimal progress bar on stderr, shown only on a terminal."""

    def __init__(self, total: int, enabled: bool, label: str):
        self.total, self.enabled, self.label = total, enabled, label
        self.start, self.last = _time.perf_counter(), 0.0

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = _time.perf_counter()
        if now - self.last < 0.2 and done < self.total:
            return
        self.last = now
        frac = done / max(self.total, 1)
        bar = "#" * int(30 * frac)
        rate = done / max(now - self.start, 1e-9)
        sys.stderr.write(f"\r{self.label} [{bar:<30}] {done}/{self.total} steps ({rate:,.0f}/s)")
        if done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()
