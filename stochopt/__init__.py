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
]
