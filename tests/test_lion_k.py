"""Lion and Lion-K: the method and its kernels (stochopt.lionk), and the theory the claims check
(verify.lion_theory): the flow, H and Delta, the KKT measure, the discrete map, the rate bound."""
import math

import numpy as np
import pytest
from scipy.linalg import expm

import stochopt
from conftest import rel_err
from stochopt import ground_truth, schedules
from stochopt.lionk import kernel, kernel_names
from verify.lion_theory import (
    LionKFlow,
    box_violation,
    correct_coefficient,
    flow_state,
    from_discrete,
    kkt_measure,
    rate_bound,
    to_discrete,
    wrong_coefficient,
)

R, D, STEPS = 4, 6, 150


def grads(seed=0, steps=STEPS, shape=(R, D), zeros=0.3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((steps, *shape)) * (rng.random((steps, *shape)) > zeros)


def iterate(opt, x0, gs, m0=None):
    state = opt.init(x0)
    if m0 is not None:
        state = state.replace(buffers={"m": m0})
    xs, ms = [], []
    for g in gs:
        state = opt.step(state, g)
        xs.append(state.x)
        ms.append(state.m)
    return np.array(xs), np.array(ms)


X0 = np.random.default_rng(7).standard_normal((R, D))


# ------------------------------------------------------------------ the method
def test_lion_k_l1_is_lion_bit_for_bit_with_per_replica_hyperparameters():
    lr = np.array([0.01, 0.02, 0.05, 0.1])
    wd = np.array([0.0, 0.1, 1.0, 3.0])
    b1, b2 = np.array([0.9, 0.0, 0.5, 0.95]), np.array([0.99, 0.9, 0.5, 0.999])
    a = iterate(stochopt.lion_k(lr=lr, betas=(b1, b2), weight_decay=wd, K="l1"), X0, grads(1))
    b = iterate(stochopt.lion(lr=lr, betas=(b1, b2), weight_decay=wd), X0, grads(1))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@pytest.mark.parametrize("K", ["l1", "tanh", "clip", "half_square", "l2", "huber:0.5", "tanh:3"])
def test_lion_k_matches_its_ground_truth_loop(K):
    xs = iterate(stochopt.lion_k(lr=0.03, betas=(0.9, 0.99), weight_decay=0.5, K=K), X0, grads(2, zeros=0.0))[0]
    ref = ground_truth.lion_k(X0, grads(2, zeros=0.0), lr=0.03, betas=(0.9, 0.99), weight_decay=0.5, K=kernel(K)).x[1:]
    assert rel_err(xs, ref) < 1e-12


def test_lion_k_is_pure_and_keeps_float32():
    opt = stochopt.lion_k(lr=0.1, weight_decay=0.1, K="tanh")
    x0 = X0.astype(np.float32)
    state = opt.init(x0)
    g = np.ones_like(x0)
    x_before, g_before = state.x.copy(), g.copy()
    new = opt.step(state, g)
    assert np.array_equal(state.x, x_before) and np.array_equal(g, g_before)
    assert new.x.dtype == np.float32 and new.m.dtype == np.float32


def test_sign_zero_is_zero_in_lion_k():
    opt = stochopt.lion_k(lr=0.5, weight_decay=0.0, K="sign")
    assert np.array_equal(opt.step(opt.init(np.ones(3)), np.zeros(3)).x, np.ones(3))


def test_lion_k_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="K 'sgin'.*Did you mean"):
        stochopt.lion_k(lr=0.1, K="sgin")
    with pytest.raises(TypeError, match="K must be"):
        stochopt.lion_k(lr=0.1, K=3)
    with pytest.raises(ValueError, match="weight_decay"):
        stochopt.lion_k(lr=0.1, weight_decay=-1.0)
    with pytest.raises(ValueError, match="lr"):
        stochopt.lion_k(lr=0.0)
    with pytest.raises(ValueError, match="betas"):
        stochopt.lion_k(lr=0.1, betas=(0.9,))
    with pytest.raises(ValueError, match="beta2"):
        stochopt.lion_k(lr=0.1, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="delta"):
        kernel("huber", delta=0.0)
    with pytest.raises(ValueError, match="takes no parameter"):
        kernel("l1:2")
    assert "lion_k" in stochopt.METHODS and stochopt.lionk.kernel("tanh:2").scale == 2.0


