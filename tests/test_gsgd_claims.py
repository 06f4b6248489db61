"""GSGD claims: helper unit tests and planted mistakes that the claims must catch.

The generic "every claim passes and every control fails" test is tests/test_claims.py; here we
check that the verifier is verified: swapping in a wrong piece (a direction whose select is not a
subgradient, a wrong tau in H, a schedule that breaks the conditions, a deterministic start)
makes the relevant claim FAIL, and that the statistics helpers give known answers.
"""
import numpy as np
import pytest

import problems
from stochopt import directions, schedules
from verify import experiments as E
from verify.families import _gsgd_old as gsgd


# ------------------------------------------------------------------- statistics helpers
def test_log_slope_recovers_a_known_exponent():
    rng = np.random.default_rng(0)
    sizes = np.array([100.0, 200.0, 400.0, 800.0, 1600.0])
    values = sizes[:, None] ** -0.75 * np.exp(0.05 * rng.standard_normal((5, 32)))
    fit = E.log_slope(sizes, values)
    assert fit.ci[0] < -0.75 < fit.ci[1]
    assert abs(fit.slope + 0.75) < 0.05
    for center in ("median", "geomean"):
        assert abs(E.log_slope(sizes, values, center=center).slope + 0.75) < 0.05


def test_log_slope_flat_values_give_slope_near_zero_and_drops_diverged_replicas():
    values = np.ones((4, 8))
    values[:, 3] = np.nan
    fit = E.log_slope([1.0, 2.0, 4.0, 8.0], values)
    assert fit.slope == pytest.approx(0.0, abs=1e-12)
    assert fit.ci == pytest.approx((0.0, 0.0), abs=1e-12)


def test_log_slope_rejects_unknown_center():
    with pytest.raises(ValueError, match="center"):
        E.log_slope([1.0, 2.0], np.ones((2, 3)), center="mode")


def test_binomial_bounds_are_clopper_pearson():
    # zero successes in n: the one-sided 95% upper bound is 1 - 0.05^(1/n)
    assert E.binomial_upper(0, 1000) == pytest.approx(1 - 0.05 ** (1 / 1000), rel=1e-9)
    assert E.binomial_lower(1000, 1000) == pytest.approx(0.05 ** (1 / 1000), rel=1e-9)
    lo, hi = E.binomial_lower(30, 100), E.binomial_upper(30, 100)
    assert lo < 0.3 < hi


def test_geomean_and_median_intervals_contain_the_estimate():
    g, (lo, hi) = E.geomean_ci(np.exp(np.linspace(-1, 1, 41)))
    assert g == pytest.approx(1.0) and lo <= 1.0 <= hi
    m, (lo, hi) = E.median_ci(np.arange(41.0))
    assert m == 20.0 and lo <= 20.0 <= hi


def test_diminishing_schedule_starts_at_lr0_and_has_the_power():
    eta = E.diminishing(0.4, power=0.5, offset=4.0)
    assert eta(0) == pytest.approx(0.4)
    assert eta(12) == pytest.approx(0.4 * (4 / 16) ** 0.5)
    assert E.increasing(0.1, 10.0)(20) == pytest.approx(0.3)


# ---------------------------------------------------------------------------- methods
@pytest.mark.parametrize("method", list(E.METHODS))
def test_build_method_is_single_timescale(method):
    eta = E.diminishing(0.1)
    opt, direc, tau = E.build_method(method, eta, tau=2.0, blocks=[[0, 1], [2]])
    state = opt.init(np.zeros((2, 3)))
    state = opt.step(state, np.ones((2, 3)))
    assert np.all(state.x < 0)  # a descent step along +gradient
    assert tau == 2.0
    assert hasattr(direc, "phi") and hasattr(direc, "select")


def test_lion_in_the_claims_has_theta2_equal_to_tau_eta():
    eta = E.diminishing(0.05)
    opt, _, tau = E.build_method("lion", eta, tau=1.0)
    # mu2 = max(1 - lr (1 - beta2) scaling, beta2) with scaling = tau / (1 - beta2): theta2 = tau eta
    beta2 = E.LION_BETAS[1]
    scaling = float(np.asarray(opt.hyper["scaling"].at(0, None)))
    assert 1 - max(1 - eta(0) * (1 - beta2) * scaling, beta2) == pytest.approx(tau * eta(0))


def test_not_descent_direction_is_not_a_subgradient():
    m = np.random.default_rng(0).standard_normal((50, 4))
    wrong = gsgd.NotDescent()
    s = wrong.select(m)
    assert np.all(np.sum(s * m, axis=-1) < 0)  # <s, m> < 0: violates the framework's assumption
    y = np.zeros_like(m)  # subgradient inequality phi(y) >= phi(m) + <s, y - m> fails at y = 0
    assert np.all(wrong.phi(y) < wrong.phi(m) + np.sum(s * (y - m), axis=-1))
    right = directions.get("sign").select(m)
    assert np.all(np.sum(right * m, axis=-1) > 0)


