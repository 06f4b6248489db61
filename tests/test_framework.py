"""The framework's methods: exact identities, reference loops from the spec, purity, dtype."""
import numpy as np
import pytest

import stochopt
from stochopt import schedules
from conftest import rel_err

STEPS = 200
R, D = 3, 5


def grads(seed=0, steps=STEPS, shape=(R, D)):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((steps, *shape))


def iterate(opt, x0, gs):
    state = opt.init(x0)
    xs = []
    for g in gs:
        state = opt.step(state, g)
        xs.append(state.x)
    return np.array(xs)


X0 = np.random.default_rng(42).standard_normal((R, D))


# ---------------------------------------------------------------- exact special cases
@pytest.mark.parametrize(
    "left, right",
    [
        (lambda: stochopt.signum(lr=0.01, momentum=0.0), lambda: stochopt.signsgd(lr=0.01)),
        (lambda: stochopt.lion(lr=0.01, betas=(0.9, 0.9)), lambda: stochopt.signum(lr=0.01, momentum=0.9)),
        (lambda: stochopt.lion(lr=0.01, betas=(0.0, 0.99)), lambda: stochopt.signsgd(lr=0.01)),
        (lambda: stochopt.lion_singlescale(lr=0.01, betas=(0.9, 0.99), weight_decay=0.1),
         lambda: stochopt.lion(lr=0.01, betas=(0.9, 0.99), weight_decay=0.1)),
        (lambda: stochopt.gsgd(lr=0.05, momentum_lr=0.1, direction="identity"),
         lambda: stochopt.heavy_ball(lr=0.05, momentum=0.9)),
        (lambda: stochopt.heavy_ball(lr=0.05, momentum=0.0), lambda: stochopt.sgd(lr=0.05)),
        (lambda: stochopt.gsgd_official(lr=0.05, momentum=0.0, direction="sign"), lambda: stochopt.signsgd(lr=0.05)),
        (lambda: stochopt.normalized_sgd(lr=0.05, blocks=[[0, 1, 2, 3, 4]]), lambda: stochopt.normalized_sgd(lr=0.05)),
    ],
    ids=["signum-theta1=signsgd", "lion-b1=b2=signum", "lion-b1=0=signsgd", "lion_singlescale=lion",
         "gsgd-identity=heavy_ball", "heavy_ball-0=sgd", "official-momentum0-sign=signsgd", "one-block=global"],
)
def test_exact_identities(left, right):
    gs = grads(1)
    a, b = iterate(left(), X0, gs), iterate(right(), X0, gs)
    assert rel_err(a, b) <= 1e-12


# ---------------------------------------------------------------- reference loops from the spec
def ref_gsgd(x, gs, eta, theta, select, alpha=0.0, wd=0.0, first_grad=False):
    m = np.zeros_like(x)
    out = []
    for k, g in enumerate(gs):
        g = g + wd * x
        m = g.copy() if (first_grad and k == 0) else m + theta(k) * (g - m)
        x = x - eta(k) * (select(m) + alpha * g)
        out.append(x)
    return np.array(out)


def _sign(m):
    return np.sign(m)


def _norm_rows(m):
    n = np.linalg.norm(m, axis=-1, keepdims=True)
    return np.where(n > 0, m / np.where(n > 0, n, 1), 0)


def _clip_rows(c):
    def f(m):
        n = np.linalg.norm(m, axis=-1, keepdims=True)
        return np.minimum(1, c / n) * m

    return f


BLOCKS = [[0, 3], [1, 2, 4]]


def _norm_blocks(m):
    out = np.empty_like(m)
    for b in BLOCKS:
        out[..., b] = _norm_rows(m[..., b])
    return out


def test_sgd_reference():
    gs = grads(2)
    got = iterate(stochopt.sgd(lr=0.1, weight_decay=0.01), X0, gs)
    want = ref_gsgd(X0, gs, lambda k: 0.1, lambda k: 1.0, lambda m: m, wd=0.01)
    assert rel_err(got, want) <= 1e-12


