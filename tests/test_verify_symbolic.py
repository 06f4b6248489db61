"""sympy proofs of the stepsize conditions, each about the code that runs."""
import numpy as np
import pytest
import sympy as sp

from stochopt import schedules as S
from stochopt.schedules import k_symbol
from verify import symbolic


@pytest.mark.parametrize("p", [0.51, 0.6, 2 / 3, 0.7071, 0.75, 1.0])
@pytest.mark.parametrize("a,b", [(0.5, 1.0), (0.01, 100.0)])
def test_polynomial_in_range_proved(p, a, b):
    sched = S.polynomial(a, b, p)
    rep = symbolic.check_schedule(sched)
    assert rep.all_proved(), rep.status


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_polynomial_small_p_refused(p):
    r = symbolic.summable_squares(S.polynomial(0.5, 1.0, p))
    assert r.status == "disproved" and not r
    assert symbolic.divergent_sum(S.polynomial(0.5, 1.0, p)).proved


@pytest.mark.parametrize("p", [1.01, 1.5, 2.0])
def test_polynomial_large_p_refused(p):
    r = symbolic.divergent_sum(S.polynomial(0.5, 1.0, p))
    assert r.status == "disproved"


def test_other_families():
    assert symbolic.vanishing(S.constant(0.1)).status == "disproved"
    assert symbolic.divergent_sum(S.step_decay(0.1, 0.5, 10)).status == "disproved"
    assert symbolic.summable_squares(S.step_decay(0.1, 0.5, 10)).proved
    assert symbolic.check_schedule(S.warmup(S.polynomial(1.0, 1.0, 0.75), 50)).all_proved()
    assert symbolic.vanishing(S.cosine(0.1, 100, 0.01)).status == "disproved"
    assert symbolic.divergent_sum(S.cosine(0.1, 100, 0.0)).status == "disproved"
    assert symbolic.check_schedule(S.coupled(S.polynomial(1.0, 1.0, 0.8), 3.0, cap=0.5)).all_proved()


def test_ratio_conditions():
    eta = S.polynomial(1.0, 1.0, 1.0)
    assert symbolic.ratio_vanishing(eta, S.polynomial(1.0, 1.0, 0.6)).proved
    assert symbolic.ratio_vanishing(eta, S.coupled(eta, 2.0)).status == "disproved"
    assert symbolic.ratio_limit(S.coupled(eta, 2.5), eta) == sp.Rational(5, 2)


def test_randomized_uses_envelope():
    rep = symbolic.check_schedule(S.randomized(S.polynomial(1.0, 1.0, 0.5), 0.5, 2.0))
    assert rep.status["summable_squares"] == "disproved" and rep.notes


def test_unproved_is_not_false():
    k = k_symbol()
    parity = sp.Piecewise((1 / (k + 1), sp.Eq(k % 2, 0)), (1 / (k + 1) ** 2, True))  # branch for large k unknown
    r = symbolic.divergent_sum(parity)
    assert r.status == "unproved" and not r


def test_the_sympy_part_is_cached_the_code_comparison_is_not(monkeypatch):
    from verify.symbolic import schedules as module

    sched = S.polynomial(0.3, 2.0, 0.8)
    first = symbolic.check_schedule(sched)
    monkeypatch.setattr(module, "_decide", lambda *a, **k: pytest.fail("the proof was recomputed"))
    assert symbolic.check_schedule(sched).status == first.status       # cached by the formula
    monkeypatch.setattr(S.Polynomial, "__call__", lambda self, k, replica_ids=None: self.a)   # the code changes
    assert set(symbolic.check_schedule(sched).status.values()) == {symbolic.MISMATCH}


def test_unknown_condition_name():
    with pytest.raises(ValueError, match="summable_squares"):
        symbolic.check_schedule(S.constant(0.1), conditions=["summable_square"])


def test_sign_changing_terms_are_not_proved_divergent():
    # sum cos(k)/(k+1) converges (Dirichlet's test) although sum |cos(k)|/(k+1) diverges: the
    # positive-term series tests do not apply, so "sum eta_k = inf" must not be proved.
    k = k_symbol()
    r = symbolic.divergent_sum(sp.cos(k) / (k + 1))
    assert r.status == "unproved" and not r
    assert symbolic.divergent_sum(-1 / (k + 1)).status == "disproved"  # terms <= 0: sum is not +inf
    assert symbolic.divergent_sum(sp.Integer(0) * k).status == "disproved"


def test_floor_sandwich_needs_monotonicity():
    # eta_k = s(s + 1) + 1/(k+1) with s = floor(k/2) - k/2 in {0, -1/2}: at both ends of the
    # sandwich (s = -1 and s = 0) the product vanishes, but for odd k eta_k -> -1/4, not 0.
    k = k_symbol()
    s = sp.floor(k / 2) - k / 2
    assert symbolic.vanishing(s * (s + 1) + 1 / (k + 1)).status == "unproved"
    # a sequence that alternates between +1/4 and -1/4: neither proved nor disproved by the sandwich
    assert symbolic.vanishing(s + sp.Rational(1, 4)).status != "proved"
    # monotone floors still work (step decay; 1 / (floor(sqrt k) + 1) ~ k^-1/2)
    assert symbolic.divergent_sum(S.step_decay(0.1, 0.5, 10)).status == "disproved"
    for factor in (0.9, 0.99):   # simplify once hid the sign of (9/10)^s log(9/10)
        assert symbolic.check_schedule(S.step_decay(1.0, factor, 10)).status == {
            "divergent_sum": "disproved", "summable_squares": "proved", "vanishing": "proved", "log_vanishing": "proved"}
    assert symbolic.vanishing(S.step_decay(0.1, 0.5, 10)).proved
    root = 1 / (sp.floor(sp.sqrt(k)) + 1)
    assert symbolic.divergent_sum(root).proved and symbolic.summable_squares(root).status == "disproved"


