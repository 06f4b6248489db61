"""The algorithms that QHM's converters claim to recover, as methods of their own.

Each target is written once, in its paper's own form, so that it is the ground truth against
which a converter is checked (never derived from QHM). ``state.x`` is always the point where
the gradient is evaluated, so any target runs under ``stochopt.run`` like every method; where
the paper's "iterate" is another sequence it is kept in a buffer.

| factory                | paper's recursion (g_t = grad at state.x)             | QHM matches          |
|------------------------|-------------------------------------------------------|----------------------|
| ``pid``                | x_{t+1} = x_0 + k_p e_t + k_i w_t + k_d v_t, e = -g   | x_t                  |
| ``synthesized_nesterov`` | xi_{t+1} = xi_t + b1 (xi_t - xi_{t-1}) - alpha g_t  | y_t (state.x), not xi_t |
| ``robust_momentum``    | the same with (a, b, c) of Cyrus et al.               | y_k (state.x), not x_k |
| ``triple_momentum``    | Van Scoy et al.'s (alpha, beta, gamma, delta) form     | y_k (state.x), not the output x_k |
| ``accsgd``             | Kidambi et al.'s wbar / w recursion                   | w_t (state.x), not wbar_t |
| ``two_state``          | a' = h a + k x + l g, x' = m a + q x + z g            | x_t (from the invariant line) |
| ``nadam_dozat``        | Dozat's NAdam with constant mu                        | approximately (``from_nadam``) |

Initial states: xi_{-1} = xi_0 = x_0 (SNV, RM, TM), wbar_0 = w_0 = x_0 (AccSGD), zero
e, w, v (PID), a_0 on the TSO's invariant line. Each is a fixed point of the zero-gradient
dynamics, like QHM's b_0 = 0; that is what makes the sequences equal from t = 0 on.

>>> import numpy as np
>>> from stochopt import qh
>>> opt = qh.synthesized_nesterov(alpha=0.5, beta1=0.5, beta2=0.5)
>>> ref = qh.qhm(**qh.from_synthesized_nesterov(alpha=0.5, beta1=0.5, beta2=0.5))
>>> s, r = opt.init(np.ones(2)), ref.init(np.ones(2))
>>> for _ in range(3):
...     s, r = opt.step(s, s.x), ref.step(r, r.x)     # gradient of |x|^2 / 2
>>> bool(np.allclose(s.x, r.x, rtol=1e-14, atol=0))
True
"""
from __future__ import annotations

import numpy as np

from .._checks import NONNEGATIVE, POSITIVE, REAL, UNIT_HALF_OPEN, check_choice, check_real, check_tuple
from ..base import Method, hyper
from ..framework import _describe
from ..terms import ema
from . import converters as _conv

__all__ = [
    "pid",
    "synthesized_nesterov",
    "robust_momentum",
    "triple_momentum",
    "accsgd",
    "two_state",
    "nadam_dozat",
]


def _copy_x0(x0):
    return np.array(x0, copy=True)


# ------------------------------------------------------------------------------- PID
def _pid_rule(x, buffers, g, h, k):
    e = -g                                                                   # e_t = -grad_t
    w = buffers["w"] + e                                                     # integral
    v = ema(buffers["v"], e - buffers["e"], h.beta_f)                        # filtered derivative
    x_new = buffers["anchor"] + h.k_p * e + h.k_i * w + h.k_d * v
    return x_new, {"anchor": buffers["anchor"], "e": e, "w": w, "v": v}


