"""Symbolic checks with sympy (spec 5.5), each tied to the code that runs.

- ``verify.symbolic.schedules``: stepsize conditions proved from a schedule's formula. Every
  proof about a ``Schedule`` first runs ``formula_matches_code`` (the formula evaluated exactly
  against what the schedule executes, at many steps and for every replica); a schedule that runs
  differently from its formula gets the status ``MISMATCH``, never "proved".
- ``verify.symbolic.converters``: the converter identities as equal transfer functions, with the
  transcribed converter formulas compared with ``stochopt.qh``'s numbers at many points.
- ``verify.symbolic.lyapunov``: Lyapunov derivative identities.

>>> from stochopt import schedules
>>> from verify import symbolic
>>> symbolic.divergent_sum(schedules.polynomial(1.0, p=1.0)).status
'proved'
>>> runs_constant = schedules.from_function(lambda k: 1.0, formula=symbolic.formula_of(schedules.polynomial(1.0)))
>>> symbolic.divergent_sum(runs_constant).status
'formula is not the code'
"""
from .schedules import (  # noqa: F401
    CODE_TOLERANCE,
    CONDITIONS,
    DISPROVED,
    MISMATCH,
    PROVED,
    UNPROVED,
    CodeAgreement,
    ConditionResult,
    ScheduleReport,
    check_schedule,
    check_steps,
    divergent_sum,
    formula_matches_code,
    formula_of,
    log_vanishing,
    ratio_limit,
    ratio_tends_to,
    ratio_vanishing,
    summable_squares,
    tail,
    vanishing,
)

__all__ = [
    "PROVED",
    "DISPROVED",
    "UNPROVED",
    "MISMATCH",
    "CODE_TOLERANCE",
    "CodeAgreement",
    "ConditionResult",
    "ScheduleReport",
    "formula_matches_code",
    "check_steps",
    "check_schedule",
    "divergent_sum",
    "summable_squares",
    "vanishing",
    "log_vanishing",
    "ratio_vanishing",
    "ratio_limit",
    "ratio_tends_to",
    "formula_of",
    "tail",
    "CONDITIONS",
]
