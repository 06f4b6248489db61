"""Scalable nonsmooth problems of any dimension n, and Nesterov's Chebyshev-Rosenbrock functions.

The first group is the large-scale set of Haarala, Miettinen & Mäkelä (2004) (sums run over
i = 1..n-1; starting points as there). The Chebyshev-Rosenbrock functions are Nesterov's, as
analysed by Gürbüzbalaban & Overton (2012).

>>> import problems
>>> p = problems.get("maxq", n=6)
>>> float(p.value(p.x0)), p.x0.tolist()
(36.0, [1.0, 2.0, 3.0, -4.0, -5.0, -6.0])
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from ._base import MAX_KINKS, Problem, check_int, einsum, rowsum, unique_rows
from ._piecewise import Chained, Piecewise, stack_last

__all__ = [
    "MaxQ", "MxHilb", "ChainedLQ", "ChainedCB3I", "ChainedCB3II", "ActiveFaces", "Brown2",
    "ChainedMifflin2", "ChainedCrescentI", "ChainedCrescentII", "ChebyshevRosenbrock1",
    "ChebyshevRosenbrock2",
]

HMM = ("Haarala, Miettinen & Mäkelä (2004), New limited memory bundle method for large-scale "
       "nonsmooth optimization, Optim. Methods Softw. 19(6)")
GO = ("Gürbüzbalaban & Overton (2012), On Nesterov's nonsmooth Chebyshev-Rosenbrock functions, "
      "Nonlinear Analysis 75(3)")


def _alternating(n, odd, even):
    """x_i = odd for odd i (1-based), even for even i."""
    x = np.full(n, float(even))
    x[0::2] = odd
    return x


class _Scalable(Piecewise):
    min_n = 2

    def __init__(self, n=10):
        n = check_int("n", n, low=self.min_n)
        self.n = n
        xs, fs = self._known(n)
        super().__init__(n, self._start(n), {"n": n}, x_star=xs, f_star=fs)

    def _known(self, n):
        return None, None


class MaxQ(_Scalable):
    """Generalisation of MAXQ: max_i x_i^2, convex; x0_i = i (i <= n/2), -i otherwise; f* = 0.

    >>> import problems
    >>> problems.get("maxq", n=3).clarke([0.0, 0.0, 0.0]).tolist()
    [[0.0, 0.0, 0.0]]
    """

    name, reference, convex, min_n = "maxq", HMM, True, 1
    formula = "max_i x_i^2"

    def _start(self, n):
        i = np.arange(1, n + 1, dtype=float)
        return np.where(i <= n / 2, i, -i)

    def _known(self, n):
        return np.zeros(n), 0.0

    def _pieces(self, x):
        return (x * x)[..., None, :]

    def _select_grad(self, x, which):
        g = np.zeros(x.shape)
        np.put_along_axis(g, which, 2.0 * np.take_along_axis(x, which, axis=-1), axis=-1)
        return g


class MxHilb(_Scalable):
    """Generalisation of MXHILB: max_i |sum_j x_j / (i + j - 1)|, convex; x0 = 1, f* = 0.

    >>> import problems, math
    >>> math.isclose(float(problems.get("mxhilb", n=4).value([1.0] * 4)), 1 + 1/2 + 1/3 + 1/4)
    True
    """

    name, reference, convex, min_n = "mxhilb", HMM, True, 1
    formula = "max_i |sum_j x_j / (i + j - 1)|"

    def __init__(self, n=10):
        i = np.arange(n if isinstance(n, (int, np.integer)) and n > 0 else 1)
        self.hilbert = 1.0 / (i[:, None] + i[None, :] + 1.0)
        super().__init__(n)

    def _start(self, n):
        return np.ones(n)

    def _known(self, n):
        return np.zeros(n), 0.0

    def _pieces(self, x):
        hx = einsum("...j,nj->...n", x, self.hilbert)
        return np.concatenate([hx, -hx], axis=-1)[..., None, :]

    def _select_grad(self, x, which):
        k = which[..., 0]
        sign = np.where(k < self.n, 1.0, -1.0)
        return sign[..., None] * self.hilbert[k % self.n]


class ChainedLQ(Chained, _Scalable):
    """Chained LQ: sum_i max{-x_i - x_{i+1}, -x_i - x_{i+1} + x_i^2 + x_{i+1}^2 - 1}, convex.

    x0 = -0.5, x* = 1/sqrt(2), f* = -(n - 1) sqrt(2).

    >>> import problems
    >>> round(problems.get("chained-lq", n=3).f_star, 12)
    -2.828427124746
    """

    name, reference, convex = "chained-lq", HMM, True
    formula = "sum_i max{-x_i - x_{i+1}, -x_i - x_{i+1} + x_i^2 + x_{i+1}^2 - 1}"

    def _start(self, n):
        return np.full(n, -0.5)

    def _known(self, n):
        return np.full(n, 2**-0.5), -(n - 1) * math.sqrt(2.0)

    def _pair(self, u, v):
        one = np.ones_like(u)
        vals = stack_last(-u - v, -u - v + u * u + v * v - 1)
        return vals, stack_last(-one, 2 * u - 1), stack_last(-one, 2 * v - 1)


def _cb3_pair(u, v):
    e = 2.0 * np.exp(v - u)
    vals = stack_last(u**4 + v * v, (2 - u) ** 2 + (2 - v) ** 2, e)
    du = stack_last(4 * u**3, -2 * (2 - u), -e)
    dv = stack_last(2 * v, -2 * (2 - v), e)
    return vals, du, dv


class ChainedCB3I(Chained, _Scalable):
    """Chained CB3 I: sum_i max{x_i^4 + x_{i+1}^2, (2 - x_i)^2 + (2 - x_{i+1})^2, 2 e^{x_{i+1} - x_i}}.

    Convex; x0 = 2, x* = 1, f* = 2(n - 1).

    >>> import problems
    >>> float(problems.get("chained-cb3-1", n=3).value([2.0, 2.0, 2.0]))
    40.0
    """

    name, reference, convex = "chained-cb3-1", HMM, True
    formula = "sum_i max{x_i^4 + x_{i+1}^2, (2-x_i)^2 + (2-x_{i+1})^2, 2 exp(x_{i+1} - x_i)}"

    def _start(self, n):
        return np.full(n, 2.0)

    def _known(self, n):
        return np.ones(n), 2.0 * (n - 1)

    def _pair(self, u, v):
        return _cb3_pair(u, v)


class ChainedCB3II(ChainedCB3I):
    """Chained CB3 II: the max of the three sums of chained CB3 I's pieces; convex, f* = 2(n - 1).

    >>> import problems
    >>> problems.get("chained-cb3-2", n=3).active_pieces([1.0, 1.0, 1.0])
    [[0, 1, 2]]
    """

    name, mode = "chained-cb3-2", "max"
    formula = "max{sum_i x_i^4 + x_{i+1}^2, sum_i (2-x_i)^2 + (2-x_{i+1})^2, sum_i 2 exp(x_{i+1} - x_i)}"


class ActiveFaces(_Scalable):
    """Active faces: max{g(-sum_i x_i), g(x_1), ..., g(x_n)}, g(y) = ln(|y| + 1); nonconvex.

    Computed as ln(1 + max_j (+-y_j)) with y = (-sum x, x_1, ..., x_n): a C^1 increasing map of
    a max of 2(n + 1) linear pieces. x0 = 1, x* = 0, f* = 0.

    >>> import problems, math
    >>> math.isclose(float(problems.get("active-faces", n=4).value([1.0] * 4)), math.log(5))
    True
    """

    name, reference, convex, min_n = "active-faces", HMM, False, 1
    formula = "max{g(-sum_i x_i), g(x_1), ..., g(x_n)}, g(y) = ln(|y| + 1)"
    outer = staticmethod(np.log1p)
    outer_prime = staticmethod(lambda t: 1.0 / (1.0 + t))

    def _start(self, n):
        return np.ones(n)

    def _known(self, n):
        return np.zeros(n), 0.0

    def _pieces(self, x):
        y = np.concatenate([-rowsum(x)[..., None], x], axis=-1)
        return np.concatenate([y, -y], axis=-1)[..., None, :]

    def _select_grad(self, x, which):
        k = which[..., 0]
        j = k % (self.n + 1)
        sign = np.where(k <= self.n, 1.0, -1.0)[..., None]
        g = np.zeros(x.shape)
        np.put_along_axis(g, np.maximum(j - 1, 0)[..., None], 1.0, axis=-1)
        g = np.where((j == 0)[..., None], -1.0, g)
        return sign * g


class Brown2(_Scalable):
    """Brown function 2: sum_i |x_i|^(x_{i+1}^2 + 1) + |x_{i+1}|^(x_i^2 + 1); nonconvex.

    x0 = -1 (odd i), 1 (even i); x* = 0, f* = 0. Differentiable except where two consecutive
    coordinates vanish; the oracle uses sign(0) = 0 and 0 * log 0 = 0 there. No exact Clarke set.

    >>> import problems
    >>> float(problems.get("brown2", n=5).value(problems.get("brown2", n=5).x0))
    8.0
    """

    name, reference, convex = "brown2", HMM, False
    formula = "sum_i |x_i|^(x_{i+1}^2 + 1) + |x_{i+1}|^(x_i^2 + 1)"
    has_clarke = False
    clarke_note = "the terms |x_i|^(x_{i+1}^2+1) are neither max-type nor piecewise smooth at consecutive zeros"

    def _start(self, n):
        return _alternating(n, -1.0, 1.0)

    def _known(self, n):
        return np.zeros(n), 0.0

    def _value(self, x):
        u, v = np.abs(x[..., :-1]), np.abs(x[..., 1:])
        return rowsum(u ** (x[..., 1:] ** 2 + 1) + v ** (x[..., :-1] ** 2 + 1))

    @staticmethod
    def _half(a, b):
        """d/da and d/db of |a|^(b^2 + 1)."""
        abs_a = np.abs(a)
        safe = np.where(abs_a > 0, abs_a, 1.0)
        da = (b * b + 1) * abs_a ** (b * b) * np.sign(a)
        db = np.where(abs_a > 0, safe ** (b * b + 1) * np.log(safe) * 2 * b, 0.0)
        return da, db

    def _grad(self, x):
        u, v = x[..., :-1], x[..., 1:]
        du1, dv1 = self._half(u, v)
        dv2, du2 = self._half(v, u)
        g = np.zeros(x.shape)
        g[..., :-1] += du1 + du2
        g[..., 1:] += dv1 + dv2
        return g


class ChainedMifflin2(Chained, _Scalable):
    """Chained Mifflin 2: sum_i -x_i + 2(x_i^2 + x_{i+1}^2 - 1) + 1.75 |x_i^2 + x_{i+1}^2 - 1|.

    Nonconvex; x0 = -1. No closed form for x*, f*: both are computed on first access by SLSQP on
    the smooth epigraph reformulation, from two starts, keeping the best (cached per n;
    computed only for n <= 200, otherwise None). For n = 50 this gives f* = -34.795..., the
    value reported by Haarala et al.

    >>> import problems
    >>> round(problems.get("chained-mifflin2", n=10).f_star, 4)
    -6.5146
    """

    name, reference, convex = "chained-mifflin2", HMM, False
    formula = "sum_i -x_i + 2(x_i^2 + x_{i+1}^2 - 1) + 1.75 |x_i^2 + x_{i+1}^2 - 1|"
    max_solve_n = 200

    def _start(self, n):
        return np.full(n, -1.0)

    def _pair(self, u, v):
        s = u * u + v * v - 1
        vals = stack_last(-u + 3.75 * s, -u + 0.25 * s)
        return vals, stack_last(7.5 * u - 1, 0.5 * u - 1), stack_last(7.5 * v, 0.5 * v)

    def _solve(self):
        if self.n > self.max_solve_n:
            return None, None
        xs = _mifflin2_minimiser(self.n)
        return xs, float(self.value(xs))


@functools.lru_cache(maxsize=16)
def _mifflin2_minimiser(n):
    from scipy.optimize import minimize

    p = ChainedMifflin2(n)
    m = n - 1

    def cons(z):
        x, t = z[:n], z[n:]
        vals = p._pair_of(x)[0]
        return np.concatenate([t - vals[:, 0], t - vals[:, 1]])

    def cons_jac(z):
        x = z[:n]
        _, du, dv = p._pair_of(x)
        jac = np.zeros((2 * m, n + m))
        for k in range(2):
            rows = np.arange(m) + k * m
            jac[rows, np.arange(m)] = -du[:, k]
            jac[rows, np.arange(m) + 1] = -dv[:, k]
            jac[rows, n + np.arange(m)] = 1.0
        return jac

    cost = np.concatenate([np.zeros(n), np.ones(m)])
    best = None
    # Four starts (-1, 0.5, 0.8, a ramp) agreed to 1e-11 for n = 5, 10, 50; two are kept.
    starts = [np.full(n, -1.0), np.full(n, 0.5)]
    for x0 in starts:
        z0 = np.concatenate([x0, p._pair_of(x0)[0].max(axis=-1) + 1.0])
        res = minimize(lambda z: cost @ z, z0, jac=lambda z: cost, method="SLSQP",
                       constraints=[{"type": "ineq", "fun": cons, "jac": cons_jac}],
                       options={"maxiter": 2000, "ftol": 1e-15})
        x = res.x[:n]
        f = float(p.value(x))
        if best is None or f < best[1]:
            best = (x, f)
    return best[0]


def _crescent_pair(u, v):
    r = u * u + (v - 1) ** 2
    vals = stack_last(r + v - 1, -r + v + 1)
    return vals, stack_last(2 * u, -2 * u), stack_last(2 * v - 1, 3 - 2 * v)


class ChainedCrescentI(Chained, _Scalable):
    """Chained crescent I: max{sum_i x_i^2 + (x_{i+1} - 1)^2 + x_{i+1} - 1, sum_i -x_i^2 - (x_{i+1} - 1)^2 + x_{i+1} + 1}.

    Nonconvex; x0 = -1.5 (odd i), 2 (even i); x* = 0, f* = 0.

    >>> import problems
    >>> problems.get("chained-crescent-1", n=3).active_pieces([0.0, 0.0, 0.0])
    [[0, 1]]
    """

    name, reference, convex, mode = "chained-crescent-1", HMM, False, "max"
    formula = "max{sum_i x_i^2 + (x_{i+1}-1)^2 + x_{i+1} - 1, sum_i -x_i^2 - (x_{i+1}-1)^2 + x_{i+1} + 1}"

    def _start(self, n):
        return _alternating(n, -1.5, 2.0)

    def _known(self, n):
        return np.zeros(n), 0.0

    def _pair(self, u, v):
        return _crescent_pair(u, v)


class ChainedCrescentII(ChainedCrescentI):
    """Chained crescent II: sum_i max{x_i^2 + (x_{i+1} - 1)^2 + x_{i+1} - 1, -x_i^2 - (x_{i+1} - 1)^2 + x_{i+1} + 1}.

    >>> import problems
    >>> problems.get("chained-crescent-2", n=3).clarke([0.0, 0.0, 0.0]).shape
    (4, 3)
    """

    name, mode = "chained-crescent-2", "sum"
    formula = "sum_i max{x_i^2 + (x_{i+1}-1)^2 + x_{i+1} - 1, -x_i^2 - (x_{i+1}-1)^2 + x_{i+1} + 1}"


class ChebyshevRosenbrock1(Chained, _Scalable):
    """Nesterov's first nonsmooth Chebyshev-Rosenbrock function, nonconvex:
    0.25 (x_1 - 1)^2 + sum_i |x_{i+1} - 2 x_i^2 + 1|.

    Its only Clarke stationary point is x* = 1 (f* = 0); x0 = (-1, 1, ..., 1) (Gürbüzbalaban &
    Overton). |h| = max(h, -h) makes it a regular sum of maxima.

    >>> import problems
    >>> p = problems.get("chebyshev-rosenbrock-1", n=3); float(p.value(p.x0))
    1.0
    """

    name, reference, convex = "chebyshev-rosenbrock-1", GO, False
    formula = "0.25 (x_1 - 1)^2 + sum_i |x_{i+1} - 2 x_i^2 + 1|"

    def _start(self, n):
        x = np.ones(n)
        x[0] = -1.0
        return x

    def _known(self, n):
        return np.ones(n), 0.0

    def _smooth(self, x):
        g = np.zeros(x.shape)
        g[..., 0] = 0.5 * (x[..., 0] - 1)
        return 0.25 * (x[..., 0] - 1) ** 2, g

    def _pair(self, u, v):
        h = v - 2 * u * u + 1
        return stack_last(h, -h), stack_last(-4 * u, 4 * u), stack_last(np.ones_like(v), -np.ones_like(v))


class ChebyshevRosenbrock2(_Scalable):
    """Nesterov's second nonsmooth Chebyshev-Rosenbrock function, nonconvex and piecewise affine:
    0.25 |x_1 - 1| + sum_i |x_{i+1} - 2 |x_i| + 1|.

    It has 2^(n-1) Clarke stationary points; only x* = 1 minimises (f* = 0). For n = 2,
    (0, -1) is Clarke stationary with f = 1/4. The function is not regular, so the sum rule
    fails: ``clarke`` instead enumerates sign patterns of the active kinks, keeps those whose
    region {v : sign pattern of the linearised kinks} has interior (an LP), and returns the
    gradients there (for piecewise affine f the Clarke set is the hull of the essentially
    active gradients).

    >>> import problems
    >>> p = problems.get("chebyshev-rosenbrock-2", n=2)
    >>> float(p.value([0.0, -1.0])), p.clarke([0.0, -1.0]).shape
    (0.25, (4, 2))
    """

    name, reference, convex = "chebyshev-rosenbrock-2", GO, False
    formula = "0.25 |x_1 - 1| + sum_i |x_{i+1} - 2|x_i| + 1|"
    max_active_kinks = 10

    _start = ChebyshevRosenbrock1._start
    _known = ChebyshevRosenbrock1._known

    def _value(self, x):
        h = x[..., 1:] - 2 * np.abs(x[..., :-1]) + 1
        return 0.25 * np.abs(x[..., 0] - 1) + rowsum(np.abs(h))

    def _grad_signs(self, s0, s, t):
        """Gradient for signs s0 of x_1 - 1, s_i of x_i, t_i of h_i (arrays (...), (..., n-1))."""
        g = np.zeros(s.shape[:-1] + (self.n,))
        g[..., 0] = 0.25 * s0
        g[..., 1:] += t
        g[..., :-1] += -2 * t * s
        return g

    def _grad(self, x):
        h = x[..., 1:] - 2 * np.abs(x[..., :-1]) + 1
        return self._grad_signs(np.sign(x[..., 0] - 1), np.sign(x[..., :-1]), np.sign(h))

    def _clarke(self, x, tol):
        from scipy.optimize import linprog

        n = self.n
        u = x[:-1]
        h = x[1:] - 2 * np.abs(u) + 1
        scale = tol * max(1.0, float(np.max(np.abs(x))))
        act0 = abs(x[0] - 1) <= scale
        act_s = np.abs(u) <= scale
        act_t = np.abs(h) <= scale
        k = int(act0) + int(act_s.sum()) + int(act_t.sum())
        if k > self.max_active_kinks:
            raise ValueError(f"{k} kinks are active at this x; enumerating 2^{k} sign patterns is refused "
                             f"above {self.max_active_kinks}")
        gens = []
        for pattern in itertools.product((-1.0, 1.0), repeat=k):
            pattern = list(pattern)
            s0 = pattern.pop() if act0 else np.sign(x[0] - 1)
            s = np.where(act_s, 0.0, np.sign(u))
            for i in np.flatnonzero(act_s):
                s[i] = pattern.pop()
            t = np.where(act_t, 0.0, np.sign(h))
            for i in np.flatnonzero(act_t):
                t[i] = pattern.pop()
            # Rows: sign * (linearised kink at x along v) >= 1 (homogeneous, so >0 <=> >=1).
            rows = []
            if act0:
                rows.append(s0 * np.eye(n)[0])
            for i in np.flatnonzero(act_s):
                rows.append(s[i] * np.eye(n)[i])
            for i in np.flatnonzero(act_t):
                lin = np.eye(n)[i + 1] - 2 * s[i] * np.eye(n)[i]
                rows.append(t[i] * lin)
            if rows:
                res = linprog(np.zeros(n), A_ub=-np.array(rows), b_ub=-np.ones(len(rows)),
                              bounds=[(None, None)] * n, method="highs")
                if res.status != 0:
                    continue
            gens.append(self._grad_signs(np.float64(s0), s, t))
        return unique_rows(np.array(gens))
