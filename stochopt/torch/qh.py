"""QHM, QHAdam and QHAdamW (Ma & Yarats, ICLR 2019) as ``torch.optim.Optimizer`` classes.

Signatures follow qhoptim 1.1.0, so that code ports unchanged (QHM's state is qhoptim's; QHAdam's
is torch.optim.Adam's); the converters are classmethods that call ``stochopt.qh`` (the single source of truth). The
NumPy references are ``stochopt.qhm``, ``stochopt.qhadam`` and ``stochopt.qhadamw``
(``spec/02-quasi-hyperbolic.md``). Unlike qhoptim, ``p.grad`` is never modified (qhoptim adds
the coupled weight decay into ``p.grad`` in place).
"""
from __future__ import annotations

import torch
from torch.optim.optimizer import required

from ._common import (
    CheckedOptimizer,
    NONNEGATIVE,
    POSITIVE,
    UNIT_HALF_OPEN,
    Interval,
    group_pair,
    group_real,
    run_closure,
)

__all__ = ["QHM", "QHAdam", "QHAdamW"]

_REAL = Interval()


def _converters():
    from .. import qh  # the NumPy side owns the converters; imported when first used

    return qh


class QHM(CheckedOptimizer):
    r"""Quasi-hyperbolic momentum, with qhoptim's signature.

    Per step, with b the dampened momentum buffer (starts at 0)::

        g <- g + weight_decay x        (weight_decay_type="grad")   or
        x <- (1 - lr weight_decay) x   (weight_decay_type="direct")
        b <- momentum b + (1 - momentum) g
        x <- x - lr [(1 - nu) g + nu b]

    Parameters
    ----------
    lr : alpha > 0 (required). Porting plain momentum with lr eta: alpha = eta / (1 - beta).
    momentum : beta in [0, 1) (required).
    nu : the immediate discount, a finite real (required; the converters may return nu outside [0, 1]).
    weight_decay : >= 0.
    weight_decay_type : ``"grad"`` (coupled, like SGD) or ``"direct"`` (x <- (1 - lr wd) x first).

    The converters (``from_pid``, ``from_synthesized_nesterov``, ``from_robust_momentum``,
    ``from_accsgd``, ``from_two_state_optimizer``) return ``{"lr", "momentum", "nu"}``.

    >>> import torch
    >>> from stochopt.torch import QHM
    >>> w = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    >>> opt = QHM([w], lr=1.0, momentum=0.5, nu=0.5)
    >>> w.grad = torch.tensor([1.0, -2.0], dtype=torch.float64)
    >>> opt.step(); w.detach()             # b = 0.5 g; step = 0.5 g + 0.5 b = 0.75 g
    tensor([-0.7500,  1.5000], dtype=torch.float64)
    """

    def __init__(self, params, lr=required, momentum=required, nu=required, weight_decay=0.0,
                 weight_decay_type="grad"):
        for name, value, interval in (("lr", lr, POSITIVE), ("momentum", momentum, UNIT_HALF_OPEN),
                                      ("nu", nu, _REAL)):
            if value is not required:
                group_real(name, value, interval)
        group_real("weight_decay", weight_decay, NONNEGATIVE)
        _check_wd_type(weight_decay_type)
        defaults = dict(lr=lr, momentum=momentum, nu=nu, weight_decay=weight_decay,
                        weight_decay_type=weight_decay_type)
        super().__init__(params, defaults)

    @staticmethod
    def _validate(group, index, step_time=False):
        return dict(
            lr=group_real("lr", group["lr"], NONNEGATIVE if step_time else POSITIVE, index),
            momentum=group_real("momentum", group["momentum"], UNIT_HALF_OPEN, index),
            nu=group_real("nu", group["nu"], _REAL, index),
            weight_decay=group_real("weight_decay", group["weight_decay"], NONNEGATIVE, index),
            weight_decay_type=_check_wd_type(group["weight_decay_type"], index),
        )

    @torch.no_grad()
    def step(self, closure=None):
        """One step for every parameter with a gradient; returns the closure's loss (or None)."""
        loss = run_closure(closure)
        for group, params, h in self._checked_groups():
            lr, beta, nu, wd = h["lr"], h["momentum"], h["nu"], h["weight_decay"]
            for p in params:
                g = p.grad
                if wd != 0:
                    if h["weight_decay_type"] == "grad":
                        g = g + wd * p
                    else:
                        p.mul_(1 - lr * wd)
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                b = state["momentum_buffer"]
                b.mul_(beta).add_((1 - beta) * g)
                p.sub_(lr * ((1 - nu) * g + nu * b))
        return loss

    # ------------------------------------------------------------ converters (stochopt.qh)
    @classmethod
    def from_pid(cls, k_p, k_i, k_d):
        """QHM hyperparameters that recover the PID optimizer (see ``stochopt.qh.from_pid``)."""
        return _converters().from_pid(k_p, k_i, k_d)

    @classmethod
    def from_synthesized_nesterov(cls, alpha, beta1, beta2):
        """QHM hyperparameters for synthesized Nesterov (see ``stochopt.qh.from_synthesized_nesterov``)."""
        return _converters().from_synthesized_nesterov(alpha, beta1, beta2)

    @classmethod
    def from_robust_momentum(cls, l, kappa, rho=None):  # noqa: E741 (qhoptim's name)
        """QHM hyperparameters for Robust / Triple Momentum (see ``stochopt.qh.from_robust_momentum``)."""
        return _converters().from_robust_momentum(l, kappa, rho)

    @classmethod
    def from_accsgd(cls, delta, kappa, xi, eps=0.7):
        """QHM hyperparameters for AccSGD (see ``stochopt.qh.from_accsgd``)."""
        return _converters().from_accsgd(delta, kappa, xi, eps)

    @classmethod
    def from_two_state_optimizer(cls, h, k, l, m, q, z, **options):  # noqa: E741 (qhoptim's names)
        """QHM hyperparameters for a two-state optimizer (see ``stochopt.qh.from_two_state_optimizer``).

        The general map (any TSO with a unit eigenvalue), not qhoptim's q = 1, k = 0 formula;
        ``options`` (``tol=``) are passed on.
        """
        return _converters().from_two_state_optimizer(h, k, l, m, q, z, **options)


