"""The lion claims (verify/families/lion/): declarations, the helpers behind their statistics, the
symbolic identities they rest on, and the seed sweep (slow).

Every claim's parts run at seed 0 in quick mode (check passes, control fails) in tests/test_claims.py;
here each claim is exercised where it can go wrong without rerunning the whole family.
"""
import pathlib

import numpy as np
import pytest

import stochopt
import verify
from verify.families.lion import box_invariance, lyapunov_discrete, sizes
from verify.registry import Context
from verify.symbolic.lyapunov import (
    framework_identity,
    lion_k_code_agreement,
    lion_k_coefficient_identity,
    lion_k_identity,
)

LION_IDS = {"lion.box-invariance", "lion.kkt-convergence", "lion.lyapunov-identity", "lion.lyapunov-flow",
            "lion.lyapunov-discrete", "lion.rate-exponent", "lion.l1-l2-ratio", "lion.implementation-identities"}
DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"


# ------------------------------------------------------------------ declarations
def test_every_lion_claim_is_registered_with_its_sizes_and_parts():
    claims = {c.id: c for c in verify.claims("lion")}
    assert set(claims) == LION_IDS
    for cid, cl in claims.items():
        assert set(cl.sizes) == {"quick", "full"}, cid
        assert cl.sizes["quick"] == sizes.SIZES[cid.split(".", 1)[1]]["quick"]
        for p in cl.parts:
            assert p.control_fn is not None and p.breaks and p.statistic, (cid, p.name)
            assert "threshold" in p.statistic and ("lower is good" in p.statistic or "higher is good" in p.statistic)


def test_the_docs_page_lists_every_claim_and_part():
    text = (DOCS / "claims" / "lion.md").read_text().replace("\\|", "|")    # table cells escape |
    for cl in verify.claims("lion"):
        assert f"`{cl.id}`" in text, cl.id
        for p in cl.parts:
            assert p.name in text, (cl.id, p.name)


# ------------------------------------------------------------------ statistics and their predictions
def test_box_control_violation_equals_the_predicted_algebra():
    ctx = Context(seed=3, size={"replicas": 32, "steps": 40, "dim": 4}, draw=False)
    out = box_invariance.run_box(ctx, ["sign"], (1.0 + 1e-3, 1.5))
    assert np.all(out["worst"] > 1e-3)
    assert np.max(np.abs(out["worst"] - out["predicted"])) < 1e-12
    ok = box_invariance.run_box(ctx, ["sign", "tanh"], (1e-4, 1.0))
    assert np.max(ok["worst"]) < 1e-12 and np.max(ok["predicted"]) <= 1e-12


def test_a_control_that_fails_by_another_amount_than_predicted_is_inconclusive():
    from verify.families.lion import implementation_identities as ids

    ctx = Context(seed=0, size={"replicas": 4}, draw=False)
    curve = np.array([0.0, 0.3, 0.5])
    assert ids._verdict(ctx, curve, "t", predicted=curve.copy()).status == "fail"
    assert ids._verdict(ctx, curve, "t", predicted=curve * (1 + 1e-6)).status == "inconclusive"
    worst = np.array([0.4, 0.9])
    out = {"worst": worst, "predicted": worst.copy()}
    assert box_invariance._control_verdict(ctx, out, "b").status == "fail"
    assert box_invariance._control_verdict(ctx, {**out, "predicted": worst + 1e-3}, "b").status == "inconclusive"


def test_l1_l2_networks_share_one_task_and_take_width_consistent_lion_steps():
    from verify.families.lion import l1_l2_ratio as claim

    nets = claim._problems(0, (8, 16, 32))
    assert all(np.array_equal(p.X, nets[0].X) and np.array_equal(p.y, nets[0].y) for p in nets)
    p = nets[2]
    s = claim.step_scale(p, 8)
    assert np.all(s[np.concatenate([p.blocks[0], p.blocks[1], p.blocks[3], p.blocks[5]])] == 1.0)
    assert np.all(s[p.blocks[2]] == 8 / 32) and np.all(s[p.blocks[4]] == 8 / 32)
    # Lion on u = x / s with gradient s * grad f is Lion with the per-coordinate step lr * s, exactly
    rng = np.random.default_rng(1)
    x0 = claim._init(p, rng, 2, dead=False)
    opt = stochopt.lion(lr=claim.LR, betas=(0.9, 0.99))
    state, x, m = opt.init(x0 / s), x0.copy(), np.zeros_like(x0)
    for _ in range(5):
        idx = rng.integers(0, p.n_samples, (2, 16))
        g = p.oracle(x, idx)
        state = opt.step(state, s * p.oracle(s * state.x, idx))
        x, m = x - claim.LR * s * np.sign(0.9 * m + 0.1 * g), 0.99 * m + 0.01 * g
        assert np.max(np.abs(s * state.x - x)) <= 1e-15 * np.max(np.abs(x))


