"""The converters: iterate-level identities with their targets, qhoptim's numbers, inverses,
singular inputs, property tests and the symbolic proofs."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stochopt import ground_truth, qh

STEPS, R, D = 250, 8, 5


def rel_curve_max(a, b):
    return float(np.max(np.linalg.norm(a - b, axis=-1) / np.linalg.norm(b, axis=-1)))


def trajectory(opt, x0, grad, attr="x"):
    """The sequence ``attr`` (x or a buffer) for t = 0..STEPS, gradients at state.x."""
    run = ground_truth.trajectory(opt, x0, (grad, STEPS))
    return run.x if attr == "x" else run.buffers[attr]


@pytest.fixture(scope="module")
def sources():
    rng = np.random.default_rng(3)
    noise = rng.standard_normal((STEPS, R, D))
    lam = rng.uniform(0.1, 1.0, (R, D))
    x_star = rng.uniform(1.0, 3.0, (R, D))
    A = rng.standard_normal((40, D))
    b = A @ rng.standard_normal(D) + 0.1 * rng.standard_normal(40)

    def l1(x, t):
        r = np.sum(x[..., None, :] * A, axis=-1) - b
        return np.mean(np.sign(r)[..., None] * A, axis=-2)

    return {"random": lambda x, t: noise[t], "quadratic": lambda x, t: lam * (x - x_star), "l1": l1}


def draw_qhm(seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 1.0, R), rng.uniform(0.2, 0.95, R), rng.uniform(0.1, 1.0, R)


def pairs():
    """(name, qhm method, target method, matching attribute) with per-replica hyperparameters."""
    rng = np.random.default_rng(11)
    gains = qh.to_pid(*draw_qhm(1))
    alpha, beta1, beta2 = rng.uniform(0.05, 0.5, R), rng.uniform(0.1, 0.9, R), rng.uniform(0, 1, R)
    kappa = np.exp(rng.uniform(np.log(10), np.log(100), R))
    rho = 1 - 1 / np.sqrt(kappa) + rng.uniform(0, 1, R) * (1 / np.sqrt(kappa) - 1 / kappa)
    delta, xi, eps = rng.uniform(0.05, 0.5, R), rng.uniform(0.1, 1, R) * np.sqrt(kappa), rng.uniform(0.1, 0.95, R)
    tso = qh.to_two_state(*draw_qhm(2), rng.uniform(0.5, 2, R) * rng.choice([-1, 1], R), rng.uniform(-1, 1, R))
    return [
        ("pid", qh.qhm(**qh.from_pid(**gains)), qh.pid(**gains), "x"),
        ("snv", qh.qhm(**qh.from_synthesized_nesterov(alpha, beta1, beta2)),
         qh.synthesized_nesterov(alpha, beta1, beta2), "x"),
        ("rm", qh.qhm(**qh.from_robust_momentum(1.0, kappa, rho)), qh.robust_momentum(1.0, kappa, rho), "x"),
        ("tm", qh.qhm(**qh.from_robust_momentum(1.0, kappa)), qh.triple_momentum(1.0, kappa), "x"),
        ("accsgd", qh.qhm(**qh.from_accsgd(delta, kappa, xi, eps)), qh.accsgd(delta, kappa, xi, eps), "x"),
        ("tso", qh.qhm(**qh.from_two_state_optimizer(**tso)), qh.two_state(**tso), "x"),
    ]


@pytest.mark.parametrize("name, ours, target, attr", pairs(), ids=[p[0] for p in pairs()])
@pytest.mark.parametrize("source", ["random", "quadratic", "l1"])
def test_converter_identity(sources, name, ours, target, attr, source):
    x0 = np.random.default_rng(5).standard_normal((R, D))
    a = trajectory(ours, x0, sources[source])
    b = trajectory(target, x0, sources[source], attr)
    assert rel_curve_max(a, b) <= 1e-12


@pytest.mark.parametrize("target, attr", [
    (qh.pid(-0.5, 1.0, 0.5, beta_f=0.0), "x"),                       # unfiltered derivative
    (qh.synthesized_nesterov(0.5, 0.5, 0.5), "xi"),                   # wrong sequence
    (qh.triple_momentum(1.0, 10.0), "output"),                        # TM's output, not y
])
def test_converter_controls_do_not_match(sources, target, attr):
    ours = {"pid": qh.qhm(**qh.from_pid(-0.5, 1.0, 0.5)),
            "synthesized_nesterov": qh.qhm(**qh.from_synthesized_nesterov(0.5, 0.5, 0.5)),
            "triple_momentum": qh.qhm(**qh.from_robust_momentum(1.0, 10.0))}[target.name]
    x0 = np.random.default_rng(5).standard_normal((R, D))
    with np.errstate(all="ignore"):
        err = rel_curve_max(trajectory(ours, x0, sources["random"]), trajectory(target, x0, sources["random"], attr))
    assert not err <= 1e-3


def test_initial_states_are_documented_fixed_points():
    x0 = np.array([1.0, -2.0])
    s = qh.synthesized_nesterov(0.1, 0.5, 0.5).init(x0)
    np.testing.assert_array_equal(s.xi, x0)
    np.testing.assert_array_equal(s.xi_prev, x0)
    s = qh.accsgd(0.1, 10.0, 2.0).init(x0)
    np.testing.assert_array_equal(s.wbar, x0)
    tso = qh.to_two_state(1.0, 0.5, 0.5, 2.0, 0.5)
    s = qh.two_state(**tso).init(x0)
    np.testing.assert_allclose(s.a, tso["k"] * x0 / (1 - tso["h"]), rtol=1e-15)
    np.testing.assert_array_equal(qh.two_state(**tso, a0="zeros").init(x0).a, 0 * x0)
    s = qh.pid(-0.5, 1.0, 0.5).init(x0)
    np.testing.assert_array_equal(s.anchor, x0)


# ----------------------------------------------------------------------- versus qhoptim
@pytest.fixture(scope="module")
def param_conv():
    return pytest.importorskip("qhoptim.common.param_conv")


def as_dict(params):
    return {"lr": params.alpha, "momentum": params.beta, "nu": params.nu}


def assert_same(ours, theirs):
    for key in ("lr", "momentum", "nu"):
        assert ours[key] == pytest.approx(theirs[key], rel=1e-14, abs=1e-15), key


def test_converters_return_qhoptims_numbers(param_conv):
    assert_same(qh.from_pid(-0.1, 1.0, 3.0), as_dict(param_conv.from_pid(-0.1, 1.0, 3.0)))
    assert_same(qh.from_synthesized_nesterov(0.1, 0.9, 0.6),
                as_dict(param_conv.from_synthesized_nesterov(0.1, 0.9, 0.6)))
    assert_same(qh.from_robust_momentum(5.0, 15.0), as_dict(param_conv.from_robust_momentum(5.0, 15.0, None)))
    assert_same(qh.from_robust_momentum(5.0, 15.0, 0.8), as_dict(param_conv.from_robust_momentum(5.0, 15.0, 0.8)))
    assert_same(qh.from_accsgd(0.1, 1000.0, 10.0), as_dict(param_conv.from_accsgd(0.1, 1000.0, 10.0, 0.7)))
    assert_same(qh.from_accsgd(0.1, 100.0, 3.0, 0.4), as_dict(param_conv.from_accsgd(0.1, 100.0, 3.0, 0.4)))
    narrow = dict(h=0.9, k=0.0, l=0.1, m=-0.09, q=1.0, z=-0.01)         # qhoptim's own example
    assert_same(qh.from_two_state_optimizer(**narrow), as_dict(param_conv.from_two_state_optimizer(**narrow)))
    narrow = qh.to_two_state(0.7, 0.6, 0.3)                             # q = 1, k = 0
    assert_same(qh.from_two_state_optimizer(**narrow), as_dict(param_conv.from_two_state_optimizer(**narrow)))
    n = param_conv.from_nadam(1e-3, 0.9, 0.999)
    assert qh.from_nadam(1e-3, (0.9, 0.999)) == {"lr": n.alpha, "betas": (n.beta1, n.beta2), "nus": (n.nu1, n.nu2)}


def test_qhoptim_two_state_formula_is_wrong_for_general_tso(param_conv):
    tso = qh.to_two_state(lr=1.0, momentum=0.5, nu=0.5, scale=0.5, shift=1.0)
    assert tso == {"h": 0.0, "k": 1.0, "l": -0.5, "m": -0.5, "q": 1.5, "z": -0.75}
    ours = qh.from_two_state_optimizer(**tso)
    assert_same(ours, {"lr": 1.0, "momentum": 0.5, "nu": 0.5})
    theirs = as_dict(param_conv.from_two_state_optimizer(**tso))
    assert theirs["momentum"] == pytest.approx(0.5)      # the eigenvalue is right (and here lr too) ...
    assert theirs["nu"] == pytest.approx(0.0, abs=1e-15)  # ... nu is not: qhoptim says SGD, it is nu = 1/2
    rng = np.random.default_rng(0)
    G = rng.standard_normal((100, 3))
    target, wrong = qh.two_state(**tso), qh.qhm(**theirs)
    s, w = target.init(np.ones(3)), wrong.init(np.ones(3))
    worst = 0.0
    for g in G:
        s, w = target.step(s, g), wrong.step(w, g)
        worst = max(worst, float(np.max(np.abs(s.x - w.x))))
    assert worst > 1e-2  # rounding would be ~1e-14


# ----------------------------------------------------------------------- errors
@pytest.mark.parametrize("func, kwargs, name", [
    (qh.from_pid, dict(k_p=-0.1, k_i=0.0, k_d=1.0), "k_i"),
    (qh.from_pid, dict(k_p=-0.1, k_i=1.0, k_d=0.0), "k_d"),
    (qh.from_pid, dict(k_p=0.5, k_i=1.0, k_d=0.5), "k_d"),
    (qh.from_pid, dict(k_p=-0.1, k_i=np.array([1.0, 0.0]), k_d=1.0), "replica index 1"),
    (qh.from_synthesized_nesterov, dict(alpha=0.1, beta1=0.0, beta2=0.5), "beta1"),
    (qh.from_synthesized_nesterov, dict(alpha=0.1, beta1=1.0, beta2=0.5), "beta1"),
    (qh.from_robust_momentum, dict(l=1.0, kappa=1.0), "kappa"),
    (qh.from_robust_momentum, dict(l=-1.0, kappa=10.0), "l"),
    (qh.from_robust_momentum, dict(l=1.0, kappa=10.0, rho=0.5), "rho"),
    (qh.from_accsgd, dict(delta=0.1, kappa=10.0, xi=2.0, eps=0.0), "eps"),
    (qh.from_accsgd, dict(delta=0.1, kappa=10.0, xi=-1.0), "xi"),
    (qh.from_accsgd, dict(delta=0.1, kappa=10.0, xi=4.0), "xi"),
    (qh.from_accsgd, dict(delta=0.0, kappa=10.0, xi=2.0), "delta"),
    (qh.from_two_state_optimizer, dict(h=0.5, k=0.0, l=0.1, m=-0.1, q=0.5, z=-0.1), "unit eigenvalue"),
    (qh.from_two_state_optimizer, dict(h=1.0, k=0.0, l=0.1, m=-0.1, q=1.0, z=-0.1), "must be in"),
    (qh.from_two_state_optimizer, dict(h=0.5, k=0.0, l=0.1, m=0.0, q=1.0, z=0.0), "integrator"),
    (qh.from_two_state_optimizer, dict(h=0.5, k=0.0, l=0.1, m=0.1, q=1.0, z=0.1), "ascends"),
    (qh.from_two_state_optimizer, dict(h=0.0, k=0.0, l=0.1, m=0.5, q=1.0, z=-0.1), "SGD only when"),
    (qh.to_pid, dict(lr=1.0, momentum=0.5, nu=0.0), "nu"),
    (qh.to_synthesized_nesterov, dict(lr=1.0, momentum=0.0, nu=0.5), "momentum"),
    (qh.to_two_state, dict(lr=1.0, momentum=0.5, nu=0.5, scale=0.0), "scale"),
    (qh.from_nadam, dict(betas=(0.9, 1.0)), r"betas\[1\]"),
])
def test_singular_inputs_raise_naming_the_parameter(func, kwargs, name):
    with pytest.raises(ValueError, match=name):
        func(**kwargs)


def test_two_state_momentum_zero_is_sgd():
    conv = qh.from_two_state_optimizer(h=0.0, k=0.0, l=0.3, m=0.0, q=1.0, z=-0.2)
    assert conv == {"lr": 0.2, "momentum": 0.0, "nu": 0.0}


def test_converters_accept_per_replica_arrays():
    out = qh.from_pid(np.array([-0.1, -0.2]), 1.0, 3.0)
    assert out["lr"].shape == out["momentum"].shape == out["nu"].shape == (2,)
    assert out["momentum"][0] == qh.from_pid(-0.1, 1.0, 3.0)["momentum"]
    assert isinstance(qh.from_pid(-0.1, 1.0, 3.0)["lr"], float)
    with pytest.raises(ValueError, match="replicas"):
        qh.from_pid(np.ones(2), np.ones(3), 1.0)


# ----------------------------------------------------------------------- properties
valid_accsgd = st.tuples(
    st.floats(1e-6, 1e3), st.floats(1.0 + 1e-6, 1e8), st.floats(1e-6, 1.0), st.floats(1e-6, 1 - 1e-6))


@settings(max_examples=300, deadline=None)
@given(valid_accsgd)
def test_accsgd_momentum_exceeds_nu(args):
    delta, kappa, s, eps = args
    out = qh.from_accsgd(delta, kappa, s * math.sqrt(kappa), eps)
    assert out["momentum"] > out["nu"]
    assert 0 <= out["momentum"] < 1 and out["lr"] > 0


unit = st.floats(0.02, 0.98)


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-3, 1e2), unit, st.floats(-3.0, 3.0))
def test_snv_round_trips(lr, momentum, nu):
    back = qh.from_synthesized_nesterov(**qh.to_synthesized_nesterov(lr, momentum, nu))
    assert back["lr"] == pytest.approx(lr, rel=1e-12)
    assert back["momentum"] == pytest.approx(momentum, rel=1e-12)
    assert back["nu"] == pytest.approx(nu, rel=1e-11, abs=1e-12)
    snv = {"alpha": lr, "beta1": momentum, "beta2": nu}
    again = qh.to_synthesized_nesterov(**qh.from_synthesized_nesterov(**snv))
    for key in snv:
        assert again[key] == pytest.approx(snv[key], rel=1e-10, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-3, 1e2), unit, st.floats(0.01, 3.0) | st.floats(-3.0, -0.01))
def test_pid_round_trips(lr, momentum, nu):
    gains = qh.to_pid(lr, momentum, nu)
    back = qh.from_pid(**gains)
    for key, value in {"lr": lr, "momentum": momentum, "nu": nu}.items():
        assert back[key] == pytest.approx(value, rel=1e-11)
    again = qh.to_pid(**back)
    for key in gains:
        assert again[key] == pytest.approx(gains[key], rel=1e-10)


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-3, 1e2), unit, st.floats(-3.0, 3.0), st.floats(0.1, 10.0), st.floats(-2.0, 2.0))
def test_two_state_round_trip(lr, momentum, nu, scale, shift):
    back = qh.from_two_state_optimizer(**qh.to_two_state(lr, momentum, nu, scale, shift))
    assert back["lr"] == pytest.approx(lr, rel=1e-9)
    assert back["momentum"] == pytest.approx(momentum, rel=1e-9, abs=1e-12)
    assert back["nu"] == pytest.approx(nu, rel=1e-8, abs=1e-9)


# ----------------------------------------------------------------------- symbolic
def test_symbolic_proofs():
    from verify.symbolic import converters as sc

    for name, proof in sc.prove_all().items():
        assert proof.proved is True and proof.status == "proved", name
        assert proof.start_fixed_point, name
        assert proof.numeric_agreement <= 1e-13, name   # the transcribed formulas are the code's
    assert sc.prove_pid(filtered=False).proved is False
    assert sc.prove_synthesized_nesterov(output="xi").proved is False
    assert sc.prove_robust_momentum(output="x").proved is False
    assert sc.prove_triple_momentum(output="x").proved is False
    assert sc.prove_two_state(formula="qhoptim").proved is False
    assert sc.prove_two_state(formula="qhoptim", narrow=True).proved is True
    assert sc.accsgd_momentum_exceeds_nu()["proved"] is True
    assert str(sc.nadam_first_step_ratio()) == "(2*mu + 1)/(mu + 1)"


# ----------------------------------------------------------------------- TSOs drawn directly
def test_general_map_on_tsos_drawn_directly():
    """TSOs drawn from their own coefficients (not through ``to_two_state``): every recoverable one
    gives QHM iterates equal to the TSO's at 1e-12 over 250 steps; every one without a unit
    eigenvalue is rejected naming the missing unit eigenvalue."""
    rng = np.random.default_rng(21)
    accepted = []
    while len(accepted) < R:
        h, k, l, m, zc = rng.uniform(-1.0, 1.0, 5)
        q = 1 - k * m / (1 - h)                      # impose the unit eigenvalue
        try:
            conv = qh.from_two_state_optimizer(h, k, l, m, q, zc)
        except ValueError as exc:                    # other eigenvalue outside [0, 1), or lr <= 0
            assert "must be" in str(exc)
            continue
        accepted.append(((h, k, l, m, q, zc), conv))
        with pytest.raises(ValueError, match="unit eigenvalue"):
            qh.from_two_state_optimizer(h, k, l, m, q + 0.1, zc)
    tso = dict(zip("hklmqz", np.array([a for a, _ in accepted]).T))
    ours = qh.qhm(**{key: np.array([c[key] for _, c in accepted]) for key in ("lr", "momentum", "nu")})
    noise = np.random.default_rng(22).standard_normal((STEPS, R, D))
    x0 = np.random.default_rng(23).standard_normal((R, D))
    a = trajectory(ours, x0, lambda x, t: noise[t])
    b = trajectory(qh.two_state(**tso), x0, lambda x, t: noise[t])
    assert rel_curve_max(a, b) <= 1e-12
    with np.errstate(all="ignore"):                   # the TSO started off its invariant line does not match
        c = trajectory(qh.two_state(**tso, a0="zeros"), x0 + 1.0, lambda x, t: noise[t])
        d = trajectory(ours, x0 + 1.0, lambda x, t: noise[t])
    assert not rel_curve_max(d, c) <= 1e-6


# ----------------------------------------------------------------------- Robust Momentum's rate
def test_robust_momentum_contracts_at_rate_rho_on_quadratics():
    """Spec 2.3: Robust Momentum tuned with (L, kappa, rho) contracts at rate rho on a quadratic with
    eigenvalues in [mu, L] (attained at lambda = mu), for every rho in [1 - 1/sqrt(kappa), 1 - 1/kappa]."""
    kappa = np.array([4.0, 4.0, 4.0, 25.0, 25.0, 25.0])
    frac = np.array([0.0, 0.5, 1.0, 0.0, 0.5, 1.0])
    rho = 1 - 1 / np.sqrt(kappa) + frac * (1 / np.sqrt(kappa) - 1 / kappa)
    lam = np.stack([np.linspace(1 / k, 1.0, 8) for k in kappa])               # L = 1, mu = 1/kappa
    horizon = np.ceil(80 * np.log(10) / -np.log(rho)).astype(int)             # 80 decades at rate rho
    opt = qh.robust_momentum(1.0, kappa, rho)
    s = opt.init(np.random.default_rng(0).standard_normal((kappa.size, 8)))
    err = np.empty((int(horizon.max()) + 1, kappa.size))
    err[0] = np.max(np.abs(s.xi), axis=-1)
    for t in range(int(horizon.max())):
        s = opt.step(s, lam * s.x)                                            # x* = 0
        err[t + 1] = np.max(np.abs(s.xi), axis=-1)
    for r in range(kappa.size):
        lo, hi = horizon[r] // 2, horizon[r]
        rate = math.exp(np.polyfit(np.arange(lo, hi), np.log(err[lo:hi, r]), 1)[0])
        assert abs(rate - rho[r]) <= 0.02 * (1 - rho[r]), (kappa[r], rho[r], rate)
    # mistuned (mu overestimated four times): the promised rate is not achieved
    bad = qh.robust_momentum(1.0, 6.25, 1 - 1 / np.sqrt(6.25))                # tuned for kappa/4 on kappa = 25
    s = bad.init(np.ones(8))
    for _ in range(400):
        s = bad.step(s, lam[3] * s.x)
    assert np.max(np.abs(s.xi)) > 1e3 * 0.6 ** 400
