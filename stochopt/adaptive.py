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
    UNIT_HALF_OPEN,
    Interval,
    check_choice,
    check_int,
    check_real,
    check_tuple,
)
from .base import Method, hyper
from .framework import _describe, _one_minus
from .terms import (
    adam_denominator,
    bias_correction,
    coupled_weight_decay,
    decoupled_weight_decay,
    ema,
    ema_lerp,
    proximal_weight_decay,
    unless_zero,
)

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
POLE_RANGE = Interval(0.0, 1.0, high_closed=False)
PAPER_BETA = Interval(0.0, 1.0, low_closed=False)                          # Adan's paper betas: (0, 1]


def _betas(betas, names=("beta1", "beta2")):
    return check_tuple("betas", betas, names)


# --------------------------------------------------------------------------- Adam, AdamW

def _adam_rule(x, buffers, g, h, k):
    """torch.optim.Adam's update (its order: step size lr / (1 - beta1^t), eps outside the root)."""
    t = k + 1
    m = ema_lerp(buffers["m"], g, h.beta1)
    v = ema(buffers["v"], g * g, h.beta2)
    step_size = h.lr / bias_correction(h.beta1, t)
    return x + (-step_size) * (m / adam_denominator(v, h.beta2, t, h.eps)), {"m": m, "v": v}


def _adam_hyper(lr, betas, eps, weight_decay):
    beta1, beta2 = _betas(betas)
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
    return Method("adam", unless_zero(coupled_weight_decay, weight_decay, _adam_rule), hp, {"m": None, "v": None},
                  config=_describe(lr=lr, betas=list(betas), eps=eps, weight_decay=weight_decay), momentum_buffer="m")


def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2) -> Method:
    """AdamW (Loshchilov & Hutter) exactly as torch.optim.AdamW: x <- (1 - lr lambda) x, then Adam.

    >>> import numpy as np, stochopt
    >>> opt = stochopt.adamw(lr=0.1, weight_decay=1.0)
    >>> opt.step(opt.init(np.array([1.0])), np.array([0.0])).x   # zero gradient: pure decay
    array([0.9])
    """
    hp = _adam_hyper(lr, betas, eps, weight_decay)
    return Method("adamw", unless_zero(decoupled_weight_decay, weight_decay, _adam_rule), hp, {"m": None, "v": None},
                  config=_describe(lr=lr, betas=list(betas), eps=eps, weight_decay=weight_decay), momentum_buffer="m")


# --------------------------------------------------------------------------- RMSprop

def _root_mean_square(buffers, g, h):
    """sqrt(v) + eps, v <- alpha v + (1 - alpha) g^2 (torch.optim.RMSprop)."""
    v = ema(buffers["v"], g * g, h.alpha)
    return np.sqrt(v) + h.eps, {"v": v}


def _centered_root_mean_square(buffers, g, h):
    """sqrt(v - mean^2) + eps, with the mean gradient as a second average (``centered=True``)."""
    v = ema(buffers["v"], g * g, h.alpha)
    mean = ema_lerp(buffers["mean"], g, h.alpha)
    return np.sqrt(v + (-1) * (mean * mean)) + h.eps, {"v": v, "mean": mean}


def _rmsprop_rule(average):
    def rule(x, buffers, g, h, k):
        avg, state = average(buffers, g, h)
        return x + (-h.lr) * (g / avg), state

    return rule


def _rmsprop_momentum_rule(average):
    def rule(x, buffers, g, h, k):
        avg, state = average(buffers, g, h)
        buf = buffers["buf"] * h.momentum + g / avg                  # buf <- momentum buf + g / avg
        return x + (-h.lr) * buf, {**state, "buf": buf}

    return rule


def _rmsprop_adam_rule(x, buffers, g, h, k):
    """Adam with beta1 = 0 (Malladi et al. 2022): v bias-corrected, x <- x - lr g / (sqrt(v_hat) + eps)."""
    v = ema(buffers["v"], g * g, h.alpha)
    return x + (-h.lr) * (g / adam_denominator(v, h.alpha, k + 1, h.eps)), {"v": v}


