"""Each PyTorch adapter equals its ground-truth loop (``stochopt.ground_truth``) in parameters AND
optimizer state (``state_dict()``), step by step (float64, 1e-12 relative).

Several tensors of different shapes (directions act per tensor = per block of the ground truth),
param groups with different hyperparameters, constant and decaying lr.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import stochopt  # noqa: E402
from stochopt import ground_truth, schedules  # noqa: E402
from stochopt.torch import GSGD, QHM, Lion, QHAdam, QHAdamW  # noqa: E402
from test_torch_common import (SHAPES, initial_values, max_rel_err, rel_err, run_ground_truth, run_numpy,  # noqa: E402
                               run_torch)

TOL = 1e-12
STEPS = 25


def decay(k):
    return 1.0 / (1.0 + 0.3 * k)


def _gsgd_reference(lr_factor, negate=False):
    """The NumPy method (for the controls and the NumPy-fallback direction)."""
    def make(h, blocks):
        h = dict(h)
        lr0 = h.pop("lr")
        lr = lr0 if lr_factor is None else schedules.from_function(lambda k, lr0=lr0: lr0 * lr_factor(k))
        h.pop("maximize", None)
        direction = h.pop("Dphi_map", "identity")
        extra = h.pop("nesterov", 0.0)
        return stochopt.gsgd_official(lr=lr, direction=direction, blocks=blocks, extra_gradient=extra, **h)

    return make


# adapter -> (ground-truth loop, its keyword arguments from a torch group, torch state name -> buffer)
GROUND_TRUTH = {
    GSGD: (ground_truth.gsgd_official,
           lambda h, blocks, lr: dict(lr=lr, momentum=h.get("momentum", 0.9), scaling=h.get("scaling"),
                                      direction=h.get("Dphi_map", "identity"), weight_decay=h.get("weight_decay", 0.0),
                                      extra_gradient=h.get("nesterov", 0.0), blocks=blocks),
           {"momentum_buffer": "m"}),
    Lion: (ground_truth.lion_singlescale,
           lambda h, blocks, lr: dict(lr=lr, betas=h["betas"], scaling=h.get("scaling"),
                                      weight_decay=h.get("weight_decay", 0.0),
                                      extra_gradient=h.get("nesterov_momentum", 0.0)),
           {"exp_avg": "m"}),
    QHM: (ground_truth.qhm, lambda h, blocks, lr: dict(h, lr=lr), {"momentum_buffer": "b"}),
    QHAdam: (ground_truth.qhadam, lambda h, blocks, lr: dict(h, lr=lr),
             {"exp_avg": "m", "exp_avg_sq": "v", "step": None}),
    QHAdamW: (ground_truth.qhadamw, lambda h, blocks, lr: dict(h, lr=lr),
              {"exp_avg": "m", "exp_avg_sq": "v", "step": None}),
}


def assert_equals_ground_truth(cls, groups, lr_factor=None, maximize=False, steps=STEPS):
    """Parameters and every state entry of ``cls`` equal the ground truth after every step."""
    loop, kwargs_of, state_names = GROUND_TRUTH[cls]
    iterates, states = run_torch(cls, groups, steps=steps, lr_factor=lr_factor, record_state=True)
    truths = run_ground_truth(loop, kwargs_of, groups, steps=steps, lr_factor=lr_factor, negate=maximize)
    for j, truth in enumerate(truths):
        for k in range(steps):
            assert rel_err(iterates[j][k], truth.x[k + 1]) <= TOL, (j, k, "parameters")
            assert set(states[j][k]) == set(state_names), states[j][k].keys()
            for torch_name, buffer in state_names.items():
                want = np.full(states[j][k][torch_name].shape, k + 1.0) if buffer is None else truth.buffers[buffer][k + 1]
                assert rel_err(states[j][k][torch_name], want) <= TOL, (j, k, torch_name)


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
def test_gsgd_equals_ground_truth(layout, lr_factor):
    assert_equals_ground_truth(GSGD, GSGD_GROUPS[layout], lr_factor)


def test_gsgd_maximize_equals_ground_truth_on_negated_gradients():
    groups = [{"tensors": [0, 1, 2, 3], "lr": 0.1, "momentum": 0.9, "Dphi_map": "normalized",
               "weight_decay": 0.1, "maximize": True}]
    assert_equals_ground_truth(GSGD, groups, maximize=True)


@pytest.mark.parametrize("layout", list(GSGD_GROUPS))
def test_gsgd_equals_the_numpy_method(layout):
    """The NumPy method and the torch adapter, both checked against the ground truth, agree."""
    groups = GSGD_GROUPS[layout]
    got = run_torch(GSGD, groups, steps=STEPS, lr_factor=decay)
    assert max_rel_err(got, run_numpy(_gsgd_reference(decay), groups, steps=STEPS)) <= TOL


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
def test_lion_equals_ground_truth(lr_factor):
    assert_equals_ground_truth(Lion, LION_GROUPS, lr_factor)


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


@pytest.mark.parametrize("lr_factor", [None, decay], ids=["constant-lr", "decaying-lr"])
@pytest.mark.parametrize("cls, groups", [(QHM, QHM_GROUPS), (QHAdam, QHADAM_GROUPS), (QHAdamW, QHADAM_GROUPS)],
                         ids=["QHM", "QHAdam", "QHAdamW"])
def test_qh_equals_ground_truth(cls, groups, lr_factor):
    assert_equals_ground_truth(cls, groups, lr_factor)


def test_qhadam_with_eps_zero_keeps_never_touched_coordinates_still():
    """eps = 0 on exactly-zero gradients: 0/0 is its limit 0 (torch adapter and ground truth alike)."""
    groups = [{"tensors": [0, 1, 2, 3], "lr": 1e-2, "betas": (0.9, 0.99), "nus": (0.7, 0.9), "eps": 0.0}]
    x0 = initial_values(SHAPES, 0)
    iterates = run_torch(QHAdam, groups, steps=5, grads=[[np.zeros(s) for s in SHAPES]] * 5, x0=x0)
    assert all(np.array_equal(x, np.concatenate([v.ravel() for v in x0])) for x in iterates[0])
    assert_equals_ground_truth(QHAdam, groups)


@pytest.mark.parametrize("converter, args", [
    ("from_pid", (-0.5, 1.0, 0.5)),
    ("from_synthesized_nesterov", (0.1, 0.9, 0.6)),
    ("from_robust_momentum", (5.0, 15.0)),
    ("from_accsgd", (0.1, 1000.0, 10.0)),
])
def test_qhm_built_from_a_converter_equals_the_reference(converter, args):
    """The classmethods return stochopt.qh's dicts, and QHM(**dict) runs like stochopt.qhm(**dict)."""
    from stochopt import qh

    hyper = getattr(QHM, converter)(*args)
    assert hyper == getattr(qh, converter)(*args) and set(hyper) == {"lr", "momentum", "nu"}
    assert_equals_ground_truth(QHM, [{"tensors": [0, 1, 2, 3], **hyper}])


def test_qhadam_from_nadam_returns_stochopt_qh_dict():
    from stochopt import qh

    hyper = QHAdam.from_nadam(lr=2e-3, betas=(0.95, 0.999))
    assert hyper == qh.from_nadam(2e-3, (0.95, 0.999)) and set(hyper) == {"lr", "betas", "nus"}
    assert_equals_ground_truth(QHAdam, [{"tensors": [0, 1, 2, 3], **hyper}])
