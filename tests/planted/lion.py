"""Planted mistakes the lion claims must catch (format: tests/planted/__init__.py).

Each patch replaces one piece the claims run through: Lion's update rule (module
``stochopt.lion``'s ``_lion_rule``, which ``stochopt.lion(...)`` reads when it builds a method), the
coefficient of the Lyapunov function, the KKT measure, or the l1/l2 ratio of the gradients.
"""
import sys

import numpy as np

from planted import Planted

NO_PLANTED = {}


def _lion_module():
    import stochopt  # noqa: F401  (loads stochopt.lion, the module, shadowed by the function of that name)

    return sys.modules["stochopt.lion"]


def _rule(sign=np.sign, coupled=False, swap=False):
    """Lion's rule with one piece changed: the sign, coupled decay, or the two betas swapped."""
    def rule(x, buffers, g, h, k):
        m = buffers["m"]
        b1, b2 = (h.beta2, h.beta1) if swap else (h.beta1, h.beta2)
        if coupled:
            g = g + h.weight_decay * x            # lambda x enters the gradient (and the momentum)
        c = b1 * m + (1 - b1) * g
        x_new = x - h.lr * (sign(c) + (0.0 if coupled else h.weight_decay) * x)
        return x_new, {"m": b2 * m + (1 - b2) * g}

    return rule


def _plant_rule(**kw):
    def patch(monkeypatch):
        monkeypatch.setattr(_lion_module(), "_lion_rule", _rule(**kw))

    return patch


def _singlescale_decay_at_lr0(monkeypatch):
    # the single-timescale Lion's decoupled decay with the first lr (1/scaling) instead of the current lr_k:
    # the same at constant lr, different under a schedule
    from stochopt.terms import decoupled_decay

    def decoupled_weight_decay(rule):
        def decayed(x, buffers, g, h, k):
            return rule(decoupled_decay(x, 1.0 / h.scaling, h.weight_decay), buffers, g, h, k)
        return decayed

    monkeypatch.setattr(_lion_module(), "decoupled_weight_decay", decoupled_weight_decay)


def _copysign(c):
    return np.copysign(1.0, c)


def _wrong_coefficient(monkeypatch):
    import verify.lion_theory as theory

    monkeypatch.setattr(theory, "correct_coefficient", theory.wrong_coefficient)


def _kkt_sign(monkeypatch):
    import verify.families.lion.kkt_convergence as claim

    def wrong(grad, x, lam):
        return np.sum(np.abs(grad), axis=-1) - np.asarray(lam) * np.sum(grad * x, axis=-1)

    monkeypatch.setattr(claim, "kkt_measure", wrong)


def _kkt_sign_in_rate(monkeypatch):
    import verify.families.lion.rate_exponent as claim

    def wrong(grad, x, lam):
        return np.sum(np.abs(grad), axis=-1) - np.asarray(lam) * np.sum(grad * x, axis=-1)

    monkeypatch.setattr(claim, "kkt_measure", wrong)


def _ratio_squared(monkeypatch):
    import verify.families.lion.l1_l2_ratio as claim

    monkeypatch.setattr(claim, "l1_l2_ratio", lambda g: np.sum(np.abs(g), -1) / np.sum(g * g, -1))


ROWS = [
    Planted(id="lion-sign-zero-copysign", plants="sign(0) = +-1 in Lion's sign (a copysign port)",
            patch=_plant_rule(sign=_copysign),
            caught_by="lion.implementation-identities:beta1 = beta2: Lion is Signum"),
    Planted(id="lion-coupled-weight-decay", plants="coupled weight decay in Lion (lambda x added to the gradient)",
            patch=_plant_rule(coupled=True), caught_by="lion.box-invariance:Lion (sign)"),
    Planted(id="lion-coupled-weight-decay-kkt", plants="coupled weight decay in Lion: no box, so no KKT point of it",
            patch=_plant_rule(coupled=True), caught_by="lion.kkt-convergence"),
    Planted(id="lion-betas-swapped", plants="beta1 and beta2 swapped in Lion's update",
            patch=_plant_rule(swap=True),
            caught_by="lion.implementation-identities:beta1 = 0: Lion is signSGD"),
    Planted(id="lion-singlescale-decay-at-first-lr",
            plants="single-timescale Lion decays x with lr_0 instead of lr_k (visible only under a schedule)",
            patch=_singlescale_decay_at_lr0,
            caught_by="lion.implementation-identities:constant lr: single-timescale Lion is Lion"),
    Planted(id="lion-wrong-lyapunov-coefficient",
            plants="the Lyapunov coefficient (1 - eps lambda)/(1 + eps lambda) in verify.lion_theory",
            patch=_wrong_coefficient, caught_by="lion.lyapunov-identity:numeric identity on random states"),
    Planted(id="lion-wrong-lyapunov-coefficient-flow",
            plants="the Lyapunov coefficient (1 - eps lambda)/(1 + eps lambda) along the flow",
            patch=_wrong_coefficient, caught_by="lion.lyapunov-flow:interior (log cosh, half square, Huber)"),
    Planted(id="lion-wrong-lyapunov-coefficient-discrete",
            plants="the Lyapunov coefficient (1 - eps lambda)/(1 + eps lambda) along discrete Lion",
            patch=_wrong_coefficient, caught_by="lion.lyapunov-discrete:largest per-step increase is O(eta^2)"),
    Planted(id="lion-kkt-measure-sign", plants="G = ||g||_1 - lambda <g, x> (wrong sign of the KKT measure's term)",
            patch=_kkt_sign, caught_by="lion.kkt-convergence"),
    Planted(id="lion-kkt-measure-sign-rate", plants="G = ||g||_1 - lambda <g, x> in the rate claim's KKT part",
            patch=_kkt_sign_in_rate, caught_by="lion.rate-exponent:KKT measure under weight decay"),
    Planted(id="lion-ratio-squared-l2", plants="the l1/l2 ratio divided by ||g||_2^2 instead of ||g||_2",
            patch=_ratio_squared, caught_by="lion.l1-l2-ratio"),
]
