"""Demo 3, Clarke stationary is not minimal: Nesterov's second Chebyshev-Rosenbrock function, n = 2.

f(x) = 0.25 |x1 - 1| + |x2 - 2|x1| + 1| has two Clarke-stationary points: the minimiser (1, 1)
(f = 0) and (0, -1) (f = 1/4), where 0 lies in the Clarke set although f decreases along the
valley x2 = 2|x1| - 1 through it. Runs from random starts with random stepsizes (the setting of
the framework's finite-sum theorem) reach the valley, crawl along it, and those that reach
(0, -1) do not stay there: in these runs the point is passed, not a limit. The differential
inclusion x' in -df(x) has several solutions through (0, -1): its minimal-norm solution
(``verify.inclusions``, from (-1.5, -0.5)) slides down the valley and rests at (0, -1), because 0 is
in the Clarke set there, while the iterates follow one that moves on. The exact Clarke sets
of both points are drawn from ``problem.clarke`` and certified by ``verify.clarke_distance``.
At the horizon, each run's end point is tested for epsilon-Clarke stationarity: the distance of 0
to the hull of the gradients of the kinks active within ``data["end_tol"]`` (ten final steps).

``data`` keys: ``problem``, ``method``, ``points`` (2, 2) the Clarke-stationary points,
``point_names``, ``clarke_sets`` (list of generator arrays), ``clarke_distance`` (2,),
``steps`` (frames,), ``all_x`` (records, R, 2), ``record_k`` (records,), ``x`` (frames, R, 2),
``value`` (records, R), ``end_tol``, ``end_generators`` (R arrays), ``end_distance`` (R,),
``end_stationary`` (R,) bool, ``visited_corner`` (R,) bool, ``flow`` (n, 2) the minimal-norm
solution of the inclusion from ``FLOW_START``.
"""
from __future__ import annotations

import numpy as np

from ._core import STYLES, Demo, Knob, draw_contours, draw_kinks, frame_indices, hull_vertices, new_figure

NAME = "clarke-not-minimal"
TITLE = "Clarke stationary is not minimal: Chebyshev-Rosenbrock 2, n = 2"
SUMMARY = "24 random starts on chebyshev-rosenbrock-2: two Clarke-stationary points, one minimiser, exact Clarke sets"
METHODS = ("SGD", "heavy ball", "normalized SGD")
KNOBS = (
    Knob("lr", 0.3, 0.02, 1.0, "stepsize envelope eta_0 (eta_k = eta_0 zeta_k / sqrt(k + 1), zeta_k in [0.5, 1.5])"),
    Knob("method", "SGD", 0, 0, "the method", choices=METHODS),
)
REPLICAS = 24
STEPS = 6000
RECORD = 10
POINTS = ((1.0, 1.0), (0.0, -1.0))
FLOW_START, FLOW_HORIZON = (-1.5, -0.5), 14.0
POINT_NAMES = ("(1, 1): minimiser, f = 0", "(0, -1): Clarke stationary, f = 1/4")
CAPTION = ("f = 0.25|x1 - 1| + |x2 - 2|x1| + 1|. 24 runs from random starts in [-2, 2]^2 with random stepsizes "
           "eta_0 zeta_k / sqrt(k + 1). Left: the runs reach the valley x2 = 2|x1| - 1 (grey kinks) and crawl along "
           "it. Middle: the exact Clarke sets of the two Clarke-stationary points; both contain 0. Yet (0, -1) is "
           "not even a local minimiser: f decreases along the valley through it. Look at the runs that reach it "
           "(dashed): they do not stop there, they slide on towards (1, 1), crossing the level f = 1/4 without a "
           "pause (right). Clarke stationarity is necessary for a minimum, not sufficient, and a Clarke-stationary "
           "point need not attract, though the minimal-norm solution of x' in -df(x) (thick grey) rests there: "
           "the inclusion has several solutions through (0, -1). At the end, filled circles are runs that are "
           "epsilon-Clarke stationary (epsilon = ten final steps), hollow ones are still crawling.")


