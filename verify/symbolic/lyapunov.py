"""Symbolic Lyapunov identities (spec 5.5): the Lion-K identity dH/dt = -Delta and the
framework identity dH/dt = -<s, m> - alpha ||d||^2, proved with sympy in low dimension.

Lion-K (spec 3.2). With x' = grad K(mt) - lam x, m' = -alpha grad f(x) - gamma m,
mt = m - eps (alpha grad f(x) + gamma m), and H_c, Delta_c as in ``verify.lion_theory``::

    H_c = alpha f(x) + (gamma/lam) K*(lam x) + c (K*(lam x) + K(m) - lam <m, x>)
    c* = (1 - eps gamma)/(1 + eps lam)                      (verify.lion_theory.correct_coefficient)
    Delta = (lam + gamma)/(1 + eps lam) <grad K(mt) - lam x, mt - y>
          + (1 - eps gamma)/(eps (1 + eps lam)) <grad K(mt) - grad K(m), mt - m>,  y = grad K*(lam x)

The coefficient functions are the numeric code's own (``verify.lion_theory``), called on sympy
symbols, so the proof is about the coefficient the claims run with. ``lion_k_identity`` builds
dH/dt by the chain rule (sympy's own derivatives of H, with f, K and K* generic sympy Functions
or concrete smooth kernels) and simplifies dH/dt + Delta (Delta written in the spec's form, not
through the coefficient function). ``lion_k_coefficient_identity`` proves, for a free symbol c,
dH_c/dt + Delta_c = (1 + eps lam)(c - c*) <m', x'>: the exact amount by which a wrong
coefficient breaks the identity (what the claims' controls predict). ``lion_k_code_agreement``
evaluates the sympy H_c, Delta_c and dH_c/dt at random states and compares them with
``verify.lion_theory.LionKFlow`` (the numeric code): the proofs are about the formulas that run.
The identities use only that y is the gradient of the function K* that appears in H, so with
``kernel="generic"`` they hold for every smooth f, K and K* (Delta >= 0 is where the Legendre
relation and convexity enter; that part is checked numerically).

Framework (spec 1.5). x' = -s - alpha d, m' = tau (d - m), s = grad phi(m), d = grad f(x),
H = f + phi/tau; ``framework_identity`` proves dH/dt = -<s, m> - alpha ||d||^2 for quadratic
phi(m) = m^T Q m / 2 (Q symmetric, generic entries) or a generic phi.

Statuses as in ``verify.symbolic.schedules``: "proved" (the residual simplifies to 0),
"disproved" (a nonzero value at an exact rational point), "unproved" (sympy could not decide).

>>> lion_k_identity("half_square").status
'proved'
>>> lion_k_identity("half_square", coefficient="wrong").status
'disproved'
>>> framework_identity().status
'proved'
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .. import lion_theory

__all__ = ["IdentityResult", "lion_k_identity", "lion_k_coefficient_identity", "lion_k_code_agreement",
           "framework_identity", "LION_K_KERNELS"]

PROVED, DISPROVED, UNPROVED = "proved", "disproved", "unproved"

#: kernels accepted by ``lion_k_identity``
LION_K_KERNELS = ("generic", "generic_separable", "half_square", "log_cosh")


@dataclass
class IdentityResult:
    """One symbolic identity: its name, status, the simplified residual (as text) and notes."""

    identity: str
    status: str
    residual: str
    dim: int
    notes: str = ""

    @property
    def proved(self) -> bool:
        return self.status == PROVED


def _symbols(prefix, dim):
    return sp.symbols(f"{prefix}1:{dim + 1}", real=True)


def _kernel(kernel, dim):
    """(K(m) as a function of a vector of expressions, K*(y) likewise), for the chosen kernel."""
    if kernel == "generic":
        Kf, Ks = sp.Function("K"), sp.Function("Kstar")
        return (lambda v: Kf(*v)), (lambda v: Ks(*v))
    if kernel == "generic_separable":
        kf, ks = sp.Function("k"), sp.Function("kstar")
        return (lambda v: sum(kf(vi) for vi in v)), (lambda v: sum(ks(vi) for vi in v))
    if kernel == "half_square":
        return (lambda v: sum(vi ** 2 for vi in v) / 2), (lambda v: sum(vi ** 2 for vi in v) / 2)
    if kernel == "log_cosh":
        return ((lambda v: sum(sp.log(sp.cosh(vi)) for vi in v)),
                (lambda v: sum(vi * sp.atanh(vi) + sp.log(1 - vi ** 2) / 2 for vi in v)))
    raise ValueError(f"kernel must be one of {', '.join(LION_K_KERNELS)}; got {kernel!r}")


def _decide(residual, variables, name, dim, notes="", denominator=1):
    """Reduce the residual to a polynomial numerator and expand it; if it is not 0, evaluate it at
    exact random points (a nonzero value disproves the identity; undefined functions leave it
    unproved). ``denominator`` (the known denominators) is multiplied in first.
    """
    expr = sp.expand(sp.numer(sp.together(sp.expand(residual * denominator))))
    if expr == 0:
        return IdentityResult(name, PROVED, "0", dim, notes)
    rng = random.Random(0)
    for _ in range(5):
        point = {v: sp.Rational(rng.randint(1, 9), rng.randint(10, 19)) for v in variables}
        try:
            value = sp.N(expr.subs(point).doit(), 30)
        except Exception:  # pragma: no cover - undefined functions cannot be evaluated
            break
        if value.is_number and abs(value) > 1e-20:
            return IdentityResult(name, DISPROVED, str(expr)[:2000], dim, notes + f" nonzero value {value:.6g}")
    return IdentityResult(name, UNPROVED, str(expr)[:2000], dim, notes)


def _concrete_f(x):
    """A concrete smooth f (so that a wrong identity evaluates to a number): sum x^2/2 + x_1 x_d^3/3."""
    return sum(xi ** 2 for xi in x) / 2 + x[0] * x[-1] ** 3 / 3


@dataclass
class _LionK:
    """The sympy objects of the Lion-K flow in dimension ``dim`` with coefficient c."""

    alpha: object
    gamma: object
    lam: object
    eps: object
    x: tuple
    m: tuple
    f: object
    c: object
    H: object
    dH: object
    x_dot: list
    m_dot: list
    mt: list
    gk_mt: list
    gk_m: list
    y: list

    @property
    def variables(self):
        return [self.alpha, self.gamma, self.lam, self.eps, *self.x, *self.m]

    def pairing(self, u, v):
        return sum(ui * vi for ui, vi in zip(u, v))


def _lion_k(kernel, dim, coefficient, f=None) -> _LionK:
    if dim < 1 or int(dim) != dim:
        raise ValueError(f"dim must be a positive integer; got {dim!r}")
    alpha, gamma, lam, eps = sp.symbols("alpha gamma lam eps", positive=True)
    x, m = _symbols("x", dim), _symbols("m", dim)
    f = sp.Function("f")(*x) if f is None else f(x)
    grad_f = [sp.diff(f, xi) for xi in x]
    K, Kstar = _kernel(kernel, dim)
    u = _symbols("u", dim)
    grad_K_u = [sp.diff(K(u), ui) for ui in u]

    def grad_K_at(v):
        return [g.subs(dict(zip(u, v)), simultaneous=True) for g in grad_K_u]

    mt = [m[i] - eps * (alpha * grad_f[i] + gamma * m[i]) for i in range(dim)]
    gk_mt = grad_K_at(mt)
    x_dot = [gk_mt[i] - lam * x[i] for i in range(dim)]
    m_dot = [-alpha * grad_f[i] - gamma * m[i] for i in range(dim)]
    if coefficient is None:
        c = lion_theory.correct_coefficient(eps, gamma, lam)
    elif isinstance(coefficient, str) and coefficient == "wrong":
        c = lion_theory.wrong_coefficient(eps, gamma, lam)
    else:
        c = sp.sympify(coefficient)
    kstar = Kstar([lam * xi for xi in x])
    H = alpha * f + (gamma / lam) * kstar + c * (kstar + K(list(m)) - lam * sum(m[i] * x[i] for i in range(dim)))
    dH = sum(sp.diff(H, x[i]) * x_dot[i] + sp.diff(H, m[i]) * m_dot[i] for i in range(dim))
    y = [sp.diff(kstar, x[i]) / lam for i in range(dim)]                  # grad K*(lam x)
    gk_m = [sp.diff(K(list(m)), m[i]) for i in range(dim)]                 # grad K(m)
    return _LionK(alpha, gamma, lam, eps, x, m, f, c, H, dH, x_dot, m_dot, mt, gk_mt, gk_m, y)


def _spec_delta(s: _LionK):
    """Delta in the spec's form (its coefficients written out, not through the coefficient function)."""
    lam, gamma, eps = s.lam, s.gamma, s.eps
    first = s.pairing([a - lam * b for a, b in zip(s.gk_mt, s.x)], [a - b for a, b in zip(s.mt, s.y)])
    second = s.pairing([a - b for a, b in zip(s.gk_mt, s.gk_m)], [a - b for a, b in zip(s.mt, s.m)])
    return (lam + gamma) / (1 + eps * lam) * first + (1 - eps * gamma) / (eps * (1 + eps * lam)) * second


