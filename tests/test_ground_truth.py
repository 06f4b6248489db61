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


def planted_adam(x0, grads, lr, b1, b2, eps, wd, decoupled=True, eps_inside=False, bias_correction=True):
    """Adam(W) written plainly with at most one planted mistake (the only such loop in the tests)."""
    x, m, v, out = x0.copy(), np.zeros_like(x0), np.zeros_like(x0), [x0.copy()]
    for t, g in enumerate(grads, start=1):
        if decoupled:
            x = x * (1 - lr * wd)
        else:
            g = g + wd * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        c1, c2 = (1 - b1 ** t, 1 - b2 ** t) if bias_correction else (1.0, 1.0)
        den = np.sqrt(v / c2 + eps) if eps_inside else np.sqrt(v / c2) + eps
        x = x - lr * (m / c1) / den
        out.append(x.copy())
    return np.stack(out)


def test_planted_mistakes_are_caught():
    """A moved eps, a missing bias correction, coupled instead of decoupled decay and sign(0) = 1:
    each planted into a plain loop breaks agreement with the method by far more than rounding."""
    grads = gradients(seed=9, steps=40)
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-3, 0.1
    adamw = ground_truth.trajectory(stochopt.adamw(lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd), X0, grads).x
    assert max_relative_error(adamw, planted_adam(X0, grads, lr, b1, b2, eps, wd)) <= TOL
    for planted in (dict(eps_inside=True), dict(bias_correction=False), dict(decoupled=False)):
        assert max_relative_error(adamw, planted_adam(X0, grads, lr, b1, b2, eps, wd, **planted)) > 1e-6, planted
    small = 1e-4 * grads                                          # small gradients make eps matter
    qhadam = stochopt.qhadam(lr, (b1, b2), (1.0, 1.0), wd, eps=1e-8)
    ours = ground_truth.trajectory(qhadam, X0, small).x
    assert max_relative_error(ours, planted_adam(X0, small, lr, b1, b2, 1e-8, wd, decoupled=False)) <= TOL
    assert max_relative_error(ours, planted_adam(X0, small, lr, b1, b2, 1e-8, wd, decoupled=False,
                                                 eps_inside=True)) > 1e-8
    assert max_relative_error(ours, planted_adam(X0, small, lr, b1, b2, 1e-8, wd, decoupled=False,
                                                 bias_correction=False)) > 1e-4
    qhadamw = ground_truth.trajectory(stochopt.qhadamw(lr, (b1, b2), (1.0, 1.0), wd, eps=1e-8), X0, small).x
    assert max_relative_error(ours, qhadamw) > 1e-8
    signsgd = ground_truth.trajectory(stochopt.signsgd(lr=0.01), X0, grads).x
    copysign = X0 - 0.01 * np.concatenate([np.zeros((1,) + X0.shape), np.cumsum(np.copysign(1.0, grads), axis=0)])
    assert max_relative_error(signsgd, copysign) > 1e-3
    assert max_relative_error(signsgd, ground_truth.signsgd(X0, grads, lr=0.01).x) <= TOL


def test_trajectory_accepts_an_oracle_and_records_buffers():
    opt = stochopt.qhm(lr=0.5, momentum=0.5, nu=0.5)
    t = ground_truth.trajectory(opt, np.ones(2), (lambda x, k: x, 4))
    assert t.x.shape == (5, 2) and t.b.shape == (5, 2) and t.steps == 4 and t.state.k == 4
    assert np.array_equal(t.x[0], np.ones(2)) and np.array_equal(t.b[0], np.zeros(2))
    with pytest.raises(AttributeError, match="buffers: b"):
        t.v
