"""Sweeps (issue 15): specs validated up front, resumable tasks, corrupt files recomputed, the
same results whatever the split (the Dask case is in tests/test_scale.py)."""
import json
import os

import numpy as np
import pytest

from verify.cli import main
from verify.sweep import SpecError, parse_spec, plan, run_sweep
from verify.sweep import run as sweep_run

SPEC = '''
[sweep]
name = "tiny"
seeds = "0:2"
replicas = 3
steps = 60
record_every = 20
x0_radius = 0.3
statistics = ["f_gap", "clarke_distance", "momentum_norm", "lyapunov_increase_share", "diverged"]

[statistics]
clarke_tol = [1e-9, 0.01]

[problem]
name = "crescent"

[method]
name = "gsgd"
direction = "sign"
lr = { type = "polynomial", a = "$lr0", b = 10.0, p = 1.0 }
momentum_lr = { type = "coupled", schedule = { type = "polynomial", a = "$lr0", b = 10.0, p = 1.0 }, tau = "$tau", cap = 1.0 }

[grid]
lr0 = [0.01, 0.05]
tau = [0.5, 2.0, 8.0]

[figures.share]
kind = "heatmap"
statistic = "lyapunov_increase_share"
x = "tau"
y = "lr0"
conditions = "tau * lr0 <= 1"

[figures.line]
kind = "line"
statistic = "f_gap"
x = "tau"
hue = "lr0"
'''


def _arrays(result):
    return {k: np.asarray(v) for k, v in result.arrays.items()}


def _same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    return run_sweep(SPEC, out, progress=False)


def test_outputs(reference):
    out = reference.out
    doc = json.loads(open(os.path.join(out, "sweep.json")).read())
    assert doc["axes"] == ["lr0", "tau"] and doc["seeds"] == [0, 1] and doc["fingerprints"]
    with np.load(os.path.join(out, "sweep.npz"), allow_pickle=False) as data:
        assert data["f_gap"].shape == (2, 6, 4, 3)               # seeds, points, records, replicas
        assert data["clarke_distance"].shape == (2, 6, 2, 4, 3)  # ... tol axis
        assert data["lyapunov_increase_share"].shape == (2, 6, 3)
        assert data["grid__tau"].tolist() == [0.5, 2.0, 8.0] and data["k"].tolist() == [0, 20, 40, 60]
    for fig in doc["figures"]:
        assert open(os.path.join(out, fig["file"]), "rb").read(4) == b"\x89PNG"
    assert reference.computed == 2 and reference.skipped == 0  # lr0 x tau vectorised: one task per seed


def test_split_into_one_point_per_task_is_bit_identical(reference, tmp_path):
    split = run_sweep(SPEC.replace('statistics = ["f_gap"', 'points_per_task = 1\nstatistics = ["f_gap"'),
                      tmp_path, progress=False)
    assert split.computed == 12
    _same(_arrays(reference), _arrays(split))


def test_a_failing_task_is_reported_and_a_rerun_completes_without_recomputing(reference, tmp_path, monkeypatch):
    calls = []
    real = sweep_run.run_task

    def flaky(task):
        calls.append(task.key)
        if task.seed == 1 and calls.count(task.key) == 1:
            raise_here = sweep_run.TaskOutcome(task.key, error="Traceback: RuntimeError: worker lost")
            return raise_here
        return real(task)

    import verify.sweep as sweep_pkg

    monkeypatch.setattr(sweep_pkg, "run_task", flaky)
    first = run_sweep(SPEC, tmp_path, progress=False)
    assert not first.ok and len(first.failures) == 1 and first.failures[0]["seed"] == 1
    assert "worker lost" in first.failures[0]["traceback"] and first.failures[0]["spec"]["run"]["seed"] == 1
    assert os.path.exists(tmp_path / "failures.json") and not os.path.exists(tmp_path / "sweep.npz")
    second = run_sweep(SPEC, tmp_path, progress=False)
    assert second.ok and second.computed == 1 and second.skipped == 1  # the finished task is reused
    assert len(calls) == 3
    _same(_arrays(reference), _arrays(second))
    assert not os.path.exists(tmp_path / "failures.json")