def _delta_c(s: _LionK):
    """Delta_c = (gamma + c lam) <grad K(mt) - lam x, mt - y> + (c/eps) <grad K(mt) - grad K(m), mt - m>."""
    first = s.pairing([a - s.lam * b for a, b in zip(s.gk_mt, s.x)], [a - b for a, b in zip(s.mt, s.y)])
    second = s.pairing([a - b for a, b in zip(s.gk_mt, s.gk_m)], [a - b for a, b in zip(s.mt, s.m)])
    return (s.gamma + s.c * s.lam) * first + (s.c / s.eps) * second


def lion_k_identity(kernel="generic", dim=2, coefficient=None) -> IdentityResult:
    """Prove dH/dt = -Delta for the Lion-K flow (spec 3.2) in dimension ``dim``.

    Parameters
    ----------
    kernel : "generic" (K, K* arbitrary smooth functions of m and y), "generic_separable"
        (sums of arbitrary smooth scalar functions), "half_square" or "log_cosh".
    dim : dimension (2 is the default; the algebra is dimension-free).
    coefficient : None (c* = ``verify.lion_theory.correct_coefficient``), "wrong"
        (``verify.lion_theory.wrong_coefficient``) or a sympy expression in ``alpha gamma lam eps``;
        only H uses it, Delta is the spec's.

    >>> lion_k_identity("log_cosh").status
    'proved'
    """
    s = _lion_k(kernel, dim, coefficient)
    name = f"lion_k dH/dt = -Delta (K = {kernel}, c = {'c*' if coefficient is None else coefficient})"
    den = s.lam * s.eps * (1 + s.eps * s.lam)
    residual = s.dH + _spec_delta(s)
    if kernel in ("half_square", "log_cosh"):
        # the generic form first: proved for every f if it simplifies to 0 before substitution
        generic = _decide(residual, s.variables, name, dim, denominator=den)
        if generic.status == PROVED:
            return IdentityResult(name, PROVED, "0", dim, "for every smooth f")
        concrete = _lion_k(kernel, dim, coefficient, f=_concrete_f)
        return _decide(concrete.dH + _spec_delta(concrete), concrete.variables, name, dim, denominator=den,
                       notes="with f = sum x^2/2 + x1 xd^3/3")
    return _decide(residual, s.variables, name, dim, "for every smooth f, K and K*", denominator=den)


