"""stochopt.adan against pytorch_optimizer.Adan (an independent peer, installed by the ``test`` extra).

Where the conventions agree: pytorch_optimizer implements the official code's convention, so it
equals ``stochopt.adan`` with the official betas (1 - the paper's), bias corrections on,
g_(-1) = g_0 (its ``previous_grad`` starts at -g_0, so the first difference is 0), no restarts, and
``max_grad_norm = 0`` (no global clipping); ``weight_decouple=False`` is the proximal decay
(``no_prox=False``) and ``weight_decouple=True`` the decoupled one (``no_prox=True``). The paper
convention agrees after the conversion betas -> 1 - betas with ``bias_correction=True,
prev_grad="first"``. It does NOT agree with ``prev_grad="zero"``, ``bias_correction=False`` or
``restart_every`` (pytorch_optimizer has no restart), which the last test shows.

Float64 throughout; the peer multiplies and divides in a different order, so the agreement is to
rounding: 1e-12 relative, on the parameters and on every buffer (m, v, n).
"""
import numpy as np
import pytest

import stochopt

torch = pytest.importorskip("torch")
peer = pytest.importorskip("pytorch_optimizer")

STEPS, TOL = 60, 1e-12


def _gradients(seed=0, shape=(3, 5)):
    rng = np.random.default_rng(seed)
    scales = 10.0 ** rng.uniform(-2, 1, size=(STEPS, 1, 1))     # gradient differences of every size
    return rng.standard_normal((STEPS,) + shape) * scales


def _run_peer(x0, grads, **kw):
    p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
    opt = peer.Adan([p], **kw)
    xs = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        xs.append(p.detach().numpy().copy())
    state = opt.state[p]
    return np.stack(xs), {"m": state["exp_avg"].numpy(), "v": state["exp_avg_diff"].numpy(),
                          "n": state["exp_avg_sq"].numpy()}


def _run_ours(x0, grads, **kw):
    opt = stochopt.adan(**kw)
    state, xs = opt.init(x0), []
    for g in grads:
        state = opt.step(state, g)
        xs.append(state.x)
    return np.stack(xs), {name: state.buffers[name] for name in ("m", "v", "n")}


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("weight_decouple", [False, True], ids=["prox", "no_prox"])
@pytest.mark.parametrize("foreach", [False, True], ids=["per-param", "foreach"])
def test_official_convention_matches_pytorch_optimizer(weight_decouple, foreach):
    x0, grads = np.random.default_rng(1).standard_normal((3, 5)), _gradients()
    betas, lr, wd, eps = (0.98, 0.92, 0.99), 0.01, 0.05, 1e-8
    theirs, their_buf = _run_peer(x0, grads, lr=lr, betas=betas, weight_decay=wd, weight_decouple=weight_decouple,
                                  eps=eps, foreach=foreach)
    ours, our_buf = _run_ours(x0, grads, lr=lr, betas=betas, weight_decay=wd, no_prox=weight_decouple, eps=eps)
    assert _rel(ours, theirs) <= TOL
    for name in ("m", "v", "n"):
        assert _rel(our_buf[name], their_buf[name]) <= TOL, name


def test_paper_convention_converted_matches_pytorch_optimizer():
    x0, grads = np.zeros((3, 5)), _gradients(2)
    paper = (0.02, 0.08, 0.01)
    theirs, _ = _run_peer(x0, grads, lr=0.01, betas=tuple(1 - b for b in paper), weight_decay=0.02)
    ours, _ = _run_ours(x0, grads, lr=0.01, betas=paper, weight_decay=0.02, convention="paper", bias_correction=True,
                        prev_grad="first")
    assert _rel(ours, theirs) <= TOL


@pytest.mark.parametrize("kw", [{"prev_grad": "zero"}, {"bias_correction": False}, {"restart_every": 20}],
                         ids=["g_-1=0", "no-bias-correction", "restart"])
def test_conventions_pytorch_optimizer_does_not_have_differ(kw):
    x0, grads = np.zeros((3, 5)), _gradients(3)
    theirs, _ = _run_peer(x0, grads, lr=0.01)
    ours, _ = _run_ours(x0, grads, lr=0.01, **kw)
    assert _rel(ours, theirs) > 1e-6
