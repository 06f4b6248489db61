"""Finite sums on synthetic data: l1 regression, hinge SVM, lasso, phase retrieval, and the
smooth controls (least squares, logistic regression); plus the max of affine functions.

Data are drawn from ``np.random.default_rng(seed)`` at construction (never downloaded).
``oracle(x, idx)`` averages the per-sample oracle over each replica's indices; |.| and
max(0, .) use derivative 0 at their kink (like automatic differentiation). Where no closed
form exists, x* and f* are computed on first access by an exact solver (an LP for l1
regression and max-affine, a dual QP for the SVM, coordinate descent for the lasso, Newton's
method for logistic regression) and then polished on the identified active set, so that the
answer is exact to rounding; docs/problems.md lists the resulting numbers.

>>> import numpy as np, problems
>>> p = problems.get("l1-regression", n=40, d=3, seed=1)
>>> bool(p.value(p.x_star) <= p.value(p.x0)), p.clarke(p.x_star).shape[1]
(True, 3)
"""
from __future__ import annotations

import numpy as np

from ._base import FiniteSum, batch_mean, bdot, check_int, check_real, einsum, rowsum, zonotope
from ._piecewise import Piecewise

__all__ = ["L1Regression", "HingeSVM", "MaxAffine", "Lasso", "PhaseRetrieval", "Quadratic", "Logistic"]

_SOLVE = 1e-7  # activity threshold used when polishing a solver's answer on its active set


def _gather_dot(A, x, idx):
    """Rows A[idx] (..., b, d) (gathered once) and their dot products with x (..., d) -> (..., b).

    einsum without optimisation contracts each replica in the same order whatever the number
    of replicas (no BLAS across the replica axis) and builds no (..., b, d) product. The
    callers then work in place on the (..., b) result: no further temporaries of that size.
    """
    rows = A.take(idx, axis=0)
    return rows, einsum("...bd,...d->...b", rows, np.ascontiguousarray(x))


def _weighted_mean(coef, rows):
    """(1/b) sum_j coef_j rows_j: (..., b), (..., b, d) -> (..., d), replica-stable."""
    out = einsum("...b,...bd->...d", np.ascontiguousarray(coef), rows)
    if rows.shape[-2] > 1:  # dividing by 1 changes nothing
        out /= rows.shape[-2]
    return out


class _Data(FiniteSum):
    def __init__(self, n, d, seed, params, **extra):
        self.n = check_int("n", n, low=1)
        d = check_int("d", d, low=1)
        self.seed = check_int("seed", seed, low=0)
        self.rng = np.random.default_rng(self.seed)
        self.A = self.rng.standard_normal((self.n, d))
        self.A.flags.writeable = False
        self.n_samples = self.n
        self._setup(**extra)
        super().__init__(d, self._start(d), params, constants=self._constants())

    def _start(self, d):
        return np.zeros(d)

    def _constants(self):
        return {}

    def _full(self, x, coef):
        """(1/N) sum_i coef_i a_i for coef (..., N) -> (..., d)."""
        return einsum("...n,nj->...j", coef, self.A) / self.n


class L1Regression(_Data):
    """l1 regression (1/N) sum_i |a_i^T x - b_i|, convex; b = A x_true + Laplace noise.

    x* by linear programming, polished on the d zero residuals; the Clarke set is a zonotope.

    >>> import problems
    >>> p = problems.get("l1-regression", n=30, d=2, seed=0); len(p.params)
    4
    """

    name, convex, has_clarke = "l1-regression", True, True
    reference = "Bertsimas & Tsitsiklis (1997), Introduction to Linear Optimization (LAD regression as an LP)"
    formula = "(1/N) sum_i |a_i^T x - b_i|"

    def __init__(self, n=200, d=10, noise=0.1, seed=0):
        noise = check_real("noise", noise, low=0.0)
        super().__init__(n, d, seed, {"n": n, "d": d, "noise": noise, "seed": seed}, noise=noise)

    def _setup(self, noise):
        self.x_true = self.rng.standard_normal(self.A.shape[1])
        self.b = self.A @ self.x_true + noise * self.rng.laplace(size=self.n)

    def _constants(self):
        return {"lipschitz": float(np.linalg.norm(self.A, axis=1).mean())}

    def _value(self, x):
        return rowsum(np.abs(bdot(x, self.A) - self.b)) / self.n

    def _grad(self, x):
        return self._full(x, np.sign(bdot(x, self.A) - self.b))

    def _oracle(self, x, idx):
        rows, ax = _gather_dot(self.A, x, idx)
        ax -= self.b[idx]
        return _weighted_mean(np.sign(ax, out=ax), rows)

    def _solve(self):
        from scipy.optimize import linprog

        n, d = self.A.shape
        eye = np.eye(n)
        res = linprog(np.concatenate([np.zeros(d), np.ones(n)]),
                      A_ub=np.block([[self.A, -eye], [-self.A, -eye]]), b_ub=np.concatenate([self.b, -self.b]),
                      bounds=[(None, None)] * d + [(0, None)] * n, method="highs")
        x = res.x[:d]
        active = np.abs(self.A @ x - self.b) <= _SOLVE * np.maximum(1.0, np.abs(self.b))
        if active.sum() >= d:
            polished = np.linalg.lstsq(self.A[active], self.b[active], rcond=None)[0]
            if self.value(polished) <= self.value(x) + 1e-12:
                x = polished
        return x, float(self.value(x))

    def _clarke(self, x, tol):
        r = self.A @ x - self.b
        kink = np.abs(r) <= tol * np.maximum(1.0, np.abs(self.b))
        center = np.sign(np.where(kink, 0.0, r)) @ self.A / self.n
        a = self.A[kink] / self.n
        return zonotope(center, -a, a)