def _check_wd_type(value, index=None):
    if value not in ("grad", "direct"):
        where = "" if index is None else f" (param group {index})"
        raise ValueError(f"weight_decay_type must be 'grad' or 'direct'; got {value!r}{where}")
    return value


class QHAdam(CheckedOptimizer):
    r"""QHAdam, with qhoptim's signature (keep ``eps`` as a keyword: it is the last positional).

    Per step, with m and v bias-corrected EMAs (at step 1, m = g and v = g^2)::

        g <- g + weight_decay x            (decouple_weight_decay=False)   or
        x <- (1 - lr weight_decay) x       (decouple_weight_decay=True)
        m <- bias-corrected EMA of g with beta1;  v <- of g^2 with beta2
        x <- x - lr [(1 - nu1) g + nu1 m] / (sqrt((1 - nu2) g^2 + nu2 v) + eps)

    ``nus=(1, 1)`` is Adam (AdamW when decoupled). The state is torch.optim.Adam's (raw EMAs
    ``exp_avg``, ``exp_avg_sq`` and ``step``; bias correction 1 - beta^t at use), so an Adam
    checkpoint loads into QHAdam; qhoptim's state (bias-corrected EMAs and running weights
    ``beta1_weight``, ``beta2_weight``) does not.

    >>> import torch
    >>> from stochopt.torch import QHAdam
    >>> w = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    >>> opt = QHAdam([w], lr=0.1, nus=(0.7, 1.0), eps=0.0)
    >>> w.grad = torch.tensor([4.0, -0.5], dtype=torch.float64)
    >>> opt.step(); w.detach()             # the first step is lr g / |g| whatever the nus
    tensor([-0.1000,  0.1000], dtype=torch.float64)
    """

    _decoupled_default = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), nus=(1.0, 1.0), weight_decay=0.0,
                 decouple_weight_decay=False, eps=1e-8):
        group_real("lr", lr, POSITIVE)
        group_pair("betas", betas, UNIT_HALF_OPEN)
        group_pair("nus", nus, _REAL, parts=("nu1", "nu2"))
        group_real("weight_decay", weight_decay, NONNEGATIVE)
        _check_bool("decouple_weight_decay", decouple_weight_decay)
        group_real("eps", eps, NONNEGATIVE)
        defaults = dict(lr=lr, betas=tuple(betas), nus=tuple(nus), weight_decay=weight_decay,
                        decouple_weight_decay=decouple_weight_decay, eps=eps)
        super().__init__(params, defaults)

    @staticmethod
    def _validate(group, index, step_time=False):
        beta1, beta2 = group_pair("betas", group["betas"], UNIT_HALF_OPEN, index)
        nu1, nu2 = group_pair("nus", group["nus"], _REAL, index, parts=("nu1", "nu2"))
        nu2 = group_real("nus[1] (nu2)", nu2, Interval(0.0, 1.0), index)  # nu2 outside [0, 1]: sqrt of < 0
        return dict(
            lr=group_real("lr", group["lr"], NONNEGATIVE if step_time else POSITIVE, index),
            beta1=beta1, beta2=beta2, nu1=nu1, nu2=nu2,
            weight_decay=group_real("weight_decay", group["weight_decay"], NONNEGATIVE, index),
            decouple_weight_decay=_check_bool("decouple_weight_decay", group["decouple_weight_decay"], index),
            eps=group_real("eps", group["eps"], NONNEGATIVE, index),
        )

    @torch.no_grad()
    def step(self, closure=None):
        """One step for every parameter with a gradient; returns the closure's loss (or None)."""
        loss = run_closure(closure)
        for group, params, h in self._checked_groups():
            lr, beta1, beta2, nu1, nu2, wd, eps = (h[k] for k in ("lr", "beta1", "beta2", "nu1", "nu2",
                                                                 "weight_decay", "eps"))
            for p in params:
                g = p.grad
                if wd != 0:
                    if h["decouple_weight_decay"]:
                        p.mul_(1 - lr * wd)
                    else:
                        g = g + wd * p
                state = self.state[p]
                if "exp_avg" not in state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                t = state["step"] = int(state["step"]) + 1  # int(): torch.optim.Adam stores a tensor
                m, v = state["exp_avg"], state["exp_avg_sq"]
                g_sq = g * g
                m.mul_(beta1).add_((1 - beta1) * g)  # raw EMAs from zero, as torch.optim.Adam stores them
                v.mul_(beta2).add_((1 - beta2) * g_sq)
                m_hat = m / (1 - beta1 ** t)
                v_hat = v / (1 - beta2 ** t)
                numerator = (1 - nu1) * g + nu1 * m_hat
                denominator = torch.sqrt((1 - nu2) * g_sq + nu2 * v_hat) + eps  # eps outside the root
                if eps == 0:  # 0/0 (only zero gradients so far) is its limit 0, as in stochopt.qhadam
                    ratio = numerator / denominator
                    p.sub_(lr * torch.where((numerator == 0) & (denominator == 0), torch.zeros_like(ratio), ratio))
                else:
                    p.sub_(lr * numerator / denominator)
        return loss

    @classmethod
    def from_nadam(cls, lr=1e-3, betas=(0.9, 0.999)):
        """QHAdam hyperparameters ``{"lr", "betas", "nus"}`` approximating NAdam (see ``stochopt.qh.from_nadam``)."""
        return _converters().from_nadam(lr, betas)


