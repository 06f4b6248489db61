"""A ``torch.optim.Optimizer`` as a stochopt method: one optimizer per replica, in float64.

``as_method(OptimizerClass, **fixed)`` returns a factory ``(lr, momentum_lr) -> stochopt.Method``,
the form the framework's claims call (``stochopt verify --method mypkg:MySGD`` uses it for an
optimizer class). Each of the R replicas gets its own parameter tensor and its own optimizer, so a
rule that is not elementwise (a norm, a trust ratio) sees one replica at a time and replica r's
trajectory does not depend on the others. The optimizer's state (``optimizer.state[p]``: what its
``state_dict`` saves) lives in the method's buffers, so ``step`` stays a pure function of
``(state, grad)``: the torch objects are scratch space, reloaded from the buffers at every step.

The stepsizes of the framework map onto the optimizer's hyperparameters at every step, per
replica (``hyper(eta, theta) -> {group key: value}``); by default, for the keys the optimizer has:

| key | value | so that |
|---|---|---|
| ``lr`` | eta_k | the variable's stepsize |
| ``momentum`` | 1 - theta_k | torch.optim.SGD's buffer m <- momentum m + (1 - dampening) g ... |
| ``dampening`` | 1 - theta_k | ... is the framework's m <- (1 - theta) m + theta g |
| ``betas`` | (1 - theta_k, betas[1]) | Adam-type first moment as the framework's momentum |

An optimizer class may define ``stochopt_hyper(eta, theta)`` (a static method) to say it itself.

First step: torch.optim.SGD starts its buffer at the first gradient (m_1 = g_0, i.e. theta_0 = 1:
``stochopt.gsgd(..., m0="first_grad")``), the framework at m_0 = 0 (m_1 = theta_0 g_0). With
``first_step="torch"`` (default) the optimizer's own first step runs (empty state); with
``first_step="zeros"`` every state tensor starts at zero, which for SGD is the framework's m_0 = 0.
At theta_k = 1 (momentum 0) torch.optim.SGD neither creates nor updates its buffer, where the
framework sets m_{k+1} = g_k: after such a step the next one with theta < 1 differs by
(1 - theta)(g_k - buffer). Between such steps the two agree iterate by iterate.

>>> import numpy as np, torch, stochopt
>>> factory = as_method(torch.optim.SGD, first_step="zeros")
>>> opt, ref = factory(0.1, 0.25), stochopt.gsgd(lr=0.1, momentum_lr=0.25)
>>> s, r = opt.init(np.zeros((2, 3))), ref.init(np.zeros((2, 3)))
>>> for g in np.random.default_rng(0).standard_normal((5, 2, 3)):
...     s, r = opt.step(s, g), ref.step(r, g)
>>> bool(np.allclose(s.x, r.x, rtol=1e-12, atol=0)), bool(np.allclose(s.momentum_buffer, r.m, rtol=1e-12, atol=0))
(True, True)
"""
from __future__ import annotations

import numpy as np
import torch

from .._checks import POSITIVE, UNIT_LEFT_OPEN, check_choice
from ..base import Method, hyper as _hyper
from ..schedules import Schedule

__all__ = ["as_method", "default_hyper"]

#: The buffer that says whether a replica's optimizer has taken a step (its state exists).
STARTED = "torch_started"
FIRST_STEPS = ("torch", "zeros")


def default_hyper(optimizer, eta: float, theta: float) -> dict:
    """The param-group values for eta_k and theta_k of an optimizer (see the table above).

    >>> import torch
    >>> p = torch.zeros(1, requires_grad=True)
    >>> default_hyper(torch.optim.SGD([p], lr=0.1), 0.01, 0.25)
    {'lr': 0.01, 'momentum': 0.75, 'dampening': 0.75}
    >>> default_hyper(torch.optim.Adam([p]), 0.01, 0.25)
    {'lr': 0.01, 'betas': (0.75, 0.999)}
    """
    group = optimizer.param_groups[0]
    out = {"lr": eta}
    if "momentum" in group:
        out["momentum"] = 1.0 - theta
        if "dampening" in group:
            out["dampening"] = 1.0 - theta
    if "betas" in group:
        out["betas"] = (1.0 - theta, group["betas"][1])
    return out


