"""Demo 4, an autodiff artifact: backprop's derivative 0 at a point where f' = 1 traps a deterministic run.

f(x) = x^2/2 + relu(x) - relu(-x) = x^2/2 + x (``artifact-shifted-quadratic``), minimum at -1. With
relu'(0) = 0, backprop returns f'(0) = 0 instead of 1. SGD from x0 = 1 with eta_0 = 1/2 lands
exactly on 0 after one step (x1 = 1 - (1/2)(1 + 1)) and stays there for ever: a D_f-stationary
point that is not Clarke stationary (the exact Clarke distance, |f'(x)| = |x + 1|, stays 1).
Random starts and random stepsizes (the framework's finite-sum theorem) never land on 0, and
every run reaches -1. Heavy ball lands on 0 too, but its momentum carries it past.

``data`` keys: ``problem``, ``runs`` (names of the groups), ``k`` (records,), ``x`` dict group ->
(records, replicas), ``oracle`` dict group -> (records, replicas) backprop's derivative at x_k,
``clarke_distance`` dict group -> (records, replicas), ``steps`` (frames,) record index per frame,
``trapped`` dict group -> bool (replicas,) (x_K == 0 exactly).
"""
from __future__ import annotations

import numpy as np

from ._core import STYLES, Demo, Knob, frame_indices, new_figure

NAME = "autodiff-artifact"
TITLE = "An autodiff artifact: backprop says f'(0) = 0 where f'(0) = 1"
SUMMARY = "x^2/2 + relu(x) - relu(-x): a deterministic step lands on the kink and sticks, random stepsizes never do"
KNOBS = (Knob("lr", 0.5, 0.05, 0.95, "eta_0 (eta_k = eta_0 / (k + 1)^0.75); 0.5 lands SGD on the kink"),)
STEPS = 150
RANDOM_RUNS = 12
GROUPS = ("SGD, deterministic", "SGD, random start and stepsizes", "heavy ball, deterministic")
CAPTION = ("f(x) = x^2/2 + relu(x) - relu(-x) = x^2/2 + x, minimum at -1. Backprop with relu'(0) = 0 returns "
           "0 at x = 0, where f'(0) = 1 (dashed tangent: what backprop reports; dotted: the true one). "
           "Look at the triangle: deterministic SGD from x0 = 1 with eta_0 = 1/2 lands exactly on 0 after one step and "
           "stays: the "
           "oracle is 0 there, yet 0 is not Clarke stationary (right: its exact Clarke distance stays 1). With a "
           "random start and random stepsizes eta_k zeta_k, zeta_k uniform on [0.5, 1.5], no run ever hits 0 "
           "and all reach -1. Heavy ball (momentum 1/2, stepsize 2 eta_k) also lands on 0, but its momentum "
           "carries it on. Try another eta_0: the trap needs an exact landing.")


def compute(frames: int, seed: int, lr: float) -> dict:
    """The drawn numbers (see the module docstring for the keys)."""
    import problems
    import stochopt
    from stochopt import schedules

    from ..measures import clarke_distance

    p = problems.get("artifact-shifted-quadratic")
    eta = schedules.polynomial(lr, b=1.0, p=0.75)
    runs = {
        GROUPS[0]: stochopt.run(stochopt.sgd(lr=eta), p, steps=STEPS, record_every=1),
        GROUPS[1]: stochopt.run(stochopt.sgd(lr=schedules.randomized(eta, 0.5, 1.5, seed=seed)), p, steps=STEPS,
                                replicas=RANDOM_RUNS, seed=seed, x0_radius=0.5, record_every=1),
        # heavy ball in EMA form with beta = 1/2 takes (1 - beta) of the gradient: stepsize 2 eta_k lands
        # on 0 exactly when SGD does.
        GROUPS[2]: stochopt.run(stochopt.heavy_ball(lr=schedules.polynomial(2 * lr, b=1.0, p=0.75), momentum=0.5),
                                p, steps=STEPS, record_every=1),
    }
    x = {g: tr.x[..., 0] for g, tr in runs.items()}
    oracle = {g: p.grad(tr.x)[..., 0] for g, tr in runs.items()}
    dist = {g: np.stack([clarke_distance(p, row).value for row in tr.x]) for g, tr in runs.items()}
    return {"problem": p, "runs": list(GROUPS), "k": runs[GROUPS[0]].k, "x": x, "oracle": oracle,
            "clarke_distance": dist, "steps": frame_indices(STEPS + 1, frames, "sqrt"),
            "trapped": {g: v[-1] == 0.0 for g, v in x.items()}}


