"""GSGD claims: helper unit tests and planted mistakes that the claims must catch.

The generic "every claim passes and every control fails" test is tests/test_claims.py; here we
check that the verifier is verified: swapping in a wrong piece (a direction whose select is not a
subgradient, a wrong tau in H, a schedule that breaks the conditions, a deterministic start)
makes the relevant claim FAIL, and that the statistics helpers give known answers.
"""
import numpy as np
import pytest

import problems
from stochopt import directions, schedules


# ----------------------------------------------------------------------- theory-to-code
def _theory_tool():
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "theory_to_code.py")
    spec = importlib.util.spec_from_file_location("theory_to_code", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_theory_to_code_maps_every_gsgd_claim_to_its_function():
    import verify

    tool = _theory_tool()
    mapped = {row[2] for row in tool.GSGD_ROWS}
    registered = {c.id for c in verify.claims("gsgd")}
    assert mapped == registered
    text = tool.render()
    for c in verify.claims("gsgd"):
        assert tool._where(c) in text
    for family in {c.family for c in verify.claims()} - {"gsgd"}:
        assert any(f"`{c.id}`" in text for c in verify.claims(family))


def test_theory_to_code_page_is_up_to_date():
    """docs/theory-to-code.md is generated from the registry: any claim added, renamed or moved
    (e.g. verify/claims -> verify/families) without regenerating the page makes this fail."""
    import os

    tool = _theory_tool()
    path = os.path.join(tool.ROOT, "docs", "theory-to-code.md")
    with open(path, encoding="utf-8") as f:
        current = f.read()
    assert current == tool.render(), "docs/theory-to-code.md is stale: run python tools/theory_to_code.py"
    assert tool.main(["--check"]) == 0
    assert "failed to import" not in current


def test_theory_to_code_references_resolve():
    """Every dotted name the table cites (claim, experiment and measure functions) exists."""
    import importlib
    import re

    text = _theory_tool().render()
    names = set(re.findall(r"`((?:verify|stochopt|problems)(?:\.[A-Za-z_]\w*)+)`", text))
    assert len(names) > 20
    missing = []
    for name in sorted(names):
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            try:
                for attr in parts[i:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                missing.append(name)
            break
        else:
            missing.append(name)
    assert not missing, missing

# ============================================ stationarity side (verify/families/gsgd/{_common,...})
from verify.families.gsgd import _common as C  # noqa: E402
from verify.measures import clarke_distance, min_norm_point  # noqa: E402
from verify.registry import Context  # noqa: E402


def test_diminishing_schedule_starts_at_lr0_and_has_the_power():
    eta = C.diminishing(0.4, power=0.5, offset=4.0)
    assert eta(0) == pytest.approx(0.4)
    assert eta(12) == pytest.approx(0.4 * (4 / 16) ** 0.5)
    assert C.increasing(0.1, 10.0)(20) == pytest.approx(0.3)


def test_random_steps_lie_between_the_bounds_of_the_envelope():
    eta = C.random_steps(0.2, 0.75, seed=5)
    ids = np.arange(500)
    for k in (0, 7, 1000):
        ratio = eta(k, ids) / eta.envelope(k)
        assert ratio.min() >= 0.5 and ratio.max() <= 1.5 and np.unique(ratio).size == ids.size
    const = C.random_steps(np.array([0.2, 0.05]), constant=True)
    assert const.envelope(10 ** 6).tolist() == [0.2, 0.05]


@pytest.mark.parametrize("name", C.METHOD_NAMES)
def test_method_factories_take_one_step_as_the_spec_table_says(name):
    """First step from x = 0, m = 0 with gradient g: s = select(theta g) (signSGD: theta = 1)."""
    g = np.array([[2.0, -0.25, 0.0]])
    eta = schedules.constant(0.1)
    opt = C.method_factories((name,))[name](eta, schedules.coupled(eta, 4.0, cap=1.0))
    x = opt.step(opt.init(np.zeros((1, 3))), g).x
    m = (1.0 if name == "signsgd" else 0.4) * g
    expected = {"heavy_ball": m, "signsgd": np.sign(m), "signum": np.sign(m), "lion_singlescale": np.sign(g),
                "normalized_sgd": m / np.linalg.norm(m), "clipped_sgd": m * min(1.0, C.CLIP_THRESHOLD / np.linalg.norm(m)),
                "clipped_sgd_coordinate": np.clip(m, -C.CLIP_THRESHOLD, C.CLIP_THRESHOLD)}[name]
    np.testing.assert_allclose(x, -0.1 * expected, rtol=1e-12, atol=1e-15)


def test_lion_singlescale_factory_is_single_timescale():
    eta = C.diminishing(0.05)
    opt = C.method_factories(("lion_singlescale",))["lion_singlescale"](eta, schedules.coupled(eta, 4.0))
    scaling = float(np.asarray(opt.hyper["scaling"].at(0, None)))
    beta2 = C.LION_BETAS[1]
    for k in (0, 100, 10_000):  # theta2_k = 1 - mu2_k = min(tau eta_k, 1 - beta2)
        assert 1 - max(1 - eta(k) * (1 - beta2) * scaling, beta2) == pytest.approx(min(4.0 * eta(k), 1 - beta2))
    with pytest.raises(TypeError, match="coupled"):
        C.method_factories(("lion_singlescale",))["lion_singlescale"](eta, 0.5)


def test_instances_use_the_users_direction_or_method():
    assert list(C.instances(Context())) == list(C.SINGLE_TIMESCALE)
    user = C.instances(Context(direction=directions.get("sign")))
    eta = schedules.constant(0.1)
    opt = user["user direction"](eta, schedules.coupled(eta, 4.0))
    assert opt.step(opt.init(np.zeros(2)), np.array([3.0, -1.0])).x.tolist() == [-0.1, 0.1]
    factory = C.method_factories(("heavy_ball",))["heavy_ball"]
    assert C.instances(Context(method=factory)) == {"user method": factory}


def test_a_user_factory_equal_to_heavy_ball_gets_the_heavy_ball_statistics():
    """Issue 16: the same method given by a user is read by the same statistic, bit for bit."""
    from verify.families.gsgd import stationarity

    size = dict(C_SIZE_SMALL)
    builtin = stationarity._distance_part(Context(size=size, draw=False), constant=False)
    user = stationarity._distance_part(Context(size=size, draw=False,
                                               method=C.method_factories(("heavy_ball",))["heavy_ball"]),
                                       constant=False)
    assert user.details["exponents"]["crescent / user method"] == builtin.details["exponents"]["crescent / heavy_ball"]


C_SIZE_SMALL = dict(lr0=0.1, x0_radius=1.0, known_set_problems=("crescent",), steps=512, records=64, checkpoints=3,
                    replicas=8)


def test_with_bias_adds_eta_b_to_any_method():
    eta = schedules.constant(0.5)
    for name, factory in C.method_factories().items():
        plain = factory(eta, schedules.coupled(eta, 1.0))
        biased = C.with_bias(factory, [1.0, -2.0])(eta, schedules.coupled(eta, 1.0))
        s0, g = plain.init(np.zeros((2, 2))), np.array([[1.0, 3.0], [-2.0, 0.5]])
        np.testing.assert_allclose(biased.step(s0, g).x, plain.step(s0, g).x - 0.5 * np.array([1.0, -2.0]))


def test_shifted_oracle_moves_the_rest_point_to_grad_f_equal_c():
    p = problems.get("mifflin2")
    shifted = C.ShiftedOracle(p, [0.5, 0.0])
    x = np.array([[0.3, -0.2]])
    np.testing.assert_allclose(shifted.grad(x), p.grad(x) - [0.5, 0.0])
    np.testing.assert_allclose(shifted.value(x), p.value(x))
    assert shifted.dim == 2 and shifted.name == "mifflin2"


def test_window_max_checkpoints_and_distances():
    assert C.checkpoints(4096, 4).tolist() == [512, 1024, 2048, 4096]
    k = np.arange(0, 4097, 32)
    values = np.stack([np.cos(k), -np.cos(k)], axis=1)
    W = C.window_max(k, values, C.checkpoints(4096, 2))
    assert W.shape == (2, 2) and np.all(W <= 1) and np.all(W > 0.9)
    assert C.distance_to_points(np.array([[1.0, 1.0], [0.0, 2.0]]), np.array([[0.0, 0.0], [0.0, 2.0]])).tolist() == \
        [np.sqrt(2.0), 0.0]


def test_decay_exponents_and_worst_read_every_cell():
    ends = np.array([256.0, 512.0, 1024.0, 2048.0])
    rng = np.random.default_rng(1)
    cells = {"fast": ends[:, None] ** -0.75 * np.exp(0.05 * rng.standard_normal((4, 32))),
             "flat": np.exp(0.05 * rng.standard_normal((4, 32)))}
    exps = C.decay_exponents(ends, cells)
    assert abs(exps["fast"][0] - 0.75) < 0.05 and abs(exps["flat"][0]) < 0.05
    stat, ci, cell = C.worst(exps)
    assert cell == "flat" and ci[0] <= stat <= ci[1] and ci[1] < 0.1875   # the flat cell fails the threshold


@pytest.mark.parametrize("name,n", [("crescent", 2), ("mifflin2", 2), ("active-faces", 4)])
def test_every_listed_clarke_point_is_certified(name, n):
    p = problems.get(name, **({"n": n} if name == "active-faces" else {}))
    assert np.all(C.certify_points(p, C.CLARKE_POINTS[name](n)) < 1e-12)
    with pytest.raises(ValueError, match="Clarke stationary"):
        C.certify_points(p, C.CLARKE_POINTS[name](n) + 0.1)


def test_crescent_has_no_other_kink_point_with_zero_in_the_hull():
    """On the kink circle, 0 in conv{grad p1, grad p2} only at (0, 0) and (0, 2) (the docstring's derivation)."""
    p = problems.get("crescent")
    t = np.linspace(0, 2 * np.pi, 721)[:-1]
    circle = np.stack([np.sin(t), 1 - np.cos(t)], axis=1)
    dist = clarke_distance(p, circle, eps=1e-9).value
    zero = circle[dist < 1e-9]
    assert sorted(map(tuple, zero.round(9))) == [(0.0, 0.0), (0.0, 2.0)]


def test_sign_flow_stationary_points_of_crescent_are_not_clarke_stationary():
    """The mechanism of the sign part's control: below x2 = 1/2 on the kink circle the sign vectors of
    the two pieces cancel (0 in conv sign(df)) while 0 is not in df."""
    p = problems.get("crescent")
    t = 0.4
    x = np.array([np.sin(t), 1 - np.cos(t)])  # on the circle, x2 < 1/2, x1 != 0
    G = p.clarke(x, tol=1e-9)
    assert G.shape[0] == 2
    assert float(min_norm_point(np.sign(G)).norm) < 1e-12
    assert float(clarke_distance(p, x, eps=1e-9).value) > 0.1


def test_valley_points_of_chebyshev_rosenbrock_2_are_clarke_stationary_and_only_one_minimises():
    from verify.families.gsgd.not_minimal import valley_points

    for n in (2, 3, 4):
        p = problems.get("chebyshev-rosenbrock-2", n=n)
        S = valley_points(n)
        assert S.shape == (2 ** (n - 1), n) and np.unique(S, axis=0).shape[0] == S.shape[0]
        assert np.all(clarke_distance(p, S).value < 1e-12)
        f = p.value(S)
        assert f[0] == 0.0 and np.all(f[1:] > 0)


def test_relu_network_backprop_at_a_kink_is_a_limiting_gradient():
    """Why relu-mlp has no artifact trap: lowering the kinked units' biases by delta gives a point of
    an adjacent smooth region whose gradient tends to the backprop output (relu'(0) = 0)."""
    p = problems.get("relu-mlp", hidden=(4,), n=24, d_in=3, kink_inputs=True, seed=0)
    x = np.array(p.x0)  # zero biases: the zero-input samples sit on every unit's kink
    assert int(p.preactivation_zero_count(x)) > 0
    g = p.grad(x)
    gaps = []
    for delta in (1e-4, 1e-6):
        y = x.copy()
        y[p.blocks[1]] -= delta
        assert int(p.preactivation_zero_count(y)) == 0
        gaps.append(np.linalg.norm(p.grad(y) - g))
    assert gaps[1] < gaps[0] / 50 and gaps[1] < 1e-5 * np.linalg.norm(g)


class _PseudoHuber(directions.Direction):
    """phi(m) = sum_i sqrt(1 + m_i^2) - 1: a Lipschitz direction (the reviewer's user direction)."""

    name = "pseudo_huber_gsgd_test"

    def phi(self, m):
        return np.sum(np.sqrt(1.0 + m * m) - 1.0, axis=-1)

    def select(self, m):
        return m / np.sqrt(1.0 + m * m)


def test_relu_goldstein_control_fails_for_a_lipschitz_user_direction():
    """Reviewer finding: with a pseudo-Huber user direction the old constant-step control passed (the network
    nearly interpolates and a Lipschitz direction keeps descending at a constant step). With summable steps the
    iterates stop at a non-stationary point: every cell's exponent is about 0, whatever the direction."""
    from verify.families.gsgd import stationarity, stationarity_relu

    ctx = stationarity.CLAIM.context("quick", seed=0, draw=False, direction=_PseudoHuber())
    assert stationarity_relu.relu_goldstein(ctx).status == "pass"
    control = stationarity_relu.relu_goldstein_summable_steps(ctx)
    assert control.status == "fail"
    assert all(abs(beta) < 0.05 for beta, _ in control.details["exponents"].values())
    sign_part = stationarity.CLAIM.get_part("limits of the sign direction are Clarke stationary")
    assert not sign_part.applies(_PseudoHuber(), None)  # about the sign direction only: not applicable


def test_a_worker_importing_only_the_claims_module_gets_every_part():
    """``run_task`` imports only the claim's own module: a part registered from a sibling claim module (the
    ReLU part of the stationarity claim) must come with it, else a CLI run with workers silently drops it."""
    import os
    import subprocess
    import sys

    import verify

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    split = [c for c in verify.claims("gsgd")
             if any(not p.check_fn.__module__.rsplit(".", 1)[-1].startswith("_") and p.check_fn.__module__ != c.module
                    for p in c.parts)]
    assert [c.id for c in split] == ["gsgd.single-timescale.stationarity"]
    for c in split:
        code = (f"import importlib, verify.registry as R; importlib.import_module({c.module!r}); "
                f"print(len(R._REGISTRY[{c.id!r}].parts))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
        assert int(out.stdout.strip()) == len(c.parts), (c.id, out.stdout, out.stderr)