# --------------------------------------------------------------------------- experiments
def test_lyapunov_run_h_matches_its_definition():
    p = gsgd.l1_problem(0)
    run = E.lyapunov_run(p, "signum", steps=50, replicas=3, lr0=0.1, power=1.0)
    assert run.H.shape == (51, 3)
    # at k = 0 the momentum is 0, so H_0 = f(x_0)
    assert np.all(run.H[0] > 0)
    assert np.all(np.isfinite(run.fraction))


def test_trap_run_deterministic_lands_exactly_on_the_artifact_point():
    p = problems.get("artifact-shifted-quadratic")
    det = E.trap_run(p, randomized=False, steps=10, replicas=4)
    assert det.trapped.all() and np.all(det.final_x == 0.0)
    assert np.all(det.hits == 10)  # every step after the first sits exactly on 0 (and the record at k=10)
    rnd = E.trap_run(p, randomized=True, steps=300, replicas=200, seed=3, lr0=0.9, power=0.5)
    assert not rnd.trapped.any() and rnd.hits.sum() == 0
    assert np.nanmax(rnd.clarke) < 1e-6


def test_mlp_kink_run_counts_exact_zero_preactivations():
    p = gsgd.mlp_problem(0, kink_inputs=True)
    hits, _ = E.mlp_kink_run(p, randomized=False, steps=3, replicas=2)
    assert hits[0].min() > 0  # zero inputs and zero biases: kinks hit at x_0
    hits, _ = E.mlp_kink_run(p, randomized=True, steps=3, replicas=2)
    assert hits.sum() == 0


def test_boundedness_run_marks_divergence_as_unbounded():
    p = gsgd.mlp_problem(0)
    run = E.boundedness_run(p, [0.01, 50.0], seeds=2, steps=60)
    assert np.all(np.isfinite(run.sup_norm[0]))
    assert np.all(run.sup_norm[1] > 10 * run.sup_norm[0].max())


def test_claim_schedules_cover_claims_1_to_6_and_are_proved():
    v = gsgd.schedule_conditions_experiment()
    assert v.status == "pass" and v.statistic == 0
    labels = {r["schedule"] for r in v.details["table"]}
    for word in ("lyapunov", "stationarity", "value-convergence", "two-timescale", "ode-tracking", "random"):
        assert any(word in label for label in labels), word


# -------------------------------------------------------------------- planted mistakes
def test_planted_wrong_direction_breaks_the_lyapunov_claim():
    v = gsgd.lyapunov_experiment("quick", 0, methods=("signum",), problem_set=("l1-regression",),
                                 direction=gsgd.NotDescent(), sizes={"steps": 400, "replicas": 8}, plot=False)
    assert v.status == "fail", (v.statistic, v.ci)


def test_correct_pieces_pass_the_lyapunov_claim_on_the_same_small_run():
    v = gsgd.lyapunov_experiment("quick", 0, methods=("signum",), problem_set=("l1-regression",),
                                 sizes={"steps": 1000, "replicas": 8}, plot=False)
    assert v.status == "pass", (v.statistic, v.ci)


@pytest.mark.parametrize("seed", [0, 1])
def test_planted_wrong_tau_in_h_breaks_the_lyapunov_claim(seed):
    # H = f + phi(m) / (tau / 10): the phi term no longer cancels the cross term <s, grad f>
    v = gsgd.lyapunov_experiment("quick", seed, methods=("signum",), problem_set=("l1-regression",),
                                 tau_H_factor=0.1, plot=False)
    assert v.status == "fail", (v.statistic, v.ci)


def test_planted_wrong_direction_breaks_the_stationarity_claim():
    v = gsgd.stationarity_experiment("quick", 0, method="signum", direction=gsgd.NotDescent(),
                                     problem_set=("l1-regression",), sizes={"steps": 2000, "replicas": 12},
                                     plot=False)
    assert v.status == "fail", v.details["parts"]


def test_planted_wrong_direction_breaks_the_methods_table():
    v = gsgd.methods_experiment("quick", 0, methods=("heavy-ball",), direction=gsgd.NotDescent(),
                                sizes={"lyapunov_steps": 300, "steps": 2000, "replicas": 12})
    assert v.status == "fail" and v.statistic == 2


def test_planted_bad_schedule_breaks_the_schedule_claim():
    rows = [("planted: eta_k = 1/sqrt(k+1)", schedules.polynomial(1.0, p=0.5), ["summable_squares"], None)]
    v = gsgd.schedule_conditions_experiment(rows=rows)
    assert v.status == "fail"


