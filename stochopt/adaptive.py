"""Adaptive methods: Adam, AdamW, RMSprop, NAdam, Adan, AdamSSM (state-space family), delta-GClip.

Each method is one pure update rule ``rule(x, buffers, g, h, k)`` (k = steps already taken, so
the bias corrections use t = k + 1). The formulas follow the named peer line by line, in the
same algebraic order where that matters for agreement at 1e-12 in float64:

| method        | update (t = k + 1)                                                         | peer                       |
|---------------|----------------------------------------------------------------------------|----------------------------|
| adam          | m <- m + (1-b1)(g-m); v <- b2 v + (1-b2) g^2; x -= lr/(1-b1^t) m/(sqrt(v)/sqrt(1-b2^t)+eps) | torch.optim.Adam |
| adamw         | x <- (1 - lr lambda) x, then the Adam step                                  | torch.optim.AdamW          |
| rmsprop       | v <- a v + (1-a) g^2; x -= lr g/(sqrt(v)+eps)  (``convention="torch"``)     | torch.optim.RMSprop        |
|               | x -= lr g/(sqrt(v)/sqrt(1-a^t)+eps)           (``convention="adam"``)       | Adam with beta1 = 0        |
| nadam         | Dozat's constant mu = b1 (``momentum_decay=None``), or torch's mu_t schedule | Dozat 2016 / torch NAdam   |
| adan          | paper (betas weight the new term) or official code (betas = 1 - paper's)   | Xie et al. / sail-sg/Adan  |
| adamssm       | Adam with second-moment filter K(1-zeta/z)/((1-b2/z)(1-p/z))               | Chakrabarti & Chopra       |
| delta_gclip   | x -= h g,  h = lr min(1, max(delta, gamma/||g||))                          | Tucat, Mukherjee et al.    |

>>> import numpy as np, stochopt
>>> opt = stochopt.adam(lr=0.1)
>>> s = opt.step(opt.init(np.zeros((2, 3))), np.ones((2, 3)))
>>> np.round(s.x, 6)                      # the first Adam step is -lr sign(g) (up to eps)
array([[-0.1, -0.1, -0.1],
       [-0.1, -0.1, -0.1]])
"""
from __future__ import annotations

import numpy as np

from ._checks import (
    NONNEGATIVE,
    POSITIVE,
    REAL,
    UNIT_HALF_OPEN,
    Interval,
    check_choice,
    check_int,
    check_real,
)
from .base import Method, hyper
from .framework import _describe

__all__ = [
    "adam",
    "adamw",
    "rmsprop",
    "nadam",
    "adan",
    "adamssm",
    "state_space",
    "delta_gclip",
    "gclip",
    "gclip_factor",
    "adamssm_impulse_response",
]

OPEN_UNIT_DISC = Interval(-1.0, 1.0, low_closed=False, high_closed=False)  # |p| < 1: a stable pole
ZERO_RANGE = Interval(-1.0, 1.0, low_closed=False, high_closed=False)      # zeta < 1: finite DC gain


def _pair(name, value, size):
    if not isinstance(value, (tuple, list)) or len(value) != size:
        raise ValueError(f"{name} must be a tuple of {size} coefficients, each in [0, 1); got {value!r}")
    return tuple(value)


def _lerp(start, end, weight):
    """torch.lerp's formula (ATen): exact at weight 0 and 1, same rounding as torch.optim."""
    return np.where(np.abs(weight) < 0.5, start + weight * (end - start), end - (end - start) * (1 - weight))


# --------------------------------------------------------------------------- Adam, AdamW

def _adam_rule(decoupled: bool):
    def rule(x, buffers, g, h, k):
        t = k + 1
        if decoupled:
            x = x * (1 - h.lr * h.weight_decay)            # AdamW: decay the old x
        else:
            g = g + h.weight_decay * x                     # Adam: L2 penalty in the gradient
        m = _lerp(buffers["m"], g, 1 - h.beta1)
        v = buffers["v"] * h.beta2 + (1 - h.beta2) * (g * g)
        bias_correction1 = 1 - h.beta1 ** t
        bias_correction2 = 1 - h.beta2 ** t
        step_size = h.lr / bias_correction1
        denom = np.sqrt(v) / bias_correction2 ** 0.5 + h.eps
        return x + (-step_size) * (m / denom), {"m": m, "v": v}

    return rule


