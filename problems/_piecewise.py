"""Sums of maxima of smooth pieces: f(x) = s(x) + sum_t h(max_k p_{t,k}(x)).

This one shape covers the max-type problems (T = 1 term), the chained sums of maxima, and
|g| = max(g, -g) for smooth g. Each term is a maximum of C^1 functions, hence Clarke regular,
and a sum of regular functions obeys the sum rule with equality (Clarke 1983, Prop. 2.3.3 and
Cor. 3 of Prop. 2.3.6). So the Clarke subdifferential is the Minkowski sum over terms of the
convex hull of the active pieces' gradients, and its generators are the sums of one active
gradient per term. An outer map h (only with T = 1) must be C^1 and increasing; then
d(h o M) = h'(M) dM (Clarke 1983, Thm. 2.3.9).

The oracle returns the gradient of the first maximising piece of each term (np.argmax), an
element of that set, like automatic differentiation of ``max``.

>>> import numpy as np, problems
>>> p = problems.get("chained-lq", n=3)
>>> p.clarke(p.x_star).shape     # two active pieces in each of two terms: 2 x 2 sums
(4, 3)
"""
from __future__ import annotations

import itertools

import numpy as np

from ._base import MAX_GENERATORS, Problem, not_representable, rowsum, unique_rows

__all__ = ["Piecewise", "SmallMax", "Chained", "stack_last"]


class Piecewise(Problem):
    """s(x) + sum_t h(max_k p_{t,k}(x)); subclasses give ``_pieces`` and ``_select_grad``.

    ``_pieces(x)`` -> (..., T, m) piece values (-inf pads terms with fewer pieces);
    ``_select_grad(x, which)`` -> (..., d): the sum over t of grad p_{t, which[..., t]};
    optional ``_smooth(x)`` -> (value (...), grad (..., d)); optional ``outer``/``outer_prime``.

    >>> import problems
    >>> problems.get("mifflin1").clarke([1.0, 0.0]).tolist()
    [[39.0, 0.0], [-1.0, 0.0]]
    """

    has_clarke = True
    outer = None
    outer_prime = None

    def _smooth(self, x):
        return None

    def _value(self, x):
        top = self._pieces(x).max(axis=-1)  # (..., T)
        total = top[..., 0] if top.shape[-1] == 1 else rowsum(top)
        if self.outer is not None:
            total = self.outer(total)
        smooth = self._smooth(x)
        return total if smooth is None else total + smooth[0]

    def _grad(self, x):
        vals, select = self._pieces_and_selector(x)
        which = vals.argmax(axis=-1)
        g = select(which)
        if self.outer_prime is not None:
            g = g * self.outer_prime(vals.max(axis=-1)[..., 0])[..., None]
        smooth = self._smooth(x)
        return g if smooth is None else g + smooth[1]

    def _pieces_and_selector(self, x):
        """(``_pieces(x)``, which -> ``_select_grad(x, which)``); subclasses that compute values
        and gradients together override it to do that work once per oracle call."""
        return self._pieces(x), lambda which: self._select_grad(x, which)

    def active_pieces(self, x, tol: float = 1e-9) -> list:
        """For one point x (d,): per term, the indices of the pieces within tol of the max.

        >>> import problems
        >>> problems.get("dem").active_pieces([0.0, -3.0])
        [[0, 1, 2]]
        """
        x = self._as_point(x)
        vals = self._pieces(x)
        top = vals.max(axis=-1, keepdims=True)
        if not np.all(np.isfinite(top)):
            raise not_representable(self.name)
        active = vals >= top - tol * np.maximum(1.0, np.abs(top))
        return [np.flatnonzero(a).tolist() for a in active]

    def _clarke(self, x, tol):
        lists = self.active_pieces(x, tol)
        count = int(np.prod([len(a) for a in lists], dtype=float))
        if count > MAX_GENERATORS:
            raise ValueError(
                f"the Clarke subdifferential of {self.name!r} at this x is a sum of {len(lists)} terms with "
                f"{count} generator combinations (more than {MAX_GENERATORS}); use a smaller n or a point "
                "with fewer active pieces"
            )
        fixed = np.array([a[0] for a in lists])
        multi = [t for t, a in enumerate(lists) if len(a) > 1]
        combos = np.broadcast_to(fixed, (count, len(lists))).copy()
        if multi:
            combos[:, multi] = np.array(list(itertools.product(*[lists[t] for t in multi])))
        xs = np.broadcast_to(x, (count, self.dim))
        g = self._select_grad(xs, combos)
        if self.outer_prime is not None:
            g = g * self.outer_prime(self._pieces(x).max(axis=-1)[0])
        smooth = self._smooth(x)
        if smooth is not None:
            g = g + smooth[1]
        return unique_rows(g)


