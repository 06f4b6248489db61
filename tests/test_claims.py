"""Every registered claim: the check passes and the negative control fails, in quick mode.

Claims from every module of verify/families are collected automatically.
"""
import pytest

import verify

CLAIMS = verify.claims()


def test_every_claim_module_imports():
    assert verify.load_errors() == {}, "\n".join(verify.load_errors().values())


@pytest.mark.parametrize("cl", CLAIMS, ids=[c.id for c in CLAIMS])
def test_check_passes_and_control_fails(cl):
    verdict = cl.check("quick", 0)
    assert verdict.status == "pass", (verdict.statistic, verdict.threshold, verdict.ci, verdict.details)
    control = cl.control("quick", 0)
    assert control.status == "fail", ("the negative control must fail", control.status, control.statistic,
                                      control.threshold, control.ci)
    assert cl.statement and cl.source and cl.control_description
    _close(verdict, control)


def _close(*verdicts):
    import sys

    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        for v in verdicts:
            for item in v.figures:
                plt.close(item[0] if isinstance(item, tuple) else item)
