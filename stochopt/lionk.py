"""Lion-K (Chen, Liu, Liang, Liu, arXiv 2310.05898): Lion with sign replaced by grad K, K convex.

The discrete method (``lion_k``), the kernels K with their conjugates (``kernel``), the
continuous-time dynamics as a flow (``LionKFlow``), the box KKT measure (``kkt_measure``)
and the map between discrete and continuous hyperparameters (``from_discrete``,
``to_discrete``).

Conventions. ``state.m`` is Lion's buffer, the EMA of the gradients (positive sign), so that
``lion_k(K="l1")`` and ``stochopt.lion`` take the same steps bit for bit. The paper's
negative-gradient momentum is ``m = -state.m`` (``flow_state``). With m = -state.m::

    c = beta1 state.m + (1 - beta1) g          (= -mt, the interpolated momentum)
    x <- x - lr (-grad K(-c) + lambda x)       (= x + lr (grad K(mt) - lambda x))
    state.m <- beta2 state.m + (1 - beta2) g

For the kernels of the registry grad K is odd, so -grad K(-c) = grad K(c).

Continuous time (spec 3.2)::

    x' = grad K(mt) - lambda x
    m' = -alpha grad f(x) - gamma m
    mt = m - eps (alpha grad f(x) + gamma m)

and discrete Lion-K is its Euler scheme with time step lr and
alpha = gamma = (1 - beta2)/lr, eps = lr (1 - beta1)/(1 - beta2) (so eps gamma = 1 - beta1).

Lyapunov function (re-derived; see ``docs/lion.md``)::

    H(x, m) = alpha f(x) + (gamma/lambda) K*(lambda x) + c (K*(lambda x) + K(m) - lambda <m, x>)
    c = (1 - eps gamma)/(1 + eps lambda),     dH/dt = -Delta <= 0 when eps gamma <= 1.

>>> import numpy as np, stochopt
>>> opt = stochopt.lion_k(lr=0.1, betas=(0.9, 0.99), weight_decay=1.0, K="tanh")
>>> opt.step(opt.init(np.array([1.0, -1.0])), np.array([0.5, 0.0])).x.round(6)
array([ 0.895004, -0.9     ])
"""
from __future__ import annotations

import abc

import math
import types

import numpy as np

from ._checks import NONNEGATIVE, POSITIVE, UNIT_HALF_OPEN, Interval, check_real, unknown_name_message
from .base import Method, hyper

__all__ = [
    "Kernel",
    "L1",
    "L2",
    "HalfSquare",
    "Huber",
    "LogCosh",
    "kernel",
    "kernel_names",
    "lion_k",
    "LionKFlow",
    "kkt_measure",
    "box_violation",
    "from_discrete",
    "to_discrete",
    "flow_state",
    "correct_coefficient",
    "wrong_coefficient",
]


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
        return np.where(np.all(np.abs(y) <= 1.0, axis=-1), 0.0, np.inf)

    def conjugate_grad(self, y):
        return np.where(np.abs(y) <= 1.0, 0.0, np.nan) * np.ones_like(y)