def _adam_hyper(lr, betas, eps, weight_decay):
    beta1, beta2 = _pair("betas", betas, 2)
    return hyper(lr=(lr, POSITIVE), beta1=(beta1, UNIT_HALF_OPEN), beta2=(beta2, UNIT_HALF_OPEN),
                 eps=(eps, POSITIVE), weight_decay=(weight_decay, NONNEGATIVE))


def adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0) -> Method:
    """Adam (Kingma & Ba) exactly as torch.optim.Adam: bias-corrected moments, coupled L2 decay.

    Parameters: lr > 0; betas = (beta1, beta2), each in [0, 1); eps > 0; weight_decay >= 0
    (added to the gradient, as torch.optim.Adam does). Each may be a float, an (R,) array or a
    Schedule.

    >>> import numpy as np, stochopt
    >>> opt = stochopt.adam(lr=np.array([0.1, 0.2]), betas=(0.9, 0.99))
    >>> s = opt.step(opt.init(np.zeros(1)), np.array([[2.0], [-3.0]]))
    >>> np.round(s.x, 6)
    array([[-0.1],
           [ 0.2]])
    """
    hp = _adam_hyper(lr, betas, eps, weight_decay)
    return Method("adam", _adam_rule(False), hp, {"m": None, "v": None},
                  config=_describe(lr=lr, betas=list(betas), eps=eps, weight_decay=weight_decay), momentum_buffer="m")


def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2) -> Method:
    """AdamW (Loshchilov & Hutter) exactly as torch.optim.AdamW: x <- (1 - lr lambda) x, then Adam.

    >>> import numpy as np, stochopt
    >>> opt = stochopt.adamw(lr=0.1, weight_decay=1.0)
    >>> opt.step(opt.init(np.array([1.0])), np.array([0.0])).x   # zero gradient: pure decay
    array([0.9])
    """
    hp = _adam_hyper(lr, betas, eps, weight_decay)
    return Method("adamw", _adam_rule(True), hp, {"m": None, "v": None},
                  config=_describe(lr=lr, betas=list(betas), eps=eps, weight_decay=weight_decay), momentum_buffer="m")


# --------------------------------------------------------------------------- RMSprop

def _rmsprop_rule(bias_corrected: bool, momentum: bool, centered: bool):
    def rule(x, buffers, g, h, k):
        g = g + h.weight_decay * x
        v = buffers["v"] * h.alpha + (1 - h.alpha) * (g * g)
        out = {"v": v}
        if centered:
            mean = _lerp(buffers["mean"], g, 1 - h.alpha)
            out["mean"] = mean
            avg = np.sqrt(v + (-1) * (mean * mean))
        else:
            avg = np.sqrt(v)
        if bias_corrected:
            avg = avg / (1 - h.alpha ** (k + 1)) ** 0.5       # v_hat = v / (1 - alpha^t)
        avg = avg + h.eps
        if momentum:
            buf = buffers["buf"] * h.momentum + g / avg
            out["buf"] = buf
            return x + (-h.lr) * buf, out
        return x + (-h.lr) * (g / avg), out

    return rule


def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
            convention="torch", v0=0.0) -> Method:
    """RMSprop: v <- alpha v + (1 - alpha) g^2, x <- x - lr g / (sqrt(v) + eps).

    ``convention="torch"`` is torch.optim.RMSprop (no bias correction; ``momentum`` and
    ``centered`` as in torch). ``convention="adam"`` is the SDE paper's RMSprop (Malladi et al.
    2022 run Adam with beta1 = 0): v is bias-corrected, x <- x - lr g / (sqrt(v/(1-alpha^t)) + eps),
    which equals ``adam(betas=(0, alpha))``. ``alpha`` is the beta2 of the SDE paper. ``v0 >= 0``
    is the initial second moment (torch: 0); the SDE claims start at v0 = sigma^2 Sigma.

    >>> import numpy as np, stochopt
    >>> opt = stochopt.rmsprop(lr=0.1, alpha=0.75)
    >>> opt.step(opt.init(np.zeros(1)), np.array([1.0])).x         # v = 0.25: step 0.1 / 0.5
    array([-0.2])
    >>> opt = stochopt.rmsprop(lr=0.1, alpha=0.75, convention="adam")
    >>> np.round(opt.step(opt.init(np.zeros(1)), np.array([1.0])).x, 6)
    array([-0.1])
    """
    convention = check_choice("convention", convention, ["torch", "adam"])
    if not isinstance(centered, bool):
        raise TypeError(f"centered must be True or False; got {centered!r}")
    hp = hyper(lr=(lr, POSITIVE), alpha=(alpha, UNIT_HALF_OPEN), eps=(eps, POSITIVE),
               weight_decay=(weight_decay, NONNEGATIVE), momentum=(momentum, UNIT_HALF_OPEN))
    v0 = check_real("v0", v0, NONNEGATIVE)
    use_momentum = np.any(np.asarray(momentum) != 0) if not hasattr(momentum, "__call__") else True
    if convention == "adam" and (use_momentum or centered):
        raise ValueError("convention='adam' (Adam with beta1 = 0) has no momentum and is not centered; "
                         "use momentum=0 and centered=False, or convention='torch'")
    buffers = {"v": None if np.all(np.asarray(v0) == 0) else _filled(v0)}
    if centered:
        buffers["mean"] = None
    if use_momentum:
        buffers["buf"] = None
    config = _describe(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                       centered=centered, convention=convention, v0=v0)
    return Method("rmsprop", _rmsprop_rule(convention == "adam", bool(use_momentum), centered), hp, buffers,
                  config=config, momentum_buffer="buf" if use_momentum else None)