def pid(k_p, k_i, k_d, beta_f=None) -> Method:
    """The PID optimizer with a low-pass filtered derivative (Recht 2018; An et al., CVPR 2018).

    With e_t = -grad(x_t), zero initial e, w, v (e_{-1} = 0)::

        w_t = w_{t-1} + e_t                                   integral
        v_t = beta_f v_{t-1} + (1 - beta_f)(e_t - e_{t-1})    filtered derivative
        x_{t+1} = x_0 + k_p e_t + k_i w_t + k_d v_t

    ``beta_f=None`` means beta_f = k_d / (k_d - k_p), the filter under which
    ``qhm(**from_pid(k_p, k_i, k_d))`` has the same x_t; ``beta_f=0`` is the unfiltered
    derivative, which QHM does not reproduce. Gains are any finite reals (k_p is negative in
    the QHM-recoverable case with 0 <= beta_f < 1); buffers: ``anchor`` (x_0), ``e``, ``w``, ``v``.

    >>> import numpy as np
    >>> from stochopt import qh
    >>> opt = qh.pid(k_p=-0.5, k_i=1.0, k_d=0.5)            # beta_f = 0.5
    >>> s = opt.step(opt.init(np.zeros(1)), np.ones(1))
    >>> s.x                                                   # 0.5 - 1 - 0.5 * 0.5
    array([-0.75])
    """
    k_p, k_i, k_d = (check_real(n, v) for n, v in (("k_p", k_p), ("k_i", k_i), ("k_d", k_d)))
    if beta_f is None:
        if np.any(np.asarray(k_d) == np.asarray(k_p)):
            raise ValueError("beta_f=None means k_d / (k_d - k_p), which needs k_d != k_p; pass beta_f explicitly")
        beta = np.asarray(k_d) / (np.asarray(k_d) - np.asarray(k_p))
        beta = float(beta) if beta.ndim == 0 else beta
        try:
            beta = check_real("beta_f", beta, UNIT_HALF_OPEN)
        except ValueError:
            raise ValueError(f"beta_f=None means k_d / (k_d - k_p) = {np.asarray(beta).tolist()}, which must be in "
                             "[0, 1) (a stable filter); pass beta_f explicitly or change k_p, k_d") from None
    else:
        beta = beta_f
    hp = hyper(k_p=(k_p, REAL), k_i=(k_i, REAL), k_d=(k_d, REAL), beta_f=(beta, UNIT_HALF_OPEN))
    return Method("pid", _pid_rule, hp, {"anchor": _copy_x0, "e": None, "w": None, "v": None},
                  config=_describe(k_p=k_p, k_i=k_i, k_d=k_d, beta_f=beta_f), time_hyper="k_i")


# --------------------------------------------------------- synthesized Nesterov and RM
def _snv_rule(x, buffers, g, h, k):
    xi, xi_prev = buffers["xi"], buffers["xi_prev"]
    xi_new = xi + h.beta1 * (xi - xi_prev) - h.alpha * g                     # g = grad(y_t)
    y_new = xi_new + h.beta2 * (xi_new - xi)                                 # next gradient point
    return y_new, {"xi": xi_new, "xi_prev": xi}


def synthesized_nesterov(alpha, beta1, beta2) -> Method:
    """Synthesized Nesterov (Lessard, Recht & Packard 2016, Sec. 6 form).

    xi_{t+1} = xi_t + beta1 (xi_t - xi_{t-1}) - alpha grad(y_t), y_t = xi_t + beta2 (xi_t - xi_{t-1}),
    xi_0 = xi_{-1} = x_0. ``state.x`` is the gradient point y_t (what QHM reproduces);
    buffers ``xi`` (xi_t) and ``xi_prev`` (xi_{t-1}).

    Accepted: alpha > 0, beta1 in [0, 1), beta2 any real.

    >>> import numpy as np
    >>> from stochopt import qh
    >>> opt = qh.synthesized_nesterov(alpha=0.1, beta1=0.5, beta2=1.0)
    >>> s = opt.step(opt.init(np.zeros(1)), np.ones(1))
    >>> s.x, s.xi                                             # y_1 = xi_1 + (xi_1 - xi_0)
    (array([-0.2]), array([-0.1]))
    """
    hp = hyper(alpha=(alpha, POSITIVE), beta1=(beta1, UNIT_HALF_OPEN), beta2=(beta2, REAL))
    return Method("synthesized_nesterov", _snv_rule, hp, {"xi": _copy_x0, "xi_prev": _copy_x0},
                  config=_describe(alpha=alpha, beta1=beta1, beta2=beta2), time_hyper="alpha")


def robust_momentum(l, kappa, rho=None) -> Method:
    """Robust Momentum (Cyrus, Hu, Van Scoy & Lessard, ACC 2018).

    x_{k+1} = x_k + b (x_k - x_{k-1}) - a grad(y_k), y_k = x_k + c (x_k - x_{k-1}), x_0 = x_{-1},
    with (a, b, c) from ``robust_momentum_coefficients(l, kappa, rho)`` (rho = None:
    1 - 1/sqrt(kappa), which is Triple Momentum). ``state.x`` is the gradient point y_k;
    the paper's x_k is the buffer ``xi``.

    >>> import numpy as np
    >>> from stochopt import qh
    >>> opt = qh.robust_momentum(l=1.0, kappa=4.0, rho=0.6)
    >>> s = opt.init(np.ones(1))
    >>> for _ in range(50):
    ...     s = opt.step(s, 0.25 * s.x)                        # f = x^2 / 8: mu = 1/4, L = 1
    >>> bool(abs(s.x[0]) < 0.6 ** 40)
    True
    """
    coeffs = _conv.robust_momentum_coefficients(l, kappa, rho)
    hp = hyper(alpha=(coeffs["a"], POSITIVE), beta1=(coeffs["b"], UNIT_HALF_OPEN), beta2=(coeffs["c"], REAL))
    return Method("robust_momentum", _snv_rule, hp, {"xi": _copy_x0, "xi_prev": _copy_x0},
                  config=_describe(l=l, kappa=kappa, rho=rho), time_hyper="alpha")


