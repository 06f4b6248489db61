"""Known answers for the min-norm point, the Goldstein measure and the Clarke distance."""
import itertools

import numpy as np
import pytest

import verify
from verify.measures import certificate, min_norm_point


def brute_force_min_norm(G):
    """Independent exact QP solution: enumerate supports, solve each affine KKT system."""
    best = None
    for r in range(1, G.shape[0] + 1):
        for S in itertools.combinations(range(G.shape[0]), r):
            S = list(S)
            n = len(S)
            K = np.zeros((n + 1, n + 1))
            K[:n, :n] = G[S] @ G[S].T
            K[:n, n] = K[n, :n] = 1.0
            rhs = np.zeros(n + 1)
            rhs[n] = 1.0
            try:
                a = np.linalg.solve(K, rhs)[:n]
            except np.linalg.LinAlgError:
                continue
            if np.any(a < -1e-13):
                continue
            v = a @ G[S]
            if best is None or v @ v < best @ best:
                best = v
    return best


def test_two_unit_vectors():
    r = min_norm_point(np.array([[1.0, 0.0], [0.0, 1.0]]))
    np.testing.assert_allclose(r.point, [0.5, 0.5], atol=1e-15)
    np.testing.assert_allclose(r.weights, [0.5, 0.5], atol=1e-15)
    assert r.certified and r.active.all()


def test_set_containing_zero():
    G = np.array([[1.0, 2.0], [0.0, 0.0], [-3.0, 1.0]])
    r = min_norm_point(G)
    assert r.norm == 0.0 and r.certified


def test_zero_in_interior_of_hull():
    G = np.array([[1.0, 1.0], [-1.0, 1.0], [0.0, -1.0]])
    r = min_norm_point(G)
    assert r.norm < 1e-15 and r.certified


def test_single_vector_is_itself():
    g = np.array([[3.0, -1.0, 2.0]])
    r = min_norm_point(g)
    np.testing.assert_array_equal(r.point, g[0])
    assert r.certified


@pytest.mark.parametrize("method", ["auto", "nnls", "wolfe"])
def test_random_sets_match_independent_qp(method):
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(150):
        m, d = rng.integers(1, 7), rng.integers(1, 6)
        G = rng.standard_normal((m, d)) + 3 * rng.random() * rng.standard_normal(d)
        r = min_norm_point(G, method=method)
        assert r.certified
        assert abs(r.weights.sum() - 1) < 1e-12 and np.all(r.weights >= 0)
        worst = max(worst, np.abs(r.point - brute_force_min_norm(G)).max())
    assert worst < 1e-9


def test_duplicates_and_nearly_collinear_rows():
    G = np.array([[1.0, 1e-9], [1.0, -1e-9], [1.0, 0.0], [1.0, 0.0], [1.0, 1e-9]])
    r = min_norm_point(G)
    assert r.certified and abs(r.norm - 1.0) < 1e-12
    G = np.repeat(np.array([[2.0, 1.0], [-1.0, 1.0]]), 5, axis=0)
    r = min_norm_point(G)
    np.testing.assert_allclose(r.point, [0.0, 1.0], atol=1e-12)
    # many nearly parallel gradients in higher dimension
    rng = np.random.default_rng(3)
    base = rng.standard_normal(20)
    G = base + 1e-7 * rng.standard_normal((60, 20))
    r = min_norm_point(G)
    assert r.certified and abs(r.norm - np.linalg.norm(base)) < 1e-5


def test_batched_equals_loop():
    rng = np.random.default_rng(1)
    G = rng.standard_normal((3, 4, 7, 5)) + 1.0
    r = min_norm_point(G)
    assert r.point.shape == (3, 4, 5) and r.weights.shape == (3, 4, 7) and r.certified.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            one = min_norm_point(G[i, j])
            np.testing.assert_array_equal(one.point, r.point[i, j])


def test_wrong_weights_fail_certificate():
    rng = np.random.default_rng(2)
    G = rng.standard_normal((8, 4)) + 0.5
    r = min_norm_point(G)
    ok, gap = certificate(G, r.weights)
    assert ok
    wrong = np.full(8, 1 / 8)
    ok, gap = certificate(G, wrong)
    assert not ok and gap > 1e-3
    assert certificate(G, np.full(8, 0.2))[0] is False  # not on the simplex


def test_large_problem_certified():
    rng = np.random.default_rng(4)
    G = rng.standard_normal((200, 100)) + 0.3
    r = min_norm_point(G)
    assert r.certified and r.gap <= 1e-9 * r.norm ** 2 + 1e-12


