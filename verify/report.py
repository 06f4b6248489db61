"""The verification report (spec 5.6): report.md, report.html, results.json and the figures as PNG.

``write_report(results, directory)`` is called by ``verify.run_claims(..., report_dir=...)`` and by
``stochopt verify``. The report is written as a whole: into a temporary directory beside the
target, then swapped in, so a reader never sees half of one run and half of another, and a
crash leaves the previous report intact. The target is checked before any claim runs
(``prepare_report_dir``): an empty path, a file, an unwritable place, or a directory holding
files the report did not write are refused with a clear error.

``subplots`` makes figures that need no display and no pyplot state (rendered with the Agg
canvas), the recommended way for claims to draw; ``render_png`` turns a figure into PNG bytes.

>>> import tempfile, os, verify
>>> out = os.path.join(tempfile.mkdtemp(), "rep")
>>> _ = verify.run_claims("schedules.polynomial.conditions", report_dir=out, progress=False)
>>> sorted(n for n in os.listdir(out) if not n.startswith("."))
['figures', 'report.html', 'report.md', 'results.json']
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import json
import os
import platform
import shutil
import tempfile

__all__ = ["subplots", "render_png", "text_width", "plain_power", "MARGINS", "write_report", "versions", "results_dict", "prepare_report_dir", "MARKER"]

#: The file that marks a directory as a stochopt report (a report only ever replaces its own kind).
MARKER = ".stochopt-report"
FORMAT = "stochopt-results-2"


#: Figure margins in inches: room for a one-line title, tick labels and an axis label on each side.
MARGINS = {"left": 0.85, "right": 0.2, "bottom": 0.55, "top": 0.4, "wspace": 0.85, "hspace": 0.8}


def subplots(nrows: int = 1, ncols: int = 1, figsize=(6.4, 4.0), *, margins=None, **kwargs):
    """(Figure, axes) rendered with the Agg canvas: no display, no pyplot global state.

    The axes sit at fixed margins (``MARGINS``, in inches, any of them replaced by ``margins``)
    instead of margins solved by a layout engine at every save: constrained layout drew each
    figure twice and was a third of the report's rendering time. Titles stay at a fixed height
    above the axes for the same reason. Long tick labels (a bar chart's category names) need a
    wider ``margins={"left": ...}``: ``text_width`` measures them. ``kwargs`` go to
    ``Figure.subplots`` (``squeeze``, ``sharex``, ...).

    >>> fig, ax = subplots()
    >>> _ = ax.set(title="t", xlabel="k (steps)", ylabel="eta_k")
    >>> type(fig).__name__
    'Figure'
    >>> fig, axes = subplots(1, 2, figsize=(8.0, 3.0), margins={"left": 1.2})
    >>> round(float(axes[0].get_position().x0) * 8.0, 6)
    1.2
    >>> subplots(margins={"gap": 1.0})
    Traceback (most recent call last):
    ...
    ValueError: margins: unknown key 'gap'; accepted: bottom, hspace, left, right, top, wspace
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    inches = _margins_in_inches(margins)
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(**_margin_fractions(fig.get_size_inches(), nrows, ncols, inches))
    with matplotlib.rc_context({"axes.titley": 1.0}):  # a fixed title height: no extra tick-label pass to place it
        axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def _margins_in_inches(margins) -> dict:
    inches = dict(MARGINS)
    for key, value in (margins or {}).items():
        if key not in MARGINS:
            raise ValueError(f"margins: unknown key {key!r}; accepted: {', '.join(sorted(MARGINS))}")
        if not (isinstance(value, (int, float)) and 0 <= value < 100):
            raise ValueError(f"margins[{key!r}] must be a number of inches in [0, 100); got {value!r}")
        inches[key] = float(value)
    return inches


def _margin_fractions(size, nrows, ncols, inches) -> dict:
    """``Figure.subplots_adjust`` arguments (fractions of the figure) for margins in inches."""
    width, height = (float(v) for v in size)
    panel_w = (width - inches["left"] - inches["right"] - (ncols - 1) * inches["wspace"]) / ncols
    panel_h = (height - inches["bottom"] - inches["top"] - (nrows - 1) * inches["hspace"]) / nrows
    if panel_w <= 0 or panel_h <= 0:
        raise ValueError(f"figsize {width:g} x {height:g} in leaves no room for {nrows} x {ncols} panels within "
                         f"the margins {inches}; give a larger figsize or smaller margins")
    return {"left": inches["left"] / width, "right": 1 - inches["right"] / width,
            "bottom": inches["bottom"] / height, "top": 1 - inches["top"] / height,
            "wspace": inches["wspace"] / panel_w, "hspace": inches["hspace"] / panel_h}


def text_width(texts, fontsize) -> float:
    """Width in inches of the widest of ``texts`` at ``fontsize`` points (to size a margin).

    >>> text_width(["a", "a much longer label"], 7) > text_width(["a"], 7) > 0
    True
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(size=fontsize)
    measure = TextToPath().get_text_width_height_descent
    return max((measure(str(t), prop, ismath=False)[0] for t in texts), default=0.0) / 72.0


def render_png(fig, dpi: int = 100) -> bytes:
    r"""PNG bytes of a matplotlib Figure; the same figure gives the same bytes (no metadata).

    Cheaper than ``fig.savefig(..., format="png")`` for the same picture: log-axis tick labels
    are set as plain text (10⁻³, 2×10⁻³) rather than mathtext, whose parser cost more than the
    rest of the tick labels; an opaque figure is stored as RGB (no alpha channel) at zlib level 3,
    which is both faster and smaller than RGBA at the default level 6.

    >>> fig, ax = subplots(); _ = ax.semilogy([1, 2, 3], [1e-3, 1e-1, 1e1])
    >>> png = render_png(fig)
    >>> png[:4], png == render_png(fig), ax.get_yticklabels()[2].get_text()
    (b'\x89PNG', True, '10⁻²')
    """
    import io

    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    _plain_log_tick_labels(fig)
    fig.set_dpi(dpi)
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    opaque = bool((rgba[..., 3] == 255).all())
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba[..., :3]) if opaque else rgba).save(
        buf, format="png", compress_level=3, dpi=(dpi, dpi))
    return buf.getvalue()


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def plain_power(label: str) -> str:
    r"""A mathtext power of ten as plain text; any other label unchanged.

    >>> plain_power(r"$\mathdefault{10^{-3}}$"), plain_power(r"$\mathdefault{2\times10^{4}}$")
    ('10⁻³', '2×10⁴')
    >>> plain_power(r"$\mathdefault{10^{-2.5}}$"), plain_power("0.5")
    ('$\\mathdefault{10^{-2.5}}$', '0.5')
    """
    import re

    m = re.fullmatch(r"\$\\mathdefault\{(-?)(?:(\d+)\\times)?(\d+)\^\{(-?\d+)\}\}\$", label)
    if m is None:
        return label
    sign, mantissa, base, exponent = m.groups()
    return f"{sign}{mantissa + '×' if mantissa else ''}{base}{exponent.translate(_SUPERSCRIPT)}"


def _plain_log_tick_labels(fig) -> None:
    from matplotlib.ticker import LogFormatterMathtext

    plain = _plain_log_formatter()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), LogFormatterMathtext):
                axis.set_major_formatter(plain(axis.get_major_formatter()))
            if isinstance(axis.get_minor_formatter(), LogFormatterMathtext):
                axis.set_minor_formatter(plain(axis.get_minor_formatter()))


@functools.cache
def _plain_log_formatter():
    """The Formatter class wrapping a log formatter (defined on first use: matplotlib loads lazily)."""
    from matplotlib.ticker import Formatter

    class PlainLogFormatter(Formatter):
        """An axis' own log formatter with its mathtext powers written as plain text."""

        def __init__(self, inner):
            self.inner = inner

        def set_axis(self, axis):
            super().set_axis(axis)
            self.inner.set_axis(axis)

        def set_locs(self, locs):
            self.inner.set_locs(locs)

        def __call__(self, x, pos=None):
            return plain_power(self.inner(x, pos))

        def format_data(self, value):
            return self.inner.format_data(value)

        def format_data_short(self, value):
            return self.inner.format_data_short(value)

    return PlainLogFormatter


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
                 method=None, assumptions=None, baseline=None) -> dict:
    """The JSON document of a run (``results.json``).

    Per claim: ``id``, ``family``, ``statement``, ``source``, ``assumptions``, ``reconstructed``,
    ``ok`` (verified: every part passes and every part's control fails, at every seed run),
    ``status``, ``parts`` (at the first seed, each with its statistic in words, its ``check`` and
    its ``control`` verdicts and figures) and ``by_seed`` (seed, ok, and the status, statistic,
    threshold and interval of each part's check and control). With a user direction or method,
    ``user.assumptions`` is its assumption report (``verify.user``); with a ``baseline`` (an
    earlier results.json document), ``compare`` lists the drifts (``verify.ci.compare``).

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
    assumptions_ok = assumptions is None or assumptions.ok
    summary = {"claims": len(results), "verified": sum(r.ok for r in results),
               "not_verified": sum(not r.ok for r in applicable), "not_applicable": len(results) - len(applicable),
               "parts": sum(len(r.parts) for r in results), "seeds": list(seeds),
               "ok": bool(applicable) and all(r.ok for r in applicable) and not load_errors and assumptions_ok}
    user = {"direction": _describe_user(direction), "method": _describe_user(method)}
    if assumptions is not None:
        user["assumptions"] = assumptions.to_dict()
    doc = {"format": FORMAT, "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
           "mode": mode, "seeds": list(seeds), "versions": versions(),
           "executor": executor or {"backend": "in-process", "workers": 1}, "user": user,
           "summary": summary, "load_errors": load_errors or {}, "claims": out}
    doc = _jsonable(doc)
    if baseline is not None:
        from .ci import compare

        doc["compare"] = _jsonable(compare(doc, baseline).to_dict())
    return doc


def _describe_user(obj):
    if obj is None or isinstance(obj, str):
        return obj
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def write_report(results, directory, mode="quick", seeds=(0,), load_errors=None, executor=None, direction=None,
                 method=None, assumptions=None, baseline=None) -> dict:
    """Write ``report.md``, ``report.html``, ``results.json`` and ``figures/*.png`` into ``directory``
    as a whole; return the doc (``assumptions``, ``baseline``: see ``results_dict``).

    >>> import json, os, tempfile, verify
    >>> out = os.path.join(tempfile.mkdtemp(), "rep")
    >>> _ = write_report(verify.run_claims("schedules.two-timescale", progress=False), out)
    >>> sorted(json.load(open(os.path.join(out, "results.json")))["claims"][0])[:4]
    ['assumptions', 'by_seed', 'elapsed_s', 'family']
    """
    path = prepare_report_dir(directory)
    doc = results_dict(results, mode, seeds, load_errors, executor, direction, method, assumptions, baseline)
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
        from .report_html import html

        _write(os.path.join(staging, "report.html"), html(results, doc).encode())
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
