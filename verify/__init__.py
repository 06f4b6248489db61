"""verify: the instrument every claim reads its verdict from.

- measures: ``min_norm_point``, ``goldstein``, ``clarke_distance`` (spec 5.1, 5.2);
- inclusions: the limiting differential inclusions and their event-driven integrator (spec 1.5, 5.3);
- tracking: the windowed tracking error ``tracking_error`` (spec 5.3);
- lyapunov: increments of a Lyapunov function along a trace;
- stats: ``fit_exponent``, ``standard_error``, ``mean_ci``, ``bootstrap`` (spec 5.4);
- symbolic: sympy proofs of stepsize conditions (spec 5.5);
- registry and report: ``Claim`` (parts, each with its own control), ``Context``, ``Verdict``,
  ``decide``, ``claims()``, ``run_claims()`` (spec 5.6); executors run claims x seeds;
- user: ``check_direction``, ``check_method``: a user's own direction or method, its assumptions
  checked first, then the claims; ci: JUnit XML and drift from a baseline;
- cli: the ``stochopt`` command.

>>> import numpy as np, verify
>>> verify.min_norm_point(np.array([[1.0, 0.0], [0.0, 1.0]])).point
array([0.5, 0.5])
"""
from . import inclusions, lyapunov, measures, stats, symbolic, tracking  # noqa: F401
from .lyapunov import decrease_summary, framework_lyapunov, increments, positive_part_sum, values_along
from .measures import certificate, clarke_distance, default_samples, goldstein, min_norm_point, sample_ball
from .registry import (
    Claim,
    ClaimResult,
    Context,
    Part,
    PartResult,
    SeedResult,
    Verdict,
    claims,
    decide,
    get_claim,
    load_errors,
    run_claims,
)
from .stats import bootstrap, fit_exponent, mean_ci, standard_error
from .inclusions import (
    Inclusion,
    Solution,
    integrate,
    linear_flow,
    single_timescale_flow,
    subgradient_flow,
    two_timescale_flow,
)
from .tracking import MomentumRecorder, momentum_error, tracking_error
from .user import check_direction, check_method

__all__ = [
    "min_norm_point", "certificate", "goldstein", "clarke_distance", "default_samples", "sample_ball",
    "Inclusion", "Solution", "linear_flow", "subgradient_flow", "single_timescale_flow", "two_timescale_flow",
    "integrate", "tracking_error",
    "MomentumRecorder", "momentum_error",
    "increments", "positive_part_sum", "decrease_summary", "values_along", "framework_lyapunov",
    "fit_exponent", "standard_error", "mean_ci", "bootstrap",
    "symbolic",
    "Claim", "Part", "Context", "ClaimResult", "SeedResult", "PartResult", "Verdict", "decide", "claims",
    "get_claim", "run_claims", "load_errors", "check_direction", "check_method",
]
