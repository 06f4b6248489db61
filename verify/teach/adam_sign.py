"""Demo 7, Adam becomes sign descent: Adam with shrinking lr and fixed betas against the signGD flow.

On f(x) = (x1^2 + 10 x2^2) / 2 from x0 = (2, 1), Adam's step is lr m_k / (sqrt(v_k) + eps). In
ODE time t = k lr, its averages span lr / (1 - beta) time units, which vanish as lr -> 0 with the
betas fixed: m_k -> grad f, v_k -> grad f^2, and the iterates follow the signGD flow
x' = -sign(grad f(x)), which moves each coordinate at unit speed to 0 (here: the diagonal until
x2 = 0 at t = 1, then along the axis until t = 2). The flow is computed by
``verify.inclusions.integrate`` (switching events located; exact on this separable problem) and is not the
gradient flow (dotted). The gap to the flow shrinks in proportion to lr once lr << 1 - beta2.

``data`` keys: those of ``_versus_flow.compare`` (``stepsizes`` are the learning rates), plus
``problem``, ``betas`` and ``gradient_flow`` (a fine path of the gradient flow).
"""
from __future__ import annotations

import numpy as np

from . import _versus_flow
from ._core import Demo, Knob

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
           "ODE time t = k lr (every run at the same t in each frame). Thick grey: the signGD flow "
           "x' = -sign(grad f(x)), which moves each coordinate at unit speed to 0: along the diagonal, then along "
           "the axis. Dotted: the gradient flow, which Adam does not follow. Look at the smallest lr: it rides on "
           "the flow, while the largest ones lag and cut the corner, because Adam's averages span lr/(1 - beta) "
           "units of time. Middle: the distance to the flow at time t; right: its maximum over the run against "
           "lr, which falls with lr, close to slope 1 at the smallest rates. With beta2 near 1, lr must be "
           "smaller still.")


def compute(frames: int, beta1: float, beta2: float) -> dict:
    """The drawn numbers (see the module docstring for the keys)."""
    import problems
    import stochopt

    from ..inclusions import integrate, two_timescale_flow

    p = problems.get("noisy-quadratic", hessian=[1.0, 10.0], noise_cov=0.0, x0=list(X0))
    lrs = np.array(LRS)
    steps = int(np.ceil(HORIZON / lrs.min()))
    trace = stochopt.run(stochopt.adam(lr=lrs, betas=(beta1, beta2)), p, steps=steps, replicas=lrs.size,
                         record_every=1)
    flow = two_timescale_flow(p, "sign")
    data = _versus_flow.compare(trace.x, lrs, lambda t: integrate(flow, p.x0, t, h=1e-2).x, HORIZON, frames)
    fine = data["flow_path"].shape[0]
    data.update(problem=p, betas=(beta1, beta2),
                gradient_flow=np.asarray(p.x0) * np.exp(-np.linspace(0, HORIZON, fine)[:, None] * [1.0, 10.0]))
    return data


def build(frames: int, seed: int, beta1: float, beta2: float) -> Demo:
    """The demo (deterministic: full-batch runs; ``seed`` is unused)."""
    data = compute(frames, beta1, beta2)
    gradient_flow = (data["gradient_flow"], "gradient flow", {"color": "black", "linewidth": 1.2, "linestyle": ":"})
    return _versus_flow.build(NAME, TITLE, CAPTION, data, frames, seed, {"beta1": beta1, "beta2": beta2},
                              problem=data["problem"], view=((-0.3, 2.2), (-0.35, 1.15)),
                              levels=[0.02, 0.1, 0.3, 0.7, 1.2, 2, 3, 4.5, 6], run_label="Adam", step_name="lr",
                              flow_label="signGD flow", slope=1.0, extra_paths=[gradient_flow])
