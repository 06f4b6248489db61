"""The windowed tracking error D_T shrinks with the step (the integrator: tests/test_inclusions.py)."""
import numpy as np
import pytest

import stochopt
import verify
from verify.inclusions import single_timescale_flow, two_timescale_flow
from verify.tracking import tracking_error


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
        assert res.error.shape == (res.starts.size, 1)
        errs.append(res.error.max())
    assert 0.8 < _slope(etas, errs) < 1.2  # deterministic sign bias: O(eta)


def test_sgd_tracking_error_smooth_flow():
    p = SeparableQuadratic()
    flow = two_timescale_flow(p, "identity")
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
