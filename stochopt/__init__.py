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
from . import directions, schedules, streams, terms
from .base import Method, State
from .engine import Trace, run
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
from . import lionk  # Lion-K: the method and its kernels K, K* (its flow and Lyapunov theory: verify.lion_theory)
from .lionk import lion_k
from . import adaptive
from .adaptive import adam, adamssm, adamw, adan, delta_gclip, gclip, nadam, rmsprop
from . import qh  # QHM family, converters (qh.from_pid, ...) and their target algorithms
from .qh import accsgd, pid, qhadam, qhadamw, qhm, robust_momentum, synthesized_nesterov, triple_momentum, two_state

__version__ = "0.1.0"

# name -> factory, for the command line (`stochopt list methods`, `stochopt run METHOD ...`).
# Each entry's factory accepts `lr=` alone (everything else has a default).
METHODS = {
    # the framework and its instances (spec 01)
    "sgd": sgd,
    "heavy_ball": heavy_ball,
    "signsgd": signsgd,
    "signum": signum,
    "normalized_sgd": normalized_sgd,
    "clipped_sgd": clipped_sgd,
    "srsgd": srsgd,
    "gsgd_official": gsgd_official,
    # Lion (spec 03)
    "lion": lion,
    "lion_singlescale": lion_singlescale,
    "lion_k": lion_k,
    # quasi-hyperbolic (spec 02)
    "qhm": qhm,
    "qhadam": qhadam,
    "qhadamw": qhadamw,
    # adaptive (spec 04)
    "adam": adam,
    "adamw": adamw,
    "rmsprop": rmsprop,
    "nadam": nadam,
    "adan": adan,
    "adamssm": adamssm,
    "delta_gclip": delta_gclip,
    "gclip": gclip,
}



def get_method(name):
    """The factory of a method by name: ``get_method("heavy_ball")`` is ``stochopt.heavy_ball``.

    Names are the keys of ``METHODS`` (lower case, underscores); the other spellings a user may
    type ("heavy-ball", "Heavy_Ball", "heavy ball") are normalised to them. An unknown name is a
    ValueError listing close matches and every accepted name.

    >>> import stochopt
    >>> stochopt.get_method("Heavy-Ball") is stochopt.heavy_ball
    True
    >>> stochopt.get_method("adma")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown method 'adma'. Did you mean 'adan', 'adam', 'nadam'? Accepted: 'sgd', ...
    """
    from ._checks import unknown_name_message

    if not isinstance(name, str):
        raise TypeError(f"a method name must be a string (one of {', '.join(METHODS)}); got {name!r}")
    key = normalize_name(name)
    if key not in METHODS:
        raise ValueError(unknown_name_message("method", name, list(METHODS)))
    return METHODS[key]


def normalize_name(name: str) -> str:
    """The one spelling of a name: lower case, with underscores for hyphens and spaces.

    >>> normalize_name(" Heavy-Ball ")
    'heavy_ball'
    """
    return "_".join(name.strip().lower().replace("-", " ").split())


__all__ = [
    "Method", "State", "Trace", "run", "METHODS", "get_method", "normalize_name",
    "directions", "schedules", "streams", "terms", "lionk", "adaptive", "qh",
    "gsgd", *METHODS,
    "pid", "synthesized_nesterov", "robust_momentum", "triple_momentum", "accsgd", "two_state",
]