def test_a_corrupt_task_file_is_recomputed_never_merged(reference, tmp_path):
    run_sweep(SPEC, tmp_path, progress=False)
    files = sorted(os.listdir(tmp_path / "tasks"))
    path = tmp_path / "tasks" / files[0]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    (tmp_path / "tasks" / files[1]).write_bytes(b"not an npz")
    again = run_sweep(SPEC, tmp_path, progress=False)
    assert again.computed == 2 and again.skipped == 0
    _same(_arrays(reference), _arrays(again))


@pytest.mark.parametrize("edit, message", [
    (('name = "gsgd"', 'name = "gsdg"'), ":18: [method] name: unknown method 'gsdg'"),
    (('name = "crescent"', 'name = "cresent"'), ":15: [problem] name: unknown problem 'cresent'"),
    (('direction = "sign"', 'direction = "sign"\nmomentum = 0.5'), ":20: [method] momentum: gsgd has no hyperparameter"),
    (('"diverged"]', '"divergence"]'), ":9: [sweep] statistics: unknown statistic 'divergence'"),
    (("lr0 = [0.01, 0.05]", "lr0 = [0.01, -0.05]"),
     ":24: [grid] lr0: value -0.05 (used by [method] lr, momentum_lr) is refused: a must be in (0, inf)"),
    (('direction = "sign"', 'direction = "sine"'), ":19: [method] direction: unknown direction"),
    (("tau = [0.5, 2.0, 8.0]", "tau = []"), ":25: [grid] tau: a grid axis is a non-empty list"),
    (("tau = [0.5, 2.0, 8.0]", "tau = [0.5, 2.0, 8.0]\nbeta = [1.0]"), ":26: [grid] beta: grid axis 'beta' is not used"),
    (('a = "$lr0", b = 10.0, p = 1.0 }\nmomentum_lr', 'a = "$lr1", b = 10.0, p = 1.0 }\nmomentum_lr'),
     "$lr1 is used but [grid] has no axis 'lr1'"),
    (("replicas = 3", "replicas = 0"), ":5: [sweep] replicas: must be an integer >= 1"),
    (('seeds = "0:2"', 'seeds = "2:0"'), ":4: [sweep] seeds: seeds must be"),
    (('x = "tau"\ny = "lr0"', 'x = "tau"\ny = "lr"'), "[figures] share: y = 'lr' is not a grid axis"),
    (('conditions = "tau * lr0 <= 1"', 'conditions = "__import__(1)"'), "conditions: only arithmetic"),
])
def test_bad_specs_are_refused_before_any_task_naming_key_and_line(edit, message, tmp_path):
    text = SPEC.replace(*edit)
    assert text != SPEC
    with pytest.raises(SpecError) as exc:
        run_sweep(text, tmp_path / "out", progress=False)
    assert message in str(exc.value)
    assert not os.path.exists(tmp_path / "out")


def test_empty_grid_and_missing_sections(tmp_path):
    with pytest.raises(SpecError, match="the grid is empty"):
        parse_spec(SPEC.split("[grid]")[0] + "[grid]\n")
    with pytest.raises(SpecError, match=r"missing section \[problem\]"):
        parse_spec(SPEC.replace("[problem]", "[problemz]"))
    with pytest.raises(SpecError, match="not valid TOML"):
        parse_spec("[sweep\n")


def test_plan_covers_every_point_once_per_seed():
    spec = parse_spec(SPEC)
    tasks = plan(spec)
    for seed in spec.seeds:
        pts = sorted(p for t in tasks if t.seed == seed for p in t.points)
        assert pts == list(range(6))
    ids = [i for t in tasks if t.seed == 0 for i in t.spec["run"]["replica_ids"]]
    assert ids == list(range(18))


def test_command_line(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "2 task(s) computed" in out and "sweep.npz" in out
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    assert "0 task(s) computed, 2 reused" in capsys.readouterr().out
    spec.write_text(SPEC.replace('name = "crescent"', 'name = "cresent"'))
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o2"), "--no-progress"]) == 2
    assert "unknown problem" in capsys.readouterr().err


@pytest.mark.parametrize("path", sorted(os.listdir(os.path.join(os.path.dirname(__file__), "..", "examples", "sweeps"))))
def test_example_specs_are_valid(path):
    spec_path = os.path.join(os.path.dirname(__file__), "..", "examples", "sweeps", path)
    from verify.sweep import load_spec
    from verify.sweep import _validate_tasks

    spec = load_spec(spec_path)
    _validate_tasks(spec, plan(spec))
    assert spec.figures