def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
            convention="torch", v0=0.0) -> Method:
    """RMSprop: v <- alpha v + (1 - alpha) g^2, x <- x - lr g / (sqrt(v) + eps).

    ``convention="torch"`` is torch.optim.RMSprop (no bias correction; ``momentum`` and
    ``centered`` as in torch). ``convention="adam"`` is the SDE paper's RMSprop (Malladi et al.
    2022 run Adam with beta1 = 0): v is bias-corrected, x <- x - lr g / (sqrt(v/(1-alpha^t)) + eps),
    which equals ``adam(betas=(0, alpha))``. ``alpha`` is the beta2 of the SDE paper. ``v0 >= 0``
    is the initial second moment (torch: 0); the SDE claims start at v0 = sigma^2 Sigma.
    Each variant is its own small rule; weight decay is coupled (torch's).

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
    use_momentum = not _is_zero(momentum)
    if convention == "adam" and (use_momentum or centered):
        raise ValueError("convention='adam' (Adam with beta1 = 0) has no momentum and is not centered; "
                         "use momentum=0 and centered=False, or convention='torch'")
    average = _centered_root_mean_square if centered else _root_mean_square
    rule = (_rmsprop_adam_rule if convention == "adam" else
            _rmsprop_momentum_rule(average) if use_momentum else _rmsprop_rule(average))
    buffers = {"v": None if np.all(np.asarray(v0) == 0) else _filled(v0)}
    buffers.update({"mean": None} if centered else {}, **({"buf": None} if use_momentum else {}))
    config = _describe(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                       centered=centered, convention=convention, v0=v0)
    return Method("rmsprop", unless_zero(coupled_weight_decay, weight_decay, rule), hp, buffers,
                  config=config, momentum_buffer="buf" if use_momentum else None)


def _is_zero(value):
    from .terms import is_constant_zero

    return is_constant_zero(value)


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

def _nadam_step(x, g, m, v, h, t, mu, mu_next, mu_product):
    """Dozat's Nesterov step in torch.optim.NAdam's order: g weighted (1 - mu_t)/(1 - prod mu),
    m weighted mu_{t+1}/(1 - prod mu * mu_{t+1}), both over sqrt(v_hat) + eps."""
    denom = np.sqrt(v / bias_correction(h.beta2, t)) + h.eps
    x = x + (-h.lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
    return x + (-h.lr * mu_next / (1.0 - mu_product * mu_next)) * (m / denom)


def _nadam_rule(x, buffers, g, h, k):
    """Dozat (2016): constant mu_t = beta1, so prod_{i<=t} mu_i = beta1^t."""
    t = k + 1
    m, v = ema_lerp(buffers["m"], g, h.beta1), ema(buffers["v"], g * g, h.beta2)
    return _nadam_step(x, g, m, v, h, t, h.beta1, h.beta1, h.beta1 ** t), {"m": m, "v": v}


def _torch_mu(h, t):
    return h.beta1 * (1.0 - 0.5 * (0.96 ** (t * h.momentum_decay)))       # mu_t = beta1 (1 - 0.5 0.96^(t psi))


def _nadam_torch_rule(x, buffers, g, h, k):
    """torch.optim.NAdam: the warm-up schedule mu_t, its running product kept in ``mu_product``."""
    t = k + 1
    mu, mu_next = _torch_mu(h, t), _torch_mu(h, t + 1)
    mu_product = buffers["mu_product"] * mu
    m, v = ema_lerp(buffers["m"], g, h.beta1), ema(buffers["v"], g * g, h.beta2)
    return _nadam_step(x, g, m, v, h, t, mu, mu_next, mu_product), {"m": m, "v": v, "mu_product": mu_product}


def nadam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=None) -> Method:
    """NAdam, Dozat's constant-mu form (default), or torch.optim.NAdam's mu_t schedule.

    Dozat (2016) with mu = beta1, t = k + 1::

        m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
        x <- x - lr [ (1 - mu) g / (1 - mu^t) + mu m / (1 - mu^{t+1}) ] / (sqrt(v / (1 - beta2^t)) + eps)

    torch.optim.NAdam differs: it replaces mu by the warm-up schedule
    mu_t = beta1 (1 - 0.5 * 0.96^(t psi)) with psi = ``momentum_decay`` (torch default 4e-3), so
    early steps use mu_t close to beta1 / 2 and the bias corrections use prod_i mu_i. Pass
    ``momentum_decay=4e-3`` to reproduce torch.optim.NAdam exactly (a second small rule; the
    product is kept in a buffer ``mu_product``).

    >>> import numpy as np, stochopt
    >>> opt = stochopt.nadam(lr=0.1)                 # first step: -lr (1 + mu/(1 + mu)) sign(g)
    >>> np.round(opt.step(opt.init(np.zeros(1)), np.array([3.0])).x, 6)
    array([-0.147368])
    """
    beta1, beta2 = _betas(betas)
    specs = dict(lr=(lr, POSITIVE), beta1=(beta1, UNIT_HALF_OPEN), beta2=(beta2, UNIT_HALF_OPEN),
                 eps=(eps, POSITIVE), weight_decay=(weight_decay, NONNEGATIVE))
    buffers, rule = {"m": None, "v": None}, _nadam_rule
    if momentum_decay is not None:
        specs["momentum_decay"] = (momentum_decay, NONNEGATIVE)
        buffers["mu_product"], rule = np.ones_like, _nadam_torch_rule
    config = _describe(lr=lr, betas=list(betas), eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay)
    return Method("nadam", unless_zero(coupled_weight_decay, weight_decay, rule), hyper(**specs), buffers,
                  config=config, momentum_buffer="m")


# --------------------------------------------------------------------------- Adan

def _adan_moments(buffers, g, h):
    """The paper's m_k, v_k, n_k (betas weight the new term; g_{k-1} is ``buffers["g_prev"]``)."""
    diff = g - buffers["g_prev"]                                       # g_k - g_{k-1}
    m = ema(buffers["m"], g, 1 - h.beta1)                               # m_k = (1 - b1) m + b1 g_k
    v = ema(buffers["v"], diff, 1 - h.beta2)                            # v_k = (1 - b2) v + b2 (g_k - g_{k-1})
    z = g + (1 - h.beta2) * diff                                       # g_k + (1 - b2)(g_k - g_{k-1})
    return m, v, ema(buffers["n"], z * z, 1 - h.beta3)                  # n_k = (1 - b3) n + b3 z^2