def test_heavy_ball_reference_with_nesterov_and_schedule():
    gs = grads(3)
    eta = schedules.polynomial(0.2, b=2.0, p=0.7)
    got = iterate(stochopt.heavy_ball(lr=eta, momentum=0.8, nesterov=0.5, weight_decay=0.01), X0, gs)
    want = ref_gsgd(X0, gs, lambda k: 0.2 / (k + 2.0) ** 0.7, lambda k: 0.2, lambda m: m, alpha=0.5, wd=0.01)
    assert rel_err(got, want) <= 1e-12


def test_signum_reference():
    gs = grads(4)
    got = iterate(stochopt.signum(lr=0.01, momentum=0.7), X0, gs)
    want = ref_gsgd(X0, gs, lambda k: 0.01, lambda k: 0.3, _sign)
    assert rel_err(got, want) <= 1e-12


def test_single_timescale_gsgd_reference():
    gs = grads(5)
    eta = schedules.polynomial(0.1, b=1.0, p=0.6)
    theta = schedules.coupled(eta, tau=2.0)
    got = iterate(stochopt.gsgd(lr=eta, momentum_lr=theta, direction="sign"), X0, gs)
    want = ref_gsgd(X0, gs, lambda k: 0.1 / (k + 1.0) ** 0.6, lambda k: 0.2 / (k + 1.0) ** 0.6, _sign)
    assert rel_err(got, want) <= 1e-12


def test_normalized_reference_global_and_blocks():
    gs = grads(6)
    got = iterate(stochopt.normalized_sgd(lr=0.01, momentum=0.5), X0, gs)
    assert rel_err(got, ref_gsgd(X0, gs, lambda k: 0.01, lambda k: 0.5, _norm_rows)) <= 1e-12
    got = iterate(stochopt.normalized_sgd(lr=0.01, momentum=0.5, blocks=BLOCKS), X0, gs)
    assert rel_err(got, ref_gsgd(X0, gs, lambda k: 0.01, lambda k: 0.5, _norm_blocks)) <= 1e-12


def test_clipped_references():
    gs = 3 * grads(7)
    got = iterate(stochopt.clipped_sgd(lr=0.01, threshold=1.5, momentum=0.5), X0, gs)
    assert rel_err(got, ref_gsgd(X0, gs, lambda k: 0.01, lambda k: 0.5, _clip_rows(1.5))) <= 1e-12
    got = iterate(stochopt.clipped_sgd(lr=0.01, threshold=1.5, momentum=0.5, mode="coordinate"), X0, gs)
    assert rel_err(got, ref_gsgd(X0, gs, lambda k: 0.01, lambda k: 0.5, lambda m: np.clip(m, -1.5, 1.5))) <= 1e-12


def test_srsgd_reference():
    gs = grads(8)
    got = iterate(stochopt.srsgd(lr=0.01, momentum=0.9, lam=0.3), X0, gs)
    want = ref_gsgd(X0, gs, lambda k: 0.01, lambda k: 0.1, lambda m: m + 0.3 * np.sign(m))
    assert rel_err(got, want) <= 1e-12


def test_gsgd_official_reference_decaying_lr():
    """theta_k = (1 - beta) min(1, lr_k scaling), buffer starts at the first gradient."""
    gs = grads(9)
    eta = schedules.polynomial(0.1, b=1.0, p=1.0)
    got = iterate(stochopt.gsgd_official(lr=eta, momentum=0.9, direction="normalized", nesterov=0.3), X0, gs)
    want = ref_gsgd(X0, gs, lambda k: 0.1 / (k + 1), lambda k: 0.1 * min(1.0, (0.1 / (k + 1)) / 0.1), _norm_rows,
                    alpha=0.3, first_grad=True)
    assert rel_err(got, want) <= 1e-12


def ref_lion(x, gs, lr, b1, b2, wd):
    m = np.zeros_like(x)
    out = []
    for k, g in enumerate(gs):
        c = b1 * m + (1 - b1) * g
        x = x - lr(k) * (np.sign(c) + wd * x)
        m = b2 * m + (1 - b2) * g
        out.append(x)
    return np.array(out)


def test_lion_reference():
    gs = grads(10)
    got = iterate(stochopt.lion(lr=0.01, betas=(0.9, 0.99), weight_decay=0.5), X0, gs)
    assert rel_err(got, ref_lion(X0, gs, lambda k: 0.01, 0.9, 0.99, 0.5)) <= 1e-12


