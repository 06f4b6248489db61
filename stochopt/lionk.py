"""Lion-K (Chen, Liu, Liang, Liu, arXiv 2310.05898): Lion with sign replaced by grad K, K convex.

The discrete method (``lion_k``) and the kernels K with their conjugates (``kernel``). The
continuous-time theory (the flow, the Lyapunov function H and its dissipation, the box KKT
measure, the discrete-to-continuous map) serves only verification and lives in
``verify.lion_theory``.

Conventions. ``state.m`` is Lion's buffer, the EMA of the gradients (positive sign), so that
``lion_k(K="l1")`` and ``stochopt.lion`` take the same steps bit for bit. The paper's
negative-gradient momentum is ``m = -state.m``. With m = -state.m::

    c = beta1 state.m + (1 - beta1) g          (= -mt, the interpolated momentum)
    x <- x - lr (-grad K(-c) + lambda x)       (= x + lr (grad K(mt) - lambda x))
    state.m <- beta2 state.m + (1 - beta2) g

For the kernels of the registry grad K is odd, so -grad K(-c) = grad K(c). With lambda > 0 the
method solves min alpha f(x) + (gamma/lambda) K*(lambda x): for K = ||.||_1, K* is the indicator
of ||y||_inf <= 1, so Lion minimises f over the box ||x||_inf <= 1/lambda.

>>> import numpy as np, stochopt
>>> opt = stochopt.lion_k(lr=0.1, betas=(0.9, 0.99), weight_decay=1.0, K="tanh")
>>> opt.step(opt.init(np.array([1.0, -1.0])), np.array([0.5, 0.0])).x.round(6)
array([ 0.895004, -0.9     ])
"""
from __future__ import annotations

import abc
import math

import numpy as np

from ._checks import NONNEGATIVE, POSITIVE, UNIT_HALF_OPEN, check_real, check_tuple, unknown_name_message
from .base import Method, hyper
from .framework import _describe
from .lion import lion_rule
from .terms import sign

__all__ = ["Kernel", "L1", "L2", "HalfSquare", "Huber", "LogCosh", "kernel", "kernel_names", "lion_k"]

# A closed domain {||y|| <= r} is tested up to rounding: lambda * (r/lambda) can exceed r by an ulp,
# and an iterate on the face must not get K* = inf.
_DOMAIN_TOL = 1e-12


# ---------------------------------------------------------------------------- kernels K
class Kernel(abc.ABC):
    """A convex K on R^d (summed over the last axis) with grad K, K* and grad K*.

    ``grad`` is the selection used by the method (sign(0) = 0 for l1); ``conjugate(y)`` is
    K*(y) (``inf`` outside its domain); ``conjugate_grad(y)`` is grad K*(y), the minimal-norm
    element of the subdifferential where K* is an indicator (0 on the whole closed domain),
    NaN outside the domain. ``smooth`` says whether grad K is continuous.
    """

    name = "kernel"
    smooth = True
    #: the constraint / regulariser that K*(lambda x)/lambda puts on x (spec 3.2's table)
    constraint = ""

    @abc.abstractmethod
    def value(self, m):  # pragma: no cover - abstract
        """Implemented by each subclass."""

    @abc.abstractmethod
    def grad(self, m):  # pragma: no cover - abstract
        """Implemented by each subclass."""

    @abc.abstractmethod
    def conjugate(self, y):  # pragma: no cover - abstract
        """Implemented by each subclass."""

    @abc.abstractmethod
    def conjugate_grad(self, y):  # pragma: no cover - abstract
        """Implemented by each subclass."""

    def config(self) -> dict:
        return {"name": self.name, **{k: v for k, v in vars(self).items()}}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


class L1(Kernel):
    """K(m) = ||m||_1, grad K = sign (sign(0) = 0): Lion. K* is the indicator of ||y||_inf <= 1.

    >>> import numpy as np
    >>> k = L1()
    >>> k.grad(np.array([-2.0, 0.0, 3.0])), float(k.conjugate(np.array([0.5, -1.0]))), float(k.conjugate(np.array([1.5])))
    (array([-1.,  0.,  1.]), 0.0, inf)
    """

    name = "l1"
    smooth = False
    constraint = "||x||_inf <= 1/lambda"

    def value(self, m):
        return np.sum(np.abs(m), axis=-1)

    def grad(self, m):
        return np.sign(m)

    def conjugate(self, y):
        return np.where(np.all(np.abs(y) <= 1.0 + _DOMAIN_TOL, axis=-1), 0.0, np.inf)

    def conjugate_grad(self, y):
        return np.where(np.abs(y) <= 1.0 + _DOMAIN_TOL, 0.0, np.nan) * np.ones_like(y)