class SmallMax(Piecewise):
    """A max of a few smooth pieces in low dimension: ``_all(x)`` gives values and gradients.

    ``_all(x)`` -> (values (..., m), gradients (..., m, d)).

    >>> import problems
    >>> problems.get("crescent").value([0.0, 0.0])
    array(0.)
    """

    def _pieces(self, x):
        return self._all(x)[0][..., None, :]

    def _select_grad(self, x, which):
        return _pick(self._all(x)[1], which[..., 0])

    def _pieces_and_selector(self, x):
        values, grads = self._all(x)
        return values[..., None, :], lambda which: _pick(grads, which[..., 0])


class Chained(Piecewise):
    """Pieces of consecutive pairs (u, v) = (x_i, x_{i+1}), i = 1..n-1.

    ``_pair(u, v)`` -> (values, d/du, d/dv), each (..., n-1, m). With ``mode = "sum"`` the
    objective is sum_i max_k p_k(x_i, x_{i+1}); with ``mode = "max"`` it is
    max_k sum_i p_k(x_i, x_{i+1}).

    >>> import problems
    >>> p = problems.get("chained-cb3-2", n=4)
    >>> float(p.value(p.x0)), p.f_star
    (60.0, 6.0)
    """

    mode = "sum"

    def _pair_of(self, x):
        return self._pair(x[..., :-1], x[..., 1:])

    def _pieces(self, x):
        return self._pieces_from(self._pair_of(x)[0])

    def _pieces_from(self, vals):
        if self.mode == "sum":
            return vals
        return rowsum(np.swapaxes(vals, -1, -2))[..., None, :]

    def _select_grad(self, x, which):
        return self._chain_grad(x.shape, *self._pair_of(x)[1:], which)

    def _pieces_and_selector(self, x):
        vals, du, dv = self._pair_of(x)
        return self._pieces_from(vals), lambda which: self._chain_grad(x.shape, du, dv, which)

    def _chain_grad(self, shape, du, dv, which):
        """sum_i of the selected pieces' partials in (x_i, x_(i+1)); ``which`` (..., T)."""
        k = which if self.mode == "sum" else np.broadcast_to(which, du.shape[:-1])  # (..., n-1)
        su, sv = _pick(du, k), _pick(dv, k)
        g = np.zeros(shape)
        g[..., :-1] += su
        g[..., 1:] += sv
        return g


def _pick(a: np.ndarray, which: np.ndarray) -> np.ndarray:
    """a[..., which[...], :] for a (..., m, *rest) and integer which (...): one fancy index
    over the flattened leading axes (a selection: no arithmetic, the same values as
    take_along_axis, without its per-call index construction)."""
    lead = which.shape
    m = a.shape[len(lead)]
    flat = a.reshape((-1, m) + a.shape[len(lead) + 1:])
    rows = np.arange(flat.shape[0])
    return flat[rows, which.reshape(-1)].reshape(lead + a.shape[len(lead) + 1:])


def stack_last(*arrays) -> np.ndarray:
    """np.stack(arrays, axis=-1) for float arrays of one shape, filled into one preallocated
    array (the same values; stacking's per-call checks cost more than the work here)."""
    out = np.empty(np.shape(arrays[0]) + (len(arrays),), dtype=np.result_type(*arrays))
    for i, a in enumerate(arrays):
        out[..., i] = a
    return out
