"""Directions: the map m -> s in dphi(m) of the framework (``Dphi_map`` in the official code).

A direction is a convex function phi with its unique minimum at 0, given by

- ``phi(m)``: the function, summed over blocks, shape ``m.shape[:-1]``;
- ``select(m)``: one element of its subdifferential (the update direction), shape of ``m``;
- ``conjugate(y)``: phi*(y) where finite (``inf`` outside its domain).

Every direction can act per block: ``blocks`` is a partition of the coordinates (e.g. one block
per weight matrix of a network), and the norm-based directions then use one norm per block.

>>> import numpy as np
>>> from stochopt import directions
>>> directions.get("sign").select(np.array([-2.0, 0.0, 3.0]))
array([-1.,  0.,  1.])
>>> directions.get("normalized", blocks=[[0, 1], [2]]).select(np.array([3.0, 4.0, -2.0]))
array([ 0.6,  0.8, -1. ])
"""
from __future__ import annotations

import abc

import numpy as np

from ._checks import POSITIVE, check_real, unknown_name_message
from .terms import sign

__all__ = [
    "Direction",
    "Identity",
    "Sign",
    "Normalized",
    "ClipNorm",
    "ClipCoordinate",
    "SRSGD",
    "SmoothSign",
    "get",
    "names",
    "register",
    "Blocks",
]


# Relative slack when testing membership of the conjugate's domain: select(m) may land a few
# ulps outside a norm ball because its norm is computed in floating point.
_BOUNDARY = 1e-12


