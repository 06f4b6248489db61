"""Symbolic checks with sympy (spec 5.5).

- ``verify.symbolic.schedules``: stepsize conditions proved from a schedule's formula.
- ``verify.symbolic.converters`` and ``verify.symbolic.lyapunov`` (other modules of this
  package) hold the converter and Lyapunov identities.

>>> from stochopt import schedules
>>> from verify import symbolic
>>> symbolic.divergent_sum(schedules.polynomial(1.0, p=1.0)).status
'proved'
"""
from .schedules import (  # noqa: F401
    CONDITIONS,
    DISPROVED,
    PROVED,
    UNPROVED,
    ConditionResult,
    ScheduleReport,
    check_schedule,
    divergent_sum,
    formula_of,
    log_vanishing,
    ratio_limit,
    ratio_vanishing,
    summable_squares,
    tail,
    vanishing,
)

__all__ = [
    "PROVED",
    "DISPROVED",
    "UNPROVED",
    "ConditionResult",
    "ScheduleReport",
    "check_schedule",
    "divergent_sum",
    "summable_squares",
    "vanishing",
    "log_vanishing",
    "ratio_vanishing",
    "ratio_limit",
    "formula_of",
    "tail",
    "CONDITIONS",
]