class QHAdamW(QHAdam):
    r"""QHAdam with decoupled weight decay: x <- (1 - lr weight_decay) x before the step.

    qhoptim's ``QHAdamW`` is a function returning ``QHAdam(..., decouple_weight_decay=True)``;
    here it is a subclass with the same arguments (``eps`` keyword-only, as it is in practice in
    qhoptim, whose fifth positional would collide with ``decouple_weight_decay``).

    >>> import torch
    >>> from stochopt.torch import QHAdamW
    >>> w = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
    >>> opt = QHAdamW([w], lr=0.1, weight_decay=0.5, eps=0.0)
    >>> w.grad = torch.tensor([2.0], dtype=torch.float64)
    >>> opt.step(); w.detach()             # (1 - 0.05) * 1 - 0.1 * sign(g)
    tensor([0.8500], dtype=torch.float64)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), nus=(1.0, 1.0), weight_decay=0.0, *, eps=1e-8):
        super().__init__(params, lr=lr, betas=betas, nus=nus, weight_decay=weight_decay,
                         decouple_weight_decay=True, eps=eps)


def _check_bool(name, value, index=None):
    if not isinstance(value, bool):
        where = "" if index is None else f" (param group {index})"
        raise TypeError(f"{name} must be True or False; got {value!r}{where}")
    return value
