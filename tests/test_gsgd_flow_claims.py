"""The flow side of the gsgd family: tracking, two timescales, Lyapunov, value convergence, boundedness.

Each claim runs once at seed 0 in quick mode (every part passes, every control fails); the pieces
the claims read their verdicts from are tested on cases with known answers; a slow test runs seeds
0-19.
"""
import numpy as np
import pytest

import problems
import verify
from stochopt import directions
from verify.families.gsgd import _flow as F
from verify.families.gsgd import boundedness, lyapunov, two_timescale
from verify.inclusions import integrate, single_timescale_flow, time_scaled, two_timescale_flow
from verify.lyapunov import largest_rise, relative_rise
from verify.registry import Context
from verify.tracking import common_start_error

FLOW_CLAIMS = ["gsgd.inclusion-tracking", "gsgd.two-timescale", "gsgd.single-timescale.lyapunov",
               "gsgd.value-convergence", "gsgd.boundedness"]


@pytest.mark.parametrize("claim_id", FLOW_CLAIMS)
def test_claim_is_verified_at_seed_0(claim_id):
    result = verify.get_claim(claim_id).run("quick", 0, draw=False)
    for part in result.parts:
        assert part.check.status == "pass", (claim_id, part.name, part.check.statistic, part.check.ci)
        assert part.control.status == "fail", (claim_id, part.name, part.control.statistic, part.control.ci)


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", FLOW_CLAIMS)
def test_claim_is_verified_at_every_seed(claim_id):
    claim = verify.get_claim(claim_id)
    bad = [s for s in range(20) if not claim.run("quick", s, draw=False).ok]
    assert not bad, f"{claim_id} not verified at seeds {bad}"


# ------------------------------------------------------------------------------- pieces
def test_largest_rise_reads_every_step_and_only_shrinks_on_coarser_grids():
    rng = np.random.default_rng(0)
    H = np.cumsum(rng.normal(-0.1, 1.0, (400, 3)), axis=0)
    fine = largest_rise(H)
    for every in (2, 5, 17):
        assert np.all(largest_rise(H[::every]) <= fine + 1e-12)
    assert np.all(relative_rise(-np.arange(10.0)[:, None]) == 0)          # monotone decrease: no rise


def test_order_verdict_reads_the_worst_direction_and_its_bootstrap():
    steps = np.array([0.04, 0.02, 0.01, 0.005])
    rng = np.random.default_rng(1)
    good = steps[:, None] * rng.uniform(1, 2, (1, 16))
    flat = 0.3 * np.ones((4, 16))
    v = F.order_verdict(steps, {"a": good, "b": good ** 0.5}, 1.0, 0.4)
    assert v.status == "fail" and v.details["worst"] == "b" and abs(v.statistic - 0.5) < 1e-9
    assert F.order_verdict(steps, {"a": good}, 1.0, 0.4).status == "pass"
    assert F.order_verdict(steps, {"a": flat}, 1.0, 0.4).statistic == pytest.approx(0.0, abs=1e-12)


def test_common_start_error_of_gradient_descent_is_eulers_order_one():
    import stochopt

    class Quadratic:
        n_samples, dim, x0 = 1, 2, np.array([1.0, -1.0])

        def value(self, x):
            return 0.5 * np.sum(x * x, axis=-1)

        def oracle(self, x, idx):
            return x.copy()

        def grad(self, x):
            return x.copy()

    p = Quadratic()
    etas = np.array([0.04, 0.02, 0.01])
    x0 = np.array([[1.0, -1.0], [0.5, 2.0]])
    tr = stochopt.run(stochopt.sgd(lr=np.repeat(etas, 2)), p, steps=100, replicas=6, x0=np.tile(x0, (3, 1)),
                      record_every=1)
    D = common_start_error(tr, two_timescale_flow(p, "identity"), x0, window=1.0, h=1e-3)
    slope = np.polyfit(np.log(etas), np.log(D.mean(axis=1)), 1)[0]
    assert 0.9 < slope < 1.1


def test_time_scaled_flow_is_the_flow_at_the_scaled_time():
    class Q:
        dim = 1

        def grad(self, x):
            return x

    flow = single_timescale_flow(Q(), "identity", tau=1.0)
    a = integrate(time_scaled(flow, 2.0), [1.0, 0.0], [0.5], h=1e-3).z
    b = integrate(flow, [1.0, 0.0], [1.0], h=2e-3).z
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_rotated_direction_is_not_a_subgradient_of_phi():
    r = lyapunov.Rotated(directions.get("identity"))
    m = np.array([1.0, 0.0])
    s = r.select(m)
    y = m + 0.5 * (s - m)                                      # the subgradient inequality fails between m and s
    assert r.phi(y) < r.phi(m) + s @ (y - m)
    assert r.select(m) @ m > 0                                 # still a descent direction: no blow-up