class L2(Kernel):
    """K(m) = ||m||_2, grad K = m/||m|| (0 at 0). K* is the indicator of ||y||_2 <= 1.

    >>> import numpy as np
    >>> L2().grad(np.array([3.0, 4.0]))
    array([0.6, 0.8])
    """

    name = "l2"
    smooth = False
    constraint = "||x||_2 <= 1/lambda"

    def value(self, m):
        return np.sqrt(np.sum(m * m, axis=-1))

    def grad(self, m):
        norm = np.sqrt(np.sum(m * m, axis=-1, keepdims=True))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(norm > 0, m / np.where(norm > 0, norm, 1.0), 0.0)

    def conjugate(self, y):
        return np.where(np.sum(y * y, axis=-1) <= 1.0 + _DOMAIN_TOL, 0.0, np.inf)

    def conjugate_grad(self, y):
        inside = np.sum(y * y, axis=-1, keepdims=True) <= 1.0 + _DOMAIN_TOL
        return np.where(inside, 0.0, np.nan) * np.ones_like(y)


class HalfSquare(Kernel):
    """K(m) = ||m||^2/2, grad K = m, K* = K: an L2 penalty (lambda/2)||x||^2 on x.

    >>> import numpy as np
    >>> float(HalfSquare().conjugate(np.array([3.0, 4.0])))
    12.5
    """

    name = "half_square"
    constraint = "L2 penalty (lambda/2)||x||^2"

    def value(self, m):
        return 0.5 * np.sum(m * m, axis=-1)

    def grad(self, m):
        return np.array(m, copy=True)

    def conjugate(self, y):
        return 0.5 * np.sum(y * y, axis=-1)

    def conjugate_grad(self, y):
        return np.array(y, copy=True)


class Huber(Kernel):
    """K(m) = sum_i Huber_delta(m_i), grad K = clip(m, -delta, delta).

    K*(y) = ||y||^2/2 when ||y||_inf <= delta (else inf): box plus L2 penalty.

    >>> import numpy as np
    >>> Huber(1.0).grad(np.array([-3.0, 0.25, 2.0]))
    array([-1.  ,  0.25,  1.  ])
    """

    name = "huber"
    constraint = "||x||_inf <= delta/lambda plus L2 penalty"

    def __init__(self, delta=1.0):
        self.delta = check_real("delta", delta, POSITIVE, allow_array=False)

    def value(self, m):
        a, c = np.abs(m), self.delta
        return np.sum(np.where(a <= c, 0.5 * m * m, c * a - 0.5 * c * c), axis=-1)

    def grad(self, m):
        return np.clip(m, -self.delta, self.delta)

    def conjugate(self, y):
        inside = np.all(np.abs(y) <= self.delta * (1.0 + _DOMAIN_TOL), axis=-1)
        return np.where(inside, 0.5 * np.sum(y * y, axis=-1), np.inf)

    def conjugate_grad(self, y):
        return np.where(np.abs(y) <= self.delta * (1.0 + _DOMAIN_TOL), y, np.nan)


class LogCosh(Kernel):
    """K(m) = sum_i log cosh(s m_i)/s, grad K = tanh(s m) (smooth sign; s = ``scale``).

    K*(y) = (1/s) sum_i [y_i artanh(y_i) + log(1 - y_i^2)/2] on |y_i| <= 1: a smooth barrier.

    >>> import numpy as np
    >>> k = LogCosh()
    >>> float(k.conjugate(k.grad(np.array([0.3]))) + k.value(np.array([0.3]))) - 0.3 * float(np.tanh(0.3)) < 1e-15
    True
    """

    name = "log_cosh"
    constraint = "smooth barrier inside ||x||_inf < 1/lambda"

    def __init__(self, scale=1.0):
        self.scale = check_real("scale", scale, POSITIVE, allow_array=False)

    def value(self, m):
        z = np.abs(self.scale * m)
        return np.sum(z + np.log1p(np.exp(-2.0 * z)) - math.log(2.0), axis=-1) / self.scale

    def grad(self, m):
        return np.tanh(self.scale * m)

    def conjugate(self, y):
        a = np.abs(y)
        safe = np.minimum(a, 1.0 - 1e-16)
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.where(a < 1.0, safe * np.arctanh(safe) + 0.5 * np.log1p(-safe * safe), math.log(2.0))
        inner = np.where(a > 1.0, np.inf, inner)
        return np.sum(inner, axis=-1) / self.scale

    def conjugate_grad(self, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.abs(y) <= 1.0, np.arctanh(np.clip(y, -1.0, 1.0)), np.nan) / self.scale


