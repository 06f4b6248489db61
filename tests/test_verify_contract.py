"""The claim contract: parts with their own controls, seeds, user objects, the runner and results."""
import pickle

import numpy as np
import pytest

import verify
from verify import registry
from verify.registry import Claim, Context, decide


@pytest.fixture
def make_claim():
    made = []

    def make(cid, **kw):
        kw.setdefault("statement", "s")
        kw.setdefault("source", "test")
        c = Claim(cid, **kw)
        made.append(cid)
        return c

    yield make
    for cid in made:
        registry.unregister(cid)


def _two_part_claim(make_claim, second_control_fails=True):
    c = make_claim("zzcontract.two", sizes={"quick": {"n": 3}, "full": {"n": 30}})

    @c.part("first", statistic="n-th power of 1/2; lower is good; threshold 2^-n")
    def first(ctx):
        return decide(0.5 ** ctx.size["n"], 2.0 ** -ctx.size["n"])

    @first.control(breaks="factor 2: grows")
    def first_control(ctx):
        return decide(2.0 ** ctx.size["n"], 2.0 ** -ctx.size["n"])

    @c.part("second", statistic="the seed parity; lower is good; threshold 0")
    def second(ctx):
        return decide(0.0, 0.0)

    @second.control(breaks="nothing broken (a useless control)" if not second_control_fails else "shift by 1")
    def second_control(ctx):
        return decide(1.0 if second_control_fails else 0.0, 0.0)

    return c


def test_a_claim_is_verified_only_when_every_part_passes_and_every_control_fails(make_claim):
    c = _two_part_claim(make_claim)
    r = c.run("quick", 0)
    assert r.ok and [p.name for p in r.parts] == ["first", "second"]
    assert all(p.check.status == "pass" and p.control.status == "fail" for p in r.parts)
    registry.unregister("zzcontract.two")
    bad = _two_part_claim(make_claim, second_control_fails=False)
    r = bad.run("quick", 0)
    assert not r.ok and r.parts[0].ok and not r.parts[1].ok
    assert r.problems == ["second: CONTROL PASSED: the part cannot tell right from wrong"]


def test_sizes_per_mode_reach_the_part(make_claim):
    c = _two_part_claim(make_claim)
    assert c.run("full", 0).parts[0].check.statistic == 0.5 ** 30
    with pytest.raises(ValueError, match="quick"):
        c.run("fast", 0)


def test_every_part_needs_a_statistic_and_a_control(make_claim):
    c = make_claim("zzcontract.bare")
    with pytest.raises(ValueError, match="statistic"):
        c.part("p", statistic="")(lambda ctx: decide(0, 1))
    p = c.part("p", statistic="words")(lambda ctx: decide(0, 1))
    with pytest.raises(ValueError, match="breaks"):
        p.control(breaks="")
    with pytest.raises(ValueError, match="no control"):
        c.run()
    p.control(breaks="b")(lambda ctx: decide(2, 1))
    with pytest.raises(ValueError, match="already has a control"):
        p.control(breaks="again")(lambda ctx: decide(2, 1))
    with pytest.raises(ValueError, match="duplicate part"):
        c.part("p", statistic="words")(lambda ctx: decide(0, 1))
    with pytest.raises(ValueError, match="uses"):
        c.part("q", statistic="words", uses=("problem",))


def test_bad_claim_metadata_is_refused(make_claim):
    with pytest.raises(ValueError, match="dotted"):
        Claim("nodot", statement="s", source="s")
    with pytest.raises(ValueError, match="statement"):
        Claim("zz.x", statement="", source="s")
    with pytest.raises(ValueError, match="sizes"):
        Claim("zz.y", statement="s", source="s", sizes={"fast": {}})
    make_claim("zzcontract.dup")
    with pytest.raises(ValueError, match="duplicate claim id"):
        Claim("zzcontract.dup", statement="s", source="s")