def test_bad_input():
    with pytest.raises(ValueError, match="finite"):
        min_norm_point(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="shape"):
        min_norm_point(np.ones(3))


# ----------------------------------------------------------------- Goldstein vs Clarke
class MaxAffine:
    """f(x) = max_j <a_j, x> + b_j: gradient of the argmax piece, exact Clarke generators."""

    def __init__(self, A, b):
        self.A, self.b = np.asarray(A, float), np.asarray(b, float)
        self.dim = self.A.shape[1]

    def value(self, x):
        return np.max(x @ self.A.T + self.b, axis=-1)

    def grad(self, x):
        return self.A[np.argmax(x @ self.A.T + self.b, axis=-1)]

    def clarke(self, x, tol=1e-9):
        vals = self.A @ x + self.b
        return self.A[vals >= vals.max() - tol]


A3 = np.array([[1.0, 2.0], [-1.0, 1.0], [0.5, -2.0]])
PROBLEM = MaxAffine(A3, np.zeros(3))


@pytest.mark.parametrize("x", [[0.0, 0.0],          # all three pieces meet: 0 in the hull
                               [1.0, 0.0],          # kink between pieces 0 and 2
                               [0.0, 1.0],          # kink between pieces 0 and 1
                               [3.0, 1.0],          # smooth point (piece 0)
                               [-2.0, 0.1]])        # smooth point (piece 1)
def test_goldstein_agrees_with_clarke(x):
    x = np.array(x)
    exact = float(verify.clarke_distance(PROBLEM, x).value)
    g = verify.goldstein(PROBLEM, x, eps=1e-6, samples=60, seed=0)
    assert g.certified
    assert abs(float(g.value) - exact) < 1e-9
    assert g.points.shape == (60, 2) and g.weights.shape == (60,)
    assert np.all(np.linalg.norm(g.points - x, axis=1) <= 1e-6 * (1 + 1e-12))


def test_goldstein_decreases_with_samples():
    x = np.zeros(2)
    vals = [float(verify.goldstein(PROBLEM, x, eps=1e-6, samples=m, seed=5).value) for m in (1, 2, 3, 6, 12, 48)]
    assert all(b <= a + 1e-15 for a, b in zip(vals, vals[1:]))  # nested samples: monotone
    assert vals[-1] < 1e-12 and vals[0] > 0.5


def test_goldstein_batched_over_replicas():
    X = np.array([[0.0, 0.0], [3.0, 1.0], [1.0, 0.0]])
    g = verify.goldstein(PROBLEM, X, eps=1e-6, samples=40)
    exact = verify.clarke_distance(PROBLEM, X).value
    np.testing.assert_allclose(g.value, exact, atol=1e-9)
    one = verify.goldstein(PROBLEM, X[2], eps=1e-6, samples=40, replica_ids=[2])
    assert float(one.value) == g.value[2]
    assert g.points.shape == (3, 40, 2)


def test_goldstein_defaults_and_errors():
    assert verify.default_samples(2) == 4 and verify.default_samples(100) == 100
    assert verify.goldstein(PROBLEM, np.zeros(2), eps=0.1).samples == 4
    with pytest.raises(ValueError, match="eps"):
        verify.goldstein(PROBLEM, np.zeros(2), eps=0.0)
    with pytest.raises(TypeError, match="grad"):
        verify.goldstein(object(), np.zeros(2), eps=0.1)


def test_goldstein_on_problems_package():
    problems = pytest.importorskip("problems")
    for name in ("cb2", "mxhilb", "max-affine"):
        p = problems.get(name)
        xs = np.asarray(p.x_star, dtype=float)
        exact = float(verify.clarke_distance(p, xs).value)
        assert exact < 1e-9
        vals = [float(verify.goldstein(p, xs, eps=1e-7, samples=m).value) for m in (p.dim + 1, 4 * p.dim, 60)]
        assert vals[-1] < 1e-5, (name, vals)
        assert all(b <= a + 1e-12 for a, b in zip(vals, vals[1:]))
        # a smooth point away from the minimiser: sampled and exact agree
        x = xs + 0.37
        exact = float(verify.clarke_distance(p, x).value)
        g = float(verify.goldstein(p, x, eps=1e-9, samples=2 * p.dim).value)
        assert abs(g - exact) < 1e-6 * max(1, exact), (name, g, exact)
