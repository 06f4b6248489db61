"""Hyperparameters and the SDE limit: the scaling that defines it, the scaling rules, SVAG.

Malladi et al. (2022) hold sigma0 = sigma eta, eps0 = eps eta and c_i = (1 - beta_i)/eta^2 fixed as
eta -> 0 (time t = k eta^2). ``discrete_from_sde`` and ``sde_from_discrete`` go both ways; the
square-root rule, the linear rule and SVAG are maps on a hyperparameter dict that keep (or, for
the linear rule, break) those invariants.
"""
from __future__ import annotations

import math

__all__ = ["discrete_from_sde", "sde_from_discrete", "sqrt_scaling", "linear_scaling", "svag_coefficients",
           "svag_adaptive", "svag_sgd"]


def discrete_from_sde(eta, sigma0, eps0, c2, c1=None):
    """Discrete hyperparameters whose SDE limit is (sigma0, eps0, c1, c2): lr = eta, sigma = sigma0/eta,
    eps = eps0/eta, beta_i = 1 - c_i eta^2.

    >>> discrete_from_sde(0.1, sigma0=1.0, eps0=0.5, c2=2.0, c1=1.0)
    {'lr': 0.1, 'sigma': 10.0, 'eps': 5.0, 'beta2': 0.98, 'beta1': 0.99}
    """
    if not (eta > 0 and math.isfinite(eta)):
        raise ValueError(f"eta must be a finite number > 0; got {eta!r}")
    out = {"lr": eta, "sigma": sigma0 / eta, "eps": eps0 / eta, "beta2": 1.0 - c2 * eta ** 2}
    if c1 is not None:
        out["beta1"] = 1.0 - c1 * eta ** 2
    if not 0 <= out["beta2"] < 1 or ("beta1" in out and not 0 <= out["beta1"] < 1):
        raise ValueError(f"eta={eta} is too large for c1={c1}, c2={c2}: need c_i eta^2 in (0, 1]")
    return out


def sde_from_discrete(lr, sigma, eps, beta2, beta1=None):
    """The SDE parameters (sigma0, eps0, c2[, c1]) of a discrete run: the inverse of ``discrete_from_sde``.

    >>> {k: round(v, 12) for k, v in sde_from_discrete(0.1, sigma=10.0, eps=5.0, beta2=0.98, beta1=0.99).items()}
    {'sigma0': 1.0, 'eps0': 0.5, 'c2': 2.0, 'c1': 1.0}
    """
    out = {"sigma0": sigma * lr, "eps0": eps * lr, "c2": (1.0 - beta2) / lr ** 2}
    if beta1 is not None:
        out["c1"] = (1.0 - beta1) / lr ** 2
    return out


def _betas_of(h):
    if "betas" in h:
        return list(h["betas"]), "betas"
    if "alpha" in h:
        return [h["alpha"]], "alpha"
    return [], None


def _set_betas(out, key, new):
    out[key] = tuple(round(b, 15) for b in new) if key == "betas" else round(new[0], 15)


def _scale_batch_steps(out, hparams, kappa):
    if "batch_size" in hparams:
        out["batch_size"] = int(round(hparams["batch_size"] * kappa))
    if "steps" in hparams:
        out["steps"] = int(round(hparams["steps"] / kappa))


def sqrt_scaling(hparams: dict, kappa: float) -> dict:
    """The square-root scaling rule for batch B -> kappa B (Malladi et al. 2022).

    lr -> sqrt(kappa) lr, 1 - beta_i -> kappa (1 - beta_i), eps -> eps / sqrt(kappa),
    batch_size -> kappa batch_size, steps -> steps / kappa (same number of epochs). Keys that are
    absent are left out; ``betas`` (a tuple) or ``alpha`` (RMSprop) are both understood.

    >>> sqrt_scaling({"lr": 0.01, "betas": (0.9, 0.99), "eps": 1e-8, "batch_size": 32, "steps": 1000}, 4)
    {'lr': 0.02, 'betas': (0.6, 0.96), 'eps': 5e-09, 'batch_size': 128, 'steps': 250}
    """
    kappa = float(kappa)
    if not kappa > 0:
        raise ValueError(f"kappa must be > 0; got {kappa}")
    out = dict(hparams)
    out["lr"] = hparams["lr"] * math.sqrt(kappa)
    betas, key = _betas_of(hparams)
    if key:
        new = [1.0 - kappa * (1.0 - b) for b in betas]
        if any(not 0 <= b < 1 for b in new):
            raise ValueError(f"kappa={kappa} gives betas {new} outside [0, 1): the rule needs kappa (1 - beta) <= 1")
        _set_betas(out, key, new)
    if "eps" in hparams:
        out["eps"] = hparams["eps"] / math.sqrt(kappa)
    _scale_batch_steps(out, hparams, kappa)
    return out


