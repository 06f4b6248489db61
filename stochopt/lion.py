"""Lion (Chen et al. 2023, arXiv 2302.06675) and the GSGD paper's single-timescale Lion.

Lion, with m_0 = 0 and sign(0) = 0::

    c = beta1 m + (1 - beta1) g           interpolated momentum (old m)
    x <- x - lr (sign(c) + lambda x)      decoupled weight decay on the old x
    m <- beta2 m + (1 - beta2) g          momentum updated after the step

Exact special cases: beta1 = beta2 is Signum; beta1 = 0 is signSGD.

>>> import numpy as np, stochopt
>>> opt = stochopt.lion(lr=0.1, betas=(0.9, 0.99), weight_decay=1.0)
>>> opt.step(opt.init(np.array([1.0, -1.0])), np.array([0.5, 0.0])).x
array([ 0.8, -0.9])
"""
from __future__ import annotations

import numpy as np

from . import schedules as _schedules
from ._checks import NONNEGATIVE, POSITIVE, UNIT_HALF_OPEN, check_real
from .base import Method, hyper
from .framework import _describe

__all__ = ["lion", "lion_singlescale"]


def _betas(betas):
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), each in [0, 1); got {betas!r}")
    return betas


def _lion_rule(x, buffers, g, h, k):
    m = buffers["m"]
    c = h.beta1 * m + (1 - h.beta1) * g
    x_new = x - h.lr * (np.sign(c) + h.weight_decay * x)
    return x_new, {"m": h.beta2 * m + (1 - h.beta2) * g}


def lion(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0) -> Method:
    """Lion with decoupled weight decay (``weight_decay`` = lambda; default 0).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.lion(lr=0.5)
    >>> opt.step(opt.init(np.zeros(2)), np.array([1e-8, -3.0])).x
    array([-0.5,  0.5])
    """
    beta1, beta2 = _betas(betas)
    hp = hyper(lr=(lr, POSITIVE), beta1=(beta1, UNIT_HALF_OPEN), beta2=(beta2, UNIT_HALF_OPEN),
               weight_decay=(weight_decay, NONNEGATIVE))
    return Method("lion", _lion_rule, hp, {"m": None}, config=_describe(lr=lr, betas=list(betas),
                  weight_decay=weight_decay), momentum_buffer="m")


def _singlescale_rule(x, buffers, g, h, k):
    m = buffers["m"]
    # mu_i = max(1 - lr (1 - beta_i) scaling, beta_i): both momenta move toward 1 as lr decays
    mu1 = np.maximum(1 - h.lr * (1 - h.beta1) * h.scaling, h.beta1)
    mu2 = np.maximum(1 - h.lr * (1 - h.beta2) * h.scaling, h.beta2)
    x = (1 - h.lr * h.weight_decay) * x
    c = mu1 * m + (1 - mu1) * g
    x_new = x - h.lr * (np.sign(c) + h.nesterov_momentum * g)
    return x_new, {"m": mu2 * m + (1 - mu2) * g}


def lion_singlescale(lr=1e-4, betas=(0.9, 0.99), scaling=None, weight_decay=0.0, nesterov_momentum=0.0) -> Method:
    """The GSGD paper's single-timescale Lion (the official code's ``Lion``/``Lion_singlescale``).

    ``scaling=None`` means 1/lr at k = 0, fixed afterwards; at constant lr it is ``lion``.
    Under a decaying lr, 1 - mu_i is proportional to lr (the single-timescale coupling).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.lion_singlescale(lr=0.1)
    >>> opt.step(opt.init(np.zeros(2)), np.array([1.0, -1.0])).x
    array([-0.1,  0.1])
    """
    beta1, beta2 = _betas(betas)
    eta = _schedules.as_schedule("lr", lr, POSITIVE)
    if scaling is None:
        first = np.asarray(eta(0, np.arange(eta.replicas or 1)) if eta.random else eta(0), dtype=float)
        scaling = float(1.0 / first) if first.ndim == 0 else 1.0 / first
    scaling = check_real("scaling", scaling, POSITIVE)
    hp = hyper(lr=(eta, POSITIVE), beta1=(beta1, UNIT_HALF_OPEN), beta2=(beta2, UNIT_HALF_OPEN),
               scaling=(scaling, POSITIVE), weight_decay=(weight_decay, NONNEGATIVE),
               nesterov_momentum=(nesterov_momentum, NONNEGATIVE))
    config = _describe(lr=lr, betas=list(betas), scaling=scaling, weight_decay=weight_decay,
                       nesterov_momentum=nesterov_momentum)
    return Method("lion_singlescale", _singlescale_rule, hp, {"m": None}, config=config, momentum_buffer="m")
