"""QHM, QHAdam, QHAdamW and Dozat's NAdam: contract, special cases, peers (torch, qhoptim)."""
import warnings

import numpy as np
import pytest

import stochopt
from stochopt import qh
from stochopt.ground_truth import trajectory

STEPS = 250


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def run(opt, x0, G):
    """Iterates x_0 .. x_K (plain loops of every method: stochopt.ground_truth, test_ground_truth.py)."""
    return trajectory(opt, x0, G).x


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    return rng.standard_normal((STEPS, 4, 6)), rng.standard_normal((4, 6))


# ------------------------------------------------------------------------------ contract
def test_step_is_pure_and_keeps_dtype():
    for opt in (qh.qhm(0.1, 0.9, 0.7, weight_decay=0.1), qh.qhadam(nus=(0.7, 0.9), weight_decay=0.1),
                qh.qhadamw(weight_decay=0.1), qh.nadam_dozat(), qh.pid(-0.5, 1.0, 0.5),
                qh.synthesized_nesterov(0.1, 0.5, 0.5), qh.triple_momentum(1.0, 10.0), qh.accsgd(0.1, 10.0, 2.0),
                qh.two_state(**qh.to_two_state(1.0, 0.5, 0.5, 2.0, 0.5)), qh.robust_momentum(1.0, 10.0)):
        x0 = np.array([1.0, -2.0, 3.0], dtype=np.float32)
        g = np.array([0.5, 0.5, -1.0], dtype=np.float32)
        s = opt.step(opt.init(x0), g)
        s_copy = {k: v.copy() for k, v in s.buffers.items()}, s.x.copy()
        g_copy = g.copy()
        s2 = opt.step(s, g)
        assert s2.x.dtype == np.float32, opt.name
        np.testing.assert_array_equal(g, g_copy)
        np.testing.assert_array_equal(s.x, s_copy[1])
        for k, v in s.buffers.items():
            np.testing.assert_array_equal(v, s_copy[0][k])


def test_per_replica_hyperparameters_equal_single_runs(data):
    G, x0 = data
    lr = np.array([0.1, 0.2, 0.3, 0.4])
    mom = np.array([0.5, 0.6, 0.7, 0.8])
    nu = np.array([0.0, 0.5, 1.0, 1.5])
    together = run(qh.qhm(lr, mom, nu), x0, G)
    for r in range(4):
        alone = run(qh.qhm(lr[r], mom[r], nu[r]), x0[r], G[:, r])
        np.testing.assert_array_equal(together[:, r], alone)  # bit-identical
    b1 = np.array([0.5, 0.8, 0.9, 0.99])
    nus = (np.array([0.0, 0.3, 0.7, 1.0]), np.array([1.0, 0.5, 0.9, 0.99]))
    together = run(qh.qhadam(1e-2, (b1, 0.999), nus), x0, G)
    for r in range(4):
        alone = run(qh.qhadam(1e-2, (b1[r], 0.999), (nus[0][r], nus[1][r])), x0[r], G[:, r])
        np.testing.assert_array_equal(together[:, r], alone)


