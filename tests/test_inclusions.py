"""The inclusion integrator against inclusions with closed-form solutions (verify.inclusions).

Tolerances: "exact" cases (piecewise-linear dynamics, every event located) are held to 1e-8; the
first-order cases are held to the bound of Euler's global error where it is classical, and their
error must shrink like h (a factor 4 when h shrinks by 4, within 10%).
"""
import numpy as np
import pytest

import problems
from verify.inclusions import (
    integrate,
    linear_flow,
    segment_min_norm,
    sign_flow,
    single_timescale_flow,
    subgradient_flow,
    two_timescale_flow,
)


# ------------------------------------------------------------------------- test problems
class MaxPlanes:
    """f(x) = max_j <a_j, x>, with the exact Clarke set (the active pieces) when ``clarke``."""

    n_samples = 1

    def __init__(self, A, clarke=True):
        self.A = np.asarray(A, dtype=float)
        self.dim = self.A.shape[1]
        self.has_clarke = clarke

    def value(self, x):
        return np.max(x @ self.A.T, axis=-1)

    def grad(self, x):
        return self.A[np.argmax(x @ self.A.T, axis=-1)]

    def clarke(self, x, tol=1e-9):
        v = self.A @ x
        return self.A[v >= v.max() - tol * max(1.0, abs(v.max()))]


class AbsQuadratic:
    """f(x) = |x| + c x^2 / 2 in one dimension (c = 0: |x|), with its Clarke set."""

    dim, n_samples, has_clarke = 1, 1, True

    def __init__(self, c=0.0):
        self.c = c

    def value(self, x):
        return np.abs(x[..., 0]) + 0.5 * self.c * x[..., 0] ** 2

    def grad(self, x):
        return np.sign(x) + self.c * x

    def clarke(self, x, tol=1e-9):
        if abs(x[0]) <= tol:
            return np.array([[-1.0], [1.0]]) + self.c * x[0]
        return np.array([[np.sign(x[0]) + self.c * x[0]]])


class Quadratic:
    """f(x) = x^T A x / 2."""

    n_samples = 1

    def __init__(self, A):
        self.A = np.asarray(A, dtype=float)
        self.dim = self.A.shape[0]

    def value(self, x):
        return 0.5 * np.sum(x * (x @ self.A.T), axis=-1)

    def grad(self, x):
        return x @ self.A.T


def _error(h, run, exact):
    return float(np.max(np.abs(run(h) - exact)))


def _first_order(run, exact, h=0.01, order=1):
    """Errors at h and h/4: both positive and their ratio 4^order within 10%."""
    coarse, fine = _error(h, run, exact), _error(h / 4, run, exact)
    assert fine > 0 and 0.9 * 4 ** order < coarse / fine < 1.1 * 4 ** order, (coarse, fine)
    return coarse


# ----------------------------------------------------------------- subgradient flows (a)
@pytest.mark.parametrize("x0", [1.0, -0.7, 2.345])
@pytest.mark.parametrize("h", [0.01, 0.003])
def test_abs_flow_reaches_zero_at_abs_x0_and_stays(x0, h):
    times = np.linspace(0.0, 3.0, 61)
    sol = integrate(subgradient_flow(AbsQuadratic()), [x0], times, h=h)
    exact = np.sign(x0) * np.maximum(abs(x0) - times, 0.0)
    assert np.max(np.abs(sol.z[:, 0] - exact)) < 1e-8
    assert sol.kinks >= 1                     # the kink at 0 was located, not stepped over


@pytest.mark.parametrize("x0", [1.0, -2.3])
def test_sign_plus_x_is_first_order_with_eulers_bound(x0):
    """x' in -sign(x) - x: x(t) = sign(x0) ((1 + |x0|) e^-t - 1) until t = log(1 + |x0|), then 0.

    Run both as the subgradient flow of |x| + x^2/2 and as the sign slow flow of x^2/2 with alpha = 1.
    Euler's global error bound for x' = -1 - x (Lipschitz constant 1, |x''| <= 1 + |x0|) at
    T = log(1 + |x0|) is (h/2)(1 + |x0|)(e^T - 1) = (h/2)(1 + |x0|)|x0|; after T the solution rests.
    """
    times = np.linspace(0.0, 2.0, 41)
    exact = np.sign(x0) * np.maximum((1 + abs(x0)) * np.exp(-times) - 1.0, 0.0)
    bound = 0.5 * (1 + abs(x0)) * abs(x0)
    for flow in (subgradient_flow(AbsQuadratic(c=1.0)), two_timescale_flow(Quadratic([[1.0]]), "sign", alpha=1.0)):
        coarse = _first_order(lambda h: integrate(flow, [x0], times, h=h).z[:, 0], exact)
        assert coarse <= bound * 0.01
        assert abs(integrate(flow, [x0], [2.0], h=0.01).z[-1, 0]) < 1e-10     # at rest (kink located to 1e-9 h)


