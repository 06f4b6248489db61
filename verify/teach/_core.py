"""The demo object, its figure layout, its rendering, and the drawing helpers the demos share.

A ``Demo`` holds one figure (an Agg ``Figure``, no pyplot state), the number of frames, a
``draw(i)`` function that sets every artist to frame i, and ``data``: the numbers it draws, per
frame, so that a test can compare the drawing with an independent computation.

Rendering: ``Demo.save(directory, format)`` writes ``NAME.gif`` (matplotlib's Pillow writer) or
``NAME.mp4`` (ffmpeg, when installed) and always ``NAME.png``, the still of the last frame (which
shows the whole trajectory). Files are written to a temporary name and renamed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import tempfile
import textwrap
import time

import numpy as np

from stochopt._checks import Interval, check_int, check_real

__all__ = [
    "Demo", "Knob", "RenderResult", "FRAME_RANGE", "DEFAULT_FRAMES", "DEFAULT_DPI", "MAX_BYTES", "FORMATS",
    "STYLES", "available_formats", "check_dpi", "check_format", "check_output_dir", "new_figure", "hull_vertices",
    "kink_mask", "knob_values",
]

#: Every demo has between 40 and 150 frames (the issue's bounds); 80 by default.
FRAME_RANGE = (40, 150)
DEFAULT_FRAMES = 80
#: Resolution of the saved animation and still (pixels per inch).
DEFAULT_DPI = 72
#: Largest file a demo may write (2 MB).
MAX_BYTES = 2 * 1024 * 1024
FORMATS = ("gif", "mp4", "png")
FPS = 10

# Okabe-Ito colours of distinct lightness, each with its own line style and marker, so that every
# series can still be told apart when printed in grey.
STYLES = (
    {"color": "#000000", "linestyle": "-", "marker": "o"},
    {"color": "#0072B2", "linestyle": "--", "marker": "s"},
    {"color": "#D55E00", "linestyle": ":", "marker": "^"},
    {"color": "#009E73", "linestyle": "-.", "marker": "D"},
    {"color": "#CC79A7", "linestyle": (0, (6, 2, 1, 2, 1, 2)), "marker": "v"},
    {"color": "#E69F00", "linestyle": (0, (1, 1)), "marker": "P"},
)


@dataclasses.dataclass(frozen=True)
class Knob:
    """A demo parameter a teacher may change (a slider in ``verify.teach.interactive``).

    >>> Knob("lr", 0.3, 0.01, 1.0, "initial stepsize eta_0").default
    0.3
    """

    name: str
    default: float
    low: float
    high: float
    help: str
    choices: tuple = ()  # non-empty: a choice among names (a dropdown), default is one of them
    integer: bool = False


def knob_values(knobs, given: dict, demo: str) -> dict:
    """Defaults of ``knobs`` updated with ``given``, each checked against its range.

    >>> knob_values([Knob("lr", 0.3, 0.01, 1.0, "")], {"lr": 0.5}, "x")
    {'lr': 0.5}
    >>> knob_values([Knob("lr", 0.3, 0.01, 1.0, "")], {"lr": 5.0}, "x")
    Traceback (most recent call last):
    ...
    ValueError: lr must be in [0.01, 1]; got 5.0
    """
    by_name = {k.name: k for k in knobs}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        accepted = ", ".join(by_name) or "(none)"
        raise TypeError(f"demo {demo!r} has no parameter {unknown[0]!r}; accepted: {accepted}")
    out = {}
    for k in knobs:
        value = given.get(k.name, k.default)
        if k.choices:
            if value not in k.choices:
                raise ValueError(f"{k.name} must be one of {', '.join(map(repr, k.choices))}; got {value!r}")
            out[k.name] = value
        elif k.integer:
            out[k.name] = check_int(k.name, value, low=int(k.low), high=int(k.high))
        else:
            out[k.name] = check_real(k.name, value, Interval(k.low, k.high), allow_array=False)
    return out


@dataclasses.dataclass
class RenderResult:
    """What ``Demo.save`` wrote: ``files`` (format -> path), ``bytes`` (format -> size), ``frames``, ``seconds``."""

    name: str
    files: dict
    bytes: dict
    frames: int
    seconds: float


def available_formats() -> list:
    """Formats this machine can write: gif and png always, mp4 when ffmpeg is on the PATH.

    >>> {"gif", "png"} <= set(available_formats())
    True
    """
    from matplotlib.animation import FFMpegWriter

    return ["gif", "png"] + (["mp4"] if FFMpegWriter.isAvailable() else [])


def check_format(format: str) -> str:
    """``format`` if this machine can write it, else a ValueError saying why.

    >>> check_format("gif")
    'gif'
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    if format not in available_formats():
        raise ValueError("format 'mp4' needs ffmpeg on the PATH (matplotlib's FFMpegWriter found none); "
                         "install ffmpeg or use --format gif")
    return format


