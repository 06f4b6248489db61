"""Issue 19, engine side: bad input and faults a hostile or careless user tried, one row per case.

Each row asserts the clear error (its type, the parameter named, the accepted range) before any
work is spent, or the correct result; the fault rows also assert that nothing already on disk
was damaged. Rows are named ``case_NN`` after the issue's numbering.
"""
import json
import os
import socket
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

import problems
import stochopt
from stochopt import run_config, schedules as S, trace as trace_module


@pytest.fixture(scope="module")
def Q():
    return problems.get("quadratic", n=20, d=3)


def _fails(match, call, exc=ValueError):
    with pytest.raises(exc, match=match):
        call()


class CountingProblem:
    """Counts oracle calls: a bad input must be refused before the first one."""

    def __init__(self, base):
        self.base, self.calls = base, 0
        self.n_samples, self.x0, self.dim, self.name = base.n_samples, base.x0, base.dim, "counting"

    def value(self, x):
        return self.base.value(x)

    def oracle(self, x, idx):
        self.calls += 1
        return self.base.oracle(x, idx)


# ---------------------------------------------------------------------- schedules (2-6)
def _lr_from(k_bad, bad):
    return S.from_function(lambda k: 0.1 if k < k_bad else bad, key=f"bad from {k_bad}: {bad!r}")


@pytest.mark.parametrize("case, opt, replicas, match", [
    ("case_02", lambda: stochopt.sgd(lr=_lr_from(3, float("nan"))), 2,
     r"lr: the schedule gives nan at step k = 3; lr must be finite and in \(0, inf\)"),
    ("case_03", lambda: stochopt.sgd(lr=_lr_from(3, -0.1)), 2,
     r"lr: the schedule gives -0.1 at step k = 3; lr must be in \(0, inf\)"),
    ("case_04_five_values", lambda: stochopt.sgd(lr=_lr_from(3, np.full(5, 0.1))), 4,
     r"lr: the schedule gives an array of shape \(5,\) at step k = 3"),
    ("case_04_matrix", lambda: stochopt.sgd(lr=_lr_from(3, np.full((2, 2), 0.1))), 4,
     r"lr: the schedule gives an array of shape \(2, 2\) at step k = 3"),
    ("case_04_none", lambda: stochopt.sgd(lr=_lr_from(3, None)), 4, r"lr: the schedule failed at step k = 3"),
    ("case_05", lambda: stochopt.gsgd(lr=0.01, momentum_lr=S.coupled(S.warmup(S.constant(0.5), 10), tau=4.0)), 2,
     r"momentum_lr: the schedule gives 1.2 at step k = 5; momentum_lr must be in \(0, 1\]"),
    ("case_06", lambda: stochopt.gsgd(lr=0.01, momentum_lr=S.randomized(S.constant(0.9), 0.5, 1.5, seed=0)), 8,
     r"momentum_lr: the schedule gives 1.02\d* at step k = 0, replica 1; momentum_lr must be in \(0, 1\]"),
    ("case_06_lion", lambda: stochopt.lion(lr=0.01, betas=(S.randomized(S.constant(0.9), 0.5, 1.5, seed=0), 0.99)),
     8, r"beta1: the schedule gives 1.02\d* at step k = 0, replica 1; beta1 must be in \[0, 1\)"),
], ids=lambda v: v if isinstance(v, str) and v.startswith("case") else "")
def test_schedules_are_checked_for_every_step_before_the_run(Q, case, opt, replicas, match):
    p = CountingProblem(Q)
    _fails(match, lambda: stochopt.run(opt(), p, steps=40, replicas=replicas, batch_size=1))
    assert p.calls == 0


def test_case_02_a_schedule_checked_far_beyond_the_first_block(Q):
    """The check covers every step of the run, not only the first block."""
    p = CountingProblem(Q)
    _fails(r"lr: the schedule gives -0.1 at step k = 2999;",
           lambda: stochopt.run(stochopt.sgd(lr=_lr_from(2999, -0.1)), p, steps=3000, batch_size=1))
    assert p.calls == 0