@pytest.mark.parametrize("factory, kwargs, name", [
    (qh.qhm, dict(lr=0.0, momentum=0.9, nu=0.7), "lr"),
    (qh.qhm, dict(lr=0.1, momentum=1.0, nu=0.7), "momentum"),
    (qh.qhm, dict(lr=0.1, momentum=0.9, nu=float("nan")), "nu"),
    (qh.qhm, dict(lr=0.1, momentum=0.9, nu=0.7, weight_decay=-1.0), "weight_decay"),
    (qh.qhm, dict(lr=0.1, momentum=0.9, nu=0.7, weight_decay_type="decoupled"), "weight_decay_type"),
    (qh.qhadam, dict(betas=(0.9,)), "betas"),
    (qh.qhadam, dict(betas=(0.9, 1.0)), "beta2"),
    (qh.qhadam, dict(nus=(0.7, 1.5)), "nu2"),
    (qh.qhadam, dict(eps=-1e-8), "eps"),
    (qh.qhadam, dict(lr=np.ones((2, 2))), "lr"),
    (qh.qhadamw, dict(weight_decay=-0.1), "weight_decay"),
    (qh.nadam_dozat, dict(betas=(1.0, 0.999)), "beta1"),
    (qh.pid, dict(k_p=0.5, k_i=1.0, k_d=0.5), "beta_f"),
    (qh.pid, dict(k_p=-0.5, k_i=1.0, k_d=0.5, beta_f=1.0), "beta_f"),
    (qh.synthesized_nesterov, dict(alpha=0.1, beta1=1.0, beta2=0.5), "beta1"),
    (qh.triple_momentum, dict(l=1.0, kappa=1.0), "kappa"),
    (qh.accsgd, dict(delta=0.1, kappa=10.0, xi=5.0), "xi"),
    (qh.two_state, dict(h=0.5, k=0.0, l=0.1, m=0.1, q=1.0, z=-0.1, a0="ones"), "a0"),
])
def test_bad_hyperparameters_name_the_parameter(factory, kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        factory(**kwargs)


def test_qhm_per_replica_shape_mismatch():
    with pytest.raises(ValueError, match="replicas"):
        qh.qhm(lr=np.ones(3), momentum=np.full(2, 0.5), nu=0.7)


def test_exported_at_top_level():
    assert stochopt.qhm is qh.qhm and stochopt.qhadam is qh.qhadam and stochopt.qhadamw is qh.qhadamw
    for name in ("qhm", "qhadam", "qhadamw"):
        assert name in stochopt.METHODS
        stochopt.METHODS[name](lr=0.1)  # accepts lr= alone


# ------------------------------------------------------------------------------ QHM
def test_qhm_special_cases(data):
    G, x0 = data
    lr, beta = 0.3, 0.8
    sgd = run(stochopt.sgd(lr=lr), x0, G)
    assert rel(run(qh.qhm(lr, beta, 0.0), x0, G), sgd) <= 1e-12
    assert rel(run(qh.qhm(lr, 0.0, 0.37), x0, G), sgd) <= 1e-12
    assert rel(run(qh.qhm(lr, beta, 1.0), x0, G), run(stochopt.heavy_ball(lr=lr, momentum=beta), x0, G)) <= 1e-12
    # nu = 1 is NOT momentum with discount nu * beta
    assert rel(run(qh.qhm(lr, 0.5 * beta, 1.0), x0, G), run(qh.qhm(lr, beta, 0.5), x0, G)) > 1e-3


def test_qhm_weight_decay_types_are_two_methods(data):
    """Both types equal their plain loops (test_ground_truth.py); here: they are different methods."""
    G, x0 = data
    lr, beta, nu, wd = 0.1, 0.9, 0.7, 0.05
    grad_type = run(qh.qhm(lr, beta, nu, weight_decay=wd), x0, G)
    direct = run(qh.qhm(lr, beta, nu, weight_decay=wd, weight_decay_type="direct"), x0, G)
    assert rel(grad_type, direct) > 1e-4


# ------------------------------------------------------------------------------ QHAdam
def test_qhadam_first_step_any_nus():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((5, 4)) * 10.0 ** rng.uniform(-3, 3, (5, 1))
    x0 = rng.standard_normal((5, 4))
    nus = (rng.uniform(-1, 2, 5), rng.uniform(0, 1, 5))
    opt = qh.qhadam(lr=0.01, betas=(0.9, 0.99), nus=nus, eps=1e-6)
    x1 = opt.step(opt.init(x0), g).x
    assert rel(x1, x0 - 0.01 * g / (np.abs(g) + 1e-6)) <= 1e-14


def test_qhadam_nu1_zero_is_adam_with_beta1_zero(data):
    G, x0 = data
    ours = run(qh.qhadam(1e-2, (0.9, 0.99), (0.0, 1.0)), x0, G)
    assert rel(ours, run(stochopt.adam(lr=1e-2, betas=(0.0, 0.99), eps=1e-8), x0, G)) <= 1e-12


def test_qhadam_matches_stochopt_adam_and_adamw(data):
    G, x0 = data
    assert rel(run(qh.qhadam(1e-2, (0.9, 0.99), (1.0, 1.0), 0.01, eps=1e-8), x0, G),
               run(stochopt.adam(lr=1e-2, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01), x0, G)) <= 1e-12
    assert rel(run(qh.qhadamw(1e-2, (0.9, 0.99), (1.0, 1.0), 0.01, eps=1e-8), x0, G),
               run(stochopt.adamw(lr=1e-2, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01), x0, G)) <= 1e-12


def test_nadam_dozat_first_step_and_stochopt_nadam(data):
    G, x0 = data
    opt = qh.nadam_dozat(lr=1.0, betas=(0.9, 0.999), eps=0.0)
    ours = qh.qhadam(lr=1.0, **{k: v for k, v in qh.from_nadam(1.0, (0.9, 0.999)).items() if k != "lr"}, eps=0.0)
    d1 = opt.step(opt.init(x0), G[0]).x - x0
    d2 = ours.step(ours.init(x0), G[0]).x - x0
    np.testing.assert_allclose(d1 / d2, (1 + 2 * 0.9) / (1 + 0.9), rtol=1e-13)
    # stochopt.nadam's default (constant-mu) form is Dozat's NAdam: the two are written independently
    assert rel(run(qh.nadam_dozat(2e-3, (0.9, 0.999), 1e-8), x0, G),
               run(stochopt.nadam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8), x0, G)) <= 1e-12


# ------------------------------------------------------------------------------ torch peers


