"""Adaptive methods against their peers: torch.optim at 1e-12 relative in float64, Adan's two
conventions, the AdamSSM reductions, delta-GClip's step factor (planted mistakes: test_ground_truth.py). (The plain loop of
each method, written from its paper, is in stochopt.ground_truth, checked by test_ground_truth.py.)"""
import numpy as np
import pytest

import stochopt
from stochopt import adaptive, ground_truth

RTOL = 1e-12


def _grads(seed, steps=60, shape=(3, 5), scale=1.0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(steps,) + shape) * scale * np.exp(rng.normal(size=(steps,) + (1,) * len(shape)))


def _run(opt, x0, grads, g_of_x=False):
    """(iterates x_1..x_K, final state); with ``g_of_x`` the gradient is grads[k] + 0.3 x_k."""
    run = ground_truth.trajectory(opt, x0, (lambda x, k: grads[k] + (0.3 * x if g_of_x else 0.0), len(grads)))
    return run.x[1:], run.state


def _torch_run(make, x0, grads, g_of_x=False):
    torch = pytest.importorskip("torch")
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
        opt = make([p])
        xs = []
        for g in grads:
            gt = torch.tensor(g) + (0.3 * p.detach() if g_of_x else 0.0)
            p.grad = gt.clone()
            opt.step()
            xs.append(p.detach().numpy().copy())
        return np.stack(xs)
    finally:
        torch.set_default_dtype(old)


def _assert_rel(a, b, rtol=RTOL):
    err = np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))
    assert err <= rtol, f"max relative difference {err:.3e} > {rtol}"


X0 = np.random.default_rng(0).normal(size=(3, 5))


@pytest.mark.parametrize("wd", [0.0, 0.1])
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.0, 0.9), (0.7, 0.5)])
def test_adam_matches_torch(wd, betas):
    torch = pytest.importorskip("torch")
    grads = _grads(1)
    ours, _ = _run(stochopt.adam(lr=0.01, betas=betas, eps=1e-8, weight_decay=wd), X0, grads, g_of_x=True)
    ref = _torch_run(lambda p: torch.optim.Adam(p, lr=0.01, betas=betas, eps=1e-8, weight_decay=wd,
                                                foreach=False), X0, grads, g_of_x=True)
    _assert_rel(ours, ref)


def test_adamw_matches_torch():
    torch = pytest.importorskip("torch")
    grads = _grads(2)
    ours, _ = _run(stochopt.adamw(lr=0.02, betas=(0.8, 0.99), weight_decay=0.5), X0, grads, g_of_x=True)
    ref = _torch_run(lambda p: torch.optim.AdamW(p, lr=0.02, betas=(0.8, 0.99), weight_decay=0.5, foreach=False),
                     X0, grads, g_of_x=True)
    _assert_rel(ours, ref)


@pytest.mark.parametrize("kw", [dict(), dict(weight_decay=0.1), dict(momentum=0.9), dict(centered=True),
                                dict(centered=True, momentum=0.5)])
def test_rmsprop_matches_torch(kw):
    torch = pytest.importorskip("torch")
    grads = _grads(3)
    ours, _ = _run(stochopt.rmsprop(lr=0.01, alpha=0.95, eps=1e-6, **kw), X0, grads, g_of_x=True)
    ref = _torch_run(lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.95, eps=1e-6, foreach=False, **kw),
                     X0, grads, g_of_x=True)
    _assert_rel(ours, ref)


def test_rmsprop_adam_convention_is_adam_with_beta1_zero():
    grads = _grads(4)
    a, _ = _run(stochopt.rmsprop(lr=0.01, alpha=0.9, convention="adam"), X0, grads, g_of_x=True)
    b, _ = _run(stochopt.adam(lr=0.01, betas=(0.0, 0.9)), X0, grads, g_of_x=True)
    _assert_rel(a, b)
    c, _ = _run(stochopt.rmsprop(lr=0.01, alpha=0.9), X0, grads, g_of_x=True)
    assert np.max(np.abs(a - c)) > 1e-3          # the two conventions really differ