class HingeSVM(_Data):
    """Hinge-loss SVM with l2 penalty: (1/N) sum_i max(0, 1 - y_i a_i^T x) + (lam/2)|x|^2, convex.

    Labels y = sign(a^T w + 0.5 noise). x* from the dual box QP (L-BFGS-B), polished on the
    margin-one samples.

    >>> import problems
    >>> p = problems.get("hinge-svm", n=40, d=3); round(float(p.value(p.x0)), 3)
    1.0
    """

    name, convex, has_clarke = "hinge-svm", True, True
    reference = "Shalev-Shwartz, Singer, Srebro & Cotter (2011), Pegasos, Math. Program. 127"
    formula = "(1/N) sum_i max(0, 1 - y_i a_i^T x) + (lam/2) |x|^2"

    def __init__(self, n=200, d=5, lam=0.1, seed=0):
        self.lam = check_real("lam", lam, low=0.0, low_open=True)
        super().__init__(n, d, seed, {"n": n, "d": d, "lam": self.lam, "seed": seed})

    def _setup(self):
        w = self.rng.standard_normal(self.A.shape[1])
        self.y = np.where(self.A @ w + 0.5 * self.rng.standard_normal(self.n) >= 0, 1.0, -1.0)
        self._ya = self.y[:, None] * self.A

    def _constants(self):
        return {"strong_convexity_mu": self.lam}

    def _value(self, x):
        m = bdot(x, self._ya)
        return rowsum(np.maximum(0.0, 1.0 - m)) / self.n + 0.5 * self.lam * rowsum(x * x)

    def _grad(self, x):
        m = bdot(x, self._ya)
        return einsum("...n,nj->...j", np.where(m < 1, -1.0, 0.0), self._ya) / self.n + self.lam * x

    def _oracle(self, x, idx):
        rows, m = _gather_dot(self._ya, x, idx)
        g = _weighted_mean(np.where(m < 1, -1.0, 0.0), rows)
        g += self.lam * x
        return g

    def _solve(self):
        from scipy.optimize import minimize

        Z, N, lam = self._ya, self.n, self.lam

        def neg_dual(beta):
            w = Z.T @ beta
            return -(beta.sum() / N) + (w @ w) / (2 * lam * N * N), -(1.0 / N) + (Z @ w) / (lam * N * N)

        res = minimize(neg_dual, np.full(N, 0.5), jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * N,
                       options={"ftol": 1e-16, "gtol": 1e-14, "maxiter": 20000})
        x = Z.T @ res.x / (lam * N)
        m = Z @ x
        S = np.abs(m - 1) <= 1e-6
        V = m < 1 - 1e-6
        if S.any():
            zV = Z[V].sum(axis=0)
            K = Z[S] @ Z[S].T / (lam * N)
            beta_S = np.linalg.lstsq(K, 1.0 - Z[S] @ zV / (lam * N), rcond=None)[0]
            polished = (zV + Z[S].T @ beta_S) / (lam * N)
            if np.all(beta_S >= -1e-9) and np.all(beta_S <= 1 + 1e-9) and self.value(polished) <= self.value(x) + 1e-12:
                x = polished
        return x, float(self.value(x))

    def _clarke(self, x, tol):
        m = self._ya @ x
        kink = np.abs(m - 1) <= tol
        center = np.where((m < 1) & ~kink, -1.0, 0.0) @ self._ya / self.n + self.lam * x
        a = self._ya[kink] / self.n
        return zonotope(center, -a, np.zeros_like(a))


