"""The verification report (spec 5.6): report.md, results.json and the figures as PNG.

``write_report(results, directory)`` is called by ``verify.run_claims(..., report_dir=...)`` and by
``stochopt verify``. The report is written as a whole: into a temporary directory beside the
target, then swapped in, so a reader never sees half of one run and half of another, and a
crash leaves the previous report intact. The target is checked before any claim runs
(``prepare_report_dir``): an empty path, a file, an unwritable place, or a directory holding
files the report did not write are refused with a clear error.

``subplots`` makes figures that need no display and no pyplot state (rendered with the Agg
canvas), the recommended way for claims to draw.

>>> import tempfile, os, verify
>>> out = os.path.join(tempfile.mkdtemp(), "rep")
>>> _ = verify.run_claims("schedules.polynomial.conditions", report_dir=out, progress=False)
>>> sorted(n for n in os.listdir(out) if not n.startswith("."))
['figures', 'report.md', 'results.json']
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import shutil
import tempfile

__all__ = ["subplots", "write_report", "versions", "results_dict", "prepare_report_dir", "MARKER"]

#: The file that marks a directory as a stochopt report (a report only ever replaces its own kind).
MARKER = ".stochopt-report"
FORMAT = "stochopt-results-2"


def subplots(nrows: int = 1, ncols: int = 1, figsize=(6.4, 4.0), **kwargs):
    """(Figure, axes) rendered with the Agg canvas: no display, no pyplot global state.

    >>> fig, ax = subplots()
    >>> _ = ax.set(title="t", xlabel="k (steps)", ylabel="eta_k")
    >>> type(fig).__name__
    'Figure'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def versions() -> dict:
    """Versions of the packages a verdict depends on.

    >>> sorted(versions())[:3]
    ['matplotlib', 'numpy', 'platform']
    """
    import matplotlib
    import numpy
    import scipy
    import sympy

    import stochopt

    return {"stochopt": stochopt.__version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
            "sympy": sympy.__version__, "matplotlib": matplotlib.__version__,
            "python": platform.python_version(), "platform": platform.platform()}


# ============================================================================ the target directory
def prepare_report_dir(directory) -> str:
    """Check, before any work, that a report can be written to ``directory``; return its absolute path.

    Accepted: a directory that does not exist yet (its parent is created), an empty directory, or
    a directory holding an earlier stochopt report (marked by ``.stochopt-report``).

    >>> prepare_report_dir("")
    Traceback (most recent call last):
    ...
    ValueError: report directory is empty: give a directory path (e.g. --report stochopt-report)
    """
    if directory is None or not str(os.fspath(directory)).strip():
        raise ValueError("report directory is empty: give a directory path (e.g. --report stochopt-report)")
    path = os.path.abspath(os.fspath(directory))
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"report directory {path} exists and is not a directory; choose another --report")
    if os.path.isdir(path):
        names = os.listdir(path)
        if names and MARKER not in names:
            raise ValueError(f"report directory {path} holds files that no stochopt report wrote "
                             f"({', '.join(sorted(names)[:5])}{', ...' if len(names) > 5 else ''}); "
                             "refusing to replace them: choose an empty or new directory")
    parent = os.path.dirname(path)
    try:
        os.makedirs(parent, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=".tmp-probe-", dir=parent)
        os.rmdir(probe)
    except OSError as exc:
        raise ValueError(f"cannot write a report into {path}: {exc.strerror or exc}; choose a writable "
                         "--report directory") from None
    return path


