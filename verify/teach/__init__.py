"""Teaching demonstrations: the methods, subdifferentials, epsilon-balls and flows, drawn exactly.

Each demo is a short story with a title and a caption that says what to look at; it is computed
with the project's own problems, measures and flows, and keeps the numbers it draws in
``demo.data`` so that tests can compare the drawing with an independent computation.

>>> from verify import teach
>>> teach.names()[:2]
['methods-on-a-kink', 'goldstein-ball']
>>> demo = teach.build("goldstein-ball", frames=40)
>>> demo.frames, demo.title
(40, 'The Goldstein epsilon-ball: small hull, large gradient')
>>> fig = demo.still()          # a matplotlib Figure at the last frame

Command line: ``stochopt demo --list``, ``stochopt demo NAME [--out DIR] [--format gif|mp4|png]
[--frames N]``. In a notebook: ``IPython.display.HTML(demo.animation().to_jshtml())``, or sliders
with ``teach.interactive(NAME)`` (needs ipywidgets: ``pip install 'stochopt[teach]'``).
"""
from __future__ import annotations

from . import adam_sign, artifact, clarke_points, goldstein_ball, kink, tracking_flow, two_timescales
from ._core import (
    DEFAULT_DPI,
    DEFAULT_FRAMES,
    FRAME_RANGE,
    MAX_BYTES,
    STYLES,
    Demo,
    Knob,
    RenderResult,
    available_formats,
    check_dpi,
    check_format,
    check_output_dir,
    knob_values,
)

__all__ = ["names", "describe", "knobs", "build", "render", "interactive", "Demo", "Knob", "RenderResult",
           "available_formats", "FRAME_RANGE", "DEFAULT_FRAMES", "DEFAULT_DPI", "MAX_BYTES", "STYLES", "REGISTRY"]

#: name -> demo module (each has NAME, TITLE, SUMMARY, KNOBS and build(frames, seed, **knobs)), in lecture order.
REGISTRY = {m.NAME: m for m in (kink, goldstein_ball, clarke_points, artifact, tracking_flow, two_timescales,
                                 adam_sign)}


def names() -> list:
    """Demo names, in the order of the suggested lecture path.

    >>> len(names()) >= 5
    True
    """
    return list(REGISTRY)


def _module(name):
    if name not in REGISTRY:
        from stochopt._checks import unknown_name_message

        raise ValueError(unknown_name_message("demo", name, list(REGISTRY)))
    return REGISTRY[name]


def describe() -> list:
    """(name, one-line summary) of every demo.

    >>> describe()[0][0]
    'methods-on-a-kink'
    """
    return [(m.NAME, m.SUMMARY) for m in REGISTRY.values()]


def knobs(name: str) -> tuple:
    """The parameters (``Knob`` records) a teacher may change in demo ``name``.

    >>> [k.name for k in knobs("goldstein-ball")]
    ['epsilon', 'samples']
    """
    return _module(name).KNOBS


def _check_frames(frames):
    from stochopt._checks import check_int

    return check_int("frames", frames, low=FRAME_RANGE[0], high=FRAME_RANGE[1])


def build(name: str, frames: int = DEFAULT_FRAMES, seed: int = 0, **params) -> Demo:
    """Build demo ``name`` with ``frames`` frames (40 to 150) and the given knob values.

    The same (name, frames, seed, params) always gives the same frames, pixel for pixel.

    >>> build("no-such-demo")
    Traceback (most recent call last):
    ...
    ValueError: unknown demo 'no-such-demo'. Accepted: ...
    """
    from stochopt._checks import check_int

    module = _module(name)
    frames = _check_frames(frames)
    seed = check_int("seed", seed, low=0)
    values = knob_values(module.KNOBS, params, name)
    return module.build(frames=frames, seed=seed, **values)


def render(name: str, out=".", format: str = "gif", frames: int = DEFAULT_FRAMES, dpi: float = DEFAULT_DPI,
           seed: int = 0, **params) -> RenderResult:
    """Build demo ``name`` and write ``out/NAME.gif`` (or ``.mp4``) and the still ``out/NAME.png``.

    Every argument (name, format, frames, an output directory that can be written) is checked
    before anything is computed.

    >>> import tempfile
    >>> r = render("goldstein-ball", tempfile.mkdtemp(), format="png", frames=40, dpi=30)
    >>> sorted(r.files)
    ['png']
    """
    _module(name)
    check_format(format)
    _check_frames(frames)
    check_dpi(dpi)
    out = check_output_dir(out)
    return build(name, frames=frames, seed=seed, **params).save(out, format=format, dpi=dpi)


def interactive(name: str = "methods-on-a-kink", frames: int = 40, dpi: float = DEFAULT_DPI, **params):
    """Sliders for the demo's knobs (lr, momentum, epsilon, method, ...) and the frame, in a notebook.

    Needs ipywidgets (``pip install 'stochopt[teach]'``); without it, raises ImportError saying so.
    """
    from .sliders import interactive as _interactive

    return _interactive(name, frames=frames, dpi=dpi, **params)
