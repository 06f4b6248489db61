"""Differential inclusions z' in F(z) of the framework, and an event-driven integrator for them.

The limiting dynamics of the framework (spec 1.5) are differential inclusions: their right-hand
sides are set-valued where f has a kink (D_f(x) is a set) and where the direction's phi is not
differentiable (dphi(0) for the sign and normalized directions). Inclusions here, each batched over
N rows of states:

- ``subgradient_flow(problem)``: x' in -df(x), df the Clarke subdifferential;
- ``single_timescale_flow(problem, direction, tau, alpha)``: z = (x, m),
  x' in -dphi(m) - alpha D_f(x),  m' in tau (D_f(x) - m);
- ``two_timescale_flow(problem, direction, alpha)``: the slow flow
  x' in -conv{s + alpha d : s in dphi(d), d in D_f(x)} (the subgradient flow is its identity case);
- ``sign_flow(problem)``: x' in -conv Sign(D_f(x)), signSGD's limit, with the Filippov selection of
  x' = -sign(grad f(x)) at kinks (its iterates' zigzag), not the sign of the minimal-norm subgradient;
- ``linear_flow(A)``: z' = A z with its closed form (to test the machinery that uses flows);
- ``time_scaled(inclusion, c)``: z' in c F(z), the same solutions on a clock c times as fast.

**The scheme** (``integrate``): explicit steps of length at most h, each cut at the first *event*
inside it, so that no step straddles a discontinuity of the field:

- a *kink of f*: the oracle jumps along the step (its second difference over the step is not small
  against its first difference, which a gradient that is continuous along the step cannot do); the
  kink is located by bisection on which end's gradient the oracle's value is closer to (30 halvings:
  to 1e-9 of the step), and the step stops on the near side;
- a *switching surface* of a coordinatewise direction (sign, srsgd): a coordinate of its argument
  changes sign. In the single-timescale flow the argument is m, whose exact path over the step is
  known (below), so the crossing time is exact and m_i is set to 0 there; in the slow flow it is
  d = D_f(x), located by the secant (exact when the gradient is affine along the step).

**The selection** (which element of F(z) the scheme follows):

- slow and subgradient flows: off kinks, the oracle's value (the gradient there). At a located
  kink, d = the minimal-norm element of conv{generators}: the problem's exact Clarke generators
  ``p.clarke(x)`` (every piece active within the location accuracy; ``verify.min_norm_point``) when
  it has them, else the two one-sided gradients found by the bisection (the Clarke subdifferential
  where two smooth pieces meet). For maxima of smooth pieces and sums of such maxima the
  minimal-norm element is tangent to every kink whose pieces carry weight: it is the Filippov
  sliding velocity, so the solution slides along the kink, and it crosses when one weight reaches 1.
  A sliding step is followed by a projection back onto the kink along its normal (where the two
  pieces' tangent planes, probed on both sides, meet: exact for planes), so a curved kink is
  followed without locating it again; a point that moves less than the location accuracy rests.
  Then s = the minimal-norm element of dphi(d): ``select(d)`` with the coordinates of d that are 0
  (to the location accuracy) set to 0, for coordinatewise directions (0 is in dphi_i(0) because phi
  has its minimum at 0); x' = -(s + alpha d). Where a switching surface of the sign flow couples
  coordinates (a non-diagonal Hessian) s_i = 0 is not tangent to it: the solution then drifts O(h)
  off the surface; a coordinate that was on its surface stays there while within one step's change
  of 0 (hysteresis), else the sign brings it back, and the solution stays within O(h) of the
  Filippov sliding solution.
- single-timescale flow: over each step the oracle value g is frozen and taken on the side the
  trajectory enters (evaluated 1e-7 h ahead along the motion); m follows the exact solution of
  m' = tau (g - m) (exponential Euler), x the exact integral of -s(m(u)) for the identity and sign
  directions (the midpoint rule for other directions), minus alpha g. On a smooth piece the step is
  then redone with g taken at the midpoint of that predictor (second order). With alpha = 0, x' does not
  depend on the side of a kink of f, so every kink is crossed transversally and the one-sided value
  is the solution's; m is continuous, so m_i = 0 is crossed transversally wherever g_i != 0, and the
  selection on the surface (the side m enters) is the solution's. With alpha > 0 a sliding mode of
  x along a kink is not resolved (the one-sided value is used: first order).
- a direction given only by ``select`` (a user's): ``select`` as it is, no switching events.

**Order.** First order in h in general (the frozen oracle over a step, Euler's local error O(h^2));
second order for the single-timescale flow between events.
Exact to rounding and to the bisection accuracy (1e-9 h) for the subgradient flow of piecewise-linear
f, the sign slow flow of a separable quadratic, and the single-timescale flow on piecewise-linear f
with the identity or sign direction. An inclusion's solution need not be unique: a single computed
solution bounds the distance of iterates to the solution set from above, not the distance itself.

>>> import numpy as np
>>> class Abs:                                     # f(x) = |x|, generators of its Clarke set
...     dim, n_samples = 1, 1
...     def grad(self, x): return np.sign(x)
...     def value(self, x): return np.abs(x[..., 0])
>>> sol = integrate(subgradient_flow(Abs()), [1.0], [0.5, 1.0, 2.0], h=0.03)
>>> sol.z.round(9).ravel().tolist()               # unit speed to 0 at t = |x0|, then it stays
[0.5, 0.0, 0.0]
"""
from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Inclusion",
    "Solution",
    "integrate",
    "linear_flow",
    "subgradient_flow",
    "single_timescale_flow",
    "two_timescale_flow",
    "segment_min_norm",
    "sign_flow",
    "time_scaled",
]

