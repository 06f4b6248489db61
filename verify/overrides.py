"""A user's direction or method in place of the built-in ones: ``"module:name"`` specs to objects.

``stochopt verify --direction mypkg.dirs:PseudoHuber`` names a ``stochopt.directions.Direction``
subclass (instantiated with no arguments) or instance; ``--method mypkg.opt:factory`` names a
factory ``(lr, momentum_lr) -> stochopt.Method``. Specs stay strings until a task runs, so that
tasks can be sent to other processes.

>>> resolve_direction("stochopt.directions:Sign").select(__import__("numpy").array([2.0, -1.0, 0.0]))
array([ 1., -1.,  0.])
>>> resolve_direction("stochopt.directions:Nope")
Traceback (most recent call last):
...
ValueError: direction: module 'stochopt.directions' has no attribute 'Nope' (expected MODULE:NAME, e.g. mypkg.dirs:MyDirection)
"""
from __future__ import annotations

import importlib

__all__ = ["load_object", "resolve_direction", "resolve_method"]


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
    """None, a factory ``(lr, momentum_lr) -> Method`` or a "module:name" spec -> the factory or None."""
    if spec is None:
        return None
    obj = load_object(spec, "method") if isinstance(spec, str) else spec
    if not callable(obj):
        raise TypeError(f"method must be a factory (lr, momentum_lr) -> stochopt.Method; got {type(obj).__name__}")
    return obj
