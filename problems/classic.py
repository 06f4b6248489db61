"""The small classic nonsmooth test set (Lukšan & Vlček 2000, TR-798; Mäkelä & Neittaanmäki 1992).

Each function is a maximum of a few smooth pieces, so the Clarke subdifferential is the convex
hull of the active pieces' gradients. Starting points and optimal values follow Lukšan & Vlček;
CB2's minimiser is given there to 6 digits only, so it is recomputed here to full precision
from the optimality system (pieces 1 and 2 active, see docs/problems.md).

>>> import problems
>>> p = problems.get("ql")
>>> float(p.value(p.x0)), p.f_star, p.x_star.tolist()
(56.0, 7.2, [1.2, 2.4])
"""
from __future__ import annotations

import numpy as np

from ._piecewise import SmallMax, stack_last

__all__ = ["CB2", "CB3", "DEM", "QL", "LQ", "Mifflin1", "Mifflin2", "Crescent", "RosenSuzuki"]

LV = "Lukšan & Vlček (2000), Test problems for nonsmooth unconstrained and linearly constrained optimization, TR-798"
MN = "Mäkelä & Neittaanmäki (1992), Nonsmooth Optimization; " + LV


def _stack(values, grads, x):
    """values: list of m arrays (...); grads: list of m lists of d components -> (..., m), (..., m, d).

    Filled into preallocated arrays (a component may be a scalar, broadcast): the same values
    as stacking, for a fraction of the per-call cost on the small arrays of these problems.
    """
    g = np.empty(x.shape[:-1] + (len(grads), len(grads[0])))
    for i, row in enumerate(grads):
        for j, c in enumerate(row):
            g[..., i, j] = c
    return stack_last(*values), g


class _Classic(SmallMax):
    dim = 2
    start = ()
    solution = (None, None)
    convex = True

    def __init__(self):
        xs, fs = self.solution
        super().__init__(self.dim, self.start, {}, x_star=None if xs is None else np.array(xs, float), f_star=fs)


class CB2(_Classic):
    """CB2: max{x1^2 + x2^4, (2 - x1)^2 + (2 - x2)^2, 2 exp(x2 - x1)}, convex.

    >>> import problems
    >>> p = problems.get("cb2"); round(p.f_star, 7), float(p.value(p.x0))
    (1.9522245, 5.41)
    """

    name, reference = "cb2", LV
    formula = "max{x1^2 + x2^4, (2-x1)^2 + (2-x2)^2, 2 exp(x2 - x1)}"
    start = (1.0, -0.1)
    # Recomputed: Newton (40 digits, mpmath) on the KKT system with pieces 1 and 2 active
    # (multipliers 0.43048, 0.56952). Lukšan-Vlček give f* = 1.9522245 (agrees) and
    # x* = (1.139286, 0.899365), where f = 1.9522260: that x* is off in the 4th digit.
    solution = ((1.1390376519926627, 0.8995599383953929), 1.952224493870659)

    def _all(self, x):
        a, b = x[..., 0], x[..., 1]
        e = 2.0 * np.exp(b - a)
        return _stack([a * a + b**4, (2 - a) ** 2 + (2 - b) ** 2, e],
                      [[2 * a, 4 * b**3], [-2 * (2 - a), -2 * (2 - b)], [-e, e]], x)


class CB3(_Classic):
    """CB3: max{x1^4 + x2^2, (2 - x1)^2 + (2 - x2)^2, 2 exp(x2 - x1)}, convex; x* = (1, 1).

    >>> import problems
    >>> problems.get("cb3").active_pieces([1.0, 1.0])
    [[0, 1, 2]]
    """

    name, reference = "cb3", LV
    formula = "max{x1^4 + x2^2, (2-x1)^2 + (2-x2)^2, 2 exp(x2 - x1)}"
    start = (2.0, 2.0)
    solution = ((1.0, 1.0), 2.0)

    def _all(self, x):
        a, b = x[..., 0], x[..., 1]
        e = 2.0 * np.exp(b - a)
        return _stack([a**4 + b * b, (2 - a) ** 2 + (2 - b) ** 2, e],
                      [[4 * a**3, 2 * b], [-2 * (2 - a), -2 * (2 - b)], [-e, e]], x)


