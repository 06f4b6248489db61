"""Symbolic proofs of the QHM converters (spec 2.3, 5.5): equal transfer functions.

Every algorithm here is linear in (iterate, gradient) and acts coordinate-wise, so one
coordinate suffices. Each is written as a state-space system read off its paper's recursion::

    s_{t+1} = A s_t + B g_t,     y_t = C s_t,     s_0 = s0(x0)

with y_t the matching sequence (the point where the gradient is evaluated). The system is
strictly proper (y_t depends on g_0 .. g_{t-1} only) and, for every target, s0 is a fixed
point of the zero-gradient dynamics with C s0 = x0. Hence y_t = x0 + sum_j h_{t-j} g_j with
H(z) = C (zI - A)^{-1} B, and two algorithms with the same H and such starts produce the same
sequence for every gradient sequence, and so (by induction on t) for every oracle g_t = G(y_t),
deterministic or stochastic, smooth or not. A proof is: sympy ``cancel`` reduces
H_target - H_qhm(converted hyperparameters) to 0 as a rational function of z, and both start
conditions hold identically.

The converter formulas are transcribed here as sympy expressions; ``numeric_agreement``
evaluates them at a random point and compares with ``stochopt.qh``'s functions, so a proof is
about the code that runs.

>>> from verify.symbolic import converters as sc
>>> sc.prove_synthesized_nesterov().status
'proved'
>>> sc.prove_two_state(formula="qhoptim").status          # qhoptim's TSO map is wrong in general
'disproved'
>>> sc.prove_two_state(formula="qhoptim", narrow=True).status   # ... right when q = 1, k = 0
'proved'
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sympy as sp

__all__ = [
    "PROVED",
    "DISPROVED",
    "UNPROVED",
    "LinearSystem",
    "ConverterProof",
    "transfer_function",
    "qhm_system",
    "pid_system",
    "snv_system",
    "accsgd_system",
    "tso_system",
    "prove_pid",
    "prove_synthesized_nesterov",
    "prove_robust_momentum",
    "prove_triple_momentum",
    "prove_accsgd",
    "prove_two_state",
    "prove_all",
    "accsgd_momentum_exceeds_nu",
    "nadam_first_step_ratio",
]

PROVED, DISPROVED, UNPROVED = "proved", "disproved", "unproved"
z = sp.Symbol("z")
x0 = sp.Symbol("x0", real=True)


@dataclass
class LinearSystem:
    """s_{t+1} = A s_t + B g_t, y_t = C s_t, s_0 = s0 (symbolic, one coordinate)."""

    name: str
    A: sp.Matrix
    B: sp.Matrix
    C: sp.Matrix
    s0: sp.Matrix
    output: str = "x_t"

    def transfer(self):
        return transfer_function(self)

    def start_is_fixed_point(self, assumptions=None) -> bool:
        """A s0 = s0 and C s0 = x0 (identically, after ``assumptions`` substitutions)."""
        subs = assumptions or {}
        fixed = (self.A * self.s0 - self.s0).subs(subs).applyfunc(sp.cancel)
        out = sp.cancel((self.C * self.s0)[0].subs(subs) - x0)
        return all(e == 0 for e in fixed) and out == 0


@dataclass
class ConverterProof:
    """Result of one converter proof.

    proved : True (identity holds), False (disproved: the residual is a nonzero rational
        function), or "unproved" (sympy could not decide).
    residual : H_target - H_qhm after ``cancel`` (the string "0" when proved).
    """

    converter: str
    proved: object
    matching: str
    transfer_target: str
    transfer_qhm: str
    residual: str
    start_fixed_point: bool
    numeric_agreement: float | None = None
    details: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return {True: PROVED, False: DISPROVED}.get(self.proved, UNPROVED)

    def __bool__(self) -> bool:
        return self.proved is True

    def to_dict(self) -> dict:
        return {"converter": self.converter, "status": self.status, "matching": self.matching,
                "transfer_target": self.transfer_target, "transfer_qhm": self.transfer_qhm,
                "residual": self.residual, "start_fixed_point": self.start_fixed_point,
                "numeric_agreement": self.numeric_agreement, **self.details}


def transfer_function(system: LinearSystem):
    """H(z) = C (zI - A)^{-1} B = C adj(zI - A) B / det(zI - A), as (numerator, denominator).

    No gcd is taken (multivariate ``cancel`` is slow); ``_decide`` compares two transfer
    functions by cross-multiplying, which is exact.

    >>> num, den = transfer_function(qhm_system(1, 0, 0))     # SGD with lr 1: -1/(z - 1)
    >>> sp.cancel(num / den)
    -1/(z - 1)
    """
    n = system.A.shape[0]
    M = z * sp.eye(n) - system.A
    return sp.together((system.C * M.adjugate() * system.B)[0]), sp.together(M.det())


# -------------------------------------------------------------------------- the systems
def qhm_system(lr, momentum, nu) -> LinearSystem:
    """QHM, state (b, x): b' = beta b + (1 - beta) g, x' = x - lr ((1 - nu) g + nu b').

    >>> qhm_system(sp.Symbol("a"), 0, 1).start_is_fixed_point()
    True
    """
    beta = momentum
    A = sp.Matrix([[beta, 0], [-lr * nu * beta, 1]])
    B = sp.Matrix([1 - beta, -lr * (1 - nu) - lr * nu * (1 - beta)])
    return LinearSystem("qhm", A, B, sp.Matrix([[0, 1]]), sp.Matrix([0, x0]))


def pid_system(k_p, k_i, k_d, beta_f) -> LinearSystem:
    """PID with e = -g, state (w_{t-1}, v_{t-1}, e_{t-1}, x_0); x_t = x_0 + k_p e + k_i w + k_d v.

    >>> pid_system(-1, 1, 1, sp.Rational(1, 2)).C
    Matrix([[1, 1, -1, 1]])
    """
    A = sp.Matrix([[1, 0, 0, 0], [0, beta_f, -(1 - beta_f), 0], [0, 0, 0, 0], [0, 0, 0, 1]])
    B = sp.Matrix([-1, -(1 - beta_f), -1, 0])
    C = sp.Matrix([[k_i, k_d, k_p, 1]])
    return LinearSystem("pid", A, B, C, sp.Matrix([0, 0, 0, x0]))


def snv_system(alpha, beta1, beta2, output="y") -> LinearSystem:
    """Synthesized Nesterov / Robust Momentum, state (xi_t, xi_{t-1}); output y_t (or xi_t).

    >>> snv_system(1, 0, 0).output
    'y_t'
    """
    A = sp.Matrix([[1 + beta1, -beta1], [1, 0]])
    B = sp.Matrix([-alpha, 0])
    C = sp.Matrix([[1 + beta2, -beta2]]) if output == "y" else sp.Matrix([[1, 0]])
    return LinearSystem("synthesized_nesterov", A, B, C, sp.Matrix([x0, x0]), "y_t" if output == "y" else "xi_t")


def tm_system(l, rho, output="y") -> LinearSystem:
    """Triple Momentum in Van Scoy et al.'s (alpha, beta, gamma, delta); output y_k or x_k.

    >>> tm_system(1, sp.Rational(1, 2)).B.T                 # alpha = (1 + rho)/L
    Matrix([[-3/2, 0]])
    """
    alpha, beta = (1 + rho) / l, rho ** 2 / (2 - rho)
    gamma, delta = rho ** 2 / ((1 + rho) * (2 - rho)), rho ** 2 / (1 - rho ** 2)
    coef = gamma if output == "y" else delta
    A = sp.Matrix([[1 + beta, -beta], [1, 0]])
    return LinearSystem("triple_momentum", A, sp.Matrix([-alpha, 0]), sp.Matrix([[1 + coef, -coef]]),
                        sp.Matrix([x0, x0]), "y_k" if output == "y" else "x_k (output)")


def accsgd_system(delta, kappa, xi, eps) -> LinearSystem:
    """AccSGD, state (wbar_t, w_t), written from Kidambi et al.'s two lines.

    >>> accsgd_system(1, 4, 1, sp.Rational(1, 2)).start_is_fixed_point()
    True
    """
    A_ = 1 - eps ** 2 * xi / kappa
    zeta = eps / (eps + 1 - A_)
    long = kappa * delta / eps
    # wbar' = A wbar + (1 - A)(w - long g); w' = zeta (w - delta g) + (1 - zeta) wbar'
    A = sp.Matrix([[A_, 1 - A_], [(1 - zeta) * A_, zeta + (1 - zeta) * (1 - A_)]])
    B = sp.Matrix([-(1 - A_) * long, -zeta * delta - (1 - zeta) * (1 - A_) * long])
    return LinearSystem("accsgd", A, B, sp.Matrix([[0, 1]]), sp.Matrix([x0, x0]), "w_t")


def tso_system(h, k, l, m, q, zc) -> LinearSystem:
    """Two-state optimizer, state (a, x); a_0 = k x0 / (1 - h) (the invariant line).

    >>> tso_system(0, 1, 0, -sp.Rational(1, 2), sp.Rational(3, 2), 0).start_is_fixed_point()
    True
    """
    return LinearSystem("two_state", sp.Matrix([[h, k], [m, q]]), sp.Matrix([l, zc]), sp.Matrix([[0, 1]]),
                        sp.Matrix([k * x0 / (1 - h), x0]))


# ---------------------------------------------------------------------- the converters
def _pid_map(k_p, k_i, k_d):
    return k_i, k_d / (k_d - k_p), k_p ** 2 / (k_i * k_d)


def _snv_map(alpha, beta1, beta2):
    return alpha / (1 - beta1), beta1, 1 - beta2 * (1 - beta1) / beta1


def _rm_coefficients(l, kappa, rho):
    a = kappa * (1 - rho) ** 2 * (1 + rho) / l
    b = kappa * rho ** 3 / (kappa - 1)
    c = rho ** 3 / ((kappa - 1) * (1 - rho) ** 2 * (1 + rho))
    return a, b, c


def _accsgd_map(delta, kappa, xi, eps):
    return (delta * eps * (1 + xi) / (1 + eps), (kappa - eps ** 2 * xi) / (kappa + eps * xi),
            (eps * xi - 1) / (eps * (1 + xi)))


def _tso_map_general(h, k, l, m, q, zc):
    beta = h + q - 1
    lr = -(zc * (1 - h) + m * l) / (1 - beta)
    return lr, beta, (lr + zc) / (lr * beta)


def _tso_map_qhoptim(h, k, l, m, q, zc, phi):
    """qhoptim 1.1.0's formula (phi = sqrt((h - q)^2 + 4 k m), passed in to avoid the root)."""
    psi = k * m - h * q
    xi = (h - q - phi) * (l * m - h * zc) + 2 * m * (l * q - k * zc)
    return xi / (2 * phi * psi), (h + q - phi) / 2, 2 * m * (l * q - k * zc) / xi


def _decide(H_target, H_qhm):
    """Equal rational functions iff N_t D_q - N_q D_t is the zero polynomial (symbols generic)."""
    (n_t, d_t), (n_q, d_q) = H_target, H_qhm
    try:
        cross = sp.expand(sp.numer(sp.together(n_t * d_q - n_q * d_t)))
    except Exception:  # pragma: no cover - sympy failure
        return "unproved", "sympy failed"
    if cross == 0:
        return True, "0"
    try:  # a readable residual for the report (the verdict is already decided: nonzero)
        residual = str(sp.factor(sp.cancel(n_t / d_t - n_q / d_q)))
    except Exception:  # pragma: no cover
        residual = str(cross)
    return False, residual


def _show(H):
    n, d = H
    return str(sp.factor(n, z) / sp.factor(d, z)) if len(str(n)) < 400 else f"({n})/({d})"


def _prove(name, target: LinearSystem, qhm_params, matching, assumptions=None, numeric=None, details=None):
    lr, beta, nu = qhm_params
    qsys = qhm_system(lr, beta, nu)
    H_t, H_q = target.transfer(), qsys.transfer()
    subs = assumptions or {}
    if subs:
        H_t = tuple(sp.together(e.subs(subs)) for e in H_t)
        H_q = tuple(sp.together(e.subs(subs)) for e in H_q)
    proved, residual = _decide(H_t, H_q)
    start = target.start_is_fixed_point(subs) and qsys.start_is_fixed_point(subs)
    if proved is True and not start:
        proved = False
    return ConverterProof(name, proved, matching, _show(H_t), _show(H_q), residual, start, numeric,
                          dict(details or {}))


def _numeric_agreement(expressions, symbols, values, stochopt_result):
    """Max relative difference between the sympy formulas and stochopt.qh's numbers at one point."""
    subs = dict(zip(symbols, values))
    ours = [float(sp.N(e.subs(subs), 30)) for e in expressions]
    ref = [stochopt_result["lr"], stochopt_result["momentum"], stochopt_result["nu"]]
    return max(abs(a - b) / max(abs(b), 1e-300) for a, b in zip(ours, ref))


# ------------------------------------------------------------------------------ proofs
@functools.lru_cache(maxsize=None)
def prove_pid(filtered: bool = True) -> ConverterProof:
    """from_pid vs the PID optimizer with beta_f = k_d/(k_d - k_p) (``filtered=False``: beta_f = 0).

    >>> prove_pid().status, prove_pid(filtered=False).status
    ('proved', 'disproved')
    """
    from stochopt import qh

    k_p, k_i, k_d = sp.symbols("k_p k_i k_d", real=True)
    beta_f = k_d / (k_d - k_p) if filtered else sp.Integer(0)
    params = _pid_map(k_p, k_i, k_d)
    point = (-0.3, 0.7, 1.9)
    numeric = _numeric_agreement(params, (k_p, k_i, k_d), point, qh.from_pid(*point))
    return _prove("pid" if filtered else "pid (unfiltered derivative)", pid_system(k_p, k_i, k_d, beta_f), params,
                  "x_t", numeric=numeric, details={"beta_f": str(beta_f)})


@functools.lru_cache(maxsize=None)
def prove_synthesized_nesterov(output: str = "y") -> ConverterProof:
    """from_synthesized_nesterov vs synthesized Nesterov's gradient point y_t (``output="xi"``: xi_t).

    >>> prove_synthesized_nesterov(output="xi").residual          # what comparing with xi_t misses
    'alpha*beta2/(-beta1 + z)'
    """
    from stochopt import qh

    alpha, beta1, beta2 = sp.symbols("alpha beta1 beta2", real=True)
    params = _snv_map(alpha, beta1, beta2)
    point = (0.3, 0.6, 0.45)
    numeric = _numeric_agreement(params, (alpha, beta1, beta2), point, qh.from_synthesized_nesterov(*point))
    return _prove("synthesized_nesterov", snv_system(alpha, beta1, beta2, output), params,
                  "y_t" if output == "y" else "xi_t", numeric=numeric)


@functools.lru_cache(maxsize=None)
def prove_robust_momentum(output: str = "y") -> ConverterProof:
    """from_robust_momentum(l, kappa, rho) vs Robust Momentum's y_k (``output="x"``: x_k).

    >>> prove_robust_momentum().status
    'proved'
    """
    from stochopt import qh

    l, kappa, rho = sp.symbols("L kappa rho", positive=True)
    a, b, c = _rm_coefficients(l, kappa, rho)
    params = _snv_map(a, b, c)
    point = (1.3, 30.0, 0.85)
    numeric = _numeric_agreement(params, (l, kappa, rho), point, qh.from_robust_momentum(*point))
    return _prove("robust_momentum", snv_system(a, b, c, "y" if output == "y" else "xi"), params,
                  "y_k" if output == "y" else "x_k", numeric=numeric)


@functools.lru_cache(maxsize=None)
def prove_triple_momentum(output: str = "y") -> ConverterProof:
    """from_robust_momentum(l, kappa) (rho = None) vs Van Scoy et al.'s Triple Momentum.

    kappa = 1/(1 - rho)^2 is substituted so that rho = 1 - 1/sqrt(kappa) needs no square root.

    >>> prove_triple_momentum().status, prove_triple_momentum(output="x").status
    ('proved', 'disproved')
    """
    from stochopt import qh

    l, rho = sp.symbols("L rho", positive=True)
    kappa = 1 / (1 - rho) ** 2
    a, b, c = _rm_coefficients(l, kappa, rho)
    params = tuple(sp.cancel(p) for p in _snv_map(a, b, c))
    point_l, point_rho = 1.3, 0.8
    numeric = _numeric_agreement(params, (l, rho), (point_l, point_rho),
                                 qh.from_robust_momentum(point_l, 1 / (1 - point_rho) ** 2))
    return _prove("triple_momentum", tm_system(l, rho, output), params, "y_k" if output == "y" else "x_k (output)",
                  numeric=numeric)


@functools.lru_cache(maxsize=None)
def prove_accsgd() -> ConverterProof:
    """from_accsgd vs AccSGD's w_t.

    >>> proof = prove_accsgd()
    >>> proof.status, proof.matching, proof.numeric_agreement < 1e-14
    ('proved', 'w_t', True)
    """
    from stochopt import qh

    delta, kappa, xi, eps = sp.symbols("delta kappa xi epsilon", positive=True)
    params = _accsgd_map(delta, kappa, xi, eps)
    point = (0.1, 50.0, 3.0, 0.7)
    numeric = _numeric_agreement(params, (delta, kappa, xi, eps), point, qh.from_accsgd(*point))
    return _prove("accsgd", accsgd_system(delta, kappa, xi, eps), params, "w_t", numeric=numeric)


@functools.lru_cache(maxsize=None)
def prove_two_state(formula: str = "general", narrow: bool = False) -> ConverterProof:
    """A TSO with a unit eigenvalue vs QHM with the ``general`` map or ``qhoptim``'s formula.

    The unit-eigenvalue condition is imposed by q = 1 - k m/(1 - h); ``narrow=True`` also sets
    k = 0 (so q = 1), the case qhoptim's formula was written for. For qhoptim's formula,
    phi = sqrt((h - q)^2 + 4 k m) = 1 - beta with beta = h + q - 1 < 1 under the condition.
    """
    from stochopt import qh

    h, k, l, m, zc = sp.symbols("h k l m zeta", real=True)
    if narrow:
        k = sp.Integer(0)
    q = 1 - k * m / (1 - h)
    beta = h + q - 1
    if formula == "general":
        params = _tso_map_general(h, k, l, m, q, zc)
    elif formula == "qhoptim":
        params = _tso_map_qhoptim(h, k, l, m, q, zc, phi=1 - beta)
    else:
        raise ValueError(f"formula must be 'general' or 'qhoptim'; got {formula!r}")
    params = tuple(sp.cancel(p) for p in params)
    point = dict(h=0.4375, k=0.0 if narrow else 0.28125, l=0.625, m=-0.125, zeta=-0.75)
    syms = [h, l, m, zc] + ([] if narrow else [k])
    values = [point["h"], point["l"], point["m"], point["zeta"]] + ([] if narrow else [point["k"]])
    qv = 1 - point["k"] * point["m"] / (1 - point["h"])
    args = (point["h"], point["k"], point["l"], point["m"], qv, point["zeta"])
    if formula == "general":
        numeric = _numeric_agreement(params, syms, values, qh.from_two_state_optimizer(*args))
    else:  # compare the transcription with qhoptim's own code when it is installed
        try:
            from qhoptim.common import param_conv
        except ImportError:
            numeric = None
        else:
            ref = param_conv.from_two_state_optimizer(*args)
            numeric = _numeric_agreement(params, syms, values,
                                         {"lr": ref.alpha, "momentum": ref.beta, "nu": ref.nu})
    name = "two_state" + ("" if formula == "general" else " (qhoptim formula)") + (" narrow" if narrow else "")
    return _prove(name, tso_system(h, k, l, m, q, zc), params, "x_t", numeric=numeric,
                  details={"condition": "(1 - h)(1 - q) = k m", "formula": formula})


def prove_all() -> dict:
    """{name: ConverterProof} for every converter (all must be proved).

    >>> sorted(name for name, proof in prove_all().items() if proof)
    ['accsgd', 'pid', 'robust_momentum', 'synthesized_nesterov', 'triple_momentum', 'two_state']
    """
    return {"pid": prove_pid(), "synthesized_nesterov": prove_synthesized_nesterov(),
            "robust_momentum": prove_robust_momentum(), "triple_momentum": prove_triple_momentum(),
            "accsgd": prove_accsgd(), "two_state": prove_two_state()}


# ----------------------------------------------------------------------- side identities
def accsgd_momentum_exceeds_nu() -> dict:
    """momentum - nu of from_accsgd as a factored rational function, and its positivity.

    momentum - nu = (1 + eps)(kappa - eps^2 xi^2 + eps xi (1 - eps)) / (eps (1 + xi)(kappa + eps xi)).
    Positivity on delta > 0, kappa > 1, 0 < xi <= sqrt(kappa), 0 < eps < 1 is proved by the
    substitution eps = 1/(1 + p), xi = sqrt(kappa)/(1 + r), kappa = s^2 (p, s > 0, r >= 0),
    after which numerator and denominator are polynomials with positive coefficients.

    >>> accsgd_momentum_exceeds_nu()["proved"]
    True
    """
    kappa, xi, eps = sp.symbols("kappa xi epsilon", positive=True)
    _, beta, nu = _accsgd_map(sp.Integer(1), kappa, xi, eps)
    gap = sp.factor(sp.cancel(beta - nu))
    claimed = (1 + eps) * (kappa - eps ** 2 * xi ** 2 + eps * xi * (1 - eps)) / (eps * (1 + xi) * (kappa + eps * xi))
    identity = sp.cancel(gap - claimed) == 0
    p, r, s = sp.symbols("p s_root r", positive=True)
    sub = sp.cancel(claimed.subs({eps: 1 / (1 + p), xi: s / (1 + r), kappa: s ** 2}))
    num, den = sp.fraction(sp.together(sub))
    positive = all(c > 0 for c in sp.Poly(sp.expand(num), p, r, s).coeffs()) and all(
        c > 0 for c in sp.Poly(sp.expand(den), p, r, s).coeffs())
    return {"difference": str(gap), "identity": identity, "positive_coefficients": positive,
            "proved": bool(identity and positive)}


def nadam_first_step_ratio():
    """Dozat's first NAdam step over QHAdam's (nus = (mu, 1)): (1 + 2 mu)/(1 + mu).

    >>> nadam_first_step_ratio()
    (2*mu + 1)/(mu + 1)
    """
    mu, g = sp.symbols("mu g", positive=True)
    m1 = (1 - mu) * g
    dozat = (1 - mu) * g / (1 - mu) + mu * m1 / (1 - mu ** 2)
    qhadam = (1 - mu) * g + mu * m1 / (1 - mu)
    return sp.factor(sp.cancel(dozat / qhadam))
