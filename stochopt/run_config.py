"""A run's configuration, validated once, at the edge, before any step is taken.

Every argument of ``stochopt.run`` goes through ``make_config``: each error names the argument
and the accepted range. A resumed run is checked against its trace (everything that determines
the trajectory), the memory the records and the state will take is estimated against what the
machine has, and a checkpoint's destination is tried.

>>> import numpy as np, stochopt
>>> from stochopt.run_config import make_config
>>> class Quadratic:
...     n_samples, x0 = 1, np.ones(2)
...     def value(self, x): return 0.5 * np.sum(x * x, axis=-1)
...     def oracle(self, x, idx): return x.copy()
>>> make_config(stochopt.sgd(lr=0.1), Quadratic(), steps=10, replicas=3).record_every
1
>>> make_config(stochopt.sgd(lr=0.1), Quadratic(), steps=10, seed=2**64)
Traceback (most recent call last):
...
ValueError: seed must be an integer in [0, 18446744073709551615]; got 18446744073709551616
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from dataclasses import dataclass

import numpy as np

from ._checks import NONNEGATIVE, as_float_array, check_int, check_real
from .base import Method
from .trace import Trace, available_memory

__all__ = ["RunConfig", "make_config", "estimate_memory"]

MAX_REPLICA_ID = 2**63 - 1
# Arrays of (x-sized) scratch a step allocates besides the state: gradient, new iterate, temporaries.
_STEP_SCRATCH = 4


@dataclass(frozen=True)
class RunConfig:
    """Everything ``stochopt.run`` was asked to do, validated (see ``make_config``)."""

    opt: Method
    problem: object
    steps: int
    replica_ids: np.ndarray
    default_ids: bool
    seed: int
    batch_size: int | None
    record_every: int
    x0: np.ndarray | None
    x0_radius: float
    callbacks: tuple
    progress: bool | None
    resume: Trace | None
    record_x: bool
    checkpoint: str | None
    checkpoint_every: int | None

    @property
    def replicas(self) -> int:
        return int(self.replica_ids.shape[0])

    @property
    def start(self) -> int:
        """The step the run starts from (0, or the resumed trace's final step)."""
        return 0 if self.resume is None else int(self.resume.final_state.k)

    @property
    def dim(self) -> int:
        return int((self.x0 if self.resume is None else self.resume.final_state.x).shape[-1])

    def meta(self) -> dict:
        """JSON-able description of the run, stored in the trace and compared on resume."""
        problem = self.problem
        meta = {
            "method": self.opt.describe(), "problem": getattr(problem, "name", type(problem).__name__),
            "problem_params": getattr(problem, "params", None), "seed": self.seed, "batch_size": self.batch_size,
            "record_every": self.record_every, "x0_radius": self.x0_radius, "versions": _versions(),
            "record_x": self.record_x, "dim": self.dim,
        }
        if self.x0 is not None:
            meta["x0_sha256"] = _fingerprint(self.x0)
        meta = json.loads(json.dumps(meta, default=str))
        meta.update(steps=self.steps, replicas=self.replicas,
                    replica_ids=None if self.default_ids else self.replica_ids.tolist())
        return meta


def make_config(opt, problem, steps, replicas=1, seed=0, batch_size=None, record_every=None, x0=None,
                x0_radius=0.0, replica_ids=None, callbacks=(), progress=None, resume=None, record_x=True,
                checkpoint=None, checkpoint_every=None) -> RunConfig:
    """Validate the arguments of ``stochopt.run`` (same names, same meaning) into a RunConfig."""
    if not isinstance(opt, Method):
        raise TypeError(f"opt must be a stochopt method (e.g. stochopt.sgd(lr=0.1)); got {type(opt).__name__}")
    steps = check_int("steps", steps, low=0)
    seed = check_int("seed", seed, low=0, high=2**64 - 1)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, low=1)
    _check_problem(problem, batch_size)
    ids, default_ids = _replica_ids(replicas, replica_ids)
    if opt.replicas is not None and opt.replicas != ids.shape[0]:
        raise ValueError(f"the method has per-replica hyperparameters for {opt.replicas} replicas; "
                         f"run it with replicas={opt.replicas}")
    resume = _as_trace(resume)
    if record_every is None:
        record_every = resume.meta["record_every"] if resume is not None else max(1, steps // 500)
    record_every = check_int("record_every", record_every, low=1)
    x0_radius = check_real("x0_radius", x0_radius, NONNEGATIVE, allow_array=False)
    start = _start_point(problem, x0, ids.shape[0]) if resume is None or x0 is not None else None
    if checkpoint_every is not None:
        checkpoint_every = check_int("checkpoint_every", checkpoint_every, low=1)
        if checkpoint is None:
            raise ValueError("checkpoint_every needs checkpoint=PATH (the file to write)")
    config = RunConfig(opt, problem, steps, ids, default_ids, seed, batch_size, record_every, start, x0_radius,
                       _callbacks(callbacks), _flag("progress", progress, allow_none=True), resume,
                       _flag("record_x", record_x), _destination(checkpoint), checkpoint_every)
    if resume is not None:
        _check_resume(config)
    _check_memory(config)
    return config


# ---------------------------------------------------------------------- single arguments
def _check_problem(problem, batch_size) -> None:
    need = ["value", "oracle"] + (["n_samples"] if batch_size is not None else [])
    missing = [n for n in need if not hasattr(problem, n)]
    if missing:
        raise TypeError(f"problem must have {', '.join(need)}; {type(problem).__name__} lacks {', '.join(missing)}")
    for name in ("value", "oracle"):
        if not callable(getattr(problem, name)):
            raise TypeError(f"problem.{name} must be a method; got {getattr(problem, name)!r}")
    if batch_size is not None:
        check_int("problem.n_samples (the number of samples minibatches are drawn from)", problem.n_samples,
                  low=1, high=2**64 - 1)


def _replica_ids(replicas, replica_ids) -> tuple:
    if replica_ids is None:
        replicas = check_int("replicas", replicas, low=1)
        return np.arange(replicas, dtype=np.int64), True
    ids = np.asarray(replica_ids)
    accepted = f"a non-empty 1-D array of integers in [0, {MAX_REPLICA_ID}] (2**63 - 1)"
    if ids.dtype.kind not in "iu":
        raise TypeError(f"replica_ids must be {accepted}; got {replica_ids!r}")
    if ids.ndim != 1 or ids.size == 0 or np.any(ids < 0) or np.any(ids > MAX_REPLICA_ID):
        raise ValueError(f"replica_ids must be {accepted}; got {replica_ids!r}")
    return ids.astype(np.int64), False


def _as_trace(resume):
    if resume is None or isinstance(resume, Trace):
        return resume
    if isinstance(resume, (str, os.PathLike)):
        return Trace.load(resume)
    raise TypeError(f"resume must be a Trace (from stochopt.run or Trace.load) or the path of a saved trace; "
                    f"got {type(resume).__name__}")


def _start_point(problem, x0, replicas: int) -> np.ndarray:
    """The start (R, d) before the random radius: ``x0`` (d,) shared or (R, d), or ``problem.x0``."""
    if x0 is None:
        if not hasattr(problem, "x0"):
            raise TypeError("problem has no x0: pass x0=")
        x0 = problem.x0
    x0 = as_float_array("x0", x0)
    if x0.ndim == 2 and x0.shape[0] != replicas:
        raise ValueError(f"x0 has {x0.shape[0]} rows but the run has {replicas} replicas")
    dim = getattr(problem, "dim", None)
    if isinstance(dim, (int, np.integer)) and x0.shape[-1] != dim:
        raise ValueError(f"x0 must have {dim} coordinates (the problem's dimension); got shape {x0.shape}")
    # C order: a copy of a broadcast view would otherwise come out in Fortran order, and every
    # problem call would then copy the iterate (and einsum's rounding may depend on the layout)
    return np.array(np.broadcast_to(x0, (replicas, x0.shape[-1])), order="C")


def _callbacks(callbacks) -> tuple:
    if callbacks is None:
        return ()
    if callable(callbacks):
        return (callbacks,)
    try:
        callbacks = tuple(callbacks)
    except TypeError:
        raise TypeError(f"callbacks must be a list of functions cb(k, state); got {callbacks!r}") from None
    for i, cb in enumerate(callbacks):
        if not callable(cb):
            raise TypeError(f"callbacks[{i}] must be a function cb(k, state); got {cb!r}")
    return callbacks


def _flag(name: str, value, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False{' or None' if allow_none else ''}; got {value!r}")
    return bool(value)


def _destination(path) -> str | None:
    """A checkpoint path, tried now (a file created and removed) so that no run fails at its end."""
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"checkpoint must be a file path; got {path!r}")
    path = os.fspath(path)
    target = os.path.realpath(path) if path else ""
    if not path or os.path.isdir(target):
        raise ValueError(f"checkpoint must be the path of a file (e.g. 'run.npz'); got {path!r}")
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".stochopt-probe-", dir=os.path.dirname(target))
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"checkpoint {path!r} cannot be written there ({exc.strerror or exc}); "
                         "checked before the run so that no work is lost") from None
    return path


