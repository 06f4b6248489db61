"""The PyTorch adapters against independent peers (installed by the ``test`` extra).

- QHM, QHAdam, QHAdamW match qhoptim 1.1.0 (the authors' library);
- Lion at constant lr matches lion-pytorch (decoupled weight decay lr * lambda in both);
- GSGD with the identity direction matches torch.optim.SGD(momentum=beta, dampening=beta): both
  buffers start at the first gradient, so no correction is needed beyond dampening = beta;
- QHAdam with nus = (1, 1) matches torch.optim.Adam (QHAdamW: torch.optim.AdamW).

Peers compute in a different algebraic order (qhoptim's running bias-correction weights, Adam's
sqrt(v) / sqrt(1 - beta2^t)), so agreement is to rounding: float64, 1e-12 relative.
"""
import warnings

import pytest

torch = pytest.importorskip("torch")

from stochopt.torch import GSGD, QHM, Lion, QHAdam, QHAdamW  # noqa: E402
from test_torch_common import max_rel_err, run_torch  # noqa: E402

TOL = 1e-12
STEPS = 40


def _peer(run_ours, run_theirs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # qhoptim uses deprecated add_(Number, Tensor)
        theirs = run_theirs()
    return max_rel_err(run_ours(), theirs)


QHM_GROUPS = [
    {"tensors": [0, 1], "lr": 0.5, "momentum": 0.9, "nu": 0.7},
    {"tensors": [2], "lr": 0.1, "momentum": 0.99, "nu": -0.3, "weight_decay": 0.1},
    {"tensors": [3], "lr": 0.2, "momentum": 0.5, "nu": 1.0, "weight_decay": 0.3, "weight_decay_type": "direct"},
]


def test_qhm_matches_qhoptim():
    qhoptim = pytest.importorskip("qhoptim.pyt")
    assert _peer(lambda: run_torch(QHM, QHM_GROUPS, steps=STEPS),
                 lambda: run_torch(qhoptim.QHM, QHM_GROUPS, steps=STEPS,  # its checks need the three
                                   defaults={"lr": 0.1, "momentum": 0.9, "nu": 0.7})) <= TOL


QHADAM_GROUPS = [
    {"tensors": [0, 1], "lr": 1e-2, "betas": (0.9, 0.999), "nus": (0.7, 1.0)},
    {"tensors": [2], "lr": 3e-3, "betas": (0.95, 0.98), "nus": (1.3, 0.4), "weight_decay": 0.1, "eps": 1e-6},
    {"tensors": [3], "lr": 1e-2, "betas": (0.5, 0.9), "nus": (0.0, 0.0), "eps": 1e-12},
]


@pytest.mark.parametrize("decoupled", [False, True], ids=["QHAdam", "QHAdamW"])
def test_qhadam_matches_qhoptim(decoupled):
    qhoptim = pytest.importorskip("qhoptim.pyt")
    groups = [dict(g, weight_decay=g.get("weight_decay", 0.0) + 0.05) for g in QHADAM_GROUPS]
    ours, theirs = (QHAdamW, qhoptim.QHAdamW) if decoupled else (QHAdam, qhoptim.QHAdam)
    assert _peer(lambda: run_torch(ours, groups, steps=STEPS), lambda: run_torch(theirs, groups, steps=STEPS)) <= TOL


LION_GROUPS = [
    {"tensors": [0, 2], "lr": 1e-2, "betas": (0.9, 0.99)},
    {"tensors": [1, 3], "lr": 3e-3, "betas": (0.5, 0.5), "weight_decay": 0.7},
]


def test_lion_matches_lion_pytorch_at_constant_lr():
    lion_pytorch = pytest.importorskip("lion_pytorch")
    assert _peer(lambda: run_torch(Lion, LION_GROUPS, steps=STEPS),
                 lambda: run_torch(lion_pytorch.Lion, LION_GROUPS, steps=STEPS)) <= TOL


def test_lion_pytorch_decoupled_flag_is_weight_decay_over_initial_lr():
    """lion-pytorch's decoupled_weight_decay=True divides lambda by the initial lr: ours with lambda / lr0.

    (lion-pytorch takes the initial lr from the constructor's ``lr`` argument, not from the group.)
    """
    lion_pytorch = pytest.importorskip("lion_pytorch")
    lr0, lam = 3e-3, 1e-4
    groups = [{"tensors": [0, 1, 2, 3], "lr": lr0}]
    assert _peer(lambda: run_torch(Lion, groups, steps=STEPS, defaults={"weight_decay": lam / lr0}),
                 lambda: run_torch(lion_pytorch.Lion, groups, steps=STEPS,
                                   defaults={"lr": lr0, "weight_decay": lam, "decoupled_weight_decay": True})) <= TOL


def test_lion_differs_from_lion_pytorch_under_decaying_lr():
    """Control: under a decaying lr the single-timescale momenta move toward 1; lion-pytorch's do not."""
    lion_pytorch = pytest.importorskip("lion_pytorch")

    def decay(k):
        return 1.0 / (1.0 + k)

    assert _peer(lambda: run_torch(Lion, LION_GROUPS, steps=STEPS, lr_factor=decay),
                 lambda: run_torch(lion_pytorch.Lion, LION_GROUPS, steps=STEPS, lr_factor=decay)) > 1e-6


SGD_GROUPS = [
    {"tensors": [0, 1], "lr": 0.05, "momentum": 0.9},
    {"tensors": [2, 3], "lr": 0.2, "momentum": 0.5, "weight_decay": 0.1},
]


@pytest.mark.parametrize("maximize", [False, True])
def test_gsgd_identity_matches_torch_sgd_with_dampening(maximize):
    def sgd(groups, **kw):
        return torch.optim.SGD([dict(g, dampening=g["momentum"]) for g in groups], maximize=maximize, **kw)

    assert _peer(lambda: run_torch(GSGD, SGD_GROUPS, steps=STEPS, defaults={"maximize": maximize}),
                 lambda: run_torch(sgd, SGD_GROUPS, steps=STEPS, defaults={"foreach": False})) <= TOL


def test_gsgd_differs_from_undampened_sgd_without_lr_conversion():
    """Control: torch.optim.SGD's default (dampening 0) needs lr / (1 - beta) to port; unconverted it differs."""
    assert _peer(lambda: run_torch(GSGD, SGD_GROUPS, steps=STEPS),
                 lambda: run_torch(torch.optim.SGD, SGD_GROUPS, steps=STEPS)) > 1e-3


ADAM_GROUPS = [
    {"tensors": [0, 1], "lr": 1e-2, "betas": (0.9, 0.999), "weight_decay": 0.1},
    # explicit: torch.optim.AdamW's default weight_decay is 1e-2, QHAdamW's (and qhoptim's) is 0
    {"tensors": [2, 3], "lr": 3e-3, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.0},
]


@pytest.mark.parametrize("decoupled", [False, True], ids=["Adam", "AdamW"])
def test_qhadam_with_unit_nus_matches_torch_adam(decoupled):
    ours, theirs = (QHAdamW, torch.optim.AdamW) if decoupled else (QHAdam, torch.optim.Adam)
    assert _peer(lambda: run_torch(ours, ADAM_GROUPS, steps=STEPS, defaults={"nus": (1.0, 1.0)}),
                 lambda: run_torch(theirs, ADAM_GROUPS, steps=STEPS, defaults={"foreach": False})) <= TOL