def build(frames: int, seed: int, lr: float) -> Demo:
    """The demo; ``seed`` draws the random starts and stepsizes."""
    data = compute(frames, seed, lr)
    p, k = data["problem"], data["k"]
    fig, content = new_figure(TITLE, CAPTION, figsize=(11.0, 5.0))
    ax_f, ax_x, ax_d = content.subplots(1, 3)
    grid = np.linspace(-2.0, 1.6, 400)
    ax_f.plot(grid, p.value(grid[:, None]), color="#888888", linewidth=1.5, label="f(x) = x^2/2 + x")
    ax_f.plot([-0.8, 0.8], [0.0, 0.0], color="black", linestyle="--", linewidth=1.2,
              label="backprop's tangent at 0 (slope 0)")
    ax_f.plot([-0.8, 0.8], [-0.8, 0.8], color="black", linestyle=":", linewidth=1.2, label="true tangent (slope 1)")
    ax_f.plot([-1], [-0.5], marker="*", color="black", markersize=12, linestyle="none", label="minimiser x* = -1")
    ax_f.set(xlabel="x", ylabel="f(x) (objective units)", xlim=(-2.0, 1.6), ylim=(-0.7, 2.6))
    ax_f.set_title("the function and the iterates on it", fontsize=9)
    dots, traces, dists = [], [], []
    for g, st, size in zip(GROUPS, (STYLES[2], STYLES[1], STYLES[0]), (10, 5, 7)):
        dot, = ax_f.plot([], [], marker=st["marker"], color=st["color"], markersize=size, linestyle="none", zorder=5,
                         label=g)
        dots.append(dot)
        n = data["x"][g].shape[1]
        look = {"color": st["color"], "linestyle": st["linestyle"], "marker": st["marker"], "markersize": 4,
                "markevery": 15, "linewidth": 1.2 if n == 1 else 0.7}
        traces.append([ax_x.plot([], [], label=g if r == 0 else None, **look)[0] for r in range(n)])
        dists.append([ax_d.semilogy([], [], label=g if r == 0 else None, **look)[0] for r in range(n)])
    ax_f.legend(fontsize=6.5, loc="upper left")
    ax_x.axhline(0.0, color="#888888", linewidth=0.8, linestyle="--", label="the kink x = 0")
    ax_x.axhline(-1.0, color="#888888", linewidth=0.8, linestyle=":", label="minimiser x = -1")
    ax_x.set(xlim=(0, STEPS), ylim=(-1.4, 1.6), xlabel="step k (count)", ylabel="x_k")
    ax_x.legend(fontsize=6.5, loc="upper right")
    stamp = ax_x.set_title("", fontsize=9, family="monospace")
    ax_d.set(xlim=(0, STEPS), ylim=(1e-4, 3), xlabel="step k (count)",
             ylabel="|f'(x_k)| = exact Clarke distance (gradient units)")
    ax_d.legend(fontsize=6.5, loc="lower left")
    ax_d.set_title("is x_k Clarke stationary?", fontsize=9)

    def draw(i):
        j = data["steps"][i]
        for g, dot, lines, dlines in zip(GROUPS, dots, traces, dists):
            xs = data["x"][g]
            dot.set_data(xs[j], p.value(xs[j][:, None]))
            for r, line in enumerate(lines):
                line.set_data(k[: j + 1], xs[: j + 1, r])
            for r, line in enumerate(dlines):
                line.set_data(k[: j + 1], np.maximum(data["clarke_distance"][g][: j + 1, r], 1e-4))
        stuck = float(data["x"][GROUPS[0]][j, 0])
        stamp.set_text(f"k = {k[j]:3d}: deterministic SGD at x = {stuck:+.3f}")

    moving = [*dots, *(line for lines in traces for line in lines), *(line for lines in dists for line in lines),
              stamp]
    return Demo(NAME, TITLE, CAPTION, fig, frames, draw, data, seed, {"lr": lr},
                {"on_graph": dots, "x": traces, "clarke_distance": dists}, moving)