def test_a_schedule_annealed_to_zero_is_accepted(Q):
    """cosine(..., final=0) reaches lr = 0 after total_steps: a legitimate schedule, not an error."""
    t = stochopt.run(stochopt.sgd(lr=S.cosine(0.1, total_steps=10, final=0.0)), Q, steps=20, record_every=5)
    assert t.hyper["lr"][-1, 0] == 0.0 and np.array_equal(t.x[-1], t.x[-2])


# ---------------------------------------------------------------------- run() (11-17)
RUN_CASES = [
    ("case_11", dict(seed=2**64), ValueError, r"seed must be an integer in \[0, 18446744073709551615\]"),
    ("case_12", dict(replica_ids=np.array([2**63], dtype=np.uint64)), ValueError,
     r"replica_ids must be .* integers in \[0, 9223372036854775807\]"),
    ("case_12_float", dict(replica_ids=[0.5]), TypeError, "replica_ids"),
    ("case_13", dict(callbacks=[3]), TypeError, r"callbacks\[0\] must be a function"),
    ("case_13_not_a_list", dict(callbacks=5), TypeError, "callbacks must be a list of functions"),
    ("case_17_other_type", dict(resume=3), TypeError, "resume must be a Trace .* or the path"),
    ("checkpoint_every_alone", dict(checkpoint_every=5), ValueError, "checkpoint_every needs checkpoint"),
    ("record_x_not_bool", dict(record_x="no"), TypeError, "record_x must be True or False"),
]


@pytest.mark.parametrize("case, kwargs, exc, match", RUN_CASES, ids=[c[0] for c in RUN_CASES])
def test_run_arguments_are_refused_before_any_step(Q, case, kwargs, exc, match):
    p = CountingProblem(Q)
    _fails(match, lambda: stochopt.run(stochopt.sgd(lr=0.1), p, steps=20, batch_size=2, **kwargs), exc)
    assert p.calls == 0


def test_case_13_callbacks_none_means_no_callbacks(Q):
    t = stochopt.run(stochopt.sgd(lr=0.1), Q, steps=4, callbacks=None, record_every=2)
    assert t.k.tolist() == [0, 2, 4]


def test_case_14_a_scalar_value_is_refused_before_the_steps(Q):
    class Scalar(CountingProblem):
        def value(self, x):
            return float(np.sum(self.base.value(x)))

    p = Scalar(Q)
    _fails(r"problem.value\(x\) must return one real value per replica, shape \(3,\)",
           lambda: stochopt.run(stochopt.sgd(lr=0.1), p, steps=10, replicas=3, batch_size=1))
    assert p.calls == 0


def test_case_15_a_problem_without_samples(Q):
    p = CountingProblem(Q)
    p.n_samples = 0
    _fails(r"problem.n_samples .* must be an integer in \[1, ",
           lambda: stochopt.run(stochopt.sgd(lr=0.1), p, steps=10, batch_size=3))
    assert p.calls == 0


@pytest.mark.parametrize("where", ["proc", "under_a_file", "a_directory", "empty"])
def test_case_16_checkpoint_destination_is_tried_before_the_run(Q, tmp_path, where):
    afile = tmp_path / "afile"
    afile.write_bytes(b"keep me")
    path = {"proc": "/proc/ck.npz", "under_a_file": str(afile / "ck.npz"), "a_directory": str(tmp_path),
            "empty": ""}[where]
    p = CountingProblem(Q)
    _fails("checkpoint", lambda: stochopt.run(stochopt.sgd(lr=0.1), p, steps=2000, batch_size=1,
                                              checkpoint=path, checkpoint_every=1000))
    assert p.calls == 0
    assert afile.read_bytes() == b"keep me" and sorted(os.listdir(tmp_path)) == ["afile"]


def test_case_17_resume_from_a_path(Q, tmp_path):
    full = stochopt.run(stochopt.sgd(lr=0.05), Q, steps=30, replicas=2, batch_size=1, record_every=5)
    stochopt.run(stochopt.sgd(lr=0.05), Q, steps=12, replicas=2, batch_size=1, record_every=5,
                 checkpoint=tmp_path / "run.npz")
    resumed = stochopt.run(stochopt.sgd(lr=0.05), Q, steps=30, replicas=2, batch_size=1, resume=tmp_path / "run.npz")
    assert np.array_equal(resumed.x, full.x) and np.array_equal(resumed.k, full.k)