def test_regularized_problem_is_coercive_and_the_tilt_breaks_it():
    base = F.relu()
    u = boundedness.dead_unit_tilt(base, 0.2)
    f = boundedness.Regularized(base, lam=0.05)
    tilted = boundedness.Regularized(base, lam=0.05, tilt=u)
    # unit 0's bias (coordinate 12) below -max_i <w_1, a_i>: the unit is dead, the loss is flat along b_1 -> -inf
    x = np.array(base.x0)
    x[12] = -np.max(base.X @ x[0:3]) - 1.0
    ray = x - np.outer([10.0, 100.0, 1000.0], np.eye(base.dim)[12])
    np.testing.assert_allclose(base.value(ray), base.value(x[None]).repeat(3), rtol=1e-12)
    np.testing.assert_array_equal(base.grad(ray)[:, [0, 1, 2, 12, 16]], 0.0)   # and no gradient reaches the unit
    assert np.all(np.diff(f.value(ray)) > 0) and np.all(np.diff(tilted.value(ray)) < 0)   # -> -inf: not coercive
    x = base.x0 + 0.3
    np.testing.assert_allclose(tilted.grad(x), base.grad(x) + 0.05 * np.sign(x) + 0.2 * np.eye(base.dim)[12])


def test_fast_error_is_the_distance_to_the_segment_of_consecutive_gradients():
    class Abs:
        def grad(self, x):
            return np.sign(x)

    x = np.array([[[0.2]], [[-0.1]], [[-0.3]]])
    m = np.array([[[0.5]], [[-2.0]], [[0.0]]])
    err = two_timescale.fast_errors(Abs(), x, m)
    assert err[:, 0].tolist() == [0.0, 1.0]                    # 0.5 in [-1, 1]; -2 is 1 away from {-1}


def test_flow_directions_follow_the_user_direction():
    user = directions.get("sign")
    assert list(F.directions(Context(direction=user))) == ["user direction"]
    assert list(F.directions(Context(), names=("identity", "clip_coord"))) == ["identity", "clip_coord"]


def test_tracked_lion_is_the_single_timescale_lion_loop_with_its_momentum_started_at_m0():
    """Lion in the tracking claim: 1 - mu2 = tau eta (theta_k), 1 - mu1 = tau eta (1 - beta1) / (1 - beta2); m_0 given."""
    from verify.families.gsgd._common import LION_BETAS

    rng = np.random.default_rng(0)
    eta, tau = np.array([0.02, 0.01]), 1.0
    x, m = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    opt = F.tracked_method("lion", None, eta, tau, m)
    state = opt.init(x.copy())
    for _ in range(3):
        g = rng.normal(size=(2, 3))
        state = opt.step(state, g)
        theta = tau * eta[:, None]
        c = m + theta * (1 - LION_BETAS[0]) / (1 - LION_BETAS[1]) * (g - m)
        x, m = x - eta[:, None] * np.sign(c), m + theta * (g - m)
        assert np.allclose(state.x, x, rtol=1e-12, atol=0) and np.allclose(state.buffers["m"], m, rtol=1e-12, atol=0)


def test_signsgd_on_crescent_tracks_the_sign_hull_flow_at_order_one_and_not_the_slow_sign_flow():
    """signSGD's iterates follow the sign-hull flow (Filippov sliding): D_T halves with eta on crescent.
    The slow flow's selection (the sign of the minimal-norm subgradient) is not what they follow there."""
    from verify.families.gsgd import inclusion_tracking as IT

    ctx = Context(size={"crescent": dict(verify.get_claim(IT.CLAIM.id).sizes["quick"]["crescent"], replicas=6)},
                  draw=False)
    v = IT._constant_part(ctx, "crescent", IT.DETERMINISTIC, names=("signsgd",))
    assert v.status == "pass" and v.statistic > 0.8, (v.statistic, v.ci)
    p = problems.get("crescent")
    x0 = F.starts(p.x0, 6, 0.5, 0)
    slow = integrate(two_timescale_flow(p, "sign"), x0, [1.0], h=0.0025).z[:, -1]
    hull = integrate(F.limiting_inclusion("signsgd", p, None, 1.0, 0.0025, x0, 0 * x0)[0], x0, [1.0], h=0.0025).z[:, -1]
    assert np.max(np.linalg.norm(slow - hull, axis=-1)) > 0.1
