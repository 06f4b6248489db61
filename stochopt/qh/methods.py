"""QHM, QHAdam and QHAdamW (Ma & Yarats, ICLR 2019, arXiv 1810.06801).

QHM ("dampened" momentum buffer b, starting at 0, no bias correction)::

    b <- beta b + (1 - beta) g
    x <- x - alpha [ (1 - nu) g + nu b ]

QHAdam (bias-corrected moments; eps outside the square root)::

    m_hat = EMA_beta1(g) / (1 - beta1^t),   v_hat = EMA_beta2(g^2) / (1 - beta2^t)
    x <- x - lr [ (1 - nu1) g + nu1 m_hat ] / ( sqrt((1 - nu2) g^2 + nu2 v_hat) + eps )

Exact special cases (each one is a claim of the ``qh`` family, ``verify/families/qh/``): QHM with nu = 0, or with
beta = 0, is SGD(alpha); nu = 1 is ``heavy_ball(lr=alpha, momentum=beta)`` (undampened momentum
with lr alpha (1 - beta)); nu = beta is PyTorch's Nesterov SGD with lr alpha (1 - beta).
QHAdam with nus = (1, 1) is Adam, QHAdamW with nus = (1, 1) is AdamW, and the first QHAdam
step is lr g / (|g| + eps) whatever the nus.

>>> import numpy as np, stochopt
>>> opt = stochopt.qhm(lr=1.0, momentum=0.5, nu=0.7)
>>> opt.step(opt.init(np.zeros(2)), np.array([1.0, -2.0])).x   # 0.3 g + 0.7 * 0.5 g = 0.65 g
array([-0.65,  1.3 ])
"""
from __future__ import annotations

import numpy as np

from .._checks import NONNEGATIVE, POSITIVE, REAL, UNIT_CLOSED, UNIT_HALF_OPEN, check_choice, check_tuple
from ..base import Method, hyper
from ..framework import _describe
from ..terms import (
    bias_correction,
    coupled_weight_decay,
    decoupled_weight_decay,
    ema,
    interpolate,
    ratio_or_zero,
    unless_zero,
)

__all__ = ["qhm", "qhadam", "qhadamw"]


def _decayed(rule, weight_decay, decoupled: bool):
    """The rule with coupled (g + lambda x) or decoupled ((1 - lr lambda) x first) weight decay."""
    return unless_zero(decoupled_weight_decay if decoupled else coupled_weight_decay, weight_decay, rule)


# ----------------------------------------------------------------------------------- QHM
def _qhm_rule(x, buffers, g, h, k):
    b = ema(buffers["b"], g, h.momentum)                         # dampened buffer, b_0 = 0
    return x - h.lr * interpolate(g, b, h.nu), {"b": b}          # x - lr ((1 - nu) g + nu b)


def qhm(lr, momentum=0.999, nu=0.7, weight_decay=0.0, weight_decay_type="grad") -> Method:
    """Quasi-hyperbolic momentum: x <- x - lr [(1 - nu) g + nu b], b <- momentum b + (1 - momentum) g.

    Parameters (qhoptim's names and order)
    ----------
    lr : alpha > 0 (float, (R,) array or Schedule).
    momentum : beta in [0, 1). Default 0.999 (the paper's recommendation; qhoptim requires it).
    nu : the immediate discount, any finite real (converters return values outside [0, 1]).
        Default 0.7 (the paper's recommendation; qhoptim requires it).
    weight_decay : lambda >= 0.
    weight_decay_type : ``"grad"`` (g <- g + lambda x, like SGD) or ``"direct"``
        (x <- (1 - lr lambda) x before the step).

    The caller's gradient is never modified (qhoptim adds the decay into ``p.grad`` in place).
    Porting plain momentum with learning rate eta: ``qhm(lr=eta / (1 - beta), momentum=beta, nu=1)``.

    >>> import numpy as np, stochopt
    >>> opt = stochopt.qhm(lr=0.1, momentum=0.9, nu=np.array([0.0, 1.0]))   # two replicas
    >>> s = opt.step(opt.init(np.ones(2)), np.ones((2, 2)))
    >>> s.x                                   # nu = 0: SGD; nu = 1: 0.1 * 0.1 g
    array([[0.9 , 0.9 ],
           [0.99, 0.99]])
    """
    weight_decay_type = check_choice("weight_decay_type", weight_decay_type, ["grad", "direct"])
    hp = hyper(lr=(lr, POSITIVE), momentum=(momentum, UNIT_HALF_OPEN), nu=(nu, REAL),
               weight_decay=(weight_decay, NONNEGATIVE))
    config = _describe(lr=lr, momentum=momentum, nu=nu, weight_decay=weight_decay,
                       weight_decay_type=weight_decay_type)
    return Method("qhm", _decayed(_qhm_rule, weight_decay, weight_decay_type == "direct"), hp, {"b": None},
                  config=config, momentum_buffer="b")


