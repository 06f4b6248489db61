"""The general two-timescale stochastic subgradient framework (GSGD) and its instances.

Xiao, Hu, Toh, "Convergence Guarantees for Stochastic Subgradient Methods in Nonsmooth
Nonconvex Optimization" (arXiv 2307.10053). With g_k the oracle's output::

    m_{k+1} = m_k + theta_k (g_k - m_k)                  momentum stepsize theta_k
    x_{k+1} = x_k - eta_k (s_{k+1} + alpha g_k),        s_{k+1} in dphi(m_{k+1})

written as m_{k+1} = (1 - theta_k) m_k + theta_k g_k so that theta_k = 1 gives m_{k+1} = g_k
exactly. Single timescale: theta_k = tau eta_k; two timescales: eta_k / theta_k -> 0.

Every instance is ``framework_rule`` with a direction and a conversion of its hyperparameters
in the factory (theta = 1 - momentum; the official code's theta_k; a buffer that starts at the
first gradient is theta_0 = 1); coupled weight decay and the extra gradient alpha g are rule
pieces of ``stochopt.terms``, left out when their coefficient is 0.

| method          | phi(m)                  | theta            |
|-----------------|-------------------------|------------------|
| sgd             | ||m||^2 / 2             | 1                |
| heavy_ball      | ||m||^2 / 2             | 1 - momentum     |
| signsgd         | ||m||_1                 | 1                |
| signum          | ||m||_1                 | 1 - momentum     |
| normalized_sgd  | sum_b ||m_b||           | 1 - momentum     |
| clipped_sgd     | Huber(||m_b||) or Huber(m_i) | 1 - momentum |
| srsgd           | ||m||^2/2 + lam ||m||_1 (reconstructed) | 1 - momentum |
| gsgd_official   | any                     | (1 - momentum) min(1, lr_k scaling); theta_0 = 1 |

>>> import numpy as np, stochopt
>>> opt = stochopt.signum(lr=0.01, momentum=0.9)
>>> s = opt.step(opt.init(np.zeros(3)), np.array([1.0, -1.0, 0.0]))
>>> s.x
array([-0.01,  0.01,  0.  ])
"""
from __future__ import annotations

import numpy as np

from . import directions as _directions
from . import schedules as _schedules
from ._checks import NONNEGATIVE, POSITIVE, UNIT_HALF_OPEN, UNIT_LEFT_OPEN, check_choice, check_real, renamed_argument
from .base import Method, hyper
from .terms import coupled_weight_decay, ema, single_timescale_momentum, unless_zero, with_extra_gradient

__all__ = [
    "framework_rule",
    "gsgd",
    "sgd",
    "heavy_ball",
    "signsgd",
    "signum",
    "normalized_sgd",
    "clipped_sgd",
    "srsgd",
    "gsgd_official",
]


def framework_rule(direction):
    """The framework's update with direction ``direction`` (a ``Direction``), as the paper writes it.

    >>> import numpy as np
    >>> from types import SimpleNamespace as H
    >>> rule = framework_rule(_directions.get("sign"))
    >>> rule(np.zeros(2), {"m": np.zeros(2)}, np.array([2.0, -1.0]), H(lr=0.1, momentum_lr=0.5), 0)
    (array([-0.1,  0.1]), {'m': array([ 1. , -0.5])})
    """
    def rule(x, buffers, g, h, k):
        m = ema(buffers["m"], g, 1 - h.momentum_lr)      # m_{k+1} = (1 - theta_k) m_k + theta_k g_k
        return x - h.lr * direction.select(m), {"m": m}  # x_{k+1} = x_k - eta_k s_{k+1}

    return rule


# ============================================================================ conversions
class _FirstGradient(_schedules.Schedule):
    """theta_0 = 1, then ``theta``: the momentum buffer starts at the first gradient (m_1 = g_0)."""

    def __init__(self, theta):
        self.theta = theta
        self.replicas, self.random = theta.replicas, theta.random

    def __call__(self, k, replica_ids=None):
        return 1.0 if k == 0 else self.theta(k, replica_ids)

    def _formula(self, replica):
        import sympy

        k = _schedules.k_symbol()
        return sympy.Piecewise((sympy.Integer(1), sympy.Eq(k, 0)), (self.theta.formula(replica), True))


class _InverseFirstLr(_schedules.Schedule):
    """scaling = 1 / lr_0: the official code's default, fixed at construction.

    Per replica, lr_0 is the first stepsize that replica takes (a random or per-replica lr gives
    one value each, computed from the replica ids like every schedule; none is invented).
    """

    def __init__(self, lr):
        self.lr = lr
        self.replicas, self.random = lr.replicas, lr.random

    def __call__(self, k, replica_ids=None):
        return 1.0 / np.asarray(self.lr(0, replica_ids), dtype=float) if self.random or self.replicas else \
            1.0 / float(self.lr(0))

    def _formula(self, replica):
        return 1 / self.lr.formula(replica).subs(_schedules.k_symbol(), 0)


