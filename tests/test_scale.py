"""Distribution changes nothing: one process and a real local Dask cluster give the same results.

The cluster is a ``dask.distributed.LocalCluster`` of 2 worker processes on 127.0.0.1, started
by the test. Skipped (saying why) only where the dask extra is not installed.
"""
import json
import os
import sys

import pytest

from verify.cli import main

CLAIMS = ["schedules.two-timescale.ratio", "schedules.polynomial.conditions"]


def canonical(doc):
    """results.json without what legitimately differs between runs: clock times and the executor."""
    if isinstance(doc, dict):
        return {k: canonical(v) for k, v in doc.items() if k not in ("created", "elapsed_s", "executor")}
    if isinstance(doc, list):
        return [canonical(v) for v in doc]
    return doc


def _report(directory):
    doc = json.loads((directory / "results.json").read_text())
    figures = {name: (directory / "figures" / name).read_bytes() for name in os.listdir(directory / "figures")}
    return doc, figures


@pytest.fixture(scope="module")
def local_cluster_report(tmp_path_factory):
    pytest.importorskip("distributed", reason="the dask extra is not installed (pip install 'stochopt[dask]')")
    out = tmp_path_factory.mktemp("dask") / "rep"
    status = main(["verify", *CLAIMS, "--seeds", "0:3", "--workers", "2", "--report", str(out), "--no-progress"])
    return status, out


def test_verify_on_a_local_dask_cluster_equals_one_process(tmp_path, local_cluster_report, capsys):
    status, dask_dir = local_cluster_report
    assert status == 0
    assert main(["verify", *CLAIMS, "--seeds", "0:3", "--report", str(tmp_path / "one"), "--no-progress"]) == 0
    capsys.readouterr()
    one, one_figs = _report(tmp_path / "one")
    many, many_figs = _report(dask_dir)
    assert canonical(one) == canonical(many)  # statistics bit for bit, same order
    assert one_figs == many_figs
    assert many["executor"]["backend"] == "dask-local" and many["executor"]["workers"] == 2
    assert {"numpy", "simd", "blas"} <= set(many["executor"]["fingerprints"][0])


def test_missing_dask_gives_the_install_hint(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert main(["verify", CLAIMS[0], "--workers", "2", "--report", str(tmp_path / "r"), "--no-progress"]) == 2
    assert 'pip install "stochopt[dask]"' in capsys.readouterr().err
    # everything else still works without it
    assert main(["verify", CLAIMS[0], "--report", str(tmp_path / "r"), "--no-progress"]) == 0


def test_unreachable_scheduler_is_a_clear_error(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    from verify import executors

    monkeypatch.setattr(executors.RemoteDask.__init__, "__defaults__", (2.0,))  # do not wait 30 s here
    assert main(["verify", CLAIMS[0], "--scheduler", "tcp://127.0.0.1:9", "--report", str(tmp_path / "r"),
                 "--no-progress"]) == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["0", "-2", "two"])
def test_bad_worker_count_is_a_usage_error(bad, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["verify", CLAIMS[0], "--workers", bad])
    assert exc.value.code == 2 and "integer >= 1" in capsys.readouterr().err


# ----------------------------------------------------------------------------- sweeps on Dask
def _kill_worker_once(marker, fn, task):
    """Runs on a worker: the first task to get here kills its worker process mid-run."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return fn(task)
    os.close(fd)
    os._exit(1)


class _KillingExecutor:
    def __init__(self, inner, marker):
        self.inner, self.marker = inner, marker

    def map(self, fn, tasks, on_done=None):
        import functools

        return self.inner.map(functools.partial(_kill_worker_once, self.marker, fn), tasks, on_done)


def test_sweep_on_dask_with_a_killed_worker_equals_one_process(tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is not installed (pip install 'stochopt[dask]')")
    import numpy as np

    from verify.executors import LocalDask
    from verify.sweep import run_sweep

    from test_sweep import SPEC

    spec = SPEC.replace('statistics = ["f_gap"', 'points_per_task = 2\nstatistics = ["f_gap"')
    one = run_sweep(spec, tmp_path / "one", progress=False)
    with LocalDask(workers=2) as ex:
        many = run_sweep(spec, tmp_path / "dask", executor=_KillingExecutor(ex, str(tmp_path / "killed")),
                         progress=False)
    assert os.path.exists(tmp_path / "killed")  # a worker really died mid-run
    assert many.ok and many.computed == one.computed == 6
    for name in one.arrays:
        np.testing.assert_array_equal(one.arrays[name], many.arrays[name], err_msg=name)


def test_a_long_run_uses_every_core_by_default(tmp_path, monkeypatch, capsys):
    from verify import executors

    monkeypatch.setattr(executors, "usable_cores", lambda: 2)
    monkeypatch.setattr(executors, "AUTO_MIN_TASKS", 4)
    assert main(["verify", *CLAIMS, "--seeds", "0:2", "--report", str(tmp_path / "auto"), "--no-progress"]) == 0
    assert "local Dask cluster, one worker per core" in capsys.readouterr().err
    doc = json.loads((tmp_path / "auto" / "results.json").read_text())
    assert doc["executor"]["backend"] == "dask-local" and doc["executor"]["workers"] == 2
    # below the threshold, with --workers 1, or without Dask: in this process
    assert type(executors.make_executor(tasks=3)).__name__ == "InProcess"
    assert type(executors.make_executor(workers=1, tasks=100)).__name__ == "InProcess"
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert type(executors.make_executor(tasks=100)).__name__ == "InProcess"
