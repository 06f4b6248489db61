"""The figure shared by the demos that put runs at several stepsizes against one limiting flow.

Each run r has a constant stepsize ``steps[r]`` and is drawn in ODE time t = k steps[r], so that in every
frame all runs sit at the same t as the flow. Left: the plane with the flow's path, the trails and
the current points; middle: the distance to the flow at time t; right: its maximum so far against
the stepsize, with the reference slope.

``data`` keys added: ``stepsizes`` (R,), ``times`` (frames,), ``flow`` (frames, 2) the flow at those
times, ``flow_path`` (fine path), ``runs`` (frames, R, 2) the iterate of each run at
k = round(t / step), ``all_x`` (records, R, 2), ``error`` (frames, R), ``max_error`` (R,).
"""
from __future__ import annotations

import numpy as np

from ._core import STYLES, Demo, draw_contours, draw_kinks, new_figure


def compare(X, stepsizes, flow_path_fn, horizon, frames) -> dict:
    """Iterates ``X`` (records, R, 2) of runs with constant ``stepsizes`` against the flow at ``frames`` times."""
    stepsizes = np.asarray(stepsizes, dtype=float)
    times = np.linspace(0.0, horizon, frames)
    flow = flow_path_fn(times)
    k = np.minimum(np.round(times[:, None] / stepsizes[None, :]).astype(int), X.shape[0] - 1)
    runs = X[k, np.arange(stepsizes.size)[None, :]]
    error = np.sqrt(np.sum((runs - flow[:, None, :]) ** 2, axis=-1))
    return {"stepsizes": stepsizes, "times": times, "flow": flow, "runs": runs, "all_x": X, "error": error,
            "max_error": error.max(axis=0), "flow_path": flow_path_fn(np.linspace(0.0, horizon, 400))}


def build(name, title, caption, data, frames, seed, params, *, problem, view, levels, run_label, step_name,
          flow_label, slope, extra_paths=(), kinks=False, figsize=(11.0, 4.8)):
    """The Demo: ``view`` = (xlim, ylim); ``extra_paths`` = [(path (n, 2), label, line kwargs)]; ``slope`` of the
    reference line in the right panel (the order the theory predicts)."""
    steps, times = data["stepsizes"], data["times"]
    X = data["all_x"]
    fig, content = new_figure(title, caption, figsize=figsize)
    ax_x, ax_e, ax_r = content.subplots(1, 3, width_ratios=[1.3, 1.0, 0.9])
    xlim, ylim = view
    draw_contours(ax_x, problem, xlim, ylim, levels=levels)
    handles = []
    if kinks:
        handles.append(draw_kinks(ax_x, problem, xlim, ylim)[1])
    ax_x.plot(*data["flow_path"].T, color="black", linewidth=3.0, alpha=0.35, label=flow_label)
    for path, label, style in extra_paths:
        ax_x.plot(*np.asarray(path).T, label=label, **style)
    flow_now, = ax_x.plot([], [], marker="o", markersize=11, markerfacecolor="none", markeredgecolor="black",
                          markeredgewidth=1.5, linestyle="none", zorder=6, label="flow at time t")
    trails, dots, errs = [], [], []
    for j, step in enumerate(steps):
        st = STYLES[j + 1]
        label = f"{run_label}, {step_name} = {step:g}"
        trails.append(ax_x.plot([], [], color=st["color"], linestyle=st["linestyle"], linewidth=1.0)[0])
        dots.append(ax_x.plot([], [], marker=st["marker"], color=st["color"], markersize=6, linestyle="none",
                              zorder=5, label=label)[0])
        errs.append(ax_e.semilogy([], [], color=st["color"], linestyle=st["linestyle"], marker=st["marker"],
                                  markevery=max(1, frames // 8), markersize=4, label=label)[0])
    ax_x.set(xlim=xlim, ylim=ylim, xlabel="x1", ylabel="x2", aspect="equal")
    ax_x.legend(handles=handles + ax_x.get_legend_handles_labels()[0], fontsize=6.5, loc="upper left")
    stamp = ax_x.set_title("", fontsize=9, family="monospace")
    horizon = times[-1]
    ax_e.set(xlim=(0, horizon), ylim=(1e-4, 2), xlabel=f"ODE time t = k {step_name}",
             ylabel="||x_k - z(t)|| (x units)")
    ax_e.set_title(f"distance to the {flow_label}", fontsize=9)
    ax_e.legend(fontsize=6.5, loc="lower right")
    running, = ax_r.loglog([], [], color="black", marker="o", linestyle="-", label="max distance up to t")
    ref = data["max_error"][-1] * (steps / steps[-1]) ** slope
    ax_r.loglog(steps, ref, color="#999999", linestyle="--", label=f"slope {slope:g}")
    low = min(data["max_error"].min(), ref.min()) / 3
    ax_r.set(xlim=(steps.min() / 1.6, steps.max() * 1.6), ylim=(low, 3), xlabel=step_name,
             ylabel="max_t ||x - z|| (x units)")
    ax_r.set_xticks(steps, labels=[f"{step:g}" for step in steps], minor=False)
    ax_r.set_xticks([], minor=True)
    ax_r.set_title(f"the gap shrinks with {step_name}", fontsize=9)
    ax_r.legend(fontsize=7, loc="lower right")

    def draw(i):
        t = times[i]
        for j, step in enumerate(steps):
            k = int(min(round(t / step), X.shape[0] - 1))
            trails[j].set_data(X[: k + 1, j, 0], X[: k + 1, j, 1])
            dots[j].set_data([data["runs"][i, j, 0]], [data["runs"][i, j, 1]])
            errs[j].set_data(times[: i + 1], np.maximum(data["error"][: i + 1, j], 1e-4))
        flow_now.set_data([data["flow"][i, 0]], [data["flow"][i, 1]])
        running.set_data(steps, np.maximum(data["error"][: i + 1].max(axis=0), 1e-6))
        stamp.set_text(f"ODE time t = {t:4.2f}")

    moving = [*trails, *dots, *errs, flow_now, running, stamp]
    artists = {"runs": dots, "trails": trails, "flow": flow_now, "error": errs, "max_error": running}
    return Demo(name, title, caption, fig, frames, draw, data, seed, params, artists, moving)
