"""Shared pieces of the PyTorch adapters: validation, the sparse-gradient guard, the closure.

Everything here uses the absolute ``import torch`` (PEP 328: ``stochopt.torch`` never shadows
the real ``torch`` inside the package).
"""
from __future__ import annotations

import torch

from .._checks import NONNEGATIVE, POSITIVE, UNIT_HALF_OPEN, Interval, check_real, check_tuple

__all__ = ["NONNEGATIVE", "POSITIVE", "UNIT_HALF_OPEN", "Interval", "group_real", "group_pair",
           "check_params", "collect", "run_closure", "CheckedOptimizer"]


def _where(index: int | None) -> str:
    return "" if index is None else f" (param group {index})"


def group_real(name: str, value, interval: Interval, index: int | None = None) -> float:
    """``value`` as a Python float in ``interval``; the error names the parameter, range and group."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be a real number in {interval}; got a tensor of shape "
                             f"{tuple(value.shape)}{_where(index)}")
        value = value.item()
    try:
        return check_real(name, value, interval, allow_array=False)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{exc}{_where(index)}") from None


def group_pair(name: str, value, interval: Interval, index: int | None = None, parts=("beta1", "beta2")):
    """A pair such as ``betas=(0.9, 0.999)`` with each entry in ``interval``."""
    try:
        check_tuple(name, value, parts, f"each in {interval}")
    except ValueError as exc:
        raise ValueError(f"{exc}{_where(index)}") from None
    first = group_real(f"{name}[0] ({parts[0]})", value[0], interval, index)
    second = group_real(f"{name}[1] ({parts[1]})", value[1], interval, index)
    return first, second


def check_params(optimizer_name: str, group: dict, index: int) -> None:
    """Parameters must be floating-point tensors (float16/32/64, bfloat16); complex is rejected."""
    for j, p in enumerate(group["params"]):
        if not torch.is_floating_point(p):
            raise TypeError(f"{optimizer_name} optimizes real floating-point tensors; parameter {j} of "
                            f"param group {index} has dtype {p.dtype}")


def collect(optimizer) -> list:
    """[(group, [params with a gradient])] after checking every gradient, before any update.

    Checking first means that a sparse gradient found in the last group leaves every parameter
    and every buffer as it was (nothing half-updated).
    """
    name = type(optimizer).__name__
    out = []
    for i, group in enumerate(optimizer.param_groups):
        params = []
        for j, p in enumerate(group["params"]):
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise RuntimeError(
                    f"{name} does not support sparse gradients (parameter {j} of param group {i} has a "
                    f"sparse gradient); use dense gradients, e.g. torch.nn.Embedding(..., sparse=False)")
            params.append(p)
        out.append((group, params))
    return out


def run_closure(closure):
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


class CheckedOptimizer(torch.optim.Optimizer):
    """An optimizer whose every param group is checked when it is added (at construction too).

    Subclasses give ``_validate(group, index, step_time=False)`` (the hyperparameters, each in its
    range) and may override ``_complete(group, index)`` to fill defaults that depend on the
    group, such as ``scaling = 1 / lr``.
    """

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        index = len(self.param_groups) - 1
        group = self.param_groups[-1]
        check_params(type(self).__name__, group, index)
        self._complete(group, index)
        self._validate(group, index)

    def _complete(self, group, index):
        """Fill group-dependent defaults (none by default)."""
        return None

    def _checked_groups(self) -> list:
        """[(group, params with a gradient, hyperparameters)] for the groups that have work.

        Every group's hyperparameters and every gradient are checked before the first parameter
        moves: an invalid group (even the last one) raises with nothing half-updated.
        """
        work = collect(self)
        checked = [(group, params, self._validate(group, index, step_time=True))
                   for index, (group, params) in enumerate(work)]
        return [entry for entry in checked if entry[1]]