class MaxAffine(Piecewise):
    """Max of m affine functions max_k (g_k^T x + c_k) in R^d, convex; g_k centred so 0 is inside
    their hull and f is bounded below. Deterministic (n_samples = 1); x* by LP, polished.

    >>> import problems
    >>> p = problems.get("max-affine", m=8, d=2); len(p.active_pieces(p.x_star)[0])
    3
    """

    name, convex = "max-affine", True
    reference = "Nesterov (2004), Introductory Lectures on Convex Optimization, Sec. 3.2 (piecewise-linear lower bounds)"
    formula = "max_k (g_k^T x + c_k)"

    def __init__(self, m=20, d=5, seed=0):
        m = check_int("m", m, low=1)
        d = check_int("d", d, low=1)
        seed = check_int("seed", seed, low=0)
        if m <= d:
            raise ValueError(f"m (number of affine pieces) must be > d = {d} for the max to be bounded below; got {m}")
        rng = np.random.default_rng(seed)
        G = rng.standard_normal((m, d))
        self.G = G - G.mean(axis=0)
        self.c = rng.standard_normal(m)
        super().__init__(d, np.zeros(d), {"m": m, "d": d, "seed": seed},
                         constants={"lipschitz": float(np.linalg.norm(self.G, axis=1).max())})

    def _pieces(self, x):
        return (bdot(x, self.G) + self.c)[..., None, :]

    def _select_grad(self, x, which):
        return np.broadcast_to(self.G[which[..., 0]], x.shape).copy()

    def _solve(self):
        from scipy.optimize import linprog

        m, d = self.G.shape
        res = linprog(np.concatenate([np.zeros(d), [1.0]]), A_ub=np.hstack([self.G, -np.ones((m, 1))]), b_ub=-self.c,
                      bounds=[(None, None)] * (d + 1), method="highs")
        x, t = res.x[:d], res.x[d]
        active = self.G @ x + self.c >= t - _SOLVE
        sol = np.linalg.lstsq(np.hstack([self.G[active], -np.ones((active.sum(), 1))]), -self.c[active], rcond=None)[0]
        if self.value(sol[:d]) <= self.value(x) + 1e-12:
            x = sol[:d]
        return x, float(self.value(x))


class Lasso(_Data):
    """l1-penalised least squares (1/(2N)) |Ax - b|^2 + lam |x|_1, convex; sparse x_true.

    Per-sample f_i = (a_i^T x - b_i)^2 / 2 + lam |x|_1; the Clarke set is a box around the
    smooth gradient on the zero coordinates. x* by coordinate descent, polished on the support.

    >>> import problems
    >>> p = problems.get("lasso", n=50, d=4, lam=0.1); int((p.x_star != 0).sum()) <= 4
    True
    """

    name, convex, has_clarke = "lasso", True, True
    reference = "Tibshirani (1996), Regression shrinkage and selection via the lasso, JRSS B 58"
    formula = "(1/(2N)) |Ax - b|^2 + lam |x|_1"

    def __init__(self, n=100, d=10, lam=0.1, sparsity=3, noise=0.1, seed=0):
        self.lam = check_real("lam", lam, low=0.0)
        sparsity = check_int("sparsity", sparsity, low=0, high=check_int("d", d, low=1))
        noise = check_real("noise", noise, low=0.0)
        super().__init__(n, d, seed, {"n": n, "d": d, "lam": self.lam, "sparsity": sparsity, "noise": noise,
                                      "seed": seed}, sparsity=sparsity, noise=noise)

    def _setup(self, sparsity, noise):
        d = self.A.shape[1]
        self.x_true = np.zeros(d)
        self.x_true[self.rng.permutation(d)[:sparsity]] = self.rng.standard_normal(sparsity)
        self.b = self.A @ self.x_true + noise * self.rng.standard_normal(self.n)

    def _constants(self):
        return {"smoothness_L": float(np.linalg.eigvalsh(self.A.T @ self.A / self.n).max())}

    def _value(self, x):
        r = bdot(x, self.A) - self.b
        return 0.5 * rowsum(r * r) / self.n + self.lam * rowsum(np.abs(x))

    def _grad(self, x):
        return self._full(x, bdot(x, self.A) - self.b) + self.lam * np.sign(x)

    def _oracle(self, x, idx):
        rows, ax = _gather_dot(self.A, x, idx)
        ax -= self.b[idx]
        g = _weighted_mean(ax, rows)
        g += self.lam * np.sign(x)
        return g

    def _solve(self):
        A, b, N, lam = self.A, self.b, self.n, self.lam
        d = A.shape[1]
        H, c = A.T @ A / N, A.T @ b / N
        x = np.zeros(d)
        for _ in range(100000):
            old = x.copy()
            for j in range(d):
                z = c[j] - H[j] @ x + H[j, j] * x[j]
                x[j] = np.sign(z) * max(abs(z) - lam, 0.0) / H[j, j]
            if np.max(np.abs(x - old)) <= 1e-15 * max(1.0, np.max(np.abs(x))):
                break
        S = np.abs(x) > 0
        if S.any():
            xs = np.zeros(d)
            xs[S] = np.linalg.solve(H[np.ix_(S, S)], c[S] - lam * np.sign(x[S]))
            if np.all(np.sign(xs[S]) == np.sign(x[S])) and self.value(xs) <= self.value(x) + 1e-12:
                x = xs
        return x, float(self.value(x))

    def _clarke(self, x, tol):
        smooth = self.A.T @ (self.A @ x - self.b) / self.n
        kink = np.abs(x) <= tol
        center = smooth + self.lam * np.sign(np.where(kink, 0.0, x))
        e = self.lam * np.eye(self.dim)[kink]
        return zonotope(center, -e, e, what="coordinates")


