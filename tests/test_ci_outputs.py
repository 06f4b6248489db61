"""CI outputs of `stochopt verify`: JUnit XML and drift against a baseline results.json (issue 16, part 3)."""
import json
import xml.etree.ElementTree as ET

import pytest

from verify import registry
from verify.ci import compare, junit_xml, load_baseline
from verify.cli import main
from verify.registry import Claim, decide

#: What the planted claims return: changed by the tests to plant a shift or a changed verdict.
KNOBS = {}


@pytest.fixture
def planted_claims():
    """zzci.good (two parts, verified), zzci.bad (its check fails), zzci.shifty (statistic from KNOBS)."""
    KNOBS.clear()
    KNOBS.update(shifty=0.5)
    made = []

    def claim(cid):
        made.append(cid)
        return Claim(cid, statement="s", source="test", sizes={"quick": {}, "full": {}})

    good = claim("zzci.good")
    for name in ("first", "second"):
        part = good.part(name, statistic="a number; lower is good; threshold 1")(lambda ctx: decide(0.5, 1.0))
        part.control(breaks="b")(lambda ctx: decide(2.0, 1.0))
    bad = claim("zzci.bad")
    part = bad.part("wrong", statistic="a number; lower is good; threshold 1")(
        lambda ctx: decide(3.0, 1.0, ci=(2.5, 3.5)))
    part.control(breaks="b")(lambda ctx: decide(2.0, 1.0))
    shifty = claim("zzci.shifty")
    part = shifty.part("moving", statistic="a number; lower is good; threshold 1")(
        lambda ctx: decide(KNOBS["shifty"], 1.0, ci=(KNOBS["shifty"] - 0.05, KNOBS["shifty"] + 0.05)))
    part.control(breaks="b")(lambda ctx: decide(2.0, 1.0))
    yield made
    for cid in made:
        registry.unregister(cid)