# ---------------------------------------------------------------------- resume (18-22)
def test_case_18_default_record_every_follows_the_trace(Q):
    short = stochopt.run(stochopt.sgd(lr=0.05), Q, steps=1000, batch_size=1)  # record_every 2 by default
    longer = stochopt.run(stochopt.sgd(lr=0.05), Q, steps=2000, batch_size=1, resume=short)
    straight = stochopt.run(stochopt.sgd(lr=0.05), Q, steps=2000, batch_size=1, record_every=2)
    assert np.array_equal(longer.k, straight.k) and np.array_equal(longer.x, straight.x)


@pytest.mark.parametrize("other, match", [
    (lambda: problems.get("l1-regression", n=20, d=3, seed=1), r"problem_params=\{.*'seed': 1"),
    (lambda: problems.get("lasso", n=20, d=3), "problem='l1-regression', not 'lasso'"),
], ids=["other_seed", "other_class"])
def test_case_19_resume_on_another_problem(other, match):
    p = problems.get("l1-regression", n=20, d=3, seed=0)
    part = stochopt.run(stochopt.sgd(lr=0.05), p, steps=10, batch_size=1)
    _fails(f"resume: the trace was made with {match}",
           lambda: stochopt.run(stochopt.sgd(lr=0.05), other(), steps=20, batch_size=1, resume=part))


def test_case_19_an_impostor_with_the_same_name_is_caught_by_its_values(Q):
    class Impostor(CountingProblem):
        def __init__(self, base):
            super().__init__(base)
            self.name, self.params = base.name, base.params

        def value(self, x):
            return self.base.value(x) + 1.0

    part = stochopt.run(stochopt.sgd(lr=0.05), Q, steps=10, batch_size=1)
    _fails("differs from the recorded f",
           lambda: stochopt.run(stochopt.sgd(lr=0.05), Impostor(Q), steps=20, batch_size=1, resume=part))


def test_case_20_from_function_schedules_are_compared(Q):
    part = stochopt.run(stochopt.sgd(lr=S.from_function(lambda k: 0.05)), Q, steps=10, batch_size=1)
    _fails("resume: the trace was made with method=",
           lambda: stochopt.run(stochopt.sgd(lr=S.from_function(lambda k: 0.5)), Q, steps=20, batch_size=1,
                                resume=part))
    same = stochopt.run(stochopt.sgd(lr=S.from_function(lambda k: 0.05)), Q, steps=20, batch_size=1, resume=part)
    assert same.k[-1] == 20


def test_case_20_a_function_reading_an_opaque_object_warns(Q):
    class Scale:
        factor = 0.05

    scale = Scale()
    lr = S.from_function(lambda k: scale.factor)
    part = stochopt.run(stochopt.sgd(lr=lr), Q, steps=10, batch_size=1)
    with pytest.warns(UserWarning, match=r"read objects stochopt cannot compare: .*scale"):
        stochopt.run(stochopt.sgd(lr=lr), Q, steps=20, batch_size=1, resume=part)


def test_case_21_record_x_must_match(Q):
    part = stochopt.run(stochopt.sgd(lr=0.05), Q, steps=10, batch_size=1, record_x=False)
    _fails("record_x=False, not True",
           lambda: stochopt.run(stochopt.sgd(lr=0.05), Q, steps=20, batch_size=1, resume=part))


def test_case_22_steps_below_the_trace(Q):
    part = stochopt.run(stochopt.sgd(lr=0.05), Q, steps=30, batch_size=1)
    _fails("steps=10 is less than the trace's final step 30",
           lambda: stochopt.run(stochopt.sgd(lr=0.05), Q, steps=10, batch_size=1, resume=part))


# ---------------------------------------------------------------------- Trace.load (23-26)
@pytest.fixture
def saved(Q, tmp_path):
    path = tmp_path / "t.npz"
    stochopt.run(stochopt.heavy_ball(lr=0.05), Q, steps=50, replicas=4, batch_size=1, record_every=10).save(path)
    return path


def _rewrite(path, **members):
    """Copy the trace at ``path`` with some members replaced (raw .npy bytes, or arrays)."""
    with zipfile.ZipFile(path) as z:
        old = {n: z.read(n) for n in z.namelist()}
    for name, value in members.items():
        if isinstance(value, bytes):
            old[f"{name}.npy"] = value
        else:
            import io

            buf = io.BytesIO()
            np.save(buf, value, allow_pickle=False)
            old[f"{name}.npy"] = buf.getvalue()
    out = path.with_name("bad.npz")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in old.items():
            z.writestr(name, data)
    return out


