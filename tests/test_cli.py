"""The stochopt command line: in-process (verify.cli.main) and through the installed script."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from verify.cli import main


def _check_report(directory):
    names = os.listdir(directory)
    assert "report.md" in names and "results.json" in names
    doc = json.loads(open(os.path.join(directory, "results.json")).read())
    assert doc["versions"]["stochopt"] and doc["created"]
    assert doc["claims"] and all(c["id"].startswith("schedules.") for c in doc["claims"])
    assert doc["mode"] == "quick"
    for c in doc["claims"]:
        assert {"id", "statement", "source", "ok", "status", "seeds", "elapsed_s", "parts", "by_seed"} <= set(c)
        assert c["ok"] and c["status"] == "verified"
        assert all(p["check"]["status"] == "pass" and p["control"]["status"] == "fail" for p in c["parts"])
    pngs = [n for n in os.listdir(os.path.join(directory, "figures")) if n.endswith(".png")]
    assert len(pngs) >= len(doc["claims"]) - 1
    return doc


def test_verify_in_process(tmp_path, capsys):
    status = main(["verify", "schedules", "--quick", "--report", str(tmp_path), "--seed", "3", "--workers", "1",
                   "--no-progress"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "claims verified" in out and "report.md" in out and "results.json" in out
    doc = _check_report(tmp_path)
    assert doc["seeds"] == [3] and all(c["seeds"] == [3] for c in doc["claims"])


def test_verify_seeds_range(tmp_path, capsys):
    status = main(["verify", "schedules.two-timescale", "--report", str(tmp_path), "--seeds", "2:5", "--no-progress"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "every seed 2..4" in out and "3/3" in out
    doc = _check_report(tmp_path)
    assert doc["seeds"] == [2, 3, 4]
    assert [s["seed"] for s in doc["claims"][0]["by_seed"]] == [2, 3, 4]


def test_verify_console_script(tmp_path):
    exe = shutil.which("stochopt") or os.path.join(os.path.dirname(sys.executable), "stochopt")
    if not os.path.exists(exe):
        pytest.skip("console script not installed (pip install -e .)")
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("DISPLAY", None)
    proc = subprocess.run([exe, "verify", "schedules.polynomial", "schedules.two-timescale", "--report",
                           str(tmp_path)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _check_report(tmp_path)


def test_unknown_names_list_close_matches(capsys):
    assert main(["verify", "schedulez", "--report", "unused"]) == 2
    assert "Did you mean 'schedules'" in capsys.readouterr().err
    assert main(["list", "problemz"]) == 2
    assert "Did you mean 'problems'" in capsys.readouterr().err
    assert main(["run", "heavy_bal", "l1-regression"]) == 2
    assert "Did you mean 'heavy_ball'" in capsys.readouterr().err


def test_list(capsys):
    assert main(["list", "claims"]) == 0
    assert "schedules.polynomial.conditions" in capsys.readouterr().out
    assert main(["list", "methods"]) == 0
    assert "heavy_ball" in capsys.readouterr().out


def test_list_problems_and_run(tmp_path, capsys):
    pytest.importorskip("problems")
    assert main(["list", "problems"]) == 0
    assert "l1-regression" in capsys.readouterr().out
    plot = tmp_path / "run.png"
    assert main(["run", "heavy_ball", "l1-regression", "--steps", "200", "--replicas", "3", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "final f median" in out and "Clarke distance" in out
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert main(["run", "sgd", "l1-regresion"]) == 2
    assert "l1-regression" in capsys.readouterr().err


def test_verify_exit_status_is_1_when_a_control_passes_or_a_check_fails(tmp_path, capsys):
    from verify import registry
    from verify.registry import Claim, decide

    def one_part(cid, fn):
        obj = Claim(cid, statement="s", source="test")
        main = obj.part("main", statistic="a number; lower is good; threshold 1")(lambda ctx: fn(False))
        main.control(breaks="nothing")(lambda ctx: fn(True))

    one_part("zzcli.useless", lambda control: decide(0.0, 1.0))  # the control passes too: the claim proves nothing
    one_part("zzcli.wrong", lambda control: decide(2.0, 1.0))  # the check fails

    try:
        for cid in ("zzcli.useless", "zzcli.wrong"):
            assert main(["verify", cid, "--report", str(tmp_path / cid), "--no-progress"]) == 1
            out = capsys.readouterr().out
            assert "NOT OK" in out
        assert "CONTROL PASSED" in (tmp_path / "zzcli.useless" / "report.md").read_text()
        doc = json.loads((tmp_path / "zzcli.wrong" / "results.json").read_text())
        assert doc["summary"]["ok"] is False and doc["claims"][0]["status"] == "not verified"
        assert doc["claims"][0]["parts"][0]["check"]["status"] == "fail"
    finally:
        registry._REGISTRY.pop("zzcli.useless", None)
        registry._REGISTRY.pop("zzcli.wrong", None)


def test_verify_defaults_quick_mode_and_report_in_stochopt_report(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["verify", "schedules.two-timescale", "--no-progress"]) == 0
    capsys.readouterr()
    doc = json.loads((tmp_path / "stochopt-report" / "results.json").read_text())
    assert doc["mode"] == "quick" and doc["seeds"] == [0]
    assert (tmp_path / "stochopt-report" / "report.md").exists()
    from verify.cli import _parser

    args = _parser().parse_args(["verify"])
    assert args.claims == [] and args.mode is None and args.report == "stochopt-report" and args.seed is None