def test_nadam_torch_schedule_matches_and_constant_mu_differs():
    torch = pytest.importorskip("torch")
    grads = _grads(5)
    ref = _torch_run(lambda p: torch.optim.NAdam(p, lr=0.01, foreach=False), X0, grads)
    ours_sched, _ = _run(stochopt.nadam(lr=0.01, momentum_decay=4e-3), X0, grads)
    _assert_rel(ours_sched, ref)
    dozat, _ = _run(stochopt.nadam(lr=0.01), X0, grads)
    # documented difference: torch's mu_t warms up from beta1/2, Dozat's mu is beta1 throughout
    rel = np.max(np.abs(dozat - ref)) / np.max(np.abs(ref - X0))
    assert rel > 1e-2


def test_adan_conventions_equivalent_and_restart():
    grads = _grads(8, steps=40)
    b = np.array([0.02, 0.08, 0.01])
    off, _ = _run(stochopt.adan(lr=0.01, betas=tuple(1 - b)), X0, grads)
    pap, _ = _run(stochopt.adan(lr=0.01, betas=tuple(b), convention="paper", bias_correction=True,
                                prev_grad="first"), X0, grads)
    _assert_rel(pap, off, 1e-11)
    plain, _ = _run(stochopt.adan(lr=0.01, convention="paper"), X0, grads)
    assert np.max(np.abs(plain - off)) > 1e-4
    # restart every 10 steps == four independent runs chained
    r, _ = _run(stochopt.adan(lr=0.01, restart_every=10), X0, grads)
    x = X0
    for c in range(4):
        seg, _ = _run(stochopt.adan(lr=0.01), x, grads[10 * c:10 * c + 10])
        x = seg[-1]
    _assert_rel(r[-1], x, 1e-11)


def test_adamssm_reduces_to_adam_and_dc_gain():
    grads = _grads(9)
    a, _ = _run(stochopt.adamssm(lr=0.01, betas=(0.9, 0.99), pole=0.7, zero=0.7), X0, grads, g_of_x=True)
    b, _ = _run(stochopt.adam(lr=0.01, betas=(0.9, 0.99)), X0, grads, g_of_x=True)
    _assert_rel(a, b)
    opt = stochopt.adamssm(lr=0.01, betas=(0.9, 0.99), pole=0.95, zero=0.5)
    s = opt.init(np.zeros(3))
    g = np.array([2.0, -0.5, 3.0])
    for _ in range(30):
        s = opt.step(s, g)
        _assert_rel(s.v / s.cv, g * g, 1e-12)       # bias-corrected v is g^2 at every step


def test_adamssm_impulse_response():
    for beta2, p, z in [(0.9, 0.5, 0.3), (0.99, 0.9, 0.95), (0.8, 0.8, 0.2)]:
        opt = stochopt.adamssm(lr=1e-3, betas=(0.0, beta2), pole=p, zero=z, bias_correction=False)
        s = opt.init(np.zeros(1))
        out = []
        for k in range(40):
            s = opt.step(s, np.array([1.0 if k == 0 else 0.0]))
            out.append(s.v[0])
        np.testing.assert_allclose(out, adaptive.adamssm_impulse_response(beta2, p, z, 40), rtol=1e-9, atol=1e-15)


def test_state_space_forms_match_plain_updates():
    torch = pytest.importorskip("torch")
    grads = _grads(10)
    ours, _ = _run(adaptive.state_space("adagrad", lr=0.1, eps=1e-10), X0, grads)
    ref = _torch_run(lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-10, foreach=False), X0, grads)
    _assert_rel(ours, ref)
    ours, _ = _run(adaptive.state_space("adam", lr=0.01, betas=(0.9, 0.99)), X0, grads)
    ref, _ = _run(stochopt.adam(lr=0.01, betas=(0.9, 0.99)), X0, grads)
    _assert_rel(ours, ref)          # AdaBelief against its plain loop: tests/test_ground_truth.py