def linear_scaling(hparams: dict, kappa: float) -> dict:
    """SGD's linear scaling rule (Goyal et al.; Li, Malladi, Arora 2021): lr -> kappa lr, steps / kappa.

    Betas and eps are unchanged.

    >>> linear_scaling({"lr": 0.01, "betas": (0.9, 0.99), "batch_size": 32, "steps": 1000}, 4)
    {'lr': 0.04, 'betas': (0.9, 0.99), 'batch_size': 128, 'steps': 250}
    """
    out = dict(hparams)
    out["lr"] = hparams["lr"] * float(kappa)
    _scale_batch_steps(out, hparams, kappa)
    return out


def svag_coefficients(l, adaptive=True):
    """SVAG's gradient weights (r1, r2): g = r1 g(batch1) + r2 g(batch2), r1 + r2 = 1.

    Adaptive methods: r = (1 +- sqrt(2 l^2 - 1))/2 (noise variance times l^2);
    SGD (Li, Malladi, Arora 2021): r = (1 +- sqrt(2 l - 1))/2 (noise variance times l).

    >>> svag_coefficients(1)
    (1.0, 0.0)
    >>> r1, r2 = svag_coefficients(2); round(r1 ** 2 + r2 ** 2, 12)
    4.0
    """
    l = float(l)
    if not l >= 1:
        raise ValueError(f"l must be >= 1; got {l}")
    root = math.sqrt(2 * l * l - 1) if adaptive else math.sqrt(2 * l - 1)
    return (1 + root) / 2, (1 - root) / 2


def svag_adaptive(hparams: dict, l: float) -> dict:
    """SVAG for adaptive methods (Malladi et al. 2022): lr -> lr/l, 1 - beta_i -> (1 - beta_i)/l^2,
    eps -> eps l, weights (r1, r2) from ``svag_coefficients(l)``, steps -> l^2 steps.

    >>> h = svag_adaptive({"lr": 0.1, "betas": (0.9, 0.99), "eps": 1e-3, "steps": 10}, 2)
    >>> h["lr"], h["betas"], h["eps"], h["steps"], round(h["r1"] ** 2 + h["r2"] ** 2, 12)
    (0.05, (0.975, 0.9975), 0.002, 40, 4.0)
    """
    l = float(l)
    out = dict(hparams)
    out["lr"] = hparams["lr"] / l
    betas, key = _betas_of(hparams)
    if key:
        _set_betas(out, key, [1.0 - (1.0 - b) / l ** 2 for b in betas])
    if "eps" in hparams:
        out["eps"] = hparams["eps"] * l
    if "steps" in hparams:
        out["steps"] = int(round(hparams["steps"] * l * l))
    out["r1"], out["r2"] = svag_coefficients(l, adaptive=True)
    return out


def svag_sgd(hparams: dict, l: float) -> dict:
    """SVAG for SGD (Li, Malladi, Arora 2021): lr -> lr/l, r from ``svag_coefficients(l, adaptive=False)``,
    l times more steps. Its limit is dX = -grad L dt + (eta Sigma)^{1/2} dW in time t = k eta.

    >>> h = svag_sgd({"lr": 0.1, "steps": 10}, 4)
    >>> h["lr"], h["steps"], round(h["r1"] ** 2 + h["r2"] ** 2, 12)
    (0.025, 40, 4.0)
    """
    l = float(l)
    out = dict(hparams)
    out["lr"] = hparams["lr"] / l
    if "steps" in hparams:
        out["steps"] = int(round(hparams["steps"] * l))
    out["r1"], out["r2"] = svag_coefficients(l, adaptive=False)
    return out
