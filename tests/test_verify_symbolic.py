"""sympy proofs of the stepsize conditions."""
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


def test_cached_and_fast():
    import time

    sched = S.polynomial(0.3, 2.0, 0.8)
    symbolic.check_schedule(sched)
    t = time.perf_counter()
    symbolic.check_schedule(sched)
    assert time.perf_counter() - t < 0.05


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
    assert symbolic.vanishing(S.step_decay(0.1, 0.5, 10)).proved
    root = 1 / (sp.floor(sp.sqrt(k)) + 1)
    assert symbolic.divergent_sum(root).proved and symbolic.summable_squares(root).status == "disproved"
