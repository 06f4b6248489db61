"""Demo 7, Adam becomes sign descent: Adam with shrinking lr and fixed betas against the signGD flow.

On f(x) = (x1^2 + 10 x2^2) / 2 from x0 = (2, 1), Adam's step is lr m_k / (sqrt(v_k) + eps). In
ODE time t = k lr, its averages span lr / (1 - beta) time units, which vanish as lr -> 0 with the
betas fixed: m_k -> grad f, v_k -> grad f^2, and the iterates follow the signGD flow
x' = -sign(grad f(x)), which moves each coordinate at unit speed to 0 (here: the diagonal until
x2 = 0 at t = 1, then along the axis until t = 2). The flow is computed by
``verify.tracking.integrate`` (event-located Euler; exact on this separable problem) and is not the
gradient flow (dotted). The gap to the flow shrinks in proportion to lr once lr << 1 - beta2.

``data`` keys: ``problem``, ``lrs`` (4,), ``betas``, ``times`` (frames,) ODE time per frame,
``flow`` (frames, 2) the signGD flow at those times, ``flow_path`` (fine path), ``gradient_flow``
(fine path), ``adam`` (frames, 4, 2) Adam's iterate at k = round(t / lr), ``error`` (frames, 4),
``max_error`` (4,) over the whole horizon.
"""
from __future__ import annotations

import numpy as np

from ._core import STYLES, Demo, Knob, draw_contours, new_figure

NAME = "adam-sign-descent"
TITLE = "Adam becomes sign descent: shrinking lr, fixed betas"
SUMMARY = "Adam with lr = 0.03 ... 0.001 and fixed betas on a quadratic, against the signGD flow"
KNOBS = (
    Knob("beta1", 0.9, 0.0, 0.99, "first-moment average beta1"),
    Knob("beta2", 0.95, 0.5, 0.999, "second-moment average beta2"),
)
LRS = (0.03, 0.01, 0.003, 0.001)
HORIZON = 2.6
X0 = (2.0, 1.0)
CAPTION = ("f(x) = (x1^2 + 10 x2^2)/2 from x0 = (2, 1); Adam with fixed betas and four learning rates, drawn in "
           "ODE time t = k lr (every run at the same t in each frame). Thick black: the signGD flow "
           "x' = -sign(grad f(x)), which moves each coordinate at unit speed to 0: along the diagonal, then along "
           "the axis. Dotted: the gradient flow, which Adam does not follow. Look at the smallest lr: it rides on "
           "the flow, while the largest ones lag and cut the corner, because Adam's averages span lr/(1 - beta) "
           "units of time. Middle: the distance to the flow at time t; right: its maximum over the run against "
           "lr, which falls like lr (grey: slope 1). With beta2 near 1, lr must be smaller still.")


def compute(frames: int, beta1: float, beta2: float) -> dict:
    """The drawn numbers (see the module docstring for the keys)."""
    import problems
    import stochopt

    from ..tracking import integrate, two_timescale_flow

    p = problems.get("noisy-quadratic", hessian=[1.0, 10.0], noise_cov=0.0, x0=list(X0))
    lrs = np.array(LRS)
    steps = int(np.ceil(HORIZON / lrs.min()))
    trace = stochopt.run(stochopt.adam(lr=lrs, betas=(beta1, beta2)), p, steps=steps, replicas=lrs.size,
                         record_every=1)
    times = np.linspace(0.0, HORIZON, frames)
    fine = np.linspace(0.0, HORIZON, 400)
    flow = two_timescale_flow(p, "sign")
    path = integrate(flow, p.x0, fine, method="euler-event", h=1e-3)
    at_frames = integrate(flow, p.x0, times, method="euler-event", h=1e-3)
    k = np.minimum(np.round(times[:, None] / lrs[None, :]).astype(int), steps)
    adam = trace.x[k, np.arange(lrs.size)[None, :]]
    error = np.sqrt(np.sum((adam - at_frames[:, None, :]) ** 2, axis=-1))
    grad_flow = np.asarray(p.x0) * np.exp(-fine[:, None] * np.array([1.0, 10.0]))
    return {"problem": p, "lrs": lrs, "betas": (beta1, beta2), "times": times, "flow": at_frames,
            "flow_path": path, "gradient_flow": grad_flow, "adam": adam, "all_x": trace.x, "error": error,
            "max_error": error.max(axis=0)}


