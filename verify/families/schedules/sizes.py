"""Sizes of every schedules claim, quick (CI) and full, in one table.

``cases``: the parameters of the schedules each claim is proved for; ``K``: the number of steps of
the partial sums drawn in the figures (the proofs are symbolic and do not depend on it); the code
is compared with the formula at ``verify.symbolic.check_steps()`` (k = 0..255 and 96 steps up to
10^12) in both modes, for every replica (``replicas`` of the randomized schedule).
"""
POLY = {"quick": {"cases": [(0.5, 1.0, 0.6), (0.5, 1.0, 0.75), (0.5, 1.0, 1.0)], "K": 10_000},
        "full": {"cases": [(a, b, p) for a, b in ((0.5, 1.0), (0.1, 10.0), (2.0, 100.0))
                           for p in (0.51, 0.55, 0.6, 2 / 3, 0.75, 0.9, 1.0)], "K": 100_000}}

SIZES = {
    "polynomial.conditions": POLY,
    "polynomial.log-condition": {"quick": {"cases": [(0.5, 1.0, 0.25), (0.5, 1.0, 0.5)], "K": 10_000},
                                 "full": {"cases": [(0.5, 1.0, p) for p in (0.1, 0.25, 0.4, 0.5)] +
                                          [(2.0, 100.0, 0.5)], "K": 100_000}},
    "warmup.conditions": {"quick": {"cases": [(0.5, 1.0, 0.75, 100)], "K": 10_000},
                          "full": {"cases": [(0.5, 1.0, 0.75, 100), (0.1, 10.0, 0.6, 1000), (2.0, 1.0, 1.0, 10)],
                                   "K": 100_000}},
    "randomized.envelope": {"quick": {"cases": [(0.5, 1.0, 0.75)], "bounds": (0.5, 1.5), "replicas": 16, "K": 10_000},
                            "full": {"cases": [(0.5, 1.0, 0.75), (0.9, 1.0, 0.6), (0.5, 10.0, 1.0)],
                                     "bounds": (0.5, 1.5), "replicas": 64, "K": 100_000}},
    "coupled.single-timescale": {"quick": {"cases": [(0.5, 1.0, 0.75, 2.0, 0.5)], "K": 10_000},
                                 "full": {"cases": [(0.5, 1.0, 0.75, 2.0, 0.5), (0.1, 10.0, 1.0, 5.0, 0.1),
                                                    (1.0, 1.0, 0.6, 0.5, None)], "K": 100_000}},
    "two-timescale.ratio": {"quick": {"cases": [(0.5, 10.0, 1.0, 0.5, 0.6)], "K": 10_000},
                            "full": {"cases": [(0.5, 10.0, 1.0, 0.5, 0.6), (0.1, 10.0, 0.9, 1.0, 0.55),
                                               (0.5, 1.0, 0.75, 0.5, 0.51)], "K": 100_000}},
    "constant.not-diminishing": {"quick": {"cases": [0.05, (0.01, 0.1, 1.0)], "K": 10_000},
                                 "full": {"cases": [0.05, 1e-4, (0.01, 0.1, 1.0)], "K": 100_000}},
    "step-decay.finite-time": {"quick": {"cases": [(0.1, 0.5, 100)], "K": 10_000},
                               "full": {"cases": [(0.1, 0.5, 100), (1.0, 0.9, 10), (0.01, 0.1, 1000)], "K": 100_000}},
    "cosine.eventually-constant": {"quick": {"positive": [(0.1, 1000, 0.01)], "zero": [(0.1, 1000)], "K": 10_000},
                                   "full": {"positive": [(0.1, 1000, 0.01), (1.0, 10_000, 1e-3)],
                                            "zero": [(0.1, 1000), (1.0, 100)], "K": 100_000}},
}
