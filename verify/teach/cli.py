"""``stochopt demo``: render the teaching demonstrations from the command line.

    stochopt demo --list
    stochopt demo [NAME ...] [--out DIR] [--format gif|mp4|png] [--frames N] [--dpi D] [--seed S]

Without a name every demo is rendered. Each demo writes ``DIR/NAME.gif`` (or ``.mp4``) and the
still ``DIR/NAME.png``; ``--format png`` writes the still only. Every argument is checked before
anything is computed: an unknown name gets the close matches, an output directory that cannot
be written is an error, and mp4 without ffmpeg says so.

>>> main_demo(["--list"])  # doctest: +ELLIPSIS
methods-on-a-kink ...
0
"""
from __future__ import annotations

import argparse
import sys
import time

__all__ = ["add_demo_parser", "run_demo", "list_demos", "main_demo"]


def add_demo_parser(subparsers):
    """Add the ``demo`` subcommand to the ``stochopt`` parser's subparsers."""
    from ._core import DEFAULT_DPI, DEFAULT_FRAMES, FORMATS, FRAME_RANGE

    d = subparsers.add_parser("demo", help="render teaching demonstrations (animations and stills)")
    d.add_argument("names", nargs="*", metavar="NAME", help="demo names (default: all; see --list)")
    d.add_argument("--list", action="store_true", help="list the demos, one line each")
    d.add_argument("--out", default="stochopt-demos", metavar="DIR", help="output directory (default ./stochopt-demos)")
    d.add_argument("--format", default="gif", choices=FORMATS,
                   help="gif (default), mp4 (needs ffmpeg) or png (the still only)")
    d.add_argument("--frames", type=int, default=DEFAULT_FRAMES,
                   help=f"frames per animation, {FRAME_RANGE[0]} to {FRAME_RANGE[1]} (default {DEFAULT_FRAMES})")
    d.add_argument("--dpi", type=float, default=DEFAULT_DPI, help=f"resolution (default {DEFAULT_DPI})")
    d.add_argument("--seed", type=int, default=0, help="seed of the random starts and stepsizes (default 0)")
    return d


def list_demos(stream=None) -> int:
    """Print every demo's name and one-line summary."""
    from . import describe

    stream = stream or sys.stdout
    rows = describe()
    width = max(len(name) for name, _ in rows)
    for name, summary in rows:
        print(f"{name:<{width}}  {summary}", file=stream)
    return 0


def run_demo(args) -> int:
    """Carry out ``stochopt demo`` for parsed ``args``; returns the exit status."""
    from . import _check_frames, _module, check_dpi, check_format, check_output_dir, names, render

    if args.list:
        return list_demos()
    try:
        chosen = list(args.names) or names()
        for name in chosen:
            _module(name)
        check_format(args.format)
        _check_frames(args.frames)
        check_dpi(args.dpi)
        out = check_output_dir(args.out)
    except (ValueError, TypeError) as exc:
        print(f"stochopt demo: {exc}", file=sys.stderr)
        return 2
    for name in chosen:
        start = time.perf_counter()
        try:
            result = render(name, out, format=args.format, frames=args.frames, dpi=args.dpi, seed=args.seed)
        except (ValueError, TypeError) as exc:
            print(f"stochopt demo: {exc}", file=sys.stderr)
            return 2
        written = ", ".join(f"{path} ({result.bytes[fmt] / 1024:.0f} kB)" for fmt, path in result.files.items())
        what = "the still" if args.format == "png" else f"{result.frames} frames and the still"
        print(f"{name}: {what} in {time.perf_counter() - start:.1f} s -> {written}")
    return 0


def main_demo(argv=None) -> int:
    """``stochopt demo`` alone (for tests and ``python -m verify.teach.cli``)."""
    parser = argparse.ArgumentParser(prog="stochopt")
    add_demo_parser(parser.add_subparsers(dest="command"))
    return run_demo(parser.parse_args(["demo", *(argv or [])]))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main_demo(sys.argv[1:]))