class PhaseRetrieval(_Data):
    """Robust phase retrieval (1/N) sum_i |(a_i^T x)^2 - b_i|, nonconvex but weakly convex.

    b_i = (a_i^T x_true)^2 (+ noise * |N(0,1)|); without noise x* = +-x_true and f* = 0.
    x0 is an independent standard normal draw. Weak convexity: rho = 2 lambda_max(A^T A / N).

    >>> import problems
    >>> p = problems.get("phase-retrieval", n=30, d=3); p.f_star, abs(float(p.value(p.x_star))) < 1e-12
    (0.0, True)
    """

    name, convex, has_clarke = "phase-retrieval", False, True
    reference = "Duchi & Ruan (2019), Solving (most) of a set of quadratic equalities, Inf. Inference 8; " \
                "Davis & Drusvyatskiy (2019), Stochastic model-based minimization of weakly convex functions"
    formula = "(1/N) sum_i |(a_i^T x)^2 - b_i|"

    def __init__(self, n=100, d=5, noise=0.0, seed=0):
        noise = check_real("noise", noise, low=0.0)
        super().__init__(n, d, seed, {"n": n, "d": d, "noise": noise, "seed": seed}, noise=noise)
        if noise == 0.0:
            self._solution = (self.x_true, 0.0)

    def _setup(self, noise):
        d = self.A.shape[1]
        self.x_true = self.rng.standard_normal(d)
        self.b = (self.A @ self.x_true) ** 2 + noise * np.abs(self.rng.standard_normal(self.n))
        self._x0 = self.rng.standard_normal(d)

    def _start(self, d):
        return self._x0

    def _constants(self):
        return {"weak_convexity_rho": float(2 * np.linalg.eigvalsh(self.A.T @ self.A / self.n).max())}

    def _value(self, x):
        return rowsum(np.abs(bdot(x, self.A) ** 2 - self.b)) / self.n

    def _grad(self, x):
        ax = bdot(x, self.A)
        return self._full(x, 2 * np.sign(ax * ax - self.b) * ax)

    def _oracle(self, x, idx):
        rows, ax = _gather_dot(self.A, x, idx)
        coef = ax * ax
        coef -= self.b[idx]
        np.sign(coef, out=coef)
        coef *= 2
        coef *= ax  # 2 sign((a^T x)^2 - b) a^T x
        return _weighted_mean(coef, rows)

    def _clarke(self, x, tol):
        ax = self.A @ x
        r = ax * ax - self.b
        kink = np.abs(r) <= tol * np.maximum(1.0, self.b)
        center = (2 * np.sign(np.where(kink, 0.0, r)) * ax) @ self.A / self.n
        seg = (2 * ax[kink])[:, None] * self.A[kink] / self.n
        return zonotope(center, -seg, seg)


