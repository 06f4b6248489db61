"""Integrators against closed forms; tracking error shrinks with the step."""
import numpy as np
import pytest

import stochopt
import verify
from verify.tracking import integrate, linear_flow, single_timescale_flow, tracking_error, two_timescale_flow


class SeparableQuadratic:
    """f(x) = sum a_i x_i^2 / 2 (full batch, n_samples = 1)."""

    n_samples = 1
    smooth = True

    def __init__(self, a=(1.0, 2.0, 0.5), x0=(1.0, -0.3, 0.7)):
        self.a, self.x0 = np.asarray(a, float), np.asarray(x0, float)
        self.dim = self.a.size

    def value(self, x):
        return 0.5 * np.sum(self.a * x * x, axis=-1)

    def grad(self, x):
        return self.a * x

    def oracle(self, x, idx):
        return self.a * x


def sign_flow_exact(x0, t):
    """x' = -sign(grad f(x)) on a separable quadratic: each coordinate moves at unit speed to 0."""
    return np.sign(x0) * np.maximum(np.abs(x0) - np.asarray(t)[:, None], 0.0)


A = np.array([[-0.5, 2.0], [-2.0, -0.5]])


@pytest.mark.parametrize("method", ["solve_ivp", "rk4"])
def test_linear_ode_closed_form(method):
    flow = linear_flow(A)
    z0 = np.array([1.0, -0.5])
    times = np.linspace(0, 3, 7)
    z = integrate(flow, z0, times, method=method, h=1e-3)
    exact = np.array([flow.exact(z0, t) for t in times])
    assert np.abs(z - exact).max() < 1e-8


def test_linear_ode_batched():
    flow = linear_flow(A)
    Z0 = np.array([[1.0, 0.0], [0.0, 2.0]])
    z = integrate(flow, Z0, [0.0, 1.0], method="rk4", h=1e-3)
    assert z.shape == (2, 2, 2)
    np.testing.assert_allclose(z[1, -1], flow.exact(Z0[1], 1.0), atol=1e-10)


def test_sign_flow_closed_form():
    p = SeparableQuadratic()
    flow = two_timescale_flow(p, "sign")
    assert not flow.smooth or flow.switching is not None
    times = np.linspace(0, 1.5, 31)
    z = integrate(flow, p.x0, times, method="euler-event", h=0.01)
    assert np.abs(z - sign_flow_exact(p.x0, times)).max() < 1e-8


def test_discontinuous_field_refuses_smooth_integrators():
    flow = two_timescale_flow(SeparableQuadratic(), "sign")
    with pytest.raises(ValueError, match="euler-event"):
        integrate(flow, np.ones(3), [0.0, 1.0], method="solve_ivp")


def _slope(etas, errs):
    return np.polyfit(np.log(etas), np.log(errs), 1)[0]


def test_signsgd_tracking_error_shrinks_linearly():
    p = SeparableQuadratic()
    flow = two_timescale_flow(p, "sign")
    etas = np.array([0.02, 0.01, 0.005])
    errs = []
    for eta in etas:
        tr = stochopt.run(stochopt.signsgd(lr=eta), p, steps=int(1.5 / eta), record_every=1)
        res = tracking_error(tr, flow, window=1.0, max_starts=8)
        assert res.error.shape == (res.starts.size, 1) and res.method == "euler-event"
        errs.append(res.error.max())
    assert 0.8 < _slope(etas, errs) < 1.2  # deterministic sign bias: O(eta)


def test_sgd_tracking_error_smooth_flow():
    p = SeparableQuadratic()
    flow = two_timescale_flow(p, "identity")
    assert flow.smooth
    etas = np.array([0.04, 0.02, 0.01])
    errs = []
    for eta in etas:
        tr = stochopt.run(stochopt.sgd(lr=eta), p, steps=int(2.0 / eta), record_every=1)
        errs.append(tracking_error(tr, flow, window=1.0, max_starts=5).error.max())
    assert 0.8 < _slope(etas, errs) < 1.2


def test_single_timescale_heavy_ball_tracking():
    p = SeparableQuadratic()
    tau = 2.0
    flow = single_timescale_flow(p, "identity", tau=tau)
    etas = np.array([0.02, 0.01, 0.005])
    errs = []
    for eta in etas:
        rec = verify.MomentumRecorder()
        opt = stochopt.heavy_ball(lr=eta, momentum=1 - tau * eta)  # theta = tau * eta
        tr = stochopt.run(opt, p, steps=int(1.5 / eta), record_every=2, callbacks=[rec])
        res = tracking_error(tr, flow, window=1.0, momentum=rec.array(tr), max_starts=4)
        errs.append(res.error.max())
    assert 0.7 < _slope(etas, errs) < 1.3
    with pytest.raises(ValueError, match="MomentumRecorder"):
        tracking_error(tr, flow, window=1.0)


def test_tracking_with_random_stepsizes_uses_per_replica_clock():
    p = SeparableQuadratic()
    eta = stochopt.schedules.randomized(stochopt.schedules.constant(0.01), 0.5, 1.5, seed=3)
    tr = stochopt.run(stochopt.sgd(lr=eta), p, steps=200, replicas=3, record_every=1)
    assert not np.allclose(tr.time[-1, 0], tr.time[-1, 1])
    res = tracking_error(tr, two_timescale_flow(p, "identity"), window=0.5, max_starts=3)
    assert res.error.shape == (3, 3) and np.all(res.error < 0.02)


def test_momentum_error():
    p = SeparableQuadratic()
    assert verify.momentum_error(p, np.ones((2, 3)), p.grad(np.ones((2, 3)))).max() == 0.0
