"""Converters: QHM / QHAdam hyperparameters that reproduce other algorithms, and inverse maps.

Names, arguments, defaults and return shapes follow qhoptim 1.1.0 (``from_pid`` ... return
``{"lr", "momentum", "nu"}``; ``from_nadam`` returns ``{"lr", "betas", "nus"}``). Every
function also accepts ``(R,)`` arrays (one value per replica) and then returns arrays.

Each converter is proved twice in ``verify``: numerically, iterate by iterate against the
target algorithm in ``stochopt.qh.targets`` (claims ``qh.converter.*``), and symbolically, as
equal transfer functions from the gradient sequence to the matching iterate sequence
(``verify.symbolic.converters``). The matching sequence is stated in each docstring.

Where we differ from qhoptim (see docs/differences-from-qhoptim.md):

- ``from_two_state_optimizer`` uses the general map obtained by matching transfer functions.
  qhoptim's formula is right only when q = 1 and k = 0.
- Singular inputs raise ``ValueError`` naming the parameter (qhoptim divides by zero).

>>> from stochopt import qh
>>> {key: round(v, 6) for key, v in qh.from_synthesized_nesterov(alpha=0.1, beta1=0.9, beta2=0.6).items()}
{'lr': 1.0, 'momentum': 0.9, 'nu': 0.933333}
"""
from __future__ import annotations

import math

import numpy as np

from .._checks import POSITIVE, REAL, UNIT_HALF_OPEN, Interval, check_real

__all__ = [
    "from_pid",
    "from_synthesized_nesterov",
    "from_robust_momentum",
    "from_accsgd",
    "from_two_state_optimizer",
    "from_nadam",
    "to_pid",
    "to_synthesized_nesterov",
    "to_two_state",
    "robust_momentum_coefficients",
]

UNIT_OPEN = Interval(0.0, 1.0, low_closed=False, high_closed=False)
ABOVE_ONE = Interval(1.0, math.inf, low_closed=False)


def _out(value):
    """A Python float for scalar results, a float64 array for per-replica results."""
    value = np.asarray(value, dtype=np.float64)
    return float(value) if value.ndim == 0 else value


def _where(mask) -> str:
    mask = np.asarray(mask)
    if mask.ndim == 0:
        return ""
    return f" (first at replica index {int(np.flatnonzero(mask)[0])})"


def _require(ok, message: str) -> None:
    bad = ~np.asarray(ok, dtype=bool)
    if np.any(bad):
        raise ValueError(message + _where(bad))


def _real(name, value, interval=REAL):
    return check_real(name, value, interval)


def _common(*values):
    """Broadcast scalars and per-replica (R,) values to one shape (clear error if R differs)."""
    sizes = {np.shape(v)[0] for v in values if np.ndim(v) == 1}
    if len(sizes) > 1:
        raise ValueError(f"per-replica arguments disagree on the number of replicas: {sorted(sizes)}")
    return np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values))


# ------------------------------------------------------------------------------- PID
def from_pid(k_p, k_i, k_d):
    """QHM hyperparameters of the PID optimizer with a low-pass filtered derivative.

    lr = k_i, momentum = k_d / (k_d - k_p), nu = k_p^2 / (k_i k_d) (Ma & Yarats 2019, App.;
    the PID optimizer of Recht 2018 / An et al. 2018 with e_t = -grad_t).

    Matching sequence: x_t of ``stochopt.qh.pid(k_p, k_i, k_d)`` (whose derivative filter
    defaults to beta_f = k_d / (k_d - k_p)) equals QHM's x_t for every t, from the same x_0
    with zero e, w, v (and QHM's b_0 = 0). With an unfiltered derivative (beta_f = 0) it does not.

    Raises ``ValueError`` at the singular inputs k_i = 0, k_d = 0 and k_d = k_p.

    >>> from stochopt import qh
    >>> qh.from_pid(k_p=-0.1, k_i=1.0, k_d=3.0)   # doctest: +ELLIPSIS
    {'lr': 1.0, 'momentum': 0.967741935483..., 'nu': 0.00333333333333...}
    """
    k_p, k_i, k_d = _common(_real("k_p", k_p), _real("k_i", k_i), _real("k_d", k_d))
    _require(k_i != 0, "k_i must be nonzero: it is the QHM learning rate and nu = k_p^2 / (k_i k_d)")
    _require(k_d != 0, "k_d must be nonzero: nu = k_p^2 / (k_i k_d)")
    _require(k_d != k_p, "k_d must differ from k_p: momentum = k_d / (k_d - k_p)")
    return {"lr": _out(k_i), "momentum": _out(k_d / (k_d - k_p)), "nu": _out(k_p * k_p / (k_i * k_d))}