def _tm_rule(x, buffers, g, h, k):
    xi, xi_prev = buffers["xi"], buffers["xi_prev"]
    xi_new = (1 + h.beta) * xi - h.beta * xi_prev - h.alpha * g
    y_new = (1 + h.gamma) * xi_new - h.gamma * xi
    out = (1 + h.delta) * xi_new - h.delta * xi                              # the method's output x_k
    return y_new, {"xi": xi_new, "xi_prev": xi, "output": out}


def triple_momentum(l, kappa) -> Method:
    """Triple Momentum (Van Scoy, Freeman & Lynch, IEEE L-CSS 2018), the paper's parametrization.

    rho = 1 - 1/sqrt(kappa), alpha = (1 + rho)/L, beta = rho^2/(2 - rho),
    gamma = rho^2/((1 + rho)(2 - rho)), delta = rho^2/(1 - rho^2)::

        xi_{k+1} = (1 + beta) xi_k - beta xi_{k-1} - alpha grad(y_k)
        y_k      = (1 + gamma) xi_k - gamma xi_{k-1}
        x_k      = (1 + delta) xi_k - delta xi_{k-1}      (the output, converging at rate rho)

    ``state.x`` is the gradient point y_k (what QHM with ``from_robust_momentum(l, kappa)``
    reproduces); buffers ``xi``, ``xi_prev`` and ``output`` (x_k). xi_{-1} = xi_0 = x_0.

    >>> import numpy as np
    >>> from stochopt import qh
    >>> opt = qh.triple_momentum(l=1.0, kappa=4.0)            # rho = 1/2
    >>> s = opt.init(np.ones(1))
    >>> for _ in range(60):
    ...     s = opt.step(s, 0.25 * s.x)
    >>> bool(abs(s.output[0]) < 100 * 60 * 0.5 ** 60)
    True
    """
    l = check_real("l", l, POSITIVE)
    kappa = check_real("kappa", kappa, _conv.ABOVE_ONE)
    rho = 1 - 1 / np.sqrt(kappa)
    hp = hyper(alpha=((1 + rho) / l, POSITIVE), beta=(rho ** 2 / (2 - rho), UNIT_HALF_OPEN),
               gamma=(rho ** 2 / ((1 + rho) * (2 - rho)), NONNEGATIVE), delta=(rho ** 2 / (1 - rho ** 2), NONNEGATIVE))
    return Method("triple_momentum", _tm_rule, hp, {"xi": _copy_x0, "xi_prev": _copy_x0, "output": _copy_x0},
                  config=_describe(l=l, kappa=kappa), time_hyper="alpha")


# ----------------------------------------------------------------------------- AccSGD
def _accsgd_rule(x, buffers, g, h, k):
    A = 1 - h.eps * h.eps * h.xi / h.kappa
    zeta = h.eps / (h.eps + 1 - A)
    wbar = ema(buffers["wbar"], x - (h.kappa * h.delta / h.eps) * g, A)            # long step
    w = zeta * (x - h.delta * g) + (1 - zeta) * wbar                               # short step, mixed
    return w, {"wbar": wbar}


def accsgd(delta, kappa, xi, eps=0.7) -> Method:
    """AccSGD (Kidambi, Netrapalli, Jain & Kakade, ICLR 2018), written as in the paper.

    A = 1 - eps^2 xi / kappa, zeta = eps / (eps + 1 - A)::

        wbar_{t+1} = A wbar_t + (1 - A)(w_t - (kappa delta / eps) grad(w_t))
        w_{t+1}    = zeta (w_t - delta grad(w_t)) + (1 - zeta) wbar_{t+1}

    wbar_0 = w_0 = x_0. ``state.x`` is w_t (the gradient point; QHM matches it); buffer ``wbar``.
    Accepted: delta > 0, kappa > 1, 0 < xi <= sqrt(kappa), eps in (0, 1) (the paper fixes 0.7).

    >>> import numpy as np
    >>> from stochopt import qh
    >>> opt = qh.accsgd(delta=0.1, kappa=100.0, xi=5.0)
    >>> ref = qh.qhm(**qh.from_accsgd(delta=0.1, kappa=100.0, xi=5.0))
    >>> s, r = opt.init(np.ones(1)), ref.init(np.ones(1))
    >>> for _ in range(20):
    ...     s, r = opt.step(s, s.x), ref.step(r, r.x)
    >>> bool(abs(s.x[0] - r.x[0]) <= 1e-14 * abs(r.x[0]))
    True
    """
    _conv.from_accsgd(delta, kappa, xi, eps)  # the same validation (names and ranges)
    hp = hyper(delta=(delta, POSITIVE), kappa=(kappa, _conv.ABOVE_ONE), xi=(xi, POSITIVE),
               eps=(eps, _conv.UNIT_OPEN))
    return Method("accsgd", _accsgd_rule, hp, {"wbar": _copy_x0},
                  config=_describe(delta=delta, kappa=kappa, xi=xi, eps=eps), time_hyper="delta")