class _OfficialTheta(_schedules.Schedule):
    """theta_k = 1 - mu_k, mu_k = max(momentum, 1 - lr_k scaling (1 - momentum)) (spec 1.4)."""

    def __init__(self, lr, momentum, scaling):
        self.lr, self.momentum, self.scaling = lr, momentum, scaling
        sizes = {s for s in (lr.replicas, scaling.replicas, None if np.ndim(momentum) == 0 else len(momentum)) if s}
        self.replicas = sizes.pop() if len(sizes) == 1 else None
        self.random = lr.random or scaling.random

    def __call__(self, k, replica_ids=None):
        mu = single_timescale_momentum(self.momentum, self.lr(k, replica_ids), self.scaling(k, replica_ids))
        return 1 - mu

    def _formula(self, replica):
        import sympy

        beta = sympy.Float(float(np.asarray(self.momentum).ravel()[0 if replica is None else replica]))
        mu = sympy.Max(beta, 1 - self.lr.formula(replica) * self.scaling.formula(replica) * (1 - beta))
        return 1 - mu


def _scaling(lr, scaling):
    """The official code's ``scaling`` as a schedule: given (> 0), or 1 / lr_0 when None."""
    if scaling is None:
        return _InverseFirstLr(lr)
    return _schedules.as_schedule("scaling", scaling, POSITIVE)


def _one_minus(name, value, interval):
    """1 - value for a float, an (R,) array or a Schedule, after checking ``value`` under its own name."""
    if isinstance(value, _schedules.Schedule):
        return _OneMinus(_schedules.as_schedule(name, value, interval))
    return 1.0 - check_real(name, value, interval)


def _momentum_lr(momentum):
    """theta = 1 - momentum (the framework's momentum stepsize of a momentum coefficient)."""
    return _one_minus("momentum", momentum, UNIT_HALF_OPEN)


class _OneMinus(_schedules.Schedule):
    """1 - schedule(k): the momentum stepsize theta of a momentum coefficient given as a schedule."""

    def __init__(self, schedule):
        self.schedule = schedule
        self.replicas, self.random = schedule.replicas, schedule.random

    def __call__(self, k, replica_ids=None):
        return 1.0 - np.asarray(self.schedule(k, replica_ids), dtype=float) if self.random or self.replicas \
            else 1.0 - float(self.schedule(k))

    def _formula(self, replica):
        return 1 - self.schedule.formula(replica)


def _initial_momentum(m0):
    """(buffers, starts_at_first_gradient) for m0 = None (zeros), "first_grad" or an array."""
    if isinstance(m0, str):
        if m0 != "first_grad":
            raise ValueError(f"m0 must be None (zeros), 'first_grad' or an array; got {m0!r}")
        return {"m": None}, True
    if m0 is None:
        return {"m": None}, False
    m0 = np.asarray(m0)
    if not np.issubdtype(m0.dtype, np.floating) or not np.all(np.isfinite(m0)):
        raise ValueError("m0 must be a finite float array of the shape of x0")

    def init_m(x0, m0=m0):
        try:
            return np.broadcast_to(m0, x0.shape).copy()
        except ValueError:
            raise ValueError(f"m0 has shape {m0.shape}; it must broadcast to x0's shape {x0.shape}") from None

    return {"m": init_m}, False


def _make_gsgd(name, config, *, lr, momentum_lr, direction, extra_gradient=0.0, weight_decay=0.0, blocks=None,
               m0=None):
    direction = _directions.get(direction, blocks=blocks)
    buffers, first_gradient = _initial_momentum(m0)
    theta = _schedules.as_schedule("momentum_lr", momentum_lr, UNIT_LEFT_OPEN)
    hp = hyper(
        lr=(lr, POSITIVE),
        momentum_lr=(_FirstGradient(theta) if first_gradient else theta, UNIT_LEFT_OPEN),
        extra_gradient=(extra_gradient, NONNEGATIVE),
        weight_decay=(weight_decay, NONNEGATIVE),
    )
    rule = unless_zero(with_extra_gradient, extra_gradient, framework_rule(direction))
    rule = unless_zero(coupled_weight_decay, weight_decay, rule)   # the official code couples its decay
    config = dict(config, direction=direction.config())
    return Method(name, rule, hp, buffers, config=config, momentum_buffer="m", blocks=direction.blocks)