# ------------------------------------------------------------------ known answers
def test_constant_sign_gradient_closed_form():
    lr, lam = 0.01, 0.7
    s = np.sign(np.random.default_rng(3).standard_normal((R, D)))
    g = np.broadcast_to(s * 0.3, (400, R, D))
    xs = iterate(stochopt.lion(lr=lr, betas=(0.9, 0.99), weight_decay=lam), X0, g)[0]
    t = np.arange(1, 401)[:, None, None]
    assert rel_err(xs, -s / lam + (1 - lr * lam) ** t * (X0 + s / lam)) < 1e-12


def test_eta_lambda_one_jumps_onto_the_face():
    lr, lam = 0.5, 2.0
    x = stochopt.lion(lr=lr, weight_decay=lam).step(stochopt.lion(lr=lr, weight_decay=lam).init(X0), np.ones_like(X0)).x
    assert np.max(np.abs(x + 1.0 / lam)) < 1e-15 * (1 + np.max(np.abs(X0)))   # up to rounding of x - (0.5 + x)


def test_period_two_orbit_on_half_square():
    eta = 0.125   # eta/2 exact in binary: the orbit is exact
    opt = stochopt.lion(lr=eta, betas=(0.9, 0.99))
    state = opt.init(np.array([eta / 2]))
    for t in range(1, 2001):
        state = opt.step(state, state.x.copy())
        assert state.x[0] == (-1) ** t * eta / 2
    # Lion's buffer (EMA of g = x) converges to the periodic value (-1)^t mu, mu = -(1 - beta2) eta / (2 (1 + beta2))
    mu = -(1 - 0.99) * eta / (2 * (1 + 0.99))
    assert abs(state.m[0] - mu) < 1e-12


def test_period_two_orbit_needs_constant_hyperparameters():
    opt = stochopt.lion(lr=schedules.polynomial(0.125, b=1.0, p=0.5), betas=(0.9, 0.99))
    state = opt.init(np.array([0.0625]))
    for _ in range(4000):
        state = opt.step(state, state.x.copy())
    assert abs(state.x[0]) < 0.0625 / 4


# ------------------------------------------------------------------ kernels
@pytest.mark.parametrize("name", kernel_names() + ["huber:0.5", "tanh:3"])
def test_fenchel_young_equality_and_gradient(name):
    K = kernel(name)
    rng = np.random.default_rng(0)
    m = rng.uniform(-2.0, 2.0, (50, 4))   # tanh(3 m) far from saturation: K* at |y| -> 1 loses digits
    s = K.grad(m)
    # K(m) + K*(grad K(m)) = <m, grad K(m)>
    assert np.allclose(K.value(m) + K.conjugate(s), np.sum(m * s, axis=-1), atol=1e-10, rtol=1e-12)
    # grad by central differences
    h = 1e-6
    fd = np.stack([(K.value(m + h * e) - K.value(m - h * e)) / (2 * h) for e in np.eye(4)], axis=-1)
    assert np.allclose(fd, s, atol=1e-6)


@pytest.mark.parametrize("name", ["half_square", "log_cosh", "huber", "tanh:2"])
def test_conjugate_gradient_inverts_grad_k(name):
    K = kernel(name)
    delta = getattr(K, "delta", 1.0)
    y = np.random.default_rng(1).uniform(-0.95, 0.95, (20, 3)) * delta
    assert np.allclose(K.grad(K.conjugate_grad(y)), y, atol=1e-12)


def test_conjugates_outside_their_domain():
    y = np.array([[0.5, 1.5]])
    for name in ["l1", "huber", "log_cosh"]:
        assert kernel(name).conjugate(y)[0] == np.inf
    assert kernel("l2").conjugate(np.array([[0.8, 0.8]]))[0] == np.inf
    assert kernel("l1").conjugate(np.array([[1.0, -1.0]]))[0] == 0.0