class Blocks:
    """A partition of the coordinates {0, ..., d-1} into blocks, with vectorised block sums."""

    def __init__(self, blocks, dim: int | None = None):
        parts = _index_lists(blocks)
        everything = np.concatenate(parts)
        d = everything.size if dim is None else dim
        values, counts = np.unique(everything, return_counts=True)
        if np.any(counts > 1):
            twice = values[counts > 1][0]
            raise ValueError(f"blocks must be a partition of the coordinates: every index exactly once; "
                             f"index {twice} is in {counts[counts > 1][0]} blocks")
        if everything.size != d or values[0] < 0 or values[-1] >= d:
            raise ValueError(f"blocks must be a partition of the coordinates 0..{d - 1}: every index exactly once; "
                             f"got {everything.size} indices from {values[0]} to {values[-1]} for d = {d}")
        self.dim = d
        self.parts = parts
        self.order = everything
        self.starts = np.cumsum([0] + [p.size for p in parts[:-1]])
        self.block_of = np.empty(d, dtype=np.int64)
        for i, p in enumerate(parts):
            self.block_of[p] = i
        self.contiguous = bool(np.all(self.order == np.arange(d)))

    @classmethod
    def from_sizes(cls, sizes) -> "Blocks":
        """Contiguous blocks of the given sizes (e.g. the sizes of a network's tensors)."""
        edges = np.cumsum([0] + list(sizes))
        return cls([np.arange(a, b) for a, b in zip(edges[:-1], edges[1:])])

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Per-block sums over the last axis: shape (..., n_blocks)."""
        ordered = values if self.contiguous else values[..., self.order]
        return np.add.reduceat(ordered, self.starts, axis=-1)

    def maxima(self, values: np.ndarray) -> np.ndarray:
        """Per-block maxima over the last axis: shape (..., n_blocks)."""
        ordered = values if self.contiguous else values[..., self.order]
        return np.maximum.reduceat(ordered, self.starts, axis=-1)

    def expand(self, per_block: np.ndarray) -> np.ndarray:
        """Broadcast per-block values (..., n_blocks) back to coordinates (..., d)."""
        return per_block[..., self.block_of]

    def check(self, dim: int) -> None:
        if dim != self.dim:
            raise ValueError(f"blocks partition {self.dim} coordinates but the iterate has d = {dim}")

    def to_list(self):
        return [p.tolist() for p in self.parts]


_ACCEPTED = ("blocks must be a partition of the coordinates 0..d-1 given as a list of lists of integer "
             "indices, e.g. [[0, 1], [2]]")


def _index_lists(blocks) -> list:
    """The blocks as 1-D int64 arrays, each checked: integer indices only (no floats, bools or strings)."""
    if isinstance(blocks, (str, bytes)) or not hasattr(blocks, "__iter__"):
        raise TypeError(f"{_ACCEPTED}; got {blocks!r}")
    parts = []
    for i, block in enumerate(blocks):
        if isinstance(block, (str, bytes)) or not hasattr(block, "__iter__"):
            raise TypeError(f"{_ACCEPTED}; blocks[{i}] is {block!r}, not a list of indices")
        arr = np.asarray(list(block) if not isinstance(block, np.ndarray) else block)
        if arr.size and (arr.dtype.kind not in "iu" or arr.ndim != 1):
            raise TypeError(f"{_ACCEPTED}; blocks[{i}] = {block!r} holds {arr.dtype} values"
                            + (" (float indices are not truncated)" if arr.dtype.kind == "f" else ""))
        if arr.size == 0:
            raise ValueError(f"{_ACCEPTED}; blocks[{i}] is empty")
        parts.append(arr.astype(np.int64))
    if not parts:
        raise ValueError(f"{_ACCEPTED}; got no blocks")
    return parts


def _as_blocks(blocks) -> Blocks | None:
    if blocks is None or isinstance(blocks, Blocks):
        return blocks
    return Blocks(blocks)


class Direction(abc.ABC):
    """Base class. Subclasses implement the per-coordinate or per-block formulas."""

    name = "direction"
    reconstructed = False

    def __init__(self, blocks=None):
        self.blocks = _as_blocks(blocks)

    def per_block(self, blocks) -> "Direction":
        """The same direction acting on a partition of the coordinates."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.blocks = _as_blocks(blocks)
        return clone

    def _norms(self, m: np.ndarray) -> np.ndarray:
        """||m_b|| per block, shape (..., n_blocks) ((..., 1) without blocks).

        Scaled by the block's largest entry so that tiny (1e-200) and huge entries neither
        underflow nor overflow when squared.
        """
        a = np.abs(m)
        if self.blocks is None:
            scale = a.max(axis=-1, keepdims=True)  # the method: no Python-level wrapper per call
            safe = np.where(scale > 0, scale, 1.0)
            return scale * np.sqrt(np.square(a / safe).sum(axis=-1, keepdims=True))
        self.blocks.check(m.shape[-1])
        scale = self.blocks.maxima(a)
        safe = np.where(scale > 0, scale, 1.0)
        return scale * np.sqrt(self.blocks.sums(np.square(a / self.blocks.expand(safe))))

    def _block_norm(self, m: np.ndarray) -> np.ndarray:
        """||m_b|| for each coordinate's block (broadcastable against m)."""
        norms = self._norms(m)
        return norms if self.blocks is None else self.blocks.expand(norms)

    def _per_block_sum(self, fn_of_norm, m):
        """Sum over blocks of a function of the block norm."""
        return np.sum(fn_of_norm(self._norms(m)), axis=-1)

    def phi(self, m):
        """A direction given only by ``select`` (e.g. a user subclass) has no phi(m) (needed by Lyapunov checks)."""
        raise NotImplementedError(f"{type(self).__name__} defines select but not phi")

    @abc.abstractmethod
    def select(self, m):  # pragma: no cover - abstract
        """Implemented by each subclass."""

    def conjugate(self, y):
        """A direction given only by ``select`` (e.g. a user subclass) has no conjugate phi*."""
        raise NotImplementedError(f"{type(self).__name__} defines select but not conjugate")

    def __call__(self, m):
        return self.select(m)

    def spec(self):
        """Name plus parameters (no blocks): ``"sign"``, ``"clip_norm:2.0"`` or ``{"name": ..., **params}``.

        ``get(spec)`` rebuilds the direction (a user class once ``register``-ed).
        """
        params = {k: v for k, v in vars(self).items() if k != "blocks"}
        if not params:
            return self.name
        field = _PARAMETER.get(self.name)
        if field is not None and set(params) == {field}:
            return f"{self.name}:{params[field]!r}"
        return {"name": self.name, **params}

    def config(self) -> dict:
        out = {"name": self.name}
        out.update({k: v for k, v in vars(self).items() if k != "blocks"})
        if self.blocks is not None:
            out["blocks"] = self.blocks.to_list()
        return out

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "blocks")
        extra = "" if self.blocks is None else f", blocks={len(self.blocks.parts)}"
        return f"{type(self).__name__}({params}{extra})"


class Identity(Direction):
    """phi(m) = ||m||^2 / 2, select(m) = m (heavy ball)."""

    name = "identity"

    def phi(self, m):
        return 0.5 * np.sum(m * m, axis=-1)

    def select(self, m):
        return m  # the identity map: no copy (callers never write into the result)

    def conjugate(self, y):
        return 0.5 * np.sum(y * y, axis=-1)


