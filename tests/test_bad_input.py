"""Bad input raises ValueError/TypeError naming the parameter, at construction."""
import numpy as np
import pytest

import stochopt
from stochopt import directions, schedules
from conftest import TinyL1


def _bad_schedule():
    return schedules.from_function(lambda k: np.ones((2, 2)))


CASES = [
    ("negative lr", lambda: stochopt.sgd(lr=-0.1), ValueError, "lr"),
    ("zero lr", lambda: stochopt.heavy_ball(lr=0.0), ValueError, "lr"),
    ("nan lr", lambda: stochopt.signum(lr=float("nan")), ValueError, "lr"),
    ("inf lr", lambda: stochopt.lion(lr=float("inf")), ValueError, "lr"),
    ("string lr", lambda: stochopt.sgd(lr="0.1"), TypeError, "lr"),
    ("bool lr", lambda: stochopt.sgd(lr=True), TypeError, "lr"),
    ("momentum 1", lambda: stochopt.heavy_ball(lr=0.1, momentum=1.0), ValueError, r"momentum.*\[0, 1\)"),
    ("momentum negative", lambda: stochopt.signum(lr=0.1, momentum=-0.1), ValueError, "momentum"),
    ("beta1 = 1", lambda: stochopt.lion(lr=0.1, betas=(1.0, 0.99)), ValueError, "beta1"),
    ("beta2 > 1", lambda: stochopt.lion(lr=0.1, betas=(0.9, 1.5)), ValueError, "beta2"),
    ("betas not a pair", lambda: stochopt.lion(lr=0.1, betas=0.9), ValueError, "betas"),
    ("negative weight decay", lambda: stochopt.sgd(lr=0.1, weight_decay=-1.0), ValueError, "weight_decay"),
    ("negative lion decay", lambda: stochopt.lion(lr=0.1, weight_decay=-1.0), ValueError, "weight_decay"),
    ("theta > 1", lambda: stochopt.gsgd(lr=0.1, momentum_lr=1.5), ValueError, r"momentum_lr.*\(0, 1\]"),
    ("theta 0", lambda: stochopt.gsgd(lr=0.1, momentum_lr=0.0), ValueError, "momentum_lr"),
    ("unknown direction", lambda: stochopt.gsgd(lr=0.1, momentum_lr=0.5, direction="sing"), ValueError,
     "did you mean 'sign'"),
    ("direction wrong type", lambda: stochopt.gsgd(lr=0.1, momentum_lr=0.5, direction=3), TypeError, "direction"),
    ("blocks overlap", lambda: stochopt.normalized_sgd(lr=0.1, blocks=[[0, 1], [1, 2]]), ValueError, "partition"),
    ("blocks empty part", lambda: stochopt.normalized_sgd(lr=0.1, blocks=[[0, 1], []]), ValueError, "blocks"),
    ("blocks gap", lambda: stochopt.normalized_sgd(lr=0.1, blocks=[[0], [2]]), ValueError, "partition"),
    ("schedule wrong shape", lambda: stochopt.sgd(lr=_bad_schedule()), ValueError, "lr"),
    ("schedule negative", lambda: stochopt.sgd(lr=schedules.from_function(lambda k: -1.0)), ValueError, "lr"),
    ("callable lr", lambda: stochopt.sgd(lr=lambda k: 0.1), TypeError, "from_function"),
    ("lr 2-D array", lambda: stochopt.sgd(lr=np.ones((2, 2))), ValueError, "lr"),
    ("per-replica disagree", lambda: stochopt.heavy_ball(lr=np.ones(2) * 0.1, momentum=np.ones(3) * 0.5), ValueError,
     "replicas"),
    ("lion_singlescale lr 0", lambda: stochopt.lion_singlescale(lr=0.0), ValueError, "lr"),
    ("clip threshold", lambda: stochopt.clipped_sgd(lr=0.1, threshold=0.0), ValueError, "threshold"),
    ("clip mode", lambda: stochopt.clipped_sgd(lr=0.1, mode="rows"), ValueError, "mode"),
    ("polynomial p", lambda: schedules.polynomial(0.1, p=-1), ValueError, "p"),
    ("randomized bounds", lambda: schedules.randomized(0.1, low=1.0, high=0.5), ValueError, "high"),
    ("m0 string", lambda: stochopt.gsgd(lr=0.1, momentum_lr=0.5, m0="zero"), ValueError, "m0"),
    ("srsgd lam", lambda: stochopt.srsgd(lr=0.1, lam=-1), ValueError, "lam"),
]


@pytest.mark.parametrize("what, make, exc, match", CASES, ids=[c[0] for c in CASES])
def test_construction_errors(what, make, exc, match):
    with pytest.raises(exc, match=f"(?i){match}"):
        make()


def test_integer_x0_is_rejected():
    with pytest.raises(TypeError, match="x0.*float"):
        stochopt.sgd(lr=0.1).init(np.array([1, 2, 3]))


def test_wrong_shape_x0_and_grad():
    opt = stochopt.sgd(lr=0.1)
    with pytest.raises(ValueError, match="x0"):
        opt.init(np.zeros((2, 2, 2)))
    state = opt.init(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="grad"):
        opt.step(state, np.zeros((3, 2)))


def test_blocks_must_match_dimension():
    with pytest.raises(ValueError, match="blocks"):
        stochopt.normalized_sgd(lr=0.1, blocks=[[0], [1]]).init(np.zeros(3))


def test_per_replica_hyperparameters_must_match_x0_rows():
    with pytest.raises(ValueError, match="replicas"):
        stochopt.sgd(lr=np.array([0.1, 0.2])).init(np.zeros((3, 2)))


RUN_CASES = [
    ("steps < 0", dict(steps=-1), ValueError, "steps"),
    ("replicas < 1", dict(replicas=0), ValueError, "replicas"),
    ("batch 0", dict(batch_size=0), ValueError, "batch_size"),
    ("record_every 0", dict(record_every=0), ValueError, "record_every"),
    ("negative seed", dict(seed=-1), ValueError, "seed"),
    ("float steps", dict(steps=10.0), TypeError, "steps"),
    ("negative radius", dict(x0_radius=-1.0), ValueError, "x0_radius"),
    ("bad replica ids", dict(replica_ids=[-1]), ValueError, "replica_ids"),
]


@pytest.mark.parametrize("what, kwargs, exc, match", RUN_CASES, ids=[c[0] for c in RUN_CASES])
def test_run_errors(what, kwargs, exc, match):
    base = dict(steps=5, replicas=2, batch_size=2)
    base.update(kwargs)
    with pytest.raises(exc, match=match):
        stochopt.run(stochopt.sgd(lr=0.1), TinyL1(), **base)


def test_run_rejects_a_non_problem_and_a_non_method():
    with pytest.raises(TypeError, match="oracle"):
        stochopt.run(stochopt.sgd(lr=0.1), object(), steps=1)
    with pytest.raises(TypeError, match="opt"):
        stochopt.run("sgd", TinyL1(), steps=1)


def test_direction_names_with_parameters():
    assert directions.get("clip_norm:2.5").threshold == 2.5
    with pytest.raises(ValueError, match="not a number"):
        directions.get("clip_norm:big")
    with pytest.raises(ValueError, match="takes no parameter"):
        directions.get("sign:1")