def lion_k_coefficient_identity(kernel="generic", dim=2) -> IdentityResult:
    """Prove dH_c/dt + Delta_c = (1 + eps lam)(c - c*) <m', x'> for a free coefficient c.

    So a coefficient c != c* breaks dH/dt = -Delta by exactly this amount (the controls' prediction).

    >>> lion_k_coefficient_identity("generic").status
    'proved'
    """
    c = sp.Symbol("c", real=True)
    s = _lion_k(kernel, dim, c)
    cstar = lion_theory.correct_coefficient(s.eps, s.gamma, s.lam)
    defect = (1 + s.eps * s.lam) * (c - cstar) * s.pairing(s.m_dot, s.x_dot)
    residual = s.dH + _delta_c(s) - defect
    name = f"lion_k dH_c/dt + Delta_c = (1 + eps lam)(c - c*) <m', x'> (K = {kernel})"
    return _decide(residual, [c, *s.variables], name, dim, "for every c and smooth f, K, K*",
                   denominator=s.lam * s.eps * (1 + s.eps * s.lam))


def lion_k_code_agreement(kernel="log_cosh", dim=3, coefficient=None, points=20, seed=0) -> float:
    """Largest relative difference between the sympy H_c, Delta_c, dH_c/dt and the numeric
    ``LionKFlow`` (same f, K, parameters) at random states: the formulas proved are the code that runs.

    >>> lion_k_code_agreement("half_square") < 1e-12
    True
    """
    if kernel not in ("half_square", "log_cosh"):
        raise ValueError(f"kernel must be 'half_square' or 'log_cosh' (a concrete K); got {kernel!r}")
    s = _lion_k(kernel, dim, coefficient, f=_concrete_f)
    rng = np.random.default_rng(seed)
    params = rng.uniform(0.2, 2.0, (points, 4))
    X = rng.uniform(-0.9, 0.9, (points, dim))
    M = rng.uniform(-2.0, 2.0, (points, dim))
    args = (s.alpha, s.gamma, s.lam, s.eps, *s.x, *s.m)
    fns = [sp.lambdify(args, e, "numpy") for e in (s.H, _delta_c(s), s.dH)]

    def value(x):
        return 0.5 * np.sum(x * x, axis=-1) + x[..., 0] * x[..., -1] ** 3 / 3

    def grad(x):
        g = np.array(x, dtype=float, copy=True)
        g[..., 0] += x[..., -1] ** 3 / 3
        g[..., -1] += x[..., 0] * x[..., -1] ** 2
        return g

    worst = 0.0
    for (alpha, gamma, lam, eps), x, m in zip(params, X, M):
        x = x / lam                                   # inside the domain of K*(lam x)
        num = {k: float(v) for k, v in zip("abc", [fn(alpha, gamma, lam, eps, *x, *m) for fn in fns])}
        coef = None if coefficient is None else (lion_theory.wrong_coefficient(eps, gamma, lam)
                                                 if coefficient == "wrong" else float(sp.sympify(coefficient)))
        flow = lion_theory.LionKFlow(grad, kernel, alpha, gamma, lam, eps, value=value, coefficient=coef)
        code = {"a": float(flow.lyapunov(x, m)), "b": float(flow.dissipation(x, m)), "c": float(flow.dH_dt(x, m))}
        for k in "abc":
            worst = max(worst, abs(num[k] - code[k]) / max(1.0, abs(code[k])))
    return worst