# ------------------------------------------------------------------------- the formula is the code
SHIPPED = {
    "polynomial": S.polynomial(0.5, 1.0, 0.75),
    "polynomial per replica": S.polynomial(np.array([0.5, 0.1]), np.array([1.0, 10.0]), np.array([0.75, 0.6])),
    "warmup": S.warmup(S.polynomial(0.5, 1.0, 0.75), 100),
    "coupled": S.coupled(S.polynomial(0.5, 1.0, 0.75), 2.0, cap=0.5),
    "coupled per replica": S.coupled(S.polynomial(0.5, 1.0, 0.75), np.array([2.0, 0.5]), cap=np.array([0.5, 1.0])),
    "cosine": S.cosine(0.1, 1000, 0.01),
    "cosine to 0": S.cosine(0.1, 1000, 0.0),
    "step decay": S.step_decay(0.1, 0.5, 100),
    "constant": S.constant(0.05),
    "constant per replica": S.constant(np.array([0.01, 0.1, 1.0])),
    "randomized": S.randomized(S.polynomial(0.5, 1.0, 0.75), 0.5, 1.5, seed=3),
    "from_function with formula": S.from_function(lambda k: 1.0 / (k + 2.0), formula=1 / (k_symbol() + 2)),
}


@pytest.mark.parametrize("name", list(SHIPPED))
def test_every_shipped_schedule_runs_as_its_formula(name):
    agreement = symbolic.formula_matches_code(SHIPPED[name])
    assert agreement.ok, agreement.to_dict()
    assert agreement.ks.max() == 10 ** 12 and len(agreement.ks) > 300
    assert len(agreement.paths) == 2          # per step and in blocks


@pytest.mark.parametrize("code, formula, where", [
    (lambda k: 0.5, 0.5 / (k_symbol() + 1) ** sp.Rational(3, 4), "large k"),             # runs as a constant
    (lambda k: 0.5 / (k + 2.0) ** 0.75, 0.5 / (k_symbol() + 1) ** sp.Rational(3, 4), "small k"),   # off by one
    (lambda k: 0.5 / (k + 1.0) ** 0.76, 0.5 / (k_symbol() + 1) ** sp.Rational(3, 4), "large k"),   # exponent
])
def test_a_schedule_that_runs_differently_from_its_formula_is_never_proved(code, formula, where):
    sched = S.from_function(code, formula=formula)
    agreement = symbolic.formula_matches_code(sched)
    assert not agreement.ok
    assert (agreement.worst["k"] < 256) == (where == "small k")
    report = symbolic.check_schedule(sched)
    assert set(report.status.values()) == {symbolic.MISMATCH} and not report.all_proved()
    assert symbolic.ratio_vanishing(sched, S.polynomial(1.0, p=0.6)).status == symbolic.MISMATCH
    assert symbolic.ratio_tends_to(sched, S.polynomial(1.0, p=0.75), 0.5).status == symbolic.MISMATCH
    assert symbolic.ratio_limit(sched, S.polynomial(1.0, p=0.75)) is None


def test_one_replica_running_differently_is_caught():
    good = S.polynomial(np.array([0.5, 0.5]), 1.0, 0.75)
    sched = S.from_function(lambda k: np.array([0.5 / (k + 1.0) ** 0.75, 0.5]), formula=symbolic.formula_of(
        S.polynomial(0.5, 1.0, 0.75)))
    assert symbolic.formula_matches_code(good).ok
    agreement = symbolic.formula_matches_code(sched)
    assert not agreement.ok and agreement.worst["replica"] == 1


def test_block_evaluation_is_compared_too():
    class BlockDiffers(type(S.polynomial(1.0))):
        """Right per step, wrong when the engine evaluates a block of steps."""

        def values(self, ks, replica_ids=None):
            ks = np.arange(ks) if np.ndim(ks) == 0 else np.asarray(ks)
            return np.full(len(ks), self.a)

    agreement = symbolic.formula_matches_code(BlockDiffers(0.5, 1.0, 0.75))
    assert not agreement.ok and "schedule.values" in " ".join(agreement.paths)


def test_randomized_values_outside_their_bounds_are_caught():
    class Outside(type(S.randomized(S.polynomial(1.0)))):
        def __call__(self, k, replica_ids=None):
            return 3.0 * super().__call__(k, replica_ids)

    assert symbolic.formula_matches_code(S.randomized(S.polynomial(0.5, p=0.75), 0.5, 1.5)).ok
    agreement = symbolic.formula_matches_code(Outside(S.polynomial(0.5, p=0.75), 0.5, 1.5))
    assert not agreement.ok and agreement.bounds == (0.5, 1.5)


def test_per_replica_conditions_hold_for_every_replica():
    both = S.polynomial(0.5, 1.0, np.array([0.75, 0.5]))
    assert symbolic.summable_squares(both).status == "disproved"      # false for replica 1
    assert symbolic.divergent_sum(both).status == "proved"
    assert symbolic.check_schedule(both, replica=0).status["summable_squares"] == "proved"


def test_bad_input_names_the_problem():
    with pytest.raises(TypeError, match="Schedule"):
        symbolic.formula_matches_code(0.1)
    with pytest.raises(ValueError, match="ks"):
        symbolic.formula_matches_code(S.constant(0.1), ks=[-1, 2])
    with pytest.raises(ValueError, match="formula"):
        symbolic.formula_matches_code(S.from_function(lambda k: 0.1))
