"""The batched engine: reproducibility, resume, divergence handling, files."""
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import stochopt
from stochopt import schedules
from conftest import TinyL1


def _run(**kw):
    p = kw.pop("problem", TinyL1())
    opt = kw.pop("opt", stochopt.heavy_ball(lr=schedules.randomized(schedules.polynomial(0.05), seed=1),
                                            momentum=0.9))
    base = dict(steps=120, seed=7, batch_size=5, record_every=10, x0_radius=0.5)
    base.update(kw)
    return stochopt.run(opt, p, **base)


def test_replica_alone_equals_replica_among_eight():
    together = _run(replicas=8)
    alone = _run(replica_ids=[5])
    assert np.array_equal(together.x[:, 5], alone.x[:, 0])
    assert np.array_equal(together.value[:, 5], alone.value[:, 0])
    assert np.array_equal(together.time[:, 5], alone.time[:, 0])
    # and the order of replicas does not matter
    shuffled = _run(replica_ids=[3, 5, 0])
    assert np.array_equal(shuffled.x[:, 1], together.x[:, 5])


def test_same_seed_same_trace_and_other_seed_differs():
    a, b, c = _run(replicas=4), _run(replicas=4), _run(replicas=4, seed=8)
    assert np.array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)


def test_resume_is_bit_identical(tmp_path):
    full = _run(replicas=4)
    part = _run(replicas=4, steps=47)
    part.save(tmp_path / "part.npz")
    resumed = _run(replicas=4, resume=stochopt.Trace.load(tmp_path / "part.npz"))
    assert np.array_equal(resumed.k, full.k)
    for field in ("x", "value", "time", "momentum_norm"):
        assert np.array_equal(getattr(resumed, field), getattr(full, field)), field
    for name in full.hyper:
        assert np.array_equal(resumed.hyper[name], full.hyper[name])


def test_resume_rejects_a_different_configuration():
    part = _run(replicas=4, steps=20)
    with pytest.raises(ValueError, match="seed"):
        _run(replicas=4, seed=9, resume=part)
    with pytest.raises(ValueError, match="replica ids"):
        _run(replicas=3, resume=part)


def test_checkpoint_file_resumes(tmp_path):
    path = tmp_path / "ck.npz"
    full = _run(replicas=2)
    _run(replicas=2, steps=60, checkpoint=path, checkpoint_every=30)
    resumed = _run(replicas=2, resume=stochopt.Trace.load(path))
    assert np.array_equal(resumed.x, full.x)


def test_trace_records_time_stepsizes_and_momentum():
    opt = stochopt.heavy_ball(lr=schedules.polynomial(0.1, b=1.0, p=1.0), momentum=0.5)
    t = stochopt.run(opt, TinyL1(), steps=10, replicas=2, record_every=1)
    assert np.allclose(t.time[:, 0], np.concatenate([[0], np.cumsum(0.1 / (np.arange(10) + 1.0))]))
    assert np.allclose(t.hyper["lr"][:, 1], 0.1 / (t.k + 1.0))
    assert np.all(t.momentum_norm[1:] > 0) and t.momentum_norm[0, 0] == 0
    assert t.x.shape == (11, 2, 4) and t.value.shape == (11, 2)


def test_full_batch_uses_grad():
    p = TinyL1()
    t = stochopt.run(stochopt.sgd(lr=0.01), p, steps=3, replicas=1, record_every=1)
    x = p.x0.copy()
    for _ in range(3):
        x = x - 0.01 * p.grad(x[None])[0]
    assert np.allclose(t.x[-1, 0], x, rtol=0, atol=1e-15)


class Exploding(TinyL1):
    """Replica 1's gradient becomes infinite once its x leaves a ball: it must be frozen."""

    def oracle(self, x, idx):
        g = super().oracle(x, idx)
        boom = (np.arange(x.shape[0]) == 1)[:, None] & (np.abs(x).max(axis=1, keepdims=True) > 0.01)
        return np.where(boom, np.inf, g)


def test_diverging_replica_is_frozen_and_reported():
    t = stochopt.run(stochopt.sgd(lr=0.01), Exploding(), steps=50, replicas=3, batch_size=2, record_every=1)
    assert t.diverged.tolist() == [False, True, False]
    step = t.diverged_step[1]
    assert 1 <= step <= 50 and "non-finite" in t.diverged_reason[1]
    assert np.all(np.isfinite(t.x))
    assert np.all(t.x[step:, 1] == t.x[step - 1, 1])  # frozen at the last finite iterate
    assert not np.all(t.x[-1, 0] == t.x[step, 0])  # the others continue
    assert t.summary()["diverged"] == 1