def test_an_experiment_that_raises_is_an_error_never_a_pass_or_fail(make_claim):
    c = make_claim("zzcontract.raises")

    @c.part("p", statistic="words")
    def p(ctx):
        raise RuntimeError("boom")

    @p.control(breaks="b")
    def p_control(ctx):
        return "not a verdict"

    r = c.run()
    assert r.parts[0].check.status == "error" and "boom" in r.parts[0].check.details["error"]
    assert r.parts[0].control.status == "error" and "not a Verdict" in r.parts[0].control.details["error"]
    assert not r.ok and "CHECK RAISED AN ERROR" in r.problems[0]


def test_seeds_every_seed_must_verify(make_claim):
    c = make_claim("zzcontract.seedy")

    @c.part("p", statistic="seed mod 3; lower is good; threshold 1")
    def p(ctx):
        return decide(ctx.seed % 3, 1)

    @p.control(breaks="b")
    def p_control(ctx):
        return decide(5, 1)

    res = verify.run_claims("zzcontract.seedy", seeds="0:4", progress=False)[0]
    assert res.seeds == [0, 1, 2, 3] and [s.ok for s in res.by_seed] == [True, True, False, True]
    assert not res.ok and res.status == "not verified" and res.problems[0].startswith("seed 2:")
    assert verify.run_claims("zzcontract.seedy", seeds=[0, 1, 3], progress=False)[0].ok
    assert verify.run_claims("zzcontract.seedy", seed=3, progress=False)[0].seeds == [3]


def test_figures_are_drawn_at_the_first_seed_only_and_rendered_to_png(make_claim):
    from verify.report import subplots

    c = make_claim("zzcontract.fig")

    @c.part("p", statistic="words")
    def p(ctx):
        figs = []
        if ctx.draw:
            fig, ax = subplots()
            ax.plot([0, 1], [0, 1])
            ax.set(title="t", xlabel="x", ylabel="y")
            figs = [(fig, "passing: a line")]
        return decide(0, 1, figures=figs)

    @p.control(breaks="b")
    def p_control(ctx):
        return decide(2, 1)

    res = verify.run_claims("zzcontract.fig", seeds="0:3", progress=False)[0]
    first, later = res.by_seed[0].parts[0].check, res.by_seed[1].parts[0].check
    assert len(first.figures) == 1 and first.figures[0].png[:4] == b"\x89PNG" and not later.figures
    assert first.figures[0].caption == "passing: a line"
    pickle.loads(pickle.dumps(res.by_seed))  # results cross processes


def test_user_objects_run_only_the_parts_that_use_them(make_claim):
    c = make_claim("zzcontract.user")
    seen = []

    @c.part("uses a direction", statistic="words", uses=("direction",))
    def p(ctx):
        seen.append(ctx.directions(["sign"]))
        return decide(0, 1)

    @p.control(breaks="b")
    def p_control(ctx):
        return decide(2, 1)

    @c.part("no direction", statistic="words")
    def q(ctx):
        return decide(0, 1)

    @q.control(breaks="b")
    def q_control(ctx):
        return decide(2, 1)

    assert c.run().ok and seen[-1] == ["sign"]
    r = verify.run_claims("zzcontract.user", direction="stochopt.directions:Identity", progress=False)[0]
    assert type(seen[-1][0]).__name__ == "Identity"
    assert r.ok and [p.applicable for p in r.parts] == [True, False]
    assert r.parts[1].check.status == "not-applicable"
    r = verify.run_claims("zzcontract.user", method=lambda lr, momentum_lr: None, progress=False)[0]
    assert not r.applicable and not r.ok and r.status == "not applicable"


def test_context_helpers():
    ctx = Context(mode="quick", seed=1, size={"a": 1}, draw=False)
    assert ctx.figures(("f", "c")) == [] and Context().figures(("f", "c")) == [("f", "c")]
    assert ctx.methods({"hb": 1}) == {"hb": 1}
    assert Context(method=len).methods({"hb": 1}) == {"user method": len}


