"""Planted mistakes caught by the stationarity side of the gsgd family (issues 13, 14).

Claims: gsgd.single-timescale.stationarity, gsgd.clarke-not-minimal, gsgd.random-stepsizes.clarke,
gsgd.schedule-conditions. Each row names the one part that catches it (a few seconds to a minute).
"""
import numpy as np

from planted import Planted

STATIONARITY = "gsgd.single-timescale.stationarity"


def _identity_with_bias(monkeypatch):
    from stochopt import directions

    monkeypatch.setattr(directions.Identity, "select", lambda self, m: m + 0.05)


def _clarke_missing_piece(monkeypatch):
    from problems import _piecewise

    original = _piecewise.Piecewise._clarke

    def fewer(self, x, tol):
        G = original(self, x, tol)
        return G[:-1] if G.shape[0] > 1 else G

    monkeypatch.setattr(_piecewise.Piecewise, "_clarke", fewer)


def _min_norm_mean(monkeypatch):
    from verify import measures

    def mean_point(G, tol=measures.DEFAULT_TOL, method="auto"):
        G = np.asarray(G, dtype=float)
        w = np.full(G.shape[:-1], 1.0 / G.shape[-2])
        v = G.mean(axis=-2)
        norm = np.sqrt(np.sum(v * v, axis=-1))
        return measures.MinNormResult(v, w, w > 0, norm, np.zeros_like(norm), np.ones_like(norm, dtype=bool),
                                      norm, "mean", tol)

    monkeypatch.setattr(measures, "min_norm_point", mean_point)


def _relu_prime_one(monkeypatch):
    from problems import artifacts

    monkeypatch.setattr(artifacts, "_relu_prime", lambda t, at_zero: np.where(t >= 0, 1.0, 0.0))


def _goldstein_fixed_radius(monkeypatch):
    from verify import measures

    original = measures.sample_ball
    monkeypatch.setattr(measures, "sample_ball",
                        lambda x, eps, samples, seed=0, replica_ids=None: original(x, 1.0, samples, seed, replica_ids))


def _polynomial_runs_constant(monkeypatch):
    from stochopt import schedules

    monkeypatch.setattr(schedules.Polynomial, "_value", lambda self, k: self.a / self.b ** self.p)


def _random_steps_ignore_replica(monkeypatch):
    from stochopt import schedules

    original = schedules.Randomized.__call__

    def shared(self, k, replica_ids=None):
        ids = None if replica_ids is None else np.zeros_like(np.asarray(replica_ids))
        return original(self, k, ids)

    monkeypatch.setattr(schedules.Randomized, "__call__", shared)


ROWS = [
    Planted("gsgd-direction-constant-bias",
            "the identity direction (heavy ball) returns m + 0.05: phi's minimum leaves 0 and heavy ball stops at "
            "points where grad f = -0.05",
            _identity_with_bias, f"{STATIONARITY}:distance to the Clarke-stationary set goes to 0"),
    Planted("gsgd-clarke-set-missing-piece",
            "the exact Clarke set of the max-type problems drops its last active generator",
            _clarke_missing_piece, f"{STATIONARITY}:epsilon-active Clarke measure goes to 0"),
    Planted("gsgd-min-norm-is-the-mean",
            "the min-norm solver returns the mean of the generators (with a certificate that always holds)",
            _min_norm_mean, "gsgd.clarke-not-minimal:the Clarke-stationary points of Chebyshev-Rosenbrock N2 (n = 2, 3)"),
    Planted("gsgd-artifact-relu-prime-one",
            "relu'(0) = 1 in the artifact zoo's backprop: the ReLU program's oracle at 0 is 2, so a start on the "
            "artifact no longer stays there",
            _relu_prime_one, "gsgd.random-stepsizes.clarke:ReLU program x^2/2 + relu(x) - relu(-x)"),
    Planted("gsgd-goldstein-radius-ignored",
            "the Goldstein measure samples the unit ball whatever radius it is given",
            _goldstein_fixed_radius, f"{STATIONARITY}:ReLU network: Goldstein measure goes to 0"),
    Planted("gsgd-polynomial-schedule-runs-constant",
            "the executed polynomial schedule returns its k = 0 value at every k (its formula still decays)",
            _polynomial_runs_constant, "gsgd.schedule-conditions:the envelopes and momentum stepsizes satisfy the "
                                       "conditions"),
    Planted("gsgd-random-steps-ignore-replica-id",
            "the randomized schedule draws zeta_k with replica id 0 for every replica (shared, not independent)",
            _random_steps_ignore_replica, "gsgd.schedule-conditions:the random factors are U[a, b] across replicas"),
]