def test_save_is_atomic_and_load_never_unpickles(tmp_path):
    t = _run(replicas=2, steps=10)
    path = tmp_path / "t.npz"
    t.save(path)
    assert sorted(os.listdir(tmp_path)) == ["t.npz"]  # no temporary left behind
    loaded = stochopt.Trace.load(path)
    assert loaded.meta["method"]["method"] == "heavy_ball"
    assert loaded.meta["seed"] == 7 and "numpy" in loaded.meta["versions"]
    assert np.array_equal(loaded.x, t.x)
    # a file carrying a pickled object array is refused
    bad = tmp_path / "bad.npz"
    np.savez(bad, header_json=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(ValueError):
        stochopt.Trace.load(bad)


def test_failed_write_leaves_old_file(tmp_path, monkeypatch):
    path = tmp_path / "t.npz"
    _run(replicas=1, steps=5).save(path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError):
        _run(replicas=1, steps=6).save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["t.npz"]


def test_callbacks_can_stop_the_run():
    seen = []

    def cb(k, state):
        seen.append(k)
        return k >= 30

    t = _run(replicas=2, callbacks=[cb])
    assert seen == [10, 20, 30] and t.k[-1] == 30


def test_engine_makes_a_constant_number_of_oracle_calls_per_step():
    calls = []

    class Counting(TinyL1):
        def oracle(self, x, idx):
            calls.append(x.shape[0])
            return super().oracle(x, idx)

    stochopt.run(stochopt.sgd(lr=0.01), Counting(), steps=7, replicas=64, batch_size=3)
    assert calls == [64] * 7


def test_import_without_torch():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import stochopt, numpy as np\n"
        "opt = stochopt.lion(lr=0.1); s = opt.step(opt.init(np.zeros(2)), np.ones(2))\n"
        "assert 'scipy' not in sys.modules and 'matplotlib' not in sys.modules and 'sympy' not in sys.modules\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_progress_bar_goes_to_stderr_only_when_asked(capsys):
    _run(replicas=2, steps=30, progress=True)
    err = capsys.readouterr().err
    assert "heavy_ball" in err and "30/30 steps" in err
    _run(replicas=2, steps=30)  # not a terminal: no bar by default
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------------ the lean hot loop (issue 18)
def _reference_loop(opt, p, steps, rids, seed, batch):
    """The plain per-step loop through the public API: the ground truth for the engine."""
    from stochopt import streams

    state = opt.init(np.array(np.broadcast_to(p.x0, (len(rids), p.x0.shape[0]))), replica_ids=rids)
    t = np.zeros(len(rids))
    for k in range(steps):
        idx = streams.integers(p.n_samples, seed, streams.BATCH, rids[:, None], k, np.arange(batch)[None, :])
        t = t + opt.stepsize(k, rids)
        state = opt.step(state, p.oracle(state.x, idx))
    return state, t


@pytest.mark.parametrize("block, cache", [(512, True), (7, True), (7, False)], ids=["one-block", "blocks", "no-cache"])
def test_blocks_of_steps_equal_the_plain_loop(monkeypatch, block, cache):
    from stochopt import engine

    monkeypatch.setattr(engine, "MAX_BLOCK", block)
    if not cache:
        monkeypatch.setattr(engine, "_CACHE_BYTES", 0)
    p, rids = TinyL1(), np.array([3, 0, 6])
    opt = stochopt.heavy_ball(lr=schedules.randomized(schedules.warmup(schedules.polynomial(0.1, p=0.6), 9), seed=2),
                              momentum=np.array([0.5, 0.9, 0.0]))
    trace = stochopt.run(opt, p, steps=100, replica_ids=rids, seed=4, batch_size=3, record_every=9)
    state, t = _reference_loop(opt, p, 100, rids, 4, 3)
    assert np.array_equal(trace.final_state.x, state.x) and np.array_equal(trace.final_state.m, state.m)
    assert np.array_equal(trace.final_time, t) and np.array_equal(trace.time[-1], t)
    assert np.array_equal(trace.hyper["lr"][1], opt.stepsize(9, rids))


def test_replica_subsets_equal_the_whole_run():
    whole = _run(replicas=8)
    parts = [_run(replica_ids=ids) for ids in ([0, 1, 2], [3, 4], [5, 6, 7])]
    for field in ("x", "value", "time", "momentum_norm"):
        assert np.array_equal(np.concatenate([getattr(t, field) for t in parts], axis=1), getattr(whole, field))


def test_the_hot_loop_validates_nothing_per_step():
    """Input checks run at the edge only: their count does not grow with the number of steps."""
    import problems

    counts = []
    for steps in (10, 200):
        p = problems.get("l1-regression", n=30, d=4)
        calls = {"_as_x": 0, "_as_idx": 0}
        for name in calls:
            original = getattr(p, name)

            def counted(*a, _original=original, _name=name, **k):
                calls[_name] += 1
                return _original(*a, **k)

            setattr(p, name, counted)
        stochopt.run(stochopt.heavy_ball(lr=0.01), p, steps=steps, replicas=4, batch_size=2, record_every=steps)
        counts.append(dict(calls))
    assert counts[0] == counts[1] and counts[0]["_as_idx"] == 1


def test_a_problem_whose_checks_refuse_a_second_call_runs():
    """The public (checked) oracle and value are called once, the unchecked paths every step after."""

    class Strict(TinyL1):
        checked = {"value": 0, "oracle": 0}

        def value(self, x):
            self.checked["value"] += 1
            assert self.checked["value"] == 1, "value checked twice"
            return super().value(x)

        def oracle(self, x, idx):
            self.checked["oracle"] += 1
            assert self.checked["oracle"] == 1, "oracle checked twice"
            return super().oracle(x, idx)

        def unchecked_value(self, x):
            return TinyL1.value(self, x)

        def unchecked_oracle(self, x, idx):
            return TinyL1.oracle(self, x, idx)

        def unchecked_grad(self, x):
            return TinyL1.grad(self, x)

    strict = stochopt.run(stochopt.sgd(lr=0.01), Strict(), steps=50, replicas=3, batch_size=2, record_every=5)
    plain = stochopt.run(stochopt.sgd(lr=0.01), TinyL1(), steps=50, replicas=3, batch_size=2, record_every=5)
    assert np.array_equal(strict.x, plain.x) and np.array_equal(strict.value, plain.value)


def test_every_registered_problem_runs_replica_alone_as_among_three():
    import problems

    for name in problems.names():
        p = problems.get(name)
        if p.dim > 200:
            continue
        batch = 2 if p.n_samples > 1 else None
        kw = dict(steps=6, seed=1, batch_size=batch, record_every=3, x0_radius=0.1)
        together = stochopt.run(stochopt.heavy_ball(lr=1e-3), p, replicas=3, **kw)
        alone = stochopt.run(stochopt.heavy_ball(lr=1e-3), p, replica_ids=[2], **kw)
        assert np.array_equal(together.x[:, 2], alone.x[:, 0], equal_nan=True), name


def test_a_checkpoint_between_records_loads_and_resumes(tmp_path):
    """A crash after a checkpoint written between two records: the file loads and resumes exactly."""
    path = tmp_path / "ck.npz"
    full = _run(replicas=2)

    def crash(k, state):
        if k == 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(replicas=2, checkpoint=path, checkpoint_every=15, callbacks=[crash])  # records every 10
    ck = stochopt.Trace.load(path)
    assert ck.final_state.k == 15 and ck.k.tolist() == [0, 10]
    resumed = _run(replicas=2, resume=ck)
    for field in ("k", "x", "value", "time", "momentum_norm"):
        assert np.array_equal(getattr(resumed, field), getattr(full, field)), field


def test_resuming_to_the_same_step_keeps_the_final_record():
    part = _run(replicas=2, steps=25)  # records 0, 10, 20, 25
    again = _run(replicas=2, steps=25, resume=part)
    assert again.k.tolist() == [0, 10, 20, 25] and np.array_equal(again.x, part.x)


def test_calls_split_over_threads_give_the_same_numbers(monkeypatch):
    """Large calls are split into slices of replicas computed in threads: bit for bit the same."""
    import problems
    from stochopt import problem_calls

    runs, split_calls = {}, []
    original = problem_calls._SplitRows.__call__
    monkeypatch.setattr(problem_calls._SplitRows, "__call__",
                        lambda self, x, idx=None: split_calls.append(1) or original(self, x, idx))
    for split in (False, True):
        monkeypatch.setattr(problem_calls, "MIN_SPLIT_VALUES", 1 if split else 2**62)
        monkeypatch.setenv("STOCHOPT_THREADS", "3")
        for name, kw, batch in [("l1-regression", dict(n=30, d=4), 3), ("relu-mlp", dict(hidden=(4,), n=20), 2),
                                ("chained-lq", dict(n=5), None)]:
            p = problems.get(name, **kw)
            t = stochopt.run(stochopt.heavy_ball(lr=0.01), p, steps=20, replicas=7, batch_size=batch,
                             record_every=5, x0_radius=0.1)
            runs[split, name] = t
    for name in ("l1-regression", "relu-mlp", "chained-lq"):
        a, b = runs[False, name], runs[True, name]
        assert np.array_equal(a.x, b.x) and np.array_equal(a.value, b.value), name
    assert len(split_calls) >= 3 * 19
    monkeypatch.setenv("STOCHOPT_THREADS", "zero")
    with pytest.raises(ValueError, match="STOCHOPT_THREADS"):
        problem_calls.threads_available()