def framework_identity(dim=2, phi="quadratic") -> IdentityResult:
    """Prove dH/dt = -<s, m> - alpha ||d||^2 for H = f + phi(m)/tau along the framework flow.

    x' = -s - alpha d, m' = tau (d - m), s = grad phi(m), d = grad f(x) (spec 1.5). ``phi`` is
    "quadratic" (m^T Q m / 2 with a generic symmetric Q) or "generic" (any smooth phi).

    >>> framework_identity(phi="generic").status
    'proved'
    """
    if dim < 1 or int(dim) != dim:
        raise ValueError(f"dim must be a positive integer; got {dim!r}")
    alpha, tau = sp.symbols("alpha tau", positive=True)
    x, m = _symbols("x", dim), _symbols("m", dim)
    f = sp.Function("f")(*x)
    d = [sp.diff(f, xi) for xi in x]
    if phi == "quadratic":
        Q = sp.Matrix(dim, dim, lambda i, j: sp.Symbol(f"q{min(i, j) + 1}{max(i, j) + 1}", real=True))
        mv = sp.Matrix(m)
        phi_m = (mv.T * Q * mv)[0, 0] / 2
    elif phi == "generic":
        phi_m = sp.Function("phi")(*m)
    else:
        raise ValueError(f"phi must be 'quadratic' or 'generic'; got {phi!r}")
    s = [sp.diff(phi_m, mi) for mi in m]
    x_dot = [-s[i] - alpha * d[i] for i in range(dim)]
    m_dot = [tau * (d[i] - m[i]) for i in range(dim)]
    H = f + phi_m / tau
    dH = sum(sp.diff(H, x[i]) * x_dot[i] + sp.diff(H, m[i]) * m_dot[i] for i in range(dim))
    target = -sum(s[i] * m[i] for i in range(dim)) - alpha * sum(di ** 2 for di in d)
    return _decide(dH - target, [alpha, tau, *x, *m], f"framework dH/dt = -<s, m> - alpha ||d||^2 (phi {phi})", dim,
                   "for every smooth f", denominator=tau)
