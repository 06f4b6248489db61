"""The problems the Lion claims run on (problems/smooth.py): oracles, batching, known answers, errors."""
import math

import numpy as np
import pytest

import problems

CASES = {
    "separable-quadratic": {"d": 6, "center": (-3.0, 3.0), "seed": 2},
    "separable-quadratic-noisy": {"d": 6, "noise": 0.7, "normalized": True, "seed": 1},
    "smooth-nonconvex": {"d": 5, "seed": 3},
}


def build(case):
    name = "separable-quadratic" if case.startswith("separable") else case
    return problems.get(name, **CASES[case])


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_matches_central_finite_differences(case):
    p = build(case)
    X = p.x0 + np.random.default_rng(0).standard_normal((4, p.dim))
    h = 1e-6
    for x, g in zip(X, p.grad(X)):
        fd = np.array([(p.value(x + h * e) - p.value(x - h * e)) / (2 * h) for e in np.eye(p.dim)])
        assert np.linalg.norm(g - fd) <= 1e-7 * max(1.0, np.linalg.norm(g)), (case, g, fd)


@pytest.mark.parametrize("case", sorted(CASES))
def test_batched_equals_per_replica_loop_bit_for_bit(case):
    p = build(case)
    rng = np.random.default_rng(1)
    X = p.x0 + rng.standard_normal((8, p.dim))
    idx = rng.integers(0, min(p.n_samples, 2**40), (8, 3))
    V, G, O = p.value(X), p.grad(X), p.oracle(X, idx)
    for r in range(8):
        assert np.array_equal(V[r], p.value(X[r])) and np.array_equal(G[r], p.grad(X[r]))
        assert np.array_equal(O[r], p.oracle(X[r], idx[r]))
        assert np.array_equal(O[r], p.oracle(X[r:r + 1], idx[r:r + 1])[0])
    assert np.array_equal(p.value(X.reshape(2, 4, p.dim)).ravel(), V)


def test_separable_quadratic_known_answers():
    p = build("separable-quadratic")
    assert p.f_star == 0.0 and float(p.value(p.x_star)) == 0.0 and not np.any(p.grad(p.x_star))
    assert np.array_equal(p.a, np.linspace(0.5, 2.0, 6))
    assert p.constants["smoothness_L1"] == pytest.approx(float(np.sum(p.a)))
    lam = 0.5
    x_box, f_box = p.box_solution(lam)
    # the clipped point is the KKT point of the box: G(x) = ||g||_1 + lam <g, x> = 0 there ...
    g = p.grad(x_box)
    assert abs(np.sum(np.abs(g)) + lam * np.sum(g * x_box)) < 1e-12
    # ... and no feasible point does better
    feasible = np.random.default_rng(2).uniform(-1 / lam, 1 / lam, (2000, p.dim))
    assert np.all(p.value(feasible) >= f_box - 1e-12)
    assert p.clarke(p.x0).shape == (1, p.dim)


def test_noisy_oracle_is_unbiased_with_the_stated_variance():
    p = build("separable-quadratic-noisy")
    assert p.noise_std == pytest.approx(0.7 / math.sqrt(6)) and p.n_samples == 2**62
    x = np.broadcast_to(p.x0, (20000, p.dim))
    noise = p.oracle(x, np.arange(20000)[:, None]) - p.grad(p.x0)
    se = p.noise_std / math.sqrt(20000)
    assert np.all(np.abs(noise.mean(axis=0)) < 5 * se)
    assert np.sum(noise.var(axis=0)) == pytest.approx(0.7 ** 2, rel=0.05)     # E||xi||^2 = sigma^2
    assert np.array_equal(p.oracle(p.x0, [7]), p.oracle(p.x0, [7]))           # a pure function of the index


def test_normalized_keeps_the_suboptimality_of_the_start_independent_of_d():
    gaps = [float(problems.get("separable-quadratic", d=d, normalized=True, seed=0).value(
        problems.get("separable-quadratic", d=d, normalized=True, seed=0).x0)) for d in (64, 1024)]
    assert gaps[1] == pytest.approx(gaps[0], rel=0.3)


def test_smooth_nonconvex_is_nonconvex_and_its_minimisers_leave_the_box():
    p = build("smooth-nonconvex")
    assert p.x_star is None and p.f_star is None
    assert np.max(np.abs(p.b)) > 1.0
    # the Hessian A - 1.5 diag(sin(3x)) has a negative eigenvalue somewhere
    x = np.full(p.dim, math.pi / 6)
    assert np.linalg.eigvalsh(np.asarray(p.A) - 1.5 * np.diag(np.sin(3 * x))).min() < 0


def test_bad_parameters_name_the_parameter():
    with pytest.raises(ValueError, match="curvature"):
        problems.get("separable-quadratic", curvature=(0.0, 1.0))
    with pytest.raises(ValueError, match="center"):
        problems.get("separable-quadratic", center=(1.0, -1.0))
    with pytest.raises(ValueError, match="centers"):
        problems.get("separable-quadratic", d=3, centers=[1.0, 2.0])
    with pytest.raises(ValueError, match="noise"):
        problems.get("separable-quadratic", noise=-1.0)
    with pytest.raises(TypeError, match="normalized"):
        problems.get("separable-quadratic", normalized="yes")
    with pytest.raises(ValueError, match="lam"):
        problems.get("separable-quadratic").box_solution(0.0)
    with pytest.raises(ValueError, match="d must be"):
        problems.get("smooth-nonconvex", d=0)
