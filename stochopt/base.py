"""The method object: hyperparameters plus one pure update rule.

A method is built by a factory (``stochopt.heavy_ball(lr=0.1, momentum=0.9)``) and has two
pure functions::

    state = opt.init(x0)          # x0 of shape (d,) or (R, d)
    state = opt.step(state, grad) # grad of the shape of state.x

The update rule is written once, as a function ``rule(x, buffers, g, h, k)`` of the current
iterate, the method's buffers (momentum, second moments, ...), the gradient, the hyperparameter
values at step k (``h.lr``, ``h.momentum``, ... already shaped to broadcast against x) and the
number k of steps already taken. It returns the new iterate and the new buffers and never
writes into its inputs.

>>> import numpy as np, stochopt
>>> opt = stochopt.heavy_ball(lr=0.1, momentum=0.5)
>>> state = opt.init(np.array([1.0, -2.0]))
>>> state = opt.step(state, np.array([1.0, 1.0]))
>>> state.x, state.k
(array([ 0.95, -2.05]), 1)
"""
from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ._checks import REAL, Interval, as_float_array
from .schedules import Constant, Schedule, as_schedule

__all__ = ["State", "Method", "Hyper"]


@dataclass(frozen=True)
class State:
    """Iterate ``x`` (shape (d,) or (R, d)), step count ``k`` and the method's buffers.

    Buffers are reachable as attributes: ``state.m``, ``state.v``.
    """

    x: np.ndarray
    k: int
    buffers: Mapping[str, np.ndarray] = field(default_factory=dict)
    replica_ids: np.ndarray | None = None

    def __getattr__(self, name):
        buffers = self.__dict__.get("buffers", {})
        if name in buffers:
            return buffers[name]
        raise AttributeError(f"State has no field or buffer {name!r} (buffers: {', '.join(buffers) or 'none'})")

    @property
    def replicas(self) -> int | None:
        return None if self.x.ndim == 1 else self.x.shape[0]

    def replace(self, **changes) -> "State":
        fields = {"x": self.x, "k": self.k, "buffers": self.buffers, "replica_ids": self.replica_ids}
        fields.update(changes)
        return State(**fields)


@dataclass(frozen=True)
class Hyper:
    """A validated hyperparameter: its name, value (a Schedule) and accepted range.

    The range is checked at construction (k = 0) and again by the engine for every step it
    runs, since a schedule's later values are only known when they are evaluated.
    """

    name: str
    schedule: Schedule
    original: object
    interval: Interval = REAL

    @classmethod
    def make(cls, name: str, value, interval: Interval) -> "Hyper":
        return cls(name, as_schedule(name, value, interval), value, interval)

    def at(self, k: int, replica_ids):
        return self.schedule(k, replica_ids)

    def describe(self):
        v = self.original
        if isinstance(v, Schedule):
            return v.to_dict()
        if isinstance(v, np.ndarray):
            return v.tolist()
        return v


Rule = Callable[[np.ndarray, Mapping[str, np.ndarray], np.ndarray, types.SimpleNamespace, int], tuple]


