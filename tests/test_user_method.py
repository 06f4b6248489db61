"""A user's own direction or method: assumptions first, then the claims (issue 16, part 1)."""
import json
import sys

import numpy as np
import pytest

import stochopt
import verify
from stochopt.directions import Direction
from verify import registry
from verify.cli import main
from verify.user import UserRun, direction_assumptions, method_assumptions

from user_claims import USER_MODULE, register_descent_claim

BUILTIN = ("identity", "sign", "normalized", "clip_norm", "clip_coord", "srsgd", "smooth_sign")
MODULE = "stochopt_user_example"


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A user module outside the package, importable from sys.path only."""
    pytest.importorskip("torch")
    folder = tmp_path / "user_code"
    folder.mkdir()
    (folder / f"{MODULE}.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    yield MODULE
    sys.modules.pop(MODULE, None)


@pytest.fixture
def descent_claim():
    cid = register_descent_claim("zzuser.descent")
    yield cid
    registry.unregister(cid)


# ------------------------------------------------------------------------- broken directions
class Backwards(Direction):
    name = "backwards_unit"

    def phi(self, m):
        return 0.5 * np.sum(m * m, axis=-1)

    def select(self, m):
        return -m


class SquareRoot(Direction):  # phi = sum sqrt|m_i|: concave on each half-line, select its derivative
    name = "sqrt_unit"

    def phi(self, m):
        return np.sum(np.sqrt(np.abs(m)), axis=-1)

    def select(self, m):
        return np.sign(m) / (2 * np.sqrt(np.abs(m)) + (m == 0))


class Shifted(Direction):  # phi(m) = ||m - c||^2 / 2: minimum at c, not at 0
    name = "shifted_unit"

    def phi(self, m):
        return 0.5 * np.sum((m - 0.5) ** 2, axis=-1)

    def select(self, m):
        return m - 0.5


class Mutating(Direction):
    name = "mutating_unit"

    def phi(self, m):
        return np.sum(np.abs(m), axis=-1)

    def select(self, m):
        m[...] = np.sign(m)
        return m


class Flattening(Direction):
    name = "flattening_unit"

    def phi(self, m):
        return np.sum(np.abs(m), axis=-1)

    def select(self, m):
        return np.sign(m).sum(axis=-1)


class NaNAtZero(Direction):  # normalized without the guard at m = 0
    name = "nan_unit"

    def phi(self, m):
        return np.linalg.norm(m, axis=-1)

    def select(self, m):
        return m / np.linalg.norm(m, axis=-1, keepdims=True)


class SelectOnly(Direction):
    name = "select_only_unit"

    def select(self, m):
        return m


@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_direction_satisfies_the_assumptions(name):
    report = direction_assumptions(stochopt.directions.get(name))
    assert report.ok, report.reason()
    assert all(c.status == "pass" and c.details["checks"] > 0 for c in report.checks)


@pytest.mark.parametrize("cls, violated, says", [
    (Backwards, ["subgradient", "unique-minimum"], "select is not a subgradient of phi: phi(y) < phi(m) + <s, y - m> at"),
    (SquareRoot, ["subgradient", "convex"], "phi is not convex along the segment from a = "),
    (Shifted, ["unique-minimum"], "phi does not have its unique minimum at 0: <select(m), m> = "),
    (Mutating, ["no-mutation"], "select(m) wrote into its input"),
    (Flattening, ["shapes"], "select(m) changes the shape"),
    (NaNAtZero, ["finite"], "select(m) is not finite at m = [0]"),
    (SelectOnly, ["subgradient"], "phi(m) is not implemented"),
])
def test_a_broken_direction_is_refused_naming_the_assumption(cls, violated, says):
    report = direction_assumptions(cls())
    assert not report.ok
    assert [c.name for c in report.violated] == violated
    assert says in report.reason()
    assert all(c.status in ("pass", "fail", "not-checked") for c in report.checks)


def test_the_assumption_report_is_reproducible_and_names_the_block():
    class WrongInBlocks(Direction):  # a correct Huber phi, but select ignores the block structure's clipping
        name = "wrong_blocks_unit"

        def phi(self, m):
            return self._per_block_sum(lambda n: np.where(n <= 1.0, 0.5 * n * n, n - 0.5), m)

        def select(self, m):
            return m

    a, b = direction_assumptions(WrongInBlocks()), direction_assumptions(WrongInBlocks())
    assert a.to_dict() == b.to_dict() and not a.ok
    assert "select is not a subgradient of phi" in a.reason()


# ------------------------------------------------------------------------- the command line
def test_a_valid_user_direction_runs_the_claims_and_is_verified(user_module, descent_claim, tmp_path, capsys):
    out = tmp_path / "rep"
    code = main(["verify", descent_claim, "--direction", f"{user_module}:PseudoHuber", "--report", str(out),
                 "--no-progress"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert text.index("assumptions of the direction") < text.index(descent_claim)  # the assumptions come first
    assert "all hold" in text and "1 not applicable" not in text
    doc = json.loads((out / "results.json").read_text())
    assert doc["user"]["direction"] == f"{user_module}:PseudoHuber" and doc["user"]["assumptions"]["ok"]
    claim = doc["claims"][0]
    assert claim["status"] == "verified"
    assert [p["applicable"] for p in claim["parts"]] == [True, False]  # the part without uses is not applicable
    for name in ("report.md", "report.html", "results.json"):
        assert str(out / name) in text


def test_a_broken_user_direction_is_refused_and_the_exit_status_is_not_zero(user_module, descent_claim, tmp_path,
                                                                            capsys):
    out = tmp_path / "rep"
    code = main(["verify", descent_claim, "--direction", f"{user_module}:Backwards", "--report", str(out),
                 "--no-progress"])
    text = capsys.readouterr().out
    assert code == 1
    assert "select is not a subgradient of phi: phi(y) < phi(m) + <s, y - m> at" in text
    doc = json.loads((out / "results.json").read_text())
    assert not doc["summary"]["ok"] and not doc["user"]["assumptions"]["ok"]
    claim = doc["claims"][0]
    assert claim["status"] == "not applicable" and not claim["ok"]
    assert "subgradient" in claim["parts"][0]["check"]["details"]["reason"]
    assert all(p["check"]["status"] == "not-applicable" for p in claim["parts"])
    assert "VIOLATED" in (out / "report.md").read_text()


def test_bad_user_specs_are_usage_errors_before_any_work(descent_claim, tmp_path, capsys):
    assert main(["verify", descent_claim, "--direction", "no_such_module_xyz:D", "--report",
                 str(tmp_path / "r")]) == 2
    assert "cannot import" in capsys.readouterr().err and not (tmp_path / "r").exists()
    assert main(["verify", descent_claim, "--method", "numpy:pi", "--report", str(tmp_path / "r")]) == 2
    with pytest.raises(SystemExit):
        main(["verify", "--direction", "a:b", "--method", "c:d"])


# ------------------------------------------------------------------------- Python API
def test_check_direction_returns_the_cli_result_objects(user_module, descent_claim):
    module = __import__(user_module)
    run = verify.check_direction(module.PseudoHuber(delta=0.5), claims=descent_claim)
    assert isinstance(run, UserRun) and run.ok and run.assumptions.ok
    assert isinstance(run.claims[0], registry.ClaimResult) and run.claims[0].status == "verified"
    broken = verify.check_direction(module.Backwards, claims=descent_claim)
    assert not broken.ok and broken.claims[0].status == "not applicable"
    assert [c.name for c in broken.assumptions.violated] == ["subgradient", "unique-minimum"]


def test_a_torch_sgd_subclass_gives_the_verdicts_of_the_builtin_heavy_ball(user_module, descent_claim):
    torch_run = verify.check_method(f"{user_module}:MySGD", claims=descent_claim)
    heavy_ball = verify.check_method("stochopt:heavy_ball", claims=descent_claim)
    statuses = [[(p.check.status, p.control.status) for p in r.parts] for r in (torch_run.claims[0],
                                                                                heavy_ball.claims[0])]
    assert statuses[0] == statuses[1] == [("pass", "fail"), ("not-applicable", "not-applicable")]
    assert torch_run.ok and heavy_ball.ok


def test_a_method_that_descends_but_forgets_its_schedule_fails_through_the_statistic(user_module, descent_claim):
    run = verify.check_method(f"{user_module}:forgets_schedule", claims=descent_claim)
    assert run.assumptions.ok and not run.ok
    part = run.claims[0].parts[0]
    assert part.check.status == "fail" and part.check.statistic > part.check.threshold


def _coupled_replicas(lr, momentum_lr):  # replicas share their mean gradient: not independent
    from stochopt.base import Method, hyper

    def rule(x, buffers, g, h, k):
        return x - h.lr * np.mean(g, axis=0, keepdims=True) * np.ones_like(x), {}

    return Method("coupled", rule, hyper(lr=(lr, stochopt._checks.POSITIVE)))


def _ascends(lr, momentum_lr):
    return stochopt.gsgd(lr=lr, momentum_lr=momentum_lr, direction=Backwards())


def _not_a_method(lr, momentum_lr):
    return "sgd"


def _writes_the_gradient(lr, momentum_lr):
    base = stochopt.gsgd(lr=lr, momentum_lr=momentum_lr)
    rule = base._rule

    def greedy(x, buffers, g, h, k):
        out = rule(x, buffers, g, h, k)
        g *= 0.0
        return out

    base._rule = greedy
    return base


@pytest.mark.parametrize("factory, violated", [
    (_coupled_replicas, "independent-replicas"), (_ascends, "descent-from-rest"), (_not_a_method, "factory"),
    (_writes_the_gradient, "no-mutation"),
])
def test_a_broken_method_is_refused_naming_the_contract(factory, violated):
    report = method_assumptions(factory)
    assert [c.name for c in report.violated] == [violated], report.lines()


def test_method_specs_of_every_kind():
    from verify.overrides import resolve_method

    assert method_assumptions("stochopt:heavy_ball").ok and not method_assumptions("stochopt:heavy_ball").notes
    adam = method_assumptions("stochopt:adam")
    assert adam.ok and "takes no momentum stepsize" in adam.notes[0]
    opt = resolve_method("stochopt:signum")(0.1, 0.25)
    assert opt.name == "signum" and float(opt.hyperparameters(0).momentum_lr) == pytest.approx(0.25, abs=1e-15)
    with pytest.raises(TypeError, match="torch.optim.Optimizer subclass"):
        resolve_method(dict)


# ------------------------------------------------------------------------- the torch adapter
def _framework_pair(first_step):
    torch = pytest.importorskip("torch")
    from stochopt.torch.as_method import as_method

    class MySGD(torch.optim.SGD):
        pass

    lr = np.array([0.1, 0.05, 0.2])
    theta = stochopt.schedules.coupled(stochopt.schedules.polynomial(0.3, b=1.0, p=0.5), 2.0, cap=0.9)
    ours = as_method(MySGD, first_step=first_step)(lr, theta)
    ref = stochopt.gsgd(lr=lr, momentum_lr=theta, m0=None if first_step == "zeros" else "first_grad")
    return ours, ref


@pytest.mark.parametrize("first_step", ["zeros", "torch"])
def test_as_method_equals_the_framework_iterate_by_iterate(first_step):
    ours, ref = _framework_pair(first_step)
    grads = np.random.default_rng(3).standard_normal((40, 3, 4))
    s, r = ours.init(np.ones(4)), ref.init(np.ones(4))
    for g in grads:
        s, r = ours.step(s, g), ref.step(r, g)
        assert np.max(np.abs(s.x - r.x)) <= 1e-12 * np.max(np.abs(r.x))
        assert np.max(np.abs(s.momentum_buffer - r.m)) <= 1e-12 * np.max(np.abs(r.m))


def test_as_method_is_pure_and_runs_each_replica_alone():
    torch = pytest.importorskip("torch")
    from stochopt.torch.as_method import as_method

    class Normalized(torch.optim.Optimizer):  # not elementwise: one norm per parameter tensor
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    p.sub_(group["lr"] * p.grad / p.grad.norm())

    opt = as_method(Normalized)(np.array([0.1, 0.2, 0.3, 0.4]), 1.0)
    ref = stochopt.normalized_sgd(lr=np.array([0.1, 0.2, 0.3, 0.4]))
    g = np.random.default_rng(0).standard_normal((4, 5))
    state = opt.init(np.zeros((4, 5)))
    once, twice = opt.step(state, g), opt.step(state, g)  # the same state stepped twice: the same result
    assert np.array_equal(once.x, twice.x) and np.array_equal(state.x, np.zeros((4, 5)))
    assert np.allclose(once.x, ref.step(ref.init(np.zeros((4, 5))), g).x, rtol=1e-12, atol=0)
    alone = as_method(Normalized)(np.array([0.3]), 1.0)
    assert np.array_equal(alone.step(alone.init(np.zeros((1, 5)), replica_ids=[2]), g[2:3]).x[0], once.x[2])


def test_as_method_refuses_what_it_cannot_drive():
    torch = pytest.importorskip("torch")
    from stochopt.torch.as_method import as_method

    with pytest.raises(TypeError, match="torch.optim.Optimizer subclass"):
        as_method(dict)
    with pytest.raises(ValueError, match="first_step"):
        as_method(torch.optim.SGD, first_step="later")


# ------------------------------------------------------------------------- end to end on the gsgd claims
def _gsgd_claims_using(kind):
    """The cheapest gsgd claim with a part that runs a user direction/method (None before they land)."""
    using = [c for c in verify.claims("gsgd") if any(kind in p.uses for p in c.parts)]
    if not using:
        return None
    preferred = [c for c in using if c.id == "gsgd.random-stepsizes.clarke"]
    return (preferred or using)[0].id


def test_gsgd_claims_run_on_a_user_direction_and_refuse_a_broken_one(user_module, tmp_path, capsys):
    cid = _gsgd_claims_using("direction")
    if cid is None:
        pytest.skip("no gsgd claim declares uses=('direction',) on this branch yet (the gsgd rewrite has not landed)")
    run = verify.check_direction(f"{user_module}:PseudoHuber", claims=cid)
    assert run.assumptions.ok and run.ok, [r.problems for r in run.claims]
    code = main(["verify", cid, "--direction", f"{user_module}:Backwards", "--report", str(tmp_path / "r"),
                 "--no-progress"])
    assert code == 1 and "select is not a subgradient of phi" in capsys.readouterr().out
    doc = json.loads((tmp_path / "r" / "results.json").read_text())
    assert doc["claims"][0]["status"] == "not applicable"


@pytest.mark.slow
def test_gsgd_verdicts_of_a_torch_sgd_subclass_equal_the_builtin_heavy_ball(user_module):
    cid = _gsgd_claims_using("method")
    if cid is None:
        pytest.skip("no gsgd claim declares uses=('method',) on this branch yet (the gsgd rewrite has not landed)")
    runs = [verify.check_method(spec, claims=cid) for spec in (f"{user_module}:MySGD", "stochopt:heavy_ball")]
    verdicts = [[(p.name, p.check.status, p.control.status) for p in r.claims[0].parts] for r in runs]
    assert verdicts[0] == verdicts[1]
    assert runs[0].claims[0].status == runs[1].claims[0].status


def test_the_docs_example_runs():
    """docs/your-method.md: the direction module and its assumption check (the claims themselves take minutes)."""
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "your-method.md").read_text()
    module, check = re.findall(r"```python\n(.*?)\n```", text, re.S)[:2]
    namespace = {"__name__": "mydirs"}
    exec(compile(module + "\n" + check, "docs/your-method.md", "exec"), namespace)
    assert namespace["report"].ok and not namespace["broken"].ok
