"""The problems the adaptive claims use: noisy-logcosh (the SDE claims' non-quadratic loss) and
two-layer-relu (delta-GClip's wide networks): oracle vs finite differences, batched equals a
per-replica loop bit for bit, the known answers, the noise model, bad input."""
import json
import math

import numpy as np
import pytest

import problems


def _fd(p, x, h=1e-6):
    return np.array([(p.value(x + h * e) - p.value(x - h * e)) / (2 * h) for e in np.eye(p.dim)])


# ----------------------------------------------------------------------------- noisy-logcosh
LOGCOSH = dict(weights=[0.5, 1.0, 2.0], noise_cov=[1.0, 0.5, 0.25], center=[0.3, -1.0, 0.0], offset=0.7, seed=4)


def test_logcosh_gradient_matches_finite_differences_and_known_answer():
    p = problems.get("noisy-logcosh", **LOGCOSH)
    for x in np.random.default_rng(0).standard_normal((5, 3)) * 3:
        assert np.linalg.norm(p.grad(x) - _fd(p, x)) <= 1e-7 * max(1.0, np.linalg.norm(p.grad(x)))
    assert p.f_star == 0.7 and np.array_equal(p.x_star, [0.3, -1.0, 0.0])
    assert float(p.value(p.x_star)) == 0.7
    x = np.array([1.3, 0.0, 2.0])
    expected = 0.5 * math.log(math.cosh(1.0)) + math.log(math.cosh(1.0)) + 2 * math.log(math.cosh(2.0)) + 0.7
    assert float(p.value(x)) == pytest.approx(expected, rel=1e-14)
    far = np.array([800.0, -900.0, 1000.0])                           # no overflow of cosh
    assert np.isfinite(p.value(far)) and np.allclose(p.grad(far), [0.5, -1.0, 2.0])


def test_logcosh_batched_equals_per_replica_loop_bit_for_bit():
    p = problems.get("noisy-logcosh", **LOGCOSH)
    X = np.random.default_rng(1).standard_normal((8, 3))
    idx = np.random.default_rng(2).integers(0, 2**62, size=(8, 5))
    V, G, O = p.value(X), p.grad(X), p.oracle(X, idx)
    for r in range(8):
        assert np.array_equal(V[r], p.value(X[r])) and np.array_equal(G[r], p.grad(X[r]))
        assert np.array_equal(O[r], p.oracle(X[r], idx[r]))


def test_logcosh_noise_is_the_noisy_quadratics():
    """Same seed and covariance: the oracle noise is exactly the noisy quadratic's, of covariance Sigma / b."""
    p = problems.get("noisy-logcosh", **LOGCOSH)
    q = problems.get("noisy-quadratic", hessian=LOGCOSH["weights"], noise_cov=LOGCOSH["noise_cov"], seed=4)
    M, b = 20000, 4
    idx = np.arange(M * b, dtype=np.int64).reshape(M, b) * 7919 + 11
    x = np.broadcast_to(np.array([0.1, 2.0, -0.5]), (M, 3))
    assert np.array_equal(p.noise(idx), q.noise(idx))
    noise = p.oracle(x, idx) - p.grad(x)
    se = np.sqrt(2.0 / M) * np.diag(p.batch_noise_covariance(b))
    assert np.all(np.abs(np.var(noise, axis=0) - np.diag(p.batch_noise_covariance(b))) < 5 * se)


def test_logcosh_params_rebuild_and_bad_input():
    p = problems.get("noisy-logcosh", **LOGCOSH)
    q = problems.get("noisy-logcosh", **json.loads(json.dumps(p.params)))
    assert np.array_equal(p.x0, q.x0) and np.array_equal(p.value(p.x0), q.value(q.x0))
    assert np.array_equal(problems.get("noisy-logcosh").x0, [2.0, 2.0])
    for bad in ([1.0, -1.0], [], [[1.0]], [np.inf]):
        with pytest.raises(ValueError, match="weights"):
            problems.get("noisy-logcosh", weights=bad)


# ----------------------------------------------------------------------------- two-layer-relu
def test_two_layer_gradient_and_minibatch_oracle_match_finite_differences():
    p = problems.get("two-layer-relu", width=7, n=6, d_in=3, seed=2)
    for x in (p.x0, p.initial_weights([5])[0]):
        assert np.linalg.norm(p.grad(x) - _fd(p, x)) <= 1e-6 * max(1.0, np.linalg.norm(p.grad(x)))
    idx = np.array([0, 3, 3, 5])
    sub = problems.get("two-layer-relu", width=7, n=6, d_in=3, seed=2)
    sub.X, sub.y, sub.n = p.X[idx], p.y[idx], idx.size                 # the minibatch objective
    assert np.linalg.norm(p.oracle(p.x0, idx) - _fd(sub, p.x0)) <= 1e-6
    assert np.allclose(p.oracle(p.x0, np.arange(6)), p.grad(p.x0), rtol=1e-13, atol=1e-15)


def test_two_layer_known_answers():
    p = problems.get("two-layer-relu", width=5, n=4, d_in=2, seed=0)
    W = p.unflatten(p.x0)
    out = np.maximum(p.X @ W.T, 0.0) @ p.a / math.sqrt(5)
    assert float(p.value(p.x0)) == pytest.approx(0.5 * np.mean((out - p.y) ** 2), rel=1e-14)
    assert np.allclose(np.linalg.norm(p.X, axis=1), 1.0) and set(np.unique(p.a)) <= {-1.0, 1.0}
    assert p.x_star is None and p.f_star is None
    mf = problems.get("two-layer-relu", width=5, n=4, d_in=2, seed=0, scaling="mean-field")
    assert mf.output_scale == pytest.approx(p.output_scale / math.sqrt(5))
    assert np.array_equal(mf.X, p.X) and np.array_equal(mf.x0, p.x0)   # same data and start, other scale
    assert np.array_equal(p.initial_weights([0])[0], p.x0)
    other = problems.get("two-layer-relu", width=5, n=4, d_in=2, seed=0, init_seed=3)
    assert np.array_equal(other.x0, p.initial_weights([3])[0]) and np.array_equal(other.X, p.X)


@pytest.mark.parametrize("width", [3, 64])
def test_two_layer_batched_equals_per_replica_loop_bit_for_bit(width):
    p = problems.get("two-layer-relu", width=width, n=8, d_in=4)
    X = np.asfortranarray(p.initial_weights(range(6)))                # layout must not matter
    idx = np.random.default_rng(0).integers(0, 8, size=(6, 5))
    V, G, O = p.value(X), p.grad(X), p.oracle(X, idx)
    for r in range(6):
        assert np.array_equal(V[r], p.value(X[r])) and np.array_equal(G[r], p.grad(X[r]))
        assert np.array_equal(O[r], p.oracle(X[r], idx[r]))
        assert np.array_equal(G[r], p.grad(X[r:r + 1])[0])


def test_two_layer_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="width"):
        problems.get("two-layer-relu", width=0)
    with pytest.raises(ValueError, match="scaling"):
        problems.get("two-layer-relu", scaling="ntK2")
    with pytest.raises(TypeError, match="init_seed"):
        problems.get("two-layer-relu").initial_weights([1.5])
