"""The Lion / Lion-K theory the ``lion`` claims check: the continuous-time flow, its Lyapunov
function H and dissipation Delta, the box KKT measure, the discrete-to-continuous map, and the
rate bound of Lion with horizon-dependent hyperparameters.

Sources: Chen, Liu, Liang, Liu 2023, "Lion secretly solves constrained optimization, as Lyapunov
predicts" (arXiv 2310.05898: Lion-K, the box, H); Dong, Li, Lin 2024, "Convergence rate analysis of
LION" (arXiv 2411.07724: the KKT measure and the O(sqrt(d) K^(-1/4)) rate). The method itself
(``stochopt.lion_k``, kernels K and K*) lives in ``stochopt.lionk``; everything here serves only
verification.

Conventions. ``stochopt.lion`` keeps Lion's buffer (the EMA of the gradients); the papers'
negative-gradient momentum is m = -state.m (``flow_state``). Continuous time (spec 3.2)::

    x' = grad K(mt) - lam x,   m' = -alpha grad f(x) - gamma m,   mt = m - eps (alpha grad f(x) + gamma m)

and discrete Lion-K is its Euler scheme with time step lr when alpha = gamma = (1 - beta2)/lr and
eps = lr (1 - beta1)/(1 - beta2) (``from_discrete``). Lyapunov function, for any coefficient c::

    H_c(x, m) = alpha f(x) + (gamma/lam) K*(lam x) + c (K*(lam x) + K(m) - lam <m, x>)
    Delta_c   = (gamma + c lam) <grad K(mt) - lam x, mt - y> + (c/eps) <grad K(mt) - grad K(m), mt - m>,
                y = grad K*(lam x)
    dH_c/dt   = -Delta_c + (1 + eps lam)(c - c*) <m', x'>,        c* = (1 - eps gamma)/(1 + eps lam)

so with c = c* (``correct_coefficient``) dH/dt = -Delta <= 0 when eps gamma <= 1, and with any other c
(``wrong_coefficient`` is the plausible (1 - eps lam)/(1 + eps lam)) the identity is off by exactly
the ``coefficient_defect`` (1 + eps lam)(c - c*) <m', x'>. The coefficient was re-derived here (see
docs/lion.md); ``verify.symbolic.lyapunov`` proves both identities with these same functions.

>>> import numpy as np
>>> flow = LionKFlow(grad=lambda x: x, value=lambda x: 0.5 * np.sum(x * x, -1), K="tanh",
...                  alpha=1.0, gamma=1.0, lam=0.5, eps=0.3)
>>> x, m = np.array([0.4, -1.0]), np.array([0.2, 0.7])
>>> bool(abs(flow.dH_dt(x, m) + flow.dissipation(x, m)) < 1e-14), bool(flow.dissipation(x, m) >= 0)
(True, True)
"""
from __future__ import annotations

import types
from dataclasses import dataclass

import numpy as np

from stochopt._checks import NONNEGATIVE, POSITIVE, UNIT_HALF_OPEN, Interval, check_real, check_tuple
from stochopt.lionk import kernel

__all__ = [
    "LionKFlow", "correct_coefficient", "wrong_coefficient", "kkt_measure", "box_violation", "from_discrete",
    "to_discrete", "flow_state", "RateBound", "rate_bound",
]


# ---------------------------------------------------------------------------- the coefficient of H
def correct_coefficient(eps, gamma, lam):
    """c* = (1 - eps gamma)/(1 + eps lam), the coupling coefficient of H (floats, arrays or sympy).

    >>> correct_coefficient(1.0, 0.1, 1.0)
    0.45
    """
    return (1 - eps * gamma) / (1 + eps * lam)


def wrong_coefficient(eps, gamma, lam):
    """(1 - eps lam)/(1 + eps lam): the plausible wrong coefficient (equal to c* only when gamma = lam).

    >>> wrong_coefficient(1.0, 0.1, 1.0)
    0.0
    """
    return (1 - eps * lam) / (1 + eps * lam)