#: Halvings of the step when a kink is located (to 2^-30, about 1e-9, of the step).
BISECTIONS = 30
#: The one-sided oracle is evaluated this fraction of a step ahead along the motion.
AHEAD = 1e-7
#: Largest change of the direction s(m) (any coordinate) allowed inside a single-timescale step.
TURN = 0.05
#: Directions whose dphi is set-valued on coordinate hyperplanes (switching events are located).
COORDINATEWISE = ("sign", "srsgd")


# ------------------------------------------------------------------------------- results
@dataclass
class Solution:
    """A computed solution at requested times.

    times : (J,) the requested times (relative to the start), or (N, J) per row.
    z : (N, J, n) states (or (J, n) when one initial state (n,) was given); NaN where not reached.
    steps : (N,) steps taken; kinks, switches : (N,) located kink and switching events.
    h : the largest step; inclusion : the inclusion's name; selection : how the element of F was chosen.
    """

    times: np.ndarray
    z: np.ndarray
    steps: np.ndarray
    kinks: np.ndarray
    switches: np.ndarray
    h: float
    inclusion: str
    x_dim: int
    selection: str = ""

    @property
    def x(self) -> np.ndarray:
        """The x part of the states."""
        return self.z[..., : self.x_dim]


def segment_min_norm(a, b):
    """Minimal-norm point of the segment [a, b], row by row (closed form), and the weight on a.

    >>> p, w = segment_min_norm(np.array([[1.0, 1.0]]), np.array([[-1.0, 1.0]]))
    >>> p.tolist(), w.tolist()
    ([[0.0, 1.0]], [0.5])
    """
    diff = a - b
    den = np.sum(diff * diff, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(den > 0, -np.sum(b * diff, axis=-1) / np.where(den > 0, den, 1.0), 1.0)
    lam = np.clip(lam, 0.0, 1.0)
    return b + lam[..., None] * diff, lam


def _norm(v):
    return np.sqrt(np.sum(v * v, axis=-1))


def _jumps(g0, gm, g1):
    """Rows whose oracle jumps along a step (values at its start, middle and end): a gradient that
    is continuous along the step has a second difference O(step) smaller than its first. Changes
    below 1e-8 (relative) are rounding, not kinks."""
    first = _norm(g1 - g0)
    second = _norm(g1 - 2.0 * gm + g0)
    return (second > 0.5 * first) & (first > 1e-8 * (1.0 + _norm(g0)))


def _grad_fn(problem):
    """The problem's gradient; its unchecked path when it has one (the integrator only passes
    float64 points it made itself, so the public method's input checks are repeated work)."""
    from .measures import _grad_fn as g

    fast = getattr(problem, "unchecked_grad", None)
    return fast if fast is not None else g(problem)


def _value_fn(problem):
    """Like ``_grad_fn``, for f (None when the problem has no value)."""
    return getattr(problem, "unchecked_value", None) or getattr(problem, "value", None)


def _bisect(grad, path, lo, hi, g_lo, g_hi, halvings=BISECTIONS):
    """Locate the jump of the oracle on the path between step lengths lo and hi (per row).

    ``path(s)`` maps (k,) step lengths to (k, d) points. A point is on the near side when its
    gradient is closer to ``g_lo`` than to ``g_hi``. Returns (lo, hi, g_lo, g_hi) after
    ``halvings`` halvings (default 30): gradients on both sides within 2^-30 of the step of the kink.
    """
    a, b = g_lo.copy(), g_hi.copy()
    lo, hi = lo.copy(), hi.copy()
    for _ in range(halvings):
        mid = 0.5 * (lo + hi)
        gm = np.asarray(grad(path(mid)), dtype=float)
        near = _norm(gm - a) <= _norm(gm - b)
        lo = np.where(near, mid, lo)
        hi = np.where(near, hi, mid)
        g_lo = np.where(near[:, None], gm, g_lo)
        g_hi = np.where(near[:, None], g_hi, gm)
    return lo, hi, g_lo, g_hi


# ----------------------------------------------------------------------------- inclusions
class Inclusion(abc.ABC):
    """A set-valued field z' in F(z) with the event-driven step of the module docstring.

    Attributes: ``name``, ``dim`` (length of z), ``x_dim`` (the first x_dim entries of z are x),
    ``has_momentum`` (z = (x, m)), ``smooth`` (single-valued and Lipschitz: solve_ivp is valid),
    ``selection`` (in words). ``start(Z0)`` returns per-row memory; ``advance(z, dt, rows, memo)``
    takes one step of at most dt for the given rows and returns (new states, step lengths taken).
    """

    name = "inclusion"
    has_momentum = False
    smooth = False
    selection = ""

    def __init__(self, dim, x_dim):
        self.dim, self.x_dim = int(dim), int(x_dim)

    def start(self, Z0) -> dict:
        n = Z0.shape[0]
        return {"kinks": np.zeros(n, np.int64), "switches": np.zeros(n, np.int64)}

    @abc.abstractmethod
    def advance(self, z, dt, rows, memo):  # pragma: no cover - abstract
        """One step of at most dt for the rows ``rows`` (states z): (new z, lengths taken)."""

    def field(self, z):
        """The single-valued field of a smooth inclusion (for solve_ivp)."""
        raise NotImplementedError(f"{self.name} is not a smooth ODE")

    def x_part(self, z):
        return z[..., : self.x_dim]

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r}, dim={self.dim})"


