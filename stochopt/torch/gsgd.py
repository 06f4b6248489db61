"""GSGD as a ``torch.optim.Optimizer``: the official code's parametrization, without its defects.

The NumPy reference is ``stochopt.gsgd_official`` (``stochopt/framework.py``); the update below
is written in the same algebraic order so that float64 iterates agree to rounding. Per step,
for each parameter tensor x with gradient g (``spec/01-framework.md`` section 1.4)::

    g     <- -g if maximize;   g <- g + weight_decay * x          (coupled weight decay)
    theta  = min(1 - momentum, (1 - momentum) * scaling * lr)     (single timescale)
    m     <- g at the first step, else (1 - theta) m + theta g
    x     <- x - lr (Dphi_map(m) + nesterov g)                    (Dphi_map per tensor)
"""
from __future__ import annotations

import functools
import json

import torch
from torch.optim.optimizer import required

from .. import directions as _directions
from ._common import CheckedOptimizer, NONNEGATIVE, POSITIVE, UNIT_HALF_OPEN, group_real, run_closure

__all__ = ["GSGD", "direction_function"]

# Directions with a torch implementation: class -> (parameter attribute or None, factory).
# Every norm is over the whole tensor: the official code applies Dphi_map per parameter tensor.


def _identity(m):
    return m


def _normalized(m):
    norm = torch.sqrt(torch.sum(m * m))
    return torch.where(norm > 0, m / torch.where(norm > 0, norm, torch.ones_like(norm)), torch.zeros_like(m))


def _clip_norm(threshold):
    def clip_norm(m):
        norm = torch.sqrt(torch.sum(m * m))
        return torch.clamp(threshold / norm, max=1.0) * m  # c / 0 = inf, clamped to 1

    return clip_norm


def _clip_coord(threshold):
    return lambda m: torch.clamp(m, -threshold, threshold)


def _srsgd(lam):
    return lambda m: m + lam * torch.sign(m)


def _smooth_sign(beta):
    return lambda m: torch.tanh(beta * m)


_TORCH_DIRECTIONS = {
    _directions.Identity: (None, lambda: _identity),
    _directions.Sign: (None, lambda: torch.sign),
    _directions.Normalized: (None, lambda: _normalized),
    _directions.ClipNorm: ("threshold", _clip_norm),
    _directions.ClipCoordinate: ("threshold", _clip_coord),
    _directions.SRSGD: ("lam", _srsgd),
    _directions.SmoothSign: ("beta", _smooth_sign),
}


def _stored(direction: _directions.Direction):
    """The direction as stored in a param group: its name plus parameters (``spec()``), never the object.

    A string or a dict of numbers pickles and loads with ``torch.load(..., weights_only=True)``.
    A user subclass is registered under its ``name`` so that the spec finds it again (register it
    with ``stochopt.directions.register`` before loading in a fresh process).
    """
    if type(direction) not in _TORCH_DIRECTIONS:
        _directions.register(type(direction))
    return direction.spec()


def _key(spec) -> str:
    return spec if isinstance(spec, str) else json.dumps(spec, sort_keys=True)


@functools.lru_cache(maxsize=None)
def _from_key(key: str):
    direction = _directions.get(key if not key.startswith("{") else json.loads(key))
    entry = _TORCH_DIRECTIONS.get(type(direction))
    if entry is None:
        return _numpy_fallback(direction)
    attribute, factory = entry
    return factory() if attribute is None else factory(getattr(direction, attribute))


def _numpy_fallback(direction: _directions.Direction):
    """A Direction subclass without a torch formula: apply its NumPy ``select`` to the flattened tensor."""

    def select(m):
        flat = m.detach().reshape(-1).cpu().numpy()
        return torch.as_tensor(direction.select(flat)).reshape(m.shape).to(device=m.device, dtype=m.dtype)

    return select


def direction_function(spec):
    """The torch function m -> Dphi_map(m) for a direction name, a spec, a ``Direction`` or a callable.

    >>> import torch
    >>> from stochopt.torch import direction_function
    >>> direction_function("clip:1.0")(torch.tensor([3.0, 4.0]))
    tensor([0.6000, 0.8000])
    >>> direction_function("sign")(torch.tensor([-2.0, 0.0, 5.0]))
    tensor([-1.,  0.,  1.])
    """
    spec = _check_direction(spec)
    if isinstance(spec, (str, dict)):
        return _from_key(_key(spec))
    return lambda m: spec(m.clone())  # a user callable sees a copy: it cannot corrupt the buffer


def _check_direction(spec, index: int | None = None):
    """A name or spec (checked), a Direction (stored as its spec) or a callable; anything else is an error."""
    where = "" if index is None else f" (param group {index})"
    if isinstance(spec, (str, dict)):
        try:
            _directions.get(spec)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"Dphi_map: {exc}{where}") from None
        return spec
    if isinstance(spec, _directions.Direction):
        if spec.blocks is not None:
            raise ValueError("Dphi_map: a Direction with blocks is not accepted; the torch adapters apply the "
                             f"direction per parameter tensor (one block per tensor){where}")
        return _stored(spec)
    if callable(spec):
        return spec
    raise TypeError(f"Dphi_map must be a direction name ({', '.join(_directions.names())}, e.g. 'clip:1.0'), "
                    f"a stochopt.directions.Direction or a callable tensor -> tensor; got {spec!r}{where}")