class DEM(_Classic):
    """DEM: max{5 x1 + x2, -5 x1 + x2, x1^2 + x2^2 + 4 x2}, convex; x* = (0, -3), f* = -3.

    >>> import problems
    >>> float(problems.get("dem").value([0.0, -3.0]))
    -3.0
    """

    name, reference = "dem", LV
    formula = "max{5x1 + x2, -5x1 + x2, x1^2 + x2^2 + 4x2}"
    start = (1.0, 1.0)
    solution = ((0.0, -3.0), -3.0)

    def _all(self, x):
        a, b = x[..., 0], x[..., 1]
        return _stack([5 * a + b, -5 * a + b, a * a + b * b + 4 * b], [[5, 1], [-5, 1], [2 * a, 2 * b + 4]], x)


class QL(_Classic):
    """QL: max{q, q + 10(-4x1 - x2 + 4), q + 10(-x1 - 2x2 + 6)}, q = x1^2 + x2^2, convex.

    >>> import problems
    >>> problems.get("ql").active_pieces([1.2, 2.4])
    [[0, 2]]
    """

    name, reference = "ql", LV
    formula = "max{q, q + 10(-4x1 - x2 + 4), q + 10(-x1 - 2x2 + 6)}, q = x1^2 + x2^2"
    start = (-1.0, 5.0)
    solution = ((1.2, 2.4), 7.2)

    def _all(self, x):
        a, b = x[..., 0], x[..., 1]
        q = a * a + b * b
        return _stack([q, q + 10 * (-4 * a - b + 4), q + 10 * (-a - 2 * b + 6)],
                      [[2 * a, 2 * b], [2 * a - 40, 2 * b - 10], [2 * a - 10, 2 * b - 20]], x)


class LQ(_Classic):
    """LQ: max{-x1 - x2, -x1 - x2 + x1^2 + x2^2 - 1}, convex; f* = -sqrt(2).

    >>> import problems, math
    >>> math.isclose(problems.get("lq").f_star, -math.sqrt(2))
    True
    """

    name, reference = "lq", LV
    formula = "max{-x1 - x2, -x1 - x2 + x1^2 + x2^2 - 1}"
    start = (-0.5, -0.5)
    solution = ((2**-0.5, 2**-0.5), -(2**0.5))

    def _all(self, x):
        a, b = x[..., 0], x[..., 1]
        return _stack([-a - b, -a - b + a * a + b * b - 1], [[-1, -1], [-1 + 2 * a, -1 + 2 * b]], x)


class Mifflin1(_Classic):
    """Mifflin 1: -x1 + 20 max{x1^2 + x2^2 - 1, 0}, convex; x* = (1, 0), f* = -1.

    >>> import problems
    >>> float(problems.get("mifflin1").value([0.8, 0.6]))
    -0.8
    """

    name, reference = "mifflin1", MN
    formula = "-x1 + 20 max{x1^2 + x2^2 - 1, 0}"
    start = (0.8, 0.6)
    solution = ((1.0, 0.0), -1.0)

    def _all(self, x):
        a, b = x[..., 0], x[..., 1]
        return _stack([-a + 20 * (a * a + b * b - 1), -a], [[-1 + 40 * a, 40 * b], [-1, 0]], x)