def _filled(value):
    def init(x0):
        v = np.asarray(value, dtype=x0.dtype)
        if v.ndim == 1:
            if x0.ndim != 2 or x0.shape[0] != v.shape[0]:
                raise ValueError(f"v0 has per-replica values of shape {v.shape}; x0 has shape {x0.shape}")
            v = v[:, None]
        return np.broadcast_to(v, x0.shape).copy()

    return init


# --------------------------------------------------------------------------- NAdam

def _mu(h, t):
    # torch.optim.NAdam: mu_t = beta1 (1 - 0.5 * 0.96^(t psi)); Dozat's constant form: mu_t = beta1
    if h.momentum_decay is None:
        return h.beta1
    return h.beta1 * (1.0 - 0.5 * (0.96 ** (t * h.momentum_decay)))


def _nadam_rule(scheduled: bool):
    def rule(x, buffers, g, h, k):
        t = k + 1
        g = g + h.weight_decay * x
        ns = h if scheduled else _ConstantMu(h)
        mu, mu_next = _mu(ns, t), _mu(ns, t + 1)
        if scheduled:
            mu_product = buffers["mu_product"] * mu
        else:
            mu_product = h.beta1 ** t                      # prod_{i<=t} mu_i with mu_i = beta1
        mu_product_next = mu_product * mu_next
        m = _lerp(buffers["m"], g, 1 - h.beta1)
        v = buffers["v"] * h.beta2 + (1 - h.beta2) * (g * g)
        denom = np.sqrt(v / (1 - h.beta2 ** t)) + h.eps
        x = x + (-h.lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
        x = x + (-h.lr * mu_next / (1.0 - mu_product_next)) * (m / denom)
        out = {"m": m, "v": v}
        if scheduled:
            out["mu_product"] = np.broadcast_to(mu_product, x.shape).copy()
        return x, out

    return rule


class _ConstantMu:
    def __init__(self, h):
        self.beta1, self.momentum_decay = h.beta1, None


def nadam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=None) -> Method:
    """NAdam, Dozat's constant-mu form (default), or torch.optim.NAdam's mu_t schedule.

    Dozat (2016) with mu = beta1, t = k + 1::

        m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
        x <- x - lr [ (1 - mu) g / (1 - mu^t) + mu m / (1 - mu^{t+1}) ] / (sqrt(v / (1 - beta2^t)) + eps)

    torch.optim.NAdam differs: it replaces mu by the warm-up schedule
    mu_t = beta1 (1 - 0.5 * 0.96^(t psi)) with psi = ``momentum_decay`` (torch default 4e-3), so
    early steps use mu_t close to beta1 / 2 and the bias corrections use prod_i mu_i. Pass
    ``momentum_decay=4e-3`` to reproduce torch.optim.NAdam exactly (the product is then kept in a
    buffer ``mu_product``).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.nadam(lr=0.1)                 # first step: -lr (1 + mu/(1 + mu)) sign(g)
    >>> np.round(opt.step(opt.init(np.zeros(1)), np.array([3.0])).x, 6)
    array([-0.147368])
    """
    beta1, beta2 = _pair("betas", betas, 2)
    specs = dict(lr=(lr, POSITIVE), beta1=(beta1, UNIT_HALF_OPEN), beta2=(beta2, UNIT_HALF_OPEN),
                 eps=(eps, POSITIVE), weight_decay=(weight_decay, NONNEGATIVE))
    scheduled = momentum_decay is not None
    if scheduled:
        specs["momentum_decay"] = (momentum_decay, NONNEGATIVE)
    hp = hyper(**specs)
    buffers = {"m": None, "v": None}
    if scheduled:
        buffers["mu_product"] = np.ones_like
    config = _describe(lr=lr, betas=list(betas), eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay)
    return Method("nadam", _nadam_rule(scheduled), hp, buffers, config=config, momentum_buffer="m")