# ---------------------------------------------------------------------------- discrete <-> continuous
def from_discrete(lr, betas=(0.9, 0.99), weight_decay=0.0) -> dict:
    """Continuous-time parameters of discrete Lion-K (spec 3.2), time step = lr.

    alpha = gamma = (1 - beta2)/lr, lam = weight_decay, eps = lr (1 - beta1)/(1 - beta2).
    Works elementwise on arrays. eps gamma = 1 - beta1 <= 1 always.

    >>> p = from_discrete(0.1, (0.9, 0.99), 1.0)
    >>> {k: round(float(v), 12) for k, v in p.items()}
    {'alpha': 0.1, 'gamma': 0.1, 'lam': 1.0, 'eps': 1.0}
    """
    lr = check_real("lr", lr, POSITIVE)
    beta1, beta2 = check_tuple("betas", betas, ("beta1", "beta2"))
    beta1 = check_real("beta1", beta1, UNIT_HALF_OPEN)
    beta2 = check_real("beta2", beta2, UNIT_HALF_OPEN)
    lam = check_real("weight_decay", weight_decay, NONNEGATIVE)
    gamma = (1.0 - np.asarray(beta2)) / lr
    eps = lr * (1.0 - np.asarray(beta1)) / (1.0 - np.asarray(beta2))
    out = {"alpha": gamma, "gamma": gamma, "lam": np.asarray(lam, float), "eps": eps}
    return {k: (float(v) if np.ndim(v) == 0 else v) for k, v in out.items()}


def to_discrete(gamma, eps, lam, lr) -> dict:
    """Discrete Lion-K hyperparameters whose Euler limit (time step lr) has alpha = gamma.

    beta2 = 1 - gamma lr and beta1 = 1 - eps gamma (independent of lr), weight_decay = lam.
    Requires 0 < eps gamma <= 1 and 0 < lr <= 1/gamma.

    >>> to_discrete(gamma=0.1, eps=1.0, lam=1.0, lr=0.1)
    {'lr': 0.1, 'betas': (0.9, 0.99), 'weight_decay': 1.0}
    """
    gamma = check_real("gamma", gamma, POSITIVE, allow_array=False)
    eps = check_real("eps", eps, Interval(0.0, 1.0 / gamma, low_closed=False), allow_array=False)
    lam = check_real("lam", lam, NONNEGATIVE, allow_array=False)
    lr = check_real("lr", lr, Interval(0.0, 1.0 / gamma, low_closed=False), allow_array=False)
    return {"lr": lr, "betas": (1.0 - eps * gamma, 1.0 - gamma * lr), "weight_decay": lam}


def flow_state(state):
    """(x, m) of the continuous-time picture from a Lion or Lion-K state: m = -state.m.

    >>> import numpy as np, stochopt
    >>> s = stochopt.lion(lr=0.1).step(stochopt.lion(lr=0.1).init(np.zeros(1)), np.array([2.0]))
    >>> flow_state(s)[1]
    array([-0.02])
    """
    return state.x, -state.m


