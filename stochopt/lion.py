"""Lion (Chen et al. 2023, arXiv 2302.06675) and the GSGD paper's single-timescale Lion.

Lion, with m_0 = 0 and sign(0) = 0::

    c = beta1 m + (1 - beta1) g           interpolated momentum (old m)
    x <- x - lr (sign(c) + lambda x)      decoupled weight decay on the old x
    m <- beta2 m + (1 - beta2) g          momentum updated after the step

Exact special cases: beta1 = beta2 is Signum; beta1 = 0 is signSGD. ``lion_rule(direction)``
is the same update with another map of c (Lion-K's grad K).

>>> import numpy as np, stochopt
>>> opt = stochopt.lion(lr=0.1, betas=(0.9, 0.99), weight_decay=1.0)
>>> opt.step(opt.init(np.array([1.0, -1.0])), np.array([0.5, 0.0])).x
array([ 0.8, -0.9])
"""
from __future__ import annotations

from . import schedules as _schedules
from ._checks import NONNEGATIVE, POSITIVE, UNIT_HALF_OPEN, check_tuple, renamed_argument
from .base import Method, hyper
from .framework import _describe, _scaling
from .terms import decoupled_weight_decay, ema, l2_penalty, sign, single_timescale_momentum, unless_zero, \
    with_extra_gradient

__all__ = ["lion", "lion_singlescale", "lion_rule"]


def lion_rule(direction=sign):
    """Lion's update with ``direction`` applied to the interpolated momentum c (sign for Lion).

    >>> import numpy as np
    >>> from types import SimpleNamespace as H
    >>> h = H(lr=0.1, beta1=0.5, beta2=0.9, weight_decay=0.0)
    >>> lion_rule()(np.zeros(2), {"m": np.zeros(2)}, np.array([3.0, 0.0]), h, 0)
    (array([-0.1,  0. ]), {'m': array([0.3, 0. ])})
    """
    def rule(x, buffers, g, h, k):
        m = buffers["m"]
        c = ema(m, g, h.beta1)                                                  # c = beta1 m + (1 - beta1) g
        x_new = x - h.lr * l2_penalty(direction(c), x, h.weight_decay)          # x - lr (sign(c) + lambda x)
        return x_new, {"m": ema(m, g, h.beta2)}                                 # m <- beta2 m + (1 - beta2) g

    return rule


_lion_rule = lion_rule(sign)


def lion(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0) -> Method:
    """Lion with decoupled weight decay (``weight_decay`` = lambda; default 0).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.lion(lr=0.5)
    >>> opt.step(opt.init(np.zeros(2)), np.array([1e-8, -3.0])).x
    array([-0.5,  0.5])
    """
    beta1, beta2 = check_tuple("betas", betas, ("beta1", "beta2"))
    hp = hyper(lr=(lr, POSITIVE), beta1=(beta1, UNIT_HALF_OPEN), beta2=(beta2, UNIT_HALF_OPEN),
               weight_decay=(weight_decay, NONNEGATIVE))
    return Method("lion", _lion_rule, hp, {"m": None}, config=_describe(lr=lr, betas=list(betas),
                  weight_decay=weight_decay), momentum_buffer="m")


def _singlescale_rule(x, buffers, g, h, k):
    m = buffers["m"]
    mu1 = single_timescale_momentum(h.beta1, h.lr, h.scaling)   # both momenta move toward 1 as lr decays
    mu2 = single_timescale_momentum(h.beta2, h.lr, h.scaling)
    c = ema(m, g, mu1)
    return x - h.lr * sign(c), {"m": ema(m, g, mu2)}


def lion_singlescale(lr=1e-4, betas=(0.9, 0.99), scaling=None, weight_decay=0.0, extra_gradient=0.0, *,
                     nesterov_momentum=None) -> Method:
    """The GSGD paper's single-timescale Lion (the official code's ``Lion``/``Lion_singlescale``).

    mu_i = max(1 - lr (1 - beta_i) scaling, beta_i); x <- (1 - lr lambda) x;
    c = mu1 m + (1 - mu1) g; x <- x - lr (sign(c) + alpha g); m <- mu2 m + (1 - mu2) g.
    ``scaling=None`` means 1/lr_0 (each replica's first lr), fixed afterwards; at constant lr it
    is ``lion``. Under a decaying lr, 1 - mu_i is proportional to lr (the single-timescale
    coupling). ``extra_gradient`` is alpha (the official ``nesterov_momentum``, a name that still
    works with a DeprecationWarning).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.lion_singlescale(lr=0.1)
    >>> opt.step(opt.init(np.zeros(2)), np.array([1.0, -1.0])).x
    array([-0.1,  0.1])
    """
    extra_gradient = renamed_argument("extra_gradient", extra_gradient, "nesterov_momentum", nesterov_momentum,
                                      default=0.0)
    beta1, beta2 = check_tuple("betas", betas, ("beta1", "beta2"))
    eta = _schedules.as_schedule("lr", lr, POSITIVE)
    hp = hyper(lr=(eta, POSITIVE), beta1=(beta1, UNIT_HALF_OPEN), beta2=(beta2, UNIT_HALF_OPEN),
               scaling=(_scaling(eta, scaling), POSITIVE), weight_decay=(weight_decay, NONNEGATIVE),
               extra_gradient=(extra_gradient, NONNEGATIVE))
    rule = unless_zero(with_extra_gradient, extra_gradient, _singlescale_rule)
    rule = unless_zero(decoupled_weight_decay, weight_decay, rule)
    config = _describe(lr=lr, betas=list(betas), scaling="1/lr_0" if scaling is None else scaling,
                       weight_decay=weight_decay, extra_gradient=extra_gradient)
    return Method("lion_singlescale", rule, hp, {"m": None}, config=config, momentum_buffer="m")