class GSGD(CheckedOptimizer):
    r"""The GSGD framework (Xiao, Hu, Toh, arXiv 2307.10053) with the official code's signature.

    Parameters
    ----------
    params : iterable of tensors or of dicts defining parameter groups.
    lr : eta > 0 (required).
    momentum : beta in [0, 1); the momentum stepsize is theta = (1 - beta) min(1, lr * scaling).
    scaling : > 0; ``None`` means 1 / lr of the group at construction, fixed afterwards
        (so theta = 1 - beta at the initial lr and theta proportional to lr when lr decays).
    Dphi_map : the direction, per parameter tensor: a name (``"identity"``, ``"sign"``,
        ``"normalized"``, ``"clip:1.0"`` = ``"clip_norm:1.0"``, ``"clip_coord:1.0"``,
        ``"srsgd:0.1"``, ``"smooth_sign:1.0"``), a ``stochopt.directions.Direction`` (stored as
        its name plus parameters, ``Direction.spec()``, so that ``state_dict()`` loads with
        ``weights_only=True``; a user subclass is registered under its ``name``) or a callable
        tensor -> tensor (it receives a copy of the buffer; a lambda makes
        ``torch.save(opt.state_dict())`` fail: use a name).
    weight_decay : >= 0, coupled (added to the gradient).
    nesterov : alpha >= 0, weight of the extra gradient term (a float, not SGD's boolean).
    maximize : ascend instead of descend (the gradient is negated first, as in torch.optim.SGD).

    Differences from the official code (``docs/migration.md``): ``p.grad`` is never modified;
    the nesterov term uses the real gradient g; momentum 0 keeps Dphi_map (with ``"sign"`` it is
    signSGD); ``scaling`` is exactly 1 / lr (no 1e-12 added); ``lr = 0`` is rejected.

    With ``Dphi_map="identity"`` at constant lr this is
    ``torch.optim.SGD(lr, momentum=beta, dampening=beta)`` (both buffers start at the first
    gradient).

    >>> import torch
    >>> from stochopt.torch import GSGD
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -1.0], dtype=torch.float64))
    >>> opt = GSGD([w], lr=0.1, momentum=0.0, Dphi_map="sign")      # signSGD
    >>> w.grad = torch.tensor([3.0, 0.0], dtype=torch.float64)
    >>> opt.step()
    >>> w.detach(), w.grad                                            # the gradient is untouched
    (tensor([ 0.9000, -1.0000], dtype=torch.float64), tensor([3., 0.], dtype=torch.float64))
    >>> opt = GSGD([w], lr=0.5, momentum=0.9, Dphi_map="clip:1.0")
    >>> w.grad = torch.tensor([3.0, 4.0], dtype=torch.float64)
    >>> opt.step(); w.detach()                                        # clipped to norm 1, times lr
    tensor([ 0.6000, -1.4000], dtype=torch.float64)
    """

    def __init__(self, params, lr=required, momentum=0.9, scaling=None, Dphi_map="identity", weight_decay=0,
                 nesterov=0, *, maximize=False):
        if lr is not required:
            group_real("lr", lr, POSITIVE)
        group_real("momentum", momentum, UNIT_HALF_OPEN)
        if scaling is not None:
            group_real("scaling", scaling, POSITIVE)
        _check_direction(Dphi_map)
        group_real("weight_decay", weight_decay, NONNEGATIVE)
        group_real("nesterov", nesterov, NONNEGATIVE)
        if not isinstance(maximize, bool):
            raise TypeError(f"maximize must be True or False; got {maximize!r}")
        defaults = dict(lr=lr, momentum=momentum, scaling=scaling, Dphi_map=Dphi_map, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _complete(self, group, index):
        # scaling = 1 / lr of this group, fixed once: later lr changes (schedulers) shrink theta
        group["lr"] = group_real("lr", group["lr"], POSITIVE, index)
        if group["scaling"] is None:
            group["scaling"] = 1.0 / group["lr"]

    @staticmethod
    def _validate(group, index, step_time=False):
        # lr may reach 0 under a scheduler (theta = 0, x does not move); never negative
        lr = group_real("lr", group["lr"], NONNEGATIVE if step_time else POSITIVE, index)
        values = dict(
            lr=lr,
            momentum=group_real("momentum", group["momentum"], UNIT_HALF_OPEN, index),
            scaling=group_real("scaling", group["scaling"], POSITIVE, index),
            weight_decay=group_real("weight_decay", group["weight_decay"], NONNEGATIVE, index),
            nesterov=group_real("nesterov", group["nesterov"], NONNEGATIVE, index),
        )
        group["Dphi_map"] = _check_direction(group["Dphi_map"], index)
        if not isinstance(group["maximize"], bool):
            raise TypeError(f"maximize must be True or False; got {group['maximize']!r} (param group {index})")
        return values

    @torch.no_grad()
    def step(self, closure=None):
        """One step for every parameter with a gradient; returns the closure's loss (or None)."""
        loss = run_closure(closure)
        for group, params, h in self._checked_groups():
            direction = direction_function(group["Dphi_map"])
            lr, beta, nesterov, weight_decay = h["lr"], h["momentum"], h["nesterov"], h["weight_decay"]
            tau = (1.0 - beta) * h["scaling"]
            theta = min(1.0 - beta, tau * lr)  # theta_k, as schedules.coupled(lr, tau, cap=1 - beta)
            for p in params:
                g = p.grad.neg() if group["maximize"] else p.grad
                if weight_decay != 0:
                    g = g + weight_decay * p
                state = self.state[p]
                if "momentum_buffer" not in state:
                    m = state["momentum_buffer"] = g.clone(memory_format=torch.preserve_format)
                else:
                    m = state["momentum_buffer"]
                    m.mul_(1 - theta).add_(theta * g)
                s = direction(m)
                update = s if nesterov == 0 else s + nesterov * g
                p.sub_(lr * update)
        return loss