def test_lion_singlescale_reference_decaying_lr():
    """Under a decaying lr both momenta move toward 1: mu_i = max(1 - lr_k (1 - beta_i)/lr_0, beta_i)."""
    gs = grads(11)
    eta = schedules.polynomial(0.01, b=1.0, p=0.5)
    got = iterate(stochopt.lion_singlescale(lr=eta, betas=(0.9, 0.99), weight_decay=0.1, nesterov_momentum=0.2),
                  X0, gs)
    x, m, out = X0.copy(), np.zeros_like(X0), []
    for k, g in enumerate(gs):
        lr = 0.01 / (k + 1.0) ** 0.5
        mu1 = max(1 - lr * 0.1 / 0.01, 0.9)
        mu2 = max(1 - lr * 0.01 / 0.01, 0.99)
        x = (1 - lr * 0.1) * x
        c = mu1 * m + (1 - mu1) * g
        x = x - lr * (np.sign(c) + 0.2 * g)
        m = mu2 * m + (1 - mu2) * g
        out.append(x)
    assert rel_err(got, np.array(out)) <= 1e-12


def test_per_replica_hyperparameters_sweep_a_grid():
    lrs = np.array([0.01, 0.02, 0.05])
    gs = grads(12)
    together = iterate(stochopt.heavy_ball(lr=lrs, momentum=np.array([0.5, 0.9, 0.0])), X0, gs)
    for r, (lr, beta) in enumerate(zip(lrs, [0.5, 0.9, 0.0])):
        alone = iterate(stochopt.heavy_ball(lr=lr, momentum=beta), X0[r], gs[:, r])
        assert np.array_equal(together[:, r], alone)


def test_vector_x0_broadcasts_to_per_replica_hyperparameters():
    state = stochopt.sgd(lr=np.array([0.1, 0.2])).init(np.ones(3))
    assert state.x.shape == (2, 3)


# ---------------------------------------------------------------- purity and dtype
@pytest.mark.parametrize("name", sorted(stochopt.METHODS))
def test_step_never_modifies_inputs(name):
    opt = stochopt.METHODS[name](lr=0.01)
    state = opt.init(X0)
    g = np.random.default_rng(0).standard_normal(X0.shape)
    state = opt.step(state, g)  # non-zero buffers
    snapshot = (state.x.copy(), {k: v.copy() for k, v in state.buffers.items()}, g.copy())
    new = opt.step(state, g)
    assert np.array_equal(state.x, snapshot[0]) and np.array_equal(g, snapshot[2])
    for k, v in state.buffers.items():
        assert np.array_equal(v, snapshot[1][k])
    assert new.x is not state.x and new.k == state.k + 1


@pytest.mark.parametrize("name", sorted(stochopt.METHODS))
def test_dtype_is_preserved(name):
    opt = stochopt.METHODS[name](lr=np.array([0.01, 0.02, 0.03]))
    state = opt.init(X0.astype(np.float32))
    state = opt.step(state, np.ones(X0.shape, np.float32))
    assert state.x.dtype == np.float32
    assert all(v.dtype == np.float32 for v in state.buffers.values())


def test_buffers_are_read_only_views():
    state = stochopt.heavy_ball(lr=0.1).init(np.zeros(2))
    with pytest.raises(TypeError):
        state.buffers["m"] = np.ones(2)
    assert np.array_equal(state.m, np.zeros(2))
    with pytest.raises(AttributeError, match="buffers: m"):
        state.v


def test_random_stepsizes_depend_on_replica_id_only():
    eta = schedules.randomized(schedules.polynomial(0.1), low=0.5, high=1.5, seed=3)
    opt = stochopt.sgd(lr=eta)
    s8 = opt.init(np.zeros((8, 2)))
    s1 = opt.init(np.zeros((1, 2)), replica_ids=[5])
    for _ in range(5):
        s8 = opt.step(s8, np.ones((8, 2)))
        s1 = opt.step(s1, np.ones((1, 2)))
    assert np.array_equal(s8.x[5], s1.x[0])
    assert len(np.unique(s8.x[:, 0])) == 8
