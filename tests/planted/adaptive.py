"""Planted mistakes for the adaptive family: each row breaks one piece of a method or of the SDE tools
(by monkeypatching a factory or a function the claims call) and names the claim part that catches it."""
from __future__ import annotations

import numpy as np

import stochopt
from planted import Planted
from stochopt._checks import NONNEGATIVE, POSITIVE, UNIT_HALF_OPEN, Interval
from stochopt.base import Method, hyper


def _rmsprop_eps_inside_sqrt(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                             convention="torch", v0=0.0):
    """RMSprop (torch convention) with x <- x - lr g / sqrt(v + eps): eps moved inside the square root."""
    def rule(x, buffers, g, h, k):
        v = h.alpha * buffers["v"] + (1 - h.alpha) * g * g
        return x - h.lr * g / np.sqrt(v + h.eps), {"v": v}

    return Method("rmsprop", rule, hyper(lr=(lr, POSITIVE), alpha=(alpha, UNIT_HALF_OPEN), eps=(eps, POSITIVE)),
                  {"v": lambda x0: np.full_like(x0, v0)})


def _adam_eps_inside_sqrt(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """Adam with x <- x - lr m_hat / sqrt(v_hat + eps)."""
    def rule(x, buffers, g, h, k):
        t = k + 1
        m = h.beta1 * buffers["m"] + (1 - h.beta1) * g
        v = h.beta2 * buffers["v"] + (1 - h.beta2) * g * g
        return x - h.lr * (m / (1 - h.beta1 ** t)) / np.sqrt(v / (1 - h.beta2 ** t) + h.eps), {"m": m, "v": v}

    return Method("adam", rule, hyper(lr=(lr, POSITIVE), beta1=(betas[0], UNIT_HALF_OPEN),
                                      beta2=(betas[1], UNIT_HALF_OPEN), eps=(eps, POSITIVE)), ("m", "v"))


def _adam_amsgrad_max(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """Adam that divides by the running maximum of v (AMSGrad's option turned on by mistake)."""
    def rule(x, buffers, g, h, k):
        t = k + 1
        m = h.beta1 * buffers["m"] + (1 - h.beta1) * g
        v = h.beta2 * buffers["v"] + (1 - h.beta2) * g * g
        v_max = np.maximum(buffers["v_max"], v)
        step = (m / (1 - h.beta1 ** t)) / (np.sqrt(v_max / (1 - h.beta2 ** t)) + h.eps)
        return x - h.lr * step, {"m": m, "v": v, "v_max": v_max}

    return Method("adam", rule, hyper(lr=(lr, POSITIVE), beta1=(betas[0], UNIT_HALF_OPEN),
                                      beta2=(betas[1], UNIT_HALF_OPEN), eps=(eps, POSITIVE)), ("m", "v", "v_max"))


def _adam_without_bias_correction(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return stochopt.adaptive.state_space("adam", lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                         bias_correction=False)


def _adamw_coupled(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    return stochopt.adaptive.adam(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)   # L2 in the gradient


def _adan_without_difference(*args, **kwargs):
    """Adan whose rule always sees g_(k-1) = g_k: every gradient-difference term is 0."""
    method = stochopt.adaptive.adan(*args, **kwargs)
    real = method._rule
    method._rule = lambda x, buffers, g, h, k: real(x, {**buffers, "g_prev": g}, g, h, k)
    return method


def _delta_ignored(lr, gamma=0.1, delta=1e-3):
    return stochopt.adaptive.gclip(lr=lr, gamma=gamma)


def _gclip_uncapped(lr, gamma=0.1, delta=1e-3):
    """h = lr max(delta, gamma/||g||) without the cap min(1, .): steps longer than lr g at small gradients."""
    def rule(x, buffers, g, h, k):
        norm = np.sqrt(np.sum(g * g, axis=-1, keepdims=True))
        return x - h.lr * np.maximum(h.delta, h.gamma / np.maximum(norm, 1e-300)) * g, {}

    return Method("delta_gclip", rule, hyper(lr=(lr, POSITIVE), gamma=(gamma, POSITIVE),
                                             delta=(delta, Interval(0.0, 1.0))))


def _adamssm_zero_on_current(lr=1e-3, betas=(0.9, 0.999), pole=0.9, zero=0.8, eps=1e-8, weight_decay=0.0,
                             bias_correction=True):
    """AdamSSM whose zero multiplies the current w instead of the previous one: H(z) loses its z^-1 on zeta."""
    def rule(x, buffers, g, h, k):
        m = h.beta1 * buffers["m"] + (1 - h.beta1) * g
        w = h.beta2 * buffers["w"] + (1 - h.beta2) * g * g
        cw = h.beta2 * buffers["cw"] + (1 - h.beta2)
        K = (1 - h.pole) / (1 - h.zero)
        v = h.pole * buffers["v"] + K * (w - h.zero * w)
        cv = h.pole * buffers["cv"] + K * (cw - h.zero * cw)
        new = {"m": m, "w": w, "v": v, "cw": cw, "cv": cv}
        if not bias_correction:
            return x - h.lr * m / (np.sqrt(v) + h.eps), new
        return x - h.lr / (1 - h.beta1 ** (k + 1)) * m / (np.sqrt(v / cv) + h.eps), new

    return Method("adamssm", rule, hyper(lr=(lr, POSITIVE), beta1=(betas[0], UNIT_HALF_OPEN),
                                         beta2=(betas[1], UNIT_HALF_OPEN), eps=(eps, POSITIVE),
                                         weight_decay=(weight_decay, NONNEGATIVE), pole=(pole, UNIT_HALF_OPEN),
                                         zero=(zero, Interval(-1.0, 1.0))), ("m", "w", "v", "cw", "cv"))


def _sqrt_rule_without_eps(hparams, kappa):
    from verify.sde import scaling

    return {**scaling.sqrt_scaling(hparams, kappa), "eps": hparams["eps"]}


def _wrong_svag_coefficients(l, adaptive=True):
    import math

    root = math.sqrt(2 * l - 1)                       # SGD's: noise variance times l instead of l^2
    return (1 + root) / 2, (1 - root) / 2


def _set(target, name, value):
    return lambda mp: mp.setattr(target, name, value)


ROWS = [
    Planted("rmsprop-eps-inside-sqrt", "RMSprop divides by sqrt(v + eps) instead of sqrt(v) + eps",
            _set(stochopt, "rmsprop", _rmsprop_eps_inside_sqrt),
            "adaptive.rmsprop.sde-weak-error:quadratic, exact SDE moments"),
    Planted("adam-eps-inside-sqrt", "Adam divides by sqrt(v_hat + eps) instead of sqrt(v_hat) + eps",
            _set(stochopt, "adam", _adam_eps_inside_sqrt), "adaptive.adam.sde-weak-error:quadratic, exact SDE moments"),
    Planted("adam-amsgrad-max", "Adam divides by the running maximum of v (AMSGrad) instead of v",
            _set(stochopt, "adam", _adam_amsgrad_max), "adaptive.adam.spike-diagram"),
    Planted("adam-missing-bias-correction", "Adam without the bias corrections 1 - beta_i^t",
            _set(stochopt, "adam", _adam_without_bias_correction),
            "adaptive.adam.sde-weak-error:quadratic, exact SDE moments"),
    Planted("adamw-coupled-decay", "AdamW adds lambda x to the gradient (coupled L2) instead of decaying x",
            _set(stochopt, "adamw", _adamw_coupled),
            "adaptive.adam.signgd-limit:AdamW follows signGD with decoupled decay"),
    Planted("adan-no-gradient-difference", "Adan's gradient-difference terms removed (g_(k-1) taken as g_k)",
            _set(stochopt, "adan", _adan_without_difference), "adaptive.adan.conventions:official convention"),
    Planted("adan-no-gradient-difference-nme", "Adan's gradient-difference terms removed (g_(k-1) taken as g_k)",
            _set(stochopt, "adan", _adan_without_difference),
            "adaptive.adan.nme-identity:Adan's direction is the NME momentum"),
    Planted("delta-gclip-delta-ignored", "delta-GClip ignores delta (plain clipping)",
            _set(stochopt, "delta_gclip", _delta_ignored),
            "adaptive.delta-gclip.step-factor:no stall under huge gradients"),
    Planted("delta-gclip-uncapped", "delta-GClip's factor lacks the cap min(1, .): h > lr at small gradients",
            _set(stochopt, "delta_gclip", _gclip_uncapped), "adaptive.delta-gclip.step-factor:h in [lr delta, lr]"),
    Planted("adamssm-zero-on-current-w", "AdamSSM's zero acts on the current w instead of w_(k-1)",
            _set(stochopt, "adamssm", _adamssm_zero_on_current), "adaptive.adamssm.reductions:impulse response is H"),
    Planted("sqrt-rule-eps-unscaled", "the square-root rule leaves eps unscaled (eps0 = eps lr then grows)",
            lambda mp: mp.setattr("verify.sde.sqrt_scaling", _sqrt_rule_without_eps), "adaptive.sqrt-scaling"),
    Planted("svag-wrong-coefficients", "SVAG's r_(1,2) from 2l - 1 (SGD's) instead of 2l^2 - 1",
            lambda mp: mp.setattr("verify.sde.scaling.svag_coefficients", _wrong_svag_coefficients),
            "adaptive.svag"),
]

NO_PLANTED = {
    "adaptive.delta-gclip.wide-networks": (
        "the lazy-training statement holds for any step factor in [lr delta, lr] (it is gradient descent with a "
        "bounded variable step), so no mistake that keeps h in that range can change it; mistakes that leave the "
        "range are caught by adaptive.delta-gclip.step-factor (rows delta-gclip-*)"),
}
