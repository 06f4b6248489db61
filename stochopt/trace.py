"""The record of a run (``Trace``) and its file format, written atomically and read without trust.

A trace is saved as ``.npz`` (NumPy arrays, compressed) with a JSON header: the format name,
the run's metadata (method and hyperparameters, problem, seed, record settings, versions) and
the divergence reasons. ``Trace.load`` never unpickles, and it checks the header and every
array's declared shape and dtype against each other before it reads any array, so a damaged or
hostile file is refused with the reason instead of allocating what it claims.

>>> import numpy as np, stochopt, tempfile, os
>>> class Quadratic:
...     n_samples, x0 = 1, np.ones(2)
...     def value(self, x): return 0.5 * np.sum(x * x, axis=-1)
...     def oracle(self, x, idx): return x.copy()
>>> trace = stochopt.run(stochopt.sgd(lr=0.5), Quadratic(), steps=4, replicas=2, record_every=2)
>>> path = os.path.join(tempfile.mkdtemp(), "run.npz")
>>> trace.save(path)
>>> stochopt.Trace.load(path).k.tolist()
[0, 2, 4]
"""
from __future__ import annotations

import json
import os
import socket
import types
from dataclasses import dataclass

import numpy as np

from .base import State

__all__ = ["Trace", "atomic_write", "available_memory"]

FORMAT = "stochopt-trace-1"
# The JSON header is small (metadata and one reason per replica); a larger one is refused.
MAX_HEADER_CHARS = 16 * 2**20
_TMP_SUFFIX = ".stochopt-tmp"


@dataclass(eq=False)
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
    diverged_step : (R,) step at which a replica was found non-finite and frozen (-1: never).
    diverged_reason : list of R strings ('' when the replica never diverged).
    final_state : the State after the last step (for resuming).
    final_time : (R,) ODE time after the last step.
    meta : JSON-able metadata (method, problem, seed, replicas, versions, ...).
    """

    k: np.ndarray
    x: np.ndarray | None
    value: np.ndarray
    time: np.ndarray
    hyper: dict
    momentum_norm: np.ndarray
    diverged_step: np.ndarray
    diverged_reason: list
    final_state: State
    final_time: np.ndarray
    meta: dict

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
        """Write the trace to ``path`` (.npz plus a JSON header), atomically (see ``atomic_write``)."""
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
        header = {"format": FORMAT, "meta": self.meta, "diverged_reason": list(self.diverged_reason),
                  "shape": {"records": int(self.k.shape[0]), "replicas": self.replicas,
                            "dim": int(self.final_state.x.shape[-1])}}
        arrays["header_json"] = np.array(json.dumps(header))
        atomic_write(path, lambda f: np.savez_compressed(f, **arrays))

    @classmethod
    def load(cls, path) -> "Trace":
        """Read a trace written by ``save``: never unpickles, checks before it allocates.

        Raises ValueError naming what is wrong (not an .npz, a header that is not the format's,
        arrays whose shapes or dtypes disagree with the header, more data than memory holds).
        """
        from ._trace_file import read_trace

        return read_trace(cls, os.fspath(path))


# ---------------------------------------------------------------------- atomic writes
def atomic_write(path, write) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it into place.

    The data is flushed to disk (fsync) before the rename, and the directory after it, so a
    crash leaves either the old file or the new one, never a truncated one. Saving through a
    symbolic link writes the link's target and keeps the link. The new file gets the mode of
    the file it replaces, or the default mode for new files (0666 less the umask). Temporaries
    left by a killed save (of this host, whose process is gone) are removed on the next save
    into the same directory.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> atomic_write(path, lambda f: f.write(b"hello"))
    >>> open(path).read(), os.listdir(os.path.dirname(path))
    ('hello', ['notes.txt'])
    """
    target = os.path.realpath(os.fspath(path))
    directory, base = os.path.split(target)
    os.makedirs(directory, exist_ok=True)
    _remove_stale_temporaries(directory)
    tmp = os.path.join(directory, f".{base}.{socket.gethostname()}.{os.getpid()}.{os.urandom(4).hex()}{_TMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for any new file
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(target):
            os.chmod(tmp, os.stat(target).st_mode & 0o7777)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not every platform opens directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temporaries(directory: str) -> None:
    """Remove our temporaries (".NAME.HOST.PID.RANDOM.stochopt-tmp") whose process has ended."""
    host = socket.gethostname()
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(".") and name.endswith(_TMP_SUFFIX)):
            continue
        parts = name[: -len(_TMP_SUFFIX)].rsplit(".", 3)
        if len(parts) != 4 or parts[1] != host or not parts[2].isdigit() or _alive(int(parts[2])):
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux MemAvailable), or None if unknown.

    >>> free = available_memory(); free is None or free > 0
    True
    """
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
