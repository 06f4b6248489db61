"""Demo 6, two timescales: the momentum tracks the gradient while x follows the slow flow.

The framework with the sign direction and eta_k / theta_k -> 0 (eta_k = 0.045 / (1 + k/20),
theta_k = theta_0 / (1 + k/20)^(1/2)) on a quadratic with single-sample Gaussian gradient noise
(``noisy-quadratic``, A = diag(1, 4), Sigma = I). The momentum m is the fast variable: it averages
the noise and tracks grad f(x) (the fast error ||m_k - grad f(x_k)|| falls like sqrt(theta_k), the
size of the averaged noise), so x moves along sign(grad f) and follows the slow flow
x' = -sign(grad f(x)) in ODE time t_k = sum eta_i. signSGD with the same eta_k and no momentum
steps along the sign of the *noisy* gradient, whose mean is not sign(grad f): it lags behind the flow.
The flow is computed by ``verify.inclusions.integrate`` (switching events located; exact on this
separable problem: each coordinate moves at unit speed to 0).

``data`` keys: ``problem``, ``k`` (records,), ``time`` (records,) ODE time, ``x`` and ``m`` (records,
R, 2), ``grad`` (records, R, 2) grad f(x_k), ``flow`` (records, 2) the slow flow at t_k, ``fast_error``
and ``slow_error`` (records, R), ``signsgd_x`` (records, R, 2), ``signsgd_error`` (records, R),
``eta`` and ``theta`` (records,), ``frame_records`` (frames,) the record of each frame, ``scale`` of the arrows.
"""
from __future__ import annotations

import numpy as np

from ._core import STYLES, Demo, Knob, draw_contours, new_figure

NAME = "two-timescales"
TITLE = "Two timescales: the momentum tracks the gradient, x follows the slow flow"
SUMMARY = "sign direction with eta_k / theta_k -> 0 on a noisy quadratic: m tracks grad f, x follows -sign(grad f)"
KNOBS = (Knob("theta0", 0.5, 0.05, 1.0, "theta_0 of the momentum stepsize theta_k = theta_0 / (1 + k/20)^(1/2)"),)
REPLICAS = 8
STEPS = 2000
X0 = (2.0, 1.0)
HESSIAN = (1.0, 4.0)
CAPTION = ("f(x) = (x1^2 + 4 x2^2)/2 with single-sample Gaussian gradient noise; 8 runs of the framework with the "
           "sign direction and two timescales: eta_k = 0.045/(1 + k/20) for x, theta_k = theta_0/(1 + k/20)^(1/2) "
           "for the momentum m, so eta_k/theta_k -> 0. Left: the slow flow x' = -sign(grad f(x)) (thick grey) and "
           "the runs; at the first run, the arrows are m_k (solid) and grad f(x_k) (dashed). Look at the two "
           "arrows: they point the same way, because m averages the noise on its faster clock, so x moves along "
           "sign(grad f) and stays on the flow. Middle: the fast error ||m_k - grad f(x_k)||, falling like "
           "sqrt(theta_k) (the averaged noise). Right: the distance to the flow; signSGD with the same eta_k and "
           "no momentum (dotted) follows the sign of the noisy gradient and lags.")


def _frames_by_time(time, frames):
    """Distinct increasing records whose ODE times are spread evenly over [0, time[-1]]."""
    idx = np.searchsorted(time, np.linspace(0.0, time[-1], frames)).clip(0, time.size - 1)
    for f in range(1, frames):
        idx[f] = max(idx[f], idx[f - 1] + 1)
    return idx


def compute(frames: int, seed: int, theta0: float) -> dict:
    """The drawn numbers (see the module docstring for the keys)."""
    import problems
    import stochopt
    from stochopt import schedules

    from ..inclusions import integrate, two_timescale_flow
    from ..tracking import MomentumRecorder

    p = problems.get("noisy-quadratic", hessian=list(HESSIAN), noise_cov=1.0, x0=list(X0), seed=seed)
    eta = schedules.polynomial(0.045 * 20, b=20.0, p=1.0)
    theta = schedules.polynomial(theta0 * np.sqrt(20.0), b=20.0, p=0.5)
    recorder = MomentumRecorder()
    trace = stochopt.run(stochopt.gsgd(lr=eta, momentum_lr=theta, direction="sign"), p, steps=STEPS,
                         replicas=REPLICAS, seed=seed, batch_size=1, record_every=1, callbacks=[recorder])
    plain = stochopt.run(stochopt.signsgd(lr=eta), p, steps=STEPS, replicas=REPLICAS, seed=seed, batch_size=1,
                         record_every=1)
    time = trace.time[:, 0]
    flow = integrate(two_timescale_flow(p, "sign"), p.x0, time, h=1e-2).x
    X, M = trace.x, recorder.array(trace)
    grad = p.grad(X)
    dist = lambda Y: np.sqrt(np.sum((Y - flow[:, None, :]) ** 2, axis=-1))  # noqa: E731
    return {"problem": p, "k": trace.k, "time": time, "x": X, "m": M, "grad": grad, "flow": flow,
            "fast_error": np.sqrt(np.sum((M - grad) ** 2, axis=-1)), "slow_error": dist(X),
            "signsgd_x": plain.x, "signsgd_error": dist(plain.x), "theta": theta.values(STEPS + 1),
            "eta": eta.values(STEPS + 1),
            "frame_records": _frames_by_time(time, frames), "scale": 0.12}


