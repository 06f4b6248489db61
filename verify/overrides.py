"""A user's direction or method in place of the built-in ones: ``"module:name"`` specs to objects.

``stochopt verify --direction mypkg.dirs:PseudoHuber`` names a ``stochopt.directions.Direction``
subclass (instantiated with no arguments) or instance; ``--method mypkg.opt:NAME`` names one of

- a factory ``NAME(lr, momentum_lr) -> stochopt.Method`` (eta_k and theta_k, floats, (R,) arrays
  or Schedules), used as it is;
- a ``stochopt`` method factory with a ``momentum`` coefficient (``stochopt:heavy_ball``,
  ``stochopt:signum``, ...): called as ``NAME(lr=eta, momentum=1 - theta)``; one with ``lr`` only
  (``stochopt:adam``, ...): called as ``NAME(lr=eta)``, its own defaults kept and theta unused;
- a ``torch.optim.Optimizer`` subclass: driven through ``stochopt.torch.as_method`` (one
  optimizer per replica, float64; lr = eta_k, momentum = dampening = 1 - theta_k, or betas[0] =
  1 - theta_k, for the hyperparameters the class has).

Specs stay strings until a task runs, so that tasks can be sent to other processes.

>>> resolve_direction("stochopt.directions:Sign").select(__import__("numpy").array([2.0, -1.0, 0.0]))
array([ 1., -1.,  0.])
>>> resolve_direction("stochopt.directions:Nope")
Traceback (most recent call last):
...
ValueError: direction: module 'stochopt.directions' has no attribute 'Nope' (expected MODULE:NAME, e.g. mypkg.dirs:MyDirection)
"""
from __future__ import annotations

import importlib
import inspect
import sys

__all__ = ["load_object", "resolve_direction", "resolve_method", "as_factory", "momentum_lr_used"]


def load_object(spec: str, what: str):
    """Import ``"module:name"`` (the module must be importable: on sys.path or installed)."""
    example = {"direction": "mypkg.dirs:MyDirection", "method": "mypkg.opt:my_factory"}.get(what, "mypkg:name")
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise ValueError(f"{what} must be MODULE:NAME, e.g. {example}; got {spec!r}")
    module_name, attr = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"{what}: cannot import module {module_name!r} ({exc}); is it on sys.path / installed?") \
            from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ValueError(f"{what}: module {module_name!r} has no attribute {attr!r} "
                         f"(expected MODULE:NAME, e.g. {example})") from None


def resolve_direction(spec):
    """None, a Direction (class or instance) or a "module:name" spec -> a Direction instance or None."""
    if spec is None:
        return None
    from stochopt.directions import Direction

    obj = load_object(spec, "direction") if isinstance(spec, str) else spec
    if isinstance(obj, type) and issubclass(obj, Direction):
        obj = obj()
    if not isinstance(obj, Direction):
        raise TypeError(f"direction must be a stochopt.directions.Direction subclass or instance; got "
                        f"{type(obj).__name__}")
    return obj


def resolve_method(spec):
    """None, a method factory, a ``torch.optim.Optimizer`` subclass or a "module:name" spec -> a
    factory ``(lr, momentum_lr) -> Method`` or None (see the module docstring for the forms).

    >>> import stochopt
    >>> opt = resolve_method("stochopt:heavy_ball")(0.1, 0.25)      # momentum = 1 - 0.25
    >>> float(opt.hyperparameters(0).momentum_lr)
    0.25
    """
    if spec is None:
        return None
    obj = load_object(spec, "method") if isinstance(spec, str) else spec
    torch = sys.modules.get("torch")  # a torch optimizer class means torch is already imported
    if isinstance(obj, type) and torch is not None and issubclass(obj, torch.optim.Optimizer):
        from stochopt.torch.as_method import as_method

        return as_method(obj)
    if not callable(obj) or isinstance(obj, type):
        raise TypeError(f"method must be a factory (lr, momentum_lr) -> stochopt.Method, a stochopt method factory or "
                        f"a torch.optim.Optimizer subclass; got {type(obj).__name__} {obj!r}")
    return as_factory(obj)


def _parameters(fn):
    try:
        return inspect.signature(fn).parameters
    except (TypeError, ValueError):  # no signature to read (a builtin, a C callable): taken as (lr, momentum_lr)
        return None


def _form(fn) -> str:
    """How ``fn`` takes the stepsizes: "theta" (lr, momentum_lr), "momentum" (lr, momentum=...) or "lr"."""
    params = _parameters(fn)
    if params is None or "momentum_lr" in params:
        return "theta"
    required = [p for p in params.values() if p.default is p.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(required) >= 2:
        return "theta"
    if "momentum" in params:
        return "momentum"
    if "lr" in params or len(required) == 1:
        return "lr"
    raise TypeError(f"method {getattr(fn, '__name__', fn)!r}: cannot tell how to pass the stepsizes; it needs "
                    "parameters (lr, momentum_lr), (lr, momentum=...) or lr")


def momentum_lr_used(fn) -> bool:
    """Whether ``as_factory(fn)`` passes theta_k on (False: a factory of ``lr`` alone).

    >>> import stochopt
    >>> momentum_lr_used(stochopt.signum), momentum_lr_used(stochopt.adam)
    (True, False)
    """
    return _form(fn) != "lr"


def as_factory(fn):
    """``fn`` as a factory ``(lr, momentum_lr) -> Method``, read from its signature.

    A parameter ``momentum_lr`` or two required positional parameters: ``fn`` itself. A
    ``momentum`` parameter: ``fn(lr=eta, momentum=1 - theta)`` (the EMA form, theta = 1 - momentum).
    Otherwise a factory of ``lr`` alone: ``fn(lr=eta)`` (theta_k is not used).

    >>> import stochopt
    >>> as_factory(stochopt.gsgd) is stochopt.gsgd
    True
    >>> as_factory(stochopt.adam)(0.1, 0.5).name
    'adam'
    """
    form = _form(fn)
    if form == "theta":
        return fn
    if form == "momentum":
        from stochopt.framework import _one_minus
        from stochopt._checks import UNIT_LEFT_OPEN

        def factory(lr, momentum_lr):
            return fn(lr=lr, momentum=_one_minus("momentum_lr", momentum_lr, UNIT_LEFT_OPEN))
    else:
        def factory(lr, momentum_lr):
            return fn(lr)
    factory.__wrapped__ = fn
    factory.__name__ = getattr(fn, "__name__", "factory")
    factory.__qualname__ = getattr(fn, "__qualname__", factory.__name__)
    factory.__module__ = getattr(fn, "__module__", __name__)
    return factory