def _adan_paper_scales(n, h, t):
    """The paper's step: lr on m, lr (1 - b2) on v, over sqrt(n) + eps."""
    return h.lr, h.lr * (1 - h.beta2), np.sqrt(n) + h.eps


def _adan_corrected_scales(n, h, t):
    """The official code's step: each moment divided by its bias correction 1 - (1 - b)^t."""
    return (h.lr / bias_correction(1 - h.beta1, t), h.lr * (1 - h.beta2) / bias_correction(1 - h.beta2, t),
            adam_denominator(n, 1 - h.beta3, t, h.eps))


def _adan_rule(scales):
    def rule(x, buffers, g, h, k):
        m, v, n = _adan_moments(buffers, g, h)
        step_m, step_v, denom = scales(n, h, k + 1)
        x = x + (-step_m) * (m / denom)
        x = x + (-step_v) * (v / denom)                                # x - lr (m + (1 - b2) v)/(sqrt(n) + eps)
        return x, {"m": m, "v": v, "n": n, "g_prev": g.copy()}          # a copy: never the caller's array

    return rule


def _previous_gradient_is_first(rule):
    """g_{-1} = g_0 (the official code): the first gradient difference is 0."""
    def first(x, buffers, g, h, k):
        return rule(x, {**buffers, "g_prev": g} if k == 0 else buffers, g, h, k)

    return first


