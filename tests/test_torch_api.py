"""The PyTorch adapters as torch optimizers: gradients untouched, checkpoints, errors, hygiene."""
import doctest
import io
import os
import pathlib
import runpy
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stochopt.torch import GSGD, QHM, Lion, QHAdam, QHAdamW  # noqa: E402
from test_torch_common import SHAPES, gradient_sequence, initial_values  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Each optimizer with every feature that touches the gradient switched on.
CONFIGS = {
    "GSGD": (GSGD, dict(lr=0.05, momentum=0.9, Dphi_map="normalized", weight_decay=0.1, nesterov=0.5,
                        maximize=True)),
    "GSGD-sign": (GSGD, dict(lr=0.05, momentum=0.0, Dphi_map="sign", weight_decay=0.1)),
    "Lion": (Lion, dict(lr=0.01, weight_decay=0.3, nesterov_momentum=0.2)),
    "QHM": (QHM, dict(lr=0.5, momentum=0.9, nu=0.7, weight_decay=0.1)),
    "QHAdam": (QHAdam, dict(lr=0.01, nus=(0.7, 0.9), weight_decay=0.1)),
    "QHAdamW": (QHAdamW, dict(lr=0.01, nus=(0.7, 0.9), weight_decay=0.1)),
}


def _params(dtype=torch.float64, seed=0):
    return [torch.nn.Parameter(torch.tensor(v, dtype=dtype)) for v in initial_values(SHAPES, seed)]


def _two_groups(params, name):
    """Two param groups; the second changes the learning rate."""
    cls, kwargs = CONFIGS[name]
    return cls([{"params": params[:2]}, {"params": params[2:], "lr": kwargs["lr"] / 3}], **kwargs)


def _feed(params, grads, dtype=torch.float64):
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g, dtype=dtype)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_grad_is_never_modified(name):
    params = _params()
    opt = _two_groups(params, name)
    for grads in gradient_sequence(SHAPES, 4, seed=1):
        _feed(params, grads)
        before = [p.grad for p in params]
        copies = [p.grad.clone() for p in params]
        opt.step()
        assert all(p.grad is b for p, b in zip(params, before))
        assert all(torch.equal(p.grad, c) for p, c in zip(params, copies))


@pytest.mark.parametrize("name", list(CONFIGS))
def test_state_dict_round_trip_continues_bit_identically(name, tmp_path):
    grads = gradient_sequence(SHAPES, 12, seed=2)
    params = _params()
    opt = _two_groups(params, name)
    for g in grads[:5]:
        _feed(params, g)
        opt.step()
    for group in opt.param_groups:  # a scheduler's change must survive the checkpoint too
        group["lr"] *= 0.5
    path = tmp_path / "opt.pt"
    torch.save(opt.state_dict(), path)
    fresh_params = [torch.nn.Parameter(p.detach().clone()) for p in params]
    fresh = _two_groups(fresh_params, name)
    fresh.load_state_dict(torch.load(path))  # weights_only=True (torch's default): no pickled code
    for g in grads[5:]:
        _feed(params, g)
        opt.step()
        _feed(fresh_params, g)
        fresh.step()
    assert all(torch.equal(a, b) for a, b in zip(params, fresh_params))
    for a, b in zip(params, fresh_params):
        for key, value in opt.state[a].items():
            other = fresh.state[b][key]
            assert torch.equal(value, other) if isinstance(value, torch.Tensor) else value == other


def test_gsgd_stores_a_direction_object_by_name():
    from stochopt import directions

    params = _params()
    opt = GSGD(params, lr=0.1, Dphi_map=directions.ClipNorm(2.0))
    assert opt.param_groups[0]["Dphi_map"] == "clip_norm:2.0"
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)  # the official code's default lambda cannot be saved


def test_gsgd_user_callable_sees_a_copy():
    def meddle(m):
        m.zero_()  # a careless user function must not corrupt the momentum buffer
        return torch.sign(m)

    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = GSGD([p], lr=0.1, Dphi_map=meddle)
    p.grad = torch.full((3,), 2.0, dtype=torch.float64)
    opt.step()
    assert torch.equal(opt.state[p]["momentum_buffer"], p.grad)


