"""Directions (property tests) and schedules (formulas, purity, streams)."""
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from stochopt import directions, schedules, streams

D = 6
BLOCKS = [[0, 4], [1, 2], [3, 5]]
# Entries are 0 or at least 1e-100 in size, so that the test's own dot products do not underflow.
vectors = arrays(np.float64, D, elements=st.floats(-50, 50, allow_nan=False, allow_subnormal=False).filter(
    lambda v: v == 0 or abs(v) > 1e-100))

ALL = [
    directions.Identity(),
    directions.Sign(),
    directions.Normalized(),
    directions.Normalized(blocks=BLOCKS),
    directions.ClipNorm(1.5),
    directions.ClipNorm(1.5, blocks=BLOCKS),
    directions.ClipCoordinate(0.7),
    directions.SRSGD(0.3),
    directions.SmoothSign(2.0),
]
IDS = [f"{d.name}{'-blocks' if d.blocks else ''}" for d in ALL]


@pytest.mark.parametrize("direction", ALL, ids=IDS)
@settings(max_examples=60, deadline=None)
@given(m=vectors, y=vectors)
def test_select_is_a_subgradient(direction, m, y):
    """phi(y) >= phi(m) + <select(m), y - m> for every y."""
    lhs = direction.phi(y)
    rhs = direction.phi(m) + np.dot(direction.select(m), y - m)
    assert lhs >= rhs - 1e-9 * (1 + abs(lhs) + abs(rhs))


@pytest.mark.parametrize("direction", ALL, ids=IDS)
@settings(max_examples=60, deadline=None)
@given(m=vectors)
def test_select_is_a_descent_direction(direction, m):
    if np.all(m == 0):
        assert np.all(direction.select(m) == 0)
        return
    assert np.dot(direction.select(m), m) > 0


@pytest.mark.parametrize("direction", ALL, ids=IDS)
@settings(max_examples=40, deadline=None)
@given(m=vectors)
def test_fenchel_young_equality_at_the_selection(direction, m):
    """phi(m) + phi*(s) = <s, m> for s = select(m) (s is a subgradient at m)."""
    s = direction.select(m)
    lhs = direction.phi(m) + direction.conjugate(s)
    assert np.isfinite(lhs)
    assert abs(lhs - np.dot(s, m)) <= 1e-8 * (1 + abs(lhs))


def test_norm_directions_survive_tiny_and_huge_entries():
    for scale in (1e-200, 1e200):
        m = scale * np.array([3.0, 4.0])
        assert np.allclose(directions.Normalized().select(m), [0.6, 0.8], rtol=1e-15)
        assert np.allclose(directions.ClipNorm(1.0, blocks=[[0, 1]]).select(m) / m * 5 * scale,
                           min(1.0, 1.0 / (5 * scale)) * 5 * scale, rtol=1e-15)


def test_sign_of_zero_is_zero_and_batching():
    m = np.array([[0.0, -0.0, 1e-300], [-3.0, 0.0, 2.0]])
    assert directions.Sign().select(m).tolist() == [[0.0, 0.0, 1.0], [-1.0, 0.0, 1.0]]
    assert directions.Normalized().select(np.zeros((2, 3))).tolist() == [[0.0] * 3] * 2
    assert directions.Sign().phi(m).shape == (2,)


def test_blocks_from_sizes_and_reconstructed_flag():
    b = directions.Blocks.from_sizes([2, 3])
    assert b.to_list() == [[0, 1], [2, 3, 4]]
    assert directions.SRSGD().reconstructed and not directions.Sign().reconstructed


# ------------------------------------------------------------------ schedules
@pytest.mark.parametrize(
    "sched",
    [
        schedules.constant(0.3),
        schedules.polynomial(0.5, b=2.0, p=0.75),
        schedules.step_decay(0.4, factor=0.5, every=7),
        schedules.cosine(0.2, total_steps=30, final=0.01),
        schedules.warmup(schedules.polynomial(0.5, p=1.0), warmup_steps=5),
        schedules.coupled(schedules.polynomial(0.5, p=0.6), tau=3.0),
        schedules.coupled(schedules.constant(0.5), tau=3.0, cap=0.9),
    ],
    ids=lambda s: type(s).__name__,
)
def test_formula_agrees_with_values(sched):
    k = schedules.k_symbol()
    expr = sched.formula()
    for step in [0, 1, 4, 5, 6, 29, 30, 31, 100]:
        assert float(expr.subs(k, step)) == pytest.approx(sched(step), rel=1e-12)


def test_per_replica_schedule_values_and_formula():
    s = schedules.polynomial(np.array([0.1, 0.2]), b=1.0, p=1.0)
    assert np.allclose(s(3), [0.025, 0.05])
    with pytest.raises(ValueError, match="replica"):
        s.formula()
    assert float(s.formula(replica=1).subs(schedules.k_symbol(), 3)) == pytest.approx(0.05)


