"""Teaching demonstrations (verify.teach, `stochopt demo`): rendering, bounds, determinism, and the drawing
read back from the artists and compared with independent calls to problems, verify and stochopt.

Cost: one build at the maximum frame count per demo (shared by every test of that demo in a worker), one
full-size 150-frame GIF per demo, one independent rebuild per demo for determinism.
"""
import functools
import os

import numpy as np
import pytest

from verify import teach
from verify.cli import main as cli_main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

NAMES = teach.names()
MAX_FRAMES = teach.FRAME_RANGE[1]
LOW_DPI = 25


@functools.lru_cache(maxsize=None)
def built(name, frames=MAX_FRAMES, seed=0):
    return teach.build(name, frames=frames, seed=seed)


def in_hull(point, vertices, tol=1e-9):
    """dist(point, conv(vertices)) via the min-norm point of the translated vertices."""
    from verify import min_norm_point

    V = np.asarray(vertices, float) - np.asarray(point, float)
    return float(min_norm_point(V).norm) <= tol * max(1.0, float(np.abs(V).max()))


def same_set(drawn, independent, tol=1e-9):
    """The drawn polygon is the hull of the independent generators: every drawn vertex is a generator and every
    generator lies in the drawn hull."""
    drawn, independent = np.unique(np.asarray(drawn, float), axis=0), np.asarray(independent, float)
    for v in drawn:
        assert np.min(np.abs(independent - v).max(axis=1)) <= tol * max(1.0, np.abs(v).max()), (v, independent)
    for g in independent:
        assert in_hull(g, drawn, tol), (g, drawn)


# ------------------------------------------------------------------------------------ the command line
def test_list_names_every_demo(capsys):
    assert len(NAMES) == len(set(NAMES)) >= 5
    for argv in (["demo", "--list"], ["list", "demos"]):
        assert cli_main(argv) == 0
        out = capsys.readouterr().out.splitlines()
        assert [line.split()[0] for line in out] == NAMES
        assert all(len(line.split(maxsplit=1)[1]) > 20 for line in out)


