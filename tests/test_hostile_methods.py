"""Issue 19, the cases in the methods: one row per case (``case_NN`` = the issue's number).

Each row asserts the clear error (type, the parameter named, the accepted range or what is
accepted) or the correct result. The fixes live in one validation layer each: hyperparameters
through ``base.hyper`` (and ``_checks.check_tuple`` for pairs), blocks in ``directions.Blocks``,
the 0/0 step in ``terms.ratio_or_zero``, the torch groups in ``CheckedOptimizer._checked_groups``,
stored directions in ``Direction.spec`` / ``directions.register``.
"""
import io

import numpy as np
import pytest

import stochopt
from conftest import TinyL1
from stochopt import directions, schedules


# ------------------------------------------------------------------ 1: adamssm accepts what adam accepts
@pytest.mark.parametrize("beta2, error", [
    (schedules.constant(0.999), None),
    (0.99 + 0j, TypeError),
    (object(), TypeError),
])
def test_case_01_adamssm_betas_like_adam(beta2, error):
    for factory in (stochopt.adam, stochopt.adamssm):
        if error is None:
            opt = factory(lr=0.1, betas=(0.9, beta2))
            state = opt.step(opt.init(np.zeros(3)), np.ones(3))
            assert np.all(np.isfinite(state.x))
        else:
            with pytest.raises(error, match=r"beta2 must be a real number in \[0, 1\)"):
                factory(lr=0.1, betas=(0.9, beta2))


# ------------------------------------------------------------------ 7: scaling = 1/lr_0 under a random lr
@pytest.mark.parametrize("factory", [stochopt.gsgd_official, stochopt.lion_singlescale])
def test_case_07_random_lr_gives_no_invented_per_replica_hyperparameters(factory):
    opt = factory(lr=schedules.randomized(0.1, seed=1))
    assert opt.replicas is None
    p = TinyL1()
    together = stochopt.run(opt, p, steps=30, replicas=8, seed=0, record_every=30, progress=False)
    alone = stochopt.run(opt, p, steps=30, replicas=1, replica_ids=[5], seed=0, record_every=30, progress=False)
    assert np.array_equal(together.final_state.x[5], alone.final_state.x[0])
    # scaling is each replica's own 1 / lr_0, computed from the replica ids like the lr itself
    ids, lr = np.arange(8), schedules.randomized(0.1, seed=1)
    lr0, lr1 = np.asarray(lr(0, ids)), np.asarray(lr(1, ids))
    if factory is stochopt.lion_singlescale:
        np.testing.assert_allclose(opt.hyper["scaling"].at(3, ids), 1.0 / lr0, rtol=1e-15)
    else:   # theta_1 = 1 - max(momentum, 1 - lr_1 scaling (1 - momentum)), momentum = 0.9
        np.testing.assert_allclose(opt.hyper["momentum_lr"].at(1, ids), 1 - np.maximum(0.9, 1 - lr1 / lr0 * 0.1),
                                   rtol=1e-12)


# ------------------------------------------------------------------ 8, 9: blocks
@pytest.mark.parametrize("blocks, match", [
    ([[0.5], [1.9], [2.2]], r"blocks\[0\] = \[0.5\] holds float64 values \(float indices are not truncated\)"),
    ([[0.0, 1.0], [2.0]], r"float indices"),
])
def test_case_08_float_block_indices_are_rejected(blocks, match):
    with pytest.raises(TypeError, match=r"blocks must be a partition .* integer indices.*" + match):
        stochopt.normalized_sgd(lr=0.1, blocks=blocks)


@pytest.mark.parametrize("blocks, match", [
    ([["a"], ["b"]], r"blocks\[0\] = \['a'\] holds <U1 values"),
    (5, r"got 5"),
    ("01", r"got '01'"),
    ([0, 1], r"blocks\[0\] is 0, not a list of indices"),
    ([[True], [False]], r"holds bool values"),
])
def test_case_09_blocks_of_the_wrong_kind_name_blocks(blocks, match):
    with pytest.raises(TypeError, match=r"blocks must be a partition of the coordinates 0..d-1 given as a list of "
                                        r"lists of integer indices.*" + match):
        stochopt.clipped_sgd(lr=0.1, blocks=blocks)


def test_case_09_blocks_that_are_not_a_partition_name_blocks():
    with pytest.raises(ValueError, match=r"blocks\[1\] is empty"):
        stochopt.normalized_sgd(lr=0.1, blocks=[[0], []])
    with pytest.raises(ValueError, match=r"blocks must be a partition .* index 1 is in 2 blocks"):
        stochopt.normalized_sgd(lr=0.1, blocks=[[0, 1], [1, 2]])
    with pytest.raises(ValueError, match=r"blocks must be a partition of the coordinates 0..2.*from 0 to 3"):
        stochopt.normalized_sgd(lr=0.1, blocks=[[0, 1], [3]])
    with pytest.raises(ValueError, match=r"blocks partition 3 coordinates but the iterate has d = 4"):
        stochopt.normalized_sgd(lr=0.1, blocks=[[0, 1], [2]]).init(np.zeros(4))