def test_randomized_schedule_is_a_pure_function_of_seed_replica_step():
    s = schedules.randomized(schedules.polynomial(1.0, p=0.0), low=0.5, high=1.5, seed=4)
    a = s(10, np.arange(8))
    assert np.array_equal(s(10, np.array([5])), a[5:6])
    assert np.all((a >= 0.5) & (a <= 1.5)) and len(np.unique(a)) == 8
    assert not np.array_equal(s(11, np.arange(8)), a)
    assert not np.array_equal(schedules.randomized(1.0, seed=5)(10, np.arange(8)), a)
    with pytest.raises(ValueError, match="envelope"):
        s.formula()


def test_streams_are_uniform_and_independent():
    u = streams.uniform(0, streams.USER, np.arange(200_000))
    assert 0 < u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / u.size)
    v = streams.uniform(0, streams.USER + 1, np.arange(200_000))
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.01
    z = streams.normal(1, streams.USER, np.arange(200_000))
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    i = streams.integers(10, 2, streams.BATCH, np.arange(100_000))
    counts = np.bincount(i, minlength=10)
    assert counts.min() > 9500 and counts.max() < 10500
    with pytest.raises(ValueError):
        streams.uniform(-1, 1, 0)


def test_formula_is_sympy():
    assert isinstance(schedules.polynomial(0.1, p=0.5).formula(), sympy.Expr)


_R = np.array([0.1, 0.2, 0.3])
BLOCK_SCHEDULES = [
    schedules.constant(0.3),
    schedules.constant(_R),
    schedules.polynomial(0.5, b=2.0, p=0.75),
    schedules.polynomial(_R, b=2.0, p=0.6),
    schedules.polynomial(0.5, b=_R + 1, p=0.75),
    schedules.polynomial(0.5, b=2.0, p=_R + 0.5),
    schedules.step_decay(0.4, factor=0.7, every=7),
    schedules.step_decay(_R, factor=_R + 0.5, every=3),
    schedules.cosine(0.2, total_steps=30, final=0.01),
    schedules.cosine(_R, total_steps=30, final=0.0),
    schedules.warmup(schedules.polynomial(0.5, p=0.51), warmup_steps=5),
    schedules.warmup(schedules.constant(_R), warmup_steps=7),
    schedules.coupled(schedules.polynomial(0.5, p=0.6), tau=3.0),
    schedules.coupled(schedules.constant(0.5), tau=3.0, cap=_R * 3),
    schedules.coupled(schedules.polynomial(0.5), tau=_R),
    schedules.randomized(schedules.polynomial(0.5, p=0.75), seed=3),
    schedules.randomized(schedules.cosine(_R, total_steps=20), low=0.2, high=1.7, seed=1),
    schedules.coupled(schedules.randomized(schedules.warmup(0.1, 4), seed=2), tau=2.0),
    schedules.from_function(lambda k: 0.1 / (1.0 + k) ** 0.7),
]


@pytest.mark.parametrize("sched", BLOCK_SCHEDULES, ids=lambda s: repr(s)[:40])
def test_block_values_equal_per_step_values_bit_for_bit(sched):
    """The engine evaluates schedules a block at a time; every value must equal sched(k) exactly."""
    ks = np.array([0, 1, 2, 5, 6, 7, 29, 30, 31, 100, 1001, 12345])
    ids = np.array([4, 0, 2]) if sched.random or sched.replicas == 3 else None
    block = sched.values(ks, ids)
    for row, k in zip(block, ks):
        one = np.asarray(sched(int(k), ids), dtype=float)
        assert row.shape == one.shape
        assert np.array_equal(row, one) and np.array_equal(np.signbit(row), np.signbit(one)), int(k)
    assert np.array_equal(sched.values(4, ids), sched.values(np.arange(4), ids))


def test_from_function_is_identified_by_what_determines_its_values():
    lr0 = 0.05
    same = schedules.from_function(lambda k: lr0 / (k + 1)).to_dict()
    assert same == schedules.from_function(lambda k: lr0 / (k + 1)).to_dict()
    assert same != schedules.from_function(lambda k: 0.5 / (k + 1)).to_dict()  # another constant
    lr0 = 0.5
    assert same != schedules.from_function(lambda k: lr0 / (k + 1)).to_dict()  # another closure value
    opaque = object()
    described = schedules.from_function(lambda k, o=opaque: 0.1).to_dict()
    assert described["unverified"] == ["fn defaults[0]"]
    named = schedules.from_function(lambda k: 0.1, key="my constant").to_dict()
    assert named["key"] == "my constant" and "sha256" not in named
