"""Every registered claim, in quick mode: every part passes and every part's control fails.

Claims from every module under verify/families are collected automatically. The seed sweeps
(every claim verified at every seed 0-19 in quick mode, and 0-4 in full mode) are marked slow:
``python -m pytest -m slow tests/test_claims.py``.
"""
import pytest

import verify

CLAIMS = verify.claims()


def test_every_claim_module_imports():
    assert verify.load_errors() == {}, "\n".join(verify.load_errors().values())


def _figure_problems(verdict):
    out = []
    for item in verdict.figures:
        fig = item[0] if isinstance(item, tuple) else item
        suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
        if not fig.axes:
            out.append("empty figure")
        for ax in fig.axes:
            if not ax.get_visible() or not ax.has_data() or ax.get_label() == "<colorbar>":
                continue
            # a categorical axis is labelled by its tick labels (rows of a table of verdicts)
            labelled_y = ax.get_ylabel() or any(t.get_text() for t in ax.get_yticklabels())
            if not (ax.get_title() or suptitle) or not ax.get_xlabel() or not labelled_y:
                out.append(f"axes without title/labels: {ax.get_title()!r}")
    return out


@pytest.mark.parametrize("cl", CLAIMS, ids=[c.id for c in CLAIMS])
def test_every_part_passes_and_its_control_fails(cl):
    assert cl.statement and cl.source and cl.parts
    result = cl.run("quick", 0, render=False)
    assert result.ok, result.problems
    for p in result.parts:
        assert p.statistic and p.breaks, (cl.id, p.name, "declare the statistic and what the control breaks")
        for kind, verdict in (("check", p.check), ("control", p.control)):
            assert not _figure_problems(verdict), (cl.id, p.name, kind, _figure_problems(verdict))
    import sys

    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        plt.close("all")


@pytest.mark.slow
@pytest.mark.parametrize("cl", CLAIMS, ids=[c.id for c in CLAIMS])
def test_verified_at_every_seed_0_to_19_quick(cl):
    failures = {}
    for seed in range(20):
        result = cl.run("quick", seed, draw=False)
        if not result.ok:
            failures[seed] = result.problems
    assert not failures, failures


@pytest.mark.slow
@pytest.mark.parametrize("cl", CLAIMS, ids=[c.id for c in CLAIMS])
def test_verified_at_seeds_0_to_4_full(cl):
    failures = {}
    for seed in range(5):
        result = cl.run("full", seed, draw=False)
        if not result.ok:
            failures[seed] = result.problems
    assert not failures, failures