def test_the_junit_file_has_one_testcase_per_claim_and_part_and_the_right_failures(planted_claims, tmp_path,
                                                                                      capsys):
    xml_path = tmp_path / "ci" / "verify.xml"
    xml_path.parent.mkdir()
    code = main(["verify", "zzci", "--report", str(tmp_path / "rep"), "--junit-xml", str(xml_path), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1  # zzci.bad is not verified
    assert f"junit:   {xml_path}" in out
    root = ET.parse(xml_path).getroot()
    cases = root.iter("testcase")
    claims = [c for c in root.iter("testcase") if " :: " not in c.get("name")]
    parts = [c for c in cases if " :: " in c.get("name")]
    assert sorted(c.get("name") for c in claims) == ["zzci.bad", "zzci.good", "zzci.shifty"]
    assert len(parts) == 4 and {c.get("classname") for c in claims + parts} == {"zzci"}
    failed = [c for c in claims if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["zzci.bad"]
    message = failed[0].find("failure").get("message")
    assert message == ("zzci.bad not verified: seed 0, part 'wrong': check fail: statistic 3 [2.5, 3.5] <= threshold "
                       "1; control fail: statistic 2 <= threshold 1")
    part_failure = [c for c in parts if c.find("failure") is not None]
    assert len(part_failure) == 1
    assert part_failure[0].find("failure").get("message") == (
        "part 'wrong': check fail: statistic 3 [2.5, 3.5] <= threshold 1; control fail: statistic 2 <= threshold 1")
    assert root.get("tests") == "7" and root.get("failures") == "2" and root.get("errors") == "0"
    suite = root.find("testsuite")
    assert suite.get("name") == "zzci" and suite.get("failures") == "2"


def test_junit_marks_errors_and_not_applicable_parts():
    doc = {"claims": [{"id": "f.err", "family": "f", "status": "not verified", "ok": False, "elapsed_s": 0.1,
                       "problems": ["seed 0: p: CHECK RAISED AN ERROR"], "parts": [],
                       "by_seed": [{"seed": 0, "parts": [{"name": "p", "ok": False, "applicable": True,
                                                          "check": {"status": "error"},
                                                          "control": {"status": "fail", "statistic": 2.0}}]}]},
                      {"id": "f.na", "family": "f", "status": "not applicable", "ok": False, "elapsed_s": 0.0,
                       "problems": [], "parts": [{"check": {"details": {"reason": "uses no direction"}}}],
                       "by_seed": [{"seed": 0, "parts": [{"name": "q", "ok": False, "applicable": False,
                                                          "check": {"status": "not-applicable"},
                                                          "control": {"status": "not-applicable"}}]}]}]}
    root = ET.fromstring(junit_xml(doc))
    assert root.get("errors") == "2" and root.get("skipped") == "2" and root.get("failures") == "0"


def test_compare_flags_a_planted_shift_and_a_changed_verdict(planted_claims, tmp_path, capsys):
    base = tmp_path / "base"
    assert main(["verify", "zzci.good", "zzci.shifty", "--report", str(base), "--no-progress"]) == 0
    baseline = base / "results.json"
    capsys.readouterr()
    # the same run again: nothing moved
    assert main(["verify", "zzci.good", "zzci.shifty", "--report", str(tmp_path / "same"), "--compare",
                 str(baseline), "--no-progress"]) == 0
    assert "0 verdict(s) changed, 0 statistic(s) moved" in capsys.readouterr().out
    # a planted shift: still passing, but outside the baseline's interval [0.45, 0.55]
    KNOBS["shifty"] = 0.8
    code = main(["verify", "zzci.good", "zzci.shifty", "--report", str(tmp_path / "shift"), "--compare",
                 str(baseline), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "0 verdict(s) changed, 1 statistic(s) moved" in out
    assert "zzci.shifty: part 'moving' (check, seed 0): statistic 0.8 outside the baseline interval [0.45, 0.55]" in out
    doc = json.loads((tmp_path / "shift" / "results.json").read_text())
    assert [d["kind"] for d in doc["compare"]["drifts"]] == ["statistic"]
    # a changed verdict: exit status 1
    KNOBS["shifty"] = 1.5
    code = main(["verify", "zzci.good", "zzci.shifty", "--report", str(tmp_path / "verdict"), "--compare",
                 str(baseline), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1 and "VERDICT   zzci.shifty: verdict changed: verified -> not verified" in out
    assert "Drift from the baseline" in (tmp_path / "verdict" / "report.html").read_text()


def test_compare_without_an_interval_and_with_new_claims():
    base = {"mode": "quick", "claims": [{"id": "a.x", "status": "verified", "by_seed": [
        {"seed": 0, "parts": [{"name": "p", "check": {"statistic": 1.0, "ci": None}}]}]}]}
    same = json.loads(json.dumps(base))
    assert compare(same, base).drifts == []
    moved = json.loads(json.dumps(base))
    moved["claims"][0]["by_seed"][0]["parts"][0]["check"]["statistic"] = 1.0 + 1e-6
    moved["claims"].append({"id": "a.new", "status": "verified", "by_seed": []})
    moved["mode"] = "full"
    result = compare(moved, base)
    assert [d.kind for d in result.drifts] == ["statistic", "new"] and not result.verdict_changed
    assert "deterministic" in result.drifts[0].message and "full mode" in result.notes[0]


def test_bad_baselines_and_junit_paths_are_usage_errors_before_any_work(planted_claims, tmp_path, capsys):
    (tmp_path / "notjson.json").write_text("{")
    (tmp_path / "other.json").write_text('{"claims": 3}')
    for path, says in ((tmp_path / "missing.json", "cannot read"), (tmp_path / "notjson.json", "is not JSON"),
                       (tmp_path / "other.json", "not a stochopt results.json")):
        assert main(["verify", "zzci.good", "--report", str(tmp_path / "r"), "--compare", str(path)]) == 2
        assert says in capsys.readouterr().err
        with pytest.raises(ValueError, match=says):
            load_baseline(path)
    assert main(["verify", "zzci.good", "--report", str(tmp_path / "r"), "--junit-xml",
                 str(tmp_path / "no" / "dir" / "v.xml")]) == 2
    assert "--junit-xml: directory" in capsys.readouterr().err
    assert main(["verify", "zzci.good", "--report", str(tmp_path / "r"), "--junit-xml", str(tmp_path)]) == 2
    assert not (tmp_path / "r").exists()