class _Linear(Inclusion):
    name = "linear"
    smooth = True
    selection = "single-valued (an ODE); explicit Euler steps"

    def __init__(self, A):
        A = np.asarray(A, dtype=float)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be a square matrix; got shape {A.shape}")
        super().__init__(A.shape[0], A.shape[0])
        self.A = A

    def field(self, z):
        return z @ self.A.T

    def advance(self, z, dt, rows, memo):
        return z + dt[:, None] * self.field(z), dt

    def exact(self, z0, t):
        """Closed form exp(A t) z0."""
        from scipy.linalg import expm

        return expm(self.A * float(t)) @ np.asarray(z0, dtype=float)


def linear_flow(A) -> Inclusion:
    """z' = A z, with ``exact(z0, t) = expm(A t) z0``.

    >>> import numpy as np
    >>> linear_flow(np.eye(2)).field(np.ones((1, 2)))
    array([[1., 1.]])
    """
    return _Linear(A)


def _direction(direction, blocks):
    from stochopt import directions

    d = directions.get(direction)
    return d if blocks is None else d.per_block(blocks)


def _problem_dim(problem):
    return int(getattr(problem, "dim", 0) or np.asarray(problem.x0).shape[-1])


class _Slow(Inclusion):
    """x' in -conv{s + alpha d : s in dphi(d), d in D_f(x)} (identity direction: x' in -(1 + alpha) df(x))."""

    selection = ("off kinks the gradient; at a located kink the minimal-norm element of the Clarke set "
                 "(exact generators, or the two one-sided gradients); s = minimal-norm element of dphi(d)")

    def __init__(self, problem, direction, alpha):
        self.problem = problem
        self.direction = direction
        self.grad = _grad_fn(problem)
        self.value = _value_fn(problem)
        self.alpha = float(alpha)
        if not self.alpha >= 0:
            raise ValueError(f"alpha must be >= 0; got {alpha}")
        self.switching = direction.name in COORDINATEWISE
        self.clarke = bool(getattr(problem, "has_clarke", False))
        super().__init__(_problem_dim(problem), _problem_dim(problem))
        self.name = f"slow flow[{direction.name}, alpha={self.alpha:g}]"

    def start(self, Z0):
        memo = super().start(Z0)
        n, d = Z0.shape
        memo.update(g=np.asarray(self.grad(Z0), dtype=float), at_kink=np.zeros(n, bool), g_lo=np.zeros((n, d)),
                    g_hi=np.zeros((n, d)), band=np.zeros(n), change=np.zeros((n, d)), sliding=np.zeros((n, d), bool))
        return memo

    def _kink_direction(self, x, rows, memo, exact):
        """d = minimal-norm element of the Clarke set at kinks (rows of x): the segment between the
        one-sided gradients, or the hull of the exact generators (rows with ``exact``)."""
        d, _ = segment_min_norm(memo["g_lo"][rows], memo["g_hi"][rows])
        if self.clarke:
            from .measures import min_norm_point

            for i in np.flatnonzero(exact):
                try:
                    G = np.asarray(self.problem.clarke(x[i], tol=memo["band"][rows[i]]), dtype=float)
                except ValueError:  # too many generators to enumerate: keep the two one-sided gradients
                    continue
                if G.shape[0] > 1:
                    d[i] = min_norm_point(G).point
        return d

    def _velocity(self, d, change, sliding):
        if self.switching:
            # on the surface: within rounding, or (hysteresis) within one step's change of 0 for a
            # coordinate that was on it at the previous step, so that a sliding coordinate which drifts
            # O(h) off its surface is not cut back every step (no Zeno of tiny steps)
            scale = np.max(np.abs(d), axis=-1, keepdims=True)
            band = np.where(sliding, change, 1e-6 * change)
            on = np.abs(d) <= np.maximum(1e-12 * np.maximum(scale, 1.0), band)
            s = self.direction.select(np.where(on, 0.0, d))
        else:
            on = np.zeros(d.shape, bool)
            s = self.direction.select(d)
        return -(s + self.alpha * d), on

    def _kink_velocity(self, x, v, on, rows, memo):
        """(velocity, on-surface mask, slides) at located kinks x: the velocity of the minimal-norm element,
        which slides when the minimal-norm point of [g_lo, g_hi] is inside the segment (both pieces carry
        weight: the Filippov sliding velocity of a subgradient flow)."""
        _, lam = segment_min_norm(memo["g_lo"][rows], memo["g_hi"][rows])
        return v, on, (lam > 1e-12) & (lam < 1 - 1e-12)

    def _slide(self, x_end, v, step, rows, memo):
        """After a step along a kink: probe both sides along the kink's normal n (parallel to
        g_hi - g_lo) at distance delta = 1e-2 of the step's length, and project onto the kink where the two pieces'
        tangent planes meet (exact for planes). Returns (points, still on the kink)."""
        g_lo, g_hi = memo["g_lo"][rows], memo["g_hi"][rows]
        n = g_hi - g_lo
        n = n / np.maximum(_norm(n), 1e-300)[:, None]
        delta = 1e-2 * step * _norm(v)
        moving = delta > 0
        y_lo, y_hi = x_end - delta[:, None] * n, x_end + delta[:, None] * n
        G = np.asarray(self.grad(np.concatenate([y_lo, y_hi])), dtype=float)
        F = np.asarray(self.value(np.concatenate([y_lo, y_hi])), dtype=float)
        k = len(rows)
        a_grad, b_grad, fa, fb = G[:k], G[k:], F[:k], F[k:]
        # the probes must return the two known pieces, one on each side (else the solution left the
        # kink, or a third piece became active: the next ordinary step locates what happened)
        jump = _norm(g_hi - g_lo)
        same_lo = (_norm(a_grad - g_lo) < 0.25 * jump) & (_norm(a_grad - g_hi) > 0.75 * jump)
        same_hi = (_norm(b_grad - g_hi) < 0.25 * jump) & (_norm(b_grad - g_lo) > 0.75 * jump)
        a, b = np.sum(a_grad * n, axis=1), np.sum(b_grad * n, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (fb - fa - delta * (a + b)) / (a - b)
        stay = moving & same_lo & same_hi & np.isfinite(t) & (np.abs(t) <= delta)
        out = np.where(stay[:, None], x_end + np.where(stay, t, 0.0)[:, None] * n, x_end)
        r = rows[stay]
        memo["g_lo"][r], memo["g_hi"][r] = a_grad[stay], b_grad[stay]
        return out, stay | ~moving

    def advance(self, x, dt, rows, memo):
        g = memo["g"][rows]
        at = memo["at_kink"][rows]
        d = g.copy()
        step = dt.copy()
        x_new = np.empty_like(x)
        kink_next = np.zeros(len(rows), bool)
        if at.any():  # at a kink: the minimal-norm element, a full step, back onto the kink
            a = np.flatnonzero(at)
            fresh = memo["band"][rows[a]] > 0          # located to within the band: the exact generators
            d[a] = self._kink_direction(x[a], rows[a], memo, fresh)
        v, on = self._velocity(d, memo["change"][rows], memo["sliding"][rows])
        if at.any():
            ra = rows[a]
            v[a], on[a], slides = self._kink_velocity(x[a], v[a], on[a], ra, memo)
        memo["sliding"][rows] = on
        if at.any():
            x_end = x[a] + dt[a, None] * v[a]
            # resting at the kink (a stationary point of the inclusion): moves less than the location accuracy
            rest = dt[a] * _norm(v[a]) <= memo["band"][ra] / (1.0 + _norm(memo["g_hi"][ra] - memo["g_lo"][ra]))
            kink_next[a[rest]] = True
            sliding = slides & ~rest
            memo["band"][ra[~rest]] = 0.0
            if self.value is not None and sliding.any():
                s = np.flatnonzero(sliding)
                x_end[s], kink_next[a[s]] = self._slide(x_end[s], v[a[s]], dt[a[s]], rows[a[s]], memo)
            x_new[a] = x_end
        free = np.flatnonzero(~at)
        next_g = g.copy()
        if free.size:
            xf, vf, gf, dtf = x[free], v[free], g[free], dt[free]
            g_mid = np.asarray(self.grad(xf + 0.5 * dtf[:, None] * vf), dtype=float)
            g_end = np.asarray(self.grad(xf + dtf[:, None] * vf), dtype=float)
            stepf = dtf.copy()
            next_g[free] = g_end
            kink = _jumps(gf, g_mid, g_end)
            if kink.any():
                k = np.flatnonzero(kink)
                xk, vk = xf[k], vf[k]
                lo, hi, g_lo, g_hi = _bisect(self.grad, lambda s: xk + s[:, None] * vk, np.zeros(k.size), dtf[k],
                                             gf[k], g_end[k])
                stepf[k] = lo
                next_g[free[k]] = g_lo
                r = rows[free[k]]
                memo["g_lo"][r], memo["g_hi"][r] = g_lo, g_hi
                memo["band"][r] = 1e3 * (hi - lo) * _norm(vk) * (1.0 + _norm(g_hi - g_lo)) + 1e-12
                memo["kinks"][r] += 1
                kink_next[free[k]] = True
            if self.switching:
                cross = (gf * g_end < 0) & ~on[free] & ~kink[:, None]
                if cross.any():
                    with np.errstate(divide="ignore", invalid="ignore"):
                        frac = np.where(cross, gf / (gf - g_end), np.inf).min(axis=1)
                    # a crossing within 1e-6 of the step is the surface itself (the secant's residual where
                    # the gradient is not affine along the step): no cut, the next step finds it on the surface
                    hit = np.isfinite(frac) & (frac > 1e-6)
                    stepf[hit] = np.clip(frac[hit], 0.0, 1.0) * dtf[hit]
                    memo["switches"][rows[free[hit]]] += 1
            # the change of d over a step, remembered from the last step in which the coordinate was driven
            # (s_i = +-1): the hysteresis band of a coordinate on its surface
            memo["change"][rows[free]] = np.where(on[free], memo["change"][rows[free]], np.abs(g_end - gf))
            x_new[free] = xf + stepf[:, None] * vf
            step[free] = stepf
            recompute = free[(stepf < dtf) & ~kink]
        else:
            recompute = free
        recompute = np.concatenate([recompute, np.flatnonzero(at & ~kink_next)]).astype(np.int64)
        if recompute.size:
            next_g[recompute] = np.asarray(self.grad(x_new[recompute]), dtype=float)
        memo["at_kink"][rows] = kink_next
        memo["g"][rows] = next_g
        return x_new, step


class _SignHull(_Slow):
    """x' in -conv Sign(D_f(x)), the limiting inclusion of signSGD (x_{k+1} = x_k - eta_k sign(g_k), theta_k = 1),
    with the selection its iterates follow: the Filippov solution of x' = -sign(grad f(x))."""

    selection = ("off kinks -sign of the gradient (on a switching surface grad_i f = 0 as the sign slow flow); at a "
                 "located kink of two pieces, the element of conv{-sign(g_lo), -sign(g_hi)} tangent to the kink when "
                 "both sides' velocities point at it (Filippov sliding), else the velocity of the side entered")

    def __init__(self, problem):
        super().__init__(problem, _direction("sign", None), 0.0)
        self.name = "sign flow[signSGD]"

    def _kink_velocity(self, x, v, on, rows, memo):
        """The iterates zigzag across a kink with a = -sign(g_lo) on one side and b = -sign(g_hi) on the other:
        where both point at the kink their mean velocity is the combination of a and b with no component along
        the kink's normal n (Filippov sliding). n = g_hi - g_lo points into the g_hi side where f is locally a
        maximum of the two pieces (a convex kink) and away from it where f is a minimum (concave): the second
        difference of f across the kink tells which. The sign of the minimal-norm element of [g_lo, g_hi] (the
        slow flow's selection) is not tangent to the kink."""
        g_lo, g_hi = memo["g_lo"][rows], memo["g_hi"][rows]
        change, was_on = memo["change"][rows], memo["sliding"][rows]
        a, on_a = self._velocity(g_lo, change, was_on)
        b, on_b = self._velocity(g_hi, change, was_on)
        n = g_hi - g_lo
        if self.value is not None:
            delta = (1e-7 * (1.0 + _norm(x)) / np.maximum(_norm(n), 1e-300))[:, None]
            f = np.asarray(self.value(np.concatenate([x + delta * n, x - delta * n, x])), dtype=float).reshape(3, -1)
            n = np.where((f[0] + f[1] - 2.0 * f[2] < 0)[:, None], -n, n)
        an, bn = np.sum(a * n, axis=1), np.sum(b * n, axis=1)
        slides = (an > 0) & (bn < 0)
        mu = np.where(slides, bn / np.where(slides, bn - an, 1.0), 0.0)[:, None]
        # not sliding: the side the velocities lead to (into the g_hi side unless both point away from it)
        v = np.where(slides[:, None], mu * a + (1.0 - mu) * b, np.where(((an > 0) | (bn >= 0))[:, None], b, a))
        return v, on_a & on_b, slides


class _SingleTimescale(Inclusion):
    """z = (x, m): x' in -dphi(m) - alpha D_f(x), m' in tau (D_f(x) - m)."""

    has_momentum = True
    selection = ("oracle value on the side the trajectory enters, frozen over a step; m exact given it; "
                 "s(m) on the side m enters at m_i = 0")

    def __init__(self, problem, direction, tau, alpha, kink_accuracy):
        self.direction = direction
        self.grad = _grad_fn(problem)
        self.tau, self.alpha = float(tau), float(alpha)
        if not self.tau > 0 or not self.alpha >= 0:
            raise ValueError(f"tau must be > 0 and alpha >= 0; got tau={tau}, alpha={alpha}")
        self.switching = direction.name in COORDINATEWISE
        self.locate_kinks = kink_accuracy is not None
        if self.locate_kinks and not 0 < kink_accuracy < 1:
            raise ValueError(f"kink_accuracy must be in (0, 1) (a fraction of the step) or None; got {kink_accuracy}")
        self.halvings = int(np.ceil(-np.log2(kink_accuracy))) if self.locate_kinks else 0
        d = _problem_dim(problem)
        super().__init__(2 * d, d)
        self.name = f"single-timescale flow[{direction.name}, tau={self.tau:g}, alpha={self.alpha:g}]"

    def _path(self, x, m, g, s):
        """(x(s), m(s)) for step lengths s (k,) with the oracle value g frozen."""
        decay = np.exp(-self.tau * s)[:, None]
        m_s = g + (m - g) * decay
        if self.direction.name == "identity":
            integral = g * s[:, None] - (m - g) * (np.expm1(-self.tau * s) / self.tau)[:, None]
        else:
            half = g + (m - g) * np.exp(-0.5 * self.tau * s)[:, None]
            integral = s[:, None] * self.direction.select(half)
        return x - integral - self.alpha * s[:, None] * g, m_s

    def _switch(self, m, g, dt):
        """Step lengths cut at the first zero of a coordinate of m(s) (exact given g), which rows
        were cut, and at which coordinate."""
        if not self.switching:
            return dt.copy(), np.zeros(dt.shape, bool), np.zeros(dt.shape, np.int64)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_cross = np.where(m * g < 0, np.log1p(-m / g) / self.tau, np.inf)
        t_cross = np.where(t_cross > 0, t_cross, np.inf)
        first = np.argmin(t_cross, axis=1)
        t_first = t_cross[np.arange(len(m)), first]
        cut = t_first < dt
        return np.where(cut, t_first, dt), cut, first

    def _resolve(self, m, g, step):
        """Halve steps over which s(m(u)) changes by more than ``TURN`` (between a quarter and
        three quarters of the step), e.g. where a block of m passes close to 0 and the normalized
        direction turns round; a genuine jump (a one-coordinate block crossing 0) is straddled
        after 30 halvings, within 1e-9 of the step."""
        for _ in range(BISECTIONS):
            a = self.direction.select(self._path(np.zeros_like(m), m, g, 0.25 * step)[1])
            b = self.direction.select(self._path(np.zeros_like(m), m, g, 0.75 * step)[1])
            turn = np.max(np.abs(a - b), axis=1) > TURN
            if not turn.any():
                break
            step = np.where(turn, 0.5 * step, step)
        return step

    def advance(self, z, dt, rows, memo):
        d = self.x_dim
        x, m = z[:, :d], z[:, d:]
        # one-sided oracle: at a point just ahead along the motion (the side the trajectory enters)
        ahead = x - AHEAD * dt[:, None] * self.direction.select(m)
        g = np.asarray(self.grad(ahead), dtype=float)
        if self.switching:  # a zero of m_i within 1e-6 of the step: m_i is on the surface
            with np.errstate(divide="ignore", invalid="ignore"):
                now = (m * g < 0) & (np.log1p(-m / g) < 1e-6 * self.tau * dt[:, None])
            m = np.where(now, 0.0, m)
        step, cut, first = self._switch(m, g, dt)
        step = self._resolve(m, g, step)
        if not self.locate_kinks:
            x_new, m_new = self._path(x, m, g, step)
        else:
            g_mid = np.asarray(self.grad(self._path(x, m, g, 0.5 * step)[0]), dtype=float)
            g_end = np.asarray(self.grad(self._path(x, m, g, step)[0]), dtype=float)
            kink = _jumps(g, g_mid, g_end)
            # on a smooth piece the oracle at the predictor's midpoint makes the step second order
            g_bar = np.where(kink[:, None], g, g_mid)
            step2, cut2, first2 = self._switch(m, g_bar, dt)
            cut = ~kink & cut2 & (step2 <= step)
            first = first2
            step = np.where(kink, step, np.minimum(step, step2))
            if kink.any():
                k = np.flatnonzero(kink)
                xk, mk, gk = x[k], m[k], g[k]
                lo, _, _, g_hi = _bisect(self.grad, lambda s: self._path(xk, mk, gk, s)[0], np.zeros(k.size),
                                         step[k], g[k], g_end[k], self.halvings)
                # a kink within the location accuracy of the start: take the step on its far side
                at_start = lo <= 0
                step[k[~at_start]] = lo[~at_start]
                g_bar[k[at_start]] = g_hi[at_start]
                memo["kinks"][rows[k]] += 1
            x_new, m_new = self._path(x, m, g_bar, step)
        if cut.any():
            w = np.flatnonzero(cut)
            m_new[w, first[w]] = 0.0
            memo["switches"][rows[w]] += 1
        return np.concatenate([x_new, m_new], axis=1), step


class _TimeScaled(Inclusion):
    """z' in c F(z): the same solutions on a clock running c times as fast (z_c(t) = z(c t))."""

    def __init__(self, inclusion, factor):
        factor = float(factor)
        if not factor > 0:
            raise ValueError(f"factor must be > 0; got {factor}")
        super().__init__(inclusion.dim, inclusion.x_dim)
        self.inner, self.factor = inclusion, factor
        self.has_momentum, self.smooth, self.selection = inclusion.has_momentum, inclusion.smooth, inclusion.selection
        self.name = f"{inclusion.name} on a clock x{factor:g}"

    def start(self, Z0):
        return self.inner.start(Z0)

    def advance(self, z, dt, rows, memo):
        z_new, taken = self.inner.advance(z, self.factor * dt, rows, memo)
        return z_new, taken / self.factor

    def field(self, z):
        return self.factor * self.inner.field(z)


def time_scaled(inclusion: Inclusion, factor: float) -> Inclusion:
    """z' in factor F(z): the inclusion on a clock running ``factor`` times as fast.

    Its solution from z0 at time t is the original solution at time factor t (a wrong clock, for
    controls: iterates compared with it do not track it however small the step).

    >>> import numpy as np
    >>> class Abs:
    ...     dim = 1
    ...     def grad(self, x): return np.sign(x)
    >>> integrate(time_scaled(subgradient_flow(Abs()), 2.0), [1.0], [0.25]).z.round(9).ravel().tolist()
    [0.5]
    """
    return _TimeScaled(inclusion, factor)


def subgradient_flow(problem) -> Inclusion:
    """x' in -df(x): the Clarke subgradient flow (minimal-norm selection; sliding along kinks).

    ``problem`` needs ``grad(x)`` (batched); its ``clarke(x)`` generators are used at kinks when
    ``problem.has_clarke``.

    >>> import numpy as np
    >>> class Q:
    ...     dim = 2
    ...     def grad(self, x): return x
    >>> sol = integrate(subgradient_flow(Q()), [1.0, 2.0], [1.0], h=1e-3)
    >>> bool(np.allclose(sol.z[-1], np.exp(-1.0) * np.array([1.0, 2.0]), rtol=1e-3))
    True
    """
    return _Slow(problem, _direction("identity", None), 0.0)


def two_timescale_flow(problem, direction="sign", alpha: float = 0.0, blocks=None) -> Inclusion:
    """The slow flow x' in -conv{s + alpha d : s in dphi(d), d in D_f(x)} (two timescales).

    ``direction``: a name or a ``stochopt.directions.Direction`` (``blocks`` applies it per block).

    >>> import numpy as np
    >>> class Q:
    ...     dim = 2
    ...     def grad(self, x): return x
    >>> integrate(two_timescale_flow(Q(), "sign"), [3.0, -2.0], [1.0, 2.5]).z.round(12).tolist()
    [[2.0, -1.0], [0.5, 0.0]]
    """
    return _Slow(problem, _direction(direction, blocks), alpha)


def sign_flow(problem) -> Inclusion:
    """x' in -conv Sign(D_f(x)) (Sign(0) = [-1, 1] per coordinate): the limiting inclusion of signSGD.

    The solution computed is the one signSGD's iterates track, the Filippov solution of
    x' = -sign(grad f(x)): on a kink of two pieces both of whose sides point at it, it slides with the
    combination of -sign(g_lo) and -sign(g_hi) tangent to the kink (the mean of the iterates' zigzag),
    which differs from the sign of the minimal-norm subgradient (``two_timescale_flow(p, "sign")``).

    >>> import numpy as np
    >>> class Tilted:                                  # f = |x2 - x1/2| + x1: slide along x2 = x1/2
    ...     dim = 2
    ...     def value(self, x): return np.abs(x[..., 1] - 0.5 * x[..., 0]) + x[..., 0]
    ...     def grad(self, x):
    ...         s = np.sign(x[..., 1:] - 0.5 * x[..., :1])
    ...         return np.concatenate([1.0 - 0.5 * s, s], axis=-1)
    >>> sol = integrate(sign_flow(Tilted()), [1.0, 1.0], [1.5, 2.5], h=0.01)
    >>> sol.z.round(9).tolist()                         # (-1, -1) to the kink at t = 1, then (-1, -1/2)
    [[-0.5, -0.25], [-1.5, -0.75]]
    """
    return _SignHull(problem)


def single_timescale_flow(problem, direction="identity", tau: float = 1.0, alpha: float = 0.0, blocks=None,
                          kink_accuracy: float | None = 1e-9) -> Inclusion:
    """x' in -dphi(m) - alpha D_f(x), m' in tau (D_f(x) - m); state z = (x, m) of length 2d.

    ``kink_accuracy``: kinks of f are located to this fraction of the step (bisection); ``None``
    skips their location (faster; an O(h) error per crossing). A coarser accuracy than the default
    keeps the scheme's order as long as accuracy * h stays below its local error (accuracy <= h).

    >>> import numpy as np
    >>> class Q:
    ...     dim = 1
    ...     def grad(self, x): return x
    >>> sol = integrate(single_timescale_flow(Q(), "identity", tau=2.0), [1.0, 0.0], [1.0], h=1e-3)
    >>> exact = linear_flow([[0.0, -1.0], [2.0, -2.0]]).exact([1.0, 0.0], 1.0)
    >>> bool(np.allclose(sol.z[-1], exact, atol=1e-3))
    True
    """
    return _SingleTimescale(problem, _direction(direction, blocks), tau, alpha, kink_accuracy)


# ---------------------------------------------------------------------------- integrator
def march(inclusion: Inclusion, Z0, targets, h: float):
    """Advance rows of Z0 (N, n) and return their states at per-row sorted targets (N, J).

    Returns (states (N, J, n), memo). Every step is cut to land on the next target exactly.
    """
    Z = np.array(Z0, dtype=float)
    N, J = targets.shape
    t = np.zeros(N)
    ptr = np.zeros(N, dtype=np.int64)
    out = np.full((N, J, Z.shape[1]), np.nan)
    memo = inclusion.start(Z)
    memo["steps"] = np.zeros(N, np.int64)
    snap = 1e-12 * np.maximum(1.0, np.abs(targets[:, -1]))
    # events cut steps, but a row that needs 50 times the plain number of steps is stalled: refuse
    budget = 50 * (np.ceil(np.max(targets, axis=1) / h) + 20)
    active = np.arange(N)
    while active.size:
        while True:  # record every row that sits at its next target(s)
            active = active[ptr[active] < J]
            if not active.size:
                break
            at = (targets[active, ptr[active]] - t[active]) <= snap[active]
            if not at.any():
                break
            hit = active[at]
            out[hit, ptr[hit]] = Z[hit]
            ptr[hit] += 1
        if not active.size:
            break
        nxt = targets[active, ptr[active]]
        dt = np.minimum(h, nxt - t[active])
        znew, taken = inclusion.advance(Z[active], dt, active, memo)
        Z[active] = znew
        t[active] += taken
        t[active] = np.where(np.abs(nxt - t[active]) <= snap[active], nxt, t[active])
        memo["steps"][active] += 1
        if np.any(memo["steps"][active] > budget[active]):
            raise RuntimeError(f"{inclusion.name}: the event-driven integrator stalled (more than 50 times the "
                               f"plain number of steps of length h = {h:g}); rows {active[memo['steps'][active] > budget[active]]}")
    return out, memo


def integrate(inclusion: Inclusion, z0, times, h: float | None = None, method: str = "event") -> Solution:
    """Solve z' in F(z) from z0 and return the solution at ``times`` (sorted, >= 0, from the start).

    z0 is (n,) (then ``Solution.z`` is (J, n)) or (N, n) (``z`` is (N, J, n)). ``h``: the largest
    step (default T / 4000). ``method``: "event" (the event-driven scheme of the module docstring,
    any inclusion) or "solve_ivp" (scipy's DOP853 at rtol 1e-12, only for smooth inclusions).

    >>> import numpy as np
    >>> flow = linear_flow([[-1.0, 0.0], [0.0, -2.0]])
    >>> sol = integrate(flow, [1.0, 1.0], [0.0, 1.0], method="solve_ivp")
    >>> bool(np.allclose(sol.z[-1], np.exp([-1.0, -2.0]), atol=1e-10))
    True
    """
    z0 = np.asarray(z0, dtype=float)
    single = z0.ndim == 1
    Z0 = z0[None] if single else z0
    if Z0.ndim != 2 or Z0.shape[1] != inclusion.dim:
        raise ValueError(f"z0 must have length {inclusion.dim} (the inclusion's state); got shape {z0.shape}")
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size == 0 or np.any(np.diff(times) < 0) or np.any(times < 0):
        raise ValueError("times must be a non-empty sorted 1-D array of non-negative times")
    if method not in ("event", "solve_ivp"):
        raise ValueError(f"method must be 'event' or 'solve_ivp'; got {method!r}")
    T = float(times[-1])
    h = float(h) if h is not None else max(T, 1e-300) / 4000.0
    if not h > 0:
        raise ValueError(f"h must be > 0; got {h}")
    N = Z0.shape[0]
    if method == "solve_ivp":
        if not inclusion.smooth:
            raise ValueError(f"{inclusion.name} is set-valued or discontinuous: use method='event'")
        from scipy.integrate import solve_ivp

        n = inclusion.dim
        if T == 0:
            out = np.repeat(Z0[:, None], times.size, axis=1)
        else:
            sol = solve_ivp(lambda t, y: inclusion.field(y.reshape(N, n)).ravel(), (0.0, T), Z0.ravel(),
                            method="DOP853", t_eval=times, rtol=1e-12, atol=1e-14)
            if not sol.success:
                raise RuntimeError(f"solve_ivp failed: {sol.message}")
            out = sol.y.T.reshape(times.size, N, n).transpose(1, 0, 2)
        zeros = np.zeros(N, np.int64)
        return Solution(times, out[0] if single else out, zeros, zeros, zeros, 0.0, inclusion.name,
                        inclusion.x_dim, "DOP853 (smooth ODE)")
    out, memo = march(inclusion, Z0, np.array(np.broadcast_to(times, (N, times.size))), h)
    pick = (lambda a: a[0]) if single else (lambda a: a)  # noqa: E731
    return Solution(times, pick(out), pick(memo["steps"]), pick(memo["kinks"]), pick(memo["switches"]), h,
                    inclusion.name, inclusion.x_dim, inclusion.selection)