def test_delta_gclip_step_factor_bounds_and_zero_gradient():
    lr, gamma, delta = 0.5, 0.1, 1e-3
    opt = stochopt.delta_gclip(lr=lr, gamma=gamma, delta=delta)
    rng = np.random.default_rng(0)
    g = rng.normal(size=(200, 4)) * 10.0 ** rng.uniform(-4, 6, size=(200, 1))
    g[0] = 0.0
    x0 = rng.normal(size=(200, 4))
    s = opt.step(opt.init(x0), g)
    h = adaptive.gclip_factor(g, lr, gamma, delta)
    assert np.all((h >= lr * delta) & (h <= lr))
    np.testing.assert_array_equal(s.x[0], x0[0])
    _assert_rel(s.x[1:], x0[1:] - h[1:] * g[1:])
    s = stochopt.gclip(lr=lr, gamma=gamma).step(stochopt.gclip(lr=lr, gamma=gamma).init(x0), g)
    assert np.any(adaptive.gclip_factor(g, lr, gamma, 0.0) < lr * delta)   # GClip goes below lr*delta


def test_replica_axis_per_replica_hyper_and_no_mutation():
    lrs = np.array([0.1, 0.01, 0.001])
    for make in [lambda lr: stochopt.adam(lr=lr), lambda lr: stochopt.adamw(lr=lr),
                 lambda lr: stochopt.rmsprop(lr=lr), lambda lr: stochopt.nadam(lr=lr),
                 lambda lr: stochopt.adan(lr=lr), lambda lr: stochopt.adamssm(lr=lr),
                 lambda lr: stochopt.delta_gclip(lr=lr)]:
        grads = _grads(11, steps=5)
        together, _ = _run(make(lrs), X0, grads)
        for r in range(3):
            alone, _ = _run(make(float(lrs[r])), X0[r], grads[:, r])
            np.testing.assert_array_equal(together[:, r], alone)
        s = make(lrs).init(X0)
        g = grads[0].copy()
        before = {k: v.copy() for k, v in s.buffers.items()}
        make(lrs).step(s, g)
        np.testing.assert_array_equal(g, grads[0])
        for k, v in s.buffers.items():
            np.testing.assert_array_equal(v, before[k])


def test_float32_kept():
    x0 = np.zeros((2, 3), dtype=np.float32)
    for opt in [stochopt.adam(lr=0.1), stochopt.adan(lr=0.1), stochopt.adamssm(lr=0.1), stochopt.rmsprop(lr=0.1)]:
        s = opt.step(opt.init(x0), np.ones((2, 3), dtype=np.float32))
        assert s.x.dtype == np.float32


@pytest.mark.parametrize("call, word", [
    (lambda: stochopt.adam(lr=-1), "lr"),
    (lambda: stochopt.adam(betas=(0.9, 1.0)), "beta2"),
    (lambda: stochopt.adam(betas=(0.9,)), "betas"),
    (lambda: stochopt.adamw(eps=0.0), "eps"),
    (lambda: stochopt.rmsprop(alpha=1.5), "alpha"),
    (lambda: stochopt.rmsprop(convention="keras"), "convention"),
    (lambda: stochopt.rmsprop(convention="adam", momentum=0.9), "convention"),
    (lambda: stochopt.nadam(momentum_decay=-1.0), "momentum_decay"),
    (lambda: stochopt.adan(betas=(0.9, 0.9)), "betas"),
    (lambda: stochopt.adan(convention="x"), "convention"),
    (lambda: stochopt.adan(restart_every=0), "restart_every"),
    (lambda: stochopt.adamssm(pole=1.0), "pole"),
    (lambda: stochopt.adamssm(pole=0.5, zero=0.9999, betas=(0.9, 0.9)), "zero"),
    (lambda: stochopt.delta_gclip(lr=0.1, delta=2.0), "delta"),
    (lambda: stochopt.delta_gclip(lr=0.1, gamma=0.0), "gamma"),
])
def test_bad_hyperparameters_name_the_parameter(call, word):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert word in str(info.value)


def test_sqrt_scaling_regime_gate_says_inconclusive_out_of_regime():
    """The square-root rule is only claimed in the noise-dominated regime: the check run in the
    signal-dominated regime (the control's noise level) must not pass or fail, but say
    'inconclusive' and give the measured noise-to-signal ratio as the reason."""
    from verify.families import adaptive as claims

    v = claims.sqrt_scaling.fn("quick", 0, sigma0=0.01)
    assert v.status == "inconclusive"
    assert v.details["noise_to_signal_at_start"] < 10
    assert "out of regime" in v.details["reason"]
    assert v.figures                                   # the curves are still drawn