@pytest.mark.parametrize("text", ["3:1", "-1", "a", "1:1", "0:x", ""])
def test_bad_seeds_are_refused(text):
    with pytest.raises(ValueError, match="seeds must be"):
        registry.parse_seeds(text)


def test_bad_user_specs_are_refused():
    from verify.overrides import resolve_direction, resolve_method

    with pytest.raises(ValueError, match="MODULE:NAME"):
        resolve_direction("no_colon")
    with pytest.raises(ValueError, match="cannot import"):
        resolve_direction("nonexistent_pkg_xyz:D")
    with pytest.raises(TypeError, match="Direction"):
        resolve_direction("numpy:pi")
    with pytest.raises(TypeError, match="factory"):
        resolve_method(np.pi)


def test_a_claims_own_module_registers_all_its_parts():
    """A worker imports only the claim's module (``run_task``): every part must be registered by it."""
    import subprocess
    import sys
    import textwrap

    expected = {c.id: [p.name for p in c.parts] for c in verify.claims()}
    script = textwrap.dedent("""
        import importlib, json, sys
        import verify
        from verify import registry
        out = {}
        for cid, module in json.loads(sys.argv[1]).items():
            registry._REGISTRY.clear()
            for name in [m for m in sys.modules if m.startswith("verify.families.")]:
                del sys.modules[name]
            importlib.import_module(module)
            out[cid] = [p.name for p in registry._REGISTRY[cid].parts]
        print(json.dumps(out))
    """)
    import json

    modules = json.dumps({c.id: c.module for c in verify.claims()})
    done = subprocess.run([sys.executable, "-c", script, modules], capture_output=True, text=True, check=True)
    alone = json.loads(done.stdout.strip().splitlines()[-1])
    missing = {cid: sorted(set(parts) - set(alone[cid])) for cid, parts in expected.items() if alone[cid] != parts}
    assert not missing, f"parts registered outside their claim's module (missing on a worker): {missing}"


def test_a_worker_refuses_a_claim_whose_parts_differ(make_claim):
    c = _two_part_claim(make_claim)
    task = registry.Task(c.id, "quick", 0, False, parts=("first",))
    with pytest.raises(RuntimeError, match="must import every module that adds parts"):
        registry.run_task(task)


def test_numerical_warnings_go_into_the_verdict_not_the_terminal(make_claim, recwarn):
    c = make_claim("zzcontract.overflow")

    @c.part("blows up", statistic="a number; lower is good; threshold 1")
    def check(ctx):
        np.exp(np.array([1000.0]))  # overflow: a RuntimeWarning
        return decide(0.0, 1.0)

    @check.control(breaks="nothing")
    def control(ctx):
        return decide(2.0, 1.0)

    r = c.run("quick", 0, draw=False)
    assert r.parts[0].check.details["numerical_warnings"] == ["RuntimeWarning: overflow encountered in exp"]
    assert "numerical_warnings" not in r.parts[0].control.details
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_task_without_a_result_is_reported_and_the_others_kept(make_claim, monkeypatch, tmp_path):
    """A task that raises outside its parts (or whose Dask worker died) becomes an error, not a crash."""
    c = _two_part_claim(make_claim)
    original = registry.run_task

    def dies_at_seed_1(task):
        if task.seed == 1:
            raise MemoryError("worker ran out of memory")
        return original(task)

    monkeypatch.setattr(registry, "run_task", dies_at_seed_1)
    (r,) = verify.run_claims([c.id], seeds="0:3", progress=False, report_dir=tmp_path / "report")
    assert [s.ok for s in r.by_seed] == [True, False, True] and not r.ok
    failed = r.by_seed[1].parts[0]
    assert failed.check.status == "error" and "MemoryError: worker ran out of memory" in failed.check.details["error"]
    assert (tmp_path / "report" / "results.json").exists()
