"""Lion claims: `stochopt verify lion --quick` end to end, the symbolic Lyapunov identities, and
the planted mistakes the claims must catch.

The generic "every registered claim passes and its control fails" test is tests/test_claims.py;
here the Lion family is run through the command line once and the report is read back.
"""
import importlib
import json

import numpy as np
import pytest

from verify.symbolic.lyapunov import framework_identity, lion_k_identity

lion_claims = importlib.import_module("verify.families.lion")

LION_IDS = {"lion.box-invariance", "lion.kkt-convergence", "lion.lyapunov-identity", "lion.lyapunov-flow",
            "lion.lyapunov-discrete", "lion.rate-exponent", "lion.l1-l2-ratio", "lion.implementation-identities"}


# ------------------------------------------------------------------ the command line, end to end
def test_stochopt_verify_lion_quick(tmp_path, capsys, monkeypatch):
    import verify
    from verify.cli import main

    main(["verify", "lion", "--quick", "--report", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    doc = json.loads((tmp_path / "results.json").read_text())
    claims = doc["claims"]
    if isinstance(claims, list):
        claims = {c["id"]: c for c in claims}
    assert LION_IDS <= set(claims), out
    for cid in LION_IDS:
        c = claims[cid]
        assert c["ok"], (cid, c["problems"])
        assert c["elapsed_s"] < 20.0, (cid, "quick mode is too slow")
    assert any(p.suffix == ".png" for p in (tmp_path / "figures").iterdir())
    # every figure of every Lion claim (check and control): a title, labelled axes, and a title line
    # saying what passing looks like
    for cid in sorted(LION_IDS):
        cl = verify.get_claim(cid)
        r = cl.run("quick", 0, render=False)
        assert cl.caption and "passing" in cl.caption.lower(), cl.id
        for which, verdict in (("check", r.parts[0].check), ("control", r.parts[0].control)):
            assert verdict.figures, (cl.id, which, "no figure")
            for item in verdict.figures:
                fig = item[0] if isinstance(item, tuple) else item
                assert fig._suptitle is not None and "pass" in fig._suptitle.get_text().lower(), (cl.id, which)
                assert fig.axes, (cl.id, which, "empty figure")
                for ax in fig.axes:
                    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel(), (cl.id, which)


# ------------------------------------------------------------------ symbolic identities
@pytest.mark.parametrize("kernel", ["generic", "generic_separable", "half_square", "log_cosh"])
def test_lion_k_lyapunov_identity_is_proved_symbolically(kernel):
    res = lion_k_identity(kernel)
    assert res.status == "proved", res.residual


def test_wrong_coefficient_is_disproved_symbolically():
    res = lion_k_identity("half_square", coefficient="wrong")
    assert res.status == "disproved"
    assert lion_k_identity("generic", dim=1, coefficient="wrong").status != "proved"


def test_framework_identity_is_proved_symbolically():
    assert framework_identity(dim=2, phi="quadratic").status == "proved"
    assert framework_identity(dim=3, phi="generic").status == "proved"
    with pytest.raises(ValueError, match="phi"):
        framework_identity(phi="cubic")
    with pytest.raises(ValueError, match="kernel"):
        lion_k_identity("sign")


# ------------------------------------------------------------------ planted mistakes and helpers
def test_discrete_increases_scale_like_eta_squared_and_the_wrong_coefficient_does_not():
    etas = np.array([0.04, 0.01])
    good = lion_claims._discrete_increases(etas, 8, 0, False, T=10.0)[0]
    bad = lion_claims._discrete_increases(etas, 8, 0, True, T=10.0)[0]
    keep = np.all(good > 0, axis=0)
    slope_good = np.median(np.log(good[0, keep] / good[1, keep])) / np.log(4.0)
    slope_bad = np.median(np.log(bad[0] / bad[1])) / np.log(4.0)
    assert slope_good > 1.6 and slope_bad < 1.3


def test_rate_values_constant_hyperparameters_stall():
    Ks = np.array([500, 2000])
    sched = lion_claims._rate_values(Ks, 4, 0, control=False)
    const = lion_claims._rate_values(Ks, 4, 0, control=True)
    assert np.mean(np.log(sched[1] / sched[0])) / np.log(4) < -0.15
    assert abs(np.mean(np.log(const[1] / const[0])) / np.log(4)) < 0.1


def test_identity_residuals_catch_a_moved_coefficient():
    rng = np.random.default_rng(0)
    good = lion_claims._identity_residuals(rng, 50, control=False)
    bad = lion_claims._identity_residuals(rng, 50, control=True)
    assert max(v[0].max() for v in good.values()) < 1e-10
    assert max(v[0].max() for v in bad.values()) > 1e-3


def test_discrete_claim_without_increases_is_inconclusive_not_pass(monkeypatch):
    # if H never increases the O(eta^2) bound holds trivially, but the orders are not measured:
    # the claim must not report that as a pass (nor as a fail)
    def no_increases(etas, R, seed, control, T):
        zeros = np.zeros((len(etas), R))
        return zeros, zeros, np.ones((len(etas), R)), {eta: np.zeros((3, R)) for eta in etas}

    monkeypatch.setattr(lion_claims, "_discrete_increases", no_increases)
    verdict = lion_claims.lyapunov_discrete.check("quick", 0)
    assert verdict.status == "inconclusive"
    assert verdict.figures
