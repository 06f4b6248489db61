"""Sizes of every quasi-hyperbolic claim, quick (CI) and full (research), in one table.

Identity claims: ``steps`` of every run and ``replicas`` (each its own random hyperparameters),
``dim`` coordinates. Rounding grows about linearly with t (QHM's pole at 1 integrates it): the
worst of 256 draws stays below 1e-12 up to about 500 steps, so full mode adds draws, not steps.
"""
IDENTITY = {"quick": {"steps": 300, "replicas": 16, "dim": 5}, "full": {"steps": 400, "replicas": 256, "dim": 5}}

SIZES = {
    "converter.pid": IDENTITY,
    "converter.synthesized-nesterov": IDENTITY,
    "converter.robust-momentum": IDENTITY,
    "converter.triple-momentum": IDENTITY,
    "converter.accsgd": IDENTITY,
    "converter.two-state": IDENTITY,
    "converter.round-trips": {"quick": {"points": 2_000}, "full": {"points": 200_000}},
    "converter.singular-inputs": {"quick": {}, "full": {}},
    "special-cases.qhm": IDENTITY,
    # the ground-truth loops run one replica at a time: fewer draws in full mode
    "special-cases.qhadam": {"quick": IDENTITY["quick"], "full": {"steps": 400, "replicas": 64, "dim": 5}},
    # kappa values; the rate is fitted over the second half of horizons of 150 and of 250 decades
    "triple-momentum.rate": {"quick": {"kappas": [4.0, 25.0, 100.0, 400.0], "decades": [150, 250], "dim": 8},
                             "full": {"kappas": [4.0, 25.0, 100.0, 400.0, 2500.0, 10000.0], "decades": [150, 250],
                                      "dim": 8}},
    # T steps of random and of adversarial gradients, d coordinates per setting
    "adam-step-bound": {"quick": {"steps": 600, "dim": 64}, "full": {"steps": 600, "dim": 1024}},
    "from-nadam.asymptotic": {"quick": {"steps": 2_000, "dim": 16}, "full": {"steps": 10_000, "dim": 16}},
}
