"""Each PyTorch adapter equals its NumPy reference iterate by iterate (float64, 1e-12 relative).

Several tensors of different shapes (directions act per tensor = per block of the NumPy
reference), param groups with different hyperparameters, constant and decaying lr.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import stochopt  # noqa: E402
from stochopt import schedules  # noqa: E402
from stochopt.torch import GSGD, Lion  # noqa: E402
from test_torch_common import max_rel_err, run_numpy, run_torch  # noqa: E402

TOL = 1e-12
STEPS = 25


def decay(k):
    return 1.0 / (1.0 + 0.3 * k)


def _gsgd_reference(lr_factor, negate=False):
    def make(h, blocks):
        h = dict(h)
        lr0 = h.pop("lr")
        lr = lr0 if lr_factor is None else schedules.from_function(lambda k, lr0=lr0: lr0 * lr_factor(k))
        h.pop("maximize", None)
        direction = h.pop("Dphi_map", "identity")
        return stochopt.gsgd_official(lr=lr, direction=direction, blocks=blocks, **h)

    return make


GSGD_GROUPS = {
    "identity": [
        {"tensors": [0, 2], "lr": 0.05, "momentum": 0.9},
        {"tensors": [1, 3], "lr": 0.2, "momentum": 0.5, "weight_decay": 0.1, "nesterov": 0.3},
    ],
    "sign": [
        {"tensors": [0, 1], "lr": 0.01, "momentum": 0.9, "Dphi_map": "sign"},
        {"tensors": [2, 3], "lr": 0.03, "momentum": 0.0, "Dphi_map": "sign", "weight_decay": 0.05},
    ],
    "normalized": [
        {"tensors": [0, 1, 2], "lr": 0.1, "momentum": 0.8, "Dphi_map": "normalized", "nesterov": 0.5},
        {"tensors": [3], "lr": 0.02, "momentum": 0.95, "Dphi_map": "normalized"},
    ],
    "clip_norm": [
        {"tensors": [0, 3], "lr": 0.1, "momentum": 0.9, "Dphi_map": "clip:1.0", "weight_decay": 0.01},
        {"tensors": [1, 2], "lr": 0.05, "momentum": 0.6, "Dphi_map": "clip_norm:2.5", "scaling": 4.0},
    ],
    "others": [
        {"tensors": [0], "lr": 0.1, "momentum": 0.9, "Dphi_map": "clip_coord:0.5"},
        {"tensors": [1], "lr": 0.1, "momentum": 0.7, "Dphi_map": "srsgd:0.2"},
        {"tensors": [2, 3], "lr": 0.1, "momentum": 0.5, "Dphi_map": "smooth_sign:3.0", "nesterov": 1.0},
    ],
}


@pytest.mark.parametrize("lr_factor", [None, decay], ids=["constant-lr", "decaying-lr"])
@pytest.mark.parametrize("layout", list(GSGD_GROUPS))
def test_gsgd_equals_numpy_reference(layout, lr_factor):
    groups = GSGD_GROUPS[layout]
    got = run_torch(GSGD, groups, steps=STEPS, lr_factor=lr_factor)
    want = run_numpy(_gsgd_reference(lr_factor), groups, steps=STEPS)
    assert max_rel_err(got, want) <= TOL


def test_gsgd_maximize_equals_reference_on_negated_gradients():
    groups = [{"tensors": [0, 1, 2, 3], "lr": 0.1, "momentum": 0.9, "Dphi_map": "normalized",
               "weight_decay": 0.1, "maximize": True}]
    got = run_torch(GSGD, groups, steps=STEPS)
    want = run_numpy(_gsgd_reference(None), groups, steps=STEPS, negate=True)
    assert max_rel_err(got, want) <= TOL


def test_per_tensor_direction_is_not_the_global_one():
    """Control: with one global block the normalized direction differs: the blocks matter."""
    groups = [{"tensors": [0, 1, 2, 3], "lr": 0.1, "momentum": 0.9, "Dphi_map": "normalized"}]
    got = run_torch(GSGD, groups, steps=5)

    def global_block(h, blocks):
        return stochopt.gsgd_official(lr=h["lr"], momentum=h["momentum"], direction="normalized")

    assert max_rel_err(got, run_numpy(global_block, groups, steps=5)) > 1e-3


def test_gsgd_direction_object_equals_name():
    from stochopt import directions

    groups = [{"tensors": [0, 1, 2, 3], "lr": 0.1, "Dphi_map": directions.ClipNorm(0.7)}]
    by_object = run_torch(GSGD, groups, steps=10)
    by_name = run_torch(GSGD, [dict(groups[0], Dphi_map="clip_norm:0.7")], steps=10)
    assert max_rel_err(by_object, by_name) == 0.0


def test_gsgd_custom_direction_uses_its_numpy_select_per_tensor():
    """A Direction subclass without a torch formula runs through its NumPy ``select``, per tensor."""
    from stochopt import directions

    class Cubic(directions.Direction):  # phi(m) = sum m^4 / 4 per block, select(m) = m^3 / ||m||^2
        name = "cubic"

        def select(self, m):
            norm = self._block_norm(m)
            return np.where(norm > 0, m ** 3 / np.where(norm > 0, norm, 1.0) ** 2, 0.0)

    groups = [{"tensors": [0, 1, 2, 3], "lr": 0.05, "momentum": 0.8, "Dphi_map": Cubic()}]
    got = run_torch(GSGD, groups, steps=10)
    assert max_rel_err(got, run_numpy(_gsgd_reference(None), groups, steps=10)) <= TOL


LION_GROUPS = [
    {"tensors": [0, 2], "lr": 0.01, "betas": (0.9, 0.99)},
    {"tensors": [1], "lr": 0.003, "betas": (0.5, 0.9), "weight_decay": 0.5, "nesterov_momentum": 0.2},
    {"tensors": [3], "lr": 0.02, "betas": (0.95, 0.95), "scaling": 20.0, "weight_decay": 0.1},
]


@pytest.mark.parametrize("lr_factor", [None, decay], ids=["constant-lr", "decaying-lr"])
def test_lion_equals_numpy_reference(lr_factor):
    def make(h, blocks):
        h = dict(h)
        lr0 = h.pop("lr")
        lr = lr0 if lr_factor is None else schedules.from_function(lambda k: lr0 * lr_factor(k))
        return stochopt.lion_singlescale(lr=lr, **h)

    got = run_torch(Lion, LION_GROUPS, steps=STEPS, lr_factor=lr_factor)
    want = run_numpy(make, LION_GROUPS, steps=STEPS)
    assert max_rel_err(got, want) <= TOL


def test_float32_is_kept_and_matches_float32_reference():
    groups = [{"tensors": [0, 1, 2, 3], "lr": 0.05, "momentum": 0.9, "Dphi_map": "clip:1.0"}]
    got = run_torch(GSGD, groups, steps=10, dtype=torch.float32)
    want = run_numpy(_gsgd_reference(None), groups, steps=10, dtype=np.float32)
    assert got[0][-1].dtype == np.float32
    assert max_rel_err(got, want) <= 1e-5


# ----------------------------------------------------------------------------- QH family
QHM_GROUPS = [
    {"tensors": [0, 1], "lr": 0.5, "momentum": 0.9, "nu": 0.7},
    {"tensors": [2], "lr": 0.1, "momentum": 0.99, "nu": -0.3, "weight_decay": 0.1},
    {"tensors": [3], "lr": 0.2, "momentum": 0.5, "nu": 1.2, "weight_decay": 0.3, "weight_decay_type": "direct"},
]
QHADAM_GROUPS = [
    {"tensors": [0, 1], "lr": 1e-2, "betas": (0.9, 0.999), "nus": (0.7, 1.0)},
    {"tensors": [2], "lr": 3e-3, "betas": (0.95, 0.98), "nus": (1.3, 0.4), "weight_decay": 0.1, "eps": 1e-6},
    {"tensors": [3], "lr": 1e-2, "betas": (0.5, 0.9), "nus": (0.0, 0.0), "weight_decay": 0.2, "eps": 1e-12},
]


def _qh_reference(factory, lr_factor):
    def make(h, blocks):
        h = dict(h)
        lr0 = h.pop("lr")
        lr = lr0 if lr_factor is None else schedules.from_function(lambda k: lr0 * lr_factor(k))
        return factory(lr=lr, **h)

    return make


@pytest.mark.parametrize("lr_factor", [None, decay], ids=["constant-lr", "decaying-lr"])
@pytest.mark.parametrize("name", ["QHM", "QHAdam", "QHAdamW"])
def test_qh_equals_numpy_reference(name, lr_factor):
    from stochopt.torch import QHM, QHAdam, QHAdamW

    cls, factory, groups = {
        "QHM": (QHM, stochopt.qhm, QHM_GROUPS),
        "QHAdam": (QHAdam, stochopt.qhadam, QHADAM_GROUPS),
        "QHAdamW": (QHAdamW, stochopt.qhadamw, QHADAM_GROUPS),
    }[name]
    got = run_torch(cls, groups, steps=STEPS, lr_factor=lr_factor)
    want = run_numpy(_qh_reference(factory, lr_factor), groups, steps=STEPS)
    assert max_rel_err(got, want) <= TOL


@pytest.mark.parametrize("converter, args", [
    ("from_pid", (-0.5, 1.0, 0.5)),
    ("from_synthesized_nesterov", (0.1, 0.9, 0.6)),
    ("from_robust_momentum", (5.0, 15.0)),
    ("from_accsgd", (0.1, 1000.0, 10.0)),
])
def test_qhm_built_from_a_converter_equals_the_reference(converter, args):
    """The classmethods return stochopt.qh's dicts, and QHM(**dict) runs like stochopt.qhm(**dict)."""
    from stochopt import qh
    from stochopt.torch import QHM

    hyper = getattr(QHM, converter)(*args)
    assert hyper == getattr(qh, converter)(*args) and set(hyper) == {"lr", "momentum", "nu"}
    groups = [{"tensors": [0, 1, 2, 3], **hyper}]
    got = run_torch(QHM, groups, steps=STEPS)
    want = run_numpy(_qh_reference(stochopt.qhm, None), groups, steps=STEPS)
    assert max_rel_err(got, want) <= TOL


def test_qhadam_from_nadam_returns_stochopt_qh_dict():
    from stochopt import qh
    from stochopt.torch import QHAdam

    hyper = QHAdam.from_nadam(lr=2e-3, betas=(0.95, 0.999))
    assert hyper == qh.from_nadam(2e-3, (0.95, 0.999)) and set(hyper) == {"lr", "betas", "nus"}
    groups = [{"tensors": [0, 1, 2, 3], **hyper}]
    assert max_rel_err(run_torch(QHAdam, groups, steps=STEPS),
                       run_numpy(_qh_reference(stochopt.qhadam, None), groups, steps=STEPS)) <= TOL