class Mifflin2(_Classic):
    """Mifflin 2: -x1 + 2(x1^2 + x2^2 - 1) + 1.75 |x1^2 + x2^2 - 1|, nonconvex; f* = -1.

    Written as the max of the pieces with +1.75 and -1.75 (|s| = max(s, -s)).

    >>> import problems
    >>> float(problems.get("mifflin2").value([-1.0, -1.0]))
    4.75
    """

    name, reference, convex = "mifflin2", MN, False
    formula = "-x1 + 2(x1^2 + x2^2 - 1) + 1.75 |x1^2 + x2^2 - 1|"
    start = (-1.0, -1.0)
    solution = ((1.0, 0.0), -1.0)

    def _all(self, x):
        a, b = x[..., 0], x[..., 1]
        s = a * a + b * b - 1
        return _stack([-a + 3.75 * s, -a + 0.25 * s], [[-1 + 7.5 * a, 7.5 * b], [-1 + 0.5 * a, 0.5 * b]], x)


class Crescent(_Classic):
    """Crescent: max{x1^2 + (x2 - 1)^2 + x2 - 1, -x1^2 - (x2 - 1)^2 + x2 + 1}, nonconvex.

    >>> import problems
    >>> float(problems.get("crescent").value([-1.5, 2.0]))
    4.25
    """

    name, reference, convex = "crescent", LV, False
    formula = "max{x1^2 + (x2-1)^2 + x2 - 1, -x1^2 - (x2-1)^2 + x2 + 1}"
    start = (-1.5, 2.0)
    solution = ((0.0, 0.0), 0.0)

    def _all(self, x):
        a, b = x[..., 0], x[..., 1]
        r = a * a + (b - 1) ** 2
        return _stack([r + b - 1, -r + b + 1], [[2 * a, 2 * (b - 1) + 1], [-2 * a, -2 * (b - 1) + 1]], x)


class RosenSuzuki(_Classic):
    """Rosen-Suzuki (n = 4): max{f1, f1 + 10 f2, f1 + 10 f3, f1 + 10 f4}, convex; f* = -44.

    f1 = x1^2 + x2^2 + 2 x3^2 + x4^2 - 5x1 - 5x2 - 21x3 + 7x4,
    f2 = x1^2 + x2^2 + x3^2 + x4^2 + x1 - x2 + x3 - x4 - 8,
    f3 = x1^2 + 2 x2^2 + x3^2 + 2 x4^2 - x1 - x4 - 10,
    f4 = x1^2 + x2^2 + x3^2 + 2 x1 - x2 - x4 - 5.

    >>> import problems
    >>> float(problems.get("rosen-suzuki").value([0.0, 1.0, 2.0, -1.0]))
    -44.0
    """

    name, reference, dim = "rosen-suzuki", LV, 4
    formula = "max{f1, f1 + 10 f2, f1 + 10 f3, f1 + 10 f4} (quadratics f1..f4, TR-798)"
    start = (0.0, 0.0, 0.0, 0.0)
    solution = ((0.0, 1.0, 2.0, -1.0), -44.0)

    def _all(self, x):
        a, b, c, e = (x[..., i] for i in range(4))
        f1 = a * a + b * b + 2 * c * c + e * e - 5 * a - 5 * b - 21 * c + 7 * e
        f2 = a * a + b * b + c * c + e * e + a - b + c - e - 8
        f3 = a * a + 2 * b * b + c * c + 2 * e * e - a - e - 10
        f4 = a * a + b * b + c * c + 2 * a - b - e - 5
        g1 = [2 * a - 5, 2 * b - 5, 4 * c - 21, 2 * e + 7]
        g2 = [2 * a + 1, 2 * b - 1, 2 * c + 1, 2 * e - 1]
        g3 = [2 * a - 1, 4 * b, 2 * c, 4 * e - 1]
        g4 = [2 * a + 2, 2 * b - 1, 2 * c, -np.ones_like(e)]
        return _stack([f1, f1 + 10 * f2, f1 + 10 * f3, f1 + 10 * f4],
                      [g1] + [[g1[i] + 10 * gk[i] for i in range(4)] for gk in (g2, g3, g4)], x)
