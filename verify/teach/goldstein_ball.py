"""Demo 2, the Goldstein epsilon-ball: sampled gradients, their hull and its min-norm vector as epsilon shrinks.

At x = (0.05, -2.5), DEM (f = max{5 x1 + x2, -5 x1 + x2, x1^2 + x2^2 + 4 x2}, Lukšan-Vlček) is
differentiable with gradient (5, 1), of norm 5.1. The ball B(x, epsilon) reaches the kink x1 = 0
once epsilon > 0.05 and the region of the quadratic piece once epsilon > about 0.6: the
Goldstein measure ||min-norm point of conv{grad f(y_i)}|| (``verify.goldstein``, y_i uniform in
the ball) falls from 5.1 to 1 to about 0. So x is epsilon-stationary for a large epsilon although
its gradient is large. The same seed gives the same unit-ball sample, scaled by epsilon, so the
points move continuously as the ball shrinks.

``data`` keys: ``problem``, ``x``, ``eps`` (frames,), ``samples``, ``seed``, ``points``
(frames, m, 2), ``gradients`` (frames, m, 2), ``min_norm`` (frames, 2), ``value`` (frames,),
``certified`` (frames,), ``piece`` (frames, m) index of the piece active at each point,
``clarke_at_x`` (the generators of the Clarke set at x).
"""
from __future__ import annotations

import numpy as np

from ._core import STYLES, Demo, Knob, hull_vertices, kink_mask, new_figure

NAME = "goldstein-ball"
TITLE = "The Goldstein epsilon-ball: small hull, large gradient"
SUMMARY = "points sampled in B(x, eps) near a kink of DEM, their gradients, hull and min-norm vector as eps shrinks"
KNOBS = (
    Knob("epsilon", 1.0, 0.1, 2.0, "largest radius; the animation shrinks it 100-fold"),
    Knob("samples", 40, 3, 200, "number of points sampled in the ball", integer=True),
)
X = (0.05, -2.5)
PIECES = ("5 x1 + x2", "-5 x1 + x2", "x1^2 + x2^2 + 4 x2")
CAPTION = ("f = max{5x1 + x2, -5x1 + x2, x1^2 + x2^2 + 4x2} (DEM) at x = (0.05, -2.5), where f is smooth with "
           "gradient (5, 1), of norm 5.1. Top left: the ball B(x, epsilon), its sampled points "
           "(marker: which piece is the max there) and the kinks (grey), drawn in units of epsilon: as the ball "
           "shrinks, the kinks leave it. Top right: their gradients, the hull and its "
           "min-norm vector (arrow from 0); the star is the gradient at x itself. Bottom: the Goldstein measure, the "
           "length of that arrow, against epsilon. Look at the three plateaus: about 0 while the ball holds all "
           "three pieces, 1 while it straddles only the kink x1 = 0, 5.1 once it has none: x is epsilon-stationary "
           "for a large epsilon although its gradient is not small.")


def compute(frames: int, epsilon: float, samples: int, seed: int) -> dict:
    """The drawn numbers (see the module docstring for the keys)."""
    import problems

    from ..measures import goldstein

    p = problems.get("dem")
    x = np.array(X)
    eps = epsilon * np.geomspace(1.0, 1e-2, frames)
    res = [goldstein(p, x, e, samples=samples, seed=seed) for e in eps]
    points = np.stack([r.points for r in res])
    piece = np.array([[p.active_pieces(y)[0][0] for y in pts] for pts in points])
    return {"problem": p, "x": x, "eps": eps, "samples": samples, "seed": seed, "points": points,
            "gradients": np.stack([r.gradients for r in res]), "min_norm": np.stack([r.direction for r in res]),
            "value": np.array([float(r.value) for r in res]), "certified": np.array([bool(r.certified) for r in res]),
            "piece": piece, "clarke_at_x": p.clarke(x)}