def _header(path):
    with np.load(path) as data:
        return json.loads(str(data["header_json"]))


@pytest.mark.parametrize("case, header, match", [
    ("case_23_no_meta", lambda h: {k: v for k, v in h.items() if k != "meta"}, "no 'meta' object"),
    ("case_23_five", lambda h: 5, "not a 'stochopt-trace-1' header"),
    ("case_23_deep", lambda h: None, "not valid JSON"),
    ("steps_not_int", lambda h: {**h, "meta": {**h["meta"], "steps": "50"}}, r"meta\['steps'\] must be a int"),
], ids=lambda v: v if isinstance(v, str) and v.startswith(("case", "steps")) else "")
def test_case_23_headers_are_checked(saved, case, header, match):
    text = "[" * 100_000 + "]" * 100_000 if case == "case_23_deep" else json.dumps(header(_header(saved)))
    _fails(match, lambda: stochopt.Trace.load(_rewrite(saved, header_json=np.array(text))))


def test_case_24_an_npy_file(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(3))
    _fails(r"not a stochopt trace: not an .npz archive \(it is an .npy array file\)",
           lambda: stochopt.Trace.load(tmp_path / "x.npy"))


def test_case_25_final_k_must_be_the_last_recorded_integer_step(saved):
    _fails(r"'final_k' must have shape \(\) and a numeric dtype",
           lambda: stochopt.Trace.load(_rewrite(saved, final_k=np.array(2.5))))
    _fails("final_k = 3", lambda: stochopt.Trace.load(_rewrite(saved, final_k=np.array(3))))


def test_case_26_arrays_cut_to_fewer_replicas(saved):
    with np.load(saved) as data:
        x = data["x"][:, :3]
    _fails(r"array 'x' must have shape \(6, 4, 3\)", lambda: stochopt.Trace.load(_rewrite(saved, x=x)))


def test_case_26_a_small_file_declaring_a_huge_array_is_refused_before_allocating(saved):
    """A few kB on disk whose x.npy header declares 8 GB: refused from the header, nothing allocated."""
    huge = {"descr": "<f8", "fortran_order": False, "shape": (10_000, 100_000, 1)}
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, huge)
    bad = _rewrite(saved, x=buf.getvalue() + b"\0" * 4096)
    assert os.path.getsize(bad) < 100_000
    tracemalloc.start()
    try:
        _fails(r"array 'x' must have shape \(6, 4, 3\)", lambda: stochopt.Trace.load(bad))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_a_consistent_trace_larger_than_memory_is_refused(saved, monkeypatch):
    monkeypatch.setattr(trace_module, "available_memory", lambda: 100)
    monkeypatch.setattr("stochopt._trace_file.available_memory", lambda: 100)
    _fails("more than the .* GiB of memory available; refused before reading", lambda: stochopt.Trace.load(saved))


# ---------------------------------------------------------------------- problems (35)
@pytest.mark.parametrize("name, n", [("cb2", None), ("chained-cb3-1", 2)], ids=["case_35_cb2", "case_35_cb3"])
def test_case_35_clarke_with_an_overflowing_piece(name, n):
    p = problems.get(name) if n is None else problems.get(name, n=n)
    with np.errstate(over="ignore"):
        _fails(f"Clarke subdifferential of '{name}' at this x is not representable in float64",
               lambda: p.clarke(np.array([-400.0, 400.0])))


# ---------------------------------------------------------------------- resources (36-38)
@pytest.fixture
def sixteen_gib(monkeypatch):
    monkeypatch.setattr(run_config, "available_memory", lambda: 16 * 2**30)