class L2(Kernel):
    """K(m) = ||m||_2, grad K = m/||m|| (0 at 0). K* is the indicator of ||y||_2 <= 1 (+ 1e-12 for rounding).

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

    # the unit ball is closed up to rounding: grad K(m) = m/||m|| has ||.||^2 = 1 +- a few ulp
    _tol = 1e-12

    def conjugate(self, y):
        return np.where(np.sum(y * y, axis=-1) <= 1.0 + self._tol, 0.0, np.inf)

    def conjugate_grad(self, y):
        inside = np.sum(y * y, axis=-1, keepdims=True) <= 1.0 + self._tol
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
        inside = np.all(np.abs(y) <= self.delta, axis=-1)
        return np.where(inside, 0.5 * np.sum(y * y, axis=-1), np.inf)

    def conjugate_grad(self, y):
        return np.where(np.abs(y) <= self.delta, y, np.nan)


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
def _lion_k_rule(K: Kernel):
    if isinstance(K, L1):
        def direction(c):
            return np.sign(c)  # written as in stochopt.lion so that K="l1" is Lion bit for bit
    else:
        def direction(c):
            return -K.grad(-c)  # grad K(mt) with mt = -c (the paper's negative momentum)

    def rule(x, buffers, g, h, k):
        m = buffers["m"]
        c = h.beta1 * m + (1 - h.beta1) * g
        x_new = x - h.lr * (direction(c) + h.weight_decay * x)  # decoupled decay on the old x
        return x_new, {"m": h.beta2 * m + (1 - h.beta2) * g}

    return rule


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
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), each in [0, 1); got {betas!r}")
    kern = kernel(K)
    hp = hyper(lr=(lr, POSITIVE), beta1=(betas[0], UNIT_HALF_OPEN), beta2=(betas[1], UNIT_HALF_OPEN),
               weight_decay=(weight_decay, NONNEGATIVE))
    from .framework import _describe

    config = _describe(lr=lr, betas=list(betas), weight_decay=weight_decay)
    config["K"] = kern.config()
    return Method("lion_k", _lion_k_rule(kern), hp, {"m": None}, config=config, momentum_buffer="m")


# ---------------------------------------------------------------------------- hyperparameter maps
def from_discrete(lr, betas=(0.9, 0.99), weight_decay=0.0) -> dict:
    """Continuous-time parameters of discrete Lion-K (spec 3.2), time step = lr.

    alpha = gamma = (1 - beta2)/lr, lam = weight_decay, eps = lr (1 - beta1)/(1 - beta2).
    Works elementwise on arrays. eps gamma = 1 - beta1 <= 1 always.

    >>> p = from_discrete(0.1, (0.9, 0.99), 1.0)
    >>> {k: round(float(v), 12) for k, v in p.items()}
    {'alpha': 0.1, 'gamma': 0.1, 'lam': 1.0, 'eps': 1.0}
    """
    lr = check_real("lr", lr, POSITIVE)
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), each in [0, 1); got {betas!r}")
    beta1 = check_real("beta1", betas[0], UNIT_HALF_OPEN)
    beta2 = check_real("beta2", betas[1], UNIT_HALF_OPEN)
    lam = check_real("weight_decay", weight_decay, NONNEGATIVE)
    gamma = (1.0 - np.asarray(beta2)) / lr
    eps = lr * (1.0 - np.asarray(beta1)) / (1.0 - np.asarray(beta2))
    out = {"alpha": gamma, "gamma": gamma, "lam": np.asarray(lam, float), "eps": eps}
    return {k: (float(v) if np.ndim(v) == 0 else v) for k, v in out.items()}


def to_discrete(gamma, eps, lam, lr) -> dict:
    """Discrete Lion-K hyperparameters whose Euler limit (time step lr) has alpha = gamma.

    beta2 = 1 - gamma lr and beta1 = 1 - eps gamma (independent of lr), weight_decay = lam.
    Requires gamma lr <= 1 and eps gamma <= 1 (both betas in [0, 1)), i.e. lr <= 1/gamma.

    >>> to_discrete(gamma=0.1, eps=1.0, lam=1.0, lr=0.1)
    {'lr': 0.1, 'betas': (0.9, 0.99), 'weight_decay': 1.0}
    """
    gamma = check_real("gamma", gamma, POSITIVE, allow_array=False)
    eps = check_real("eps", eps, Interval(0.0, 1.0 / gamma), allow_array=False)
    lam = check_real("lam", lam, NONNEGATIVE, allow_array=False)
    lr = check_real("lr", lr, Interval(0.0, 1.0 / gamma, low_closed=False), allow_array=False)
    beta1, beta2 = 1.0 - eps * gamma, 1.0 - gamma * lr
    if beta1 >= 1.0 or beta2 >= 1.0:
        raise ValueError(f"eps * gamma and gamma * lr must be positive (betas < 1); got eps={eps}, gamma={gamma}, lr={lr}")
    return {"lr": lr, "betas": (beta1, beta2), "weight_decay": lam}


def flow_state(state):
    """(x, m) of the continuous-time picture from a Lion or Lion-K state: m = -state.m.

    >>> import numpy as np, stochopt
    >>> s = stochopt.lion(lr=0.1).step(stochopt.lion(lr=0.1).init(np.zeros(1)), np.array([2.0]))
    >>> flow_state(s)[1]
    array([-0.02])
    """
    return state.x, -state.m


def correct_coefficient(eps, gamma, lam):
    """c = (1 - eps gamma)/(1 + eps lam), the coupling coefficient of H.

    >>> correct_coefficient(1.0, 0.1, 1.0)
    0.45
    """
    return (1.0 - eps * gamma) / (1.0 + eps * lam)


def wrong_coefficient(eps, gamma, lam):
    """(1 - eps lam)/(1 + eps lam): the plausible wrong coefficient (the negative control).

    >>> wrong_coefficient(1.0, 0.1, 1.0)
    0.0
    """
    return (1.0 - eps * lam) / (1.0 + eps * lam)


# ---------------------------------------------------------------------------- KKT on the box
def kkt_measure(grad, x, lam):
    """G(x) = ||grad f(x)||_1 + lam <grad f(x), x> for the box ||x||_inf <= 1/lam.

    G >= 0 on the box and G = 0 exactly at its KKT points (each coordinate has g_i = 0, or
    sits on the face lam x_i = -sign(g_i)). Batched over leading axes; ``lam`` a float or
    an array broadcasting against ``grad.shape[:-1]``.

    >>> import numpy as np
    >>> float(kkt_measure(np.array([-2.0, 0.0]), np.array([1.0, 0.3]), 1.0))   # on the face: KKT
    0.0
    >>> float(kkt_measure(np.array([-2.0, 0.0]), np.array([0.5, 0.3]), 1.0))
    1.0
    """
    grad = np.asarray(grad, dtype=float)
    x = np.asarray(x, dtype=float)
    return np.sum(np.abs(grad), axis=-1) + np.asarray(lam) * np.sum(grad * x, axis=-1)


def box_violation(x, lam):
    """max_i |x_i| - 1/lam (<= 0 inside the box ||x||_inf <= 1/lam).

    >>> import numpy as np
    >>> float(box_violation(np.array([0.5, -2.0]), 1.0))
    1.0
    """
    return np.max(np.abs(x), axis=-1) - 1.0 / np.asarray(lam)


# ---------------------------------------------------------------------------- continuous time
class LionKFlow:
    """The Lion-K ODE, its Lyapunov function H and dissipation Delta (spec 3.2).

    Parameters
    ----------
    grad : grad f(x), batched over leading axes.
    value : f(x) (needed only for ``lyapunov``).
    K : kernel name or ``Kernel``.
    alpha, gamma, lam : > 0.   eps : >= 0 with eps gamma <= 1 for dH/dt <= 0.
    coefficient : override c in H and Delta (the negative control); default
        ``correct_coefficient(eps, gamma, lam)``.

    States are pairs (x, m) of arrays of shape (d,) or (R, d); m is the paper's
    negative-gradient momentum. The flat form ``rhs(t, z)`` (z = [x, m] on the last axis)
    serves scipy's ``solve_ivp`` or any integrator.

    >>> import numpy as np
    >>> flow = LionKFlow(grad=lambda x: x, value=lambda x: 0.5 * np.sum(x * x, -1), K="tanh",
    ...                  alpha=1.0, gamma=1.0, lam=0.5, eps=0.3)
    >>> x, m = np.array([0.4, -1.0]), np.array([0.2, 0.7])
    >>> bool(abs(flow.dH_dt(x, m) + flow.dissipation(x, m)) < 1e-14), bool(flow.dissipation(x, m) >= 0)
    (True, True)
    """

    def __init__(self, grad, K="l1", alpha=1.0, gamma=1.0, lam=1.0, eps=0.0, value=None, coefficient=None):
        if not callable(grad):
            raise TypeError(f"grad must be a callable grad(x) returning an array of x's shape; got {grad!r}")
        if value is not None and not callable(value):
            raise TypeError(f"value must be a callable f(x) or None; got {value!r}")
        self.grad_f, self.value_f = grad, value
        self.K = kernel(K)
        self.alpha = check_real("alpha", alpha, POSITIVE, allow_array=False)
        self.gamma = check_real("gamma", gamma, POSITIVE, allow_array=False)
        self.lam = check_real("lam", lam, POSITIVE, allow_array=False)
        self.eps = check_real("eps", eps, NONNEGATIVE, allow_array=False)
        default = correct_coefficient(self.eps, self.gamma, self.lam)
        self.coefficient = default if coefficient is None else check_real("coefficient", coefficient,
                                                                          allow_array=False)

    @classmethod
    def from_discrete(cls, grad, lr, betas=(0.9, 0.99), weight_decay=1.0, K="l1", value=None, coefficient=None):
        """The flow whose Euler scheme with step ``lr`` is ``lion_k(lr, betas, weight_decay, K)``.

        >>> flow = LionKFlow.from_discrete(lambda x: x, lr=0.1, betas=(0.9, 0.99), weight_decay=1.0)
        >>> round(flow.alpha, 12), round(flow.eps, 12), round(flow.coefficient, 12)
        (0.1, 1.0, 0.45)
        """
        p = from_discrete(lr, betas, weight_decay)
        return cls(grad, K, p["alpha"], p["gamma"], p["lam"], p["eps"], value=value, coefficient=coefficient)

    # ---------------------------------------------------------------- the field
    def interpolated(self, x, m, g=None):
        """mt = m - eps (alpha grad f(x) + gamma m)."""
        g = self.grad_f(x) if g is None else g
        return m - self.eps * (self.alpha * g + self.gamma * m)

    def vector_field(self, x, m):
        """(x', m') = (grad K(mt) - lam x, -alpha grad f(x) - gamma m)."""
        g = self.grad_f(x)
        mt = m - self.eps * (self.alpha * g + self.gamma * m)
        return self.K.grad(mt) - self.lam * x, -self.alpha * g - self.gamma * m

    def rhs(self, t, z):
        """Flat field for integrators: z = concatenate([x, m], axis=-1)."""
        z = np.asarray(z, dtype=float)
        d = z.shape[-1] // 2
        dx, dm = self.vector_field(z[..., :d], z[..., d:])
        return np.concatenate([dx, dm], axis=-1)

    __call__ = rhs

    # ---------------------------------------------------------------- Lyapunov
    def lyapunov(self, x, m):
        """H(x, m) = alpha f(x) + (gamma/lam) K*(lam x) + c (K*(lam x) + K(m) - lam <m, x>)."""
        if self.value_f is None:
            raise ValueError("lyapunov needs value=f; build the flow with value=...")
        kstar = self.K.conjugate(self.lam * x)
        coupling = kstar + self.K.value(m) - self.lam * np.sum(m * x, axis=-1)
        return self.alpha * self.value_f(x) + (self.gamma / self.lam) * kstar + self.coefficient * coupling

    def dH_dt(self, x, m):
        """<grad H, (x', m')> by the chain rule (needs grad K* at lam x; exact for smooth K)."""
        g = self.grad_f(x)
        c, lam = self.coefficient, self.lam
        mt = m - self.eps * (self.alpha * g + self.gamma * m)
        dx, dm = self.K.grad(mt) - lam * x, -self.alpha * g - self.gamma * m
        y = self.K.conjugate_grad(lam * x)
        grad_x = self.alpha * g + (self.gamma + c * lam) * y - c * lam * m
        grad_m = c * (self.K.grad(m) - lam * x)
        return np.sum(grad_x * dx, axis=-1) + np.sum(grad_m * dm, axis=-1)

    def dissipation(self, x, m):
        """Delta = (gamma + c lam) <grad K(mt) - lam x, mt - y> + (c/eps) <grad K(mt) - grad K(m), mt - m>.

        With the correct c, gamma + c lam = (lam + gamma)/(1 + eps lam) and
        c/eps = (1 - eps gamma)/(eps (1 + eps lam)), as in spec 3.2; y = grad K*(lam x).
        The second term is written with mt - m = -eps (alpha g + gamma m), so eps = 0 is allowed.
        """
        g = self.grad_f(x)
        c, lam = self.coefficient, self.lam
        drive = self.alpha * g + self.gamma * m
        mt = m - self.eps * drive
        y = self.K.conjugate_grad(lam * x)
        gk_mt = self.K.grad(mt)
        first = (self.gamma + c * lam) * np.sum((gk_mt - lam * x) * (mt - y), axis=-1)
        second = -c * np.sum((gk_mt - self.K.grad(m)) * drive, axis=-1)
        return first + second

    # ---------------------------------------------------------------- integration
    def integrate(self, x0, m0, t_end, dt, record_every=1):
        """Classical RK4 with fixed step dt for all replicas at once (smooth K).

        Returns a namespace with ``t`` (n,), ``x`` and ``m`` (n, *x0.shape).

        >>> import numpy as np
        >>> flow = LionKFlow(grad=lambda x: x, K="half_square", alpha=1.0, gamma=1.0, lam=1.0, eps=0.0)
        >>> sol = flow.integrate(np.ones(1), np.zeros(1), t_end=1.0, dt=0.01, record_every=100)
        >>> sol.t.tolist(), sol.x.shape
        ([0.0, 1.0], (2, 1))
        """
        t_end = check_real("t_end", t_end, NONNEGATIVE, allow_array=False)
        dt = check_real("dt", dt, POSITIVE, allow_array=False)
        x = np.array(x0, dtype=float, copy=True)
        m = np.array(m0, dtype=float, copy=True)
        if x.shape != m.shape:
            raise ValueError(f"x0 and m0 must have the same shape; got {x.shape} and {m.shape}")
        steps = int(round(t_end / dt))
        ts, xs, ms = [0.0], [x], [m]
        f = self.vector_field
        for n in range(1, steps + 1):
            k1x, k1m = f(x, m)
            k2x, k2m = f(x + 0.5 * dt * k1x, m + 0.5 * dt * k1m)
            k3x, k3m = f(x + 0.5 * dt * k2x, m + 0.5 * dt * k2m)
            k4x, k4m = f(x + dt * k3x, m + dt * k3m)
            x = x + (dt / 6.0) * (k1x + 2 * k2x + 2 * k3x + k4x)
            m = m + (dt / 6.0) * (k1m + 2 * k2m + 2 * k3m + k4m)
            if n % record_every == 0 or n == steps:
                ts.append(n * dt)
                xs.append(x)
                ms.append(m)
        return types.SimpleNamespace(t=np.array(ts), x=np.stack(xs), m=np.stack(ms))

    def __repr__(self) -> str:
        return (f"LionKFlow(K={self.K!r}, alpha={self.alpha}, gamma={self.gamma}, lam={self.lam}, "
                f"eps={self.eps}, coefficient={self.coefficient})")
