"""The sizes of every gsgd claim, per mode: ``SIZES[claim_key][mode] -> dict``.

One table for the family (quick: CI, every claim at every seed 0-19; full: a researcher's
machine). docs/claims/gsgd.md lists each claim's sizes with their run times.
"""

_STATIONARITY = dict(lr0=0.2, x0_radius=1.0, known_set_problems=("crescent", "mifflin2", "active-faces"),
                     epsilon_problems=("chained-crescent-1",), kappa=(4.0, 8.0, 16.0),
                     fraction_problems=("crescent", "chained-crescent-1"),
                     relu_problem=dict(hidden=(4,), n=24, d_in=3, task="regression", seed=0), relu_x0_radius=0.5,
                     batch_size=8, radius_kappa=(0.5, 2.0))

SIZES: dict = {
    # gsgd.single-timescale.stationarity: steps K (a power of 2 times `records`), window ends K / 2^j
    "stationarity": {
        "quick": dict(_STATIONARITY, steps=4096, records=128, checkpoints=4, replicas=32, fraction_replicas=128,
                      relu_steps=4096, relu_replicas=32),
        "full": dict(_STATIONARITY, steps=16384, records=256, checkpoints=5, replicas=64, fraction_replicas=256,
                     relu_steps=16384, relu_replicas=32),
    },
    # gsgd.clarke-not-minimal
    "not-minimal": {
        "quick": dict(lr0=0.1, steps=4096, replicas=32, n2_replicas=16, offset=1e-3, tolerance=1e-9, min_fraction=0.05),
        "full": dict(lr0=0.1, steps=16384, replicas=64, n2_replicas=32, offset=1e-3, tolerance=1e-9,
                     min_fraction=0.05),
    },
    # gsgd.random-stepsizes.clarke (one-dimensional artifacts: every step recorded)
    "artifacts": {
        "quick": dict(lr0=0.5, steps=512, replicas=64),
        "full": dict(lr0=0.5, steps=2048, replicas=256),
    },
    # gsgd.schedule-conditions (the schedules themselves are read from the claims above)
    "schedule-conditions": {
        "quick": dict(max_k=10 ** 7, k_points=24, replicas=2000, ks_tests=6),
        "full": dict(max_k=10 ** 9, k_points=64, replicas=20000, ks_tests=12),
    },
}

# gsgd.inclusion-tracking (constant parts: every step recorded; reference step eta_min / 2)
_TRACK_CRESCENT = dict(problem="crescent", etas=(0.04, 0.02, 0.01, 0.005), window=1.0, radius=0.5)
_TRACK_RELU = dict(problem="relu-mlp", etas=(0.01, 0.005, 0.0025, 0.00125), window=0.5, radius=1.0)
_TRACK_L1 = dict(problem="l1-regression", kwargs=dict(n=40, d=5, seed=0), around="x_star", batch_size=4)
SIZES["inclusion-tracking"] = {
    "quick": {"crescent": dict(_TRACK_CRESCENT, replicas=16), "relu": dict(_TRACK_RELU, replicas=16),
              "l1-noise": dict(_TRACK_L1, etas=(0.04, 0.02, 0.01, 0.005), window=1.0, radius=3.0, replicas=32),
              "diminishing": dict(_TRACK_L1, a=0.04, b=100.0, steps=1000, window=1.0, radius=6.0, replicas=16)},
    "full": {"crescent": dict(_TRACK_CRESCENT, replicas=64), "relu": dict(_TRACK_RELU, replicas=64),
             "l1-noise": dict(_TRACK_L1, etas=(0.04, 0.02, 0.01, 0.005, 0.0025), window=1.0, radius=3.0,
                              replicas=128),
             "diminishing": dict(_TRACK_L1, a=0.04, b=100.0, steps=4000, window=1.0, radius=12.0, replicas=64)},
}