def _restarting(rule, every):
    """Every ``every`` steps the buffers return to zero and the step count t to 1 (official ``restart_opt``)."""
    def restarted(x, buffers, g, h, k):
        j = k % every
        if j == 0:
            buffers = {name: np.zeros_like(b) for name, b in buffers.items()}
        return rule(x, buffers, g, h, j)

    return restarted


def _adan_betas(betas, official):
    """The paper's betas (weights of the new term) from either convention, each validated under its name."""
    if betas is None:
        betas = (0.98, 0.92, 0.99) if official else (0.02, 0.08, 0.01)
    given = check_tuple("betas", betas, ("beta1", "beta2", "beta3"),
                        "each in [0, 1) (official convention)" if official else "each in (0, 1] (paper convention)")
    names = ("beta1", "beta2", "beta3")
    if official:                                                      # the official betas are 1 - the paper's
        return betas, tuple(_one_minus(n, b, UNIT_HALF_OPEN) for n, b in zip(names, given))
    return betas, given


def adan(lr=1e-3, betas=None, eps=1e-8, weight_decay=0.0, no_prox=False, convention="official",
         bias_correction=None, prev_grad=None, restart_every=None) -> Method:
    """Adan (Xie et al., arXiv 2208.06677), in the paper's or the official code's convention.

    Paper convention (betas weight the new term; defaults (0.02, 0.08, 0.01))::

        m_k = (1 - b1) m_{k-1} + b1 g_k
        v_k = (1 - b2) v_{k-1} + b2 (g_k - g_{k-1})
        n_k = (1 - b3) n_{k-1} + b3 [g_k + (1 - b2)(g_k - g_{k-1})]^2
        x_{k+1} = (1 + lr lambda)^{-1} [x_k - lr (m_k + (1 - b2) v_k) / (sqrt(n_k) + eps)]

    ``convention="official"`` (sail-sg/Adan ``adan.py``): betas are 1 - the paper's (defaults
    (0.98, 0.92, 0.99)), converted to the paper's by the factory (the rule is the paper's),
    bias corrections 1 - (1 - b_i)^t on m, v and n, and g_{-1} = g_0 at the first step.
    Defaults by convention: ``bias_correction`` True (official) / False (paper); ``prev_grad``
    "first" (official, g_{-1} = g_0) / "zero" (paper, g_{-1} = 0, under which the
    Nesterov-momentum-estimation identity is exact). ``no_prox=True`` decays as
    x <- (1 - lr lambda) x before the step instead of the proximal division.
    ``restart_every=N`` restarts every N steps (buffers, bias corrections and g_{-1} reset, as the
    official ``restart_opt`` does). The two conventions are the same method:
    ``adan(convention="paper", betas=b, bias_correction=True, prev_grad="first")`` equals
    ``adan(betas=1 - b)``. Each option is a rule piece, not a flag inside the rule.

    >>> import numpy as np, stochopt
    >>> opt = stochopt.adan(lr=0.1)
    >>> np.round(opt.step(opt.init(np.zeros(2)), np.array([2.0, -1.0])).x, 6)   # first step: -lr sign(g)
    array([-0.1,  0.1])
    """
    convention = check_choice("convention", convention, ["official", "paper"])
    official = convention == "official"
    betas, (b1, b2, b3) = _adan_betas(betas, official)
    hp = hyper(lr=(lr, POSITIVE), beta1=(b1, PAPER_BETA), beta2=(b2, PAPER_BETA), beta3=(b3, PAPER_BETA),
               eps=(eps, POSITIVE), weight_decay=(weight_decay, NONNEGATIVE))
    bias_correction = official if bias_correction is None else bias_correction
    for name, flag in (("bias_correction", bias_correction), ("no_prox", no_prox)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False{' or None' if name == 'bias_correction' else ''}; "
                            f"got {flag!r}")
    prev_grad = check_choice("prev_grad", prev_grad or ("first" if official else "zero"), ["first", "zero"])
    rule = _adan_rule(_adan_corrected_scales if bias_correction else _adan_paper_scales)
    rule = unless_zero(decoupled_weight_decay if no_prox else proximal_weight_decay, weight_decay, rule)
    rule = _previous_gradient_is_first(rule) if prev_grad == "first" else rule
    if restart_every is not None:
        rule = _restarting(rule, check_int("restart_every", restart_every, low=1))
    config = _describe(lr=lr, betas=list(betas), eps=eps, weight_decay=weight_decay, no_prox=no_prox,
                       convention=convention, bias_correction=bias_correction, prev_grad=prev_grad,
                       restart_every=restart_every)
    return Method("adan", rule, hp, {"m": None, "v": None, "n": None, "g_prev": None}, config=config,
                  momentum_buffer="m")


