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

A proof has three obligations, each reported: (1) the transfer functions are equal, (2) both
starts are rest points of the zero-gradient dynamics with output x0, (3) the converter formulas
transcribed here (from the papers, never imported from ``stochopt``) equal ``stochopt.qh``'s
numbers at many random points of the converter's domain, to 1e-12 relative (the transcription
is evaluated exactly, with mpmath). The sympy part is cached (it is pure mathematics); the
comparison with the code is never cached (the code may change under a test's patch), so a
proof is about the code that runs. ``start=`` builds a target started off its rest point (the
controls' wrong initial state): obligation (2) then fails.

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

import numpy as np
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
    "EXACT",
    "accsgd_momentum_exceeds_nu",
    "nadam_first_step_ratio",
]

PROVED, DISPROVED, UNPROVED = "proved", "disproved", "unproved"
EXACT = 1e-12  # the stated numerical tolerance: float64 identities hold to 1e-12 relative
OBLIGATIONS = ("transfer functions equal", "starts are rest points with output x0",
               "transcribed formulas equal stochopt.qh (1e-12)")
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
    """Result of one converter proof: three obligations (``OBLIGATIONS``), each True or False.

    transfer_equal : True (H_target - H_qhm cancels to 0), False (a nonzero rational function,
        in ``residual``) or "unproved" (sympy could not decide).
    start_fixed_point : both starts are rest points of the zero-gradient dynamics with output x0.
    numeric_agreement : max relative difference between the transcribed converter formulas
        (exact) and ``stochopt.qh``'s numbers over ``points`` random points (None: not compared).
    proved : True when every obligation holds; False when one fails; "unproved" when sympy
        could not decide and nothing failed.
    """

    converter: str
    matching: str
    transfer_target: str
    transfer_qhm: str
    residual: str
    transfer_equal: object
    start_fixed_point: bool
    numeric_agreement: float | None = None
    points: int = 0
    details: dict = field(default_factory=dict)

    @property
    def obligations(self) -> dict:
        agreement = self.numeric_agreement
        return {OBLIGATIONS[0]: self.transfer_equal is True, OBLIGATIONS[1]: bool(self.start_fixed_point),
                OBLIGATIONS[2]: agreement is not None and bool(np.isfinite(agreement)) and agreement <= EXACT}

    @property
    def failed(self) -> list:
        """The obligations that do not hold (an undecided transfer function counts as not holding)."""
        return [name for name, ok in self.obligations.items() if not ok]

    @property
    def proved(self):
        if not self.failed:
            return True
        if self.failed == [OBLIGATIONS[0]] and self.transfer_equal == UNPROVED:
            return UNPROVED
        return False

    @property
    def status(self) -> str:
        return {True: PROVED, False: DISPROVED}.get(self.proved, UNPROVED)

    def __bool__(self) -> bool:
        return self.proved is True

    def to_dict(self) -> dict:
        return {"converter": self.converter, "status": self.status, "matching": self.matching,
                "obligations": self.obligations, "transfer_target": self.transfer_target,
                "transfer_qhm": self.transfer_qhm, "residual": self.residual,
                "start_fixed_point": self.start_fixed_point, "numeric_agreement": self.numeric_agreement,
                "points": self.points, **self.details}


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
START_CHOICES = ("rest", "zero-memory")


def _check_start(start):
    if start not in START_CHOICES:
        raise ValueError(f"start must be one of {START_CHOICES}; got {start!r}")
    return start == "rest"


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


def snv_system(alpha, beta1, beta2, output="y", start="rest") -> LinearSystem:
    """Synthesized Nesterov / Robust Momentum, state (xi_t, xi_{t-1}); output y_t (or xi_t).

    ``start="rest"``: xi_{-1} = xi_0 = x0; ``"zero-memory"``: xi_{-1} = 0 (the wrong initial state).

    >>> snv_system(1, 0, 0).output, snv_system(1, sp.Symbol("b"), 0, start="zero-memory").start_is_fixed_point()
    ('y_t', False)
    """
    A = sp.Matrix([[1 + beta1, -beta1], [1, 0]])
    B = sp.Matrix([-alpha, 0])
    C = sp.Matrix([[1 + beta2, -beta2]]) if output == "y" else sp.Matrix([[1, 0]])
    s0 = sp.Matrix([x0, x0 if _check_start(start) else 0])
    return LinearSystem("synthesized_nesterov", A, B, C, s0, "y_t" if output == "y" else "xi_t")


def tm_system(l, rho, output="y", start="rest") -> LinearSystem:
    """Triple Momentum in Van Scoy et al.'s (alpha, beta, gamma, delta); output y_k or x_k.

    >>> tm_system(1, sp.Rational(1, 2)).B.T                 # alpha = (1 + rho)/L
    Matrix([[-3/2, 0]])
    """
    alpha, beta = (1 + rho) / l, rho ** 2 / (2 - rho)
    gamma, delta = rho ** 2 / ((1 + rho) * (2 - rho)), rho ** 2 / (1 - rho ** 2)
    coef = gamma if output == "y" else delta
    A = sp.Matrix([[1 + beta, -beta], [1, 0]])
    s0 = sp.Matrix([x0, x0 if _check_start(start) else 0])
    return LinearSystem("triple_momentum", A, sp.Matrix([-alpha, 0]), sp.Matrix([[1 + coef, -coef]]), s0,
                        "y_k" if output == "y" else "x_k (output)")


def accsgd_system(delta, kappa, xi, eps, start="rest") -> LinearSystem:
    """AccSGD, state (wbar_t, w_t), written from Kidambi et al.'s two lines (``"zero-memory"``: wbar_0 = 0).

    >>> accsgd_system(1, 4, 1, sp.Rational(1, 2)).start_is_fixed_point()
    True
    """
    A_ = 1 - eps ** 2 * xi / kappa
    zeta = eps / (eps + 1 - A_)
    long = kappa * delta / eps
    # wbar' = A wbar + (1 - A)(w - long g); w' = zeta (w - delta g) + (1 - zeta) wbar'
    A = sp.Matrix([[A_, 1 - A_], [(1 - zeta) * A_, zeta + (1 - zeta) * (1 - A_)]])
    B = sp.Matrix([-(1 - A_) * long, -zeta * delta - (1 - zeta) * (1 - A_) * long])
    s0 = sp.Matrix([x0 if _check_start(start) else 0, x0])
    return LinearSystem("accsgd", A, B, sp.Matrix([[0, 1]]), s0, "w_t")


def tso_system(h, k, l, m, q, zc, start="rest") -> LinearSystem:
    """Two-state optimizer, state (a, x); a_0 = k x0 / (1 - h) (the invariant line; ``"zero-memory"``: a_0 = 0).

    >>> tso_system(0, 1, 0, -sp.Rational(1, 2), sp.Rational(3, 2), 0).start_is_fixed_point()
    True
    """
    a0 = k * x0 / (1 - h) if _check_start(start) else sp.Integer(0)
    return LinearSystem("two_state", sp.Matrix([[h, k], [m, q]]), sp.Matrix([l, zc]), sp.Matrix([[0, 1]]),
                        sp.Matrix([a0, x0]))


# ---------------------------------------------------------------------- the converters
# Transcribed from the papers (Ma & Yarats App.; Cyrus et al. 2018; Kidambi et al. 2018), never
# imported from stochopt: obligation (3) compares them with stochopt.qh's numbers.
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
        return UNPROVED, "sympy failed"
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


def _core(name, target: LinearSystem, qhm_params, matching, assumptions=None) -> dict:
    """The symbolic part of a proof (pure mathematics, so callers cache it)."""
    lr, beta, nu = qhm_params
    qsys = qhm_system(lr, beta, nu)
    H_t, H_q = target.transfer(), qsys.transfer()
    subs = assumptions or {}
    if subs:
        H_t = tuple(sp.together(e.subs(subs)) for e in H_t)
        H_q = tuple(sp.together(e.subs(subs)) for e in H_q)
    equal, residual = _decide(H_t, H_q)
    start = target.start_is_fixed_point(subs) and qsys.start_is_fixed_point(subs)
    return dict(converter=name, matching=matching, transfer_target=_show(H_t), transfer_qhm=_show(H_q),
                residual=residual, transfer_equal=equal, start_fixed_point=start)


def _agreement(params, symbols, points, code_fn) -> float:
    """Max relative difference between the transcribed formulas, evaluated exactly (mpmath) at each
    point, and ``code_fn(*columns)`` -> {"lr", "momentum", "nu"} (stochopt.qh, vectorised)."""
    import mpmath

    points = np.asarray(points, dtype=float)
    code = code_fn(*points.T)
    ours = np.asarray(code["lr"]), np.asarray(code["momentum"]), np.asarray(code["nu"])
    f = sp.lambdify(symbols, params, "mpmath")
    worst = 0.0
    with mpmath.workdps(40):
        for i, row in enumerate(points):
            exact = [float(v) for v in f(*(mpmath.mpf(float(v)) for v in row))]
            for e, c in zip(exact, ours):
                c = float(np.broadcast_to(c, (len(points),))[i])
                err = abs(c - e) / max(abs(e), 1e-300)
                worst = max(worst, err if np.isfinite(err) else np.inf)
    return worst


def _draw(rng, n, sampler, keep):
    """n points from ``sampler(rng, size)`` (columns) satisfying ``keep(*columns)``, drawn in batches."""
    rows = []
    while sum(len(r) for r in rows) < n:
        cols = sampler(rng, 4 * n)
        rows.append(np.stack(cols, axis=1)[keep(*cols)])
    return np.concatenate(rows)[:n]


def _proof(core: dict, numeric, points: int, details=None) -> ConverterProof:
    return ConverterProof(**core, numeric_agreement=numeric, points=points, details=dict(details or {}))


def _rng(seed):
    return np.random.default_rng([2024, int(seed)])


#: points at which a transcription is compared with the code (outputs drawn away from 0, where
#: a difference of nearly equal terms, e.g. nu = 1 - beta2 (1 - beta1)/beta1, cancels)
POINTS = 32
AWAY_FROM_ZERO = 0.05


# ------------------------------------------------------------------------------ proofs
@functools.lru_cache(maxsize=None)
def _pid_core(filtered: bool):
    k_p, k_i, k_d = sp.symbols("k_p k_i k_d", real=True)
    beta_f = k_d / (k_d - k_p) if filtered else sp.Integer(0)
    params = _pid_map(k_p, k_i, k_d)
    core = _core("pid" if filtered else "pid (unfiltered derivative)", pid_system(k_p, k_i, k_d, beta_f), params,
                 "x_t")
    return core, params, (k_p, k_i, k_d), str(beta_f)


def prove_pid(filtered: bool = True, seed: int = 0, points: int = POINTS) -> ConverterProof:
    """from_pid vs the PID optimizer with beta_f = k_d/(k_d - k_p) (``filtered=False``: beta_f = 0).

    >>> prove_pid().status, prove_pid(filtered=False).failed
    ('proved', ['transfer functions equal'])
    """
    from stochopt import qh

    core, params, symbols, beta_f = _pid_core(bool(filtered))
    pts = _draw(_rng(seed), points, lambda r, n: (-r.uniform(0.05, 2.0, n), r.uniform(0.1, 2.0, n),
                                                  r.uniform(0.05, 5.0, n)), lambda kp, ki, kd: kd > 0)
    return _proof(core, _agreement(params, symbols, pts, qh.from_pid), points, {"beta_f": beta_f})


@functools.lru_cache(maxsize=None)
def _snv_core(output, start):
    alpha, beta1, beta2 = sp.symbols("alpha beta1 beta2", real=True)
    params = _snv_map(alpha, beta1, beta2)
    core = _core("synthesized_nesterov", snv_system(alpha, beta1, beta2, output, start), params,
                 "y_t" if output == "y" else "xi_t")
    return core, params, (alpha, beta1, beta2)


def _snv_keep(alpha, beta1, beta2):
    return np.abs(1 - beta2 * (1 - beta1) / beta1) >= AWAY_FROM_ZERO


def prove_synthesized_nesterov(output: str = "y", start: str = "rest", seed: int = 0,
                               points: int = POINTS) -> ConverterProof:
    """from_synthesized_nesterov vs synthesized Nesterov's gradient point y_t (``output="xi"``: xi_t).

    >>> prove_synthesized_nesterov(output="xi").residual          # what comparing with xi_t misses
    'alpha*beta2/(-beta1 + z)'
    >>> prove_synthesized_nesterov(start="zero-memory").failed     # xi_{-1} = 0: not a rest point
    ['starts are rest points with output x0']
    """
    from stochopt import qh

    core, params, symbols = _snv_core(output, start)
    pts = _draw(_rng(seed), points, lambda r, n: (r.uniform(0.05, 1.0, n), r.uniform(0.1, 0.9, n),
                                                  r.uniform(-1.0, 2.0, n)), _snv_keep)
    return _proof(core, _agreement(params, symbols, pts, qh.from_synthesized_nesterov), points)


@functools.lru_cache(maxsize=None)
def _rm_core(output, start):
    l, kappa, rho = sp.symbols("L kappa rho", positive=True)
    a, b, c = _rm_coefficients(l, kappa, rho)
    params = _snv_map(a, b, c)
    core = _core("robust_momentum", snv_system(a, b, c, "y" if output == "y" else "xi", start), params,
                 "y_k" if output == "y" else "x_k")
    return core, params, (l, kappa, rho)


def _rm_sampler(r, n):
    kappa = np.exp(r.uniform(np.log(2.0), np.log(1e3), n))
    low, high = 1 - 1 / np.sqrt(kappa), 1 - 1 / kappa
    return r.uniform(0.5, 2.0, n), kappa, low + r.uniform(0, 1, n) * (high - low)


def _rm_keep(l, kappa, rho):
    _, b, c = _rm_coefficients(l, kappa, rho)
    return np.abs(1 - c * (1 - b) / b) >= AWAY_FROM_ZERO


def prove_robust_momentum(output: str = "y", start: str = "rest", seed: int = 0,
                          points: int = POINTS) -> ConverterProof:
    """from_robust_momentum(l, kappa, rho) vs Robust Momentum's y_k (``output="x"``: x_k).

    (a, b, c) are transcribed here from Cyrus et al. 2018, independently of stochopt's code.

    >>> prove_robust_momentum().status
    'proved'
    """
    from stochopt import qh

    core, params, symbols = _rm_core(output, start)
    pts = _draw(_rng(seed), points, _rm_sampler, _rm_keep)
    return _proof(core, _agreement(params, symbols, pts, qh.from_robust_momentum), points)


@functools.lru_cache(maxsize=None)
def _tm_core(output, start):
    l, rho = sp.symbols("L rho", positive=True)
    kappa = 1 / (1 - rho) ** 2
    a, b, c = _rm_coefficients(l, kappa, rho)
    params = tuple(sp.cancel(p) for p in _snv_map(a, b, c))
    core = _core("triple_momentum", tm_system(l, rho, output, start), params,
                 "y_k" if output == "y" else "x_k (output)")
    return core, params, (l, rho)


def prove_triple_momentum(output: str = "y", start: str = "rest", seed: int = 0,
                          points: int = POINTS) -> ConverterProof:
    """from_robust_momentum(l, kappa) (rho = None) vs Van Scoy et al.'s Triple Momentum.

    kappa = 1/(1 - rho)^2 is substituted so that rho = 1 - 1/sqrt(kappa) needs no square root.

    >>> prove_triple_momentum().status, prove_triple_momentum(output="x").status
    ('proved', 'disproved')
    """
    from stochopt import qh

    core, params, symbols = _tm_core(output, start)
    pts = _draw(_rng(seed), points, lambda r, n: (r.uniform(0.5, 2.0, n), r.uniform(0.3, 0.99, n)),
                lambda l, rho: np.ones(len(l), bool))
    return _proof(core, _agreement(params, symbols, pts,
                                   lambda l, rho: qh.from_robust_momentum(l, 1 / (1 - rho) ** 2)), points)


@functools.lru_cache(maxsize=None)
def _accsgd_core(start):
    delta, kappa, xi, eps = sp.symbols("delta kappa xi epsilon", positive=True)
    params = _accsgd_map(delta, kappa, xi, eps)
    return _core("accsgd", accsgd_system(delta, kappa, xi, eps, start), params, "w_t"), params, (delta, kappa, xi, eps)


def _accsgd_sampler(r, n):
    kappa = np.exp(r.uniform(np.log(2.0), np.log(1e3), n))
    return r.uniform(0.01, 1.0, n), kappa, r.uniform(0.05, 1.0, n) * np.sqrt(kappa), r.uniform(0.1, 0.95, n)


def prove_accsgd(start: str = "rest", seed: int = 0, points: int = POINTS) -> ConverterProof:
    """from_accsgd vs AccSGD's w_t (``start="zero-memory"``: wbar_0 = 0).

    >>> proof = prove_accsgd()
    >>> proof.status, proof.matching, proof.numeric_agreement < 1e-14
    ('proved', 'w_t', True)
    """
    from stochopt import qh

    core, params, symbols = _accsgd_core(start)
    pts = _draw(_rng(seed), points, _accsgd_sampler,
                lambda d, kp, xi, e: np.abs((e * xi - 1) / (e * (1 + xi))) >= AWAY_FROM_ZERO)
    return _proof(core, _agreement(params, symbols, pts, qh.from_accsgd), points)


@functools.lru_cache(maxsize=None)
def _tso_core(formula, narrow, start):
    h, k_symbol, l, m, zc = sp.symbols("h k l m zeta", real=True)
    k = sp.Integer(0) if narrow else k_symbol
    q = 1 - k * m / (1 - h)
    beta = h + q - 1
    if formula == "general":
        params = _tso_map_general(h, k, l, m, q, zc)
    elif formula == "qhoptim":
        params = _tso_map_qhoptim(h, k, l, m, q, zc, phi=1 - beta)
    else:
        raise ValueError(f"formula must be 'general' or 'qhoptim'; got {formula!r}")
    params = tuple(sp.cancel(p) for p in params)
    name = "two_state" + ("" if formula == "general" else " (qhoptim formula)") + (" narrow" if narrow else "")
    core = _core(name, tso_system(h, k, l, m, q, zc, start), params, "x_t")
    return core, params, (h, k_symbol, l, m, zc)


def _tso_sampler(narrow):
    def sample(r, n):
        h, m = r.uniform(0.0, 0.9, n), -r.uniform(0.05, 1.0, n)
        k = np.zeros(n) if narrow else r.uniform(-0.5, 0.5, n)
        return h, k, r.uniform(-1.0, 1.0, n), m, -r.uniform(0.05, 1.0, n)
    return sample


def _tso_keep(h, k, l, m, zc):
    beta = h - k * m / (1 - h)                      # h + q - 1 with q = 1 - k m / (1 - h)
    lr = -(zc * (1 - h) + m * l) / (1 - beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        nu = (lr + zc) / (lr * beta)
    return (beta >= AWAY_FROM_ZERO) & (beta < 0.95) & (lr > AWAY_FROM_ZERO) & (np.abs(nu) >= AWAY_FROM_ZERO)


def prove_two_state(formula: str = "general", narrow: bool = False, start: str = "rest", seed: int = 0,
                    points: int = POINTS) -> ConverterProof:
    """A TSO with a unit eigenvalue vs QHM with the ``general`` map or ``qhoptim``'s formula.

    The unit-eigenvalue condition is imposed by q = 1 - k m/(1 - h); ``narrow=True`` also sets
    k = 0 (so q = 1), the case qhoptim's formula was written for. For qhoptim's formula,
    phi = sqrt((h - q)^2 + 4 k m) = 1 - beta with beta = h + q - 1 < 1 under the condition, and
    the transcription is compared with qhoptim's own code when it is installed.

    >>> prove_two_state().status, prove_two_state(start="zero-memory").failed
    ('proved', ['starts are rest points with output x0'])
    """
    from stochopt import qh

    core, params, symbols = _tso_core(formula, bool(narrow), start)
    pts = _draw(_rng(seed), points, _tso_sampler(narrow), _tso_keep)

    def code(h, k, l, m, zc):
        q = 1 - k * m / (1 - h)
        if formula == "general":
            return qh.from_two_state_optimizer(h, k, l, m, q, zc)
        from qhoptim.common import param_conv

        out = [param_conv.from_two_state_optimizer(*row) for row in zip(h, k, l, m, q, zc)]
        return {"lr": np.array([o.alpha for o in out]), "momentum": np.array([o.beta for o in out]),
                "nu": np.array([o.nu for o in out])}

    try:
        numeric = _agreement(params, symbols, pts, code)
    except ImportError:  # qhoptim not installed: the qhoptim transcription cannot be compared
        numeric = None
    return _proof(core, numeric, points, {"condition": "(1 - h)(1 - q) = k m", "formula": formula})


def prove_all(seed: int = 0) -> dict:
    """{name: ConverterProof} for every converter (all must be proved).

    >>> sorted(name for name, proof in prove_all().items() if proof)
    ['accsgd', 'pid', 'robust_momentum', 'synthesized_nesterov', 'triple_momentum', 'two_state']
    """
    return {"pid": prove_pid(seed=seed), "synthesized_nesterov": prove_synthesized_nesterov(seed=seed),
            "robust_momentum": prove_robust_momentum(seed=seed), "triple_momentum": prove_triple_momentum(seed=seed),
            "accsgd": prove_accsgd(seed=seed), "two_state": prove_two_state(seed=seed)}


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