def build(frames: int, seed: int, epsilon: float, samples: int) -> Demo:
    """The demo; ``seed`` picks the sampled points."""
    from matplotlib.patches import Circle, Polygon

    data = compute(frames, epsilon, samples, seed)
    p, x = data["problem"], data["x"]
    fig, content = new_figure(TITLE, CAPTION, figsize=(10.0, 7.2))
    grid = content.add_gridspec(2, 2, width_ratios=[1.0, 1.55], height_ratios=[1.35, 1.0])
    ax_x, ax_g = content.add_subplot(grid[0, 0]), content.add_subplot(grid[0, 1])
    ax_m = content.add_subplot(grid[1, :])

    # The ball is drawn in units of epsilon around x, u = (y - x) / epsilon, so that it keeps its size
    # while the kinks move out of it (and the axes need no redrawing between frames).
    view = (-1.35, 1.35)
    kinks = ax_x.imshow(np.zeros((2, 2, 4)), extent=(*view, *view), origin="lower", interpolation="nearest",
                        zorder=1)
    ax_x.add_patch(Circle((0.0, 0.0), 1.0, fill=False, edgecolor="black", linewidth=1.2, zorder=3,
                          label="ball B(x, epsilon)"))
    ax_x.plot(0.0, 0.0, marker="*", color="black", markersize=11, linestyle="none", zorder=5, label="x")
    point_sets, grad_sets = [], []
    for j, name in enumerate(PIECES):
        st = STYLES[j]
        line, = ax_x.plot([], [], marker=st["marker"], color=st["color"], linestyle="none", markersize=4, zorder=4,
                          label=f"max is {name}")
        point_sets.append(line)
        line, = ax_g.plot([], [], marker=st["marker"], color=st["color"], linestyle="none", markersize=5, zorder=4,
                          label=f"gradient of {name}")
        grad_sets.append(line)
    ax_x.plot([], [], color=(0.35, 0.35, 0.35), linewidth=2.5, label="kinks of f")
    ax_x.set(xlim=view, ylim=view, xlabel="(y1 - x1) / epsilon", ylabel="(y2 - x2) / epsilon", aspect="equal")
    ax_x.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)
    zoom = ax_x.set_title("", fontsize=9)

    hull = Polygon(np.zeros((1, 2)), closed=True, facecolor="#cccccc", edgecolor="black", zorder=2,
                   label="hull of the sampled gradients")
    ax_g.add_patch(hull)
    g_x = data["clarke_at_x"]
    star, = ax_g.plot(g_x[:, 0], g_x[:, 1], marker="*", color="black", markersize=12, linestyle="none", zorder=6,
              label="gradient at x (its Clarke set)")
    ax_g.plot([0], [0], marker="+", color="black", markersize=12, linestyle="none", zorder=6, label="origin")
    arrow = ax_g.annotate("", xy=(0, 0), xytext=(0, 0), zorder=7,
                          arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.8})
    ax_g.plot([], [], color="black", linewidth=1.8, label="min-norm vector")
    ax_g.set(xlim=(-6.5, 6.5), ylim=(-3.5, 2.5), xlabel="d f / d x1 (gradient units)",
             ylabel="d f / d x2 (gradient units)", aspect="equal")
    ax_g.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=3)
    ax_g.set_title("gradient space", fontsize=9)

    eps, val = data["eps"], data["value"]
    ax_m.semilogx(eps, val, color="#bbbbbb", linewidth=1.0, linestyle="--", label="whole curve")
    trail, = ax_m.semilogx([], [], color="black", linewidth=1.8, label="Goldstein measure")
    now, = ax_m.plot([], [], marker="o", color="black", linestyle="none", markersize=7, label="current epsilon")
    norm_x = float(np.linalg.norm(g_x[0]))
    ax_m.axhline(norm_x, color=STYLES[2]["color"], linestyle=":", linewidth=1.2,
                 label=f"||grad f(x)|| = {norm_x:.2f}")
    ax_m.set(xlim=(eps[0] * 1.2, eps[-1] / 1.2), ylim=(-0.2, norm_x + 0.8), xlabel="radius epsilon (x units)",
             ylabel="||min-norm point|| (gradient units)")
    ax_m.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    stamp = ax_m.set_title("", fontsize=9, family="monospace")

    unit = np.linspace(*view, 160)
    U, V = np.meshgrid(unit, unit)

    def draw(i):
        e = eps[i]
        rgba = np.zeros(U.shape + (4,))
        rgba[kink_mask(p, x[0] + e * U, x[1] + e * V)] = (0.35, 0.35, 0.35, 0.9)
        kinks.set_data(rgba)
        zoom.set_text(f"the ball in units of epsilon = {e:.3g}")
        for j in range(len(PIECES)):
            sel = data["piece"][i] == j
            u = (data["points"][i, sel] - x) / e
            point_sets[j].set_data(u[:, 0], u[:, 1])
            grad_sets[j].set_data(data["gradients"][i, sel, 0], data["gradients"][i, sel, 1])
        hull.set_xy(hull_vertices(data["gradients"][i]))
        arrow.xy = tuple(data["min_norm"][i])
        arrow.set_position((0.0, 0.0))
        trail.set_data(eps[: i + 1], val[: i + 1])
        now.set_data([e], [val[i]])
        stamp.set_text(f"epsilon = {e:6.3f}   measure = {val[i]:5.3f}")

    moving = [kinks, zoom, *point_sets, *grad_sets, hull, arrow, trail, now, stamp]
    return Demo(NAME, TITLE, CAPTION, fig, frames, draw, data, seed, {"epsilon": epsilon, "samples": samples},
                {"points": point_sets, "gradients": grad_sets, "hull": hull, "min_norm": arrow,
                 "clarke_at_x": star, "measure": trail}, moving)