# ------------------------------------------------------------------ two-state optimizer
def _tso_rule(x, buffers, g, hp, step):
    a = buffers["a"]
    a_new = hp.h * a + hp.k * x + hp.l * g
    x_new = hp.m * a + hp.q * x + hp.z * g
    return x_new, {"a": a_new}


def two_state(h, k, l, m, q, z, a0="invariant") -> Method:
    """The two-state optimizer (TSO) of Ma & Yarats (2019, App.), with the gradient at x_t.

    a_{t+1} = h a_t + k x_t + l grad_t, x_{t+1} = m a_t + q x_t + z grad_t.

    ``a0="invariant"`` starts a on the line of fixed points of the zero-gradient dynamics:
    a_0 = k x_0 / (1 - h) (0 when k = 0); when h = 1, a_0 = (1 - q) x_0 / m (0 if m = 0).
    This is the start under which ``qhm(**from_two_state_optimizer(...))`` has the same x_t.
    ``a0="zeros"`` starts at a_0 = 0. ``trace.time`` sums z (negative for descent).

    >>> import numpy as np
    >>> from stochopt import qh
    >>> opt = qh.two_state(h=0.9, k=0.0, l=0.1, m=-0.09, q=1.0, z=-0.01)
    >>> s = opt.step(opt.init(np.ones(1)), np.ones(1))
    >>> s.x, s.a
    (array([0.99]), array([0.1]))
    """
    a0 = check_choice("a0", a0, ["invariant", "zeros"])
    values = {n: check_real(n, v) for n, v in zip("hklmqz", (h, k, l, m, q, z))}
    hp = hyper(**{n: (v, REAL) for n, v in values.items()})

    def init_a(x0, hv=values["h"], kv=values["k"], mv=values["m"], qv=values["q"]):
        if a0 == "zeros":
            return np.zeros_like(x0)
        col = (lambda v: np.asarray(v, dtype=x0.dtype)[:, None] if np.ndim(v) == 1 else np.asarray(v, x0.dtype))
        hv, kv, mv, qv = col(hv), col(kv), col(mv), col(qv)
        h_is_one = hv == 1
        with np.errstate(divide="ignore", invalid="ignore"):
            general = kv * x0 / np.where(h_is_one, 1, 1 - hv)
            special = np.where(mv == 0, 0, (1 - qv) * x0 / np.where(mv == 0, 1, mv))
        return np.where(h_is_one, special, general)

    return Method("two_state", _tso_rule, hp, {"a": init_a},
                  config=_describe(h=h, k=k, l=l, m=m, q=q, z=z, a0=a0), time_hyper="z")


# ------------------------------------------------------------------------------ NAdam
def nadam_dozat(lr=2e-3, betas=(0.9, 0.999), eps=1e-8) -> Method:
    """NAdam as in Dozat (2016, "Incorporating Nesterov momentum into Adam"), constant mu = beta1.

    With t = k + 1, m and v EMAs from zero::

        m_bar = (1 - mu) g / (1 - mu^t) + mu m_t / (1 - mu^(t+1))
        x    <- x - lr m_bar / (sqrt(v_t / (1 - beta2^t)) + eps)

    This is ``stochopt.nadam``'s rule (its default, Dozat's form), here with eps >= 0 and no
    weight decay, under the target's name. ``torch.optim.NAdam`` multiplies beta1 by the warm-up
    factor 1 - 0.5 * 0.96^(t psi) (``momentum_decay`` psi = 0.004): it is this method only in the
    limit psi -> infinity (the factor is then exactly 1 in floating point, e.g. psi = 1e9).
    QHAdam with ``from_nadam`` approaches it geometrically (the step ratio tends to 1).

    >>> import numpy as np
    >>> from stochopt import qh
    >>> opt = qh.nadam_dozat(lr=1.0, betas=(0.5, 0.999), eps=0.0)
    >>> opt.step(opt.init(np.zeros(1)), np.array([3.0])).x     # (1 + 2 mu) / (1 + mu) = 4/3
    array([-1.33333333])
    """
    from ..adaptive import _nadam_rule   # one NAdam rule, written in adaptive.py

    beta1, beta2 = check_tuple("betas", betas, ("beta1", "beta2"))
    hp = hyper(lr=(lr, POSITIVE), beta1=(beta1, UNIT_HALF_OPEN), beta2=(beta2, UNIT_HALF_OPEN),
               eps=(eps, NONNEGATIVE))
    return Method("nadam_dozat", _nadam_rule, hp, {"m": None, "v": None},
                  config=_describe(lr=lr, betas=list(betas), eps=eps), momentum_buffer="m")
