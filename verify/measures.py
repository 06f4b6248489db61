"""Stationarity measures: the min-norm point of a convex hull, Goldstein and Clarke distances.

All norms are Euclidean (l2).

The core problem (spec 5.1) is: given the rows g_1..g_m of G, find weights lambda on the simplex
minimising ||sum_i lambda_i g_i||. The solution v* is characterised by the optimality condition

    min_i <g_i, v> >= ||v||^2          (v in conv{g_i})

and every answer returned here carries the *certificate* of that condition:
``gap = ||v||^2 - min_i <g_i, v>`` (the Frank-Wolfe gap). For any v in the hull,
``||v - v*||^2 <= gap`` and ``||v|| - gap / ||v|| <= ||v*|| <= ||v||``, so a small gap bounds the
error of both the point and its norm. ``certified`` is True when
``gap <= tol ||v||^2 + floor``, where ``floor = 64 eps sqrt(d) max_i ||g_i|| ||v||`` is the rounding
level of the inner products (eps = machine epsilon), or when ``||v|| <= 64 eps sqrt(d) max_i ||g_i||``
(v is zero to working precision): the reported norm is then exact to the relative tolerance
``tol`` or to ``64 eps sqrt(d) max_i ||g_i||`` absolute, whichever is larger.

Solvers: the min-norm problem is rewritten exactly as the non-negative least-squares problem

    min_{u >= 0} ||G^T u||^2 + (1^T u - 1)^2,          lambda = u / 1^T u

(for u = t lambda the objective is t^2 ||G^T lambda||^2 + (t - 1)^2, minimised over t by
t = 1 / (1 + ||v*||^2), so the optimal direction lambda is the min-norm weight vector). It is
solved by the Lawson-Hanson active-set algorithm (``scipy.optimize.nnls``), polished by an exact
affine solve on its support, and checked. When the certificate fails, Wolfe's finite algorithm
(P. Wolfe, "Finding the nearest point in a polytope", Math. Programming 11, 1976) is run from
that support on the Gram matrix regularised by a tiny multiple of its trace, and the better
certified answer is kept. A failing certificate is reported (``certified=False``), never hidden.

>>> import numpy as np
>>> res = min_norm_point(np.array([[1.0, 0.0], [0.0, 1.0]]))
>>> res.point, res.weights, bool(res.certified)
(array([0.5, 0.5]), array([0.5, 0.5]), True)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import nnls
from scipy.special import ndtr

__all__ = [
    "MinNormResult",
    "min_norm_point",
    "certificate",
    "GoldsteinResult",
    "goldstein",
    "default_samples",
    "sample_ball",
    "ClarkeResult",
    "clarke_distance",
]

_EPS = np.finfo(float).eps
DEFAULT_TOL = 1e-9


@dataclass
class MinNormResult:
    """Min-norm point of conv{rows of G} (batched over leading axes of G).

    Fields
    ------
    point : (..., d) the min-norm point v = G^T lambda.
    weights : (..., m) lambda, on the simplex.
    active : (..., m) bool, lambda_i > 0.
    norm : (...) ||v||.
    gap : (...) ||v||^2 - min_i <g_i, v> (the optimality certificate's slack; >= ||v - v*||^2).
    certified : (...) bool, gap <= tol ||v||^2 + rounding floor.
    lower_bound : (...) a certified lower bound on ||v*||: max(0, min_i <g_i, v>) / ||v||.
    solver : name of the solver that produced the answer ("nnls", "wolfe", "trivial").
    """

    point: np.ndarray
    weights: np.ndarray
    active: np.ndarray
    norm: np.ndarray
    gap: np.ndarray
    certified: np.ndarray
    lower_bound: np.ndarray
    solver: object = None
    tol: float = DEFAULT_TOL


def certificate(G, weights, tol: float = DEFAULT_TOL):
    """Check the optimality certificate of spec 5.1 for given weights.

    Returns ``(certified, gap)`` for the point v = G^T weights. The weights must be on the
    simplex (checked to 1e-12); a wrong weight vector gives a positive gap and fails.

    >>> import numpy as np
    >>> G = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> certificate(G, [0.5, 0.5])[0], certificate(G, [0.9, 0.1])[0]
    (True, False)
    """
    G = np.asarray(G, dtype=float)
    w = np.asarray(weights, dtype=float)
    if G.ndim != 2 or w.shape != (G.shape[0],):
        raise ValueError(f"certificate: G must be (m, d) and weights (m,); got {G.shape} and {w.shape}")
    if np.any(w < -1e-12) or abs(w.sum() - 1.0) > 1e-12 * max(1, w.size):
        return False, float("inf")
    v = w @ G
    ok, gap, _ = _certify(G, v, tol)
    return bool(ok), float(gap)


def _certify(G, v, tol):
    vv = float(v @ v)
    inner = G @ v
    low = float(inner.min())
    gap = max(vv - low, 0.0)
    nv = np.sqrt(vv)
    scale = float(np.sqrt(np.max(np.einsum("ij,ij->i", G, G)))) if G.size else 0.0
    floor = 64.0 * _EPS * np.sqrt(G.shape[1]) * scale * nv
    lower = max(low, 0.0) / nv if nv > 0 else 0.0
    resolution = 64.0 * _EPS * np.sqrt(G.shape[1]) * scale  # absolute rounding level of v itself
    return bool(gap <= tol * vv + floor or nv <= resolution), gap, lower


def _affine_min(G, S, reg):
    """Weights (on the affine hull of rows S) of the point of aff{g_i: i in S} nearest to 0."""
    Q = G[S] @ G[S].T
    n = len(S)
    if n == 1:
        return np.ones(1)
    Q = Q + reg * (np.trace(Q) / n + 1e-300) * np.eye(n)
    K = np.zeros((n + 1, n + 1))
    K[:n, :n] = Q
    K[:n, n] = 1.0
    K[n, :n] = 1.0
    rhs = np.zeros(n + 1)
    rhs[n] = 1.0
    sol = np.linalg.lstsq(K, rhs, rcond=None)[0]
    a = sol[:n]
    return a / a.sum()


def _wolfe(G, tol, start=None, max_iter=None, reg=1e-14):
    """Wolfe's (1976) min-norm-point algorithm on the rows of G. Returns the weight vector."""
    m = G.shape[0]
    max_iter = max_iter or 50 * (m + G.shape[1]) + 100
    sq = np.einsum("ij,ij->i", G, G)
    if start is None or len(start) == 0:
        S = [int(np.argmin(sq))]
        w = np.ones(1)
    else:
        S = [int(i) for i in start]
        w = np.full(len(S), 1.0 / len(S))
        a = _affine_min(G, S, reg)
        if np.all(a > 0):
            w = a
    x = w @ G[S]
    scale = np.max(sq) if m else 1.0
    for _ in range(max_iter):
        inner = G @ x
        j = int(np.argmin(inner))
        xx = x @ x
        if xx - inner[j] <= tol * xx + 64 * _EPS * np.sqrt(G.shape[1] * scale) * np.sqrt(xx) or j in S:
            break
        S.append(j)
        w = np.append(w, 0.0)
        for _minor in range(len(S) + 2):
            a = _affine_min(G, S, reg)
            if np.all(a > 1e-15):
                w = a
                break
            neg = a <= 1e-15
            ratios = w[neg] / np.maximum(w[neg] - a[neg], 1e-300)
            theta = float(np.clip(ratios.min(), 0.0, 1.0))
            w = w + theta * (a - w)
            keep = w > 1e-15
            keep[int(np.argmax(w))] = True
            S = [s for s, kk in zip(S, keep) if kk]
            w = w[keep]
            w = w / w.sum()
        x = w @ G[S]
    out = np.zeros(m)
    out[S] = w
    return out / out.sum()


def _nnls_weights(G):
    m, d = G.shape
    E = np.vstack([G.T, np.ones((1, m))])
    f = np.zeros(d + 1)
    f[d] = 1.0
    try:
        u = nnls(E, f, maxiter=50 * (m + d))[0]
    except RuntimeError:
        return None
    total = u.sum()
    if not np.isfinite(total) or total <= 0:
        return None
    return u / total


def _polish(G, w, tol):
    """Exact affine solve on the support of w (kept only if feasible and no worse)."""
    S = np.flatnonzero(w > 0)
    if S.size < 2:
        return w
    a = _affine_min(G, list(S), 0.0)
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        return w
    cand = np.zeros_like(w)
    cand[S] = a
    g_old = _certify(G, w @ G, tol)[1]
    g_new = _certify(G, cand @ G, tol)[1]
    return cand if g_new <= g_old else w


def _solve_one(G, tol, method):
    m, d = G.shape
    sq = np.einsum("ij,ij->i", G, G)
    scale = np.sqrt(sq.max())
    if scale == 0 or m == 1:
        w = np.zeros(m)
        w[int(np.argmin(sq))] = 1.0
        return w, "trivial"
    Gs = G / scale  # scale-free solve; the weights are invariant
    candidates = []
    if method in ("auto", "nnls"):
        w = _nnls_weights(Gs)
        if w is not None:
            w = _polish(Gs, w, tol)
            ok, gap, _ = _certify(G, w @ G, tol)
            if ok or method == "nnls":
                return w, "nnls"
            candidates.append((gap, w, "nnls"))
    start = None if not candidates else np.flatnonzero(candidates[0][1] > 0)
    w = _wolfe(Gs, tol, start=start)
    ok, gap, _ = _certify(G, w @ G, tol)
    candidates.append((gap, w, "wolfe"))
    if not ok and start is not None:
        w = _wolfe(Gs, tol)
        candidates.append((_certify(G, w @ G, tol)[1], w, "wolfe"))
    gap, w, name = min(candidates, key=lambda c: c[0])
    return w, name


def min_norm_point(G, tol: float = DEFAULT_TOL, method: str = "auto") -> MinNormResult:
    """Min-norm point of the convex hull of the rows of ``G`` (shape (..., m, d)).

    Parameters
    ----------
    G : array (m, d) (rows are gradients), or (..., m, d) for a batch of independent problems.
    tol : relative tolerance of the certificate (see the module docstring).
    method : "auto" (NNLS, then Wolfe when the certificate fails), "nnls" or "wolfe".

    Returns a ``MinNormResult``; with a batch, every field has the leading axes of G.

    >>> import numpy as np
    >>> min_norm_point(np.array([[2.0, 1.0]])).point          # a single vector is itself
    array([2., 1.])
    >>> r = min_norm_point(np.array([[1.0, 1.0], [-1.0, -1.0], [3.0, 0.0]]))
    >>> float(r.norm), bool(r.certified)                        # 0 is in the hull
    (0.0, True)
    >>> min_norm_point(np.ones((4, 2, 3))).point.shape          # batched
    (4, 3)
    """
    if method not in ("auto", "nnls", "wolfe"):
        raise ValueError(f"method must be 'auto', 'nnls' or 'wolfe'; got {method!r}")
    G = np.asarray(G, dtype=float)
    if G.ndim < 2 or G.shape[-2] < 1 or G.shape[-1] < 1:
        raise ValueError(f"G must have shape (..., m, d) with m, d >= 1; got {G.shape}")
    if not np.all(np.isfinite(G)):
        raise ValueError("G must be finite (a gradient was NaN or inf)")
    tol = float(tol)
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0; got {tol}")
    batch = G.shape[:-2]
    m, d = G.shape[-2:]
    flat = G.reshape(-1, m, d)
    n = flat.shape[0]
    W = np.zeros((n, m))
    V = np.zeros((n, d))
    gaps, certs, lowers, solvers = np.zeros(n), np.zeros(n, bool), np.zeros(n), []
    for b in range(n):
        w, name = _solve_one(flat[b], tol, method)
        W[b] = w
        V[b] = w @ flat[b]
        certs[b], gaps[b], lowers[b] = _certify(flat[b], V[b], tol)
        solvers.append(name)
    norms = np.sqrt(np.einsum("ij,ij->i", V, V))
    shape = lambda a, tail=(): a.reshape(batch + tail)  # noqa: E731
    if not batch:
        return MinNormResult(V[0], W[0], W[0] > 0, norms[0], gaps[0], bool(certs[0]), lowers[0], solvers[0], tol)
    return MinNormResult(shape(V, (d,)), shape(W, (m,)), shape(W > 0, (m,)), shape(norms), shape(gaps),
                         shape(certs), shape(lowers), np.array(solvers, dtype=object).reshape(batch), tol)


# --------------------------------------------------------------------------------- Goldstein
def default_samples(d: int) -> int:
    """Default number of sampled gradients: min(100, 2d, d + 10), as in HANSO / PyGRANSO.

    >>> default_samples(3), default_samples(20), default_samples(500)
    (6, 30, 100)
    """
    return int(min(100, 2 * d, d + 10))


def sample_ball(x, eps: float, samples: int, seed: int = 0, replica_ids=None) -> np.ndarray:
    """Points uniform in the ball B(x, eps): y = x + eps U^{1/d} z / ||z||.

    ``x`` is (d,) or (R, d); the result is (samples, d) or (R, samples, d). Replica r's points
    come from ``np.random.default_rng([seed, r])``, so they do not depend on how many replicas
    are measured together, and the first m points for ``samples > m`` are the points for ``samples = m``.

    >>> sample_ball([0.0, 0.0], 1.0, 5, seed=1).shape
    (5, 2)
    """
    x = np.asarray(x, dtype=float)
    single = x.ndim == 1
    X = x[None] if single else x
    R, d = X.shape
    ids = np.arange(R) if replica_ids is None else np.asarray(replica_ids, dtype=np.int64)
    out = np.empty((R, samples, d))
    for r in range(R):
        rng = np.random.default_rng([int(seed), int(ids[r])])
        # one row of d + 1 normals per point (the last one gives U = Phi(z')), so the first m
        # points of a larger sample are the m points of a smaller one: the measure is monotone in m.
        zz = rng.standard_normal((samples, d + 1))
        z, u = zz[:, :d], ndtr(zz[:, d])
        norms = np.sqrt(np.einsum("ij,ij->i", z, z))
        out[r] = X[r] + (eps * u ** (1.0 / d) / norms)[:, None] * z
    return out[0] if single else out


@dataclass
class GoldsteinResult:
    """Sampled Goldstein eps-stationarity measure (spec 5.2).

    value : ||min-norm point of conv{grad f(y_i)}||, y_i uniform in B(x, eps); scalar or (R,).
    eps, samples, seed : the parameters used.
    certified : the min-norm solves' certificates (scalar or (R,)).
    points : (m, d) or (R, m, d) sampled points y_i; gradients : their gradients.
    weights : (m,) or (R, m) min-norm weights; direction : the min-norm vector itself.
    """

    value: object
    eps: float
    samples: int
    seed: int
    certified: object
    points: np.ndarray
    gradients: np.ndarray
    weights: np.ndarray
    direction: np.ndarray
    norm: str = "l2"


def _grad_fn(problem):
    if hasattr(problem, "grad"):
        return problem.grad
    if hasattr(problem, "oracle") and hasattr(problem, "n_samples"):
        n = int(problem.n_samples)
        return lambda y: problem.oracle(y, np.broadcast_to(np.arange(n), (y.shape[0], n)))
    if callable(problem):
        return problem
    raise TypeError("goldstein needs a problem with grad(x) (or oracle and n_samples), or a gradient function")


def goldstein(problem, x, eps: float, samples: int | None = None, seed: int = 0, tol: float = DEFAULT_TOL,
              replica_ids=None) -> GoldsteinResult:
    """Sampled Goldstein measure: an upper bound on dist(0, d_eps f(x)) (up to the QP tolerance).

    Gradients are taken with the full-batch ``problem.grad`` at ``samples`` points uniform in the
    ball B(x, eps), never at x itself (which may sit on a kink). ``problem`` may be any object
    with ``grad(y)`` for y of shape (n, d) (or ``oracle`` and ``n_samples``), or a gradient function.

    >>> import numpy as np
    >>> class Abs:                                   # f(x) = |x_1| + x_2^2 / 2
    ...     def grad(self, y): return np.stack([np.sign(y[:, 0]), y[:, 1]], axis=1)
    >>> r = goldstein(Abs(), np.array([0.0, 0.0]), eps=1e-3, seed=0)
    >>> float(r.value) < 1e-3, r.samples
    (True, 4)
    >>> goldstein(Abs(), np.array([[0.0, 0.0], [1.0, 0.0]]), eps=1e-3).value.round(3)
    array([0., 1.])
    """
    grad = _grad_fn(problem)
    x = np.asarray(x, dtype=float)
    if x.ndim not in (1, 2):
        raise ValueError(f"x must have shape (d,) or (R, d); got {x.shape}")
    eps = float(eps)
    if not eps > 0 or not np.isfinite(eps):
        raise ValueError(f"eps must be a finite positive radius; got {eps}")
    d = x.shape[-1]
    m = default_samples(d) if samples is None else int(samples)
    if m < 1:
        raise ValueError(f"samples must be >= 1; got {samples}")
    Y = sample_ball(x, eps, m, seed, replica_ids)
    flat = Y.reshape(-1, d)
    g = np.asarray(grad(flat), dtype=float).reshape(Y.shape)
    res = min_norm_point(g, tol=tol)
    return GoldsteinResult(res.norm, eps, m, int(seed), res.certified, Y, g, res.weights, res.point)


# ------------------------------------------------------------------------------------ Clarke
@dataclass
class ClarkeResult:
    """Exact dist(0, Clarke subdifferential) from the problem's generators.

    value : scalar or (R,); point : the min-norm element; generators : list of (m_r, d) arrays;
    weights : list of (m_r,) arrays; certified : the certificates.
    """

    value: object
    point: np.ndarray
    certified: object
    generators: list = field(default_factory=list)
    weights: list = field(default_factory=list)
    norm: str = "l2"


def _generators(problem, x, eps=None):
    out = problem.clarke(x) if eps is None else problem.clarke(x, tol=eps)
    out = getattr(out, "generators", out)
    G = np.asarray(out, dtype=float)
    if G.ndim == 1:
        G = G[None]
    if G.ndim != 2 or G.shape[1] != x.shape[-1]:
        raise ValueError(f"problem.clarke(x) must return generators of shape (m, {x.shape[-1]}); got {G.shape}")
    G = G[np.all(np.isfinite(G), axis=1)]
    if G.shape[0] == 0:
        raise ValueError("problem.clarke(x) returned no finite generator")
    return G


def clarke_distance(problem, x, tol: float = DEFAULT_TOL, eps: float | None = None) -> ClarkeResult:
    """dist(0, conv{generators}) with the generators from ``problem.clarke(x)``.

    This is the exact Clarke stationarity measure for problems that know their active pieces;
    x may be (d,) or (R, d) (one clarke call per replica; a row that is not finite, e.g. a diverged
    replica, gives NaN). With ``eps`` the generators are those of every piece active within
    ``eps`` (``problem.clarke(x, tol=eps)``, relative to max(1, |f(x)|)): the epsilon-active Clarke
    measure dist(0, conv{grad f_j(x) : f_j(x) >= f(x) - eps}), which goes to 0 along iterates
    converging to a Clarke-stationary point when eps shrinks no faster than the pieces' gaps there.

    >>> import numpy as np
    >>> class MaxAffine:                              # f(x) = max(x_1, -x_1) + x_2
    ...     def clarke(self, x, tol=1e-9):
    ...         g = [[1.0, 1.0], [-1.0, 1.0]]
    ...         return np.array(g if abs(x[0]) <= tol else [g[0] if x[0] > 0 else g[1]])
    >>> float(clarke_distance(MaxAffine(), np.zeros(2)).value)
    1.0
    >>> float(clarke_distance(MaxAffine(), np.array([0.01, 0.0])).value)              # one active piece
    1.4142135623730951
    >>> float(clarke_distance(MaxAffine(), np.array([0.01, 0.0]), eps=0.1).value)     # both within 0.1
    1.0
    """
    if not hasattr(problem, "clarke"):
        raise TypeError(f"{type(problem).__name__} has no clarke(x): the exact Clarke distance is unknown; use goldstein")
    if eps is not None and not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite activity tolerance >= 0; got {eps}")
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        G = _generators(problem, x, eps)
        r = min_norm_point(G, tol=tol)
        return ClarkeResult(r.norm, r.point, r.certified, [G], [r.weights])
    if x.ndim != 2:
        raise ValueError(f"x must have shape (d,) or (R, d); got {x.shape}")
    vals, pts, certs, gens, ws = [], [], [], [], []
    for row in x:
        if not np.all(np.isfinite(row)):
            vals.append(np.nan)
            pts.append(np.full(x.shape[1], np.nan))
            certs.append(False)
            gens.append(np.empty((0, x.shape[1])))
            ws.append(np.empty(0))
            continue
        G = _generators(problem, row, eps)
        r = min_norm_point(G, tol=tol)
        vals.append(r.norm)
        pts.append(r.point)
        certs.append(r.certified)
        gens.append(G)
        ws.append(r.weights)
    return ClarkeResult(np.array(vals), np.array(pts), np.array(certs), gens, ws)