# --------------------------------------------------------------------------- Adan

def _adan_rule(official: bool, bias_correction: bool, first_grad: bool, no_prox: bool, restart_every):
    def rule(x, buffers, g, h, k):
        # w_i: weight of the new term (paper's beta_i; official code's 1 - beta_i)
        if official:
            keep1, keep2, keep3 = h.beta1, h.beta2, h.beta3
            w1, w2, w3 = 1 - h.beta1, 1 - h.beta2, 1 - h.beta3
        else:
            w1, w2, w3 = h.beta1, h.beta2, h.beta3
            keep1, keep2, keep3 = 1 - h.beta1, 1 - h.beta2, 1 - h.beta3
        j = k if restart_every is None else k % restart_every      # steps since the last (re)start
        if j == 0:
            m, v, n = (np.zeros_like(x),) * 3
            g_prev = g if first_grad else np.zeros_like(g)        # official: g_{-1} = g_0
        else:
            m, v, n, g_prev = buffers["m"], buffers["v"], buffers["n"], buffers["g_prev"]
        diff = g - g_prev
        m = m * keep1 + g * w1                                    # m_k
        v = v * keep2 + diff * w2                                 # v_k (EMA of gradient differences)
        z = diff * keep2 + g                                      # g_k + (1 - b2)(g_k - g_{k-1})
        n = n * keep3 + w3 * (z * z)                              # n_k
        t = j + 1
        if bias_correction:
            denom = np.sqrt(n) / (1.0 - keep3 ** t) ** 0.5 + h.eps
            step_m, step_v = h.lr / (1.0 - keep1 ** t), h.lr * keep2 / (1.0 - keep2 ** t)
        else:
            denom = np.sqrt(n) + h.eps
            step_m, step_v = h.lr, h.lr * keep2
        if no_prox:
            x = x * (1 - h.lr * h.weight_decay)
            x = x + (-step_m) * (m / denom)
            x = x + (-step_v) * (v / denom)
        else:
            x = x + (-step_m) * (m / denom)
            x = x + (-step_v) * (v / denom)
            x = x / (1 + h.lr * h.weight_decay)                   # proximal weight decay
        return x, {"m": m, "v": v, "n": n, "g_prev": g}

    return rule