def check_dpi(dpi) -> float:
    """``dpi`` as a float in [20, 300], or a ValueError naming it.

    >>> check_dpi(72)
    72.0
    """
    return check_real("dpi", dpi, Interval(20.0, 300.0), allow_array=False)


def check_output_dir(out) -> str:
    """Create ``out`` if needed and prove it writable (a probe file); return its absolute path.

    Raises ``ValueError`` naming the directory and the reason, before any rendering starts.

    >>> import tempfile
    >>> os.path.isdir(check_output_dir(tempfile.mkdtemp()))
    True
    """
    if out is None or not str(os.fspath(out)).strip():
        raise ValueError("the output directory is empty: give a directory path (e.g. --out stochopt-demos)")
    path = os.path.abspath(os.fspath(out))
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".stochopt-probe-"):
            pass
    except OSError as exc:
        raise ValueError(f"cannot write to the output directory {path!r}: {exc.strerror or exc}") from None
    return path


def _atomic_write_bytes(path: str, data: bytes) -> None:
    from stochopt.engine import atomic_write

    atomic_write(path, lambda f: f.write(data))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)  # the temporary file was private; a picture is meant to be shared


# ------------------------------------------------------------------------------ figures
def new_figure(title: str, caption: str, figsize=(10.0, 6.0), caption_lines: int | None = None):
    """(Figure, content subfigure): an Agg figure with the title on top and the caption below.

    The caption is wrapped to the figure width and set in its own strip, so it survives any
    export of the figure (GIF frames and the still alike).

    >>> fig, content = new_figure("A title", "What to look at.")
    >>> ax = content.subplots()
    >>> fig._suptitle.get_text()
    'A title'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    width_chars = int(figsize[0] * 72 / (8.5 * 0.6))
    lines = textwrap.wrap(caption, width_chars, break_on_hyphens=False)
    n = caption_lines or len(lines)
    strip = (0.16 * n + 0.12) / figsize[1]
    content, bottom = fig.subfigures(2, 1, height_ratios=[1.0 - strip, strip])
    bottom.text(0.01, 0.98, "\n".join(lines), ha="left", va="top", fontsize=8.5, color="#222222")
    fig.suptitle(title, fontsize=12, fontweight="bold")
    return fig, content


def hull_vertices(G) -> np.ndarray:
    """Vertices of conv{rows of G} in the plane, in counter-clockwise order.

    One point gives itself, collinear points their two extremes.

    >>> hull_vertices([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.2, 0.2]]).tolist()
    [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    >>> sorted(hull_vertices([[0.0, 1.0], [0.0, 3.0], [0.0, 2.0]]).tolist())
    [[0.0, 1.0], [0.0, 3.0]]
    """
    G = np.unique(np.asarray(G, dtype=float).reshape(-1, 2), axis=0)
    if G.shape[0] <= 1:
        return G
    centred = G - G.mean(axis=0)
    scale = max(float(np.abs(centred).max()), 1e-300)
    _, sv, vt = np.linalg.svd(centred / scale, full_matrices=False)
    if sv.size < 2 or sv[1] <= 1e-10 * max(sv[0], 1e-300):
        along = centred @ vt[0]
        return G[[int(np.argmin(along)), int(np.argmax(along))]]
    from scipy.spatial import ConvexHull

    return G[ConvexHull(G).vertices]


def kink_mask(problem, X, Y) -> np.ndarray:
    """Boolean grid: True where the full-batch gradient jumps between neighbouring grid points.

    A drawing aid only (it locates the kinks of a piecewise-smooth f on the grid of X, Y): a jump
    is a change larger than 5% of the largest gradient norm on the grid.

    >>> import problems
    >>> X, Y = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-4, -2, 5))
    >>> bool(kink_mask(problems.get("dem"), X, Y)[:, 2].any())      # the kink x1 = 0
    True
    """
    pts = np.stack([X, Y], axis=-1)
    G = np.asarray(problem.grad(pts.reshape(-1, 2)), dtype=float).reshape(pts.shape)
    level = 0.05 * float(np.sqrt(np.max(np.sum(G * G, axis=-1))))
    mask = np.zeros(X.shape, dtype=bool)
    jump_x = np.sqrt(np.sum(np.diff(G, axis=1) ** 2, axis=-1)) > level
    jump_y = np.sqrt(np.sum(np.diff(G, axis=0) ** 2, axis=-1)) > level
    mask[:, 1:] |= jump_x
    mask[1:, :] |= jump_y
    return mask


def draw_kinks(ax, problem, xlim, ylim, n: int = 240, label: str = "kinks of f"):
    """Shade the kink set of ``problem`` in the window (dark grey pixels) and add a legend entry."""
    from matplotlib.lines import Line2D

    X, Y = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    mask = kink_mask(problem, X, Y)
    mask[1:] |= mask[:-1]  # two pixels wide, so that the kink stays visible at a low resolution
    mask[:, 1:] |= mask[:, :-1]
    rgba = np.zeros(mask.shape + (4,))
    rgba[mask] = (0.35, 0.35, 0.35, 0.9)
    image = ax.imshow(rgba, extent=(*xlim, *ylim), origin="lower", interpolation="nearest", aspect="auto",
                      zorder=1)
    proxy = Line2D([], [], color=(0.35, 0.35, 0.35), linewidth=2.5, label=label)
    return image, proxy


def draw_contours(ax, problem, xlim, ylim, levels, n: int = 160):
    """Contour lines of f (thin grey) in the window."""
    X, Y = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    Z = np.asarray(problem.value(np.stack([X, Y], axis=-1)), dtype=float)
    return ax.contour(X, Y, Z, levels=levels, colors="#9a9a9a", linewidths=0.6, zorder=0)


def frame_indices(n_records: int, frames: int, spacing: str = "linear") -> np.ndarray:
    """``frames`` distinct, increasing record indices from 0 to ``n_records - 1``.

    "linear" spaces them evenly; "sqrt" puts more frames early, where iterates move fast. Distinct
    indices give distinct frames (a GIF encoder merges identical ones).

    >>> frame_indices(101, 5).tolist(), frame_indices(101, 5, "sqrt").tolist()
    ([0, 25, 50, 75, 100], [0, 7, 26, 57, 100])
    """
    if n_records < frames:
        raise ValueError(f"cannot show {frames} distinct frames of {n_records} records")
    s = np.linspace(0.0, 1.0, frames)
    if spacing == "sqrt":
        s = s**2
    return np.round(s * (n_records - frames)).astype(int) + np.arange(frames)


# ------------------------------------------------------------------------------- the demo
class Demo:
    """One teaching demonstration: a figure, ``frames`` frames, and the numbers it draws.

    Attributes: ``name``, ``title``, ``caption``, ``figure``, ``frames``, ``seed``, ``params``
    (the knob values), ``data`` (a dict of the drawn numbers: each demo documents its keys),
    ``artists`` (a dict of the artists that draw those numbers, so that a test can read the drawing
    back), ``animated`` (the artists that change from frame to frame).

    Methods: ``draw(i)`` sets the figure to frame i; ``still()`` draws the last frame and returns
    the figure; ``gif()`` and ``png()`` the bytes of the animation and the still (in a notebook:
    ``IPython.display.Image(demo.gif())``); ``animation()`` a ``matplotlib.animation.FuncAnimation``
    (full redraws; ``IPython.display.HTML(demo.animation().to_jshtml())``); ``frame_rgba(i, dpi)``
    the pixels; ``frame_hash(i, dpi)``; ``save(directory, format)``.
    """

    def __init__(self, name, title, caption, figure, frames, draw, data, seed, params, artists, animated):
        self.name, self.title, self.caption = name, title, caption
        self.artists, self.animated = dict(artists), list(animated)
        self.figure, self.frames, self._draw = figure, int(frames), draw
        self.data, self.seed, self.params = data, seed, dict(params)
        self.current = None
        # Lay the figure out once, at the last frame (the widest labels), then freeze it, so that
        # the axes do not jump between frames.
        self.draw(self.frames - 1)
        figure.canvas.draw()
        figure.set_layout_engine("none")

    def __repr__(self):
        return f"<Demo {self.name!r}: {self.frames} frames, seed {self.seed}, {self.params}>"

    def draw(self, i: int):
        """Set every artist to frame ``i`` (0 <= i < frames)."""
        i = check_int("frame", i, low=0, high=self.frames - 1)
        self._draw(i)
        self.current = i
        return self.figure

    def still(self):
        """The figure at the last frame: the whole trajectory."""
        return self.draw(self.frames - 1)

    def animation(self, interval_ms: int = 1000 // FPS):
        """A FuncAnimation over every frame (redraws the whole figure each frame)."""
        from matplotlib.animation import FuncAnimation

        def update(i):
            self.draw(i)
            return ()

        return FuncAnimation(self.figure, update, frames=range(self.frames), init_func=lambda: (),
                             interval=interval_ms, blit=False, repeat=True, cache_frame_data=False)

    def frames_rgba(self, indices=None, dpi: float = DEFAULT_DPI):
        """Pixels (H, W, 4) uint8 of the given frames (default: all), one array per frame, in order.

        The static part of the figure is drawn once; each frame then redraws only the artists
        that change (``animated``), so a frame costs milliseconds, not a full redraw.
        """
        fig, canvas = self.figure, self.figure.canvas
        indices = range(self.frames) if indices is None else [check_int("frame", i, 0, self.frames - 1)
                                                                for i in indices]
        moving = sorted(self.animated, key=lambda a: (not hasattr(a, "get_xaxis"), a.get_zorder()))
        old_dpi = fig.dpi
        for a in moving:
            a.set_animated(True)
        try:
            fig.set_dpi(dpi)
            self.draw(self.frames - 1)
            canvas.draw()
            background = canvas.copy_from_bbox(fig.bbox)
            for i in indices:
                self.draw(i)
                canvas.restore_region(background)
                for a in moving:
                    fig.draw_artist(a)
                yield np.array(canvas.buffer_rgba())
        finally:
            for a in moving:
                a.set_animated(False)
            fig.set_dpi(old_dpi)

    def frame_rgba(self, i: int, dpi: float = DEFAULT_DPI) -> np.ndarray:
        """Pixels (H, W, 4) uint8 of frame ``i`` at ``dpi`` (as written to the animation)."""
        return next(self.frames_rgba([i], dpi))

    def frame_hash(self, i: int, dpi: float = DEFAULT_DPI) -> str:
        """sha256 of frame ``i``'s pixels: equal seeds give equal hashes."""
        return self.frame_hashes([i], dpi)[0]

    def frame_hashes(self, indices, dpi: float = DEFAULT_DPI) -> list:
        """sha256 of the pixels of each frame in ``indices`` (one drawing pass)."""
        return [hashlib.sha256(rgba.tobytes()).hexdigest() for rgba in self.frames_rgba(indices, dpi)]

    def png(self, dpi: float = DEFAULT_DPI) -> bytes:
        """The still (last frame, the whole trajectory) as PNG bytes."""
        buf = io.BytesIO()
        _palette_images([self.frame_rgba(self.frames - 1, dpi)])[0].save(buf, format="png", optimize=True)
        return buf.getvalue()

    def gif(self, dpi: float = DEFAULT_DPI) -> bytes:
        """The animation as GIF bytes (Pillow; one palette for all frames, no dithering).

        In a notebook: ``IPython.display.Image(demo.gif())``.
        """
        buf = io.BytesIO()
        images = _palette_images(list(self.frames_rgba(dpi=dpi)))
        images[0].save(buf, format="gif", save_all=True, append_images=images[1:], duration=1000 // FPS, loop=0)
        return buf.getvalue()

    def save(self, directory, format: str = "gif", dpi: float = DEFAULT_DPI) -> RenderResult:
        """Write ``NAME.FORMAT`` (the animation; gif or mp4) and ``NAME.png`` (the still) into ``directory``.

        With ``format="png"`` only the still is written. The directory is created if needed.
        """
        check_format(format)
        dpi = check_dpi(dpi)
        directory = check_output_dir(directory)
        start = time.perf_counter()
        files, sizes = {}, {}
        if format in ("gif", "mp4"):
            path = os.path.join(directory, f"{self.name}.{format}")
            self._save_animation(path, format, dpi)
            files[format], sizes[format] = path, os.path.getsize(path)
        still = os.path.join(directory, f"{self.name}.png")
        _atomic_write_bytes(still, self.png(dpi))
        files["png"], sizes["png"] = still, os.path.getsize(still)
        return RenderResult(self.name, files, sizes, self.frames, time.perf_counter() - start)

    def _save_animation(self, path, format, dpi):
        if format == "gif":
            _atomic_write_bytes(path, self.gif(dpi))
            return
        from matplotlib.animation import FFMpegWriter

        class _Writer(FFMpegWriter):  # takes the blitted frames instead of a full savefig per frame
            def grab_rgba(self, rgba):
                w, h = self.frame_size  # the writer's size; the canvas may differ by a rounding pixel
                frame = np.full((h, w, 4), 255, dtype=np.uint8)
                frame[: min(h, rgba.shape[0]), : min(w, rgba.shape[1])] = rgba[:h, :w]
                self._proc.stdin.write(frame.tobytes())

        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{self.name}-", suffix=".mp4")
        os.close(fd)
        old_dpi = self.figure.dpi
        try:
            # yuv420p (what players accept) needs even sides: pad by one pixel where needed
            writer = _Writer(fps=FPS, codec="h264",
                             extra_args=["-pix_fmt", "yuv420p", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"])
            self.figure.set_dpi(dpi)
            with writer.saving(self.figure, tmp, dpi):
                for rgba in self.frames_rgba(dpi=dpi):
                    writer.grab_rgba(rgba)
            os.replace(tmp, path)
        finally:
            self.figure.set_dpi(old_dpi)
            if os.path.exists(tmp):
                os.unlink(tmp)


def _palette_images(frames, colors: int = 96):
    """RGBA arrays -> Pillow palette images sharing one palette (taken from the last frame), no dithering.

    One palette for all frames keeps unchanged pixels identical from frame to frame, which is what
    lets the GIF encoder store only the changed rectangle of each frame.
    """
    from PIL import Image

    rgb = [Image.fromarray(np.ascontiguousarray(f[..., :3])) for f in frames]
    palette = rgb[-1].quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    return [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in rgb]