def test_kkt_control_must_level_off_at_the_predicted_tanh_limit(monkeypatch):
    from verify.families.lion import kkt_convergence

    cl = verify.get_claim("lion.kkt-convergence")
    control = cl.run("quick", 0, draw=False).parts[0].control
    assert control.status == "fail" and control.details["limit_mismatch"] < 1e-6
    original = kkt_convergence._tanh_limit
    monkeypatch.setattr(kkt_convergence, "_tanh_limit", lambda problem: 0.9 * original(problem))
    assert cl.run("quick", 0, draw=False).parts[0].control.status == "inconclusive"


def test_discrete_part_without_increases_is_inconclusive_not_pass(monkeypatch):
    # if H never increases the O(eta^2) bound holds trivially but the order is not measured:
    # the part must say inconclusive (neither pass nor fail)
    def no_increases(seed, replicas, horizon, etas, wrong):
        zeros = np.zeros((len(etas), replicas))
        return zeros, zeros, {eta: np.zeros((3, replicas)) for eta in etas}

    monkeypatch.setattr(lyapunov_discrete, "increases", no_increases)
    cl = verify.get_claim("lion.lyapunov-discrete")
    result = cl.run("quick", 0, draw=False, parts="largest per-step increase is O(eta^2)")
    assert result.parts[0].check.status == "inconclusive"


def test_rate_claim_reports_the_exponent_and_its_reason():
    cl = verify.get_claim("lion.rate-exponent")
    result = cl.run("quick", 0, draw=False, parts="l1 gradient norm, no weight decay")
    check, control = result.parts[0].check, result.parts[0].control
    assert check.status == "pass" and control.status == "fail"
    assert "exponent_note" in check.details and set(check.details["exponent_in_K"]) == {4, 16, 64}
    # the control fails by at least the predicted period-2 floor
    assert control.statistic >= control.details["predicted_ratio_at_K_max_at_least"]


def test_rate_control_below_its_predicted_floor_is_inconclusive(monkeypatch):
    from verify.families.lion import rate_exponent

    original = rate_exponent._floor
    monkeypatch.setattr(rate_exponent, "_floor", lambda *a: 10.0 * original(*a))
    result = verify.get_claim("lion.rate-exponent").run("quick", 0, draw=False, parts="l1 gradient norm, no weight decay")
    assert result.parts[0].control.status == "inconclusive"


# ------------------------------------------------------------------ symbolic identities
@pytest.mark.parametrize("kernel", ["generic", "generic_separable", "half_square", "log_cosh"])
def test_lion_k_lyapunov_identity_is_proved_symbolically(kernel):
    res = lion_k_identity(kernel)
    assert res.status == "proved", res.residual


def test_wrong_coefficient_is_disproved_and_its_defect_is_proved():
    assert lion_k_identity("half_square", coefficient="wrong").status == "disproved"
    assert lion_k_identity("generic", dim=1, coefficient="wrong").status != "proved"
    assert lion_k_coefficient_identity("generic").status == "proved"
    assert lion_k_coefficient_identity("log_cosh", dim=1).status == "proved"


def test_sympy_expressions_are_the_code_that_runs(monkeypatch):
    assert lion_k_code_agreement("log_cosh", dim=2, points=5) < 1e-12
    assert lion_k_code_agreement("half_square", dim=3, coefficient="wrong", points=5) < 1e-12
    # the coefficient is read from verify.lion_theory by both: a moved coefficient moves both
    import verify.lion_theory as theory

    monkeypatch.setattr(theory, "correct_coefficient", lambda eps, gamma, lam: (1 - eps * lam) / (1 + eps * lam))
    assert lion_k_identity("half_square").status == "disproved"


def test_framework_identity_is_proved_symbolically():
    assert framework_identity(dim=2, phi="quadratic").status == "proved"
    assert framework_identity(dim=3, phi="generic").status == "proved"
    with pytest.raises(ValueError, match="phi"):
        framework_identity(phi="cubic")
    with pytest.raises(ValueError, match="kernel"):
        lion_k_identity("sign")


# ------------------------------------------------------------------ no lucky seed
@pytest.mark.slow
def test_every_lion_claim_is_verified_at_seeds_0_to_19_quick():
    results = verify.run_claims("lion", mode="quick", seeds="0:20", progress=False)
    problems = {r.claim.id: r.problems for r in results if not r.ok}
    assert not problems, problems