def _two_planes_solution(A, x0, times):
    """Closed form: the active plane's gradient until the kink, then the sliding velocity."""
    a1, a2 = np.asarray(A, dtype=float)
    x0 = np.asarray(x0, dtype=float)
    gap = (a1 - a2) @ x0
    active = a1 if gap > 0 else a2
    t_star = -gap / ((a1 - a2) @ (-active))
    slide = -segment_min_norm(a1[None], a2[None])[0][0]
    t = np.asarray(times)[:, None]
    return np.where(t <= t_star, x0 - active * t, x0 - active * t_star + slide * (t - t_star)), t_star, slide


@pytest.mark.parametrize("clarke", [True, False])
@pytest.mark.parametrize("x0", [[1.0, 0.3], [-2.0, 1.0]])
def test_sliding_mode_along_the_kink_of_two_planes(clarke, x0):
    """f = max(<a1, x>, <a2, x>): reach the kink line, then slide along it with the Filippov velocity
    (the minimal-norm point of [a1, a2], tangent to the kink), exactly."""
    A = [[1.0, 1.0], [-1.0, 0.5]]
    times = np.linspace(0.0, 3.0, 31)
    exact, t_star, slide = _two_planes_solution(A, x0, times)
    assert 0 < t_star < 3 and abs((np.array(A[0]) - A[1]) @ slide) < 1e-15      # tangent to the kink
    for h in (0.01, 0.003):
        sol = integrate(subgradient_flow(MaxPlanes(A, clarke)), x0, times, h=h)
        assert np.max(np.abs(sol.z - exact)) < 1e-8


def test_sliding_along_the_kink_of_an_abs_with_drift():
    """f = |x2| + x1/2: x1 = x1(0) - t/2; x2 goes to 0 at unit speed, then slides on x2 = 0."""
    A = [[0.5, 1.0], [0.5, -1.0]]
    times = np.linspace(0.0, 2.0, 21)
    sol = integrate(subgradient_flow(MaxPlanes(A)), [0.3, -0.8], times, h=0.007)
    exact = np.stack([0.3 - 0.5 * times, -np.maximum(0.8 - times, 0.0)], axis=1)
    assert np.max(np.abs(sol.z - exact)) < 1e-8


def test_a_corner_of_three_planes_needs_the_exact_clarke_set():
    """At the corner 0 of max(x1, -x1/2 + x2, -x1/2 - x2) the hull of three gradients contains 0:
    with the exact generators the flow stops there; with only two one-sided gradients it chatters
    within O(h) of it (still first order)."""
    A = [[1.0, 0.0], [-0.5, 1.0], [-0.5, -1.0]]
    times = np.array([3.0, 4.0])
    h = 0.01
    exact = integrate(subgradient_flow(MaxPlanes(A, clarke=True)), [1.0, 0.2], times, h=h)
    assert np.max(np.abs(exact.z)) < 1e-8
    rough = integrate(subgradient_flow(MaxPlanes(A, clarke=False)), [1.0, 0.2], times, h=h)
    assert 0 < np.max(np.abs(rough.z)) < 2 * h


def test_crescent_flow_decreases_f_and_converges_in_h():
    """On crescent (nonconvex, a curved kink) the flow decreases f and is first order in h against
    a fine solution."""
    p = problems.get("crescent")
    times = np.linspace(0.0, 2.0, 5)
    fine = integrate(subgradient_flow(p), p.x0, times, h=0.001)
    assert np.all(np.diff(p.value(fine.z)) < 0)
    assert fine.kinks == 1                      # the kink circle is met once, then followed
    errs = [np.max(np.abs(integrate(subgradient_flow(p), p.x0, times, h=h).z - fine.z)) for h in (0.016, 0.008)]
    assert errs[1] < 0.7 * errs[0] and errs[0] < 0.01


