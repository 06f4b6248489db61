"""The pytest plugin: a user's test file with @pytest.mark.stochopt_claim (issue 16, part 2), run by pytester.

The inner runs pass ``-p verify.pytest_plugin``, so these tests also run where the ``pytest11``
entry point is not installed (an installed stochopt registers the plugin under that same name,
and ``-p`` then changes nothing).
"""
import sys

import pytest

from verify import registry

from user_claims import USER_MODULE, register_descent_claim

pytest_plugins = ("pytester",)
MODULE = "stochopt_plugin_user"
# Everything the inner runs import is imported here first, before pytester snapshots sys.modules: a
# module it removes after an inner run is imported afresh by the next test, and torch (its lazily
# imported torch._dynamo included, which an optimizer's first step loads) cannot be imported twice.
torch = pytest.importorskip("torch")
_p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
_p.grad = torch.ones(1, dtype=torch.float64)
torch.optim.SGD([_p], lr=0.1, momentum=0.5).step()
import PIL.Image  # noqa: E402,F401  (report.html's figures)
import stochopt.torch.as_method  # noqa: E402,F401
import verify.pytest_plugin  # noqa: E402,F401
import verify.report_html  # noqa: E402,F401


@pytest.fixture
def user_suite(pytester, monkeypatch):
    """A user's project: their module beside their tests, and the throw-away claim zzplugin.descent."""
    cid = register_descent_claim("zzplugin.descent")
    pytester.makepyfile(**{MODULE: USER_MODULE})
    pytester.syspathinsert()
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    yield pytester
    registry.unregister(cid)
    sys.modules.pop(MODULE, None)


def test_the_marker_passes_for_a_valid_direction_and_method(user_suite):
    user_suite.makepyfile(test_mine=f'''
        import pytest

        @pytest.mark.stochopt_claim("zzplugin.descent", direction="{MODULE}:PseudoHuber", seeds="0:2")
        def test_my_direction(stochopt_result):
            assert stochopt_result.ok and stochopt_result.assumptions.ok
            assert [s.seed for s in stochopt_result.claims[0].by_seed] == [0, 1]

        @pytest.mark.stochopt_claim("zzplugin.descent", method="{MODULE}:MySGD")
        def test_my_torch_optimizer():
            pass

        @pytest.mark.stochopt_claim("zzplugin")
        def test_the_builtin_methods(stochopt_result):
            assert (stochopt_result.doc["claims"][0]["status"] == "verified")
    ''')
    result = user_suite.runpytest("-p", "verify.pytest_plugin", "-q")
    result.assert_outcomes(passed=3)


def test_the_marker_fails_with_the_statistic_for_a_broken_method_or_direction(user_suite):
    user_suite.makepyfile(test_mine=f'''
        import pytest

        @pytest.mark.stochopt_claim("zzplugin.descent", method="{MODULE}:forgets_schedule", mode="quick", seeds="0")
        def test_my_method():
            pass

        @pytest.mark.stochopt_claim("zzplugin.descent", direction="{MODULE}:Backwards")
        def test_my_direction():
            pass
    ''')
    result = user_suite.runpytest("-p", "verify.pytest_plugin", "-q")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([  # the broken method: through the statistic
        "*stochopt claims NOT VERIFIED (mode quick, seed 0; method stochopt_plugin_user:forgets_schedule)*",
        "*zzplugin.descent: not verified (verified at 0/1 seeds)*",
        "*BAD seed 0, part 'shrinks': check fail: statistic 0.2314 <= threshold 0.1; control fail: statistic 0.2314 "
        "<= threshold 0.1*",
        "*figures of 'shrinks': */figures/zzplugin.descent--shrinks-check-1.png*",
        "*report: */report.html (also report.md, results.json)*",
    ])
    result.stdout.fnmatch_lines([  # the broken direction: through its assumptions
        "*assumptions of the direction stochopt_plugin_user:Backwards: VIOLATED*",
        "*FAIL*subgradient: select is not a subgradient of phi: phi(y) < phi(m) + <s, y - m>*",
        "*zzplugin.descent: not applicable*",
        "*n/a seed 0, part 'shrinks': not applicable: assumption 'subgradient' violated*",
    ])


def test_a_wrong_marker_is_a_usage_error(user_suite):
    user_suite.makepyfile(test_mine='''
        import pytest

        @pytest.mark.stochopt_claim("zzplugin.descent", seed=3)
        def test_typo():
            pass

        def test_unmarked(stochopt_result):
            pass
    ''')
    result = user_suite.runpytest("-p", "verify.pytest_plugin", "-q")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*unknown argument(s) seed; accepted: direction, method, mode, seeds*",
                                 "*the stochopt_result fixture needs @pytest.mark.stochopt_claim*"])