def _describe(**kwargs):
    """JSON-able description of a factory's arguments (schedules, arrays and directions as dicts/lists)."""
    out = {}
    for key, value in kwargs.items():
        if isinstance(value, _schedules.Schedule):
            out[key] = value.to_dict()
        elif isinstance(value, np.ndarray):
            out[key] = value.tolist()
        elif isinstance(value, _directions.Direction):
            out[key] = value.config()
        elif isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple, np.ndarray)):
            out[key] = [np.asarray(v).tolist() for v in value]
        elif isinstance(value, (list, tuple)):
            out[key] = [_describe(v=v)["v"] for v in value]
        else:
            out[key] = value
    return out


# ============================================================================ factories
def gsgd(lr, momentum_lr, direction="identity", extra_gradient=0.0, weight_decay=0.0, blocks=None, m0=None, *,
         nesterov=None) -> Method:
    """The general framework: any direction, any stepsizes eta_k (``lr``) and theta_k (``momentum_lr``).

    Parameters
    ----------
    lr : eta_k > 0: a float, an (R,) array or a Schedule.
    momentum_lr : theta_k in (0, 1]: a float, an (R,) array or a Schedule
        (``schedules.coupled(lr, tau)`` for a single timescale).
    direction : a name from ``stochopt.directions.names()`` or a ``Direction``.
    extra_gradient : alpha >= 0, the extra gradient term alpha g_k (the official code's float
        ``nesterov``; that name still works, with a DeprecationWarning).
    weight_decay : coupled weight decay (added to the gradient).
    blocks : a partition of the coordinates for per-block directions (lists of integer indices).
    m0 : initial momentum: None (zeros), ``"first_grad"`` (theta_0 = 1) or an array.

    >>> import numpy as np, stochopt
    >>> opt = stochopt.gsgd(lr=0.1, momentum_lr=0.5, direction="sign")
    >>> opt.step(opt.init(np.zeros(2)), np.array([2.0, -0.5])).x
    array([-0.1,  0.1])
    """
    extra_gradient = renamed_argument("extra_gradient", extra_gradient, "nesterov", nesterov, default=0.0)
    config = _describe(lr=lr, momentum_lr=momentum_lr, extra_gradient=extra_gradient, weight_decay=weight_decay,
                       m0=m0)
    return _make_gsgd("gsgd", config, lr=lr, momentum_lr=momentum_lr, direction=direction,
                      extra_gradient=extra_gradient, weight_decay=weight_decay, blocks=blocks, m0=m0)


def sgd(lr, weight_decay=0.0) -> Method:
    """Plain (sub)gradient descent: x <- x - lr (g + weight_decay x).

    >>> import numpy as np, stochopt
    >>> stochopt.sgd(lr=0.5).step(stochopt.sgd(lr=0.5).init(np.ones(2)), np.ones(2)).x
    array([0.5, 0.5])
    """
    return _make_gsgd("sgd", _describe(lr=lr, weight_decay=weight_decay), lr=lr, momentum_lr=1.0,
                      direction="identity", weight_decay=weight_decay)


def heavy_ball(lr, momentum=0.9, extra_gradient=0.0, weight_decay=0.0, *, nesterov=None) -> Method:
    """Heavy ball in EMA form: m <- momentum m + (1 - momentum) g, x <- x - lr (m + alpha g).

    ``extra_gradient`` is alpha (formerly ``nesterov``). Porting torch.optim.SGD(lr, momentum)
    (undampened buffer): use lr / (1 - momentum).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.heavy_ball(lr=1.0, momentum=0.75)
    >>> opt.step(opt.init(np.zeros(1)), np.ones(1)).x
    array([-0.25])
    """
    extra_gradient = renamed_argument("extra_gradient", extra_gradient, "nesterov", nesterov, default=0.0)
    config = _describe(lr=lr, momentum=momentum, extra_gradient=extra_gradient, weight_decay=weight_decay)
    return _make_gsgd("heavy_ball", config, lr=lr, momentum_lr=_momentum_lr(momentum), direction="identity",
                      extra_gradient=extra_gradient, weight_decay=weight_decay)


def signsgd(lr, weight_decay=0.0) -> Method:
    """signSGD: x <- x - lr sign(g), sign(0) = 0.

    >>> import numpy as np, stochopt
    >>> stochopt.signsgd(lr=0.1).step(stochopt.signsgd(lr=0.1).init(np.zeros(3)), np.array([3.0, 0.0, -1e-9])).x
    array([-0.1,  0. ,  0.1])
    """
    return _make_gsgd("signsgd", _describe(lr=lr, weight_decay=weight_decay), lr=lr, momentum_lr=1.0,
                      direction="sign", weight_decay=weight_decay)


