"""The framework's methods: exact identities, renamed arguments, purity, dtype (reference loops: test_ground_truth)."""
import numpy as np
import pytest

import stochopt
from stochopt import schedules
from stochopt.ground_truth import trajectory
from conftest import rel_err

STEPS = 200
R, D = 3, 5


def grads(seed=0, steps=STEPS, shape=(R, D)):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((steps, *shape))


def iterate(opt, x0, gs):
    """Iterates x_1 .. x_K (the reference loops live in stochopt.ground_truth, checked there)."""
    return trajectory(opt, x0, gs).x[1:]


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


# ---------------------------------------------------------------- renamed arguments
@pytest.mark.parametrize("make, old", [
    (lambda **kw: stochopt.heavy_ball(lr=0.05, momentum=0.8, **kw), "nesterov"),
    (lambda **kw: stochopt.gsgd(lr=0.05, momentum_lr=0.3, direction="sign", **kw), "nesterov"),
    (lambda **kw: stochopt.gsgd_official(lr=0.05, direction="normalized", **kw), "nesterov"),
    (lambda **kw: stochopt.lion_singlescale(lr=0.05, **kw), "nesterov_momentum"),
])
def test_the_former_name_of_extra_gradient_still_works_with_a_warning(make, old):
    gs = grads(2, steps=20)
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated; use extra_gradient"):
        before = make(**{old: 0.4})
    assert np.array_equal(iterate(before, X0, gs), iterate(make(extra_gradient=0.4), X0, gs))
    with pytest.raises(TypeError, match="extra_gradient only"):
        make(**{old: 0.4, "extra_gradient": 0.3})


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