# ---------------------------------------------------------------------- resume
_SAME = ("method", "problem", "problem_params", "seed", "batch_size", "record_every", "x0_radius")


def _check_resume(config: RunConfig) -> None:
    """Refuse a resume whose configuration differs from the trace's in anything that shapes the run."""
    from ._checks import current_names

    trace, new = config.resume, config.meta()
    old = dict(trace.meta, method=current_names(trace.meta.get("method")))  # saved before a rename
    for key in _SAME:
        if json.dumps(old.get(key), sort_keys=True) != json.dumps(new.get(key), sort_keys=True):
            raise ValueError(f"resume: the trace was made with {key}={old.get(key)!r}, not {new.get(key)!r}")
    old_record_x = old.get("record_x", trace.x is not None)
    if old_record_x != config.record_x:
        raise ValueError(f"resume: the trace was made with record_x={old_record_x}, not {config.record_x}")
    if trace.final_state.x.shape[-1] != new["dim"]:
        raise ValueError(f"resume: the trace's iterates have dimension {trace.final_state.x.shape[-1]}, "
                         f"the problem {new['dim']}")
    if "x0_sha256" in old and "x0_sha256" in new and old["x0_sha256"] != new["x0_sha256"]:
        raise ValueError("resume: the trace started from another x0 than this run's")
    ids = trace.final_state.replica_ids
    if ids is None or not np.array_equal(ids, config.replica_ids):
        raise ValueError("resume: the replica ids differ from the trace's; pass the same replicas / replica_ids")
    if config.steps < trace.final_state.k:
        raise ValueError(f"resume: steps={config.steps} is less than the trace's final step {trace.final_state.k}; "
                         "steps is the total number of steps, including the resumed ones")
    _check_same_objective(config)
    _warn_unverified(old.get("method"))


