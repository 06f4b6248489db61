"""stochopt: the general two-timescale stochastic subgradient framework and its methods.

Every method is built by a factory with keyword hyperparameters and has two pure functions,
``init(x0)`` and ``step(state, grad)``; ``stochopt.run`` moves many replicas in lock-step.

>>> import numpy as np, stochopt
>>> opt = stochopt.heavy_ball(lr=0.1, momentum=0.9)
>>> state = opt.init(np.zeros((4, 3)))          # 4 replicas in R^3
>>> state = opt.step(state, np.ones((4, 3)))
>>> state.x.shape, state.k
((4, 3), 1)
"""
from . import directions, schedules, streams
from .base import Method, State
from .framework import (
    clipped_sgd,
    gsgd,
    gsgd_official,
    heavy_ball,
    normalized_sgd,
    sgd,
    signsgd,
    signum,
    srsgd,
)
from .lion import lion, lion_singlescale
from .engine import Trace, run

__version__ = "0.1.0"

# name -> factory, for the command line (`stochopt list methods`, `stochopt run METHOD ...`).
# Each entry's factory must accept `lr=` and have defaults for everything else it needs.
METHODS = {
    "sgd": sgd,
    "heavy_ball": heavy_ball,
    "signsgd": signsgd,
    "signum": signum,
    "lion": lion,
    "lion_singlescale": lion_singlescale,
    "normalized_sgd": normalized_sgd,
    "clipped_sgd": clipped_sgd,
    "srsgd": srsgd,
    "gsgd_official": gsgd_official,
}

# The adaptive family (spec 04): Adam, AdamW, RMSprop, NAdam, Adan, AdamSSM, delta-GClip, GClip.
from . import adaptive  # noqa: E402
from .adaptive import adam, adamssm, adamw, adan, delta_gclip, gclip, nadam, rmsprop  # noqa: E402

METHODS.update(adam=adam, adamw=adamw, rmsprop=rmsprop, nadam=nadam, adan=adan, adamssm=adamssm,
               delta_gclip=delta_gclip, gclip=gclip)

# Lion-K (issue 8): the factory, and its theory module (kernels K, flow, KKT measure, Lyapunov H)
# as `stochopt.lionk` (`stochopt.lion_k` is the factory).
from . import lion_k as lionk  # noqa: E402
from .lion_k import lion_k  # noqa: E402

METHODS["lion_k"] = lion_k

__all__ = [
    "Method",
    "State",
    "Trace",
    "run",
    "directions",
    "schedules",
    "streams",
    "METHODS",
    *METHODS,
    "gsgd",
    "lionk",
]

# The quasi-hyperbolic family (issue 6): QHM, QHAdam, QHAdamW, the converters (`stochopt.qh.from_pid`
# ...) and their target algorithms, each a method of its own (Dozat's NAdam target: `stochopt.qh.nadam_dozat`).
from . import qh  # noqa: E402
from .qh import (  # noqa: E402
    accsgd, pid, qhadam, qhadamw, qhm, robust_momentum, synthesized_nesterov, triple_momentum, two_state,
)

METHODS.update(qhm=qhm, qhadam=qhadam, qhadamw=qhadamw)
__all__ += ["qh", "qhm", "qhadam", "qhadamw", "pid", "synthesized_nesterov", "robust_momentum", "triple_momentum",
            "accsgd", "two_state"]
