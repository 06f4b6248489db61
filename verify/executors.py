"""Executors: a list of pure tasks in, their results out, in the tasks' order.

Every backend has one method, ``map(fn, tasks, on_done=None) -> list``: ``fn(task)`` for each
task, results in the order of ``tasks`` whatever order they finish in; ``on_done(i, result)``
is called as each finishes (progress bars). Because each task is a pure function of its fields
and every random number is a function of (seed, replica id, ...), the results do not depend on
the backend: one process, N local worker processes or a remote cluster give the same numbers,
bit for bit, on one instruction set (``fingerprint()`` records what a worker computes with).

- ``InProcess()``: the default, no extra dependency.
- ``LocalDask(workers=N)``: a ``dask.distributed.LocalCluster`` of N single-threaded worker
  processes on 127.0.0.1 (BLAS pinned to one thread), closed on exit.
- ``RemoteDask(address)``: an existing Dask scheduler (``dask scheduler`` + ``dask worker``,
  dask-jobqueue on SLURM/PBS, dask-kubernetes, ...).

Dask is an optional extra (``pip install "stochopt[dask]"``), imported only by the Dask backends.

>>> InProcess().map(abs, [-1, 2, -3])
[1, 2, 3]
>>> sorted(fingerprint())
['blas', 'machine', 'numpy', 'python', 'simd']
"""
from __future__ import annotations

import os
from dataclasses import dataclass
import platform
import sys

__all__ = ["InProcess", "LocalDask", "RemoteDask", "make_executor", "fingerprint", "DASK_HINT"]

DASK_HINT = ('Dask is not installed: --workers and --scheduler need the optional extra, '
             'pip install "stochopt[dask]" (or pip install "dask[distributed]")')

#: Environment every worker process gets: one BLAS/OpenMP thread per single-threaded worker.
PINNED_THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                         "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
                                         "STOCHOPT_THREADS")}


def fingerprint() -> dict:
    """What this process computes with: numpy version, the SIMD extensions numpy dispatches to, BLAS."""
    import numpy as np

    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
        simd = sorted(name for name, on in features.items() if on)
    except ImportError:  # pragma: no cover - older numpy
        simd = []
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # pragma: no cover - numpy without the dict mode
        blas = "unknown"
    return {"numpy": np.__version__, "simd": simd, "blas": blas, "machine": platform.machine(),
            "python": platform.python_version()}


@dataclass(frozen=True)
class TaskFailure:
    """What an executor returns for a task that did not produce a result (it raised, or the worker
    running it died, e.g. out of memory); the run goes on and the report shows it as an error."""

    error: str


class InProcess:
    """Run the tasks one after another in this process (the default)."""

    def map(self, fn, tasks, on_done=None) -> list:
        out = []
        for i, task in enumerate(tasks):
            try:
                out.append(fn(task))
            except Exception as exc:  # one broken task must not lose the others' results
                out.append(TaskFailure(f"{type(exc).__name__}: {exc}"))
            if on_done is not None:
                on_done(i, out[-1])
        return out

    def describe(self) -> dict:
        return {"backend": "in-process", "workers": 1, "fingerprints": [fingerprint()]}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise ImportError(DASK_HINT) from None
    return distributed


def _extend_sys_path(paths):  # runs on each worker: user modules importable where they are here
    for p in reversed(paths):
        if p and p not in sys.path:
            sys.path.insert(0, p)
    return len(sys.path)


class _Dask:
    """Shared behaviour of the Dask backends: map with ordered results and worker fingerprints."""

    client = None

    def map(self, fn, tasks, on_done=None) -> list:
        distributed = _import_distributed()
        if not tasks:
            return []
        futures = self.client.map(fn, list(tasks), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results = [None] * len(futures)
        for future in distributed.as_completed(futures):
            i = index[future.key]
            try:
                results[i] = future.result()
            except Exception as exc:  # a task that raised, or whose workers died (KilledWorker): reported
                results[i] = TaskFailure(f"{type(exc).__name__}: {exc}")
            if on_done is not None:
                on_done(i, results[i])
        return results

    def fingerprints(self) -> dict:
        return self.client.run(fingerprint)

    def describe(self) -> dict:
        prints = self.fingerprints()
        return {"backend": self.backend, "workers": len(prints), "address": self.address,
                "fingerprints": sorted(prints.values(), key=repr)}


class LocalDask(_Dask):
    """A local Dask cluster of ``workers`` single-threaded worker processes (TCP on 127.0.0.1).

    Use it as a context manager (the cluster is closed on exit)::

        with LocalDask(workers=2) as ex:
            results = verify.run_claims("gsgd", seeds="0:20", executor=ex)
    """

    backend = "dask-local"

    def __init__(self, workers: int):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be an integer >= 1; got {workers!r}")
        distributed = _import_distributed()
        self.cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                host="127.0.0.1", dashboard_address=None, env=dict(PINNED_THREADS))
        self.client = distributed.Client(self.cluster)
        self.address = self.cluster.scheduler_address
        self.client.run(_extend_sys_path, list(sys.path))

    def close(self):
        self.client.close()
        self.cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class RemoteDask(_Dask):
    """An existing Dask cluster at ``address`` (e.g. "tcp://10.0.0.5:8786").

    Its workers must have stochopt installed (and any user module on their path). Workers started
    by ``dask worker`` pin OMP/MKL/OpenBLAS to one thread through Dask's default
    ``distributed.nanny.pre-spawn-environ``; start them with ``--nthreads 1``.
    """

    backend = "dask-remote"

    def __init__(self, address: str, timeout: float = 30.0):
        if not isinstance(address, str) or not address.strip():
            raise ValueError(f"scheduler address must be like tcp://HOST:8786; got {address!r}")
        distributed = _import_distributed()
        try:
            self.client = distributed.Client(address, timeout=timeout)
        except OSError as exc:
            raise ValueError(f"cannot reach the Dask scheduler at {address} ({exc}); start one with "
                             "`dask scheduler` and workers with `dask worker ADDRESS`") from None
        self.address = address

    def close(self):
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


#: ``stochopt verify`` without --workers/--scheduler uses every core for at least this many tasks.
AUTO_MIN_TASKS = 8


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def make_executor(workers: int | None = None, scheduler: str | None = None, tasks: int | None = None):
    """The executor for ``--workers N`` / ``--scheduler ADDRESS``.

    Neither given: in this process, except for a run of at least ``AUTO_MIN_TASKS`` tasks on a
    machine with several cores and Dask installed, which gets a local cluster with one worker per
    core (results do not depend on it). ``workers=1``: in this process.

    >>> type(make_executor()).__name__, type(make_executor(workers=1, tasks=100)).__name__
    ('InProcess', 'InProcess')
    >>> make_executor(workers=2, scheduler="tcp://x:1")
    Traceback (most recent call last):
    ...
    ValueError: give either workers or scheduler, not both
    """
    if workers is not None and scheduler is not None:
        raise ValueError("give either workers or scheduler, not both")
    if scheduler is not None:
        return RemoteDask(scheduler)
    if workers is None and tasks is not None and tasks >= AUTO_MIN_TASKS and usable_cores() > 1:
        try:
            _import_distributed()
        except ImportError:
            return InProcess()
        workers = min(usable_cores(), tasks)
    if workers is not None and workers > 1:
        return LocalDask(workers)
    return InProcess()
