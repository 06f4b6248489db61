"""Running a sweep: plan the tasks, run them on any executor, keep every finished task, merge.

A task is a block of (grid points x replicas) at one seed, a pure function of its spec: grid
variables used only in [method] become per-replica hyperparameters, so one ``stochopt.run``
covers a whole line of the grid. Replica r of grid point g always has replica id g * R + r, so a
replica's trajectory does not depend on how the grid is cut into tasks, on the worker that ran
it, or on whether the sweep was resumed.

Each finished task is written to ``DIR/tasks/<sha256 of its spec>.npz`` (atomically, with a
hash of its arrays); a rerun skips the tasks whose file is present and intact, so a sweep
killed half-way resumes, and a corrupt file is detected and recomputed, never merged. A task
that raises is reported with its spec and traceback while the others finish.
"""
from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import time
import traceback
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SweepTask", "TaskOutcome", "plan", "run_task", "build_method", "build_problem", "FORMAT"]

FORMAT = "stochopt-sweep-1"


@dataclass(frozen=True)
class SweepTask:
    """One task: the grid points it covers, its seed, its JSON-able spec and that spec's hash."""

    seed: int
    points: tuple
    spec: dict
    key: str


@dataclass
class TaskOutcome:
    """What a task returns: its arrays (or the error) and the fingerprint of the worker."""

    key: str
    arrays: dict = field(default_factory=dict)
    error: str | None = None
    fingerprint: dict = field(default_factory=dict)
    elapsed: float = 0.0


# ================================================================================ planning
def _substitute(value, assignment):
    if isinstance(value, str) and value.startswith("$"):
        return assignment[value[1:]]
    if isinstance(value, dict):
        return {k: _substitute(v, assignment) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, assignment) for v in value]
    return value


