"""Symbolic Lyapunov identities (spec 5.5): the Lion-K identity dH/dt = -Delta and the
framework identity dH/dt = -<s, m> - alpha ||d||^2, proved with sympy in low dimension.

Lion-K (spec 3.2). With x' = grad K(mt) - lam x, m' = -alpha grad f(x) - gamma m,
mt = m - eps (alpha grad f(x) + gamma m)::

    H = alpha f(x) + (gamma/lam) K*(lam x) + c (K*(lam x) + K(m) - lam <m, x>),
    c = (1 - eps gamma)/(1 + eps lam)
    Delta = (lam + gamma)/(1 + eps lam) <grad K(mt) - lam x, mt - y>
          + (1 - eps gamma)/(eps (1 + eps lam)) <grad K(mt) - grad K(m), mt - m>,  y = grad K*(lam x)

``lion_k_identity`` builds dH/dt by the chain rule (sympy's own derivatives of H, with f, K
and K* generic sympy Functions or concrete smooth kernels) and simplifies dH/dt + Delta. The
identity uses only that y is the gradient of the function K* that appears in H, so with
``kernel="generic"`` it is proved for every smooth f, K and K* at once (Delta >= 0 is where
the Legendre relation and convexity enter; that part is checked numerically).

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

import sympy as sp

__all__ = ["IdentityResult", "lion_k_identity", "framework_identity", "LION_K_KERNELS", "spec_coefficient",
           "wrong_coefficient"]

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


def spec_coefficient(eps, gamma, lam):
    """c = (1 - eps gamma)/(1 + eps lam) (spec 3.2).

    >>> e, g, l = sp.symbols("eps gamma lam", positive=True)
    >>> spec_coefficient(e, g, l)
    (-eps*gamma + 1)/(eps*lam + 1)
    """
    return (1 - eps * gamma) / (1 + eps * lam)


def wrong_coefficient(eps, gamma, lam):
    """The plausible wrong coefficient (1 - eps lam)/(1 + eps lam) (the negative control).

    >>> e, g, l = sp.symbols("eps gamma lam", positive=True)
    >>> wrong_coefficient(e, g, l)
    (-eps*lam + 1)/(eps*lam + 1)
    """
    return (1 - eps * lam) / (1 + eps * lam)


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


def lion_k_identity(kernel="generic", dim=2, coefficient=None) -> IdentityResult:
    """Prove dH/dt = -Delta for the Lion-K flow (spec 3.2) in dimension ``dim``.

    Parameters
    ----------
    kernel : "generic" (K, K* arbitrary smooth functions of m and y), "generic_separable"
        (sums of arbitrary smooth scalar functions), "half_square" or "log_cosh".
    dim : dimension (2 is the default; the algebra is dimension-free).
    coefficient : None (spec's c), "wrong" ((1 - eps lam)/(1 + eps lam)) or a sympy
        expression in the symbols ``alpha gamma lam eps``; only H uses it, Delta is the spec's.

    >>> lion_k_identity("log_cosh").status
    'proved'
    """
    if dim < 1 or int(dim) != dim:
        raise ValueError(f"dim must be a positive integer; got {dim!r}")
    alpha, gamma, lam, eps = sp.symbols("alpha gamma lam eps", positive=True)
    x, m = _symbols("x", dim), _symbols("m", dim)
    f = sp.Function("f")(*x)
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
        c = spec_coefficient(eps, gamma, lam)
    elif isinstance(coefficient, str) and coefficient == "wrong":
        c = wrong_coefficient(eps, gamma, lam)
    else:
        c = sp.sympify(coefficient)
    kstar = Kstar([lam * xi for xi in x])
    H = alpha * f + (gamma / lam) * kstar + c * (kstar + K(list(m)) - lam * sum(m[i] * x[i] for i in range(dim)))
    dH = sum(sp.diff(H, x[i]) * x_dot[i] + sp.diff(H, m[i]) * m_dot[i] for i in range(dim))
    y = [sp.diff(kstar, x[i]) / lam for i in range(dim)]                  # grad K*(lam x)
    gk_m = [sp.diff(K(list(m)), m[i]) for i in range(dim)]                 # grad K(m)
    delta = ((lam + gamma) / (1 + eps * lam) * sum((gk_mt[i] - lam * x[i]) * (mt[i] - y[i]) for i in range(dim))
             + (1 - eps * gamma) / (eps * (1 + eps * lam))
             * sum((gk_mt[i] - gk_m[i]) * (mt[i] - m[i]) for i in range(dim)))
    name = f"lion_k dH/dt = -Delta (K = {kernel}, c = {'spec' if coefficient is None else coefficient})"
    variables = [alpha, gamma, lam, eps, *x, *m]
    den = lam * eps * (1 + eps * lam)
    if kernel in ("half_square", "log_cosh"):  # a concrete f so that a wrong identity evaluates to a number
        fx = sum(xi ** 2 for xi in x) / 2 + x[0] * x[-1] ** 3 / 3
        residual = (dH + delta).subs(f, fx).doit()
        dfx = [sp.diff(fx, xi) for xi in x]
        # the generic form first: proved for every f if it simplifies to 0 before substitution
        generic = _decide(dH + delta, variables, name, dim, denominator=den)
        if generic.status == PROVED:
            return IdentityResult(name, PROVED, "0", dim, "for every smooth f")
        out = _decide(residual, variables, name, dim, denominator=den, notes=f"with f = sum x^2/2 + x1 x{dim}^3/3 (gradient {dfx})")
        return out
    return _decide(dH + delta, variables, name, dim, "for every smooth f, K and K*", denominator=den)


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
