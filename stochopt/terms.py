"""Named pieces the update rules are built from (in the spirit of optax's small transforms).

Each piece is written once here and used by every rule that needs it, so that a rule reads as
its paper's lines. Two kinds:

- **array pieces**, pure functions of arrays and hyperparameter values: weight decay (coupled,
  decoupled, proximal), moving averages (plain, and torch.lerp's rounding where a torch peer
  must agree to the last bit), bias correction, the quasi-hyperbolic mix (QHM's and Nesterov's
  look-ahead), sign with sign(0) = 0, the single-timescale momentum of the official GSGD code,
  a ratio whose 0/0 is its limit 0;
- **rule pieces**, which take an update rule ``rule(x, buffers, g, h, k) -> (x_new, buffers_new)``
  and return one: weight decay applied around a rule, the framework's extra gradient term, and
  ``unless_zero`` that leaves a piece out when its coefficient is the constant 0 (same result,
  less work).

Arithmetic order is part of the contract where a peer is matched bit for bit (torch.optim,
qhoptim, lion-pytorch): do not reorder these expressions.

>>> import numpy as np
>>> from stochopt import terms
>>> m = terms.ema(np.zeros(2), np.array([1.0, -2.0]), 0.9)          # 0.9 m + 0.1 g
>>> m / terms.bias_correction(0.9, 1)                                # the first step recovers g
array([ 1., -2.])
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "l2_penalty", "decoupled_decay", "proximal_decay", "ema", "ema_lerp", "bias_correction",
    "adam_denominator", "interpolate", "sign", "single_timescale_momentum", "ratio_or_zero",
    "coupled_weight_decay", "decoupled_weight_decay", "proximal_weight_decay", "with_extra_gradient",
    "unless_zero", "is_constant_zero",
]


# ============================================================================== array pieces
def l2_penalty(g, x, weight_decay):
    """g + lambda x: the gradient of f + (lambda/2)||x||^2 (coupled weight decay).

    >>> l2_penalty(np.array([1.0]), np.array([2.0]), 0.5)
    array([2.])
    """
    return g + weight_decay * x


def decoupled_decay(x, lr, weight_decay):
    """(1 - lr lambda) x: decoupled weight decay, applied to the iterate (AdamW, Loshchilov & Hutter).

    >>> decoupled_decay(np.array([2.0]), 0.1, 0.5)
    array([1.9])
    """
    return x * (1 - lr * weight_decay)


def proximal_decay(x, lr, weight_decay):
    """x / (1 + lr lambda): the proximal step of (lambda/2)||x||^2 (Adan's default).

    >>> proximal_decay(np.array([2.2]), 0.1, 1.0)
    array([2.])
    """
    return x / (1 + lr * weight_decay)


def ema(average, new, beta):
    """beta average + (1 - beta) new: an exponential moving average with memory beta.

    beta = 0 gives ``new`` exactly; beta may be an (R, 1) column of per-replica values.

    >>> ema(np.array([1.0]), np.array([3.0]), 0.75)
    array([1.5])
    """
    out = average * beta                # then += in place: the same two roundings as a * b + c, one array less
    out += (1 - beta) * new
    return out


def ema_lerp(average, new, beta):
    """The same average with torch.lerp's rounding (ATen's formula, exact at weights 0 and 1).

    torch.optim.Adam, NAdam and RMSprop (centered) update their first moments with
    ``lerp_(g, 1 - beta)``; agreeing with them to the last bit needs this order.

    >>> ema_lerp(np.array([1.0]), np.array([3.0]), 0.75)
    array([1.5])
    """
    weight = 1 - beta
    return np.where(np.abs(weight) < 0.5, average + weight * (new - average), new - (new - average) * (1 - weight))


def bias_correction(beta, t):
    """1 - beta^t: the weight an average from zero has put on its inputs after t steps.

    >>> bias_correction(0.5, 3)
    0.875
    """
    return 1 - beta ** t


def adam_denominator(v, beta2, t, eps):
    """sqrt(v_hat) + eps with v_hat = v / (1 - beta2^t), in torch.optim.Adam's order (eps outside the root).

    >>> adam_denominator(np.array([0.25]), 0.0, 1, 0.5)
    array([1.])
    """
    return np.sqrt(v) / bias_correction(beta2, t) ** 0.5 + eps


def interpolate(g, average, nu):
    """(1 - nu) g + nu average: the quasi-hyperbolic mix of QHM and QHAdam.

    With nu = beta and ``average`` the momentum it is Nesterov's look-ahead (QHM's nu = beta case).

    >>> interpolate(np.array([1.0]), np.array([3.0]), 0.25)
    array([1.5])
    """
    return (1 - nu) * g + nu * average


def sign(m):
    """sign(m) with sign(0) = 0 (NumPy's, torch's and JAX's; a copysign port gives +-1 and is wrong).

    >>> sign(np.array([-2.0, 0.0, 3.0]))
    array([-1.,  0.,  1.])
    """
    return np.sign(m)


def single_timescale_momentum(beta, lr, scaling):
    """mu = max(1 - lr (1 - beta) scaling, beta): the official GSGD code's effective momentum.

    At lr = 1/scaling it is beta; as lr decays, 1 - mu = (1 - beta) scaling lr shrinks in
    proportion (the single-timescale coupling theta = tau eta, tau = (1 - beta) scaling).

    >>> float(single_timescale_momentum(0.9, 0.01, 10.0))     # lr at a tenth of 1/scaling
    0.99
    """
    return np.maximum(1 - lr * (1 - beta) * scaling, beta)


def ratio_or_zero(num, den):
    """num / den where den != 0 or num != 0, and 0 where both are exactly 0.

    0 is the limit of num / (den + eps) as eps -> 0 when num = 0: a coordinate that has never
    seen a non-zero gradient does not move. A non-zero num over 0 stays +-inf (a real divergence).

    >>> ratio_or_zero(np.array([1.0, 0.0, 1.0]), np.array([2.0, 0.0, 0.0]))
    array([0.5, 0. , inf])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.divide(num, den)
    zero = den == 0
    if zero.any():                    # only possible with eps = 0: fix the 0/0 entries
        out = np.where(zero & (num == 0), 0.0, out)
    return out


# ============================================================================== rule pieces
def coupled_weight_decay(rule):
    """The rule on g + lambda x (``h.weight_decay``): torch.optim.SGD/Adam's L2 penalty.

    >>> def step(x, buffers, g, h, k):
    ...     return x - h.lr * g, buffers
    >>> from types import SimpleNamespace as H
    >>> coupled_weight_decay(step)(np.array([1.0]), {}, np.array([0.0]), H(lr=0.5, weight_decay=0.2), 0)[0]
    array([0.9])
    """
    def decayed(x, buffers, g, h, k):
        return rule(x, buffers, l2_penalty(g, x, h.weight_decay), h, k)

    return decayed


def decoupled_weight_decay(rule):
    """x <- (1 - lr lambda) x, then the rule: AdamW, QHM's ``"direct"``, Adan's ``no_prox``.

    >>> def step(x, buffers, g, h, k):
    ...     return x - h.lr * g, buffers
    >>> from types import SimpleNamespace as H
    >>> decoupled_weight_decay(step)(np.array([1.0]), {}, np.array([1.0]), H(lr=0.5, weight_decay=0.2), 0)[0]
    array([0.4])
    """
    def decayed(x, buffers, g, h, k):
        return rule(decoupled_decay(x, h.lr, h.weight_decay), buffers, g, h, k)

    return decayed


def proximal_weight_decay(rule):
    """The rule, then x <- x / (1 + lr lambda): Adan's proximal weight decay.

    >>> def step(x, buffers, g, h, k):
    ...     return x - h.lr * g, buffers
    >>> from types import SimpleNamespace as H
    >>> proximal_weight_decay(step)(np.array([1.5]), {}, np.array([1.0]), H(lr=0.5, weight_decay=2.0), 0)[0]
    array([0.5])
    """
    def decayed(x, buffers, g, h, k):
        x_new, buffers_new = rule(x, buffers, g, h, k)
        return proximal_decay(x_new, h.lr, h.weight_decay), buffers_new

    return decayed


def with_extra_gradient(rule):
    """The rule, then x <- x - lr alpha g (``h.extra_gradient``): the framework's alpha g_k term.

    >>> def step(x, buffers, g, h, k):
    ...     return x - h.lr * np.sign(g), buffers
    >>> from types import SimpleNamespace as H
    >>> with_extra_gradient(step)(np.array([0.0]), {}, np.array([2.0]), H(lr=0.5, extra_gradient=0.25), 0)[0]
    array([-0.75])
    """
    def extra(x, buffers, g, h, k):
        x_new, buffers_new = rule(x, buffers, g, h, k)
        return x_new - h.lr * (h.extra_gradient * g), buffers_new

    return extra


def is_constant_zero(value) -> bool:
    """True for 0, an all-zero array or a constant schedule of 0 (a term that can be left out).

    >>> is_constant_zero(0.0), is_constant_zero(np.zeros(3)), is_constant_zero(np.array([0.0, 0.1]))
    (True, True, False)
    """
    from .schedules import Constant, Schedule

    if isinstance(value, Constant):
        value = value.value
    elif isinstance(value, Schedule):
        return False
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return False
    return bool(arr.size) and bool(np.all(arr == 0))


def unless_zero(piece, coefficient, rule):
    """``piece(rule)``, or ``rule`` itself when ``coefficient`` is the constant 0.

    A decay or extra-gradient term with a zero coefficient changes nothing but costs array
    operations; the factory leaves it out (the result is the same).

    >>> rule = lambda x, buffers, g, h, k: (x, buffers)
    >>> unless_zero(coupled_weight_decay, 0.0, rule) is rule, unless_zero(coupled_weight_decay, 0.1, rule) is rule
    (True, False)
    """
    return rule if is_constant_zero(coefficient) else piece(rule)