def test_unknown_name_lists_close_matches(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(teach, "render", lambda *a, **k: pytest.fail("rendered despite an unknown name"))
    assert cli_main(["demo", "goldstein", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown demo 'goldstein'" in err and "Did you mean 'goldstein-ball'" in err
    with pytest.raises(ValueError, match="Did you mean 'methods-on-a-kink'"):
        teach.build("methods-on-kink")


def test_unwritable_out_is_an_error_before_rendering(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(teach, "build", lambda *a, **k: pytest.fail("built a demo despite a bad --out"))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert cli_main(["demo", "autodiff-artifact", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert "cannot write to the output directory" in err and str(blocker) in err
    if os.geteuid() != 0:  # root may write into a read-only directory
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            assert cli_main(["demo", "autodiff-artifact", "--out", str(locked)]) == 2
            assert "cannot write" in capsys.readouterr().err
        finally:
            locked.chmod(0o700)


def test_bad_arguments_are_clear_errors(capsys):
    for frames in (MAX_FRAMES + 1, teach.FRAME_RANGE[0] - 1):
        with pytest.raises(ValueError, match=r"frames must be an integer in \[40, 150\]"):
            teach.build("autodiff-artifact", frames=frames)
    with pytest.raises(ValueError, match=r"lr must be in \[0.05, 0.95\]"):
        teach.build("autodiff-artifact", lr=2.0)
    with pytest.raises(TypeError, match="has no parameter 'momentum'; accepted: lr"):
        teach.build("autodiff-artifact", momentum=0.5)
    with pytest.raises(ValueError, match="method must be one of"):
        teach.build("clarke-not-minimal", method="Adam")
    assert cli_main(["demo", "autodiff-artifact", "--dpi", "5"]) == 2
    assert r"dpi must be in [20, 300]" in capsys.readouterr().err
    if "mp4" not in teach.available_formats():
        assert cli_main(["demo", "autodiff-artifact", "--format", "mp4"]) == 2
        assert "ffmpeg" in capsys.readouterr().err


def test_cli_renders_a_demo(tmp_path, capsys):
    assert cli_main(["demo", "autodiff-artifact", "--frames", "40", "--dpi", "30", "--out", str(tmp_path)]) == 0
    assert sorted(os.listdir(tmp_path)) == ["autodiff-artifact.gif", "autodiff-artifact.png"]
    assert "40 frames and the still" in capsys.readouterr().out
    assert oct(os.stat(tmp_path / "autodiff-artifact.gif").st_mode & 0o044) == oct(0o044 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_gallery_shows_every_demo():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "docs", "teaching.md")) as f:
        page = f.read()
    for name in NAMES:
        still = os.path.join(root, "docs", "teaching", f"{name}.png")
        assert os.path.getsize(still) < 100_000, still
        assert f"(teaching/{name}.png)" in page and f"`stochopt demo {name}" in page, name
        assert teach.REGISTRY[name].TITLE.split(":")[0] in page, name


# ------------------------------------------------------------------------------------ every demo
@pytest.mark.parametrize("name", NAMES)
def test_renders_in_every_available_format_within_bounds(name, tmp_path):
    from PIL import Image

    demo = built(name)
    for fmt in teach.available_formats():
        result = demo.save(tmp_path / fmt, format=fmt)
        assert sorted(result.files) == sorted({fmt, "png"})
        for path in result.files.values():
            assert 0 < os.path.getsize(path) <= teach.MAX_BYTES, (path, os.path.getsize(path))
        with Image.open(result.files["png"]) as still:
            expected = demo.figure.get_size_inches() * teach.DEFAULT_DPI
            assert np.all(np.abs(np.array(still.size) - expected) <= 1), (still.size, expected)
            if fmt == "gif":
                with Image.open(result.files["gif"]) as gif:
                    assert gif.n_frames == MAX_FRAMES and gif.size == still.size
    assert not [n for n in os.listdir(tmp_path / "gif") if n.startswith(".")]  # no temporary file left behind


def test_mp4_is_skipped_only_for_want_of_ffmpeg():
    from matplotlib.animation import FFMpegWriter

    if FFMpegWriter.isAvailable():
        assert "mp4" in teach.available_formats()  # and the render test above covers it
    else:
        pytest.skip("ffmpeg is not installed here: mp4 cannot be written (gif and png are tested)")


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_frames(name):
    first, again = built(name), teach.build(name, frames=MAX_FRAMES, seed=0)
    sample = (0, MAX_FRAMES // 2, MAX_FRAMES - 1)
    hashes = first.frame_hashes(sample, LOW_DPI)
    assert hashes == again.frame_hashes(sample, LOW_DPI)
    assert len(set(hashes)) == len(sample)  # and it moves


def test_the_seed_matters():
    a, b = built("autodiff-artifact", 40, 0), built("autodiff-artifact", 40, 1)
    assert a.frame_hash(39, LOW_DPI) != b.frame_hash(39, LOW_DPI)
    np.testing.assert_array_equal(a.data["x"]["SGD, deterministic"], b.data["x"]["SGD, deterministic"])


def _grey(color):
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return 0.299 * r + 0.587 * g + 0.114 * b


def _look(handle):
    """What survives greyscale printing: line style, marker (and whether it is hollow), width, grey level."""
    return (str(handle.get_linestyle()), str(handle.get_marker()), round(handle.get_linewidth(), 1),
            round(_grey(handle.get_color()), 1), round(_grey(handle.get_markerfacecolor()), 1))


@pytest.mark.parametrize("name", NAMES)
def test_readable_title_caption_labels_legends(name):
    from matplotlib.lines import Line2D

    demo = built(name)
    fig = demo.still()
    assert fig._suptitle.get_text() == demo.title
    texts = " ".join(t.get_text() for sub in fig.subfigs for t in sub.texts).replace("\n", " ")
    assert demo.caption[:60] in texts and "Look" in demo.caption
    axes = [ax for sub in fig.subfigs for ax in sub.axes]
    legends = [ax.get_legend() for ax in axes if ax.get_legend() is not None]
    assert axes and legends
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel(), (name, ax.get_title())
    for legend in legends:
        lines = [h for h in legend.legend_handles if isinstance(h, Line2D)]
        looks = [_look(h) for h in lines]
        assert len(set(looks)) == len(looks), f"{name}: two legend entries look alike in grey: {looks}"


# ------------------------------------------------------------------------------------ drawing = numbers
def test_kink_draws_the_clarke_polytope_and_its_min_norm_element():
    import problems
    import stochopt
    from stochopt import schedules

    from verify import min_norm_point

    demo = built("methods-on-a-kink")
    p, eps, scale = problems.get("crescent"), demo.params["epsilon"], demo.data["scale"]
    assert demo.params == {"lr": 0.3, "momentum": 0.9, "epsilon": 0.1}
    eta = schedules.polynomial(0.3, b=1.0, p=0.6)
    reference = stochopt.run(stochopt.heavy_ball(lr=eta, momentum=0.9), p, steps=400, record_every=1).x[:, 0]
    art = demo.artists
    checked = 0
    for i in (0, 37, 90, MAX_FRAMES - 1):
        demo.draw(i)
        k = demo.data["steps"][i]
        np.testing.assert_array_equal(art["iterate"][0].get_xydata()[0], reference[k])
        for j in range(5):
            x = art["iterate"][j].get_xydata()[0]
            G = p.clarke(x, tol=eps)
            drawn = (art["polytope"][j].get_xy() - x) / scale
            same_set(drawn, G)
            arrow = art["min_norm"][j]
            np.testing.assert_array_equal(arrow.xyann, x)
            v = min_norm_point(G).point
            np.testing.assert_allclose((np.asarray(arrow.xy) - x) / scale, v, rtol=1e-9, atol=1e-12)
            checked += len(G) > 1
    assert checked >= 5  # near the kink the polytope is a segment, not one gradient


def test_goldstein_ball_draws_the_sampled_hull_and_its_min_norm_vector():
    import problems

    from verify import goldstein, min_norm_point

    demo = built("goldstein-ball")
    p, x, art = problems.get("dem"), np.array([0.05, -2.5]), demo.artists
    m, seed = demo.params["samples"], demo.seed
    values = []
    for i in (0, 50, 110, MAX_FRAMES - 1):
        demo.draw(i)
        eps = demo.data["eps"][i]
        ref = goldstein(p, x, eps, samples=m, seed=seed)
        points = x + eps * np.concatenate([line.get_xydata() for line in art["points"]])  # drawn in units of eps
        grads = np.concatenate([line.get_xydata() for line in art["gradients"]])
        assert len(points) == len(grads) == m
        np.testing.assert_allclose(np.unique(points, axis=0), np.unique(ref.points, axis=0), rtol=1e-14, atol=1e-14)
        np.testing.assert_array_equal(np.unique(grads, axis=0), np.unique(p.grad(ref.points), axis=0))
        same_set(art["hull"].get_xy(), grads)
        np.testing.assert_allclose(art["min_norm"].xy, min_norm_point(grads).point, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(art["min_norm"].xy, ref.direction, rtol=1e-9, atol=1e-12)
        values.append(float(ref.value))
    np.testing.assert_array_equal(art["clarke_at_x"].get_xydata(), p.clarke(x))
    # the story: about 0 with all three pieces in the ball, 1 across the kink only, then the gradient norm 5.1
    assert values[0] < 1e-6 and abs(values[1] - 1.0) < 1e-6 and abs(values[-1] - np.hypot(5, 1)) < 1e-9


def test_clarke_points_are_certified_and_end_points_classified_by_the_exact_distance():
    import problems

    from verify import clarke_distance, min_norm_point

    demo = built("clarke-not-minimal")
    p, art = problems.get("chebyshev-rosenbrock-2", n=2), demo.artists
    demo.still()
    for mark, patch in zip(art["points"], art["clarke_sets"]):
        q = mark.get_xydata()[0]
        assert float(clarke_distance(p, q).value) <= 1e-12
        same_set(patch.get_xy(), p.clarke(q))
    assert [tuple(m.get_xydata()[0]) for m in art["points"]] == [(1.0, 1.0), (0.0, -1.0)]
    assert float(p.value(np.array([0.0, -1.0]))) == 0.25 > p.f_star
    tol = demo.data["end_tol"]
    ends_in, ends_out = art["ends_stationary"].get_xydata(), art["ends_not_stationary"].get_xydata()
    assert len(ends_in) + len(ends_out) == 24 and len(ends_in) >= 12
    for x in ends_in:
        assert float(min_norm_point(p.clarke(x, tol=tol)).norm) <= 1e-9
    for x in ends_out:
        assert float(min_norm_point(p.clarke(x, tol=tol)).norm) > 1e-9
    # the runs that reach (0, -1) do not stop there, while the minimal-norm solution of the inclusion does
    X, corner = demo.data["all_x"], demo.data["visited_corner"]
    assert corner.any() and np.all(np.linalg.norm(X[-1, corner] - [0.0, -1.0], axis=1) > 0.05)
    flow = demo.data["flow"]
    assert np.linalg.norm(flow[-1] - [0.0, -1.0]) < 1e-6 and np.linalg.norm(flow[-10] - [0.0, -1.0]) < 1e-6


def test_artifact_traps_the_deterministic_run_only():
    import problems

    from verify import clarke_distance

    demo = built("autodiff-artifact")
    p = problems.get("artifact-shifted-quadratic")
    data = demo.data
    det, rnd, hb = (data["x"][g] for g in data["runs"])
    assert np.all(det[1:] == 0.0) and p.grad(np.zeros((1, 1)))[0, 0] == 0.0  # lands on the kink and stays
    assert float(clarke_distance(p, np.zeros(1)).value) == 1.0  # where 0 is not Clarke stationary
    assert not np.any(rnd == 0.0) and np.all(np.abs(rnd[-1] + 1) < 0.05)
    assert hb[1, 0] == 0.0 and abs(hb[-1, 0] + 1) < 1e-3  # heavy ball lands on 0 too, and moves on
    demo.still()
    np.testing.assert_array_equal(demo.artists["x"][0][0].get_xydata()[:, 1], det[:, 0])


def test_adam_demo_flow_is_the_closed_form_signgd_flow():
    import problems
    import stochopt

    demo = built("adam-sign-descent")
    t, x0 = demo.data["times"], np.array([2.0, 1.0])
    closed = np.sign(x0) * np.maximum(np.abs(x0) - t[:, None], 0.0)  # unit speed per coordinate, then rest
    np.testing.assert_allclose(demo.data["flow"], closed, atol=1e-9)
    err = demo.data["max_error"]
    assert np.all(np.diff(err) < 0) and err[-1] < 0.05  # the gap shrinks as lr shrinks
    demo.draw(60)
    np.testing.assert_allclose(demo.artists["flow"].get_xydata()[0], closed[60], atol=1e-9)
    lr = demo.data["stepsizes"][1]
    k = int(round(t[60] / lr))
    p = problems.get("noisy-quadratic", hessian=[1.0, 10.0], noise_cov=0.0, x0=[2.0, 1.0])
    alone = stochopt.run(stochopt.adam(lr=float(lr), betas=(0.9, 0.95)), p, steps=k).x[-1, 0]
    np.testing.assert_array_equal(demo.artists["runs"][1].get_xydata()[0], alone)


def test_tracking_demo_runs_and_sliding_solution():
    import problems
    import stochopt

    demo = built("tracking-the-flow")
    p, data = problems.get("crescent"), demo.data
    etas = data["stepsizes"]
    i = 97
    demo.draw(i)
    k = int(round(data["times"][i] / etas[2]))
    alone = stochopt.run(stochopt.sgd(lr=float(etas[2])), p, steps=k).x[-1, 0]  # one replica, its own run
    np.testing.assert_array_equal(demo.artists["runs"][2].get_xydata()[0], alone)
    np.testing.assert_array_equal(demo.artists["flow"].get_xydata()[0], data["flow"][i])
    # the reference solution slides on the kink circle and approaches x* = (0, 0); f decreases along it
    z = data["flow_path"]
    late = z[len(z) // 4:]
    assert np.all(np.abs(np.hypot(late[:, 0], late[:, 1] - 1.0) - 1.0) < 1e-8)
    assert np.linalg.norm(z[-1]) < 0.1 and np.all(np.diff(p.value(z)) <= 1e-12)
    err = data["max_error"]
    assert np.all(np.diff(err) < 0) and err[0] / err[-1] > 5  # the gap shrinks with the step (about like eta)


def test_two_timescales_arrows_and_errors():
    import problems

    demo = built("two-timescales")
    data, art = demo.data, demo.artists
    p = problems.get("noisy-quadratic", hessian=[1.0, 4.0], noise_cov=1.0, x0=[2.0, 1.0])
    s = data["scale"]
    for i in (10, 75, MAX_FRAMES - 1):
        demo.draw(i)
        j = data["frame_records"][i]
        x = data["x"][j, 0]
        np.testing.assert_array_equal(art["momentum"].xyann, x)
        np.testing.assert_allclose((np.asarray(art["gradient"].xy) - x) / s, p.grad(x), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose((np.asarray(art["momentum"].xy) - x) / s, data["m"][j, 0], rtol=1e-12,
                                   atol=1e-12)
    closed = np.sign(p.x0) * np.maximum(np.abs(p.x0) - data["time"][:, None], 0.0)
    np.testing.assert_allclose(data["flow"], closed, atol=1e-9)
    assert np.all(np.diff(data["time"]) > 0) and np.all(np.diff(data["eta"] / data["theta"]) < 0)  # two timescales
    fast = np.median(data["fast_error"], axis=1)
    assert fast[-200:].mean() < 0.5 * fast[5:50].mean()  # m tracks grad f ever more closely
    slow, lag = (np.median(data[key], axis=1).max() for key in ("slow_error", "signsgd_error"))
    assert slow < 0.5 * lag  # x follows the slow flow; signSGD without momentum lags


# ------------------------------------------------------------------------------------ notebooks
def test_animation_object_for_notebooks():
    from matplotlib.animation import FuncAnimation

    demo = built("autodiff-artifact", 40, 0)
    anim = demo.animation()
    assert isinstance(anim, FuncAnimation)
    assert len(list(anim.new_frame_seq())) == 40
    assert demo.gif(dpi=LOW_DPI)[:6] == b"GIF89a"


def test_interactive_sliders_rebuild_and_redraw():
    pytest.importorskip("ipywidgets")
    w = teach.interactive("autodiff-artifact", frames=40, dpi=LOW_DPI)
    assert set(w.controls) == {"lr"} and w.frame.max == 39
    first = w.image.value
    w.controls["lr"].value = 0.3
    assert w.demo.params == {"lr": 0.3} and w.image.value != first
    moved = w.image.value
    w.frame.value = 2
    assert w.image.value != moved and w.image.value[:4] == b"\x89PNG"


def test_interactive_without_ipywidgets_says_how_to_get_them(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(ImportError, match=r"pip install 'stochopt\[teach\]'"):
        teach.interactive("goldstein-ball")