# --------------------------------------------------------------------------- state-space family, AdamSSM

def _pole_zero(v, w, w_prev, h):
    """The second section: v <- p v + K (w - zeta w_prev), K = (1 - p)/(1 - zeta) for unit DC gain."""
    return v * h.pole + (1 - h.pole) / (1 - h.zero) * (w - h.zero * w_prev)


def _adam_moments(buffers, g, h):
    """Adam's filters: m = EMA_beta1(g), v = EMA_beta2(g^2) (one pole beta2)."""
    m, v = ema(buffers["m"], g, h.beta1), ema(buffers["v"], g * g, h.beta2)
    return m, v, {"m": m, "v": v}


def _adabelief_moments(buffers, g, h):
    """AdaBelief (Zhuang et al. 2020): input (g - m)^2, eps added inside the state."""
    m = ema(buffers["m"], g, h.beta1)
    v = ema(buffers["v"], (g - m) * (g - m), h.beta2) + h.eps
    return m, v, {"m": m, "v": v}


def _adamssm_moments(buffers, g, h):
    """AdamSSM: the Adam EMA w of g^2, then the pole p and zero zeta (v)."""
    m, w = ema(buffers["m"], g, h.beta1), ema(buffers["w"], g * g, h.beta2)
    v = _pole_zero(buffers["v"], w, buffers["w"], h)
    return m, v, {"m": m, "w": w, "v": v}


def _ema_response(buffers, h):
    """The step response of the Adam filter, 1 - beta2^t, by the filter itself (buffer ``cv``)."""
    cv = ema(buffers["cv"], 1.0, h.beta2)
    return cv, {"cv": cv}


def _pole_zero_response(buffers, h):
    """The step response of AdamSSM's cascade (buffers ``cw``, ``cv``)."""
    cw = ema(buffers["cw"], 1.0, h.beta2)
    cv = _pole_zero(buffers["cv"], cw, buffers["cw"], h)
    return cv, {"cw": cw, "cv": cv}


def _ssm_corrected_rule(moments, response):
    """x <- x - lr m_hat / (sqrt(v_hat) + eps): m_hat = m / (1 - beta1^t), v_hat = v / step response."""
    def rule(x, buffers, g, h, k):
        m, v, state = moments(buffers, g, h)
        cv, response_state = response(buffers, h)
        return x + (-h.lr / bias_correction(h.beta1, k + 1)) * (m / (np.sqrt(v / cv) + h.eps)), \
            {**state, **response_state}

    return rule


def _ssm_uncorrected_rule(moments):
    def rule(x, buffers, g, h, k):
        m, v, state = moments(buffers, g, h)
        return x + (-h.lr) * (m / (np.sqrt(v) + h.eps)), state

    return rule


def _adagrad_rule(x, buffers, g, h, k):
    """AdaGrad: v = v + g^2 (a pole at 1), no first-moment filter (torch.optim.Adagrad, lr_decay = 0)."""
    v = buffers["v"] + g * g
    return x + (-h.lr) * (g / (np.sqrt(v) + h.eps)), {"v": v}


# form -> (moments, step response, buffers of the moments, buffers of the response)
_FORMS = {
    "adam": (_adam_moments, _ema_response, ("m", "v"), ("cv",)),
    "adabelief": (_adabelief_moments, _ema_response, ("m", "v"), ("cv",)),
    "adamssm": (_adamssm_moments, _pole_zero_response, ("m", "w", "v"), ("cw", "cv")),
}