class Quadratic(_Data):
    """Smooth control: least squares (1/(2N)) |Ax - b|^2, b = A x_true + noise; convex.

    >>> import problems, numpy as np
    >>> p = problems.get("quadratic", n=30, d=3); bool(np.allclose(p.grad(p.x_star), 0, atol=1e-12))
    True
    """

    name, convex, has_clarke = "quadratic", True, True
    reference = "Bottou, Curtis & Nocedal (2018), Optimization methods for large-scale machine learning, SIAM Rev."
    formula = "(1/(2N)) sum_i (a_i^T x - b_i)^2"

    def __init__(self, n=100, d=10, noise=0.1, seed=0):
        noise = check_real("noise", noise, low=0.0)
        super().__init__(n, d, seed, {"n": n, "d": d, "noise": noise, "seed": seed}, noise=noise)

    def _setup(self, noise):
        self.x_true = self.rng.standard_normal(self.A.shape[1])
        self.b = self.A @ self.x_true + noise * self.rng.standard_normal(self.n)

    def _constants(self):
        eig = np.linalg.eigvalsh(self.A.T @ self.A / self.n)
        return {"smoothness_L": float(eig.max()), "strong_convexity_mu": float(eig.min())}

    def _value(self, x):
        r = bdot(x, self.A) - self.b
        return 0.5 * rowsum(r * r) / self.n

    def _grad(self, x):
        return self._full(x, bdot(x, self.A) - self.b)

    def _oracle(self, x, idx):
        rows, ax = _gather_dot(self.A, x, idx)
        ax -= self.b[idx]
        return _weighted_mean(ax, rows)

    def _solve(self):
        x = np.linalg.lstsq(self.A, self.b, rcond=None)[0]
        return x, float(self.value(x))

    def _clarke(self, x, tol):
        return self._grad(x)[None, :]


class Logistic(_Data):
    """Smooth control: l2-regularised logistic regression
    (1/N) sum_i log(1 + exp(-y_i a_i^T x)) + (lam/2)|x|^2, convex; x* by Newton's method.

    >>> import problems, numpy as np
    >>> p = problems.get("logistic", n=50, d=3); bool(np.abs(p.grad(p.x_star)).max() < 1e-12)
    True
    """

    name, convex, has_clarke = "logistic", True, True
    reference = "Bottou, Curtis & Nocedal (2018), Optimization methods for large-scale machine learning, SIAM Rev."
    formula = "(1/N) sum_i log(1 + exp(-y_i a_i^T x)) + (lam/2) |x|^2"

    def __init__(self, n=200, d=10, lam=0.01, seed=0):
        self.lam = check_real("lam", lam, low=0.0, low_open=True)
        super().__init__(n, d, seed, {"n": n, "d": d, "lam": self.lam, "seed": seed})

    def _setup(self):
        w = self.rng.standard_normal(self.A.shape[1])
        self.y = np.where(self.A @ w + self.rng.standard_normal(self.n) >= 0, 1.0, -1.0)
        self._ya = self.y[:, None] * self.A

    def _constants(self):
        eig = np.linalg.eigvalsh(self.A.T @ self.A / self.n)
        return {"smoothness_L": float(0.25 * eig.max() + self.lam), "strong_convexity_mu": self.lam}

    def _value(self, x):
        return rowsum(np.logaddexp(0.0, -bdot(x, self._ya))) / self.n + 0.5 * self.lam * rowsum(x * x)

    def _grad(self, x):
        from scipy.special import expit

        coef = -expit(-bdot(x, self._ya))
        return einsum("...n,nj->...j", coef, self._ya) / self.n + self.lam * x

    def _oracle(self, x, idx):
        from scipy.special import expit

        rows, m = _gather_dot(self._ya, x, idx)
        np.negative(m, out=m)
        expit(m, out=m)
        g = _weighted_mean(np.negative(m, out=m), rows)
        g += self.lam * x
        return g

    def _solve(self):
        from scipy.special import expit

        Z, N, d = self._ya, self.n, self.dim
        x = np.zeros(d)
        for _ in range(100):
            s = expit(-(Z @ x))
            g = -(s @ Z) / N + self.lam * x
            H = (Z * (s * (1 - s))[:, None]).T @ Z / N + self.lam * np.eye(d)
            step = np.linalg.solve(H, g)
            x = x - step
            if np.max(np.abs(step)) <= 1e-16 * max(1.0, np.max(np.abs(x))):
                break
        return x, float(self.value(x))

    def _clarke(self, x, tol):
        return self._grad(x)[None, :]