# ------------------------------------------------------------------ hyperparameter maps and the flow
def test_discrete_continuous_round_trip():
    p = from_discrete(0.02, (0.9, 0.99), 0.5)
    assert math.isclose(p["eps"] * p["gamma"], 0.1) and p["alpha"] == p["gamma"]
    back = to_discrete(p["gamma"], p["eps"], p["lam"], 0.02)
    assert back["betas"] == pytest.approx((0.9, 0.99), abs=1e-14) and back["weight_decay"] == 0.5
    with pytest.raises(ValueError, match="eps"):
        to_discrete(gamma=1.0, eps=2.0, lam=1.0, lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        to_discrete(gamma=1.0, eps=0.5, lam=1.0, lr=2.0)


@pytest.mark.parametrize("K", ["l1", "tanh", "half_square"])
def test_one_step_is_the_euler_step_of_the_flow(K):
    lr, betas, lam = 0.05, (0.9, 0.99), 0.8
    rng = np.random.default_rng(4)
    A = np.diag(rng.uniform(0.5, 2.0, D))
    flow = LionKFlow.from_discrete(lambda x: x @ A, lr, betas, lam, K=K)
    opt = stochopt.lion_k(lr=lr, betas=betas, weight_decay=lam, K=K)
    state = opt.init(X0).replace(buffers={"m": rng.standard_normal((R, D))})
    x, m = flow_state(state)
    new = opt.step(state, state.x @ A)
    dx, dm = flow.vector_field(x, m)
    assert rel_err(new.x, x + lr * dx) < 1e-12
    assert rel_err(-new.m, m + lr * dm) < 1e-12


def test_rk4_on_a_linear_flow_matches_the_matrix_exponential():
    # f = x^2/2, K = half square, eps = 0: x' = m - lam x, m' = -alpha x - gamma m
    alpha, gamma, lam = 1.3, 0.4, 0.7
    flow = LionKFlow(lambda x: x, "half_square", alpha, gamma, lam, eps=0.0)
    sol = flow.trajectory(np.array([[1.0], [0.0]]), np.array([[0.0], [1.0]]), t_end=3.0, dt=0.01)
    M = expm(3.0 * np.array([[-lam, 1.0], [-alpha, -gamma]]))
    assert rel_err(np.concatenate([sol.x[-1], sol.m[-1]], axis=1), M.T) < 1e-9


@pytest.mark.parametrize("K", ["half_square", "log_cosh", "huber", "l1", "l2"])
def test_lyapunov_identity_and_the_wrong_coefficient(K):
    rng = np.random.default_rng(5)
    A = rng.standard_normal((D, D))
    A = A @ A.T / D + np.eye(D)

    def grad(x):
        return x @ A + np.cos(x)

    def value(x):
        return 0.5 * np.sum((x @ A) * x, axis=-1) + np.sum(np.sin(x), axis=-1)

    alpha, gamma, lam, eps = 0.8, 0.3, 1.0, 1.5
    x = rng.uniform(-0.9, 0.9, (200, D)) / (math.sqrt(D) if K == "l2" else 1.0)
    m = 2 * rng.standard_normal((200, D))
    flow = LionKFlow(grad, K, alpha, gamma, lam, eps, value=value)
    delta = flow.dissipation(x, m)
    assert np.all(delta >= 0)
    assert np.max(np.abs(flow.dH_dt(x, m) + delta) / delta) < 1e-12
    wrong = LionKFlow(grad, K, alpha, gamma, lam, eps, value=value, coefficient=wrong_coefficient(eps, gamma, lam))
    assert np.max(np.abs(wrong.dH_dt(x, m) + wrong.dissipation(x, m)) / delta) > 1e-2
    assert correct_coefficient(eps, gamma, lam) == pytest.approx(0.55 / 2.5)


def test_dissipation_allows_eps_zero():
    flow = LionKFlow(lambda x: x, "tanh", 1.0, 1.0, 1.0, eps=0.0, value=lambda x: 0.5 * np.sum(x * x, -1))
    x, m = np.array([[0.3, -0.2]]), np.array([[1.0, 0.5]])
    assert np.isfinite(flow.dissipation(x, m)).all()
    assert abs(flow.dH_dt(x, m)[0] + flow.dissipation(x, m)[0]) < 1e-14


def test_flow_rejects_bad_parameters():
    with pytest.raises(ValueError, match="lam"):
        LionKFlow(lambda x: x, lam=0.0)
    with pytest.raises(ValueError, match="eps"):
        LionKFlow(lambda x: x, eps=-1.0)
    with pytest.raises(TypeError, match="grad"):
        LionKFlow(None)
    with pytest.raises(ValueError, match="value="):
        LionKFlow(lambda x: x).lyapunov(np.zeros(2), np.zeros(2))


# ------------------------------------------------------------------ KKT measure and the box
def test_kkt_measure_known_answers():
    a, b, lam = np.array([1.0, 2.0, 0.5]), np.array([3.0, 0.2, -2.0]), 1.0
    x_clip = np.clip(b, -1 / lam, 1 / lam)
    assert abs(kkt_measure(a * (x_clip - b), x_clip, lam)) < 1e-15           # the clipped point is KKT
    x = np.random.default_rng(0).uniform(-1, 1, (1000, 3))
    G = kkt_measure(a * (x - b), x, lam)
    assert np.all(G >= -1e-15)                                                 # G >= 0 on the box
    assert kkt_measure(np.array([1.0, -1.0]), np.zeros(2), 2.0) == 2.0
    assert box_violation(np.array([[0.5, -2.0]]), 1.0)[0] == 1.0


def test_box_entry_and_invariance_for_adversarial_gradients():
    rng = np.random.default_rng(6)
    lam = np.array([0.5, 1.0, 2.0, 10.0])
    lr = np.array([1.0, 0.3, 0.01, 0.1]) / lam        # eta lambda in (0, 1]
    opt = stochopt.lion(lr=lr, betas=(0.5, 0.9), weight_decay=lam)
    state = opt.init(rng.standard_normal((4, D)) * 50)
    for _ in range(300):
        x_old = state.x
        state = opt.step(state, -np.sign(x_old) * 10.0 ** rng.uniform(-3, 3, (4, D)))   # always pushing out
        excess = np.abs(x_old) - 1 / lam[:, None]
        assert np.all(np.abs(state.x) - 1 / lam[:, None] <= (1 - (lr * lam))[:, None] * excess + 1e-12)


def test_coupled_decay_leaves_the_box():  # the planted mistake the box-invariance control uses
    lam, lr = 1.0, 0.1
    opt = stochopt.lion(lr=lr, betas=(0.9, 0.99))
    state = opt.init(np.full((1, 2), 0.5))
    for _ in range(100):
        state = opt.step(state, -np.ones((1, 2)) * 10 + lam * state.x)
    assert np.all(box_violation(state.x, lam) > 1.0)


def test_singlescale_lion_drifts_under_a_decaying_lr():
    lr = schedules.polynomial(0.01, b=1.0, p=0.5)
    a = iterate(stochopt.lion_singlescale(lr=lr, weight_decay=0.1), X0, grads(8))[0]
    b = iterate(stochopt.lion(lr=lr, weight_decay=0.1), X0, grads(8))[0]
    assert rel_err(a, b) > 1e-6
    const = iterate(stochopt.lion_singlescale(lr=0.01, weight_decay=0.1), X0, grads(8))[0]
    assert rel_err(const, iterate(stochopt.lion(lr=0.01, weight_decay=0.1), X0, grads(8))[0]) < 1e-12


# ------------------------------------------------------------------ the theory moved to verify
def test_moved_theory_names_point_to_verify():
    with pytest.raises(AttributeError, match="moved to verify.lion_theory.LionKFlow"):
        stochopt.lionk.LionKFlow
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        stochopt.lionk.nonexistent


def test_coefficient_defect_is_the_residual_for_any_coefficient():
    # dH_c/dt + Delta_c = (1 + eps lam)(c - c*) <m', x'> (proved in verify.symbolic.lyapunov), numerically
    rng = np.random.default_rng(9)
    x, m = rng.uniform(-0.9, 0.9, (100, D)), 2 * rng.standard_normal((100, D))
    for c in (0.0, 0.3, wrong_coefficient(1.5, 0.3, 1.0), None):
        flow = LionKFlow(lambda z: z + np.cos(z), "tanh", 0.8, 0.3, 1.0, 1.5,
                         value=lambda z: np.sum(0.5 * z * z + np.sin(z), -1), coefficient=c)
        residual = flow.dH_dt(x, m) + flow.dissipation(x, m)
        assert np.max(np.abs(residual - flow.coefficient_defect(x, m))) < 1e-12 * np.max(np.abs(flow.dissipation(x, m)))
    assert np.all(flow.coefficient_defect(x, m) == 0.0)


def test_trajectory_needs_a_smooth_kernel():
    with pytest.raises(ValueError, match="smooth kernels"):
        LionKFlow(lambda x: x, "l1").trajectory(np.zeros((1, 2)), np.zeros((1, 2)), 1.0, 0.1)


def test_box_conjugates_accept_a_point_on_the_face_up_to_rounding():
    y = np.array([np.nextafter(1.0, 2.0), -0.5])    # lam * (1/lam) may exceed 1 by an ulp
    assert kernel("l1").conjugate(y) == 0.0 and np.isfinite(kernel("huber").conjugate(y))
    assert kernel("huber").conjugate(np.array([1.001, 0.0])) == np.inf


def _rate_run(K, d=4, decay=False, noise=0.0, seed=0):
    import math

    import problems

    p = problems.get("separable-quadratic", d=d, normalized=True, noise=noise, seed=seed)
    lr, b1, b2 = 3.0 / (math.sqrt(d) * K ** 0.75), 1 - 1 / math.sqrt(K), 1 - 1 / math.sqrt(K)
    lam = math.sqrt(d) / 3.0 if decay else 0.0
    x0 = np.clip(np.asarray(p.x0), -1 / lam, 1 / lam) if decay else np.asarray(p.x0)
    opt, acc = stochopt.lion(lr=lr, betas=(b1, b2), weight_decay=lam), 0.0
    state = opt.init(x0)
    for _ in range(K):
        g = p.grad(state.x)
        acc += float(kkt_measure(g, state.x, lam))
        state = opt.step(state, g)
    gap = float(p.value(x0)) - (p.box_solution(lam)[1] if decay else 0.0)
    bound = rate_bound(K, lr, b1, b2, p.constants["smoothness_L1"], 0.0, gap, float(np.sum(np.abs(p.grad(x0)))),
                       weight_decay=decay)
    return acc / K, bound


@pytest.mark.parametrize("decay", [False, True])
def test_rate_bound_holds_on_a_deterministic_run_and_scales_like_k_to_minus_a_quarter(decay):
    for K in (64, 1024):
        measured, bound = _rate_run(K, decay=decay)
        assert 0 <= measured <= float(bound.total)
    big = rate_bound(10**6, 1e-4, 0.999, 0.999, 4.0, 2.0, 1.0, 2.0).total
    small = rate_bound(16 * 10**6, 1e-4 / 8, 1 - 0.25e-3, 1 - 0.25e-3, 4.0, 2.0, 1.0, 2.0).total
    assert small < big
    with pytest.raises(ValueError, match="horizon"):
        rate_bound(0, 1e-3, 0.9, 0.9, 1.0, 1.0, 1.0, 1.0)


# ------------------------------------------------------------------ docs
@pytest.mark.parametrize("page", ["docs/lion.md", "docs/claims/lion.md"])
def test_python_examples_in_the_docs_run(page):
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parent.parent / page).read_text()
    blocks = re.findall(r"```python\n(.*?)\n```", text, re.S)
    assert blocks or page != "docs/lion.md", "docs/lion.md must keep a runnable example"
    for i, code in enumerate(blocks):
        exec(compile(code, f"{page}[python block {i}]", "exec"), {})