def _task_key(task_spec: dict) -> str:
    import stochopt

    blob = json.dumps({"format": FORMAT, "stochopt": stochopt.__version__, "task": task_spec}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def plan(spec) -> list:
    """The tasks of a sweep, in a deterministic order (seed, then grid order)."""
    axes = list(spec.grid)
    points = list(itertools.product(*(range(len(spec.grid[a])) for a in axes)))  # C order over axes
    groups: dict = {}
    for g, idx in enumerate(points):
        split_key = tuple(idx[axes.index(v)] for v in spec.split)
        groups.setdefault(split_key, []).append(g)
    chunk = spec.points_per_task
    tasks = []
    for seed in spec.seeds:
        for members in groups.values():
            size = chunk or len(members)
            for start in range(0, len(members), size):
                block = tuple(members[start:start + size])
                tasks.append(_make_task(spec, seed, block, points, axes))
    return tasks


def _make_task(spec, seed, block, points, axes):
    R = spec.replicas
    first = points[block[0]]
    assignment = {v: spec.grid[v][first[axes.index(v)]] for v in spec.split}
    for v in spec.vectorized:
        per_point = [spec.grid[v][points[g][axes.index(v)]] for g in block]
        assignment[v] = {"per_replica": [val for val in per_point for _ in range(R)]}
    task_spec = {
        "method": _substitute(spec.method, assignment), "problem": _substitute(spec.problem, assignment),
        "run": {"steps": spec.steps, "record_every": spec.record_every, "seed": seed,
                **_substitute(spec.run, assignment),
                "replica_ids": [g * R + r for g in block for r in range(R)]},
        "statistics": list(spec.statistics), "goldstein": dict(spec.goldstein), "clarke_tol": list(spec.clarke_tol),
    }
    return SweepTask(seed, block, task_spec, _task_key(task_spec))


# ================================================================================ building
def _build(value):
    from stochopt import schedules

    if isinstance(value, dict) and "per_replica" in value:
        return np.asarray(value["per_replica"], dtype=float)
    if isinstance(value, dict) and "type" in value:
        kind = value["type"]
        factory = getattr(schedules, kind, None)
        if factory is None or kind.startswith("_") or not callable(factory):
            raise ValueError(f"unknown schedule type {kind!r}")
        return factory(**{k: _build(v) for k, v in value.items() if k != "type"})
    if isinstance(value, list):
        return tuple(_build(v) for v in value)
    return value


def method_factory(name):
    """A method factory by name: any ``stochopt.METHODS`` entry, or ``gsgd`` (the framework itself)."""
    import stochopt

    if name == "gsgd":
        return stochopt.gsgd
    if hasattr(stochopt, "get_method"):
        return stochopt.get_method(name)
    if name not in stochopt.METHODS:
        from stochopt._checks import unknown_name_message

        raise ValueError(unknown_name_message("method", name, ["gsgd", *stochopt.METHODS]))
    return stochopt.METHODS[name]


def build_method(table: dict):
    """The method of a [method] table whose grid variables are already substituted."""
    factory = method_factory(table["name"])
    return factory(**{k: _build(v) for k, v in table.items() if k != "name"})


def build_problem(table: dict):
    import problems

    return problems.get(table["name"], **{k: v for k, v in table.items() if k != "name"})


# ================================================================================ statistics
def _direction_of(opt):
    from stochopt import directions

    cfg = dict(opt.config.get("direction") or {})
    if not cfg:
        raise ValueError(f"lyapunov_increase_share needs a framework method (lr, momentum_lr, direction); "
                         f"{opt.name} has no direction")
    name, blocks = cfg.pop("name"), cfg.pop("blocks", None)
    return directions.get(name, blocks=blocks, **cfg)


def _lyapunov_share(problem, opt, trace, momenta):
    if "momentum_lr" not in trace.hyper:
        raise ValueError(f"lyapunov_increase_share needs theta_k = momentum_lr and eta_k = lr; {opt.name} has "
                         f"{sorted(trace.hyper)}")
    phi = _direction_of(opt).phi
    tau = trace.hyper["momentum_lr"] / trace.hyper["lr"]
    H = np.stack([problem.value(x) + phi(m) / t for x, m, t in zip(trace.x, momenta, tau)])
    burn = max(1, len(H) // 5)
    rises = np.sum(np.maximum(np.diff(H[burn - 1:], axis=0), 0.0), axis=0)
    drop = H[0] - np.min(H, axis=0)
    return np.where(drop > 0, rises / np.where(drop > 0, drop, 1.0), np.inf)


def _clarke_within(problem, X, tol):
    """dist(0, hull of the gradients of the pieces active within ``tol``) at every record and replica."""
    from ..measures import min_norm_point

    return np.array([[min_norm_point(np.atleast_2d(problem.clarke(x, tol=tol))).norm for x in xs] for xs in X])


def _statistics(task_spec, problem, opt, trace, momenta) -> dict:
    import verify

    out = {"k": trace.k.astype(np.int64)}
    for name in task_spec["statistics"]:
        if name == "f":
            out[name] = trace.value
        elif name == "f_gap":
            out[name] = trace.value - problem.f_star
        elif name == "momentum_norm":
            out[name] = trace.momentum_norm
        elif name == "clarke_distance":
            out[name] = np.stack([_clarke_within(problem, trace.x, tol) for tol in task_spec["clarke_tol"]])
        elif name == "goldstein":
            gs = task_spec["goldstein"]
            ids = np.asarray(task_spec["run"]["replica_ids"])
            vals = []
            for eps in gs["eps"]:
                rows = []
                for j, x in enumerate(trace.x):
                    r = verify.goldstein(problem, x, eps=eps, samples=gs.get("samples"), seed=j, replica_ids=ids)
                    rows.append(np.where(r.certified, r.value, np.nan))
                vals.append(np.stack(rows))
            out[name] = np.stack(vals)
        elif name == "lyapunov_increase_share":
            out[name] = _lyapunov_share(problem, opt, trace, momenta)
        elif name == "diverged":
            out[name] = trace.diverged.astype(float)
    return out


def run_task(task: SweepTask) -> TaskOutcome:
    """Run one task; an exception becomes an outcome with the traceback (the others go on)."""
    import stochopt

    from ..executors import fingerprint

    start = time.perf_counter()
    try:
        spec = task.spec
        problem, opt = build_problem(spec["problem"]), build_method(spec["method"])
        run = dict(spec["run"])
        momenta = []
        buffer = opt.momentum_buffer
        want_m = "lyapunov_increase_share" in spec["statistics"] and buffer is not None

        def record_momentum(k, state):
            momenta.append(np.array(state.buffers[buffer]))

        trace = stochopt.run(opt, problem, steps=run["steps"], seed=run["seed"], replica_ids=run["replica_ids"],
                             batch_size=run.get("batch_size"), record_every=run["record_every"],
                             x0_radius=float(run.get("x0_radius", 0.0)), progress=False,
                             callbacks=[record_momentum] if want_m else ())
        if want_m:
            momenta.insert(0, np.zeros_like(trace.x[0]))  # m_0 = 0 (callbacks are not called at k = 0)
        arrays = _statistics(spec, problem, opt, trace, momenta)
        return TaskOutcome(task.key, arrays, None, fingerprint(), time.perf_counter() - start)
    except Exception:
        return TaskOutcome(task.key, {}, traceback.format_exc(), fingerprint(), time.perf_counter() - start)


# ================================================================================ task files
def _digest(arrays: dict) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_outcome(path: str, task: SweepTask, outcome: TaskOutcome) -> None:
    from stochopt.engine import atomic_write

    header = {"format": FORMAT, "key": task.key, "seed": task.seed, "points": list(task.points),
              "spec": task.spec, "fingerprint": outcome.fingerprint, "elapsed_s": outcome.elapsed,
              "sha256": _digest(outcome.arrays)}
    buf = io.BytesIO()
    np.savez(buf, header_json=np.array(json.dumps(header)), **outcome.arrays)
    atomic_write(path, lambda f: f.write(buf.getvalue()))


def load_outcome(path: str, task: SweepTask):
    """The saved outcome of ``task``, or None when the file is missing, foreign or corrupt."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header_json"]))
            arrays = {n: data[n] for n in data.files if n != "header_json"}
    except Exception:  # unreadable, truncated, not an npz: recompute
        return None
    if header.get("format") != FORMAT or header.get("key") != task.key or header.get("sha256") != _digest(arrays):
        return None
    return TaskOutcome(task.key, arrays, None, header.get("fingerprint", {}), header.get("elapsed_s", 0.0))
