"""Shared pieces of the gsgd claims: the framework's instances as method factories, schedules.

A *method factory* is ``factory(lr, momentum_lr) -> stochopt.Method`` (the form a user passes with
``--method``): ``lr`` is the schedule eta_k, ``momentum_lr`` the schedule theta_k (for a single
timescale ``schedules.coupled(lr, tau)``). ``method_factories`` gives the framework's instances
under their ``stochopt.METHODS`` names (spec 1.3):

| name | direction s = select(m) | theta_k |
|---|---|---|
| heavy_ball | m | momentum_lr |
| signsgd | sign(m) | 1 (no momentum: ``momentum_lr`` is not used) |
| signum | sign(m) | momentum_lr |
| lion_singlescale | sign of the interpolated momentum | (1 - beta2) scaling eta_k = momentum_lr |
| normalized_sgd | m_b / ||m_b|| per block | momentum_lr |
| clipped_sgd | min(1, c / ||m_b||) m_b per block | momentum_lr |
| clipped_sgd_coordinate | clip(m, -c, c) | momentum_lr |

>>> import numpy as np
>>> from stochopt import schedules
>>> eta = diminishing(0.1)
>>> opt = method_factories()["signum"](eta, schedules.coupled(eta, 2.0))
>>> opt.name, opt.step(opt.init(np.zeros(2)), np.array([1.0, -1.0])).x.tolist()
('gsgd', [-0.1, 0.1])
"""
from __future__ import annotations

import numpy as np

import stochopt
from stochopt import schedules

__all__ = ["LION_BETAS", "CLIP_THRESHOLD", "method_factories", "diminishing", "increasing", "METHOD_NAMES"]

#: Lion's (beta1, beta2) in the single-timescale experiments: theta2_k = (1 - beta2) scaling eta_k.
LION_BETAS = (0.5, 0.9)
#: Clipping threshold c of the clipped directions (Huber phi): small enough that clipping happens
#: on every problem of the claims (gradients there are of order 1 to 10).
CLIP_THRESHOLD = 0.5

#: The framework's instances, in table order (``stochopt.METHODS`` spelling).
METHOD_NAMES = ("heavy_ball", "signsgd", "signum", "lion_singlescale", "normalized_sgd", "clipped_sgd",
                "clipped_sgd_coordinate")


def _lion(lr, momentum_lr):
    tau = getattr(momentum_lr, "tau", None)
    if not isinstance(momentum_lr, schedules.Coupled) or tau is None:
        raise TypeError("lion_singlescale is single-timescale only: momentum_lr must be schedules.coupled(lr, tau)")
    return stochopt.lion_singlescale(lr=lr, betas=LION_BETAS, scaling=np.asarray(tau) / (1.0 - LION_BETAS[1]))


def method_factories(names=METHOD_NAMES, blocks=None) -> dict:
    """{name: factory(lr, momentum_lr) -> Method} for the framework's instances named in ``names``.

    ``blocks`` (a partition of the coordinates, e.g. ``problem.blocks`` of a ReLU network) makes the
    normalized and clipped-by-norm directions act per block, like the official code per tensor.

    >>> sorted(method_factories(("heavy_ball", "signsgd")))
    ['heavy_ball', 'signsgd']
    >>> method_factories(("adam",))
    Traceback (most recent call last):
    ...
    ValueError: unknown framework instance 'adam'; accepted: heavy_ball, signsgd, signum, lion_singlescale, \
normalized_sgd, clipped_sgd, clipped_sgd_coordinate
    """
    def gsgd(direction, per_block=False, momentum=True):
        def factory(lr, momentum_lr):
            return stochopt.gsgd(lr=lr, momentum_lr=momentum_lr if momentum else 1.0, direction=direction,
                                 blocks=blocks if per_block else None)
        return factory

    table = {
        "heavy_ball": gsgd("identity"),
        "signsgd": gsgd("sign", momentum=False),
        "signum": gsgd("sign"),
        "lion_singlescale": _lion,
        "normalized_sgd": gsgd("normalized", per_block=True),
        "clipped_sgd": gsgd(stochopt.directions.ClipNorm(CLIP_THRESHOLD), per_block=True),
        "clipped_sgd_coordinate": gsgd(stochopt.directions.ClipCoordinate(CLIP_THRESHOLD)),
    }
    out = {}
    for name in names:
        key = str(name).replace("-", "_")
        if key not in table:
            raise ValueError(f"unknown framework instance {name!r}; accepted: {', '.join(METHOD_NAMES)}")
        out[key] = table[key]
    return out


def diminishing(lr0: float, power: float = 0.75, offset: float = 10.0):
    """eta_k = lr0 (offset / (k + offset))^power: starts at lr0, sum eta = inf, sum eta^2 < inf for power in (1/2, 1].

    >>> eta = diminishing(0.1, power=1.0, offset=10.0)
    >>> round(eta(0), 6), round(eta(10), 6)
    (0.1, 0.05)
    """
    return schedules.polynomial(lr0 * offset ** power, b=offset, p=power)


def increasing(lr0: float, every: float):
    """eta_k = lr0 (1 + k / every): a schedule that breaks eta_k -> 0 (sum eta^2 = inf).

    >>> increasing(0.1, every=10.0)(10)
    0.2
    """
    import sympy

    k = schedules.k_symbol()
    return schedules.from_function(lambda step: lr0 * (1.0 + step / every),
                                   formula=sympy.Float(lr0) * (1 + k / sympy.Float(every)))