class Method:
    """An optimizer: a name, validated hyperparameters, named buffers and one update rule.

    Parameters
    ----------
    name : the method's name (``"heavy_ball"``).
    rule : ``rule(x, buffers, g, h, k) -> (x_new, buffers_new)``.
    hyper : ``{name: Hyper}``, evaluated at each step and passed as ``h``.
    buffers : ``{name: init_fn}`` with ``init_fn(x0) -> array``; default zeros.
    config : JSON-able description of the factory's arguments (for trace metadata).
    momentum_buffer : name of the buffer reported as ||m|| by the engine, if any.
    time_hyper : the hyperparameter that is the variable stepsize eta_k (ODE time increment).
    blocks : a ``directions.Blocks`` partition the iterate's dimension must match, if any.
    """

    def __init__(self, name: str, rule: Rule, hyper: Mapping[str, Hyper], buffers=(), config=None,
                 momentum_buffer: str | None = None, time_hyper: str = "lr", blocks=None):
        self.name = name
        self._rule = rule
        self.hyper = dict(hyper)
        self._buffers = dict(buffers) if isinstance(buffers, Mapping) else {b: None for b in buffers}
        self.config = dict(config or {})
        self.momentum_buffer = momentum_buffer
        self.time_hyper = time_hyper
        self.blocks = blocks
        self.replicas = _common_replicas(self.hyper)
        self._fixed = {}

    @property
    def buffer_names(self) -> list:
        """Names of the method's buffers (``state.buffers`` keys)."""
        return list(self._buffers)

    @property
    def rule(self) -> Rule:
        """The update rule ``rule(x, buffers, g, h, k) -> (x_new, buffers_new)`` (the engine calls it)."""
        return self._rule

    # ------------------------------------------------------------------ public API
    def init(self, x0, replica_ids=None) -> State:
        """Initial state at ``x0``; buffers start at zero unless the method says otherwise.

        When a hyperparameter is given per replica (shape (R,)) and ``x0`` has shape (d,), ``x0``
        is repeated for the R replicas. ``replica_ids`` (default 0..R-1) name the replicas for
        random schedules, so that replica 5 run alone draws what it draws among 8.
        """
        x0 = as_float_array("x0", x0)
        if x0.ndim == 1 and self.replicas is not None:
            x0 = np.broadcast_to(x0, (self.replicas, x0.shape[0]))
        if x0.ndim == 2 and self.replicas is not None and x0.shape[0] != self.replicas:
            raise ValueError(
                f"x0 has {x0.shape[0]} replicas but the hyperparameters are given for {self.replicas} replicas"
            )
        x0 = np.array(x0, copy=True)
        if x0.ndim == 2:
            ids = np.arange(x0.shape[0], dtype=np.int64) if replica_ids is None else np.asarray(replica_ids, np.int64)
            if ids.shape != (x0.shape[0],):
                raise ValueError(f"replica_ids must have shape ({x0.shape[0]},); got {ids.shape}")
        else:
            ids = None
        self._check_dim(x0.shape[-1])
        buffers = {}
        for name, init_fn in self._buffers.items():
            buffers[name] = np.zeros_like(x0) if init_fn is None else np.asarray(init_fn(x0), dtype=x0.dtype)
        return State(x=x0, k=0, buffers=types.MappingProxyType(buffers), replica_ids=ids)

    def step(self, state: State, grad) -> State:
        """One step: a new State; neither ``state`` nor ``grad`` is modified."""
        x = state.x
        grad = np.asarray(grad)
        if grad.shape != x.shape:
            raise ValueError(f"grad must have the shape of state.x {x.shape}; got {grad.shape}")
        if grad.dtype != x.dtype:
            grad = grad.astype(x.dtype)
        h = self.hyperparameters(state.k, state.replica_ids, x)
        x_new, buffers = self._rule(x, state.buffers, grad, h, state.k)
        return State(x=x_new, k=state.k + 1, buffers=types.MappingProxyType(dict(buffers)),
                     replica_ids=state.replica_ids)

    def hyperparameters(self, k: int, replica_ids=None, like: np.ndarray | None = None):
        """Hyperparameter values at step k, as a namespace of floats or arrays.

        With ``like`` (the iterate), per-replica values become columns (R, 1) of its dtype.
        """
        if like is None:
            return types.SimpleNamespace(**{name: hp.at(k, replica_ids) for name, hp in self.hyper.items()})
        key = (like.dtype, like.shape[0] if like.ndim == 2 else None)
        fixed = self._fixed.get(key)
        if fixed is None:  # constant hyperparameters, converted once per dtype and replica count
            fixed = self._fixed[key] = {name: self._shaped(name, hp.at(0, None), like)
                                        for name, hp in self.hyper.items() if isinstance(hp.schedule, Constant)}
        values = dict(fixed)
        for name, hp in self.hyper.items():
            if name not in fixed:
                values[name] = self._shaped(name, hp.at(k, replica_ids), like)
        return types.SimpleNamespace(**values)

    @staticmethod
    def _shaped(name: str, value, like: np.ndarray):
        """A value in x's dtype; per-replica values as a column (R, 1) that broadcasts against x."""
        v = np.asarray(value, dtype=like.dtype)
        if v.ndim == 1:
            if like.ndim != 2 or v.shape[0] != like.shape[0]:
                raise ValueError(f"{name} has per-replica values of shape {v.shape} but the iterate has shape {like.shape}")
            v = v[:, None]
        return v

    def stepsize(self, k: int, replica_ids=None):
        """The variable stepsize eta_k (ODE time increment): a float or an (R,) array."""
        return self.hyper[self.time_hyper].at(k, replica_ids)

    def describe(self) -> dict:
        """JSON-able metadata: name and the factory's arguments."""
        return {"method": self.name, **self.config}

    def _check_dim(self, dim: int) -> None:
        if self.blocks is not None:
            self.blocks.check(dim)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"{self.name}({args})"


def _common_replicas(hyper: Mapping[str, Hyper]) -> int | None:
    sizes = {hp.schedule.replicas for hp in hyper.values() if hp.schedule.replicas is not None}
    if len(sizes) > 1:
        raise ValueError(
            "per-replica hyperparameters disagree on the number of replicas: "
            + ", ".join(f"{n}: {hp.schedule.replicas}" for n, hp in hyper.items() if hp.schedule.replicas)
        )
    return sizes.pop() if sizes else None


def hyper(**specs) -> dict:
    """Validate factory arguments: ``hyper(lr=(lr, POSITIVE), momentum=(0.9, UNIT_HALF_OPEN))``."""
    return {name: Hyper.make(name, value, interval) for name, (value, interval) in specs.items()}