# -------------------------------------------------------------------------------- QHAdam
def _qhadam_rule(x, buffers, g, h, k):
    t = k + 1
    m = ema(buffers["m"], g, h.beta1)                  # raw EMAs from zero, as torch.optim.Adam stores them
    v = ema(buffers["v"], g * g, h.beta2)
    m_hat, v_hat = m / bias_correction(h.beta1, t), v / bias_correction(h.beta2, t)
    numerator = interpolate(g, m_hat, h.nu1)
    denominator = np.sqrt(interpolate(g * g, v_hat, h.nu2)) + h.eps    # eps outside the root
    return x - h.lr * ratio_or_zero(numerator, denominator), {"m": m, "v": v}   # 0/0 (eps = 0): no move


def _make_qhadam(name, lr, betas, nus, weight_decay, decouple_weight_decay, eps):
    beta1, beta2 = check_tuple("betas", betas, ("beta1", "beta2"))
    nu1, nu2 = check_tuple("nus", nus, ("nu1", "nu2"), "nu1 any real, nu2 in [0, 1]")
    if not isinstance(decouple_weight_decay, (bool, np.bool_)):
        raise TypeError(f"decouple_weight_decay must be True or False; got {decouple_weight_decay!r}")
    hp = hyper(lr=(lr, POSITIVE), beta1=(beta1, UNIT_HALF_OPEN), beta2=(beta2, UNIT_HALF_OPEN),
               nu1=(nu1, REAL), nu2=(nu2, UNIT_CLOSED), weight_decay=(weight_decay, NONNEGATIVE),
               eps=(eps, NONNEGATIVE))
    config = _describe(lr=lr, betas=list(betas), nus=list(nus), weight_decay=weight_decay,
                       decouple_weight_decay=bool(decouple_weight_decay), eps=eps)
    return Method(name, _decayed(_qhadam_rule, weight_decay, bool(decouple_weight_decay)), hp,
                  {"m": None, "v": None}, config=config, momentum_buffer="m")


def qhadam(lr=1e-3, betas=(0.9, 0.999), nus=(1.0, 1.0), weight_decay=0.0, decouple_weight_decay=False,
           eps=1e-8) -> Method:
    """QHAdam: Adam whose two moment estimates interpolate with the current g and g^2.

    Parameters (qhoptim's names, defaults and order: ``eps`` is last; pass it by keyword)
    ----------
    lr : > 0.
    betas : (beta1, beta2), each in [0, 1) (float or (R,) array each).
    nus : (nu1, nu2): nu1 any finite real, nu2 in [0, 1] (so that the root is real).
    weight_decay : lambda >= 0; coupled (g <- g + lambda x) unless ``decouple_weight_decay``,
        then x <- (1 - lr lambda) x before the step (QHAdamW).
    eps : >= 0, added after the square root of the bias-corrected second moment. With eps = 0,
        a coordinate whose numerator and denominator are both exactly 0 (it has only ever seen
        zero gradients) does not move: 0/0 is taken as its limit 0 as eps -> 0. A non-zero
        numerator over a zero denominator (possible only with nu2 = 0 or beta2 = 0) is an
        infinite step, and the run marks the replica as diverged.

    With nus = (1, 1) this is exactly Adam (``torch.optim.Adam``); the first step is
    lr g / (|g| + eps) for any nus.

    >>> import numpy as np, stochopt
    >>> opt = stochopt.qhadam(lr=0.1, nus=(0.7, 1.0), eps=0.0)
    >>> opt.step(opt.init(np.zeros(3)), np.array([2.0, -0.5, 0.0])).x      # 0/0: stays at 0
    array([-0.1,  0.1,  0. ])
    """
    return _make_qhadam("qhadam", lr, betas, nus, weight_decay, decouple_weight_decay, eps)


def qhadamw(lr=1e-3, betas=(0.9, 0.999), nus=(1.0, 1.0), weight_decay=0.0, *, eps=1e-8) -> Method:
    """QHAdamW: QHAdam with decoupled weight decay, x <- (1 - lr lambda) x before the step.

    ``eps`` is keyword-only (qhoptim's ``QHAdamW`` forwards to ``QHAdam`` with
    ``decouple_weight_decay=True``; a sixth positional argument there is an error).
    With nus = (1, 1) this is exactly AdamW (``torch.optim.AdamW``).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.qhadamw(lr=0.1, weight_decay=1.0, eps=0.0)
    >>> opt.step(opt.init(np.array([1.0, 1.0])), np.array([3.0, -3.0])).x   # 0.9 x -+ 0.1
    array([0.8, 1. ])
    """
    return _make_qhadam("qhadamw", lr, betas, nus, weight_decay, True, eps)
