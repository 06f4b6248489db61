"""The quasi-hyperbolic claims (verify/families/qh/): every part passes, every control fails by the predicted amount."""
import json

import numpy as np
import pytest

import verify
from verify.symbolic import converters as sc

EXPECTED = {
    "qh.converter.pid", "qh.converter.synthesized-nesterov", "qh.converter.robust-momentum",
    "qh.converter.triple-momentum", "qh.converter.accsgd", "qh.converter.two-state", "qh.converter.round-trips",
    "qh.converter.singular-inputs", "qh.special-cases.qhm", "qh.special-cases.qhadam", "qh.triple-momentum.rate",
    "qh.adam-step-bound", "qh.from-nadam.asymptotic",
}
CLAIMS = verify.claims("qh")


def test_qh_claims_are_registered_each_in_its_own_module():
    assert {c.id for c in CLAIMS} == EXPECTED
    assert len({c.module for c in CLAIMS}) == len(CLAIMS)
    for c in CLAIMS:
        assert c.sizes["quick"] is not None and "full" in c.sizes, c.id


@pytest.mark.parametrize("cl", CLAIMS, ids=[c.id for c in CLAIMS])
def test_parts_pass_and_controls_fail_by_the_predicted_amount(cl):
    result = cl.run("quick", 0, render=False)
    assert result.ok, result.problems
    for p in result.parts:
        assert len(p.check.figures) == 1, (cl.id, p.name, "one figure per part")
        details = p.control.details
        # every control states its prediction and met it (else it would be inconclusive, not failed)
        assert "prediction" in details or "predicted_failed" in details, (cl.id, p.name)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_a_control_that_misses_its_prediction_is_inconclusive():
    from types import SimpleNamespace

    from verify.families.qh import _common as C

    ctx = SimpleNamespace(draw=False)
    fails = C.predicted_control(ctx, 0.5, np.array([0.5]), np.array([0.5]), "t = 1")
    wrong_reason = C.predicted_control(ctx, 0.5, np.array([0.5]), np.array([0.3]), "t = 1")
    assert fails.status == "fail" and wrong_reason.status == "inconclusive"
    assert C.rounding_control(ctx, 1e-3, 1e8).status == "inconclusive"   # 1e-3 is not of order u * 1e8


def test_the_proof_part_fails_when_the_converter_code_differs_from_its_transcription(monkeypatch):
    from stochopt import qh

    original = qh.from_synthesized_nesterov
    monkeypatch.setattr(qh, "from_synthesized_nesterov",
                        lambda *a: {**original(*a), "lr": original(*a)["lr"] * (1 + 1e-9)})
    proof = sc.prove_synthesized_nesterov(seed=3)
    assert proof.failed == [sc.OBLIGATIONS[2]] and proof.numeric_agreement > 1e-10
    monkeypatch.undo()
    assert sc.prove_synthesized_nesterov(seed=3).status == "proved"   # the comparison with the code is not cached


def test_robust_momentum_target_is_written_independently_of_the_converter_code(monkeypatch):
    """A mistake in the coefficient code that converter and stochopt's target share is caught (the old claim
    compared the two and passed)."""
    from stochopt import qh
    from stochopt.qh import converters

    original = converters.robust_momentum_coefficients

    def wrong(l, kappa, rho=None):
        out = original(l, kappa, rho)
        return {**out, "c": out["c"] / out["rho"]}

    monkeypatch.setattr(converters, "robust_momentum_coefficients", wrong)
    monkeypatch.setattr(qh, "robust_momentum_coefficients", wrong)
    part = verify.get_claim("qh.converter.robust-momentum").run("quick", 0, draw=False, parts="gradient points y_k")
    errors = part.parts[0].check.details["max_relative_error"]
    assert part.parts[0].check.status == "fail"
    assert max(v for k, v in errors.items() if "stochopt.qh.robust_momentum" in k) <= 1e-12   # the shared code agrees
    assert max(v for k, v in errors.items() if "Cyrus" in k) > 1e-3                          # the paper's loop does not


def test_no_bias_correction_control_meets_its_prediction_at_the_largest_beta2(monkeypatch):
    """The first-step control assumes 1 - beta2^t = 1: true at t = 10^7 for every beta2 <= 0.9999 drawn
    (at t = 10^5, 0.9999^t = 4.5e-5 left a bias correction and the control was inconclusive at such draws)."""
    from verify.families.qh import special_cases_qhadam as claim

    original = claim._setup

    def largest_beta2(ctx):
        sources, x0, hp, rng = original(ctx)
        return sources, x0, {**hp, "beta2": np.full_like(hp["beta2"], 0.9999)}, rng

    monkeypatch.setattr(claim, "_setup", largest_beta2)
    result = verify.get_claim("qh.special-cases.qhadam").run(
        "quick", 0, draw=False, parts="the first step is lr g/(|g| + eps) for any nus")
    control = result.parts[0].control
    assert control.status == "fail", control.details
    assert control.details["prediction"]["mismatch"] < 1e-12


def test_triple_momentum_output_is_van_scoys_x_k():
    """qh.triple-momentum.rate measures the output buffer; any fixed combination of xi_k and xi_{k-1} converges at
    the same rate, so the rate cannot tell a wrong output: here the buffer is compared with Van Scoy et al.'s
    x_k = (1 + delta) xi_k - delta xi_{k-1} from the plain loop, iterate by iterate."""
    from stochopt import qh
    from verify.families.qh._targets import tm_loop

    rng = np.random.default_rng(7)
    L, kappa = rng.uniform(1.0, 2.0, 6), np.exp(rng.uniform(np.log(10.0), np.log(100.0), 6))
    lam = rng.uniform(0.1, 1.0, (6, 4))
    x0 = rng.standard_normal((6, 4))
    opt = qh.triple_momentum(L, kappa)
    state, outputs = opt.init(x0), [x0]
    for _ in range(60):
        state = opt.step(state, lam * state.x)
        outputs.append(state.output)
    expected = tm_loop(x0, lambda y, t: lam * y, 60, L, kappa, output=True)
    error = np.linalg.norm(np.stack(outputs) - expected, axis=-1) / np.linalg.norm(expected, axis=-1)
    assert np.max(error) <= 1e-12, np.max(error)


def test_stochopt_verify_qh_command_line(tmp_path, capsys):
    from verify.cli import main

    ids = ["qh.converter.round-trips", "qh.converter.singular-inputs"]
    status = main(["verify", *ids, "--quick", "--report", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "2/2 claims verified" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert all(cid in json.dumps(results) for cid in ids)


@pytest.mark.slow
@pytest.mark.parametrize("cl", CLAIMS, ids=[c.id for c in CLAIMS])
def test_verified_at_seeds_0_to_19_quick(cl):
    failures = {s: r.problems for s in range(20) if not (r := cl.run("quick", s, draw=False)).ok}
    assert not failures, failures