def test_planted_non_vanishing_ratio_breaks_the_two_timescale_claim():
    v = gsgd.two_timescale_experiment("quick", 0, control=True, coupled_tau=1.0,
                                      sizes={"steps": 2000, "replicas": 8, "checkpoints": 3})
    assert v.status == "fail", v.details["parts"]


def test_combine_takes_the_worst_status():
    from verify.registry import decide

    ok = gsgd._named(decide(0.0, 1.0), "a")
    bad = gsgd._named(decide(2.0, 1.0), "b")
    maybe = gsgd._named(decide(0.9, 1.0, ci=(0.5, 1.5)), "c")
    assert gsgd._combine([ok, maybe]).status == "inconclusive"
    v = gsgd._combine([ok, bad, maybe])
    assert v.status == "fail" and v.details["decided_by"] == "b"
    assert [p["status"] for p in v.details["parts"]] == ["pass", "fail", "inconclusive"]


# ------------------------------------------------------------------------ full mode (slow)
@pytest.mark.slow
@pytest.mark.parametrize("claim_id", [
    "gsgd.single-timescale.lyapunov", "gsgd.single-timescale.stationarity", "gsgd.value-convergence",
    "gsgd.two-timescale", "gsgd.ode-tracking", "gsgd.random-stepsizes.clarke", "gsgd.schedule-conditions",
    "gsgd.boundedness", "gsgd.methods",
])
def test_full_mode(claim_id):
    import verify

    cl = verify.get_claim(claim_id)
    assert cl.check("full", 0).status == "pass"
    assert cl.control("full", 0).status == "fail"


# ----------------------------------------------------------------------- theory-to-code
def _theory_tool():
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "theory_to_code.py")
    spec = importlib.util.spec_from_file_location("theory_to_code", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_theory_to_code_maps_every_gsgd_claim_to_its_function():
    import verify

    tool = _theory_tool()
    mapped = {row[2] for row in tool.GSGD_ROWS}
    registered = {c.id for c in verify.claims("gsgd")}
    assert mapped == registered
    text = tool.render()
    for c in verify.claims("gsgd"):
        assert f"`{c.fn.__module__}.{c.fn.__name__}`" in text
    for family in {c.family for c in verify.claims()} - {"gsgd"}:
        assert any(f"`{c.id}`" in text for c in verify.claims(family))


def test_theory_to_code_page_is_up_to_date():
    """docs/theory-to-code.md is generated from the registry: any claim added, renamed or moved
    (e.g. verify/claims -> verify/families) without regenerating the page makes this fail."""
    import os

    tool = _theory_tool()
    path = os.path.join(tool.ROOT, "docs", "theory-to-code.md")
    with open(path, encoding="utf-8") as f:
        current = f.read()
    assert current == tool.render(), "docs/theory-to-code.md is stale: run python tools/theory_to_code.py"
    assert tool.main(["--check"]) == 0
    assert "failed to import" not in current


def test_theory_to_code_references_resolve():
    """Every dotted name the table cites (claim, experiment and measure functions) exists."""
    import importlib
    import re

    text = _theory_tool().render()
    names = set(re.findall(r"`((?:verify|stochopt|problems)(?:\.[A-Za-z_]\w*)+)`", text))
    assert len(names) > 20
    missing = []
    for name in sorted(names):
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            try:
                for attr in parts[i:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                missing.append(name)
            break
        else:
            missing.append(name)
    assert not missing, missing


def test_stationarity_control_plateau_scales_with_the_step():
    """Why the constant-step control of claim 2 fails: the measures stop decreasing in k and sit at
    a level set by the step (spec 1.7 item 2), here about sqrt(eta): quartering eta
    lowers the plateau, while along k it stays flat."""
    p = gsgd.l1_problem(0)
    c = gsgd.STATIONARITY_CONFIG["l1-regression"]
    etas = (0.4, 0.1, 0.025)
    finals = []
    for lr0 in etas:
        run = E.stationarity_run(p, "heavy-ball", steps=2000, replicas=12, seed=0, lr0=lr0, power=1.0, offset=10.0,
                                 tau=1.0, constant=True, batch_size=8, eps=c["eps"], samples=c["samples"],
                                 checkpoints=3)
        flat = E.log_slope(run.k, run.goldstein)
        assert abs(flat.slope) < 0.1, flat                          # no decrease in k: a plateau
        finals.append(run.goldstein[-1])
    level = E.log_slope(etas, np.array(finals))
    assert level.ci[0] > 0.25 and level.slope < 1.0, level         # the plateau shrinks with the step
