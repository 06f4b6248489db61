"""qh.converter.singular-inputs: every converter rejects its singular inputs with a clear error.

Our contract (spec 2.3): qhoptim's formulas divide by zero at these inputs and return inf/NaN (or
raise ZeroDivisionError); ours raise ValueError naming the parameter. One part per converter.
"""
import re

import numpy as np

from stochopt import qh
from verify.registry import Claim

from . import _common as C
from ._targets import qhoptim_two_state
from .sizes import SIZES

CLAIM = Claim(
    id="qh.converter.singular-inputs",
    statement=("Every converter rejects its singular inputs (k_i = 0, k_d = 0, k_d = k_p; beta1 in {0, 1}; kappa = 1, "
               "l = 0, rho = 1; eps = 0, xi = -1; a TSO without a unit eigenvalue, with a double one, or whose "
               "integrator cancels) with a ValueError naming the parameter, instead of returning inf/NaN or raising "
               "ZeroDivisionError."),
    source=f"spec 02-quasi-hyperbolic.md 2.3 (our contract); the formulas of {C.QHOPTIM}",
    assumptions=["the converters of stochopt.qh"],
    sizes=SIZES["converter.singular-inputs"],
)
STATISTIC = ("number of singular inputs of this converter that are not rejected by a ValueError naming the parameter; "
             "lower is good; threshold 0 (every one must be rejected)")


def _bare_snv(alpha, beta1, beta2):
    return {"lr": alpha / (1 - beta1), "momentum": beta1, "nu": 1 - beta2 * (1 - beta1) / beta1}


def _bare_rm(l, kappa, rho=None):
    rho = 1 - 1 / np.sqrt(kappa) if rho is None else rho
    return _bare_snv(kappa * (1 - rho) ** 2 * (1 + rho) / l, kappa * rho ** 3 / (kappa - 1),
                     rho ** 3 / ((kappa - 1) * (1 - rho) ** 2 * (1 + rho)))


#: converter -> (the bare formula as qhoptim writes it, [(arguments, the parameter the error must name)])
CASES = {
    "from_pid": (lambda k_p, k_i, k_d: {"lr": k_i, "momentum": k_d / (k_d - k_p), "nu": k_p * k_p / (k_i * k_d)},
                 [(dict(k_p=-0.1, k_i=0.0, k_d=1.0), "k_i"), (dict(k_p=-0.1, k_i=1.0, k_d=0.0), "k_d"),
                  (dict(k_p=0.5, k_i=1.0, k_d=0.5), "k_d")]),
    "from_synthesized_nesterov": (_bare_snv, [(dict(alpha=0.1, beta1=0.0, beta2=0.5), "beta1"),
                                              (dict(alpha=0.1, beta1=1.0, beta2=0.5), "beta1")]),
    "from_robust_momentum": (_bare_rm, [(dict(l=1.0, kappa=1.0), "kappa"), (dict(l=0.0, kappa=10.0), "l"),
                                        (dict(l=1.0, kappa=10.0, rho=1.0), "rho")]),
    "from_accsgd": (lambda delta, kappa, xi, eps=0.7: {
        "lr": delta * eps * (1 + xi) / (1 + eps), "momentum": (kappa - eps * eps * xi) / (kappa + eps * xi),
        "nu": (eps * xi - 1) / (eps * (1 + xi))},
        [(dict(delta=0.1, kappa=10.0, xi=2.0, eps=0.0), "eps"), (dict(delta=0.1, kappa=10.0, xi=-1.0), "xi")]),
    "from_two_state_optimizer": (qhoptim_two_state, [
        (dict(h=0.5, k=0.0, l=0.1, m=-0.1, q=0.5, z=-0.1), "q"), (dict(h=1.0, k=0.0, l=0.1, m=-0.1, q=1.0, z=-0.1), "h"),
        (dict(h=0.5, k=0.0, l=0.1, m=0.0, q=1.0, z=0.0), "z")]),
}


def _outcomes(fn, cases):
    """Per case: rejected (a ValueError naming the parameter) or not, and what happened."""
    out = []
    for kwargs, param in cases:
        try:
            with np.errstate(all="ignore"):
                result = fn(**{k: np.float64(v) for k, v in kwargs.items()})
            ok, what = False, f"returned {result}"
        except ValueError as exc:
            ok, what = re.search(rf"\b{re.escape(param)}\b", str(exc)) is not None, f"ValueError: {exc}"
        except Exception as exc:  # ZeroDivisionError and the like: not a clear error
            ok, what = False, f"{type(exc).__name__}: {exc}"
        out.append({"args": kwargs, "must_name": param, "rejected": ok, "outcome": what})
    return out


def _figure(name, outcomes):
    fig, ax = C.new_axes(figsize=(6.4, 0.4 * len(outcomes) + 1.4), left=0.42, bottom=0.22)
    labels = [", ".join(f"{k}={v}" for k, v in o["args"].items()) for o in outcomes]
    ax.barh(labels, [1] * len(outcomes), color=["C2" if o["rejected"] else "C3" for o in outcomes])
    ax.set(title=f"{name}: singular inputs", xlabel="green = ValueError naming the parameter, red = not", xticks=[])
    ax.title.set_fontsize(9)
    ax.tick_params(axis="y", labelsize=7)
    return fig


def _part(name):
    bare, cases = CASES[name]

    def check(ctx):
        outcomes = _outcomes(getattr(qh, name), cases)
        missed = sum(not o["rejected"] for o in outcomes)
        figs = ctx.figures((_figure(name, outcomes), "Each singular input; passing: every bar green.")) \
            if ctx.draw else []
        return C.decide(missed, 0, "lower", details={"cases": outcomes}, figures=figs)

    check.__name__ = f"{name}_rejects"
    part = CLAIM.part(name, statistic=STATISTIC)(check)

    def control(ctx):
        outcomes = _outcomes(bare, cases)
        not_rejected = np.array([float(not o["rejected"]) for o in outcomes])
        return C.predicted_control(ctx, not_rejected.sum(), not_rejected, np.ones(len(cases)), "every case",
                                   threshold=0, details={"cases": outcomes})

    control.__name__ = f"{name}_bare_formula"
    part.control(breaks=(f"the bare formula without validation (qhoptim's behaviour): it never raises a ValueError, so "
                         f"every one of the {len(cases)} singular inputs is not rejected (predicted statistic "
                         f"{len(cases)})"))(control)
    return part


PARTS = [_part(name) for name in CASES]