def _method(name, lr, seed):
    import stochopt
    from stochopt import schedules

    eta = schedules.randomized(schedules.polynomial(lr, b=1.0, p=0.5), low=0.5, high=1.5, seed=seed)
    return {"SGD": lambda: stochopt.sgd(lr=eta), "heavy ball": lambda: stochopt.heavy_ball(lr=eta, momentum=0.5),
            "normalized SGD": lambda: stochopt.normalized_sgd(lr=eta, momentum=0.5)}[name]()


def compute(frames: int, seed: int, lr: float, method: str) -> dict:
    """The drawn numbers (see the module docstring for the keys)."""
    import problems
    import stochopt

    from ..inclusions import integrate, subgradient_flow
    from ..measures import clarke_distance, min_norm_point

    p = problems.get("chebyshev-rosenbrock-2", n=2)
    points = np.array(POINTS)
    trace = stochopt.run(_method(method, lr, seed), p, steps=STEPS, replicas=REPLICAS, seed=seed, x0=np.zeros(2),
                         x0_radius=2.0, record_every=RECORD)
    picks = frame_indices(len(trace.k), frames, "sqrt")
    X = trace.x
    end_tol = 10.0 * lr / np.sqrt(STEPS)
    end_gens = [p.clarke(x, tol=end_tol) for x in X[-1]]
    end_dist = np.array([float(min_norm_point(G).norm) for G in end_gens])
    corner = np.linalg.norm(X - points[1], axis=-1).min(axis=0) < 0.1
    return {"problem": p, "method": method, "points": points, "point_names": POINT_NAMES,
            "clarke_sets": [p.clarke(q) for q in points],
            "clarke_distance": np.array([float(clarke_distance(p, q).value) for q in points]),
            "steps": trace.k[picks], "frame_records": picks, "all_x": X, "record_k": trace.k, "x": X[picks],
            "value": trace.value, "end_tol": end_tol, "end_generators": end_gens, "end_distance": end_dist,
            "end_stationary": end_dist <= 1e-9, "visited_corner": corner,
            "flow": integrate(subgradient_flow(p), np.array(FLOW_START), np.linspace(0.0, FLOW_HORIZON, 141),
                              h=0.1).x}


