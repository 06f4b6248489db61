"""Shared drivers (no tests here) for the PyTorch adapter tests: one gradient sequence fed to torch, to
the ground-truth loops and to the NumPy methods.

A "layout" is a list of tensor shapes and a list of param groups, each group naming the tensors it
holds and its hyperparameters. The references run once per group on the concatenation of the
group's flattened tensors, with one block per tensor (the torch adapters apply their direction per
tensor).
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stochopt import ground_truth, schedules
from stochopt.directions import Blocks

SHAPES = [(3, 4), (5,), (2, 3, 2), (1,)]


def rel_err(a, b) -> float:
    """max |a - b| / max |b| over the whole vector (normwise relative error); inf if either is not finite."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")  # a NaN must never pass a comparison
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def gradient_sequence(shapes, steps, seed, zero_fraction=0.1, scale=1.0):
    """steps x [array per tensor]; some entries exactly 0 (sign(0) = 0 must be hit), varying scales."""
    rng = np.random.default_rng(seed)
    seq = []
    for k in range(steps):
        grads = []
        for i, shape in enumerate(shapes):
            g = rng.standard_normal(shape) * scale * (0.2 + 2.0 * ((k + i) % 3))  # blocks above and below clip
            g[rng.random(shape) < zero_fraction] = 0.0
            grads.append(g)
        seq.append(grads)
    return seq


def initial_values(shapes, seed):
    rng = np.random.default_rng(seed + 1000)
    return [rng.standard_normal(shape) for shape in shapes]


def run_torch(opt_cls, groups, shapes=SHAPES, steps=25, seed=0, dtype=torch.float64, lr_factor=None,
              defaults=None, grads=None, x0=None, record_state=False):
    """Iterates per group: list over steps of the concatenated flattened tensors of each group.

    ``groups``: list of dicts {"tensors": [indices], **hyperparameters}. ``lr_factor(k)``
    multiplies each group's initial lr before step k (a scheduler writing into param_groups).
    With ``record_state``, also the optimizer state per group and step, read from
    ``state_dict()``: {name: the group's tensors' values concatenated} (``step`` once per tensor).
    """
    grads = gradient_sequence(shapes, steps, seed) if grads is None else grads
    x0 = initial_values(shapes, seed) if x0 is None else x0
    params = [torch.nn.Parameter(torch.tensor(v, dtype=dtype)) for v in x0]
    torch_groups = [{"params": [params[i] for i in g["tensors"]], **{k: v for k, v in g.items() if k != "tensors"}}
                    for g in groups]
    opt = opt_cls(torch_groups, **(defaults or {}))
    lr0 = [group["lr"] for group in opt.param_groups]
    out, states = [[] for _ in groups], [[] for _ in groups]
    for k in range(steps):
        if lr_factor is not None:
            for group, base in zip(opt.param_groups, lr0):
                group["lr"] = base * lr_factor(k)
        for p, g in zip(params, grads[k]):
            p.grad = torch.tensor(g, dtype=dtype)
        opt.step()
        for j, g in enumerate(groups):
            out[j].append(np.concatenate([params[i].detach().numpy().ravel() for i in g["tensors"]]))
        if record_state:
            saved = opt.state_dict()
            for j, group in enumerate(saved["param_groups"]):
                states[j].append(_group_state([saved["state"][pid] for pid in group["params"]]))
    return (out, states) if record_state else out


def _group_state(per_tensor):
    names = per_tensor[0].keys()
    return {n: np.concatenate([np.asarray(s[n].detach().numpy() if isinstance(s[n], torch.Tensor) else s[n],
                                          dtype=float).ravel() for s in per_tensor]) for n in names}


def _flat(shapes, x0, grads, tensors, steps, negate=False):
    start = np.concatenate([x0[i].ravel() for i in tensors])
    seq = np.stack([np.concatenate([grads[k][i].ravel() for i in tensors]) for k in range(steps)])
    sizes = [int(np.prod(shapes[i])) for i in tensors]
    return start, -seq if negate else seq, sizes


def run_ground_truth(loop, kwargs_of, groups, shapes=SHAPES, steps=25, seed=0, lr_factor=None, negate=False):
    """The ground truth per group: ``loop(x0, grads, **kwargs_of(hyper, blocks, lr))`` -> Trajectory.

    ``lr`` is the group's lr, or the schedule lr_0 * lr_factor(k); ``blocks`` one per tensor.
    """
    grads, x0 = gradient_sequence(shapes, steps, seed), initial_values(shapes, seed)
    out = []
    for g in groups:
        start, seq, sizes = _flat(shapes, x0, grads, g["tensors"], steps, negate)
        hyper = {k: v for k, v in g.items() if k != "tensors"}
        lr = hyper["lr"] if lr_factor is None else schedules.from_function(
            lambda k, lr0=hyper["lr"]: lr0 * lr_factor(k))
        edges = np.cumsum([0] + sizes)
        blocks = [list(range(a, b)) for a, b in zip(edges[:-1], edges[1:])]
        out.append(loop(start, seq, **kwargs_of(hyper, blocks, lr)))
    return out


def run_numpy(make_method, groups, shapes=SHAPES, steps=25, seed=0, dtype=np.float64, grads=None, x0=None,
              negate=False):
    """The same run with a NumPy method: ``make_method(group_hyper, blocks) -> stochopt.Method``."""
    grads = gradient_sequence(shapes, steps, seed) if grads is None else grads
    x0 = initial_values(shapes, seed) if x0 is None else x0
    out = []
    for g in groups:
        start, seq, sizes = _flat(shapes, x0, grads, g["tensors"], steps, negate)
        method = make_method({k: v for k, v in g.items() if k != "tensors"}, Blocks.from_sizes(sizes))
        out.append(list(ground_truth.trajectory(method, start.astype(dtype), seq.astype(dtype)).x[1:]))
    return out


def max_rel_err(torch_iterates, numpy_iterates) -> float:
    """Largest per-step relative error over all groups and steps."""
    return max(rel_err(a, b) for tg, ng in zip(torch_iterates, numpy_iterates) for a, b in zip(tg, ng))