# ------------------------------------------------------------------ 10: qhadam eps = 0 on zero gradients
def test_case_10_qhadam_eps_zero_zero_gradients_do_not_move():
    problems = pytest.importorskip("problems")
    opt = stochopt.qhadam(lr=0.01, eps=0.0)
    state = opt.step(opt.step(opt.init(np.ones((2, 3))), np.zeros((2, 3))), np.zeros((2, 3)))
    assert np.array_equal(state.x, np.ones((2, 3)))                    # 0/0 is its limit 0: no move
    p = problems.get("relu-mlp")
    trace = stochopt.run(opt, p, steps=50, replicas=4, seed=0, record_every=50, progress=False)
    assert not np.any(trace.diverged), trace.diverged_reason
    # a non-zero numerator over a zero denominator (nu2 = 0) is a real infinite step, not hidden
    inf = stochopt.qhadam(lr=0.01, nus=(0.7, 0.0), eps=0.0)
    s = inf.step(inf.init(np.zeros(1)), np.ones(1))
    assert not np.all(np.isfinite(inf.step(s, np.zeros(1)).x))


# ------------------------------------------------------------------ 39: no method keeps its inputs
def test_case_39_no_method_keeps_a_reference_to_the_callers_gradient():
    x0 = np.random.default_rng(1).standard_normal((3, 4))
    for name in sorted(stochopt.METHODS):
        opt = stochopt.METHODS[name](lr=0.01)
        g = np.random.default_rng(0).standard_normal(x0.shape)
        state = opt.step(opt.init(x0), g)
        before = {k: np.array(v, copy=True) for k, v in state.buffers.items()}
        x_before = state.x.copy()
        g[...] = 1e6                                           # the caller reuses its buffer
        assert np.array_equal(state.x, x_before), name
        for key, value in state.buffers.items():
            assert np.array_equal(value, before[key]), f"{name}: buffer {key!r} is the caller's gradient"


def test_case_39_adan_with_a_reused_gradient_buffer_equals_fresh_arrays():
    opt = stochopt.adan(lr=0.1)
    grads = np.random.default_rng(2).standard_normal((20, 3))
    fresh, reused, buf = opt.init(np.zeros(3)), opt.init(np.zeros(3)), np.empty(3)
    for g in grads:
        fresh = opt.step(fresh, g.copy())
        buf[...] = g
        reused = opt.step(reused, buf)
    assert np.array_equal(fresh.x, reused.x)


# ------------------------------------------------------------------ 40: torch groups validated first
def _torch_optimizers():
    from stochopt.torch import GSGD, QHM, Lion, QHAdam, QHAdamW

    return {"GSGD": (GSGD, dict(lr=0.1)), "Lion": (Lion, dict(lr=0.1)),
            "QHM": (QHM, dict(lr=0.1, momentum=0.9, nu=0.7)), "QHAdam": (QHAdam, dict(lr=0.1)),
            "QHAdamW": (QHAdamW, dict(lr=0.1))}


@pytest.mark.parametrize("name", ["GSGD", "Lion", "QHM", "QHAdam", "QHAdamW"])
def test_case_40_an_invalid_group_moves_no_parameter(name):
    torch = pytest.importorskip("torch")
    cls, kwargs = _torch_optimizers()[name]
    first, second = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))
    opt = cls([{"params": [first]}, {"params": [second]}], **kwargs)
    opt.param_groups[1]["lr"] = -0.1
    first.grad, second.grad = torch.ones(3), torch.ones(2)
    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\); got -0.1 \(param group 1\)"):
        opt.step()
    assert torch.equal(first.detach(), torch.ones(3)) and torch.equal(second.detach(), torch.ones(2))
    assert len(opt.state) == 0


# ------------------------------------------------------------------ 41: custom directions load weights-only
def test_case_41_custom_direction_state_dict_loads_with_weights_only():
    torch = pytest.importorskip("torch")
    from stochopt.torch import GSGD

    class Cubic(directions.Direction):
        name = "cubic_case_41"

        def __init__(self, scale=1.0, blocks=None):
            super().__init__(blocks)
            self.scale = scale

        def select(self, m):
            return self.scale * m ** 3

    def make(params):
        return GSGD(params, lr=0.05, momentum=0.8, Dphi_map=Cubic(0.5))

    grads = torch.randn(8, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    w = torch.nn.Parameter(torch.ones(4, dtype=torch.float64))
    opt = make([w])
    for g in grads[:4]:
        w.grad = g.clone()
        opt.step()
    assert opt.param_groups[0]["Dphi_map"] == {"name": "cubic_case_41", "scale": 0.5}
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    w2 = torch.nn.Parameter(w.detach().clone())
    fresh = GSGD([w2], lr=0.05, momentum=0.8)            # built with the default direction, then loaded
    fresh.load_state_dict(loaded)
    for g in grads[4:]:
        w.grad, w2.grad = g.clone(), g.clone()
        opt.step()
        fresh.step()
    assert torch.equal(w, w2)
    with pytest.raises(ValueError, match="already taken"):
        directions.register(type("Impostor", (directions.Direction,), {"name": "sign", "select": np.sign}))