def build(frames: int, seed: int, theta0: float) -> Demo:
    """The demo; ``seed`` draws the gradient noise."""
    data = compute(frames, seed, theta0)
    p, X, k, time = data["problem"], data["x"], data["k"], data["time"]
    s, picks = data["scale"], data["frame_records"]
    fig, content = new_figure(TITLE, CAPTION, figsize=(11.0, 4.9))
    ax_x, ax_f, ax_s = content.subplots(1, 3, width_ratios=[1.3, 1.0, 1.0])
    xlim, ylim = (-0.4, 2.3), (-0.45, 1.2)
    draw_contours(ax_x, p, xlim, ylim, levels=[0.05, 0.2, 0.5, 1.0, 1.6, 2.4, 3.4])
    ax_x.plot(*data["flow"].T, color="black", linewidth=3.0, alpha=0.35, label="slow flow x' = -sign(grad f)")
    two, one = STYLES[1], STYLES[2]
    trails = [ax_x.plot([], [], color=two["color"], linewidth=1.4 if r == 0 else 0.5, alpha=1.0 if r == 0 else 0.6)[0]
              for r in range(REPLICAS)]
    plain, = ax_x.plot([], [], color=one["color"], linestyle=":", linewidth=1.2, label="signSGD, no momentum (run 1)")
    now, = ax_x.plot([], [], marker=two["marker"], color=two["color"], markersize=5, linestyle="none", zorder=5,
                     label="two timescales, x_k (8 runs)")
    arrow_m = ax_x.annotate("", xy=(0, 0), xytext=(0, 0), zorder=7,
                            arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.6})
    arrow_g = ax_x.annotate("", xy=(0, 0), xytext=(0, 0), zorder=7,
                            arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.2, "linestyle": "--"})
    ax_x.plot([], [], color="black", linewidth=1.6, label=f"m_k (x {s:g})")
    ax_x.plot([], [], color="black", linewidth=1.2, linestyle="--", label=f"grad f(x_k) (x {s:g})")
    ax_x.set(xlim=xlim, ylim=ylim, xlabel="x1", ylabel="x2", aspect="equal")
    ax_x.legend(fontsize=6.5, loc="upper left")
    stamp = ax_x.set_title("", fontsize=9, family="monospace")

    fast = np.median(data["fast_error"], axis=1)
    theta = data["theta"]
    ref = fast[picks[-1]] * np.sqrt(theta / theta[picks[-1]])
    ax_f.loglog(k[1:], ref[1:], color="#999999", linestyle="--", label="~ sqrt(theta_k)")
    fast_line, = ax_f.loglog([], [], color=two["color"], marker=two["marker"], markevery=0.1, markersize=4,
                             label="median ||m_k - grad f(x_k)||")
    ax_f.set(xlim=(1, k[-1]), ylim=(0.03, 10), xlabel="step k (count)", ylabel="fast error (gradient units)")
    ax_f.set_title("the momentum tracks the gradient", fontsize=9)
    ax_f.legend(fontsize=7, loc="lower left")

    slow = np.median(data["slow_error"], axis=1)
    lag = np.median(data["signsgd_error"], axis=1)
    slow_line, = ax_s.plot([], [], color=two["color"], marker=two["marker"], markevery=0.1, markersize=4,
                           label="two timescales (median of 8)")
    lag_line, = ax_s.plot([], [], color=one["color"], linestyle=":", marker=one["marker"], markevery=0.1,
                          markersize=4, label="signSGD, no momentum (median)")
    ax_s.set(xlim=(0, time[-1]), ylim=(0, 1.1 * max(lag.max(), slow.max())), xlabel="ODE time t_k = sum eta_i",
             ylabel="||x_k - z(t_k)|| (x units)")
    ax_s.set_title("x follows the slow flow", fontsize=9)
    ax_s.legend(fontsize=7, loc="upper right")

    def draw(i):
        j = picks[i]
        for r, line in enumerate(trails):
            line.set_data(X[: j + 1, r, 0], X[: j + 1, r, 1])
        plain.set_data(data["signsgd_x"][: j + 1, 0, 0], data["signsgd_x"][: j + 1, 0, 1])
        now.set_data(X[j, :, 0], X[j, :, 1])
        x0 = X[j, 0]
        arrow_m.xy, arrow_g.xy = tuple(x0 + s * data["m"][j, 0]), tuple(x0 + s * data["grad"][j, 0])
        arrow_m.set_position(tuple(x0))
        arrow_g.set_position(tuple(x0))
        fast_line.set_data(k[1: j + 1], fast[1: j + 1])
        slow_line.set_data(time[: j + 1], slow[: j + 1])
        lag_line.set_data(time[: j + 1], lag[: j + 1])
        stamp.set_text(f"k = {k[j]:4d}, t = {time[j]:4.2f}, eta_k/theta_k = {data['eta'][j] / theta[j]:.4f}")

    moving = [*trails, plain, now, arrow_m, arrow_g, fast_line, slow_line, lag_line, stamp]
    artists = {"runs": trails, "iterates": now, "momentum": arrow_m, "gradient": arrow_g, "fast_error": fast_line,
               "slow_error": slow_line, "signsgd_error": lag_line}
    return Demo(NAME, TITLE, CAPTION, fig, frames, draw, data, seed, {"theta0": theta0}, artists, moving)