# --------------------------------------------------------------------- slow flows (c)
def test_sign_flow_of_a_separable_quadratic_is_unit_speed_to_zero():
    p = Quadratic(np.diag([1.0, 2.0, 0.5]))
    x0 = np.array([1.0, -0.3, 0.7])
    times = np.linspace(0.0, 1.5, 31)
    exact = np.sign(x0) * np.maximum(np.abs(x0) - times[:, None], 0.0)
    for h in (0.01, 0.0037):
        sol = integrate(two_timescale_flow(p, "sign"), x0, times, h=h)
        assert np.max(np.abs(sol.z - exact)) < 1e-12
        assert sol.switches >= 2


def test_sign_flow_sliding_on_a_coupled_surface_is_first_order():
    """f = x^T A x / 2, A = [[1, a], [a, 1]], a = 1/2, from g = A x0 > 0 with g1 < g2: both coordinates
    move at speed -1 until g1 = 0 at t1 = g1(0)/(1 + a); then the Filippov solution slides on g1 = 0
    with s = (-a, 1) until g2 = 0 at t2 = t1 + g2(t1)/(1 - a^2); then rests at 0."""
    a = 0.5
    A = np.array([[1.0, a], [a, 1.0]])
    x0 = np.array([1.0, 2.0])
    g0 = A @ x0
    t1 = g0[0] / (1 + a)
    t2 = t1 + (g0[1] - (1 + a) * t1) / (1 - a * a)
    times = np.linspace(0.0, 4.0, 41)
    t = times[:, None]
    x1 = x0 - t1
    exact = np.where(t <= t1, x0 - t, np.where(t <= t2, x1 + (t - t1) * np.array([a, -1.0]), 0.0))
    coarse = _first_order(lambda h: integrate(two_timescale_flow(Quadratic(A), "sign"), x0, times, h=h).z, exact)
    assert coarse <= 0.01                        # within one step of the sliding solution


# ------------------------------------------------------- signSGD's sign-hull flow (c')
class TiltedKink:
    """f(x) = |x2 - x1/2| + x1: a kink line with gradients (1/2, 1) above it and (3/2, -1) below."""

    dim, n_samples = 2, 1

    def value(self, x):
        return np.abs(x[..., 1] - 0.5 * x[..., 0]) + x[..., 0]

    def grad(self, x):
        s = np.sign(x[..., 1:] - 0.5 * x[..., :1])
        return np.concatenate([1.0 - 0.5 * s, s], axis=-1)


@pytest.mark.parametrize("x0", [1.0, -0.7])
@pytest.mark.parametrize("h", [0.01, 0.0037])
def test_sign_flow_of_abs_is_unit_speed_to_zero_and_rests(x0, h):
    """x' in -Sign(x) (f = |x|): |x| falls at unit speed to 0 at t = |x0|, then rests (the two sides'
    velocities -1 and +1 cancel: the Filippov velocity on the kink is 0)."""
    times = np.linspace(0.0, 2.0, 41)
    sol = integrate(sign_flow(AbsQuadratic()), [x0], times, h=h)
    assert np.max(np.abs(sol.z[:, 0] - np.sign(x0) * np.maximum(abs(x0) - times, 0.0))) < 1e-8


@pytest.mark.parametrize("x0", [[1.0, 1.0], [1.0, -0.5]])
@pytest.mark.parametrize("h", [0.01, 0.003])
def test_sign_flow_slides_on_a_tilted_kink_with_the_filippov_velocity(x0, h):
    """f = |x2 - x1/2| + x1: -sign(grad f) is (-1, -1) above the kink and (-1, 1) below, both pointing at it;
    signSGD zigzags across it, and its mean velocity, the combination tangent to the kink, is (-1, -1/2)
    (weights 3/4, 1/4). The gap x2 - x1/2 closes at rate 1/2 from above, 3/2 from below; exact to the location
    accuracy."""
    x0 = np.asarray(x0)
    gap = x0[1] - 0.5 * x0[0]
    t1 = abs(gap) / (0.5 if gap > 0 else 1.5)
    times = np.linspace(0.0, 3.0, 31)[:, None]
    first = np.array([-1.0, -np.sign(gap)])
    exact = np.where(times <= t1, x0 + times * first, x0 + t1 * first + (times - t1) * np.array([-1.0, -0.5]))
    sol = integrate(sign_flow(TiltedKink()), x0, times[:, 0], h=h)
    assert np.max(np.abs(sol.z - exact)) < 1e-8
    assert sol.kinks >= 1


