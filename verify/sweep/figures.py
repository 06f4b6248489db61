"""The figures of a sweep: heat maps over two grid axes and lines over one, from ``[figures]``.

A figure table::

    [figures.decrease]
    kind = "heatmap"                 # or "line"
    statistic = "lyapunov_increase_share"
    x = "tau"
    y = "lr0"                        # heat maps only; lines may give hue = "<axis>" for one line per value
    at = "final"                     # the record shown ("final" or a step k); per-replica statistics ignore it
    log = true                       # log colour scale / log y axis
    conditions = "tau <= 1"          # heat maps: outline the region where the theorem's conditions hold
    eps = 0                          # goldstein / clarke_distance: index into the eps / clarke_tol list
    where = { momentum = 0.9 }       # values of the other grid axes (default: their first value)

Values are the median over seeds and replicas; lines carry a percentile-bootstrap 95% band of
that median.
"""
from __future__ import annotations

import itertools
import os

import numpy as np

__all__ = ["draw"]


def _select(result, fig):
    """(values (seeds, points..., replicas) at the figure's record, the point index grid)."""
    spec = result.spec
    arr = result.arrays[fig["statistic"]]
    if fig["statistic"] in ("goldstein", "clarke_distance"):
        arr = arr[:, :, int(fig.get("eps", 0))]
    if arr.ndim == 4:  # (seeds, points, records, replicas)
        at = fig.get("at", "final")
        j = len(result.k) - 1 if at == "final" else int(np.searchsorted(result.k, int(at)))
        arr = arr[:, :, j]
    return arr.reshape((arr.shape[0],) + spec.shape + (arr.shape[-1],))


def _fix_other_axes(spec, values, keep, fig):
    axes = list(spec.grid)
    where = fig.get("where", {})
    index = []
    for a in axes:
        if a in keep:
            index.append(slice(None))
        else:
            vals = spec.grid[a]
            index.append(vals.index(where[a]) if a in where else 0)
    kept = values[(slice(None), *index, slice(None))]
    order = [a for a in axes if a in keep]
    return kept, order


def _median_band(samples, rng_seed=0, n_boot=400):
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return np.nan, np.nan, np.nan
    rng = np.random.default_rng(rng_seed)
    boot = np.median(rng.choice(samples, size=(n_boot, samples.size)), axis=1)
    return float(np.median(samples)), float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))


def _heatmap(result, fig):
    from ..report import subplots
    from .spec import evaluate_condition

    spec = result.spec
    values, order = _fix_other_axes(spec, _select(result, fig), {fig["x"], fig["y"]}, fig)
    if order[0] != fig["y"]:
        values = np.swapaxes(values, 1, 2)
    med = np.nanmedian(values.transpose(1, 2, 0, 3).reshape(values.shape[1], values.shape[2], -1), axis=2)
    xs, ys = spec.grid[fig["x"]], spec.grid[fig["y"]]
    figure, ax = subplots(figsize=(5.6, 4.2), margins={"right": 0.9})  # the colorbar's labels
    shown = np.log10(np.maximum(med, 1e-300)) if fig.get("log") else med
    mesh = ax.imshow(shown, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs])
    ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys])
    bar = figure.colorbar(mesh, ax=ax)
    bar.set_label(("log10 " if fig.get("log") else "") + f"median {fig['statistic']}")
    if fig.get("conditions"):
        where = {a: (fig.get("where", {}).get(a, spec.grid[a][0])) for a in spec.grid}
        mask = np.array([[bool(evaluate_condition(fig["conditions"], {**where, fig["x"]: x, fig["y"]: y}))
                          for x in xs] for y in ys], dtype=float)
        if 0 < mask.sum() < mask.size:
            ax.contour(mask, levels=[0.5], colors="white", linestyles="--", linewidths=2)
        ax.plot([], [], "w--", label=f"theorem's conditions hold: {fig['conditions']}")
        ax.legend(loc="upper right", fontsize=7, facecolor="grey")
    ax.set(title=fig.get("title", f"{spec.name}: {fig['statistic']}"), xlabel=fig["x"], ylabel=fig["y"])
    return figure


def _line(result, fig):
    from ..report import subplots

    spec = result.spec
    keep = {fig["x"]} | ({fig["hue"]} if fig.get("hue") else set())
    values, order = _fix_other_axes(spec, _select(result, fig), keep, fig)
    xs = spec.grid[fig["x"]]
    hues = spec.grid[fig["hue"]] if fig.get("hue") else [None]
    figure, ax = subplots(figsize=(5.6, 4.0))
    styles = itertools.cycle(["o-", "s--", "^-.", "d:"])
    for h, hue in enumerate(hues):
        rows = []
        for i in range(len(xs)):
            idx = [slice(None)] * values.ndim
            idx[1 + order.index(fig["x"])] = i
            if hue is not None:
                idx[1 + order.index(fig["hue"])] = h
            rows.append(_median_band(values[tuple(idx)].ravel(), rng_seed=i))
        med, lo, hi = (np.array(c) for c in zip(*rows))
        line, = ax.plot(xs, med, next(styles), label=f"{fig['hue']} = {hue:g}" if hue is not None else "median")
        ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2)
    if fig.get("log"):
        ax.set_yscale("log")
    if fig.get("logx"):
        ax.set_xscale("log")
    ax.set(title=fig.get("title", f"{spec.name}: {fig['statistic']}"), xlabel=fig["x"],
           ylabel=f"median {fig['statistic']} (95% bootstrap band)")
    ax.legend(fontsize=7)
    return figure


def draw(result) -> list:
    """Draw every figure of the spec into ``out/figures/``; return [{"file", "caption"}]."""
    from stochopt.engine import atomic_write

    from ..report import render_png

    drawn = []
    for fig in result.spec.figures:
        figure = _heatmap(result, fig) if fig["kind"] == "heatmap" else _line(result, fig)
        png = render_png(figure)
        name = f"figures/{fig['name']}.png"
        atomic_write(os.path.join(result.out, name), lambda f: f.write(png))
        caption = fig.get("caption", f"median {fig['statistic']} over seeds and replicas")
        drawn.append({"file": name, "caption": caption})
    return drawn
