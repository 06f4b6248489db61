"""Planted mistakes in the stepsize schedules (issue 13 items 3 and 5): code that runs differently from its formula.

Each row changes what a schedule class executes, per step and in blocks (``_block``, where the
schedule API evaluates blocks of steps), and leaves its ``formula()`` alone: the symbolic proofs
must notice that the formula is no longer the code.
"""
import math

import numpy as np

from planted import Planted


def _executes(monkeypatch, cls_name, value):
    """Make ``stochopt.schedules.<cls_name>`` execute ``value(self, k, replica_ids)`` per step and in blocks."""
    from stochopt import schedules

    cls = getattr(schedules, cls_name)
    monkeypatch.setattr(cls, "__call__", lambda self, k, replica_ids=None: value(self, k, replica_ids))
    if hasattr(cls, "_block"):  # block evaluation (where the schedule API has it) runs the same mistake
        monkeypatch.setattr(cls, "_block", lambda self, ks, replica_ids: np.stack(
            [np.broadcast_to(np.asarray(value(self, int(k), replica_ids), dtype=float),
                             np.shape(value(self, int(ks[0]), replica_ids))) for k in ks]))


def _polynomial_constant(monkeypatch):
    _executes(monkeypatch, "Polynomial", lambda s, k, ids: s.a / s.b ** s.p)


def _polynomial_off_by_one(monkeypatch):
    _executes(monkeypatch, "Polynomial", lambda s, k, ids: s.a / (k + 1 + s.b) ** s.p)


def _polynomial_ignores_b(monkeypatch):
    _executes(monkeypatch, "Polynomial", lambda s, k, ids: s.a / (k + 1.0) ** s.p)


def _warmup_from_zero(monkeypatch):
    _executes(monkeypatch, "Warmup", lambda s, k, ids: s.schedule(k, ids) * min(1.0, k / s.warmup_steps))


def _randomized_ignores_low(monkeypatch):
    from stochopt import streams

    def value(s, k, ids):
        ids_ = np.zeros(1, dtype=np.int64) if ids is None else np.asarray(ids)
        zeta = s.high * streams.uniform(s.seed, streams.STEPSIZE, ids_, k)   # on [0, high], not [low, high]
        out = s.envelope(k, ids) * zeta
        return float(out[0]) if ids is None and out.size == 1 else out

    _executes(monkeypatch, "Randomized", value)


def _randomized_one_draw_per_replica(monkeypatch):
    from stochopt import streams

    def value(s, k, ids):
        ids_ = np.zeros(1, dtype=np.int64) if ids is None else np.asarray(ids)
        zeta = s.low + (s.high - s.low) * streams.uniform(s.seed, streams.STEPSIZE, ids_, 0)   # step 0's draw forever
        out = s.envelope(k, ids) * zeta
        return float(out[0]) if ids is None and out.size == 1 else out

    _executes(monkeypatch, "Randomized", value)


def _randomized_detector():
    from test_schedules_claims import test_random_stepsize_factors_are_iid_uniform_across_steps

    test_random_stepsize_factors_are_iid_uniform_across_steps()


def _coupled_ignores_cap(monkeypatch):
    _executes(monkeypatch, "Coupled", lambda s, k, ids: s.tau * s.schedule(k, ids))


def _constant_first_replica(monkeypatch):
    _executes(monkeypatch, "Constant", lambda s, k, ids: float(np.ravel(s.value)[0]))


def _step_decay_off_by_one(monkeypatch):
    _executes(monkeypatch, "StepDecay", lambda s, k, ids: s.initial * s.factor ** ((k + 1) // s.every))


def _cosine_no_clamp(monkeypatch):
    _executes(monkeypatch, "Cosine", lambda s, k, ids: s.final + 0.5 * (s.initial - s.final) * (
        1.0 + math.cos(math.pi * k / s.total_steps)))


ROWS = [
    Planted("polynomial-runs-constant", "the polynomial schedule runs as the constant a/b^p while its formula says "
            "a/(k + b)^p", _polynomial_constant, "schedules.polynomial.conditions:sum eta_k = inf"),
    Planted("polynomial-off-by-one", "the polynomial schedule runs as a/(k + 1 + b)^p (an off-by-one in k)",
            _polynomial_off_by_one, "schedules.polynomial.log-condition:runs as its formula"),
    Planted("polynomial-ignores-b", "the polynomial schedule runs as a/(k + 1)^p whatever b", _polynomial_ignores_b,
            "schedules.two-timescale.ratio:eta_k / theta_k -> 0"),
    Planted("warmup-ramp-from-zero", "the warm-up ramps as k/W (the first step is 0) instead of (k + 1)/W",
            _warmup_from_zero, "schedules.warmup.conditions:runs as its formula"),
    Planted("randomized-ignores-low", "random stepsize factors drawn on [0, high] instead of [low, high]",
            _randomized_ignores_low, "schedules.randomized.envelope:realised values within [low, high] x envelope"),
    Planted("randomized-one-draw-per-replica", "random stepsize factors drawn once per replica and reused at every "
            "step (within the bounds, so the envelope claim cannot see it)", _randomized_one_draw_per_replica,
            "tests/test_schedules_claims.py::test_random_stepsize_factors_are_iid_uniform_across_steps",
            detector=_randomized_detector),
    Planted("coupled-ignores-cap", "the coupled schedule ignores its cap: theta_k = tau eta_k", _coupled_ignores_cap,
            "schedules.coupled.single-timescale:runs as its formula"),
    Planted("constant-first-replica", "a per-replica constant runs with the first replica's value for every replica",
            _constant_first_replica, "schedules.constant.not-diminishing:runs as its formula"),
    Planted("step-decay-off-by-one", "step decay decays at floor((k + 1)/W) instead of floor(k/W)",
            _step_decay_off_by_one, "schedules.step-decay.finite-time:runs as its formula"),
    Planted("cosine-no-clamp", "cosine annealing keeps oscillating after total_steps (min(k, T) dropped)",
            _cosine_no_clamp, "schedules.cosine.eventually-constant:runs as its formula"),
]

NO_PLANTED = {}