def signum(lr, momentum=0.9, weight_decay=0.0) -> Method:
    """Signum (signSGD with momentum): m <- momentum m + (1 - momentum) g, x <- x - lr sign(m).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.signum(lr=0.1, momentum=0.9)
    >>> opt.step(opt.init(np.zeros(2)), np.array([1.0, -2.0])).x
    array([-0.1,  0.1])
    """
    return _make_gsgd("signum", _describe(lr=lr, momentum=momentum, weight_decay=weight_decay), lr=lr,
                      momentum_lr=_momentum_lr(momentum), direction="sign", weight_decay=weight_decay)


def normalized_sgd(lr, momentum=0.0, blocks=None, weight_decay=0.0) -> Method:
    """Normalized SGD (per block): x <- x - lr m_b / ||m_b||.

    >>> import numpy as np, stochopt
    >>> opt = stochopt.normalized_sgd(lr=1.0)
    >>> opt.step(opt.init(np.zeros(2)), np.array([3.0, 4.0])).x
    array([-0.6, -0.8])
    """
    return _make_gsgd("normalized_sgd", _describe(lr=lr, momentum=momentum, blocks=blocks, weight_decay=weight_decay),
                      lr=lr, momentum_lr=_momentum_lr(momentum), direction="normalized", blocks=blocks,
                      weight_decay=weight_decay)


def clipped_sgd(lr, threshold=1.0, momentum=0.0, mode="norm", blocks=None, weight_decay=0.0) -> Method:
    """Clipped SGD: by norm per block (``mode="norm"``) or by coordinate (``mode="coordinate"``).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.clipped_sgd(lr=1.0, threshold=1.0)
    >>> opt.step(opt.init(np.zeros(2)), np.array([3.0, 4.0])).x
    array([-0.6, -0.8])
    """
    mode = check_choice("mode", mode, ["norm", "coordinate"])
    direction = _directions.ClipNorm(threshold) if mode == "norm" else _directions.ClipCoordinate(threshold)
    return _make_gsgd("clipped_sgd", _describe(lr=lr, threshold=threshold, momentum=momentum, mode=mode,
                                               blocks=blocks, weight_decay=weight_decay),
                      lr=lr, momentum_lr=_momentum_lr(momentum), direction=direction, blocks=blocks,
                      weight_decay=weight_decay)


def srsgd(lr, momentum=0.9, lam=0.1, weight_decay=0.0) -> Method:
    """Sign-map regularised SGD (reconstructed): x <- x - lr (m + lam sign(m)).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.srsgd(lr=1.0, momentum=0.0, lam=0.5)
    >>> opt.step(opt.init(np.zeros(2)), np.array([2.0, -1.0])).x
    array([-2.5,  1.5])
    """
    return _make_gsgd("srsgd", _describe(lr=lr, momentum=momentum, lam=lam, weight_decay=weight_decay), lr=lr,
                      momentum_lr=_momentum_lr(momentum), direction=_directions.SRSGD(lam),
                      weight_decay=weight_decay)


def gsgd_official(lr, momentum=0.9, scaling=None, direction="identity", weight_decay=0.0, extra_gradient=0.0,
                  blocks=None, *, nesterov=None) -> Method:
    """The official GSGD code's parametrization, mapped onto (eta_k, theta_k).

    ``scaling=None`` means 1/lr_0 (each replica's first lr; fixed afterwards); then
    theta_k = (1 - momentum) min(1, lr_k scaling) (single timescale with
    tau = (1 - momentum) scaling while lr_k scaling <= 1), theta_0 = 1 (the buffer starts at the
    first gradient), and weight decay is coupled. Unlike the official code, the caller's
    gradient is never modified, the extra gradient term (the official ``nesterov``, here
    ``extra_gradient``) uses the real gradient, and ``momentum=0`` keeps the direction (with a
    sign direction it is signSGD).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.gsgd_official(lr=0.1, momentum=0.9)
    >>> opt.step(opt.init(np.zeros(1)), np.array([2.0])).x   # buffer starts at g
    array([-0.2])
    """
    extra_gradient = renamed_argument("extra_gradient", extra_gradient, "nesterov", nesterov, default=0.0)
    beta = check_real("momentum", momentum, UNIT_HALF_OPEN)
    eta = _schedules.as_schedule("lr", lr, POSITIVE)
    theta = _OfficialTheta(eta, beta, _scaling(eta, scaling))
    config = _describe(lr=lr, momentum=momentum, scaling="1/lr_0" if scaling is None else scaling,
                       weight_decay=weight_decay, extra_gradient=extra_gradient)
    return _make_gsgd("gsgd_official", config, lr=eta, momentum_lr=theta, direction=direction,
                      extra_gradient=extra_gradient, weight_decay=weight_decay, blocks=blocks, m0="first_grad")
