"""The schedules claims (verify/families/schedules/): every proof is about the code that runs."""
import numpy as np
import pytest

import verify
from verify import symbolic

EXPECTED = {
    "schedules.polynomial.conditions", "schedules.polynomial.log-condition", "schedules.warmup.conditions",
    "schedules.randomized.envelope", "schedules.coupled.single-timescale", "schedules.two-timescale.ratio",
    "schedules.constant.not-diminishing", "schedules.step-decay.finite-time", "schedules.cosine.eventually-constant",
}
CLAIMS = verify.claims("schedules")


def test_schedules_claims_are_registered_each_with_a_code_part():
    assert {c.id for c in CLAIMS} == EXPECTED
    for c in CLAIMS:
        names = [p.name for p in c.parts]
        assert any("formula" in n or "within" in n for n in names), (c.id, names)


@pytest.mark.parametrize("cl", CLAIMS, ids=[c.id for c in CLAIMS])
def test_parts_pass_and_controls_fail_as_predicted(cl):
    result = cl.run("quick", 0, render=False)
    assert result.ok, result.problems
    for p in result.parts:
        assert len(p.check.figures) == 1, (cl.id, p.name, "one figure per part")
        d = p.control.details
        assert "prediction" in d or d.get("predicted") in (symbolic.PROVED, symbolic.DISPROVED), (cl.id, p.name)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_negative_claims_controls_break_their_own_assumption_on_the_same_schedules():
    """A control of a negative statement must run the claim's own schedule family with the one assumption
    broken (final > 0 vs final = 0, 0 < r < 1 vs r = 1, q < p vs q = p), not swap in another schedule."""
    from stochopt import schedules as S
    from verify.families.schedules import cosine, step_decay, two_timescale
    from verify.registry import Context

    for mode in ("quick", "full"):
        ctx = Context(mode=mode, size=verify.get_claim("schedules.cosine.eventually-constant").sizes[mode])
        assert all(isinstance(s, S.Cosine) and s.final == 0 for s in cosine.zero(ctx).values())
        assert all(isinstance(s, S.Cosine) and s.final > 0 for s in cosine.positive(ctx).values())
        ctx = Context(mode=mode, size=verify.get_claim("schedules.step-decay.finite-time").sizes[mode])
        assert all(isinstance(s, S.StepDecay) and s.factor == 1.0 for s in step_decay.no_decay(ctx).values())
        ctx = Context(mode=mode, size=verify.get_claim("schedules.two-timescale.ratio").sizes[mode])
        for eta, theta in two_timescale.ratio_control_cases(ctx).values():
            assert isinstance(theta, S.Polynomial) and theta.p == eta.p


def test_random_stepsize_factors_are_iid_uniform_across_steps():
    """schedules.randomized.envelope checks only the bounds low <= zeta_k <= high (all its statement needs); the
    random-stepsize theorem also assumes zeta_k i.i.d. with a density: per replica, over 20000 steps, the
    factors pass a Kolmogorov-Smirnov test against uniform[low, high] and have lag-1 correlation below
    4/sqrt(n) (deterministic: the stream is a function of seed, replica and step)."""
    from scipy import stats

    from stochopt import schedules as S

    low, high, n = 0.5, 1.5, 20_000
    zeta = S.randomized(S.constant(1.0), low, high, seed=3).values(n, np.arange(4))     # envelope 1: eta_k = zeta_k
    for r in range(zeta.shape[1]):
        z = (zeta[:, r] - low) / (high - low)
        assert stats.kstest(z, "uniform").pvalue > 1e-3, r
        assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 4 / np.sqrt(n), r


def _runs_constant(monkeypatch):
    """The executed polynomial schedule made constant (per step and in blocks); its formula unchanged."""
    from stochopt import schedules

    monkeypatch.setattr(schedules.Polynomial, "__call__", lambda self, k, replica_ids=None: self.a / self.b ** self.p)
    if hasattr(schedules.Polynomial, "_block"):
        monkeypatch.setattr(schedules.Polynomial, "_block",
                            lambda self, ks, replica_ids: np.full(len(ks), self.a / self.b ** self.p))


@pytest.mark.parametrize("cid", ["schedules.polynomial.conditions", "schedules.warmup.conditions",
                                 "schedules.two-timescale.ratio"])
def test_a_polynomial_schedule_that_runs_as_a_constant_fails_the_proofs(cid, monkeypatch):
    _runs_constant(monkeypatch)
    result = verify.get_claim(cid).run("quick", 0, draw=False)
    assert not result.ok
    checks = {p.name: p.check for p in result.parts}
    assert all(v.status == "fail" for v in checks.values()), {n: v.status for n, v in checks.items()}
    proofs = [v for n, v in checks.items() if "formula" not in n]
    assert all(r["status"] == symbolic.MISMATCH for v in proofs for r in v.details["results"].values())


@pytest.mark.slow
@pytest.mark.parametrize("cl", CLAIMS, ids=[c.id for c in CLAIMS])
def test_verified_at_seeds_0_to_19_quick(cl):
    failures = {s: r.problems for s in range(20) if not (r := cl.run("quick", s, draw=False)).ok}
    assert not failures, failures
