"""CPU time of rendering the quick suite's figures: ``report.render_png`` against the former way.

Runs the selected claims (default: all) in quick mode at seed 0 in this process. Every figure a
part hands to the registry is copied (pickled, before it is drawn) and rendered twice, back to
back: by ``verify.report.render_png`` as the report does, and by the peer, the rendering used
before: constrained layout, mathtext log tick labels (matplotlib's defaults) and
``savefig(format="png")`` (RGBA, zlib level 6). The peer's figure keeps the new fixed margins
but gets the constrained layout engine, so both draw the same content. Read the ratio, not
the absolute times (the machine is shared). Usage::

    python benchmarks/figures.py [CLAIM_OR_PREFIX ...]
"""
from __future__ import annotations

import io
import os
import pickle
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import verify  # noqa: E402
from verify import registry  # noqa: E402
from verify.report import render_png  # noqa: E402


def _former_png(fig) -> bytes:
    fig.set_layout_engine("constrained")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def main(argv=None) -> int:
    selected = (argv if argv is not None else sys.argv[1:]) or None
    totals = {"render_png": [0.0, 0], "former": [0.0, 0]}
    count = [0]
    original = registry._render

    def timed(figures, claim_id, kind):
        for item in figures:
            if isinstance(item, registry.FigureRecord):
                continue
            fig = item[0] if isinstance(item, tuple) else item
            count[0] += 1
            for name, render in (("former", _former_png), ("render_png", render_png)):
                copy = pickle.loads(pickle.dumps(fig))  # both start from the undrawn figure
                start = time.process_time()
                png = render(copy)
                totals[name][0] += time.process_time() - start
                totals[name][1] += len(png)
        return original(figures, claim_id, kind)

    registry._render = timed
    try:
        verify.run_claims(selected, mode="quick", seeds=(0,), progress=False)
    finally:
        registry._render = original
    print(f"{count[0]} figures")
    for name, (cpu, size) in totals.items():
        print(f"{name:>10}: {cpu:7.2f} s CPU, {size / 1e6:6.2f} MB of PNG")
    ratio = totals["render_png"][0] / max(totals["former"][0], 1e-9)
    print(f"render_png / former: {ratio:.2f} of the CPU time, "
          f"{totals['render_png'][1] / max(totals['former'][1], 1):.2f} of the bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