def test_momentum_zero_with_sign_is_signsgd():
    p = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    opt = GSGD([p], lr=0.1, momentum=0.0, Dphi_map="sign")
    rng = np.random.default_rng(0)
    x = np.zeros(4)
    for _ in range(5):
        g = rng.standard_normal(4)
        g[0] = 0.0
        p.grad = torch.tensor(g)
        opt.step()
        x = x - 0.1 * np.sign(g)
        assert np.array_equal(p.detach().numpy(), x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_dtype_is_kept(name, dtype):
    params = _params(dtype)
    opt = _two_groups(params, name)
    for g in gradient_sequence(SHAPES, 3, seed=3):
        _feed(params, g, dtype)
        opt.step()
    assert all(p.dtype == dtype for p in params)
    assert all(v.dtype == dtype for state in opt.state.values() for v in state.values()
               if isinstance(v, torch.Tensor))


@pytest.mark.parametrize("name", list(CONFIGS))
def test_sparse_gradients_are_rejected_and_nothing_moves(name):
    cls, kwargs = CONFIGS[name]
    dense = torch.nn.Parameter(torch.ones(3))
    embedding = torch.nn.Embedding(5, 2, sparse=True)
    opt = cls([{"params": [dense]}, {"params": embedding.parameters()}], **kwargs)
    dense.grad = torch.ones(3)
    embedding(torch.tensor([1, 3])).sum().backward()
    before = dense.detach().clone()
    with pytest.raises(RuntimeError, match="sparse gradients.*param group 1"):
        opt.step()
    assert torch.equal(dense.detach(), before) and len(opt.state) == 0


@pytest.mark.parametrize("name", list(CONFIGS))
def test_closure_and_zero_grad(name):
    cls, kwargs = CONFIGS[name]
    torch_gen = torch.Generator().manual_seed(0)
    w = torch.nn.Parameter(torch.randn(4, 3, generator=torch_gen, dtype=torch.float64))
    unused = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    data = torch.randn(16, 4, generator=torch_gen, dtype=torch.float64)
    opt = cls([w, unused], **kwargs)

    def closure():
        opt.zero_grad()
        loss = (data @ w).pow(2).mean()
        loss.backward()
        return loss

    first = opt.step(closure)
    assert isinstance(first, torch.Tensor) and first.ndim == 0  # step(closure) returns the loss
    assert unused.grad is None and unused not in opt.state  # zero_grad(set_to_none=True): skipped
    assert torch.equal(unused.detach(), torch.ones(2, dtype=torch.float64))
    opt.zero_grad(set_to_none=False)
    assert torch.count_nonzero(w.grad) == 0
    opt.step()  # a zero gradient is a valid step


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: GSGD(p, lr=0.0), r"lr must be in \(0, inf\)"),
        (lambda p: GSGD(p, lr=0.1, momentum=1.0), r"momentum must be in \[0, 1\)"),
        (lambda p: GSGD(p, lr=0.1, scaling=-1.0), r"scaling must be in \(0, inf\)"),
        (lambda p: GSGD(p, lr=0.1, Dphi_map="sgn"), r"Dphi_map: unknown direction 'sgn'.*'sign'"),
        (lambda p: GSGD(p, lr=0.1, Dphi_map="clip:abc"), r"Dphi_map: direction 'clip:abc'"),
        (lambda p: GSGD(p, lr=0.1, weight_decay=float("nan")), r"weight_decay must be finite"),
        (lambda p: GSGD([{"params": p[:1]}, {"params": p[1:], "lr": -1.0}], lr=0.1),
         r"lr must be in \(0, inf\); got -1.0 \(param group 1\)"),
        (lambda p: Lion(p, lr=0.0), r"lr must be in \(0, inf\)"),
        (lambda p: Lion(p, betas=(0.9,)), r"betas must be a pair"),
        (lambda p: Lion(p, betas=(0.9, 1.0)), r"betas\[1\] \(beta2\) must be in \[0, 1\)"),
        (lambda p: Lion(p, nesterov_momentum=-1), r"nesterov_momentum must be in \[0, inf\)"),
        (lambda p: QHM(p, lr=0.1, momentum=0.9, nu=0.7, weight_decay_type="decoupled"), r"'grad' or 'direct'"),
        (lambda p: QHM(p, lr=0.1, momentum=-0.1, nu=0.7), r"momentum must be in \[0, 1\)"),
        (lambda p: QHAdam(p, nus=(1.0, 1.5)), r"nu2\) must be in \[0, 1\]"),
        (lambda p: QHAdam(p, eps=-1e-8), r"eps must be in \[0, inf\)"),
    ],
)
def test_bad_hyperparameters_are_rejected_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make(_params())


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: GSGD(p, lr=0.1, nesterov=True), r"nesterov must be a real number.*got True"),
        (lambda p: GSGD(p, lr=0.1, Dphi_map=3), r"Dphi_map must be a direction name"),
        (lambda p: GSGD(p, lr=0.1, maximize=1), r"maximize must be True or False"),
        (lambda p: QHAdam(p, decouple_weight_decay="yes"), r"decouple_weight_decay must be True or False"),
        (lambda p: Lion([torch.nn.Parameter(torch.ones(2, dtype=torch.complex64))]), r"complex64"),
    ],
)
def test_bad_types_are_rejected_at_construction(make, match):
    with pytest.raises(TypeError, match=match):
        make(_params())