def to_pid(lr, momentum, nu):
    """Inverse of ``from_pid``: the PID gains whose QHM hyperparameters are (lr, momentum, nu).

    k_i = lr, k_p = -nu lr momentum / (1 - momentum), k_d = nu lr momentum^2 / (1 - momentum)^2.
    Bijective on the restriction k_p != 0 (PID side), i.e. nu != 0 and momentum in (0, 1)
    (QHM side): ``from_pid(**to_pid(*q)) == q`` and ``to_pid(**from_pid(*g)) == g`` up to rounding.

    >>> from stochopt import qh
    >>> gains = qh.to_pid(lr=1.0, momentum=0.5, nu=0.5)
    >>> gains
    {'k_p': -0.5, 'k_i': 1.0, 'k_d': 0.5}
    >>> qh.from_pid(**gains)
    {'lr': 1.0, 'momentum': 0.5, 'nu': 0.5}
    """
    lr, beta, nu = _common(_real("lr", lr, POSITIVE), _real("momentum", momentum, UNIT_OPEN), _real("nu", nu))
    _require(nu != 0, "nu must be nonzero: nu = 0 is SGD, which every k_d maps to (to_pid is not defined there)")
    ratio = beta / (1 - beta)
    return {"k_p": _out(-nu * lr * ratio), "k_i": _out(lr), "k_d": _out(nu * lr * ratio * ratio)}


# ------------------------------------------------------------------ synthesized Nesterov
def from_synthesized_nesterov(alpha, beta1, beta2):
    """QHM hyperparameters of synthesized Nesterov (Lessard, Recht & Packard 2016, Sec. 6 form).

    lr = alpha / (1 - beta1), momentum = beta1, nu = 1 - beta2 (1 - beta1) / beta1.

    Target: xi_{t+1} = xi_t + beta1 (xi_t - xi_{t-1}) - alpha grad(y_t),
    y_t = xi_t + beta2 (xi_t - xi_{t-1}), xi_0 = xi_{-1} = x_0.
    Matching sequence: QHM's x_t equals the gradient point y_t (``state.x`` of
    ``stochopt.qh.synthesized_nesterov``), not xi_t.

    Accepted: alpha > 0, beta1 in (0, 1) (0 and 1 are singular), beta2 any real.

    >>> from stochopt import qh
    >>> qh.from_synthesized_nesterov(alpha=0.5, beta1=0.5, beta2=0.5)
    {'lr': 1.0, 'momentum': 0.5, 'nu': 0.5}
    """
    alpha, beta1, beta2 = _common(_real("alpha", alpha, POSITIVE), _real("beta1", beta1, UNIT_OPEN),
                                  _real("beta2", beta2))
    return {"lr": _out(alpha / (1 - beta1)), "momentum": _out(beta1),
            "nu": _out(1 - beta2 * (1 - beta1) / beta1)}


def to_synthesized_nesterov(lr, momentum, nu):
    """Inverse of ``from_synthesized_nesterov`` (bijective for momentum in (0, 1)).

    alpha = lr (1 - momentum), beta1 = momentum, beta2 = (1 - nu) momentum / (1 - momentum).

    >>> from stochopt import qh
    >>> qh.to_synthesized_nesterov(lr=1.0, momentum=0.5, nu=0.5)
    {'alpha': 0.5, 'beta1': 0.5, 'beta2': 0.5}
    """
    lr, beta, nu = _common(_real("lr", lr, POSITIVE), _real("momentum", momentum, UNIT_OPEN), _real("nu", nu))
    return {"alpha": _out(lr * (1 - beta)), "beta1": _out(beta),
            "beta2": _out((1 - nu) * beta / (1 - beta))}