def test_sign_flow_rests_on_the_arc_of_crescent_where_the_sign_vectors_cancel():
    """Crescent below x2 = 1/2 on its kink circle: sign(g1) = (1, -1) outside, sign(g2) = (-1, 1) inside, so the
    Filippov velocity on the circle is 0 (signSGD's non-Clarke-stationary limits). From (0.8, 0.3) the flow moves
    with (-1, 1) to the circle at t* = (3 - sqrt(7.96)) / 4 and stays there."""
    p = problems.get("crescent")
    t_star = (3.0 - np.sqrt(7.96)) / 4.0
    rest = np.array([0.8 - t_star, 0.3 + t_star])
    sol = integrate(sign_flow(p), [0.8, 0.3], [0.5 * t_star, 1.0, 2.0], h=0.01)
    assert np.allclose(sol.z[0], [0.8 - 0.5 * t_star, 0.3 + 0.5 * t_star], atol=1e-12)
    assert np.max(np.abs(sol.z[1:] - rest)) < 1e-8


def test_normalized_slow_flow_per_block_is_unit_speed_to_zero():
    """x' = -x_b / ||x_b|| per block on ||x||^2 / 2: each block shrinks radially at unit speed."""
    p = Quadratic(np.eye(3))
    x0 = np.array([1.0, -2.0, 0.5])
    times = np.linspace(0.0, 3.0, 31)
    radius = np.array([np.sqrt(5.0)] * 2 + [0.5])
    exact = x0 * np.maximum(1.0 - times[:, None] / radius, 0.0)
    for h in (0.01, 0.0025):
        sol = integrate(two_timescale_flow(p, "normalized", blocks=[[0, 1], [2]]), x0, times, h=h)
        assert np.max(np.abs(sol.z - exact)) <= h      # at rest within one step of 0


# ------------------------------------------------------------ single-timescale flows (b)
def test_single_timescale_identity_on_a_quadratic_is_second_order():
    tau = 2.0
    A = np.array([[1.0, 0.3], [0.3, 2.0]])
    flow = single_timescale_flow(Quadratic(A), "identity", tau=tau)
    M = np.block([[np.zeros((2, 2)), -np.eye(2)], [tau * A, -tau * np.eye(2)]])
    z0 = np.array([1.0, -1.0, 0.0, 0.0])
    times = np.linspace(0.0, 3.0, 7)
    exact = np.array([linear_flow(M).exact(z0, t) for t in times])
    _first_order(lambda h: integrate(flow, z0, times, h=h).z, exact, order=2)


def _momentum_on_abs(direction, x0, m0, tau, times):
    """x' = -s(m), m' = tau (sign(x) - m) on f = |x|, event by event in closed form.

    Between events sign(x) = sx and s(m) are constant (sign direction) or m is explicit (identity):
    m(u) = sx + (m - sx) e^{-tau u}; x(u) = x - sm u (sign) or x - sx u - (m - sx)(1 - e^{-tau u})/tau.
    Events: x = 0 (found by brentq for the identity direction), m = 0 (sign direction).
    """
    from scipy.optimize import brentq

    def state(x, m, sx, u):
        mu = sx + (m - sx) * np.exp(-tau * u)
        if direction == "sign":
            return x - np.sign(m if m != 0 else sx) * u, mu
        return x - sx * u - (m - sx) * (1 - np.exp(-tau * u)) / tau, mu

    t, x, m, out = 0.0, x0, m0, []
    for target in times:
        while t < target:
            sx = np.sign(x) if x != 0 else -np.sign(m)
            left = target - t
            events = []
            if direction == "sign" and m * sx < 0:
                events.append(np.log((sx - m) / sx) / tau)
            xe = state(x, m, sx, left)[0]
            if xe * sx < 0:
                events.append(brentq(lambda u: state(x, m, sx, u)[0], 0.0, left, xtol=1e-15))
            u = min([e for e in events if e > 0] + [left])
            x, m = state(x, m, sx, u)
            t += u
            if u < left:
                x = 0.0 if abs(x) < 1e-12 else x
                m = 0.0 if abs(m) < 1e-12 and direction == "sign" else m
        out.append([x, m])
    return np.array(out)