def adan(lr=1e-3, betas=None, eps=1e-8, weight_decay=0.0, no_prox=False, convention="official",
         bias_correction=None, prev_grad=None, restart_every=None) -> Method:
    """Adan (Xie et al., arXiv 2208.06677), in the paper's or the official code's convention.

    Paper convention (betas weight the new term; defaults (0.02, 0.08, 0.01))::

        m_k = (1 - b1) m_{k-1} + b1 g_k
        v_k = (1 - b2) v_{k-1} + b2 (g_k - g_{k-1})
        n_k = (1 - b3) n_{k-1} + b3 [g_k + (1 - b2)(g_k - g_{k-1})]^2
        x_{k+1} = (1 + lr lambda)^{-1} [x_k - lr (m_k + (1 - b2) v_k) / (sqrt(n_k) + eps)]

    ``convention="official"`` (sail-sg/Adan ``adan.py``): betas are 1 - the paper's (defaults
    (0.98, 0.92, 0.99)), bias corrections 1 - beta_i^t on m, v and n, and g_{-1} = g_0 at the
    first step. Defaults by convention: ``bias_correction`` True (official) / False (paper);
    ``prev_grad`` "first" (official, g_{-1} = g_0) / "zero" (paper, g_{-1} = 0, under which the
    Nesterov-momentum-estimation identity is exact). ``no_prox=True`` decays as
    x <- (1 - lr lambda) x before the step instead of the proximal division.
    ``restart_every=N`` restarts every N steps (buffers, bias corrections and g_{-1} reset, as the
    official ``restart_opt`` does). The two conventions are the same method:
    ``adan(convention="paper", betas=b, bias_correction=True, prev_grad="first")`` equals
    ``adan(betas=1 - b)``.

    >>> import numpy as np, stochopt
    >>> opt = stochopt.adan(lr=0.1)
    >>> np.round(opt.step(opt.init(np.zeros(2)), np.array([2.0, -1.0])).x, 6)   # first step: -lr sign(g)
    array([-0.1,  0.1])
    """
    convention = check_choice("convention", convention, ["official", "paper"])
    official = convention == "official"
    if betas is None:
        betas = (0.98, 0.92, 0.99) if official else (0.02, 0.08, 0.01)
    b1, b2, b3 = _pair("betas", betas, 3)
    beta_range = UNIT_HALF_OPEN if official else Interval(0.0, 1.0, low_closed=False)
    hp = hyper(lr=(lr, POSITIVE), beta1=(b1, beta_range), beta2=(b2, beta_range), beta3=(b3, beta_range),
               eps=(eps, POSITIVE), weight_decay=(weight_decay, NONNEGATIVE))
    if bias_correction is None:
        bias_correction = official
    if not isinstance(bias_correction, bool):
        raise TypeError(f"bias_correction must be True, False or None; got {bias_correction!r}")
    if not isinstance(no_prox, bool):
        raise TypeError(f"no_prox must be True or False; got {no_prox!r}")
    prev_grad = check_choice("prev_grad", "first" if prev_grad is None and official else (prev_grad or "zero"),
                             ["first", "zero"])
    if restart_every is not None:
        restart_every = check_int("restart_every", restart_every, low=1)
    config = _describe(lr=lr, betas=list(betas), eps=eps, weight_decay=weight_decay, no_prox=no_prox,
                       convention=convention, bias_correction=bias_correction, prev_grad=prev_grad,
                       restart_every=restart_every)
    rule = _adan_rule(official, bias_correction, prev_grad == "first", no_prox, restart_every)
    return Method("adan", rule, hp, {"m": None, "v": None, "n": None, "g_prev": None}, config=config,
                  momentum_buffer="m")


# --------------------------------------------------------------------------- state-space family, AdamSSM

def _ssm_rule(form: str, bias_correction: bool):
    def rule(x, buffers, g, h, k):
        g = g + h.weight_decay * x
        if form == "adagrad":
            m = g                                              # no first-moment filter
            w = buffers["w"] + g * g                           # integrator: pole at 1
            v = w
            out = {"w": w, "v": v}
            # torch.optim.Adagrad with lr_decay = 0: x -= lr g / (sqrt(sum g^2) + eps)
            return x + (-h.lr) * (m / (np.sqrt(v) + h.eps)), {**out, "m": m}
        m = buffers["m"] * h.beta1 + (1 - h.beta1) * g        # first-moment state
        u = g * g if form != "adabelief" else (g - m) * (g - m)
        w = buffers["w"] * h.beta2 + (1 - h.beta2) * u        # stage 1: pole beta2
        if form == "adabelief":
            w = w + h.eps                                      # AdaBelief adds eps inside the state
        if form == "adamssm":
            gain = (1 - h.pole) / (1 - h.zero)                 # stage 2: pole p, zero zeta, unit DC gain
            v = buffers["v"] * h.pole + gain * (w - h.zero * buffers["w"])
        else:
            v = w
        out = {"m": m, "w": w, "v": v}
        if bias_correction:
            # step responses of the two filters (so that a constant g gives v_hat = g^2 exactly)
            c1 = 1 - h.beta1 ** (k + 1)
            cw = buffers["cw"] * h.beta2 + (1 - h.beta2)
            if form == "adamssm":
                cv = buffers["cv"] * h.pole + gain * (cw - h.zero * buffers["cw"])
            else:
                cv = cw
            out.update(cw=cw, cv=cv)
            return x + (-h.lr / c1) * (m / (np.sqrt(v / cv) + h.eps)), out
        return x + (-h.lr) * (m / (np.sqrt(v) + h.eps)), out

    return rule