def _check_same_objective(config: RunConfig) -> None:
    """f at the trace's final iterate, recomputed by this problem, must be the recorded value."""
    trace = config.resume
    x = trace.final_state.x
    if trace.k[-1] != trace.final_state.k or x.dtype != np.float64:
        return
    recomputed = np.asarray(config.problem.value(x), dtype=float)
    if recomputed.shape != trace.value[-1].shape or not np.array_equal(recomputed, trace.value[-1], equal_nan=True):
        raise ValueError("resume: this problem's f at the trace's final iterate differs from the recorded f; "
                         "the trace was made on another problem (or other problem data)")


def _warn_unverified(description) -> None:
    """Warn when a from_function schedule could be compared only in part (see schedules.function_identity)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("schedule") == "fromfunction" and node.get("unverified"):
                found.append(f"{node.get('fn')} (reads {', '.join(node['unverified'])})")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(description)
    if found:
        warnings.warn("resume: the code and plain values of these schedule functions match the trace's, but "
                      f"they read objects stochopt cannot compare: {'; '.join(found)}. Make sure those are "
                      "unchanged, or name the function with schedules.from_function(fn, key='...')", stacklevel=4)


# ---------------------------------------------------------------------- memory
def estimate_memory(config: RunConfig) -> dict:
    """Bytes the run will hold: records (all of them, preallocated) and the state with its scratch.

    >>> import numpy as np, stochopt
    >>> class Q:
    ...     n_samples, x0 = 1, np.zeros(10)
    ...     def value(self, x): return np.sum(x * x, axis=-1)
    ...     def oracle(self, x, idx): return 2 * x
    >>> need = estimate_memory(make_config(stochopt.sgd(lr=0.1), Q(), steps=1000, replicas=100))
    >>> need["record_count"], need["records"] > 100 * 10 * 8 * 500
    (502, True)
    """
    R, d = config.replicas, config.dim
    itemsize = (config.x0 if config.resume is None else config.resume.final_state.x).dtype.itemsize
    n_hyper = len(config.opt.hyper)
    records = (config.steps - config.start) // config.record_every + 2
    if config.resume is not None:
        records += config.resume.k.shape[0]
    per_record = R * ((d * itemsize if config.record_x else 0) + 8 * (3 + n_hyper))
    n_buffers = len(config.opt.buffer_names)
    batch = (config.batch_size or 0) * R * d * 8  # the oracle's gathered minibatch rows
    state = R * d * itemsize * (2 * (1 + n_buffers) + _STEP_SCRATCH) + batch
    return {"records": records * per_record, "state": state, "total": records * per_record + state,
            "record_count": records}


def _check_memory(config: RunConfig) -> None:
    need = estimate_memory(config)
    free = available_memory()
    if free is None or need["total"] <= free // 2:
        return
    gib = 2**30
    message = (f"the run needs about {need['total'] / gib:.2f} GiB ({need['records'] / gib:.2f} GiB for "
               f"{need['record_count']} records of {config.replicas} replicas, {need['state'] / gib:.2f} GiB "
               f"for the state), and {free / gib:.2f} GiB of memory is available. Record less often "
               f"(record_every > {config.record_every}), skip the iterates (record_x=False), or run fewer replicas")
    if need["total"] > free:
        raise ValueError(message)
    warnings.warn(message, UserWarning, stacklevel=4)


# ---------------------------------------------------------------------- helpers
def _fingerprint(x: np.ndarray) -> str:
    return hashlib.sha256(f"{x.dtype.str}{x.shape}".encode() + np.ascontiguousarray(x).tobytes()).hexdigest()[:32]


def _versions() -> dict:
    import platform

    from . import __version__

    return {"stochopt": __version__, "numpy": np.__version__, "python": platform.python_version()}