def _first_value(hp):
    schedule = hp.schedule
    return np.asarray(schedule(0, np.arange(schedule.replicas or 1)) if schedule.random else schedule(0), float)


def _pole_zero_hyper(specs, pole, zero):
    """Validate pole and zero like any hyperparameter, then the filter's condition zeta <= max(p, beta2)."""
    hp = hyper(**specs, pole=(pole, POLE_RANGE), zero=(zero, ZERO_RANGE))
    z, p, b2 = _first_value(hp["zero"]), _first_value(hp["pole"]), _first_value(hp["beta2"])
    if np.any(z > np.maximum(p, b2)):
        raise ValueError(f"zero must be in (-1, max(pole, beta2)] so that the filter's impulse response is "
                         f"nonnegative (v >= 0); got zero={zero!r}, pole={pole!r}, beta2={specs['beta2'][0]!r} "
                         "(checked at k = 0 for schedules)")
    return hp


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
    1 - beta^t), kept in buffers (``cv``; AdamSSM also ``cw``); for AdamSSM this is our choice
    (see the docs). The factory picks the form's filters; each rule is one of two output maps.

    >>> import numpy as np
    >>> from stochopt.adaptive import state_space
    >>> opt = state_space("adagrad", lr=1.0)
    >>> s = opt.step(opt.init(np.zeros(1)), np.array([3.0]))
    >>> s = opt.step(s, np.array([4.0]))
    >>> np.round(s.x, 6)                       # -1 - 4/5
    array([-1.8])
    """
    form = check_choice("form", form, ["adagrad", "adam", "adabelief", "adamssm"])
    beta1, beta2 = _betas(betas)
    specs = dict(lr=(lr, POSITIVE), beta1=(beta1, UNIT_HALF_OPEN), beta2=(beta2, UNIT_HALF_OPEN),
                 eps=(eps, POSITIVE), weight_decay=(weight_decay, NONNEGATIVE))
    hp = _pole_zero_hyper(specs, pole, zero) if form == "adamssm" else hyper(**specs)
    if not isinstance(bias_correction, bool):
        raise TypeError(f"bias_correction must be True or False; got {bias_correction!r}")
    if form == "adagrad":
        rule, names, bias_correction = _adagrad_rule, ("v",), False
    else:
        moments, response, names, response_names = _FORMS[form]
        rule = _ssm_corrected_rule(moments, response) if bias_correction else _ssm_uncorrected_rule(moments)
        names = names + (response_names if bias_correction else ())
    config = _describe(form=form, lr=lr, betas=list(betas), eps=eps, weight_decay=weight_decay, pole=pole,
                       zero=zero, bias_correction=bias_correction)
    return Method("adamssm" if form == "adamssm" else f"ssm_{form}", unless_zero(coupled_weight_decay, weight_decay,
                  rule), hp, dict.fromkeys(names), config=config, momentum_buffer="m" if form != "adagrad" else None)


def adamssm(lr=1e-3, betas=(0.9, 0.999), pole=0.9, zero=0.8, eps=1e-8, weight_decay=0.0,
            bias_correction=True) -> Method:
    """AdamSSM: Adam with a pole ``pole`` = p and a zero ``zero`` = zeta on the second-moment filter.

    H(z) = K (1 - zeta z^-1) / ((1 - beta2 z^-1)(1 - p z^-1)) with unit DC gain; zeta = p is Adam.
    Accepted ranges: p in [0, 1) (stability), zeta in (-1, max(p, beta2)] (v >= 0). Every
    hyperparameter is accepted as adam accepts it (a float, an (R,) array or a Schedule; the
    condition on zeta is checked at k = 0). The defaults p = 0.9, zeta = 0.8 are ours: the
    paper's recommended values could not be confirmed.

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
    norm = np.sqrt((g * g).sum(axis=-1, keepdims=True))
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
