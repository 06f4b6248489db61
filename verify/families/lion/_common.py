"""Shared pieces of the ``lion`` claims: sources, figures, and the l1/l2 ratio.

>>> import numpy as np
>>> float(l1_l2_ratio(np.array([3.0, -4.0])))
1.4
"""
from __future__ import annotations

import numpy as np

__all__ = ["CHEN_LION", "CHEN_LYAP", "DONG", "figure", "l1_l2_ratio"]

CHEN_LION = "Chen et al. 2023, Symbolic Discovery of Optimization Algorithms (arXiv 2302.06675)"
CHEN_LYAP = "Chen, Liu, Liang, Liu 2023, Lion Secretly Solves Constrained Optimization (arXiv 2310.05898)"
DONG = "Dong, Li, Lin 2024, Convergence Rate Analysis of LION (arXiv 2411.07724)"


def figure(ncols=2, width=10.0, height=3.8, left=0.08, wspace=0.28):
    """A matplotlib Figure (no pyplot state) with ``ncols`` axes in a row.

    Margins are fixed rather than solved by a layout engine (which doubles the rendering time of
    the family's figures); ``left`` and ``wspace`` make room for long tick labels.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=left, right=0.98, bottom=0.14, top=0.84, wspace=wspace)
    return fig, np.atleast_1d(fig.subplots(1, ncols))


def l1_l2_ratio(g):
    """r = ||g||_1 / ||g||_2 over the last axis (1 <= r <= sqrt(d) for g != 0)."""
    return np.sum(np.abs(g), axis=-1) / np.sqrt(np.sum(g * g, axis=-1))
