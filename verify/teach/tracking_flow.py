"""Demo 5, tracking the flow: SGD with shrinking constant steps against the subgradient inclusion on the crescent.

The limit of SGD in ODE time t = k eta is the differential inclusion x' in -df(x). On the crescent
(f = max of two smooth pieces, kink on the circle x1^2 + (x2 - 1)^2 = 1), its solution from
x0 = (-1.5, 2) falls onto the circle and then *slides* along it towards x* = (0, 0) with the
minimal-norm element of the Clarke set (the Filippov velocity, tangent to the circle). SGD with a
constant step zigzags across the circle instead; as eta shrinks the zigzag narrows and the
iterates follow the sliding solution, with a gap of order eta (deterministic steps).

The reference solution is computed by ``verify.inclusions.integrate`` on
``verify.inclusions.subgradient_flow``: steps of at most h = 2.5e-3, each cut at the kink (located
by bisection), where the velocity is the minimal-norm element of the Clarke set from
``problem.clarke`` (the Filippov sliding velocity), so the solution slides on the circle (to 1e-9).
The scheme is first order in h: its error, about 1e-3 here, is an order below the smallest gap
drawn. A single solution of an inclusion bounds the distance to its solution set from above.

``data`` keys: those of ``_versus_flow.compare`` (``stepsizes`` are the etas), plus ``problem``
and ``reference`` (how the flow was computed).
"""
from __future__ import annotations

import numpy as np

from . import _versus_flow
from ._core import Demo

NAME = "tracking-the-flow"
TITLE = "Tracking the flow: SGD against the subgradient inclusion, sliding on a kink"
SUMMARY = "SGD with constant steps 0.05 ... 0.005 on the crescent against x' in -df(x), which slides along the kink"
KNOBS = ()
ETAS = (0.05, 0.02, 0.01, 0.005)
HORIZON = 4.0
REFERENCE = ("verify.inclusions.integrate(subgradient_flow(crescent), h = 2.5e-3): kinks located by bisection, "
             "minimal-norm (Filippov) selection, sliding along the circle")
CAPTION = ("SGD with four constant steps on the crescent (grey pixels: its kink circle) from x0 = (-1.5, 2), drawn "
           "in ODE time t = k eta. Thick grey: the solution of the differential inclusion x' in -df(x), which falls "
           "onto the circle and then slides along it to x* = (0, 0) with the minimal-norm element of the Clarke "
           "set. Look at the largest step: it zigzags across the circle; the smaller the step, the narrower the "
           "zigzag and the closer the iterates stay to the sliding solution. Middle: the distance to the solution "
           "at time t; right: its maximum against eta, which falls like eta (slope 1: no noise, only the bias of "
           "a step). The solution is computed by verify.inclusions (kinks located, minimal-norm selection).")


def compute(frames: int) -> dict:
    """The drawn numbers (see the module docstring for the keys)."""
    import problems
    import stochopt

    from ..inclusions import integrate, subgradient_flow

    p = problems.get("crescent")
    etas = np.array(ETAS)
    steps = int(np.ceil(HORIZON / etas.min()))
    trace = stochopt.run(stochopt.sgd(lr=etas), p, steps=steps, replicas=etas.size, record_every=1)
    flow = subgradient_flow(p)
    data = _versus_flow.compare(trace.x, etas, lambda t: integrate(flow, p.x0, t, h=2.5e-3).x, HORIZON, frames)
    data.update(problem=p, reference=REFERENCE)
    return data


def build(frames: int, seed: int) -> Demo:
    """The demo (deterministic: full-batch runs; ``seed`` is unused)."""
    data = compute(frames)
    return _versus_flow.build(NAME, TITLE, CAPTION, data, frames, seed, {}, problem=data["problem"],
                              view=((-1.8, 1.1), (-0.35, 2.25)), levels=np.linspace(-0.25, 6, 11),
                              run_label="SGD", step_name="eta", flow_label="subgradient inclusion", slope=1.0,
                              kinks=True)
