"""Every method against its ground-truth loop: iterates AND every buffer, 200 steps, 1e-12 relative.

The loops (``stochopt.ground_truth``) are written from the papers' equations, one replica and one
step at a time, independently of the update rules; each configuration sweeps a hyperparameter per
replica and most give the learning rate as a schedule. A method of ``stochopt.METHODS`` without a
ground-truth loop fails ``test_every_method_has_a_ground_truth`` under its own name.
"""
import numpy as np
import pytest

import stochopt
from stochopt import ground_truth, schedules
from stochopt.ground_truth import REGISTRY, REPLICAS

STEPS, DIM = 200, 5
TOL = 1e-12


def gradients(seed=0, steps=STEPS):
    """Gradients of varying scale with exact zeros: sign(0) = 0, a zero norm and 0/0 are all hit."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((steps, REPLICAS, DIM)) * np.exp(rng.normal(size=(steps, REPLICAS, 1)))
    g[rng.random(g.shape) < 0.1] = 0.0
    g[:3, :, 0] = 0.0        # a coordinate that has seen only zeros (second moments exactly 0)
    g[7, 1] = 0.0            # a whole zero gradient (delta-GClip's zero-norm step)
    return g


X0 = np.random.default_rng(1).standard_normal((REPLICAS, DIM))


def max_relative_error(got, want):
    """Largest ||got_k,r - want_k,r||_inf / ||want_k,r||_inf over steps k and replicas r (inf if not finite)."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    if got.shape != want.shape:
        return np.inf
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(want))):
        return np.inf
    axes = tuple(range(2, got.ndim))
    num = np.max(np.abs(got - want), axis=axes, initial=0.0)
    den = np.maximum(np.max(np.abs(want), axis=axes, initial=0.0), 1e-300)
    return float(np.max(num / den))


@pytest.mark.parametrize("name", sorted(stochopt.METHODS))
def test_every_method_has_a_ground_truth(name):
    assert name in REGISTRY, f"stochopt.METHODS[{name!r}] has no ground-truth loop in stochopt.ground_truth.REGISTRY"
    assert REGISTRY[name].factory is None or name not in stochopt.METHODS


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_configurations_sweep_replicas_and_a_schedule(name):
    """Each method is checked with at least one per-replica hyperparameter and one schedule."""
    def leaves(config):
        for value in config.values():
            yield from (value if isinstance(value, tuple) else (value,))

    values = [v for config in REGISTRY[name].configs for v in leaves(config)]
    assert any(isinstance(v, np.ndarray) and v.shape == (REPLICAS,) for v in values), name
    assert any(isinstance(v, schedules.Schedule) for v in values), name


CASES = [(name, i) for name in sorted(REGISTRY) for i in range(len(REGISTRY[name].configs))]


@pytest.mark.parametrize("name, index", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_method_equals_its_ground_truth(name, index):
    entry = REGISTRY[name]
    config = entry.configs[index]
    factory = entry.factory or stochopt.METHODS[name]
    grads = gradients(seed=index)
    fast = ground_truth.trajectory(factory(**config), X0, grads)
    truth = entry.loop(X0, grads, **config)
    assert max_relative_error(fast.x, truth.x) <= TOL, f"{name}{config}: iterates"
    for buffer, values in fast.buffers.items():
        assert buffer in truth.buffers, f"{name}: the ground truth does not track buffer {buffer!r}"
        err = max_relative_error(values, truth.buffers[buffer])
        assert err <= TOL, f"{name}{config}: buffer {buffer!r} differs by {err:.2e}"


def test_planted_mistakes_are_caught_by_the_comparison():
    """The comparison sees a missing bias correction, a moved eps, coupled instead of decoupled decay
    and sign(0) = 1: each planted into the ground truth breaks agreement with the method."""
    grads = gradients(seed=9, steps=40)
    fast = ground_truth.trajectory(stochopt.adamw(lr=0.01, eps=1e-3, weight_decay=0.1), X0, grads)
    assert max_relative_error(fast.x, ground_truth.adamw(X0, grads, lr=0.01, eps=1e-3, weight_decay=0.1).x) <= TOL
    assert max_relative_error(fast.x, ground_truth.adam(X0, grads, lr=0.01, eps=1e-3, weight_decay=0.1).x) > 1e-6
    assert max_relative_error(fast.x, ground_truth.adamw(X0, grads, lr=0.01, eps=1e-5, weight_decay=0.1).x) > 1e-6
    plain = ground_truth.qhadamw(X0, grads, lr=0.01, nus=(1.0, 1.0), eps=1e-3, weight_decay=0.1)
    assert max_relative_error(fast.x, plain.x) <= TOL        # QHAdamW with nus = (1, 1) is AdamW
    uncorrected = ground_truth.adamssm(X0, grads, lr=0.01, betas=(0.9, 0.999), pole=0.5, zero=0.5, eps=1e-3,
                                       bias_correction=False)
    adam = ground_truth.trajectory(stochopt.adam(lr=0.01, eps=1e-3), X0, grads)
    assert max_relative_error(adam.x, uncorrected.x) > 1e-3
    signum = ground_truth.trajectory(stochopt.signum(lr=0.01, momentum=0.0), X0, grads)
    copysign = ground_truth.gsgd(X0, grads, lr=0.01, momentum_lr=1.0, direction="identity")
    assert max_relative_error(signum.x, copysign.x) > 1e-3


def test_trajectory_accepts_an_oracle_and_records_buffers():
    opt = stochopt.qhm(lr=0.5, momentum=0.5, nu=0.5)
    t = ground_truth.trajectory(opt, np.ones(2), (lambda x, k: x, 4))
    assert t.x.shape == (5, 2) and t.b.shape == (5, 2) and t.steps == 4 and t.state.k == 4
    assert np.array_equal(t.x[0], np.ones(2)) and np.array_equal(t.b[0], np.zeros(2))
    with pytest.raises(AttributeError, match="buffers: b"):
        t.v