@contextlib.contextmanager
def _lock(path):
    """Serialise the final swap of concurrent runs writing the same report."""
    lock_path = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.lock")
    with open(lock_path, "a") as f:
        try:
            import fcntl

            fcntl.flock(f, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not POSIX: the swap is still whole, only unserialised
            pass
        yield


def _swap_in(staging: str, path: str) -> None:
    with _lock(path):
        old = None
        if os.path.isdir(path):
            if os.listdir(path) and MARKER not in os.listdir(path):
                raise ValueError(f"report directory {path} now holds files no stochopt report wrote; the new "
                                 f"report is left in {staging}")
            old = tempfile.mkdtemp(prefix=f".old-{os.path.basename(path)}-", dir=os.path.dirname(path))
            os.replace(path, os.path.join(old, "report"))
        os.replace(staging, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ============================================================================ results.json
def _figure_files(result) -> dict:
    """{(part name, kind): [{"file", "caption", "png"}]} for the first seed's figures."""
    out = {}
    for p in result.parts:
        for kind, verdict in (("check", p.check), ("control", p.control)):
            files = []
            for n, fig in enumerate(verdict.figures):
                name = f"{result.claim.id}--{_slug(p.name)}-{kind}-{n + 1}.png"
                files.append({"file": f"figures/{name}", "caption": fig.caption or result.claim.caption,
                              "png": fig.png})
            out[(p.name, kind)] = files
    return out


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def _part_entry(p, figures) -> dict:
    entry = {"name": p.name, "statistic": p.statistic, "breaks": p.breaks, "applicable": p.applicable, "ok": p.ok,
             "check": p.check.to_dict(), "control": p.control.to_dict(), "problems": p.problems}
    entry["check"]["figures"] = [{k: v for k, v in f.items() if k != "png"} for f in figures[(p.name, "check")]]
    entry["control"]["figures"] = [{k: v for k, v in f.items() if k != "png"} for f in figures[(p.name, "control")]]
    return entry


def _seed_entry(s) -> dict:
    return {"seed": s.seed, "ok": s.ok, "elapsed_s": s.elapsed,
            "parts": [{"name": p.name, "ok": p.ok, "applicable": p.applicable,
                       "check": p.check.to_dict(details=False), "control": p.control.to_dict(details=False)}
                      for p in s.parts]}


def results_dict(results, mode="quick", seeds=(0,), load_errors=None, executor=None, direction=None,
                 method=None) -> dict:
    """The JSON document of a run (``results.json``).

    Per claim: ``id``, ``family``, ``statement``, ``source``, ``assumptions``, ``reconstructed``,
    ``ok`` (verified: every part passes and every part's control fails, at every seed run),
    ``status``, ``parts`` (at the first seed, each with its statistic in words, its ``check`` and
    its ``control`` verdicts and figures) and ``by_seed`` (seed, ok, and the status, statistic,
    threshold and interval of each part's check and control).

    >>> import verify
    >>> doc = results_dict(verify.run_claims("schedules.two-timescale", seeds="0:2", progress=False), seeds=[0, 1])
    >>> c = doc["claims"][0]
    >>> c["ok"], c["parts"][0]["check"]["status"], c["parts"][0]["control"]["status"], len(c["by_seed"])
    (True, 'pass', 'fail', 2)
    """
    from .registry import _jsonable

    out = []
    for r in results:
        figures = _figure_files(r)
        cl = r.claim
        out.append({"id": cl.id, "family": cl.family, "statement": cl.statement, "source": cl.source,
                    "assumptions": cl.assumptions, "reconstructed": cl.reconstructed, "ok": r.ok,
                    "status": r.status, "seeds": r.seeds, "elapsed_s": r.elapsed, "sizes": cl.sizes.get(mode),
                    "parts": [_part_entry(p, figures) for p in r.parts],
                    "by_seed": [_seed_entry(s) for s in r.by_seed], "problems": r.problems})
    applicable = [r for r in results if r.applicable]
    summary = {"claims": len(results), "verified": sum(r.ok for r in results),
               "not_verified": sum(not r.ok for r in applicable), "not_applicable": len(results) - len(applicable),
               "parts": sum(len(r.parts) for r in results), "seeds": list(seeds),
               "ok": bool(applicable) and all(r.ok for r in applicable) and not load_errors}
    doc = {"format": FORMAT, "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
           "mode": mode, "seeds": list(seeds), "versions": versions(),
           "executor": executor or {"backend": "in-process", "workers": 1},
           "user": {"direction": _describe_user(direction), "method": _describe_user(method)},
           "summary": summary, "load_errors": load_errors or {}, "claims": out}
    return _jsonable(doc)


def _describe_user(obj):
    if obj is None or isinstance(obj, str):
        return obj
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def write_report(results, directory, mode="quick", seeds=(0,), load_errors=None, executor=None, direction=None,
                 method=None) -> dict:
    """Write ``report.md``, ``results.json`` and ``figures/*.png`` into ``directory`` as a whole; return the doc.

    >>> import json, os, tempfile, verify
    >>> out = os.path.join(tempfile.mkdtemp(), "rep")
    >>> _ = write_report(verify.run_claims("schedules.two-timescale", progress=False), out)
    >>> sorted(json.load(open(os.path.join(out, "results.json")))["claims"][0])[:4]
    ['assumptions', 'by_seed', 'elapsed_s', 'family']
    """
    path = prepare_report_dir(directory)
    doc = results_dict(results, mode, seeds, load_errors, executor, direction, method)
    staging = tempfile.mkdtemp(prefix=f".tmp-{os.path.basename(path)}-", dir=os.path.dirname(path))
    try:
        os.mkdir(os.path.join(staging, "figures"))
        for r in results:
            for files in _figure_files(r).values():
                for f in files:
                    _write(os.path.join(staging, f["file"]), f["png"])
        _write(os.path.join(staging, "results.json"), json.dumps(doc, indent=2).encode())
        from .report_md import markdown

        _write(os.path.join(staging, "report.md"), markdown(results, doc).encode())
        _write(os.path.join(staging, MARKER), f"{FORMAT}\n".encode())
        os.chmod(staging, 0o777 & ~_umask())
        _swap_in(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return doc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