@pytest.mark.parametrize("case, kwargs, problem", [
    ("case_36", dict(replicas=10**6), lambda: problems.get("quadratic", n=20, d=10)),
    ("case_37", dict(replicas=10**6, record_x=False), lambda: problems.get("quadratic", n=20, d=10)),
    ("case_38", dict(replicas=2, record_every=1), lambda: problems.get("maxq", n=10**7)),
], ids=["case_36", "case_37", "case_38"])
def test_memory_is_estimated_before_the_run(sixteen_gib, case, kwargs, problem):
    p = CountingProblem(problem())
    message = r"the run needs about [\d.]+ GiB .* and 16.00 GiB of memory is available. Record less often " \
              r"\(record_every > \d+\), skip the iterates \(record_x=False\), or run fewer replicas"
    _fails(message, lambda: stochopt.run(stochopt.heavy_ball(lr=0.01), p, steps=1000, batch_size=1, **kwargs))
    assert p.calls == 0


def test_a_run_near_the_memory_limit_warns(Q, monkeypatch):
    need = run_config.estimate_memory(run_config.make_config(stochopt.sgd(lr=0.1), Q, steps=100))["total"]
    monkeypatch.setattr(run_config, "available_memory", lambda: int(need * 1.5))
    with pytest.warns(UserWarning, match="the run needs about"):
        stochopt.run(stochopt.sgd(lr=0.1), Q, steps=100)


# ---------------------------------------------------------------------- files and divergence ("Also")
def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_also_stale_temporaries_of_ours_are_removed_on_the_next_save(saved):
    directory = saved.parent
    host = socket.gethostname()
    stale = directory / f".t.npz.{host}.{_dead_pid()}.0a1b2c3d.stochopt-tmp"
    alive = directory / f".t.npz.{host}.{os.getpid()}.0a1b2c3d.stochopt-tmp"
    foreign = directory / ".tmp-user-file.npz"
    for f in (stale, alive, foreign):
        f.write_bytes(b"partial")
    stochopt.Trace.load(saved).save(saved)
    assert not stale.exists() and alive.exists() and foreign.exists()


def test_also_saved_files_get_the_umask_mode(saved, tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    fresh = tmp_path / "fresh.npz"
    stochopt.Trace.load(saved).save(fresh)
    assert (os.stat(fresh).st_mode & 0o777) == (0o666 & ~umask)
    os.chmod(saved, 0o640)
    stochopt.Trace.load(saved).save(saved)  # replacing a file keeps its mode
    assert (os.stat(saved).st_mode & 0o777) == 0o640


def test_also_saving_through_a_symlink_writes_the_target(saved, tmp_path):
    link = tmp_path / "link.npz"
    link.symlink_to(saved)
    t = stochopt.Trace.load(saved)
    t.meta["note"] = "second save"
    t.save(link)
    assert link.is_symlink() and os.readlink(link) == str(saved)
    assert stochopt.Trace.load(saved).meta["note"] == "second save"


def test_also_data_and_directory_are_synced_around_the_rename(saved, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.path.isdir(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(a, b):
        events.append(("replace", None))
        return real_replace(a, b)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    stochopt.Trace.load(saved).save(saved)
    assert events == [("fsync", False), ("replace", None), ("fsync", True)]


def test_also_a_failed_checkpoint_mid_run_keeps_the_old_file_and_the_run(Q, tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    stochopt.run(stochopt.sgd(lr=0.05), Q, steps=10, batch_size=1, checkpoint=path)
    before = path.read_bytes()

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", full_disk)
    with pytest.warns(RuntimeWarning, match="could not be written at step 10"), pytest.raises(OSError) as info:
        stochopt.run(stochopt.sgd(lr=0.05), Q, steps=20, batch_size=1, checkpoint=path, checkpoint_every=10)
    assert info.value.trace.final_state.k == 20  # the work is handed back
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["ck.npz"]


def test_also_a_finite_iterate_with_infinite_value_is_flagged(Q):
    class Cliff(CountingProblem):
        def value(self, x):
            v = self.base.value(x)
            return np.where(np.arange(x.shape[0]) == 1, np.inf, v) if np.any(np.abs(x) > 0.05) else v

    t = stochopt.run(stochopt.sgd(lr=0.05), Cliff(Q), steps=40, replicas=3, batch_size=1, record_every=5)
    assert t.diverged.tolist() == [False, True, False]
    assert "f(x) is not finite" in t.diverged_reason[1]
    step = t.diverged_step[1]
    assert step % 5 == 0 and np.all(t.x[t.k >= step, 1] == t.x[t.k == step, 1])
    assert not np.array_equal(t.x[-1, 0], t.x[t.k == step, 0][0])
