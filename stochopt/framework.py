"""The general two-timescale stochastic subgradient framework (GSGD) and its instances.

Xiao, Hu, Toh, "Convergence Guarantees for Stochastic Subgradient Methods in Nonsmooth
Nonconvex Optimization" (arXiv 2307.10053). With g_k the oracle's output::

    m_{k+1} = m_k + theta_k (g_k - m_k)                  momentum stepsize theta_k
    x_{k+1} = x_k - eta_k (s_{k+1} + alpha g_k),        s_{k+1} in dphi(m_{k+1})

written as m_{k+1} = (1 - theta_k) m_k + theta_k g_k so that theta_k = 1 gives m_{k+1} = g_k
exactly. Single timescale: theta_k = tau eta_k; two timescales: eta_k / theta_k -> 0.

| method          | phi(m)                  | theta            |
|-----------------|-------------------------|------------------|
| sgd             | ||m||^2 / 2             | 1                |
| heavy_ball      | ||m||^2 / 2             | 1 - momentum     |
| signsgd         | ||m||_1                 | 1                |
| signum          | ||m||_1                 | 1 - momentum     |
| normalized_sgd  | sum_b ||m_b||           | 1 - momentum     |
| clipped_sgd     | Huber(||m_b||) or Huber(m_i) | 1 - momentum |
| srsgd           | ||m||^2/2 + lam ||m||_1 (reconstructed) | 1 - momentum |

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
from ._checks import (
    NONNEGATIVE,
    POSITIVE,
    UNIT_HALF_OPEN,
    UNIT_LEFT_OPEN,
    check_choice,
    check_real,
)
from .base import Method, hyper

__all__ = [
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


def _gsgd_rule(direction, first_grad: bool, decay: bool, extra_gradient: bool):
    """The update; terms whose coefficient is the constant 0 are skipped (same result, less work)."""

    def rule(x, buffers, g, h, k):
        if decay:
            g = g + h.weight_decay * x  # coupled weight decay, as in the official code
        if first_grad and k == 0:
            m = g.copy()  # the official code starts the buffer at the first gradient
        else:
            # (1 - theta_k) m + theta_k g; in-place only on arrays created here
            m = (1 - h.momentum_lr) * buffers["m"]
            m += h.momentum_lr * g
        s = direction.select(m)
        if extra_gradient:
            s = s + h.nesterov * g  # alpha g_k
        step = h.lr * s  # eta_k (s + alpha g)
        return np.subtract(x, step, out=step), {"m": m}

    return rule


def _is_zero(hp) -> bool:
    sched = hp.schedule
    return isinstance(sched, _schedules.Constant) and np.all(np.asarray(sched.value) == 0)


def _momentum_lr(momentum):
    """theta = 1 - momentum for a float or per-replica array of momentum coefficients."""
    beta = check_real("momentum", momentum, UNIT_HALF_OPEN)
    return 1.0 - beta


def _make_gsgd(name, config, *, lr, momentum_lr, direction, nesterov=0.0, weight_decay=0.0, blocks=None, m0=None):
    direction = _directions.get(direction)
    if blocks is not None:
        direction = direction.per_block(blocks)
    hp = hyper(
        lr=(lr, POSITIVE),
        momentum_lr=(momentum_lr, UNIT_LEFT_OPEN),
        nesterov=(nesterov, NONNEGATIVE),
        weight_decay=(weight_decay, NONNEGATIVE),
    )
    first_grad = isinstance(m0, str)
    if first_grad and m0 != "first_grad":
        raise ValueError(f"m0 must be None (zeros), 'first_grad' or an array; got {m0!r}")
    if m0 is None or first_grad:
        buffers = {"m": None}
    else:
        m0 = np.asarray(m0)
        if not np.issubdtype(m0.dtype, np.floating) or not np.all(np.isfinite(m0)):
            raise ValueError("m0 must be a finite float array of the shape of x0")

        def init_m(x0, m0=m0):
            try:
                return np.broadcast_to(m0, x0.shape).copy()
            except ValueError:
                raise ValueError(f"m0 has shape {m0.shape}; it must broadcast to x0's shape {x0.shape}") from None

        buffers = {"m": init_m}
    config = dict(config)
    config["direction"] = direction.config()
    rule = _gsgd_rule(direction, first_grad, not _is_zero(hp["weight_decay"]), not _is_zero(hp["nesterov"]))
    return Method(name, rule, hp, buffers, config=config,
                  momentum_buffer="m", blocks=direction.blocks)


def _describe(**kwargs):
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
        else:
            out[key] = value
    return out


def gsgd(lr, momentum_lr, direction="identity", nesterov=0.0, weight_decay=0.0, blocks=None, m0=None) -> Method:
    """The general framework: any direction, any stepsizes eta_k (``lr``) and theta_k (``momentum_lr``).

    Parameters
    ----------
    lr : eta_k > 0: a float, an (R,) array or a Schedule.
    momentum_lr : theta_k in (0, 1]: a float, an (R,) array or a Schedule
        (``schedules.coupled(lr, tau)`` for a single timescale).
    direction : a name from ``stochopt.directions.names()`` or a ``Direction``.
    nesterov : alpha >= 0, the extra gradient term of the official code.
    weight_decay : coupled weight decay (added to the gradient).
    blocks : a partition of the coordinates for per-block directions.
    m0 : initial momentum: None (zeros), ``"first_grad"`` or an array.

    >>> import numpy as np, stochopt
    >>> opt = stochopt.gsgd(lr=0.1, momentum_lr=0.5, direction="sign")
    >>> opt.step(opt.init(np.zeros(2)), np.array([2.0, -0.5])).x
    array([-0.1,  0.1])
    """
    config = _describe(lr=lr, momentum_lr=momentum_lr, nesterov=nesterov, weight_decay=weight_decay, m0=m0)
    return _make_gsgd("gsgd", config, lr=lr, momentum_lr=momentum_lr, direction=direction, nesterov=nesterov,
                      weight_decay=weight_decay, blocks=blocks, m0=m0)


def sgd(lr, weight_decay=0.0) -> Method:
    """Plain (sub)gradient descent: x <- x - lr (g + weight_decay x).

    >>> import numpy as np, stochopt
    >>> stochopt.sgd(lr=0.5).step(stochopt.sgd(lr=0.5).init(np.ones(2)), np.ones(2)).x
    array([0.5, 0.5])
    """
    return _make_gsgd("sgd", _describe(lr=lr, weight_decay=weight_decay), lr=lr, momentum_lr=1.0,
                      direction="identity", weight_decay=weight_decay)


def heavy_ball(lr, momentum=0.9, nesterov=0.0, weight_decay=0.0) -> Method:
    """Heavy ball in EMA form: m <- momentum m + (1 - momentum) g, x <- x - lr (m + nesterov g).

    Porting torch.optim.SGD(lr, momentum) (undampened buffer): use lr / (1 - momentum).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.heavy_ball(lr=1.0, momentum=0.75)
    >>> opt.step(opt.init(np.zeros(1)), np.ones(1)).x
    array([-0.25])
    """
    return _make_gsgd("heavy_ball", _describe(lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay),
                      lr=lr, momentum_lr=_momentum_lr(momentum), direction="identity", nesterov=nesterov,
                      weight_decay=weight_decay)


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


def gsgd_official(lr, momentum=0.9, scaling=None, direction="identity", weight_decay=0.0, nesterov=0.0,
                  blocks=None) -> Method:
    """The official GSGD code's parametrization, mapped onto (eta_k, theta_k).

    ``scaling=None`` means 1/lr at k = 0 (fixed afterwards); then
    theta_k = (1 - momentum) min(1, lr_k scaling) (single timescale with
    tau = (1 - momentum) scaling while lr_k scaling <= 1), the buffer starts at the first
    gradient, and weight decay is coupled. Unlike the official code, the caller's gradient is
    never modified, the nesterov term uses the real gradient, and ``momentum=0`` keeps the
    direction (with a sign direction it is signSGD).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.gsgd_official(lr=0.1, momentum=0.9)
    >>> opt.step(opt.init(np.zeros(1)), np.array([2.0])).x   # buffer starts at g
    array([-0.2])
    """
    beta = check_real("momentum", momentum, UNIT_HALF_OPEN, allow_array=False)
    eta = _schedules.as_schedule("lr", lr, POSITIVE)
    if scaling is None:
        first = eta(0, np.arange(eta.replicas or 1)) if eta.random else eta(0)
        scaling = 1.0 / np.asarray(first, dtype=float)
        scaling = float(scaling) if scaling.ndim == 0 else scaling
    scaling = check_real("scaling", scaling, POSITIVE)
    theta = _schedules.coupled(eta, tau=(1.0 - beta) * scaling, cap=1.0 - beta)
    config = _describe(lr=lr, momentum=momentum, scaling=scaling, weight_decay=weight_decay, nesterov=nesterov)
    return _make_gsgd("gsgd_official", config, lr=eta, momentum_lr=theta, direction=direction, nesterov=nesterov,
                      weight_decay=weight_decay, blocks=blocks, m0="first_grad")