def state_space(form, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, pole=None, zero=None,
                bias_correction=True) -> Method:
    """An adaptive method written as a linear state-space filter plus a static output map.

    Chakrabarti & Chopra (arXiv 2206.02034) model adaptive methods as filters from g (first
    moment m) and from g^2 (second moment v) followed by x <- x - lr m_hat / (sqrt(v_hat) + eps):

    - ``"adagrad"``: m = g, v = v + g^2 (a pole at 1), no bias correction; equals
      torch.optim.Adagrad with lr_decay = 0 and initial_accumulator_value = 0.
    - ``"adam"``: m = beta1 m + (1-beta1) g, v = beta2 v + (1-beta2) g^2; equals Adam.
    - ``"adabelief"``: input (g - m)^2 and s = beta2 s + (1-beta2)(g-m)^2 + eps (Zhuang et al. 2020).
    - ``"adamssm"``: Adam with an extra pole ``pole`` and zero ``zero`` on the second moment:
      H(z) = K (1 - zeta z^-1) / ((1 - beta2 z^-1)(1 - p z^-1)), K = (1 - beta2)(1 - p)/(1 - zeta),
      realised as the cascade w = beta2 w + (1-beta2) g^2, v = p v + K2 (w - zeta w_prev).

    Bias correction divides each moment by its filter's step response at t = k + 1 (for Adam
    1 - beta^t), kept in buffers ``cw``, ``cv``; for AdamSSM this is our choice (see the docs).

    >>> import numpy as np
    >>> from stochopt.adaptive import state_space
    >>> opt = state_space("adagrad", lr=1.0)
    >>> s = opt.step(opt.init(np.zeros(1)), np.array([3.0]))
    >>> s = opt.step(s, np.array([4.0]))
    >>> np.round(s.x, 6)                       # -1 - 4/5
    array([-1.8])
    """
    form = check_choice("form", form, ["adagrad", "adam", "adabelief", "adamssm"])
    beta1, beta2 = _pair("betas", betas, 2)
    specs = dict(lr=(lr, POSITIVE), beta1=(beta1, UNIT_HALF_OPEN), beta2=(beta2, UNIT_HALF_OPEN),
                 eps=(eps, POSITIVE), weight_decay=(weight_decay, NONNEGATIVE))
    buffers = {"m": None, "w": None, "v": None}
    if form == "adamssm":
        pole = check_real("pole", pole, Interval(0.0, 1.0, high_closed=False))
        zero = check_real("zero", zero, ZERO_RANGE)
        b2 = np.asarray(beta2, float)
        if np.any(np.asarray(zero) > np.maximum(np.asarray(pole), b2)):
            raise ValueError(f"zero must be in (-1, max(pole, beta2)] so that the filter's impulse response is "
                             f"nonnegative (v >= 0); got zero={zero!r}, pole={pole!r}, beta2={beta2!r}")
        specs.update(pole=(pole, Interval(0.0, 1.0, high_closed=False)), zero=(zero, ZERO_RANGE))
    hp = hyper(**specs)
    if not isinstance(bias_correction, bool):
        raise TypeError(f"bias_correction must be True or False; got {bias_correction!r}")
    bias_correction = bias_correction and form != "adagrad"
    if bias_correction:
        buffers.update(cw=None, cv=None)
    name = "adamssm" if form == "adamssm" else f"ssm_{form}"
    config = _describe(form=form, lr=lr, betas=list(betas), eps=eps, weight_decay=weight_decay, pole=pole,
                       zero=zero, bias_correction=bias_correction)
    return Method(name, _ssm_rule(form, bias_correction), hp, buffers, config=config, momentum_buffer="m")


def adamssm(lr=1e-3, betas=(0.9, 0.999), pole=0.9, zero=0.8, eps=1e-8, weight_decay=0.0,
            bias_correction=True) -> Method:
    """AdamSSM: Adam with a pole ``pole`` = p and a zero ``zero`` = zeta on the second-moment filter.

    H(z) = K (1 - zeta z^-1) / ((1 - beta2 z^-1)(1 - p z^-1)) with unit DC gain; zeta = p is Adam.
    Accepted ranges: p in [0, 1) (stability), zeta in (-1, max(p, beta2)] (v >= 0). The defaults
    p = 0.9, zeta = 0.8 are ours: the paper's recommended values could not be confirmed.

    >>> import numpy as np, stochopt
    >>> opt = stochopt.adamssm(lr=0.1, pole=0.5, zero=0.5)      # zeta = p: Adam
    >>> ref = stochopt.adam(lr=0.1)
    >>> g = np.array([1.0, -2.0])
    >>> bool(np.allclose(opt.step(opt.init(np.zeros(2)), g).x, ref.step(ref.init(np.zeros(2)), g).x, rtol=1e-12))
    True
    """
    return state_space("adamssm", lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, pole=pole, zero=zero,
                       bias_correction=bias_correction)


