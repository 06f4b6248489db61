"""Tests of the problems package: known answers, oracles, Clarke sets, batching, errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import nnls

import problems

# Small instances (fast), one per registered name.
SMALL = {
    "maxq": {"n": 4}, "mxhilb": {"n": 4}, "chained-lq": {"n": 4}, "chained-cb3-1": {"n": 4},
    "chained-cb3-2": {"n": 4}, "active-faces": {"n": 4}, "brown2": {"n": 4}, "chained-mifflin2": {"n": 4},
    "chained-crescent-1": {"n": 4}, "chained-crescent-2": {"n": 4}, "chebyshev-rosenbrock-1": {"n": 3},
    "chebyshev-rosenbrock-2": {"n": 3}, "l1-regression": {"n": 30, "d": 4}, "hinge-svm": {"n": 30, "d": 3},
    "max-affine": {"m": 9, "d": 3}, "lasso": {"n": 30, "d": 5}, "phase-retrieval": {"n": 10, "d": 3},
    "quadratic": {"n": 20, "d": 3}, "logistic": {"n": 30, "d": 3},
    "noisy-quadratic": {"hessian": [[2.0, 0.5], [0.5, 1.0]], "noise_cov": [0.3, 0.1]},
    "relu-mlp": {"hidden": (5, 3), "n": 12, "d_in": 3},
}
REQUIRED = ("cb2 cb3 dem ql lq mifflin1 mifflin2 crescent rosen-suzuki maxq mxhilb chained-lq chained-cb3-1 "
            "chained-cb3-2 active-faces brown2 chained-mifflin2 chained-crescent-1 chained-crescent-2 "
            "chebyshev-rosenbrock-1 chebyshev-rosenbrock-2 l1-regression hinge-svm max-affine lasso "
            "phase-retrieval relu-mlp noisy-quadratic quadratic logistic artifact-relu-difference artifact-zero "
            "artifact-shifted-quadratic artifact-sum-rule").split()
_CACHE = {}


def small(name):
    if name not in _CACHE:
        _CACHE[name] = problems.get(name, **SMALL.get(name, {}))
    return _CACHE[name]


def hull_distance(G, y):
    """Distance from y to conv(rows of G): NNLS with the simplex constraint as a heavy row."""
    G = np.atleast_2d(G) - y
    scale = 1e4 * max(1.0, np.abs(G).max())
    M = np.vstack([G.T, np.full(G.shape[0], scale)])
    lam, _ = nnls(M, np.concatenate([np.zeros(G.shape[1]), [scale]]), maxiter=50 * G.shape[0])
    return float(np.linalg.norm(G.T @ lam))


def random_points(p, count, seed):
    rng = np.random.default_rng(seed)
    scale = 1.0 if p.name != "relu-mlp" else 0.3
    return p.x0 + scale * rng.standard_normal((count, p.dim))


def random_idx(p, shape, seed):
    return np.random.default_rng(seed).integers(0, min(p.n_samples, 2**62), size=shape)


# ----------------------------------------------------------------------------- registry
def test_registry_has_every_required_name_and_table():
    assert set(REQUIRED) <= set(problems.names())
    rows = problems.table()
    assert [r["name"] for r in rows] == problems.names()
    for r in rows:
        assert set(r) >= {"name", "dim", "n_samples", "convex", "f_star", "reference", "clarke"}
        assert r["reference"]


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match=r"unknown problem 'chained-lqq'.*'chained-lq'"):
        problems.get("chained-lqq")


def test_params_are_json_able_and_rebuild_the_problem():
    import json

    for name in problems.names():
        p = small(name)
        q = problems.get(name, **json.loads(json.dumps(p.params)))
        assert np.array_equal(p.x0, q.x0) and np.array_equal(p.value(p.x0), q.value(q.x0))


# ----------------------------------------------------------------------------- known answers
LITERATURE_F_X0 = {"cb2": 5.41, "cb3": 20.0, "dem": 6.0, "ql": 56.0, "lq": 1.0, "mifflin1": -0.8, "mifflin2": 4.75,
                   "crescent": 4.25, "rosen-suzuki": 0.0}
LITERATURE_F_STAR = {"cb2": 1.9522245, "cb3": 2.0, "dem": -3.0, "ql": 7.2, "lq": -math.sqrt(2), "mifflin1": -1.0,
                     "mifflin2": -1.0, "crescent": 0.0, "rosen-suzuki": -44.0}


@pytest.mark.parametrize("name", sorted(LITERATURE_F_X0))
def test_classic_values_match_the_literature(name):
    p = problems.get(name)
    assert float(p.value(p.x0)) == pytest.approx(LITERATURE_F_X0[name], abs=1e-12)
    assert p.f_star == pytest.approx(LITERATURE_F_STAR[name], abs=1e-7)


@pytest.mark.parametrize("name", problems.names())
def test_value_at_x_star_is_f_star(name):
    p = small(name)
    if p.x_star is None:
        assert p.f_star is None or name == "relu-mlp"
        return
    assert float(p.value(p.x_star)) == pytest.approx(p.f_star, abs=1e-6 * max(1, abs(p.f_star)))
    if name not in {"brown2", "chained-mifflin2", "relu-mlp", "phase-retrieval"} and p.has_clarke and p.convex:
        # convex: no random nearby point does better
        xs = p.x_star + 1e-3 * np.random.default_rng(0).standard_normal((50, p.dim))
        assert np.all(p.value(xs) >= p.f_star - 1e-12)


@pytest.mark.parametrize("n", [2, 5, 50])
def test_scalable_closed_forms(n):
    assert float(problems.get("maxq", n=n).value(problems.get("maxq", n=n).x0)) == n * n
    h = sum(1.0 / j for j in range(1, n + 1))
    assert float(problems.get("mxhilb", n=n).value(np.ones(n))) == pytest.approx(h, rel=1e-14)
    assert problems.get("chained-lq", n=n).f_star == pytest.approx(-(n - 1) * math.sqrt(2), rel=1e-15)
    for name in ("chained-cb3-1", "chained-cb3-2"):
        p = problems.get(name, n=n)
        assert float(p.value(p.x_star)) == 2 * (n - 1)
    for name in ("chained-crescent-1", "chained-crescent-2", "chebyshev-rosenbrock-1", "chebyshev-rosenbrock-2",
                 "brown2", "active-faces"):
        p = problems.get(name, n=n)
        assert float(p.value(p.x_star)) == 0.0


def test_chained_mifflin2_matches_haarala_et_al_for_n50():
    p = problems.get("chained-mifflin2", n=50)
    assert p.f_star == pytest.approx(-34.795, abs=5e-4)
    assert p.x_star.shape == (50,)


def test_cb2_recomputed_minimiser_beats_the_published_one():
    p = problems.get("cb2")
    assert float(p.value([1.139286, 0.899365])) > p.f_star + 1e-6
    assert hull_distance(p.clarke(p.x_star), np.zeros(2)) < 1e-9


# ----------------------------------------------------------------------------- oracles
@pytest.mark.parametrize("name", problems.names())
def test_oracle_matches_central_finite_difference(name):
    p = small(name)
    X = random_points(p, 3, seed=1)
    G = p.grad(X)
    h = 1e-6
    for x, g in zip(X, G):
        fd = np.array([(p.value(x + h * e) - p.value(x - h * e)) / (2 * h) for e in np.eye(p.dim)])
        assert np.linalg.norm(g - fd) <= 1e-6 * max(1.0, np.linalg.norm(g)), (name, g, fd)


@pytest.mark.parametrize("name", problems.names())
def test_full_oracle_is_the_mean_of_single_sample_oracles(name):
    p = small(name)
    if p.n_samples > 10_000:
        return
    x = random_points(p, 1, seed=2)[0]
    single = p.oracle(np.broadcast_to(x, (p.n_samples, p.dim)), np.arange(p.n_samples)[:, None])
    assert np.allclose(single.mean(axis=0), p.grad(x), rtol=1e-12, atol=1e-12)
    every = p.oracle(x, np.arange(p.n_samples))
    assert np.allclose(every, p.grad(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", problems.names())
def test_batched_equals_per_replica_loop_bit_for_bit(name):
    p = small(name)
    X = random_points(p, 8, seed=3)
    idx = random_idx(p, (8, 5), seed=4)
    V, G, O = p.value(X), p.grad(X), p.oracle(X, idx)
    for r in range(8):
        assert np.array_equal(V[r], p.value(X[r])) and np.array_equal(V[r], p.value(X[r:r + 1])[0])
        assert np.array_equal(G[r], p.grad(X[r]))
        assert np.array_equal(O[r], p.oracle(X[r], idx[r]))
        assert np.array_equal(O[r], p.oracle(X[r:r + 1], idx[r:r + 1])[0])
    # extra leading axes
    assert np.array_equal(p.value(X.reshape(2, 4, p.dim)).ravel(), V)


def test_large_dimension_problems_are_batched_too():
    for name in ("mxhilb", "active-faces", "chained-cb3-2", "maxq"):
        p = problems.get(name, n=300)
        X = random_points(p, 4, seed=5)
        V, G = p.value(X), p.grad(X)
        for r in range(4):
            assert np.array_equal(V[r], p.value(X[r])) and np.array_equal(G[r], p.grad(X[r]))


# ----------------------------------------------------------------------------- Clarke
CLARKE = [n for n in problems.names() if small(n).has_clarke]


@pytest.mark.parametrize("name", CLARKE)
def test_clarke_contains_the_oracle_at_random_points(name):
    p = small(name)
    for x in random_points(p, 3, seed=6):
        G = p.clarke(x)
        assert G.ndim == 2 and G.shape[1] == p.dim
        assert hull_distance(G, p.grad(x)) <= 1e-9 * max(1.0, np.abs(G).max())


@pytest.mark.parametrize("name", CLARKE)
def test_min_norm_clarke_element_at_x_star_is_zero(name):
    p = small(name)
    if p.x_star is None:
        pytest.skip("no minimiser known")
    tol = 1e-9 if name != "chained-mifflin2" else 1e-7  # x* computed by SLSQP for that one
    G = p.clarke(p.x_star, tol=tol)
    assert hull_distance(G, np.zeros(p.dim)) <= (1e-9 if name != "chained-mifflin2" else 1e-6)


def test_chebyshev_rosenbrock_2_has_a_nonminimising_stationary_point():
    p = problems.get("chebyshev-rosenbrock-2", n=2)
    x = np.array([0.0, -1.0])
    assert float(p.value(x)) == 0.25
    assert hull_distance(p.clarke(x), np.zeros(2)) <= 1e-9
    # nearby non-stationary point: the measure is positive
    assert hull_distance(p.clarke(np.array([0.3, -1.0])), np.zeros(2)) > 0.1


def test_chebyshev_rosenbrock_2_clarke_keeps_only_feasible_sign_patterns():
    p = problems.get("chebyshev-rosenbrock-2", n=3)
    x = np.array([0.5, 0.0, 1.0])  # h_1 = 0 and x_2 = 0, h_2 = 0
    G = p.clarke(x)
    # sampled gradients near x lie in the hull, and every generator is seen near x
    rng = np.random.default_rng(0)
    near = p.grad(x + 1e-7 * rng.standard_normal((4000, 3)))
    seen = np.unique(near, axis=0)
    assert all(hull_distance(G, g) < 1e-12 for g in seen)
    assert {tuple(g) for g in G} <= {tuple(g) for g in seen}


def test_zonotope_refuses_too_many_kinks():
    p = problems.get("l1-regression", n=100, d=20)
    with pytest.raises(ValueError, match="zonotope with 20 segments"):
        p.clarke(p.x_star)


def test_clarke_unavailable_is_a_clear_error():
    with pytest.raises(ValueError, match="no exact Clarke"):
        problems.get("relu-mlp").clarke(problems.get("relu-mlp").x0)


# ----------------------------------------------------------------------------- artifacts
ARTIFACTS = ["artifact-relu-difference", "artifact-zero", "artifact-shifted-quadratic", "artifact-sum-rule"]


@pytest.mark.parametrize("name", ARTIFACTS)
def test_artifact_oracle_returns_the_declared_wrong_value(name):
    p = problems.get(name)
    a = p.artifact_point
    assert np.array_equal(p.grad(a), p.oracle_at_artifact)
    assert np.array_equal(p.oracle(a, np.arange(p.n_samples)), p.oracle_at_artifact)
    assert not np.array_equal(p.oracle_at_artifact, p.true_derivative)
    assert bool(p.in_artifact_set(a)) and p.artifact_set == "{0}"
    assert not np.any(p.in_artifact_set(np.array([[-1.3], [0.7], [1e-300]])))
    # the true derivative is the Clarke set; the oracle's output is outside it
    assert np.array_equal(p.clarke(a), p.true_derivative[None, :])
    h = 1e-6
    assert (p.value(a + h) - p.value(a - h)) / (2 * h) == pytest.approx(float(p.true_derivative[0]), abs=1e-8)


def test_declared_artifact_values():
    assert problems.get("artifact-relu-difference").oracle_at_artifact.tolist() == [0.0]
    assert problems.get("artifact-zero").oracle_at_artifact.tolist() == [1.0]
    assert problems.get("artifact-shifted-quadratic").oracle_at_artifact.tolist() == [0.0]
    assert problems.get("artifact-sum-rule").oracle_at_artifact.tolist() == [0.0]
    # relu'(0) = 1/2 removes the artifact; equal |.|'(0) in both samples removes the sum-rule one
    p = problems.get("artifact-relu-difference", relu_prime_at_zero=0.5)
    assert p.oracle_at_artifact.tolist() == [1.0] and not p.in_artifact_set([0.0])
    q = problems.get("artifact-sum-rule", abs_prime_at_zero=(1.0, 1.0))
    assert q.oracle_at_artifact.tolist() == [1.0]


# ----------------------------------------------------------------------------- errors
def test_errors_name_the_parameter():
    with pytest.raises(ValueError, match=r"n must be an integer in \[2, inf\]; got 1"):
        problems.get("chained-lq", n=1)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 2\)"):
        problems.get("cb2").value(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 5\)"):
        problems.get("l1-regression", d=5).oracle(np.zeros(4), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match=r"idx \(batch indices\) must be in \[0, n_samples - 1\] = \[0, 199\]"):
        problems.get("l1-regression").oracle(np.zeros((2, 10)), np.array([[0, 200], [1, 2]]))
    with pytest.raises(ValueError, match=r"idx .* must be in"):
        problems.get("cb2").oracle(np.zeros(2), np.array([-1]))
    with pytest.raises(ValueError, match=r"idx \(batch indices\) must have shape"):
        problems.get("l1-regression").oracle(np.zeros((2, 10)), np.zeros((3, 4), dtype=int))
    with pytest.raises(TypeError, match="idx"):
        problems.get("l1-regression").oracle(np.zeros((2, 10)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"hidden\[0\] \(layer width\) must be an integer in \[1, inf\]; got -3"):
        problems.get("relu-mlp", hidden=(-3,))
    with pytest.raises(ValueError, match="hidden must have 1 or 2"):
        problems.get("relu-mlp", hidden=(4, 4, 4))
    with pytest.raises(ValueError, match="unknown task"):
        problems.get("relu-mlp", task="regresion")
    with pytest.raises(TypeError, match="has no parameter 'dim'"):
        problems.get("cb2", dim=3)
    with pytest.raises(ValueError, match="noise_cov"):
        problems.get("noisy-quadratic", hessian=[1.0, 1.0], noise_cov=[1.0, -1.0])


# ----------------------------------------------------------------------------- noisy quadratic
@pytest.mark.parametrize("noise_cov", [[0.5, 0.2, 0.1], [[1.0, 0.3, 0.0], [0.3, 0.5, 0.1], [0.0, 0.1, 0.2]]])
def test_noisy_quadratic_covariance_matches_monte_carlo(noise_cov):
    p = problems.get("noisy-quadratic", hessian=[1.0, 0.5, 0.1], noise_cov=noise_cov, seed=3)
    M, b = 20000, 4
    x = np.broadcast_to(np.array([0.3, -1.0, 2.0]), (M, 3))
    idx = np.arange(M * b, dtype=np.int64).reshape(M, b) * 7919 + 12345
    noise = p.oracle(x, idx) - p.grad(x)
    emp = np.cov(noise.T)
    exact = p.batch_noise_covariance(b)
    # standard error of a covariance entry: sqrt((S_ii S_jj + S_ij^2) / M)
    se = np.sqrt((np.outer(np.diag(exact), np.diag(exact)) + exact**2) / M)
    assert np.all(np.abs(emp - exact) <= 5 * se)
    assert np.all(np.abs(noise.mean(axis=0)) <= 5 * np.sqrt(np.diag(exact) / M))
    assert np.array_equal(p.noise_covariance(x[0]), p.Sigma)
    assert np.array_equal(p.oracle(x[:3], idx[:3]), p.oracle(x[:3], idx[:3]))  # a pure function of the index


# ----------------------------------------------------------------------------- relu-mlp
def test_relu_mlp_layout_blocks_and_round_trip():
    p = problems.get("relu-mlp", hidden=(6, 4), d_in=3, n=10)
    assert np.array_equal(np.sort(np.concatenate(p.blocks)), np.arange(p.dim))
    assert [b.size for b in p.blocks] == [18, 6, 24, 4, 4, 1]
    assert np.array_equal(p.flatten(p.unflatten(p.x0)), p.x0)
    W1 = p.unflatten(np.stack([p.x0, 2 * p.x0]))[0]
    assert W1.shape == (2, 6, 3) and np.array_equal(W1[1], 2 * W1[0])


@pytest.mark.parametrize("task", ["regression", "classification"])
@pytest.mark.parametrize("hidden", [(7,), (5, 4)])
def test_relu_mlp_backprop_matches_finite_differences(task, hidden):
    p = problems.get("relu-mlp", hidden=hidden, task=task, n=15, d_in=3, seed=2)
    x = p.x0 + 0.1 * np.random.default_rng(0).standard_normal(p.dim)
    idx = np.array([1, 4, 4, 9])
    g = p.oracle(x, idx)
    sub = problems.get("relu-mlp", hidden=hidden, task=task, n=15, d_in=3, seed=2)
    sub.X, sub.y, sub.n = p.X[idx], p.y[idx], idx.size  # the minibatch objective
    h = 1e-6
    fd = np.array([(sub.value(x + h * e) - sub.value(x - h * e)) / (2 * h) for e in np.eye(p.dim)])
    assert np.linalg.norm(g - fd) <= 1e-6 * max(1.0, np.linalg.norm(g))
    if task == "classification":
        assert set(np.unique(p.y)) <= {-1.0, 1.0}


def test_relu_mlp_kink_inputs_make_relu_prime_at_zero_matter():
    kw = dict(hidden=(4,), n=8, d_in=2, kink_inputs=True)
    p0 = problems.get("relu-mlp", **kw)
    p1 = problems.get("relu-mlp", relu_prime_at_zero=1.0, **kw)
    assert int(p0.preactivation_zero_count(p0.x0)) == 4 * 2  # 2 zero inputs x 4 units
    assert np.array_equal(p0.value(p0.x0), p1.value(p1.x0))
    assert not np.array_equal(p0.grad(p0.x0), p1.grad(p1.x0))
    assert int(problems.get("relu-mlp", hidden=(4,), n=8, d_in=2).preactivation_zero_count(p0.x0)) == 0
    counts = p0.preactivation_zero_count(np.stack([p0.x0, p0.x0 + 0.1]))
    assert counts.tolist() == [8, 0]


@pytest.mark.parametrize("kw", [{"hidden": (16, 16), "task": "classification"}, {"hidden": (32,), "kink_inputs": True}])
def test_relu_mlp_default_size_is_bit_identical_per_replica(kw):
    p = problems.get("relu-mlp", **kw)
    X = random_points(p, 6, seed=7)
    X = np.asfortranarray(X)  # layout must not matter
    idx = random_idx(p, (6, 8), seed=8)
    V, G, O = p.value(X), p.grad(X), p.oracle(X, idx)
    for r in range(6):
        assert np.array_equal(V[r], p.value(X[r])) and np.array_equal(G[r], p.grad(X[r]))
        assert np.array_equal(O[r], p.oracle(X[r], idx[r]))


# ----------------------------------------------------------------------------- unchecked paths
@pytest.mark.parametrize("name", problems.names())
def test_unchecked_paths_equal_the_checked_ones_bit_for_bit(name):
    """The engine validates once, then calls unchecked_*: the results must not change."""
    p = small(name)
    X = random_points(p, 6, seed=9)
    idx = random_idx(p, (6, 4), seed=10).astype(np.int64)
    for got, want in [(p.unchecked_value(X), p.value(X)), (p.unchecked_grad(X), p.grad(X)),
                      (p.unchecked_oracle(X, idx), p.oracle(X, idx)),
                      (p.unchecked_oracle(np.asfortranarray(X), idx), p.oracle(X, idx))]:
        assert np.array_equal(got, want) and np.array_equal(np.signbit(got), np.signbit(want))


def test_other_spellings_are_normalised():
    for spelling in ("l1_regression", "L1-Regression", " l1 regression "):
        assert problems.get(spelling, n=10, d=2).name == "l1-regression"
    assert problems.canonical_name("Chained_CB3_1") == "chained-cb3-1"
    with pytest.raises(ValueError, match=r"unknown problem 'l1_regresion'.*Did you mean 'l1-regression'"):
        problems.get("l1_regresion")
    with pytest.raises(TypeError, match="problem name must be a string"):
        problems.get(3)


@pytest.mark.parametrize("name, x", [("cb2", [-400.0, 400.0]), ("chained-cb3-1", [-400.0, 400.0, 0.0, 0.0])])
def test_clarke_where_a_piece_overflows_is_a_clear_error(name, x):
    p = problems.get(name) if name == "cb2" else problems.get(name, n=4)
    with np.errstate(over="ignore"), pytest.raises(ValueError, match="not representable in float64"):
        p.clarke(np.array(x))