# ------------------------------------------------------- Robust Momentum / Triple Momentum
def robust_momentum_coefficients(l, kappa, rho=None):
    """Robust Momentum's (a, b, c) (Cyrus et al. 2018): rho = None is Triple Momentum.

    a = kappa (1 - rho)^2 (1 + rho) / l, b = kappa rho^3 / (kappa - 1),
    c = rho^3 / ((kappa - 1)(1 - rho)^2 (1 + rho)); rho = None means rho = 1 - 1/sqrt(kappa).

    Accepted: l > 0 (the gradient's Lipschitz constant L), kappa = L / mu > 1, and rho in
    Cyrus et al.'s range [1 - 1/sqrt(kappa), 1 - 1/kappa] (tolerance 1e-12).

    >>> from stochopt import qh
    >>> qh.robust_momentum_coefficients(l=1.0, kappa=4.0)   # rho = 0.5
    {'a': 1.5, 'b': 0.16666666666666666, 'c': 0.1111111111111111, 'rho': 0.5}
    """
    l, kappa = _common(_real("l", l, POSITIVE), _real("kappa", kappa, ABOVE_ONE))
    if rho is None:
        rho = 1.0 - 1.0 / np.sqrt(kappa)
    else:
        rho = _real("rho", rho, UNIT_OPEN)
        l, kappa, rho = _common(l, kappa, rho)
        low, high = 1 - 1 / np.sqrt(kappa), 1 - 1 / kappa
        _require((rho >= low - 1e-12) & (rho <= high + 1e-12),
                 "rho must be in [1 - 1/sqrt(kappa), 1 - 1/kappa] (Cyrus et al. 2018); got "
                 f"rho = {np.asarray(rho).tolist()} for kappa = {np.asarray(kappa).tolist()}")
    rho = np.asarray(rho, dtype=np.float64)
    a = kappa * (1 - rho) ** 2 * (1 + rho) / l
    b = kappa * rho ** 3 / (kappa - 1)
    c = rho ** 3 / ((kappa - 1) * (1 - rho) ** 2 * (1 + rho))
    return {"a": _out(a), "b": _out(b), "c": _out(c), "rho": _out(rho)}


def from_robust_momentum(l, kappa, rho=None):
    """QHM hyperparameters of Robust Momentum (Cyrus et al. 2018), or Triple Momentum when rho=None.

    ``from_synthesized_nesterov(a, b, c)`` with (a, b, c) from ``robust_momentum_coefficients``.
    Target: x_{k+1} = x_k + b (x_k - x_{k-1}) - a grad(y_k), y_k = x_k + c (x_k - x_{k-1}),
    x_0 = x_{-1}. Matching sequence: QHM's iterate equals the gradient point y_k
    (``state.x`` of ``robust_momentum`` / ``triple_momentum``), not x_k.

    >>> from stochopt import qh
    >>> {key: round(v, 6) for key, v in qh.from_robust_momentum(l=1.0, kappa=4.0).items()}
    {'lr': 1.8, 'momentum': 0.166667, 'nu': 0.444444}
    """
    coeffs = robust_momentum_coefficients(l, kappa, rho)
    return from_synthesized_nesterov(coeffs["a"], coeffs["b"], coeffs["c"])


