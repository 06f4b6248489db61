"""Demo 1, methods on a kink: five methods of the framework on the crescent, with the Clarke polytope.

f(x) = max{x1^2 + (x2 - 1)^2 + x2 - 1, -x1^2 - (x2 - 1)^2 + x2 + 1} (nonconvex, Lukšan-Vlček) has
its kink on the circle x1^2 + (x2 - 1)^2 = 1 and its minimiser x* = (0, 0) on that circle. At
each iterate the demo draws, anchored at the iterate and scaled by ``data["scale"]``, the hull of
the gradients of the pieces active within ``epsilon`` (``problem.clarke(x, tol=epsilon)``; with
epsilon -> 0 it is the Clarke subdifferential) and its min-norm element
(``verify.min_norm_point``). The last panel shows the length of that element, which goes to 0,
and the exact Clarke distance at x_k (tol 1e-9), which stays at a gradient norm because
iterates never sit exactly on the kink.

``data`` keys: ``problem``, ``epsilon``, ``scale``, ``methods`` (names), ``steps`` (k of each
frame), ``x`` (frames, methods, 2), ``generators`` [frame][method] (m, 2), ``min_norm``
(frames, methods, 2), ``exact_distance`` and ``epsilon_distance`` (frames, methods).
"""
from __future__ import annotations

import numpy as np

from ._core import STYLES, Demo, Knob, draw_contours, draw_kinks, frame_indices, hull_vertices, new_figure

NAME = "methods-on-a-kink"
TITLE = "Methods on a kink: the Clarke polytope along five trajectories"
SUMMARY = "heavy ball, Signum, Lion, normalized and clipped SGD on the crescent, with the Clarke polytope"
KNOBS = (
    Knob("lr", 0.3, 0.02, 1.0, "initial stepsize eta_0 (eta_k = eta_0 / (k + 1)^0.6)"),
    Knob("momentum", 0.9, 0.0, 0.99, "momentum beta (Lion: beta_1)"),
    Knob("epsilon", 0.1, 1e-3, 0.5, "pieces within epsilon of the max count as active"),
)
STEPS = 400
CAPTION = ("Five methods from x0 = (-1.5, 2) with eta_k = eta_0/(k+1)^0.6; grey pixels: the kink circle, "
           "where the two pieces are equal; x* = (0, 0) lies on it. At the iterate: the hull of the gradients "
           "of the pieces active within epsilon (shaded; a point away from the kink, a segment near it) and its "
           "min-norm element (arrow; its negative is the steepest-descent direction). Look at the arrow: it "
           "shrinks only as the polytope grows into a segment that straddles 0. Last panel: its length goes to 0 "
           "for every method, while the exact Clarke distance at x_k (grey dots) stays near a gradient norm: "
           "iterates never land exactly on the kink, so the exact set at x_k is a single gradient.")


def _methods(lr, momentum):
    import stochopt
    from stochopt import schedules

    eta = schedules.polynomial(lr, b=1.0, p=0.6)
    return {
        "heavy ball": stochopt.heavy_ball(lr=eta, momentum=momentum),
        "Signum": stochopt.signum(lr=eta, momentum=momentum),
        "Lion": stochopt.lion(lr=eta, betas=(momentum, max(momentum, 0.99))),
        "normalized SGD": stochopt.normalized_sgd(lr=eta, momentum=momentum),
        "clipped SGD": stochopt.clipped_sgd(lr=eta, threshold=1.0, momentum=momentum),
    }


def compute(frames: int, lr: float, momentum: float, epsilon: float) -> dict:
    """The drawn numbers (see the module docstring for the keys)."""
    import problems
    import stochopt

    from ..measures import clarke_distance, min_norm_point

    p = problems.get("crescent")
    methods = _methods(lr, momentum)
    X = np.stack([stochopt.run(opt, p, steps=STEPS, record_every=1).x[:, 0] for opt in methods.values()], axis=1)
    picks = frame_indices(STEPS + 1, frames, "sqrt")
    x = X[picks]
    gens = [[p.clarke(x[f, j], tol=epsilon) for j in range(len(methods))] for f in range(frames)]
    mins = np.array([[min_norm_point(G).point for G in row] for row in gens])
    exact = np.array([clarke_distance(p, x[f]).value for f in range(frames)])
    return {"problem": p, "epsilon": epsilon, "scale": 0.15, "methods": list(methods), "steps": picks,
            "x": x, "all_x": X, "generators": gens, "min_norm": mins, "exact_distance": exact,
            "epsilon_distance": np.sqrt(np.sum(mins**2, axis=-1))}


