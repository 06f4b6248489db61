"""decide(), the registry, the meta-test with a useless claim, and the report files."""
import json
import os

import numpy as np
import pytest

import verify
from verify import registry
from verify.registry import Claim, Verdict, decide


def test_decide_sides():
    assert decide(0.01, 0.05).status == "pass"
    assert decide(0.2, 0.05).status == "fail"
    assert decide(0.04, 0.05, ci=(0.03, 0.07)).status == "inconclusive"
    assert decide(0.06, 0.05, ci=(0.04, 0.07)).status == "inconclusive"
    assert decide(0.07, 0.05, ci=(0.06, 0.08)).status == "fail"
    assert decide(0.9, 0.5, better="higher", ci=(0.8, 0.95)).status == "pass"
    assert decide(0.051, 0.05, tolerance=0.01).status == "pass"
    assert decide(float("nan"), 0.05).status == "inconclusive"
    assert decide(0, 0).status == "pass"
    with pytest.raises(ValueError, match="better"):
        decide(1, 2, better="smaller")
    with pytest.raises(ValueError, match="status"):
        Verdict("passed")


@pytest.fixture
def one_part_claim():
    """Register a throw-away claim with one part "main" whose check and control are ``fn(control)``."""
    added = []

    def register(cid, fn, breaks="nothing (a useless control)"):
        obj = Claim(cid, statement="s", source="test")
        main = obj.part("main", statistic="a number; lower is good; threshold 1")(lambda ctx: fn(False))
        main.control(breaks=breaks)(lambda ctx: fn(True))
        added.append(cid)
        return obj

    yield register
    for cid in added:
        registry.unregister(cid)


def test_useless_claim_is_flagged(one_part_claim):
    useless = one_part_claim("zzmeta.useless", lambda control: decide(0.0, 1.0))  # passes whatever is broken

    assert useless.family == "zzmeta"
    res = verify.run_claims("zzmeta", progress=False)
    assert len(res) == 1
    r = res[0]
    part = r.parts[0]
    assert part.check.status == "pass" and part.control.status == "pass" and not r.ok
    assert any("CONTROL PASSED" in p for p in r.problems)
    assert part.check.seeds == [0] and part.check.mode == "quick" and part.check.elapsed >= 0


def test_raising_claim_is_an_error(one_part_claim, tmp_path):
    def raises(control):
        if not control:
            raise RuntimeError("boom")
        return Verdict("fail", statistic=1.0, threshold=0.0)

    one_part_claim("zzmeta.raises", raises, breaks="-")
    res = verify.run_claims(["zzmeta.raises"], report_dir=tmp_path, progress=False)
    assert res[0].parts[0].check.status == "error" and "boom" in res[0].parts[0].check.details["error"]
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["summary"]["ok"] is False
    assert "CHECK RAISED AN ERROR" in (tmp_path / "report.md").read_text()


def test_duplicate_id_and_missing_control(one_part_claim):
    one_part_claim("zzmeta.once", lambda control: decide(0, 1))
    with pytest.raises(ValueError, match="duplicate"):
        Claim("zzmeta.once", statement="s", source="s")
    lonely = Claim("zzmeta.nocontrol", statement="s", source="s")
    try:
        lonely.part("main", statistic="s")(lambda ctx: decide(0, 1))
        with pytest.raises(ValueError, match="no control"):
            lonely.run("quick", 0, draw=False)
    finally:
        registry.unregister("zzmeta.nocontrol")


def test_prefix_matching_and_unknown_names():
    ids = [c.id for c in verify.claims("schedules")]
    assert ids and all(i.startswith("schedules.") for i in ids)
    assert [c.id for c in verify.claims(["schedules.polynomial"])] == [
        "schedules.polynomial.conditions", "schedules.polynomial.log-condition"]
    with pytest.raises(ValueError, match="Did you mean 'schedules'"):
        verify.claims("schedulez")
    with pytest.raises(ValueError, match="quick"):
        verify.run_claims("schedules", mode="fast")


def test_claim_modules_import():
    assert verify.load_errors() == {}


def test_report_artefacts(tmp_path):
    res = verify.run_claims(["schedules.two-timescale.ratio", "schedules.polynomial.conditions"], report_dir=tmp_path,
                            progress=False, seeds="0:2")
    assert all(r.ok for r in res)
    doc = json.loads((tmp_path / "results.json").read_text())
    assert {"versions", "created", "claims", "summary", "seeds", "mode", "format"} <= set(doc)
    assert {"stochopt", "numpy", "scipy", "sympy", "matplotlib", "python"} <= set(doc["versions"])
    assert doc["seeds"] == [0, 1] and doc["summary"]["ok"] is True
    for entry in doc["claims"]:
        for key in ("id", "statement", "source", "assumptions", "reconstructed", "ok", "parts", "by_seed"):
            assert key in entry
        assert [s["seed"] for s in entry["by_seed"]] == [0, 1] and all(s["ok"] for s in entry["by_seed"])
        for part in entry["parts"]:
            assert part["statistic"] and part["breaks"]
            assert part["check"]["status"] == "pass" and part["control"]["status"] == "fail"
            for fig in part["check"]["figures"] + part["control"]["figures"]:
                path = tmp_path / fig["file"]
                assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (tmp_path / "report.md").read_text()
    assert "| claim | verdict | parts | seeds | runtime |" in md and "schedules.two-timescale.ratio" in md
    assert "| part | statistic | check | control | control breaks |" in md and "**By seed**" in md
    assert "![" in md
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp")]


def test_verdict_details_are_jsonable():
    v = decide(np.float64(1.0), 2, details={"a": np.arange(3), "b": np.float32(2.5), "c": float("inf")})
    json.dumps(v.to_dict())