def build(frames: int, seed: int, lr: float, method: str) -> Demo:
    """The demo; ``seed`` draws the random starts and stepsizes."""
    from matplotlib.patches import Polygon

    data = compute(frames, seed, lr, method)
    p, X, picks = data["problem"], data["all_x"], data["frame_records"]
    fig, content = new_figure(TITLE, CAPTION, figsize=(11.0, 5.6))
    ax_x, ax_g, ax_f = content.subplots(1, 3, width_ratios=[1.25, 1.0, 1.1])
    xlim, ylim = (-2.2, 2.2), (-2.0, 3.2)
    draw_contours(ax_x, p, xlim, ylim, levels=[0.1, 0.25, 0.5, 1, 1.5, 2, 3, 4])
    _, kink = draw_kinks(ax_x, p, xlim, ylim, label="kinks of f")
    ax_x.plot(*data["flow"].T, color="black", linewidth=3.0, alpha=0.35, zorder=2,
              label="min-norm solution of x' in -df(x)")
    corner = data["visited_corner"]
    paths = []
    for r in range(REPLICAS):
        st = STYLES[2] if corner[r] else STYLES[1]
        line, = ax_x.plot([], [], color=st["color"], linestyle="--" if corner[r] else "-", linewidth=0.8,
                          alpha=0.9, zorder=3)
        paths.append(line)
    ax_x.plot([], [], color=STYLES[1]["color"], linewidth=0.8, label="run")
    ax_x.plot([], [], color=STYLES[2]["color"], linestyle="--", linewidth=0.8, label="run that reaches (0, -1)")
    now, = ax_x.plot([], [], marker=".", color="black", markersize=5, linestyle="none", zorder=5,
                     label="current iterates")
    ends_in, = ax_x.plot([], [], marker="o", color="black", markersize=6, linestyle="none", zorder=6,
                         label="end: epsilon-Clarke stationary")
    ends_out, = ax_x.plot([], [], marker="o", markerfacecolor="white", color="black", markersize=6,
                          linestyle="none", zorder=6, label="end: not (yet) stationary")
    marks = [("*", 15), ("D", 8)]
    point_marks = []
    for q, name, (m, size) in zip(data["points"], POINT_NAMES, marks):
        point_marks += ax_x.plot(*q, marker=m, color="black", markerfacecolor="#f0e442", markersize=size,
                                 linestyle="none", zorder=7, label=name)
    ax_x.set(xlim=xlim, ylim=ylim, xlabel="x1", ylabel="x2", aspect="equal")
    handles, labels = ax_x.get_legend_handles_labels()
    ax_x.legend(handles=[kink, *handles], fontsize=6, loc="upper left", framealpha=0.9, ncols=2)
    stamp = ax_x.set_title("", fontsize=9, family="monospace")

    hatches, edges = ("////", "...."), ("-", "--")
    sets = []
    for G, name, hatch, ls, dist in zip(data["clarke_sets"], POINT_NAMES, hatches, edges, data["clarke_distance"]):
        sets.append(Polygon(hull_vertices(G), closed=True, facecolor="none", edgecolor="black", hatch=hatch,
                               linestyle=ls, linewidth=1.2, label=f"{name.split(':')[0]}: dist(0, set) = {dist:.0g}"))
        ax_g.add_patch(sets[-1])
        ax_g.plot(G[:, 0], G[:, 1], marker=".", color="black", linestyle="none")
    ax_g.plot([0], [0], marker="+", color=STYLES[2]["color"], markersize=14, markeredgewidth=2, linestyle="none",
              label="origin")
    ax_g.set(xlim=(-2.8, 2.8), ylim=(-1.6, 1.6), aspect="equal", xlabel="d f / d x1 (gradient units)",
             ylabel="d f / d x2 (gradient units)")
    ax_g.set_title("exact Clarke sets (problem.clarke)", fontsize=9)
    ax_g.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.3))

    k = data["record_k"]
    values = np.maximum(data["value"], 1e-4)
    thin = 3  # every third record of f: the curves keep their shape at a third of the drawing cost
    curves = []
    for r in range(REPLICAS):
        st = STYLES[2] if corner[r] else STYLES[1]
        line, = ax_f.semilogy([], [], color=st["color"], linestyle="--" if corner[r] else "-", linewidth=0.8)
        curves.append(line)
    ax_f.axhline(0.25, color="black", linestyle=":", linewidth=1.2, label="f(0, -1) = 1/4")
    ax_f.plot([], [], color=STYLES[2]["color"], linestyle="--", linewidth=0.8, label="run that reaches (0, -1)")
    ax_f.plot([], [], color=STYLES[1]["color"], linewidth=0.8, label="other run")
    ax_f.set(xlim=(0, STEPS), ylim=(1e-3, 20), xlabel="step k (count)", ylabel="f(x_k) - f* (objective units)")
    ax_f.legend(fontsize=7, loc="upper right")
    ax_f.set_title(f"{method}, f along each run", fontsize=9)
    stat = data["end_stationary"]
    last = frames - 1

    def draw(i):
        j = picks[i]
        for r, line in enumerate(paths):
            line.set_data(X[: j + 1, r, 0], X[: j + 1, r, 1])
        for r, line in enumerate(curves):
            line.set_data(k[: j + 1: thin], values[: j + 1: thin, r])
        now.set_data(X[j, :, 0], X[j, :, 1])
        ends_in.set_data(X[-1, stat, 0] if i == last else [], X[-1, stat, 1] if i == last else [])
        ends_out.set_data(X[-1, ~stat, 0] if i == last else [], X[-1, ~stat, 1] if i == last else [])
        near = int((np.linalg.norm(X[j] - data["points"][0], axis=1) < 0.05).sum())
        stamp.set_text(f"k = {k[j]:5d}: {near:2d}/{REPLICAS} runs within 0.05 of (1, 1)")

    moving = [*paths, *curves, now, ends_in, ends_out, stamp]
    return Demo(NAME, TITLE, CAPTION, fig, frames, draw, data, seed, {"lr": lr, "method": method},
                {"paths": paths, "iterates": now, "ends_stationary": ends_in, "ends_not_stationary": ends_out,
                 "points": point_marks, "clarke_sets": sets, "values": curves}, moving)