class Sign(Direction):
    """phi(m) = ||m||_1, select(m) = sign(m) with sign(0) = 0 (signSGD, Signum, Lion)."""

    name = "sign"

    def phi(self, m):
        return np.sum(np.abs(m), axis=-1)

    def select(self, m):
        return sign(m)

    def conjugate(self, y):
        inside = np.all(np.abs(y) <= 1.0 + _BOUNDARY, axis=-1)
        return np.where(inside, 0.0, np.inf)


class Normalized(Direction):
    """phi(m) = sum_b ||m_b||, select(m)_b = m_b / ||m_b|| (0 when m_b = 0)."""

    name = "normalized"

    def phi(self, m):
        return self._per_block_sum(lambda n: n, m)

    def select(self, m):
        norm = self._block_norm(m)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(norm > 0, m / np.where(norm > 0, norm, 1.0), 0.0)

    def conjugate(self, y):
        inside = np.all(self._norms(y) <= 1.0 + _BOUNDARY, axis=-1)
        return np.where(inside, 0.0, np.inf)


class ClipNorm(Direction):
    """Huber of the block norm: select(m)_b = min(1, c / ||m_b||) m_b (norm clipping)."""

    name = "clip_norm"

    def __init__(self, threshold=1.0, blocks=None):
        super().__init__(blocks)
        self.threshold = check_real("threshold", threshold, POSITIVE, allow_array=False)

    def phi(self, m):
        c = self.threshold
        return self._per_block_sum(lambda n: np.where(n <= c, 0.5 * n * n, c * n - 0.5 * c * c), m)

    def select(self, m):
        norm = self._block_norm(m)
        with np.errstate(divide="ignore"):
            factor = np.minimum(1.0, self.threshold / norm)
        return factor * m

    def conjugate(self, y):
        c = self.threshold
        return self._per_block_sum(lambda n: np.where(n <= c * (1 + _BOUNDARY), 0.5 * n * n, np.inf), y)


class ClipCoordinate(Direction):
    """phi(m) = sum_i Huber_c(m_i), select(m) = clip(m, -c, c)."""

    name = "clip_coord"

    def __init__(self, threshold=1.0, blocks=None):
        super().__init__(blocks)
        self.threshold = check_real("threshold", threshold, POSITIVE, allow_array=False)

    def phi(self, m):
        c, a = self.threshold, np.abs(m)
        return np.sum(np.where(a <= c, 0.5 * m * m, c * a - 0.5 * c * c), axis=-1)

    def select(self, m):
        return np.clip(m, -self.threshold, self.threshold)

    def conjugate(self, y):
        c = self.threshold
        return np.sum(np.where(np.abs(y) <= c, 0.5 * y * y, np.inf), axis=-1)


class SRSGD(Direction):
    """phi(m) = ||m||^2/2 + lam ||m||_1, select(m) = m + lam sign(m).

    Reconstructed: the sign-map regularised SGD of later versions of the GSGD paper; the exact
    form of its phi could not be confirmed from the paper.
    """

    name = "srsgd"
    reconstructed = True

    def __init__(self, lam=0.1, blocks=None):
        super().__init__(blocks)
        self.lam = check_real("lam", lam, POSITIVE, allow_array=False)

    def phi(self, m):
        return np.sum(0.5 * m * m + self.lam * np.abs(m), axis=-1)

    def select(self, m):
        return m + self.lam * sign(m)

    def conjugate(self, y):
        shrunk = np.maximum(np.abs(y) - self.lam, 0.0)
        return 0.5 * np.sum(shrunk * shrunk, axis=-1)


class SmoothSign(Direction):
    """phi(m) = sum_i log cosh(beta m_i) / beta, select(m) = tanh(beta m) (Lion-K with tanh)."""

    name = "smooth_sign"

    def __init__(self, beta=1.0, blocks=None):
        super().__init__(blocks)
        self.beta = check_real("beta", beta, POSITIVE, allow_array=False)

    def phi(self, m):
        z = np.abs(self.beta * m)
        return np.sum(z + np.log1p(np.exp(-2.0 * z)) - np.log(2.0), axis=-1) / self.beta

    def select(self, m):
        return np.tanh(self.beta * m)

    def conjugate(self, y):
        a = np.abs(y)
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.where(a < 1.0, a * np.arctanh(np.minimum(a, 1.0 - 1e-300)) + 0.5 * np.log1p(-a * a), np.log(2.0))
        inner = np.where(a > 1.0, np.inf, inner)
        return np.sum(inner, axis=-1) / self.beta