def build(frames: int, seed: int, lr: float, momentum: float, epsilon: float) -> Demo:
    """The demo (deterministic: full-batch runs from the standard start; ``seed`` is unused)."""
    from matplotlib.patches import Polygon

    data = compute(frames, lr, momentum, epsilon)
    p, names, s = data["problem"], data["methods"], data["scale"]
    X = data["all_x"]
    lo = np.minimum(X.min(axis=(0, 1)), [-2.0, -0.6]) - 0.15
    hi = np.maximum(X.max(axis=(0, 1)), [1.0, 2.2]) + 0.15
    xlim, ylim = (lo[0], hi[0]), (lo[1], hi[1])

    fig, content = new_figure(TITLE, CAPTION, figsize=(10.5, 7.4))
    axes = content.subplots(2, 3)
    top, measure = list(axes.flat[:5]), axes.flat[5]
    art = []
    for j, (ax, name) in enumerate(zip(top, names)):
        st = STYLES[j]
        draw_contours(ax, p, xlim, ylim, levels=np.linspace(-0.25, 6, 11))
        _, kink = draw_kinks(ax, p, xlim, ylim, label="kink circle")
        ax.plot(*p.x_star, marker="*", color="black", markersize=9, linestyle="none", zorder=5, label="x* = (0, 0)")
        path, = ax.plot([], [], color=st["color"], linestyle=st["linestyle"], linewidth=1.3, zorder=3,
                        label="trajectory")
        dot, = ax.plot([], [], marker=st["marker"], color=st["color"], markersize=6, linestyle="none", zorder=6,
                       label="iterate x_k")
        poly = Polygon(np.zeros((1, 2)), closed=True, facecolor="#c8c8c8", edgecolor="black", alpha=0.85,
                       zorder=4, label=f"hull of active gradients (x {s:g})")
        ax.add_patch(poly)
        gen, = ax.plot([], [], marker=".", color="black", linestyle="none", zorder=5)
        arrow = ax.annotate("", xy=(0, 0), xytext=(0, 0), zorder=7,
                            arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.6})
        ax.set(xlim=xlim, ylim=ylim, xlabel="x1", ylabel="x2", aspect="equal")
        ax.set_title(name, fontsize=10, color=st["color"], fontweight="bold")
        if j == 0:
            ax.plot([], [], color="black", linewidth=1.6, label=f"min-norm element (x {s:g})")
            handles, labels = ax.get_legend_handles_labels()
            ax.legend(handles=[kink, *handles], fontsize=6.5, loc="upper right", framealpha=0.9)
        art.append((path, dot, poly, gen, arrow))
    curves = []
    for j, name in enumerate(names):
        st = STYLES[j]
        line, = measure.semilogy([], [], label=name, color=st["color"], linestyle=st["linestyle"],
                                 marker=st["marker"], markevery=max(1, frames // 8), markersize=4)
        curves.append(line)
    exact, = measure.semilogy([], [], color="#777777", linestyle="none", marker=".", markersize=3,
                              label="exact Clarke distance at x_k")
    measure.set(xlim=(0, STEPS), ylim=(1e-4, 10), xlabel="step k (count)",
                ylabel="distance of 0 to the hull (gradient units)")
    measure.set_title(f"min-norm element of the hull, epsilon = {epsilon:g}", fontsize=9)
    measure.legend(fontsize=6.5, loc="lower left", ncols=2)
    stamp = measure.text(0.98, 0.97, "", transform=measure.transAxes, ha="right", va="top", fontsize=8,
                         family="monospace")
    steps = data["steps"]
    floor = 1e-4

    def draw(i):
        for j, (path, dot, poly, gen, arrow) in enumerate(art):
            x = data["x"][i, j]
            upto = X[: steps[i] + 1, j]
            path.set_data(upto[:, 0], upto[:, 1])
            dot.set_data([x[0]], [x[1]])
            G = data["generators"][i][j]
            poly.set_xy(x + s * hull_vertices(G))
            gen.set_data(x[0] + s * G[:, 0], x[1] + s * G[:, 1])
            arrow.xy = tuple(x + s * data["min_norm"][i, j])
            arrow.set_position(tuple(x))
        for j, line in enumerate(curves):
            line.set_data(steps[: i + 1], np.maximum(data["epsilon_distance"][: i + 1, j], floor))
        exact.set_data(np.repeat(steps[: i + 1], len(names)), data["exact_distance"][: i + 1].ravel())
        stamp.set_text(f"k = {steps[i]:4d}")

    params = {"lr": lr, "momentum": momentum, "epsilon": epsilon}
    moving = [a for group in art for a in group] + curves + [exact, stamp]
    artists = {"path": [a[0] for a in art], "iterate": [a[1] for a in art], "polytope": [a[2] for a in art],
               "generators": [a[3] for a in art], "min_norm": [a[4] for a in art], "measure": curves,
               "exact": exact}
    return Demo(NAME, TITLE, CAPTION, fig, frames, draw, data, seed, params, artists, moving)