# ----------------------------------------------------------------------------- AccSGD
def from_accsgd(delta, kappa, xi, eps=0.7):
    """QHM hyperparameters of AccSGD (Kidambi, Netrapalli, Jain & Kakade, ICLR 2018).

    lr = delta eps (1 + xi) / (1 + eps), nu = (eps xi - 1) / (eps (1 + xi)),
    momentum = (kappa - eps^2 xi) / (kappa + eps xi).

    Target (``stochopt.qh.accsgd``): A = 1 - eps^2 xi / kappa, zeta = eps / (eps + 1 - A),
    wbar_{t+1} = A wbar_t + (1 - A)(w_t - (kappa delta / eps) grad_t),
    w_{t+1} = zeta (w_t - delta grad_t) + (1 - zeta) wbar_{t+1}, wbar_0 = w_0 = x_0.
    Matching sequence: QHM's x_t equals w_t (the gradient point).

    Accepted: delta > 0, kappa > 1, 0 < xi <= sqrt(kappa), eps in (0, 1). On this region
    momentum > nu always (momentum - nu = (1 + eps)(kappa - eps^2 xi^2 + eps xi (1 - eps))
    / (eps (1 + xi)(kappa + eps xi)) > 0).

    >>> from stochopt import qh
    >>> {key: round(v, 6) for key, v in qh.from_accsgd(delta=0.1, kappa=1000.0, xi=10.0).items()}
    {'lr': 0.452941, 'momentum': 0.988183, 'nu': 0.779221}
    """
    delta, kappa, xi, eps = _common(_real("delta", delta, POSITIVE), _real("kappa", kappa, ABOVE_ONE),
                                    _real("xi", xi, POSITIVE), _real("eps", eps, UNIT_OPEN))
    _require(xi <= np.sqrt(kappa), f"xi must be in (0, sqrt(kappa)]; got xi = {np.asarray(xi).tolist()} "
             f"for kappa = {np.asarray(kappa).tolist()}")
    return {"lr": _out(delta * eps * (1 + xi) / (1 + eps)),
            "momentum": _out((kappa - eps * eps * xi) / (kappa + eps * xi)),
            "nu": _out((eps * xi - 1) / (eps * (1 + xi)))}


# ------------------------------------------------------------------ two-state optimizer
def from_two_state_optimizer(h, k, l, m, q, z, *, tol=1e-9):
    """QHM hyperparameters of a two-state optimizer (TSO), by matching transfer functions.

    TSO: a_{t+1} = h a_t + k x_t + l grad_t, x_{t+1} = m a_t + q x_t + z grad_t (grad at x_t).
    Its transfer function from grad to x is (z s + m l - z h) / (s^2 - (h + q) s + h q - k m)
    (s the shift variable); QHM's is -lr ((1 - nu momentum) s - (1 - nu) momentum) / ((s - 1)(s - momentum)).
    They agree if and only if the TSO has a unit eigenvalue, (1 - h)(1 - q) = k m, and then

        momentum = h + q - 1                      (the other eigenvalue)
        lr       = -(z (1 - h) + m l) / (1 - momentum)
        nu       = (lr + z) / (lr momentum)       (nu = 0 when momentum = 0: SGD)

    Matching sequence: x_t of ``stochopt.qh.two_state`` started on its invariant line
    (a_0 = k x_0 / (1 - h); a_0 = 0 when k = 0) equals QHM's x_t.

    qhoptim's formula agrees with this one only in the narrow case q = 1, k = 0.

    Raises ``ValueError`` when QHM cannot represent the TSO: no unit eigenvalue (within
    ``tol`` relative), a double unit eigenvalue or other eigenvalue outside [0, 1) (QHM's
    momentum range), lr <= 0 (the integrator cancels, or the TSO ascends), or momentum = 0
    with m l != z h.

    >>> from stochopt import qh
    >>> tso = dict(h=0.9, k=0.0, l=0.1, m=-0.09, q=1.0, z=-0.01)    # qhoptim's example: momentum
    >>> {key: round(v, 12) for key, v in qh.from_two_state_optimizer(**tso).items()}
    {'lr': 0.1, 'momentum': 0.9, 'nu': 1.0}
    """
    names = ("h", "k", "l", "m", "q", "z")
    h, k, l, m, q, z = _common(*(_real(n, v) for n, v in zip(names, (h, k, l, m, q, z))))
    tol = check_real("tol", tol, POSITIVE, allow_array=False)
    gap = (1 - h) * (1 - q) - k * m
    scale = np.maximum(1.0, np.maximum(np.abs((1 - h) * (1 - q)), np.abs(k * m)))
    _require(np.abs(gap) <= tol * scale,
             "the two-state optimizer has no unit eigenvalue: (1 - h)(1 - q) - k m = "
             f"{np.asarray(gap).tolist()} must be 0. QHM's transfer function has a pole at 1 (it "
             "integrates the gradient); a TSO without one cannot be represented (h, k, m, q)")
    beta = h + q - 1
    _require((beta >= 0) & (beta < 1),
             f"the TSO's other eigenvalue h + q - 1 = {np.asarray(beta).tolist()} must be in [0, 1) to be a QHM "
             "momentum (h, q)")
    lr = -(z * (1 - h) + m * l) / (1 - beta)
    _require(lr > 0, f"the QHM learning rate -(z (1 - h) + m l) / (2 - h - q) = {np.asarray(lr).tolist()} must be "
             "> 0 (0: the TSO's numerator cancels the integrator; < 0: it ascends) (z, m, l)")
    sgd = beta == 0
    _require(~sgd | (np.abs(m * l - z * h) <= tol * np.maximum(1.0, np.abs(z * h))),
             "with momentum h + q - 1 = 0 the TSO is SGD only when m l = z h (m, l, z, h)")
    with np.errstate(divide="ignore", invalid="ignore"):
        nu = np.where(sgd, 0.0, (lr + z) / np.where(sgd, 1.0, lr * beta))
    return {"lr": _out(lr), "momentum": _out(beta), "nu": _out(nu)}