def adamssm_impulse_response(beta2, pole, zero, n):
    """Impulse response h_0..h_{n-1} of H(z) = K (1 - zeta/z) / ((1 - beta2/z)(1 - p/z)), K for unit DC gain.

    Closed form by partial fractions (with the double-pole limit when beta2 = p).

    >>> import numpy as np
    >>> h = adamssm_impulse_response(0.9, 0.5, 0.5, 3)      # zeta = p: (1 - beta2) beta2^j
    >>> np.round(h, 6)
    array([0.1  , 0.09 , 0.081])
    """
    beta2, pole, zero = float(beta2), float(pole), float(zero)
    n = check_int("n", n, low=1)
    j = np.arange(n, dtype=float)
    gain = (1 - beta2) * (1 - pole) / (1 - zero)
    if abs(beta2 - pole) > 1e-9:
        a = (beta2 - zero) / (beta2 - pole)
        b = (pole - zero) / (pole - beta2)
        return gain * (a * beta2 ** j + b * pole ** j)
    # double pole r: (1 - zeta/z)/(1 - r/z)^2 -> (j + 1) r^j - zeta j r^(j-1)
    r = beta2
    prev = np.where(j > 0, r ** np.maximum(j - 1, 0), 0.0)
    return gain * ((j + 1) * r ** j - zero * j * prev)


# --------------------------------------------------------------------------- delta-GClip

def gclip_factor(g, lr, gamma, delta):
    """h(x) = lr min(1, max(delta, gamma / ||g||)) with the global l2 norm over the last axis.

    Returns an array of shape g.shape[:-1] + (1,); at g = 0 the factor is lr (and the step 0).

    >>> import numpy as np
    >>> gclip_factor(np.array([[3.0, 4.0], [0.0, 0.0], [3e4, 4e4]]), 1.0, 0.1, 1e-3).ravel()
    array([0.02 , 1.   , 0.001])
    """
    norm = np.sqrt(np.sum(g * g, axis=-1, keepdims=True))
    ratio = np.divide(gamma, norm, out=np.full(norm.shape, np.inf, dtype=g.dtype), where=norm > 0)
    return lr * np.minimum(1.0, np.maximum(delta, ratio))


def _gclip_rule(x, buffers, g, h, k):
    step_factor = gclip_factor(g, h.lr, h.gamma, h.delta)
    return x - step_factor * g, {}


def delta_gclip(lr, gamma=0.1, delta=1e-3) -> Method:
    """delta-regularized gradient clipping (Tucat, Mukherjee et al., arXiv 2404.08624).

    x <- x - h(x) g,  h(x) = lr min(1, max(delta, gamma / ||g||)) with the global l2 norm of the
    replica's whole gradient; a zero gradient gives a zero step. h always lies in
    [lr delta, lr]. ``delta = 0`` is plain gradient clipping (``gclip``).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.delta_gclip(lr=1.0, gamma=1.0, delta=0.1)
    >>> opt.step(opt.init(np.zeros(2)), np.array([30.0, 40.0])).x     # h = max(0.1, 1/50) = 0.1
    array([-3., -4.])
    """
    hp = hyper(lr=(lr, POSITIVE), gamma=(gamma, POSITIVE), delta=(delta, Interval(0.0, 1.0)))
    return Method("delta_gclip", _gclip_rule, hp, {}, config=_describe(lr=lr, gamma=gamma, delta=delta))


def gclip(lr, gamma=0.1) -> Method:
    """Gradient clipping by global norm: x <- x - lr min(1, gamma/||g||) g (delta-GClip with delta = 0).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.gclip(lr=1.0, gamma=1.0)
    >>> opt.step(opt.init(np.zeros(2)), np.array([30.0, 40.0])).x
    array([-0.6, -0.8])
    """
    hp = hyper(lr=(lr, POSITIVE), gamma=(gamma, POSITIVE), delta=(0.0, Interval(0.0, 1.0)))
    return Method("gclip", _gclip_rule, hp, {}, config=_describe(lr=lr, gamma=gamma))