@pytest.mark.parametrize("direction", ["sign", "identity"])
def test_single_timescale_flow_on_abs_is_exact(direction):
    """On the piecewise-linear |x| the scheme locates every kink and every zero of m: exact."""
    tau = 2.0
    times = np.linspace(0.0, 4.0, 41)
    exact = _momentum_on_abs(direction, 1.0, 0.0, tau, times)
    for h in (0.01, 0.0031):
        sol = integrate(single_timescale_flow(AbsQuadratic(), direction, tau=tau), [1.0, 0.0], times, h=h)
        assert np.max(np.abs(sol.z - exact)) < 1e-8
        assert sol.kinks >= 3


def test_single_timescale_sign_on_a_quadratic_is_second_order():
    """x' = -sign(m), m' = tau (x - m): while sign(m) = s, x = x0 - s t and
    m(t) = x0 - s t + s/tau + (m0 - x0 - s/tau) e^{-tau t}; from m0 = 0 the first switch of m is
    after x has crossed 0."""
    from scipy.optimize import brentq

    tau, x0 = 3.0, 1.0

    def m_of(t, s, xs, ms):
        return xs - s * t + s / tau + (ms - xs - s / tau) * np.exp(-tau * t)

    t_sw = brentq(lambda t: m_of(t, 1.0, x0, 0.0), 1e-6, 5.0)
    xs = x0 - t_sw
    t_sw2 = brentq(lambda t: m_of(t, -1.0, xs, 0.0), 1e-6, 5.0)
    times = np.linspace(0.0, t_sw + 0.9 * t_sw2, 9)
    exact = np.array([[x0 - t, m_of(t, 1.0, x0, 0.0)] if t <= t_sw else
                      [xs + (t - t_sw), m_of(t - t_sw, -1.0, xs, 0.0)] for t in times])
    _first_order(lambda h: integrate(single_timescale_flow(Quadratic([[1.0]]), "sign", tau=tau), [x0, 0.0], times,
                                     h=h).z, exact, h=0.004, order=2)


def test_rows_run_together_equal_rows_run_alone():
    p = problems.get("l1-regression", n=20, d=3, seed=0)
    rng = np.random.default_rng(0)
    Z0 = np.concatenate([p.x0 + rng.uniform(-1, 1, (4, 3)), np.zeros((4, 3))], axis=1)
    flow = single_timescale_flow(p, "sign", tau=1.0)
    together = integrate(flow, Z0, [0.5, 1.0], h=0.01).z
    alone = integrate(flow, Z0[2:3], [0.5, 1.0], h=0.01).z
    np.testing.assert_array_equal(together[2], alone[0])


def test_linear_flow_solve_ivp_and_event_euler():
    A = np.array([[-0.5, 2.0], [-2.0, -0.5]])
    flow = linear_flow(A)
    z0 = np.array([1.0, -0.5])
    times = np.linspace(0.0, 3.0, 7)
    exact = np.array([flow.exact(z0, t) for t in times])
    assert np.max(np.abs(integrate(flow, z0, times, method="solve_ivp").z - exact)) < 1e-9
    _first_order(lambda h: integrate(flow, z0, times, h=h).z, exact, h=0.004)


def test_bad_input_is_refused_before_any_work():
    flow = two_timescale_flow(Quadratic(np.eye(2)), "sign")
    with pytest.raises(ValueError, match="length 2"):
        integrate(flow, np.ones(3), [1.0])
    with pytest.raises(ValueError, match="sorted"):
        integrate(flow, np.ones(2), [1.0, 0.5])
    with pytest.raises(ValueError, match="sorted"):
        integrate(flow, np.ones(2), [-1.0])
    with pytest.raises(ValueError, match="h must be"):
        integrate(flow, np.ones(2), [1.0], h=0.0)
    with pytest.raises(ValueError, match="method"):
        integrate(flow, np.ones(2), [1.0], method="rk4")
    with pytest.raises(ValueError, match="method='event'"):
        integrate(flow, np.ones(2), [1.0], method="solve_ivp")
    with pytest.raises(ValueError, match="tau"):
        single_timescale_flow(Quadratic(np.eye(2)), "sign", tau=0.0)
    with pytest.raises(ValueError, match="alpha"):
        two_timescale_flow(Quadratic(np.eye(2)), "sign", alpha=-1.0)