_REGISTRY = {
    "identity": Identity,
    "sign": Sign,
    "normalized": Normalized,
    "clip_norm": ClipNorm,
    "clip_coord": ClipCoordinate,
    "srsgd": SRSGD,
    "smooth_sign": SmoothSign,
}
_BUILTIN = frozenset(_REGISTRY)
_ALIASES = {"clip": "clip_norm", "tanh": "smooth_sign", "heavy_ball": "identity"}
# the parameter that "name:value" sets, per built-in direction
_PARAMETER = {"clip_norm": "threshold", "clip_coord": "threshold", "srsgd": "lam", "smooth_sign": "beta"}


def names() -> list[str]:
    """Names accepted by ``get`` (built-in and registered)."""
    return list(_REGISTRY)


def register(cls):
    """Register a ``Direction`` subclass under its class attribute ``name``; returns the class.

    Use it as a decorator. A registered direction is found by ``get`` from its ``spec()`` (its
    name plus its parameters, rebuilt as ``cls(**parameters)`` from the instance's attributes),
    which is how ``stochopt.torch.GSGD`` stores it so that ``torch.load(..., weights_only=True)``
    reads the checkpoint back; register the class before loading in a fresh process.

    >>> import numpy as np
    >>> @register
    ... class Cube(Direction):
    ...     name = "cube_doc"
    ...     def __init__(self, scale=1.0, blocks=None):
    ...         super().__init__(blocks)
    ...         self.scale = scale
    ...     def select(self, m):
    ...         return self.scale * m ** 3
    >>> Cube(2.0).spec()
    {'name': 'cube_doc', 'scale': 2.0}
    >>> get({'name': 'cube_doc', 'scale': 2.0}).select(np.array([1.0, -2.0]))
    array([  2., -16.])
    """
    if not (isinstance(cls, type) and issubclass(cls, Direction)):
        raise TypeError(f"register takes a subclass of stochopt.directions.Direction; got {cls!r}")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name or name == Direction.name or ":" in name:
        raise ValueError(f"{cls.__name__} needs its own class attribute `name` (a string without ':') to be "
                         f"registered; got {name!r}")
    known = _REGISTRY.get(name)
    if known is not None and known is not cls and (name in _BUILTIN or known.__qualname__ != cls.__qualname__
                                                    or known.__module__ != cls.__module__):
        raise ValueError(f"the direction name {name!r} is already taken by {known.__module__}.{known.__qualname__}; "
                         f"give {cls.__name__} another `name`")
    _REGISTRY[name] = cls   # a redefinition of the same class (same module and qualified name) replaces it
    return cls


def get(name, blocks=None, **params) -> Direction:
    """A direction by name, e.g. ``get("clip_norm", threshold=1.0)``, or by its ``spec()``.

    ``"clip_norm:2.0"`` is short for ``get("clip_norm", threshold=2.0)`` (likewise
    ``clip_coord``, ``srsgd:lam`` and ``smooth_sign:beta``); ``{"name": "cubic", "scale": 2.0}``
    rebuilds a registered class with its parameters. A ``Direction`` is returned as is.

    >>> get("clip:2.0").threshold, get({"name": "srsgd", "lam": 0.5}).lam
    (2.0, 0.5)
    """
    if isinstance(name, Direction):
        return name if blocks is None else name.per_block(blocks)
    if isinstance(name, dict):
        params = {**{k: v for k, v in name.items() if k != "name"}, **params}
        name = name.get("name")
    if not isinstance(name, str):
        raise TypeError(f"direction must be a name ({', '.join(_REGISTRY)}), a spec dict or a Direction; got {name!r}")
    key, _, arg = name.partition(":")
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        raise ValueError(unknown_name_message("direction", name, list(_REGISTRY)))
    if arg:
        if key not in _PARAMETER:
            raise ValueError(f"direction {key!r} takes no parameter; got {name!r}")
        try:
            params[_PARAMETER[key]] = float(arg)
        except ValueError as exc:
            raise ValueError(f"direction {name!r}: {arg!r} is not a number") from exc
    direction = _REGISTRY[key](**params)
    return direction if blocks is None else direction.per_block(blocks)