def build(frames: int, seed: int, beta1: float, beta2: float) -> Demo:
    """The demo (deterministic: full-batch runs; ``seed`` is unused)."""
    data = compute(frames, beta1, beta2)
    p, lrs, times = data["problem"], data["lrs"], data["times"]
    fig, content = new_figure(TITLE, CAPTION, figsize=(11.0, 4.8))
    ax_x, ax_e, ax_r = content.subplots(1, 3, width_ratios=[1.3, 1.0, 0.9])
    draw_contours(ax_x, p, (-0.3, 2.2), (-0.35, 1.15), levels=[0.02, 0.1, 0.3, 0.7, 1.2, 2, 3, 4.5, 6])
    ax_x.plot(*data["flow_path"].T, color="black", linewidth=3.0, alpha=0.35, label="signGD flow")
    ax_x.plot(*data["gradient_flow"].T, color="black", linewidth=1.2, linestyle=":", label="gradient flow")
    flow_now, = ax_x.plot([], [], marker="o", markersize=11, markerfacecolor="none", markeredgecolor="black",
                          markeredgewidth=1.5, linestyle="none", zorder=6, label="flow at time t")
    trails, dots, errs = [], [], []
    for j, lr in enumerate(lrs):
        st = STYLES[j + 1]
        label = f"Adam, lr = {lr:g}"
        trails.append(ax_x.plot([], [], color=st["color"], linestyle=st["linestyle"], linewidth=1.1)[0])
        dots.append(ax_x.plot([], [], marker=st["marker"], color=st["color"], markersize=6, linestyle="none",
                              zorder=5, label=label)[0])
        errs.append(ax_e.semilogy([], [], color=st["color"], linestyle=st["linestyle"], marker=st["marker"],
                                  markevery=max(1, frames // 8), markersize=4, label=label)[0])
    ax_x.set(xlim=(-0.3, 2.2), ylim=(-0.35, 1.15), xlabel="x1", ylabel="x2", aspect="equal")
    ax_x.legend(fontsize=6.5, loc="upper left")
    stamp = ax_x.set_title("", fontsize=9, family="monospace")
    ax_e.set(xlim=(0, HORIZON), ylim=(1e-4, 2), xlabel="ODE time t = k lr",
             ylabel="||x_k - z(t)|| (x units)")
    ax_e.set_title("distance to the signGD flow", fontsize=9)
    ax_e.legend(fontsize=6.5, loc="lower right")
    running, = ax_r.loglog([], [], color="black", marker="o", linestyle="-", label="max distance up to t")
    ref = data["max_error"][-1] * lrs / lrs[-1]
    ax_r.loglog(lrs, ref, color="#999999", linestyle="--", label="slope 1")
    ax_r.set(xlim=(lrs.min() / 1.6, lrs.max() * 1.6), ylim=(min(data["max_error"].min(), ref.min()) / 3, 3),
             xlabel="learning rate lr", ylabel="max_t ||x - z|| (x units)")
    ax_r.set_title("the gap shrinks with lr", fontsize=9)
    ax_r.legend(fontsize=7, loc="lower right")
    X = data["all_x"]

    def draw(i):
        t = times[i]
        for j, lr in enumerate(lrs):
            k = int(min(round(t / lr), X.shape[0] - 1))
            trails[j].set_data(X[: k + 1, j, 0], X[: k + 1, j, 1])
            dots[j].set_data([data["adam"][i, j, 0]], [data["adam"][i, j, 1]])
            errs[j].set_data(times[: i + 1], np.maximum(data["error"][: i + 1, j], 1e-4))
        flow_now.set_data([data["flow"][i, 0]], [data["flow"][i, 1]])
        running.set_data(lrs, np.maximum(data["error"][: i + 1].max(axis=0), 1e-6))
        stamp.set_text(f"ODE time t = {t:4.2f}")

    moving = [*trails, *dots, *errs, flow_now, running, stamp]
    return Demo(NAME, TITLE, CAPTION, fig, frames, draw, data, seed, {"beta1": beta1, "beta2": beta2},
                {"adam": dots, "trails": trails, "flow": flow_now, "error": errs, "max_error": running}, moving)