def _describe(value):
    if isinstance(value, Schedule):
        return value.to_dict()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return repr(value)


class _Layout:
    """Which entries ``optimizer.state[p]`` holds, learnt from one probe step: name -> kind, dtype.

    kind "tensor" (the parameter's shape), "scalar" (a 0-d tensor, e.g. Adam's step) or "number".
    """

    def __init__(self, make, hyper_of):
        p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        opt = make(p)
        opt.param_groups[0].update(hyper_of(opt, 0.1, 0.5))
        p.grad = torch.ones_like(p)
        opt.step()
        self.entries = {}
        for key, value in opt.state[p].items():
            if isinstance(value, torch.Tensor) and value.shape == p.shape:
                self.entries[key] = ("tensor", value.dtype)
            elif isinstance(value, torch.Tensor) and value.dim() == 0:
                self.entries[key] = ("scalar", value.dtype)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                self.entries[key] = ("number", type(value))
            else:
                raise TypeError(f"{type(opt).__name__}: state entry {key!r} is a {type(value).__name__}; as_method "
                                "keeps tensors of the parameter's shape, 0-d tensors and numbers")
        if STARTED in self.entries:
            raise ValueError(f"{type(opt).__name__}: a state entry is named {STARTED!r}, which as_method uses itself")

    def init(self, key):
        kind = self.entries[key][0]
        if kind == "tensor":
            return lambda x0: np.zeros_like(x0)
        return lambda x0: np.zeros(x0.shape[:-1] + (1,), dtype=x0.dtype)

    def load(self, buffers, r, like):
        """``optimizer.state[p]`` of replica r from the buffers."""
        state = {}
        for key, (kind, dtype) in self.entries.items():
            value = buffers[key][r]
            if kind == "tensor":
                state[key] = torch.tensor(value, dtype=dtype)
            elif kind == "scalar":
                state[key] = torch.tensor(float(value[0]), dtype=dtype)
            else:
                state[key] = dtype(value[0])
        return state

    def store(self, state, out, r) -> bool:
        """Write replica r's state into the buffers; False when the optimizer has no state yet
        (e.g. torch.optim.SGD with momentum 0 creates no buffer)."""
        if not state:
            for key in self.entries:
                out[key][r] = 0.0
            return False
        for key, (kind, _) in self.entries.items():
            if key not in state:
                raise ValueError(f"the optimizer's state has no entry {key!r} (it had after the probe step); "
                                 "as_method needs the same entries at every step")
            value = state[key]
            out[key][r] = value.detach().numpy() if kind == "tensor" else float(value)
        return True


def _resolve_hyper(optimizer, hyper):
    """The (optimizer, eta, theta) -> param-group mapping: given, the class's own, or the default."""
    if hyper is None:
        own = getattr(optimizer, "stochopt_hyper", None)
        return (lambda opt, eta, theta: own(eta, theta)) if callable(own) else default_hyper
    if not callable(hyper):
        raise TypeError(f"hyper must be a function (optimizer, eta, theta) -> dict; got {hyper!r}")
    return hyper