def torch_run(make, x0, G):
    import torch

    p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
    opt = make([p])
    out = [x0.copy()]
    for g in G:
        p.grad = torch.tensor(g, dtype=torch.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt.step()
        out.append(p.detach().numpy().copy())
    return np.stack(out)


def test_qhadam_matches_torch_adam_and_adamw(data):
    torch = pytest.importorskip("torch")
    G, x0 = data
    kw = dict(lr=1e-2, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01)
    ours = run(qh.qhadam(1e-2, (0.9, 0.99), (1.0, 1.0), 0.01, eps=1e-8), x0, G)
    assert rel(ours, torch_run(lambda p: torch.optim.Adam(p, **kw), x0, G)) <= 1e-12
    ours_w = run(qh.qhadamw(1e-2, (0.9, 0.99), (1.0, 1.0), 0.01, eps=1e-8), x0, G)
    assert rel(ours_w, torch_run(lambda p: torch.optim.AdamW(p, **kw), x0, G)) <= 1e-12


def test_qhm_nesterov_and_momentum_match_torch_sgd(data):
    torch = pytest.importorskip("torch")
    G, x0 = data
    lr, beta = 0.5, 0.8
    ref = torch_run(lambda p: torch.optim.SGD(p, lr=lr * (1 - beta), momentum=beta, nesterov=True), x0, G)
    assert rel(run(qh.qhm(lr, beta, beta), x0, G), ref) <= 1e-12
    ref = torch_run(lambda p: torch.optim.SGD(p, lr=lr * (1 - beta), momentum=beta), x0, G)
    assert rel(run(qh.qhm(lr, beta, 1.0), x0, G), ref) <= 1e-12


def test_nadam_dozat_is_torch_nadam_without_warmup(data):
    torch = pytest.importorskip("torch")
    G, x0 = data
    ours = run(qh.nadam_dozat(2e-3, (0.9, 0.999), 1e-8), x0, G)
    # momentum_decay -> infinity removes torch's warm-up: 0.96 ** (t * 1e9) == 0.0 exactly.
    # torch keeps mu_product in the default scalar dtype (float32 unless the default is float64).
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        no_warmup = torch_run(lambda p: torch.optim.NAdam(p, lr=2e-3, momentum_decay=1e9), x0, G)
        default = torch_run(lambda p: torch.optim.NAdam(p, lr=2e-3), x0, G)
    finally:
        torch.set_default_dtype(previous)
    assert rel(ours, no_warmup) <= 1e-12
    assert rel(ours, default) > 1e-3  # from_nadam / Dozat's NAdam is not torch.optim.NAdam


# ------------------------------------------------------------------------------ qhoptim
def qhoptim_run(cls, kwargs, x0, G):
    return torch_run(lambda p: cls(p, **kwargs), x0, G)


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.5, momentum=0.9, nu=0.7),
    dict(lr=0.5, momentum=0.99, nu=1.3, weight_decay=0.05),
    dict(lr=0.5, momentum=0.5, nu=0.2, weight_decay=0.05, weight_decay_type="direct"),
])
def test_qhm_matches_qhoptim(data, kwargs):
    qhoptim = pytest.importorskip("qhoptim.pyt")
    G, x0 = data
    assert rel(run(qh.qhm(**kwargs), x0, G), qhoptim_run(qhoptim.QHM, kwargs, x0, G)) <= 1e-12


@pytest.mark.parametrize("kwargs", [
    dict(lr=1e-2),
    dict(lr=1e-2, betas=(0.99, 0.999), nus=(0.7, 1.0)),
    dict(lr=1e-2, betas=(0.9, 0.99), nus=(0.3, 0.6), weight_decay=0.01, eps=1e-6),
    dict(lr=1e-2, betas=(0.9, 0.99), nus=(1.2, 0.9), weight_decay=0.01, decouple_weight_decay=True),
])
def test_qhadam_matches_qhoptim(data, kwargs):
    qhoptim = pytest.importorskip("qhoptim.pyt")
    G, x0 = data
    assert rel(run(qh.qhadam(**kwargs), x0, G), qhoptim_run(qhoptim.QHAdam, kwargs, x0, G)) <= 1e-12


def test_qhadamw_matches_qhoptim(data):
    qhoptim = pytest.importorskip("qhoptim.pyt")
    G, x0 = data
    kwargs = dict(lr=1e-2, betas=(0.9, 0.99), nus=(0.7, 1.0), weight_decay=0.1)
    assert rel(run(qh.qhadamw(**kwargs), x0, G), qhoptim_run(qhoptim.QHAdamW, kwargs, x0, G)) <= 1e-12


def test_qhoptim_changes_the_callers_gradient_we_do_not():
    qhoptim = pytest.importorskip("qhoptim.pyt")
    import torch

    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = qhoptim.QHM([p], lr=0.1, momentum=0.9, nu=0.7, weight_decay=0.5)
    p.grad = torch.ones(3, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt.step()
    assert float(p.grad[0]) == 1.5  # qhoptim added weight_decay * p into p.grad in place
    g = np.ones(3)
    ours = qh.qhm(0.1, 0.9, 0.7, weight_decay=0.5)
    ours.step(ours.init(np.ones(3)), g)
    np.testing.assert_array_equal(g, np.ones(3))


# ------------------------------------------------------------------------------ docs
@pytest.mark.parametrize("page", ["docs/quasi-hyperbolic.md", "docs/differences-from-qhoptim.md", "docs/claims/qh.md"])
def test_python_examples_in_the_docs_run(page):
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parent.parent / page).read_text()
    for i, code in enumerate(re.findall(r"```python\n(.*?)\n```", text, re.S)):
        exec(compile(code, f"{page}[python block {i}]", "exec"), {})
