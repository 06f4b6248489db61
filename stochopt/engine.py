"""The batched run engine: R replicas of one method on one problem, in lock-step.

Per step the engine draws each replica's minibatch from a counter-based stream keyed by
(seed, replica id, k), asks the problem's oracle once for all replicas, and takes one
vectorised step. A replica whose iterate or buffers become non-finite is frozen at its last
finite state and reported; the others continue. Because every random number is a pure
function of (seed, replica id, k, ...), a replica's trajectory does not depend on how many
replicas run beside it, and a run resumed from a saved trace is bit-identical to an
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

import json
import math
import os
import sys
import tempfile
import time as _time
import types

import numpy as np

from . import streams
from ._checks import as_float_array, check_int, check_real, NONNEGATIVE
from .base import Method, State

__all__ = ["run", "Trace"]

_FORMAT = "stochopt-trace-1"


class Trace:
    """Recorded run: arrays with a leading record axis, divergence reports and the final state.

    Fields
    ------
    k : (n,) recorded step counts.
    x : (n, R, d) iterates (None when ``record_x=False``).
    value : (n, R) f(x_k) (full objective).
    time : (n, R) ODE time t_k = sum_{i<k} eta_i.
    hyper : {name: (n, R)} hyperparameter values at step k (the stepsizes).
    momentum_norm : (n, R) ||m_k|| (NaN for methods without momentum).
    diverged_step : (R,) step at which a replica became non-finite and was frozen (-1: never).
    diverged_reason : list of R strings ('' when the replica never diverged).
    final_state : the State after the last step (for resuming).
    meta : JSON-able metadata (method, problem, seed, replicas, versions, ...).
    """

    def __init__(self, k, x, value, time, hyper, momentum_norm, diverged_step, diverged_reason, final_state,
                 final_time, meta):
        self.k = k
        self.x = x
        self.value = value
        self.time = time
        self.hyper = hyper
        self.momentum_norm = momentum_norm
        self.diverged_step = diverged_step
        self.diverged_reason = diverged_reason
        self.final_state = final_state
        self.final_time = final_time
        self.meta = meta

    @property
    def replicas(self) -> int:
        return int(self.diverged_step.shape[0])

    @property
    def diverged(self) -> np.ndarray:
        """Boolean mask of replicas that diverged and were frozen."""
        return self.diverged_step >= 0

    def replica(self, r: int) -> "Trace":
        """The trace of replica r alone (as a 1-replica trace)."""
        sl = slice(r, r + 1)
        fs = self.final_state
        state = fs.replace(x=fs.x[sl], buffers=types.MappingProxyType({k: v[sl] for k, v in fs.buffers.items()}),
                           replica_ids=None if fs.replica_ids is None else fs.replica_ids[sl])
        return Trace(self.k, None if self.x is None else self.x[:, sl], self.value[:, sl], self.time[:, sl],
                     {k: v[:, sl] for k, v in self.hyper.items()}, self.momentum_norm[:, sl],
                     self.diverged_step[sl], self.diverged_reason[sl], state, self.final_time[sl], dict(self.meta))

    def summary(self) -> dict:
        """Final f (median, min, max over live replicas), diverged count, steps."""
        alive = ~self.diverged
        last = self.value[-1][alive] if alive.any() else np.array([np.nan])
        return {"steps": int(self.k[-1]), "replicas": self.replicas, "diverged": int((~alive).sum()),
                "f_median": float(np.median(last)), "f_min": float(np.min(last)), "f_max": float(np.max(last))}

    # ------------------------------------------------------------------ files
    def save(self, path) -> None:
        """Write the trace to ``path`` (.npz plus JSON metadata), atomically."""
        arrays = {
            "k": self.k, "value": self.value, "time": self.time, "momentum_norm": self.momentum_norm,
            "diverged_step": self.diverged_step, "final_x": self.final_state.x, "final_time": self.final_time,
            "final_k": np.array(self.final_state.k),
        }
        if self.x is not None:
            arrays["x"] = self.x
        if self.final_state.replica_ids is not None:
            arrays["replica_ids"] = self.final_state.replica_ids
        for name, v in self.hyper.items():
            arrays[f"hyper__{name}"] = v
        for name, v in self.final_state.buffers.items():
            arrays[f"buffer__{name}"] = v
        header = {"format": _FORMAT, "meta": self.meta, "diverged_reason": list(self.diverged_reason)}
        arrays["header_json"] = np.array(json.dumps(header))
        atomic_write(path, lambda f: np.savez_compressed(f, **arrays))

    @classmethod
    def load(cls, path) -> "Trace":
        """Read a trace written by ``save`` (never unpickles)."""
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header_json"]))
            if header.get("format") != _FORMAT:
                raise ValueError(f"{path} is not a stochopt trace (format {header.get('format')!r})")
            hyper = {n[len("hyper__"):]: data[n] for n in data.files if n.startswith("hyper__")}
            buffers = {n[len("buffer__"):]: data[n] for n in data.files if n.startswith("buffer__")}
            state = State(x=data["final_x"], k=int(data["final_k"]), buffers=types.MappingProxyType(buffers),
                          replica_ids=data["replica_ids"] if "replica_ids" in data.files else None)
            return cls(data["k"], data["x"] if "x" in data.files else None, data["value"], data["time"], hyper,
                       data["momentum_norm"], data["diverged_step"], list(header["diverged_reason"]), state,
                       data["final_time"], header["meta"])


def atomic_write(path, write) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it into place."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
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


def _versions() -> dict:
    import platform

    from . import __version__

    return {"stochopt": __version__, "numpy": np.__version__, "python": platform.python_version()}


def _check_problem(problem, batch_size):
    need = ["value", "oracle"] + (["n_samples"] if batch_size is not None else [])
    missing = [n for n in need if not hasattr(problem, n)]
    if missing:
        raise TypeError(f"problem must have {', '.join(need)}; {type(problem).__name__} lacks {', '.join(missing)}")


def _full_gradient(problem):
    if hasattr(problem, "grad"):
        return problem.grad
    n = int(problem.n_samples)

    def grad(x):
        return problem.oracle(x, np.broadcast_to(np.arange(n), (x.shape[0], n)))

    return grad


def run(opt: Method, problem, steps: int, replicas: int = 1, seed: int = 0, batch_size: int | None = None,
        record_every: int | None = None, x0=None, x0_radius: float = 0.0, replica_ids=None, callbacks=(),
        progress: bool | None = None, resume: Trace | None = None, record_x: bool = True,
        checkpoint=None, checkpoint_every: int | None = None) -> Trace:
    """Run ``opt`` on ``problem`` for ``steps`` steps with ``replicas`` independent replicas.

    Parameters
    ----------
    opt : a method (``stochopt.heavy_ball(...)``).
    problem : any object with ``value(x)``, ``oracle(x, idx)`` and ``n_samples`` (and ``x0`` when
        ``x0`` is not given; ``grad(x)`` is used for full batches when present).
    steps : total number of steps (>= 0); with ``resume``, the total including the resumed part.
    replicas : number R of replicas (>= 1); ignored when ``replica_ids`` is given.
    seed : seed of every random stream (minibatches, random starts, random stepsizes).
    batch_size : minibatch size per replica per step, drawn with replacement; None: full batch.
    record_every : record every this many steps (and the last); default about 500 records.
    x0 : start, shape (d,) (shared) or (R, d); default ``problem.x0``.
    x0_radius : random start x0 + uniform noise on [-x0_radius, x0_radius]^d per replica.
    replica_ids : explicit replica ids (default 0..R-1): ``replica_ids=[5]`` reruns replica 5 alone.
    callbacks : functions ``cb(k, state)`` called after each recorded step (not at k = 0);
        returning True stops the run there.
    progress : show a progress bar on stderr (default: when stderr is a terminal and steps >= 2000).
    resume : a Trace (from ``run`` or ``Trace.load``) to continue; the result is bit-identical to an
        uninterrupted run with the same arguments.
    record_x : record iterates (turn off for very large R * d).
    checkpoint, checkpoint_every : save the trace so far to this path every so many steps.
    """
    if not isinstance(opt, Method):
        raise TypeError(f"opt must be a stochopt method (e.g. stochopt.sgd(lr=0.1)); got {type(opt).__name__}")
    steps = check_int("steps", steps, low=0)
    seed = check_int("seed", seed, low=0)
    _check_problem(problem, batch_size)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, low=1)
    if replica_ids is None:
        replicas = check_int("replicas", replicas, low=1)
        rids = np.arange(replicas, dtype=np.int64)
    else:
        rids = np.asarray(replica_ids)
        if rids.ndim != 1 or rids.size == 0 or rids.dtype.kind not in "iu" or np.any(rids < 0):
            raise ValueError(f"replica_ids must be a non-empty 1-D array of non-negative integers; got {replica_ids!r}")
        rids = rids.astype(np.int64)
        replicas = rids.size
    if record_every is None:
        record_every = max(1, steps // 500)
    record_every = check_int("record_every", record_every, low=1)
    x0_radius = check_real("x0_radius", x0_radius, NONNEGATIVE, allow_array=False)
    if checkpoint_every is not None:
        checkpoint_every = check_int("checkpoint_every", checkpoint_every, low=1)
    if opt.replicas is not None and opt.replicas != replicas:
        raise ValueError(f"the method has per-replica hyperparameters for {opt.replicas} replicas; "
                         f"run it with replicas={opt.replicas}")

    meta = {
        "method": opt.describe(), "problem": getattr(problem, "name", type(problem).__name__),
        "problem_params": getattr(problem, "params", None), "seed": seed, "batch_size": batch_size,
        "record_every": record_every, "x0_radius": x0_radius, "versions": _versions(),
    }
    meta = json.loads(json.dumps(meta, default=str))
    if resume is not None:
        state, t, recs, diverged_step, reasons = _resume(resume, opt, meta, rids)
    else:
        if x0 is None:
            if not hasattr(problem, "x0"):
                raise TypeError("problem has no x0: pass x0=")
            x0 = problem.x0
        x0 = as_float_array("x0", x0)
        if x0.ndim == 2 and x0.shape[0] != replicas:
            raise ValueError(f"x0 has {x0.shape[0]} rows but the run has {replicas} replicas")
        x0 = np.array(np.broadcast_to(x0, (replicas, x0.shape[-1])))
        if x0_radius > 0:
            coords = np.arange(x0.shape[1], dtype=np.int64)
            u = streams.uniform(seed, streams.START, rids[:, None], coords[None, :])
            x0 = x0 + (x0_radius * (2.0 * u - 1.0)).astype(x0.dtype)
        state = opt.init(x0, replica_ids=rids)
        t = np.zeros(replicas)
        recs = None
        diverged_step = np.full(replicas, -1, dtype=np.int64)
        reasons = [""] * replicas
    meta.update(steps=steps, replicas=int(replicas),
                replica_ids=rids.tolist() if replica_ids is not None else None)

    names = list(opt.hyper)
    if recs is None:
        recs = {"k": [], "x": [], "value": [], "time": [], "momentum_norm": [], **{f"h:{n}": [] for n in names}}

    def record(state, t):
        recs["k"].append(state.k)
        if record_x:
            recs["x"].append(state.x.copy())
        recs["value"].append(np.asarray(problem.value(state.x), dtype=float))
        recs["time"].append(t.copy())
        if opt.momentum_buffer:
            m = state.buffers[opt.momentum_buffer]
            recs["momentum_norm"].append(np.sqrt(np.sum(np.square(m, dtype=float), axis=-1)))
        else:
            recs["momentum_norm"].append(np.full(replicas, np.nan))
        for n in names:
            recs[f"h:{n}"].append(np.broadcast_to(np.asarray(opt.hyper[n].at(state.k, state.replica_ids), float),
                                                  (replicas,)).copy())

    def build(state, t):
        return Trace(np.asarray(recs["k"], dtype=np.int64), np.stack(recs["x"]) if record_x and recs["x"] else None,
                     np.stack(recs["value"]), np.stack(recs["time"]),
                     {n: np.stack(recs[f"h:{n}"]) for n in names}, np.stack(recs["momentum_norm"]),
                     diverged_step.copy(), list(reasons), state, t.copy(), dict(meta))

    gradient = _full_gradient(problem)
    n_samples = int(problem.n_samples) if batch_size is not None else 0
    batch_cols = np.arange(batch_size or 0, dtype=np.int64)[None, :]
    frozen = diverged_step >= 0
    show = progress if progress is not None else (steps - state.k >= 2000 and sys.stderr.isatty())
    bar = _Progress(steps, bool(show), f"{opt.name}")

    if not recs["k"]:
        record(state, t)
    with np.errstate(all="ignore"):
        while state.k < steps:
            k = state.k
            if batch_size is None:
                g = gradient(state.x)
            else:
                idx = streams.integers(n_samples, seed, streams.BATCH, rids[:, None], k, batch_cols)
                g = problem.oracle(state.x, idx)
            eta = opt.stepsize(k, rids)
            new = opt.step(state, g)
            finite = np.isfinite(new.x).all(axis=1)
            for buf in new.buffers.values():
                finite &= np.isfinite(buf).all(axis=1)
            if frozen.any() or not finite.all():
                newly = ~finite & ~frozen
                for r in np.flatnonzero(newly):  # runs once per diverging replica, not per step
                    diverged_step[r] = k + 1
                    reasons[r] = "non-finite iterate or buffer (NaN/inf)"
                frozen = frozen | newly
                keep = frozen[:, None]
                new = new.replace(x=np.where(keep, state.x, new.x),
                                  buffers=types.MappingProxyType(
                                      {n: np.where(keep, state.buffers[n], b) for n, b in new.buffers.items()}))
            t = t + np.where(frozen, 0.0, eta)
            state = new
            if state.k % record_every == 0 or state.k == steps:
                record(state, t)
                stop = any(cb(state.k, state) is True for cb in callbacks)
                bar.update(state.k)
                if stop:
                    break
            if checkpoint is not None and checkpoint_every and state.k % checkpoint_every == 0:
                build(state, t).save(checkpoint)
    bar.update(steps)
    trace = build(state, t)
    if checkpoint is not None:
        trace.save(checkpoint)
    return trace


def _resume(trace: Trace, opt: Method, meta: dict, rids: np.ndarray):
    old = trace.meta
    for key in ("method", "seed", "batch_size", "record_every", "x0_radius"):
        if json.dumps(old.get(key), sort_keys=True) != json.dumps(meta.get(key), sort_keys=True):
            raise ValueError(f"resume: the trace was made with {key}={old.get(key)!r}, not {meta.get(key)!r}")
    ids = trace.final_state.replica_ids
    if ids is None or not np.array_equal(ids, rids):
        raise ValueError("resume: the replica ids differ from the trace's; pass the same replicas / replica_ids")
    keep = len(trace.k)
    if trace.k[-1] % meta["record_every"] != 0:
        keep -= 1  # the final record of a shorter run is not on the record grid of the longer one
    recs = {"k": list(trace.k[:keep]), "x": [] if trace.x is None else list(trace.x[:keep]),
            "value": list(trace.value[:keep]), "time": list(trace.time[:keep]),
            "momentum_norm": list(trace.momentum_norm[:keep]),
            **{f"h:{n}": list(v[:keep]) for n, v in trace.hyper.items()}}
    fs = trace.final_state
    state = State(x=np.array(fs.x), k=int(fs.k), buffers=types.MappingProxyType({k: np.array(v) for k, v in
                                                                                  fs.buffers.items()}),
                  replica_ids=np.array(ids))
    return state, np.array(trace.final_time, dtype=float), recs, np.array(trace.diverged_step), \
        list(trace.diverged_reason)
