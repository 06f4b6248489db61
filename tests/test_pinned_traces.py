"""Traces made before the lean engine (commit 4396394) stay bit-identical, and old files resume.

``tests/data/pinned-4396394.npz`` holds arrays produced by the engine as it was before the
per-step overhead was cut; ``tests/data/trace-4396394-heavy-ball.npz`` is a 25-step trace saved
by that code. Every number here must be reproduced exactly: minibatch streams, random
stepsizes, random starts, schedules, oracles and the update rules all enter them.
"""
from pathlib import Path

import numpy as np
import pytest

import problems
import stochopt
from stochopt import schedules, streams
from conftest import TinyL1

DATA = Path(__file__).parent / "data"
PINNED = np.load(DATA / "pinned-4396394.npz", allow_pickle=False)


def _heavy_ball(**kw):
    opt = stochopt.heavy_ball(lr=schedules.randomized(schedules.polynomial(0.05), seed=1), momentum=0.9)
    base = dict(steps=60, seed=7, batch_size=5, record_every=10, x0_radius=0.5, replicas=3)
    base.update(kw)
    return stochopt.run(opt, TinyL1(), **base)


def test_a_few_values_written_out():
    full = _heavy_ball()
    assert float(full.x[-1, 1, 2]) == float.fromhex("-0x1.ad56220c83334p-2")
    assert float(full.value[-1, 0]) == float.fromhex("0x1.d795b012b031fp+0")
    assert float(full.time[-1, 2]) == float.fromhex("0x1.e3c57820b9861p-3")
    assert int(streams.hash64(123, streams.BATCH, np.arange(4)[:, None], 17, np.arange(3)[None])[3, 2]) \
        == 5348913647404999712


def test_heavy_ball_trace_is_bit_identical():
    full = _heavy_ball()
    for field in ("x", "value", "time", "momentum_norm", "k"):
        assert np.array_equal(getattr(full, field), PINNED[f"hb_{field}"]), field
    assert np.array_equal(full.hyper["lr"], PINNED["hb_lr"])


def test_adam_on_a_registered_problem_is_bit_identical():
    opt = stochopt.adam(lr=np.array([0.01, 0.02, 0.05]))
    p = problems.get("l1-regression", n=40, d=5, seed=0)
    t = stochopt.run(opt, p, steps=30, replicas=3, seed=2, batch_size=2, record_every=3)
    assert np.array_equal(t.x, PINNED["adam_x"]) and np.array_equal(t.value, PINNED["adam_value"])
    for name, buf in t.final_state.buffers.items():
        assert np.array_equal(buf, PINNED[f"adam_buf_{name}"]), name


def test_relu_network_trace_is_bit_identical():
    p = problems.get("relu-mlp", hidden=(4,), n=20, d_in=3, seed=0)
    t = stochopt.run(stochopt.sgd(lr=0.05), p, steps=20, replicas=2, seed=3, batch_size=3, record_every=5)
    assert np.array_equal(t.x, PINNED["mlp_x"])


def test_streams_are_bit_identical():
    assert np.array_equal(streams.hash64(123, streams.BATCH, np.arange(4)[:, None], 17, np.arange(3)[None]),
                          PINNED["hash"])
    assert np.array_equal(streams.integers(1000, 5, streams.BATCH, np.arange(4)[:, None], 99, np.arange(3)[None]),
                          PINNED["ints"])
    assert np.array_equal(streams.uniform(2**40, streams.STEPSIZE, np.arange(5), 2**33), PINNED["unif"])
    assert np.array_equal(streams.normal(1, streams.USER, np.arange(6)), PINNED["normal"])


def test_an_old_saved_trace_loads_and_resumes_bit_identically():
    old = stochopt.Trace.load(DATA / "trace-4396394-heavy-ball.npz")
    assert old.final_state.k == 25 and old.k.tolist() == [0, 10, 20, 25]
    resumed = _heavy_ball(resume=old)
    for field in ("x", "value", "time", "momentum_norm", "k"):
        assert np.array_equal(getattr(resumed, field), PINNED[f"hb_{field}"]), field