def as_method(optimizer, hyper=None, first_step: str = "torch", name: str | None = None, **kwargs):
    """A factory ``(lr, momentum_lr) -> stochopt.Method`` driving ``optimizer(params, **kwargs)``.

    Parameters
    ----------
    optimizer : a ``torch.optim.Optimizer`` subclass (one instance per replica).
    hyper : ``hyper(optimizer_instance, eta, theta) -> {param-group key: value}``, applied before
        every step (default: the class's ``stochopt_hyper(eta, theta)`` if it has one, else
        ``default_hyper``).
    first_step : "torch" (the optimizer's own first step from an empty state) or "zeros" (every
        state entry starts at 0: for SGD the framework's m_0 = 0).
    name : the method's name (default the class name).
    kwargs : fixed constructor arguments of the optimizer (weight_decay, nesterov, ...).

    ``lr`` and ``momentum_lr`` are eta_k > 0 and theta_k in (0, 1]: floats, (R,) arrays or
    Schedules, evaluated per replica at each step like any stochopt hyperparameter.
    """
    if not (isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer)):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer subclass; got {optimizer!r}")
    first_step = check_choice("first_step", first_step, list(FIRST_STEPS))
    hyper = _resolve_hyper(optimizer, hyper)
    fixed = dict(kwargs)
    fixed.setdefault("lr", 0.1)  # overwritten before every step; some optimizers require it at construction

    def make(p):
        opt = optimizer([p], **fixed)
        group = opt.param_groups[0]
        if group.get("foreach", False) is None and not group.get("fused"):
            group["foreach"] = False  # one tensor per optimizer: the single-tensor path, without the per-step probe
        return opt

    layout = _Layout(make, hyper)  # a constructor error surfaces here, when the factory is built
    label = name or optimizer.__name__
    momentum = next((k for k in ("momentum_buffer", "exp_avg") if layout.entries.get(k, ("",))[0] == "tensor"), None)

    def factory(lr, momentum_lr) -> Method:
        pool = {}

        def slots(count, dim):
            """Scratch (parameter, optimizer) pairs, one per replica (reused; all state is reloaded)."""
            if pool.get("shape") != (count, dim):
                params = [torch.zeros(dim, dtype=torch.float64, requires_grad=True) for _ in range(count)]
                pool.update(shape=(count, dim), slots=[(p, make(p)) for p in params])
            return pool["slots"]

        def rule(x, buffers, g, h, k):
            flat_x, flat_g = x.reshape(-1, x.shape[-1]), g.reshape(-1, x.shape[-1])
            count = flat_x.shape[0]
            eta = np.broadcast_to(np.asarray(h.lr, dtype=float).reshape(-1), (count,))
            theta = np.broadcast_to(np.asarray(h.momentum_lr, dtype=float).reshape(-1), (count,))
            flat_b = {key: v.reshape(count, -1) for key, v in buffers.items()}
            new_x = np.empty_like(flat_x)
            new_b = {key: np.empty_like(v) for key, v in flat_b.items()}
            with torch.no_grad():
                for r, (p, opt) in enumerate(slots(count, flat_x.shape[1])):  # one optimizer per replica
                    p.copy_(torch.from_numpy(flat_x[r]))
                    p.grad = torch.from_numpy(flat_g[r].copy())  # its own copy: an optimizer may write into it
                    opt.param_groups[0].update(hyper(opt, float(eta[r]), float(theta[r])))
                    fresh = first_step == "torch" and flat_b[STARTED][r, 0] == 0
                    opt.state[p] = {} if fresh else layout.load(flat_b, r, p)
                    opt.step()
                    new_x[r] = p.detach().numpy()
                    new_b[STARTED][r] = float(layout.store(opt.state[p], new_b, r))
            return new_x.reshape(x.shape), {key: v.reshape(buffers[key].shape) for key, v in new_b.items()}

        buffers = {key: layout.init(key) for key in layout.entries}
        buffers[STARTED] = lambda x0: np.zeros(x0.shape[:-1] + (1,), dtype=x0.dtype)
        config = {"optimizer": f"{optimizer.__module__}.{optimizer.__qualname__}", "lr": _describe(lr),
                  "momentum_lr": _describe(momentum_lr), "first_step": first_step,
                  "kwargs": {k: _describe(v) for k, v in kwargs.items()}}
        hyperparameters = _hyper(lr=(lr, POSITIVE), momentum_lr=(momentum_lr, UNIT_LEFT_OPEN))
        return Method(label, rule, hyperparameters, buffers, config=config, momentum_buffer=momentum)

    factory.__name__ = factory.__qualname__ = label
    factory.__module__ = optimizer.__module__
    factory.optimizer = optimizer
    return factory