def test_gsgd_rejects_blocked_direction_objects():
    from stochopt import directions

    with pytest.raises(ValueError, match="per parameter tensor"):
        GSGD(_params(), lr=0.1, Dphi_map=directions.get("normalized", blocks=[[0], [1]]))


def test_lr_set_to_zero_by_a_scheduler_is_a_still_step_and_negative_is_an_error():
    p = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    opt = GSGD([p], lr=0.1)
    p.grad = torch.ones(2, dtype=torch.float64)
    opt.param_groups[0]["lr"] = 0.0
    opt.step()
    assert torch.equal(p.detach(), torch.ones(2, dtype=torch.float64))
    opt.param_groups[0]["lr"] = -0.1
    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\)"):
        opt.step()


def test_converters_delegate_to_stochopt_qh(monkeypatch):
    """Single source of truth: the classmethods call stochopt.qh's functions and return their dicts."""
    qh = pytest.importorskip("stochopt.qh")
    names = ["from_pid", "from_synthesized_nesterov", "from_robust_momentum", "from_accsgd",
             "from_two_state_optimizer", "from_nadam"]
    if not all(hasattr(qh, n) for n in names):
        pytest.skip("stochopt.qh converters not available yet")
    for n in names:
        monkeypatch.setattr(qh, n, lambda *a, n=n, **kw: (n, a) + ((kw,) if kw else ()))
    assert QHM.from_pid(1, 2, 3) == ("from_pid", (1, 2, 3))
    assert QHM.from_synthesized_nesterov(0.1, 0.9, 0.6) == ("from_synthesized_nesterov", (0.1, 0.9, 0.6))
    assert QHM.from_robust_momentum(5.0, 15.0) == ("from_robust_momentum", (5.0, 15.0, None))
    assert QHM.from_accsgd(0.1, 1000.0, 10.0) == ("from_accsgd", (0.1, 1000.0, 10.0, 0.7))
    assert QHM.from_two_state_optimizer(1, 2, 3, 4, 5, 6) == ("from_two_state_optimizer", (1, 2, 3, 4, 5, 6))
    assert QHM.from_two_state_optimizer(1, 2, 3, 4, 5, 6, tol=1e-6)[2] == {"tol": 1e-6}
    assert QHAdam.from_nadam(1e-3, (0.9, 0.999)) == ("from_nadam", (1e-3, (0.9, 0.999)))
    assert QHAdamW.from_nadam(1e-3, (0.9, 0.999)) == ("from_nadam", (1e-3, (0.9, 0.999)))


def test_import_stochopt_does_not_import_torch_and_the_subpackage_shadows_nothing():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = ("import sys, stochopt; assert 'torch' not in sys.modules, 'import stochopt imported torch'\n"
            "import stochopt.torch as st, torch\n"
            "assert st.torch is torch and torch.__name__ == 'torch' and hasattr(torch, 'optim')\n"
            "assert 'stochopt' not in torch.__file__, torch.__file__\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(ROOT), env=env)


def test_missing_torch_gives_an_install_hint():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = ("import sys; sys.modules['torch'] = None\n"
            "try:\n    import stochopt.torch\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=str(ROOT), env=env,
                         capture_output=True, text=True).stdout
    assert "pip install stochopt[torch]" in out


@pytest.mark.parametrize("module", ["stochopt.torch", "stochopt.torch.gsgd", "stochopt.torch.lion",
                                    "stochopt.torch.qh"])
def test_docstring_examples_run(module):
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_relu_example_trains_and_plots(tmp_path):
    example = runpy.run_path(str(ROOT / "docs" / "examples" / "torch_relu.py"), run_name="example")
    out = tmp_path / "loss.png"
    losses = example["main"](steps=60, out=str(out))
    assert out.exists() and out.stat().st_size > 0
    for name, curve in losses.items():
        assert curve[-1] < 0.7 * curve[0], name