_KERNELS = {"l1": L1, "l2": L2, "half_square": HalfSquare, "huber": Huber, "log_cosh": LogCosh}
_KERNEL_ALIASES = {"sign": "l1", "quadratic": "half_square", "identity": "half_square", "clip": "huber",
                   "tanh": "log_cosh", "logcosh": "log_cosh", "normalized": "l2"}


def kernel_names() -> list[str]:
    """Names accepted by ``kernel`` (aliases: sign, quadratic, clip, tanh, normalized).

    >>> kernel_names()
    ['l1', 'l2', 'half_square', 'huber', 'log_cosh']
    """
    return list(_KERNELS)


def kernel(K, **params) -> Kernel:
    """A kernel by name (``"l1"``, ``"sign"``, ``"tanh"``, ``"huber"`` ...) or a ``Kernel`` as is.

    ``"huber:2.0"`` is short for ``kernel("huber", delta=2.0)``; ``"tanh:5"`` for
    ``kernel("log_cosh", scale=5.0)``.

    >>> kernel("tanh:2").scale, kernel("sign").name
    (2.0, 'l1')
    """
    if isinstance(K, Kernel):
        return K
    if not isinstance(K, str):
        raise TypeError(f"K must be a kernel name ({', '.join(_KERNELS)}) or a stochopt.lionk.Kernel; got {K!r}")
    key, _, arg = K.partition(":")
    key = _KERNEL_ALIASES.get(key, key)
    if key not in _KERNELS:
        raise ValueError(unknown_name_message("K", K, list(_KERNELS) + list(_KERNEL_ALIASES)))
    if arg:
        field = {"huber": "delta", "log_cosh": "scale"}.get(key)
        if field is None:
            raise ValueError(f"K {key!r} takes no parameter; got {K!r}")
        try:
            params[field] = float(arg)
        except ValueError as exc:
            raise ValueError(f"K {K!r}: {arg!r} is not a number") from exc
    return _KERNELS[key](**params)


# ---------------------------------------------------------------------------- the method
def _direction(K: Kernel):
    """The map of Lion's interpolated momentum c to the step direction: grad K(mt) with mt = -c."""
    if isinstance(K, L1):
        return sign  # the same function as stochopt.lion's, so that K="l1" is Lion bit for bit
    return lambda c: -K.grad(-c)


def lion_k(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, K="l1") -> Method:
    """Lion-K: Lion with sign replaced by grad K (``K="l1"`` is ``stochopt.lion`` exactly).

    Parameters
    ----------
    lr : eta > 0 (float, (R,) array or Schedule).
    betas : (beta1, beta2), each in [0, 1) (floats, (R,) arrays or Schedules).
    weight_decay : lambda >= 0, decoupled: x <- x - lr (grad K(mt) + lambda x).
    K : a name from ``kernel_names()`` (or alias: sign, tanh, clip, quadratic, normalized) or
        a ``Kernel``. With lambda > 0 the method solves min alpha f(x) + (gamma/lambda) K*(lambda x).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.lion_k(lr=0.5, K="half_square")
    >>> opt.step(opt.init(np.zeros(2)), np.array([1.0, -2.0])).x      # lr * (1 - beta1) g
    array([-0.05,  0.1 ])
    """
    beta1, beta2 = check_tuple("betas", betas, ("beta1", "beta2"))
    kern = kernel(K)
    hp = hyper(lr=(lr, POSITIVE), beta1=(beta1, UNIT_HALF_OPEN), beta2=(beta2, UNIT_HALF_OPEN),
               weight_decay=(weight_decay, NONNEGATIVE))
    config = _describe(lr=lr, betas=list(betas), weight_decay=weight_decay)
    config["K"] = kern.config()
    return Method("lion_k", lion_rule(_direction(kern)), hp, {"m": None}, config=config, momentum_buffer="m")


# ---------------------------------------------------------------------------- moved to verify
_MOVED = ("LionKFlow", "kkt_measure", "box_violation", "from_discrete", "to_discrete", "flow_state",
          "correct_coefficient", "wrong_coefficient")


def __getattr__(name):
    # The Lion-K theory (flow, H, Delta, KKT measure, the discrete map, the control coefficient)
    # serves only verification; stochopt may not import verify, so the old names fail clearly.
    if name in _MOVED:
        raise AttributeError(f"stochopt.lionk.{name} moved to verify.lion_theory.{name} (the Lion-K theory "
                             "lives in verify; stochopt.lionk keeps the method lion_k and the kernels)")
    raise AttributeError(f"module 'stochopt.lionk' has no attribute {name!r}")