# ---------------------------------------------------------------------------- KKT on the box
def kkt_measure(grad, x, lam):
    """G(x) = ||grad f(x)||_1 + lam <grad f(x), x> for the box ||x||_inf <= 1/lam (Dong, Li, Lin).

    G >= 0 on the box and G = 0 exactly at its KKT points (each coordinate has g_i = 0, or sits on
    the face lam x_i = -sign(g_i)). Batched over leading axes; ``lam`` a float or an array
    broadcasting against ``grad.shape[:-1]``.

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
    """The Lion-K ODE, its Lyapunov function H_c and dissipation Delta_c (see the module).

    Parameters
    ----------
    grad : grad f(x), batched over leading axes.
    K : kernel name or ``stochopt.lionk.Kernel``.
    alpha, gamma, lam : > 0.   eps : >= 0 (eps gamma <= 1 for dH/dt <= 0).
    value : f(x) (needed only for ``lyapunov``).
    coefficient : c in H and Delta; default ``correct_coefficient(eps, gamma, lam)`` (a control
        passes ``wrong_coefficient(...)``).

    >>> import numpy as np
    >>> flow = LionKFlow(grad=lambda x: x, K="half_square", alpha=1.0, gamma=1.0, lam=1.0, eps=0.0)
    >>> sol = flow.trajectory(np.ones((1, 1)), np.zeros((1, 1)), t_end=1.0, dt=0.01, record_every=100)
    >>> sol.t.tolist(), sol.x.shape
    ([0.0, 1.0], (2, 1, 1))
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
        self.optimal_coefficient = correct_coefficient(self.eps, self.gamma, self.lam)
        self.coefficient = (self.optimal_coefficient if coefficient is None
                            else check_real("coefficient", coefficient, allow_array=False))

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
    def vector_field(self, x, m):
        """(x', m') = (grad K(mt) - lam x, -alpha grad f(x) - gamma m)."""
        g = self.grad_f(x)
        mt = m - self.eps * (self.alpha * g + self.gamma * m)
        return self.K.grad(mt) - self.lam * x, -self.alpha * g - self.gamma * m

    # ---------------------------------------------------------------- Lyapunov
    def lyapunov(self, x, m):
        """H_c(x, m) = alpha f(x) + (gamma/lam) K*(lam x) + c (K*(lam x) + K(m) - lam <m, x>)."""
        if self.value_f is None:
            raise ValueError("lyapunov needs value=f; build the flow with value=...")
        kstar = self.K.conjugate(self.lam * x)
        coupling = kstar + self.K.value(m) - self.lam * np.sum(m * x, axis=-1)
        return self.alpha * self.value_f(x) + (self.gamma / self.lam) * kstar + self.coefficient * coupling

    def dH_dt(self, x, m):
        """<grad H_c, (x', m')> by the chain rule (needs grad K* at lam x; exact for smooth K)."""
        g = self.grad_f(x)
        c, lam = self.coefficient, self.lam
        mt = m - self.eps * (self.alpha * g + self.gamma * m)
        dx, dm = self.K.grad(mt) - lam * x, -self.alpha * g - self.gamma * m
        y = self.K.conjugate_grad(lam * x)
        grad_x = self.alpha * g + (self.gamma + c * lam) * y - c * lam * m
        grad_m = c * (self.K.grad(m) - lam * x)
        return np.sum(grad_x * dx, axis=-1) + np.sum(grad_m * dm, axis=-1)

    def dissipation(self, x, m):
        """Delta_c = (gamma + c lam) <grad K(mt) - lam x, mt - y> + (c/eps) <grad K(mt) - grad K(m), mt - m>.

        With c = c*, gamma + c lam = (lam + gamma)/(1 + eps lam) and c/eps = (1 - eps gamma)/(eps (1 + eps lam)),
        as in spec 3.2; y = grad K*(lam x). The second term is written with mt - m = -eps (alpha g + gamma m),
        so eps = 0 is allowed.
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

    def coefficient_defect(self, x, m):
        """(1 + eps lam)(c - c*) <m', x'>: what dH_c/dt + Delta_c equals (0 for the correct c)."""
        dx, dm = self.vector_field(x, m)
        return (1 + self.eps * self.lam) * (self.coefficient - self.optimal_coefficient) * np.sum(dm * dx, axis=-1)

    # ---------------------------------------------------------------- integration
    def trajectory(self, x0, m0, t_end, dt, record_every=1):
        """Classical RK4 with fixed step dt for all replicas at once (smooth K: grad K Lipschitz).

        x0, m0 : (R, d). Returns a namespace with ``t`` (n,), ``x`` and ``m`` (n, R, d), recorded
        every ``record_every`` steps (and at t_end).
        """
        if not self.K.smooth:
            raise ValueError(f"trajectory integrates smooth kernels only (RK4); K = {self.K.name} has a "
                             "discontinuous grad K")
        t_end = check_real("t_end", t_end, NONNEGATIVE, allow_array=False)
        dt = check_real("dt", dt, POSITIVE, allow_array=False)
        x, m = np.atleast_2d(np.asarray(x0, float)), np.atleast_2d(np.asarray(m0, float))
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


# ---------------------------------------------------------------------------- the rate bound
@dataclass(frozen=True)
class RateBound:
    """The bound on (1/K) sum_{k<K} E G(x_k) and its terms (arrays broadcast like the inputs)."""

    total: object
    terms: dict


def rate_bound(horizon, lr, beta1, beta2, smoothness_l1, noise_l1, gap, grad0_l1, weight_decay=False) -> RateBound:
    """Upper bound on (1/K) sum_{k<K} E G(x_k) for Lion with constant (lr, beta1, beta2) over K steps.

    G = ||grad f||_1 without weight decay, the KKT measure ||grad f||_1 + lam <grad f, x> with
    decoupled weight decay lam (start in the box ||x||_inf <= 1/lam, lr lam <= 1). Assumptions:
    ||grad f(x) - grad f(y)||_1 <= L1 ||x - y||_inf (``smoothness_l1``; L1 <= d L for an l2
    L-smooth f), unbiased gradients with coordinate variances sigma_i^2, sum_i sigma_i <= ``noise_l1``
    (<= sqrt(d) sigma), ``gap`` = f(x_0) - inf f (over the box with decay), ``grad0_l1`` = ||grad f(x_0)||_1.

    Reconstructed (the proof in docs/lion.md, following the structure of Dong, Li, Lin, arXiv
    2411.07724, whose constants we could not confirm): one step moves x by at most s lr in l_inf
    (s = 1, or 2 with decay), so the descent lemma gives
    f(x_{k+1}) <= f(x_k) - lr G(x_k) + 2 lr ||grad f(x_k) - c_k||_1 + L1 (s lr)^2/2, and c_k - grad f(x_k)
    splits into noise (sqrt(S2_k) noise_l1 in expectation, S2_k the sum of the squared EMA
    weights), drift (beta1 L1 s lr/(1 - beta2)) and the bias of m_0 = 0 (beta1 beta2^k ||grad f(x_k)||_1)::

        (1/K) sum E G <= gap/(lr K) + s^2 L1 lr/2 + (2/K) sum_k sqrt(S2_k) noise_l1 + 2 s L1 lr beta1/(1 - beta2)
                         + (2 beta1/K) (grad0_l1/(1 - beta2) + s L1 lr beta2/(1 - beta2)^2)

    With beta1 = 1 - c1/sqrt(K), beta2 = 1 - c2/sqrt(K), lr = c3/(sqrt(d) K^(3/4)) this is
    sqrt(d) K^(-1/4) (gap/c3 + sigma sqrt(2 c2) + 2 s (L1/d) c3/c2) + O(sqrt(d) K^(-1/2)).

    >>> b = rate_bound(1000, 1e-3, 0.9, 0.99, smoothness_l1=4.0, noise_l1=2.0, gap=1.0, grad0_l1=2.0)
    >>> round(float(b.total), 3), sorted(b.terms)
    (2.624, ['bias', 'descent', 'drift', 'noise', 'smoothness'])
    """
    K = int(horizon)
    if K < 1:
        raise ValueError(f"horizon must be a positive integer; got {horizon!r}")
    lr, b1, b2 = (np.asarray(v, dtype=float) for v in (lr, beta1, beta2))
    step = 2.0 if weight_decay else 1.0
    k = np.arange(K).reshape((K,) + (1,) * np.ndim(b2))
    s2 = (1 - b1) ** 2 + b1 ** 2 * (1 - b2) ** 2 * (1 - b2 ** (2 * k)) / (1 - b2 ** 2)
    terms = {
        "descent": np.asarray(gap) / (lr * K),
        "smoothness": step ** 2 * smoothness_l1 * lr / 2,
        "noise": 2 * np.mean(np.sqrt(s2), axis=0) * noise_l1,
        "drift": 2 * step * smoothness_l1 * lr * b1 / (1 - b2),
        "bias": (2 * b1 / K) * (np.asarray(grad0_l1) / (1 - b2) + step * smoothness_l1 * lr * b2 / (1 - b2) ** 2),
    }
    return RateBound(sum(terms.values()), terms)