def to_two_state(lr, momentum, nu, scale=1.0, shift=0.0):
    """A two-state optimizer equal to QHM(lr, momentum, nu): its coefficients (h, k, l, m, q, z).

    The TSO's first state is a = scale b + shift x (b QHM's momentum buffer), so every choice of
    scale != 0 and shift gives a TSO with the same x sequence (start it at a_0 = shift x_0, which
    is k x_0 / (1 - h)). ``scale=1, shift=0`` is the narrow case q = 1, k = 0.

    >>> from stochopt import qh
    >>> tso = qh.to_two_state(lr=1.0, momentum=0.5, nu=0.5, scale=2.0, shift=0.5)
    >>> tso
    {'h': 0.4375, 'k': 0.28125, 'l': 0.625, 'm': -0.125, 'q': 1.0625, 'z': -0.75}
    >>> qh.from_two_state_optimizer(**tso)
    {'lr': 1.0, 'momentum': 0.5, 'nu': 0.5}
    """
    lr, beta, nu, s, r = _common(_real("lr", lr, POSITIVE), _real("momentum", momentum, UNIT_HALF_OPEN),
                                 _real("nu", nu), _real("scale", scale), _real("shift", shift))
    _require(s != 0, "scale must be nonzero")
    h = beta * (1 - r * lr * nu / s)
    return {"h": _out(h), "k": _out(r * (1 - h)), "l": _out(s * (1 - beta) - r * lr * (1 - nu * beta)),
            "m": _out(-lr * nu * beta / s), "q": _out(1 + lr * nu * beta * r / s), "z": _out(-lr * (1 - nu * beta))}


# ------------------------------------------------------------------------------ NAdam
def from_nadam(lr=1e-3, betas=(0.9, 0.999)):
    """QHAdam hyperparameters approximating Dozat's NAdam: nus = (beta1, 1).

    Not an identity: QHAdam bias-corrects the momentum with 1 - beta1^t and leaves the current
    gradient uncorrected, where Dozat's constant-mu NAdam (``stochopt.qh.nadam_dozat``) uses
    1 - mu^(t+1) and 1 - mu^t. The step ratio tends to 1 geometrically (like mu^t); the first
    step differs by the factor (1 + 2 mu) / (1 + mu). It does not approximate
    ``torch.optim.NAdam``, whose momentum follows a warm-up schedule mu_t.

    >>> from stochopt import qh
    >>> qh.from_nadam(lr=1e-3, betas=(0.9, 0.999))
    {'lr': 0.001, 'betas': (0.9, 0.999), 'nus': (0.9, 1.0)}
    """
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), each in [0, 1); got {betas!r}")
    lr = _out(_real("lr", lr, POSITIVE))
    beta1 = _out(_real("betas[0]", betas[0], UNIT_HALF_OPEN))
    beta2 = _out(_real("betas[1]", betas[1], UNIT_HALF_OPEN))
    return {"lr": lr, "betas": (beta1, beta2), "nus": (beta1, 1.0)}
