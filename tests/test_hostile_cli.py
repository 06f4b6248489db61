"""Issue 19, cases 27-34: the command line and the report never lose work nor damage files.

Each test is one case of the hostile-user list (the number in its name); every error is a usage
error (exit 2) detected before any claim or step runs, naming what to change.
"""
import json
import os
import stat
import threading

import pytest

from verify import registry
from verify.cli import main
from verify.registry import Claim, decide

CLAIM = "schedules.two-timescale.ratio"


@pytest.fixture
def counting_claim():
    """A cheap claim that counts its runs (so a test can assert that no work started)."""
    runs = []
    c = Claim("zzhostile.count", statement="s", source="test")

    @c.part("p", statistic="0; lower is good; threshold 1")
    def p(ctx):
        runs.append(ctx.seed)
        return decide(0, 1)

    @p.control(breaks="2 > 1")
    def p_control(ctx):
        return decide(2, 1)

    yield runs
    registry.unregister("zzhostile.count")


def test_case_27_run_plot_replaces_an_existing_plot_whole(tmp_path, capsys, monkeypatch):
    plot = tmp_path / "plot.png"
    plot.write_bytes(b"old plot")
    import matplotlib.figure

    def full_disk(self, *a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full_disk)
    assert main(["run", "sgd", "cb3", "--steps", "20", "--replicas", "2", "--plot", str(plot)]) == 1
    captured = capsys.readouterr()
    assert "final f median" in captured.out and "could not write the plot" in captured.err
    assert plot.read_bytes() == b"old plot"  # never left truncated
    assert sorted(os.listdir(tmp_path)) == ["plot.png"]


@pytest.mark.parametrize("target", ["/proc/rep", "afile"])
def test_case_28_29_unwritable_or_file_report_is_refused_before_any_work(tmp_path, capsys, counting_claim, target):
    if target == "afile":
        target = str(tmp_path / "afile")
        open(target, "w").write("keep me")
    assert main(["verify", "zzhostile.count", "--report", target, "--no-progress"]) == 2
    assert counting_claim == []
    err = capsys.readouterr().err
    assert target in err and ("not a directory" in err or "cannot write" in err)
    if target.endswith("afile"):
        assert open(target).read() == "keep me"


def test_case_30_empty_report_path_and_foreign_files_are_refused(tmp_path, capsys, counting_claim, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report.md").write_text("my own notes")
    assert main(["verify", "zzhostile.count", "--report", "", "--no-progress"]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["verify", "zzhostile.count", "--report", str(tmp_path), "--no-progress"]) == 2
    assert "no stochopt report wrote" in capsys.readouterr().err
    assert (tmp_path / "report.md").read_text() == "my own notes" and counting_claim == []
    # an earlier report of ours is replaced
    out = tmp_path / "rep"
    assert main(["verify", "zzhostile.count", "--report", str(out), "--no-progress"]) == 0
    assert main(["verify", "zzhostile.count", "--report", str(out), "--seed", "4", "--no-progress"]) == 0
    assert json.loads((out / "results.json").read_text())["seeds"] == [4]


@pytest.mark.parametrize("args", [["--seed", "-1"], ["--seed", "x"], ["--seeds", "5:2"], ["--seeds", "-3:2"]])
def test_case_31_bad_seed_is_a_usage_error_up_front(tmp_path, capsys, counting_claim, args):
    with pytest.raises(SystemExit) as exc:
        main(["verify", "zzhostile.count", "--report", str(tmp_path / "r"), *args])
    assert exc.value.code == 2 and counting_claim == []
    assert "seed" in capsys.readouterr().err


def test_case_32_concurrent_runs_into_one_directory_leave_one_whole_report(tmp_path, counting_claim):
    out = tmp_path / "rep"
    statuses = []

    def run(seed):
        statuses.append(main(["verify", "zzhostile.count", "--report", str(out), "--seed", str(seed),
                              "--no-progress"]))

    threads = [threading.Thread(target=run, args=(s,)) for s in (1, 2, 3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [0, 0, 0, 0]
    doc = json.loads((out / "results.json").read_text())
    seed = doc["seeds"][0]
    md = (out / "report.md").read_text()
    assert f"seed {seed} " in md  # report.md and results.json come from the same run
    assert not [n for n in os.listdir(tmp_path) if n.startswith((".tmp-", ".old-"))]


def test_case_33_plot_into_a_missing_directory_is_refused_before_the_run(capsys):
    assert main(["run", "sgd", "cb3", "--plot", "/nonexistent/x.png"]) == 2
    captured = capsys.readouterr()
    assert "does not exist" in captured.err and captured.out == ""


def test_case_34_every_replica_diverged_is_said_plainly(capsys):
    assert main(["run", "sgd", "cb2", "--lr", "1e6", "--steps", "50", "--replicas", "3"]) == 1
    out = capsys.readouterr().out
    assert "every replica diverged" in out and "smaller --lr" in out


def test_report_files_get_the_umask_mode(tmp_path, counting_claim):
    out = tmp_path / "rep"
    assert main(["verify", "zzhostile.count", "--report", str(out), "--no-progress"]) == 0
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(out / "results.json").st_mode) == 0o666 & ~mask
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o777 & ~mask
