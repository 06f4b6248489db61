"""The GSGD paper's single-timescale Lion as a ``torch.optim.Optimizer``.

The NumPy reference is ``stochopt.lion_singlescale`` (``stochopt/lion.py``); the update below
follows its algebraic order. Per step, for each parameter tensor x with gradient g
(``spec/03-lion.md`` section 3.3)::

    mu_i = max(1 - lr (1 - beta_i) scaling, beta_i),   i = 1, 2
    x   <- (1 - lr weight_decay) x                      (decoupled weight decay)
    c    = mu1 m + (1 - mu1) g                          (m starts at 0)
    x   <- x - lr (sign(c) + nesterov_momentum g)       (sign(0) = 0)
    m   <- mu2 m + (1 - mu2) g
"""
from __future__ import annotations

import torch

from ._common import CheckedOptimizer, NONNEGATIVE, POSITIVE, UNIT_HALF_OPEN, group_pair, group_real, run_closure

__all__ = ["Lion"]


class Lion(CheckedOptimizer):
    r"""Single-timescale Lion (the official GSGD code's ``Lion_singlescale``), without its defects.

    Parameters
    ----------
    params : iterable of tensors or of dicts defining parameter groups.
    lr : eta > 0 (default 1e-4).
    betas : (beta1, beta2), each in [0, 1): interpolation and momentum coefficients at the initial lr.
    scaling : > 0; ``None`` means 1 / lr of the group at construction, fixed afterwards. At constant lr
        the method is standard Lion; under a decaying lr both 1 - mu_i shrink in proportion to lr.
    weight_decay : lambda >= 0, decoupled: x <- (1 - lr lambda) x before the step (as lion-pytorch's
        default; ``decoupled_weight_decay=True`` of lion-pytorch divides lambda by the initial lr).
    nesterov_momentum : nu >= 0, weight of an extra gradient term lr * nu * g (used whenever nu > 0;
        the official code ignores nu <= 1e-5).

    ``lr = 0`` is rejected at construction (the official code divides by zero). ``p.grad`` is never
    modified. The momentum buffer is ``state["exp_avg"]`` as in the official code and lion-pytorch.

    >>> import torch
    >>> from stochopt.torch import Lion
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64))
    >>> opt = Lion([w], lr=0.1, betas=(0.9, 0.99), weight_decay=1.0)
    >>> w.grad = torch.tensor([0.5, 0.0, -2.0], dtype=torch.float64)
    >>> opt.step()
    >>> w.detach()                        # (1 - 0.1) x - 0.1 sign(g): m starts at 0
    tensor([ 0.8000, -0.9000,  0.5500], dtype=torch.float64)
    >>> opt.state[w]["exp_avg"]           # m = 0.01 g
    tensor([ 0.0050,  0.0000, -0.0200], dtype=torch.float64)
    """

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), scaling=None, weight_decay=0.0, nesterov_momentum=0):
        group_real("lr", lr, POSITIVE)
        group_pair("betas", betas, UNIT_HALF_OPEN)
        if scaling is not None:
            group_real("scaling", scaling, POSITIVE)
        group_real("weight_decay", weight_decay, NONNEGATIVE)
        group_real("nesterov_momentum", nesterov_momentum, NONNEGATIVE)
        defaults = dict(lr=lr, betas=tuple(betas), scaling=scaling, weight_decay=weight_decay,
                        nesterov_momentum=nesterov_momentum)
        super().__init__(params, defaults)

    def _complete(self, group, index):
        group["lr"] = group_real("lr", group["lr"], POSITIVE, index)
        if group["scaling"] is None:
            group["scaling"] = 1.0 / group["lr"]

    @staticmethod
    def _validate(group, index, step_time=False):
        lr = group_real("lr", group["lr"], NONNEGATIVE if step_time else POSITIVE, index)
        beta1, beta2 = group_pair("betas", group["betas"], UNIT_HALF_OPEN, index)
        return dict(
            lr=lr, beta1=beta1, beta2=beta2,
            scaling=group_real("scaling", group["scaling"], POSITIVE, index),
            weight_decay=group_real("weight_decay", group["weight_decay"], NONNEGATIVE, index),
            nesterov_momentum=group_real("nesterov_momentum", group["nesterov_momentum"], NONNEGATIVE, index),
        )

    @torch.no_grad()
    def step(self, closure=None):
        """One step for every parameter with a gradient; returns the closure's loss (or None)."""
        loss = run_closure(closure)
        for group, params, h in self._checked_groups():
            lr, scaling, nu = h["lr"], h["scaling"], h["nesterov_momentum"]
            # mu_i = max(1 - lr (1 - beta_i) scaling, beta_i): both momenta move toward 1 as lr decays
            mu1 = max(1 - lr * (1 - h["beta1"]) * scaling, h["beta1"])
            mu2 = max(1 - lr * (1 - h["beta2"]) * scaling, h["beta2"])
            for p in params:
                g = p.grad
                state = self.state[p]
                if "exp_avg" not in state:
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                m = state["exp_avg"]
                if h["weight_decay"] != 0:
                    p.mul_(1 - lr * h["weight_decay"])
                c = mu1 * m + (1 - mu1) * g
                update = torch.sign(c) if nu == 0 else torch.sign(c) + nu * g
                p.sub_(lr * update)
                m.mul_(mu2).add_((1 - mu2) * g)
        return loss
