"""Sweeps: where does a theorem's conclusion hold over a grid of hyperparameters?

``stochopt sweep SPEC.toml [--out DIR] [--workers N | --scheduler ADDRESS]`` and its Python twin
``run_sweep(spec, out)``. The spec (TOML, see ``verify.sweep.spec``) names a method, a grid over
its hyperparameters (and schedules' parameters), a problem, seeds, replicas per grid point, steps
and the record grid, and the statistics to compute at the recorded steps. The result is
``DIR/sweep.npz`` (every statistic as an array seeds x grid points x ...) and ``DIR/sweep.json``
(the spec, versions, the fingerprint of every worker that computed a task), plus the figures the
spec asks for (heat maps over two grid axes with the region where the theorem's conditions hold
outlined; lines over one axis with bootstrap bands). The results are bit-identical whatever the
split: one process, N local workers, a remote cluster, a resumed run.

>>> import os, tempfile
>>> from verify.sweep import run_sweep
>>> text = '''
... [sweep]
... seeds = [0]
... replicas = 3
... steps = 40
... record_every = 20
... statistics = ["f_gap"]
... [problem]
... name = "crescent"
... [method]
... name = "heavy_ball"
... lr = "$lr"
... [grid]
... lr = [0.01, 0.02]
... '''
>>> out = tempfile.mkdtemp()
>>> result = run_sweep(text, out, progress=False)
>>> result.arrays["f_gap"].shape, result.computed, result.skipped      # (seeds, points, records, replicas)
((1, 2, 3, 3), 1, 0)
>>> run_sweep(text, out, progress=False).skipped                          # a rerun recomputes nothing
1
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field

import numpy as np

from .run import FORMAT, SweepTask, TaskOutcome, build_method, build_problem, load_outcome, plan, run_task, save_outcome
from .spec import STATISTICS, SpecError, SweepSpec, load_spec, parse_spec

__all__ = ["run_sweep", "SweepResult", "SweepSpec", "SpecError", "load_spec", "parse_spec", "plan", "STATISTICS"]


@dataclass
class SweepResult:
    """The merged sweep: arrays by statistic, the grid, counts, failures and where files went.

    arrays[name] : (seeds, grid points, records, replicas); goldstein and clarke_distance (seeds,
    points, eps or tol, records, replicas); per-replica statistics (seeds, points, replicas).
    ``k``: recorded steps.
    """

    spec: SweepSpec
    arrays: dict
    k: np.ndarray | None
    computed: int
    skipped: int
    failures: list = field(default_factory=list)
    out: str = ""
    figures: list = field(default_factory=list)
    fingerprints: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _coerce_spec(spec) -> SweepSpec:
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, (str, os.PathLike)) and os.path.isfile(spec):
        return load_spec(spec)
    if isinstance(spec, str) and "[sweep]" in spec:
        return parse_spec(spec)
    raise SpecError(f"spec must be a SweepSpec, a path to a TOML file or TOML text; got {spec!r:.80}")


def _validate_tasks(spec: SweepSpec, tasks) -> None:
    """Build every distinct method and problem once, before any task runs (range errors up front)."""
    seen = set()
    for task in tasks:
        marker = json.dumps([task.spec["method"], task.spec["problem"]], sort_keys=True)
        if marker in seen:
            continue
        seen.add(marker)
        for section, build in (("problem", build_problem), ("method", build_method)):
            try:
                build(task.spec[section])
            except (ValueError, TypeError) as exc:
                raise SpecError(_culprit(spec, section, build, exc)) from None


def _culprit(spec: SweepSpec, section: str, build, exc) -> str:
    """Name the grid value (or the key) that makes ``section`` fail to build, with its line."""
    from .run import _substitute
    from .spec import _variables

    table = getattr(spec, section)
    first = {v: values[0] for v, values in spec.grid.items()}
    try:
        build(_substitute(table, first))
    except (ValueError, TypeError) as err:  # fails whatever the grid: a key of the section itself
        keys = [k for k in table if k != "name" and (repr(table[k]) in str(err) or k in str(err))]
        return f"{spec.where(section, keys[0] if keys else 'name')}: {err}"
    for var in spec.grid:
        for value in spec.grid[var]:
            try:
                build(_substitute(table, {**first, var: value}))
            except (ValueError, TypeError) as err:
                keys = [k for k, v in table.items() if var in _variables(v)]
                return (f"{spec.where('grid', var)}: value {value!r} (used by [{section}] {', '.join(keys)}) is "
                        f"refused: {err}")
    keys = [k for k in table if k != "name" and k in str(exc)]
    return f"{spec.where(section, keys[0] if keys else 'name')}: {exc}"


def _prepare_out(out) -> str:
    if out is None or not str(os.fspath(out)).strip():
        raise ValueError("the sweep's output directory is empty: give --out DIR")
    path = os.path.abspath(os.fspath(out))
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"sweep output {path} exists and is not a directory")
    try:
        os.makedirs(os.path.join(path, "tasks"), exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the sweep output {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK):
        raise ValueError(f"sweep output {path} is not writable")
    return path


def run_sweep(spec, out, executor=None, progress=None) -> SweepResult:
    """Run (or resume) a sweep into ``out``; see the module docstring."""
    from ..executors import InProcess
    from ..registry import _progress_fn

    spec = _coerce_spec(spec)
    tasks = plan(spec)
    _validate_tasks(spec, tasks)
    out = _prepare_out(out)
    executor = executor or InProcess()
    paths = {t.key: os.path.join(out, "tasks", f"{t.key}.npz") for t in tasks}
    outcomes = {t.key: load_outcome(paths[t.key], t) for t in tasks}
    todo = [t for t in tasks if outcomes[t.key] is None]
    bar = _progress_fn(progress)
    failures = []
    done = [len(tasks) - len(todo)]

    def on_done(i, outcome):
        task = todo[i]
        if outcome.error is None:
            save_outcome(paths[task.key], task, outcome)  # kept as soon as it finishes: a kill loses nothing
        done[0] += 1
        bar(done[0], len(tasks), f"task {task.key[:10]}")

    bar(len(tasks) - len(todo), len(tasks), "")
    for task, outcome in zip(todo, executor.map(run_task, todo, on_done)):
        if outcome.error is None:
            outcomes[task.key] = outcome
        else:
            failures.append({"key": task.key, "seed": task.seed, "points": list(task.points), "spec": task.spec,
                             "traceback": outcome.error})
    result = SweepResult(spec, {}, None, len(todo) - len(failures), len(tasks) - len(todo), failures, out)
    if failures:
        from stochopt.engine import atomic_write

        atomic_write(os.path.join(out, "failures.json"),
                     lambda f: f.write(json.dumps(failures, indent=2).encode()))
        return result
    from .merge import merge

    return merge(result, tasks, outcomes)
