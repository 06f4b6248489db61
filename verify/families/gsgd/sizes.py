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

# gsgd.inclusion-tracking (constant parts: every step recorded; reference step eta_min / 2; the ReLU part had 8
# replicas until seed 16 was inconclusive for Signum: one replica's switching event widened the bootstrap interval;
# l1-noise had 32 until seed 6 was inconclusive, 0.41 [0.32, 0.50] against 0.35)
_TRACK_CRESCENT = dict(problem="crescent", etas=(0.04, 0.02, 0.01, 0.005), window=1.0, radius=0.5, turn=True)
_TRACK_RELU = dict(problem="relu-mlp", etas=(0.01, 0.005, 0.0025, 0.00125), window=0.5, radius=1.0, turn=True)
_TRACK_L1 = dict(problem="l1-regression", kwargs=dict(n=40, d=5, seed=0), around="x_star", batch_size=4)
SIZES["inclusion-tracking"] = {
    "quick": {"crescent": dict(_TRACK_CRESCENT, replicas=16), "relu": dict(_TRACK_RELU, replicas=16),
              "l1-noise": dict(_TRACK_L1, etas=(0.04, 0.02, 0.01, 0.005), window=1.0, radius=3.0, replicas=64),
              "diminishing": dict(problem="relu-mlp", a=0.01, b=100.0, windows=4, window=0.25, radius=1.0,
                                  replicas=16)},
    "full": {"crescent": dict(_TRACK_CRESCENT, replicas=64), "relu": dict(_TRACK_RELU, replicas=64),
             "l1-noise": dict(_TRACK_L1, etas=(0.04, 0.02, 0.01, 0.005, 0.0025), window=1.0, radius=3.0,
                              replicas=128),
             "diminishing": dict(problem="relu-mlp", a=0.01, b=100.0, windows=6, window=0.25, radius=1.0,
                                 replicas=32)},
}

# gsgd.single-timescale.lyapunov (every step recorded; steps = K at scale c = 1, K / c at scale c). 128 replicas
# on the classic problems: the largest rise is a rare kink event, heavy-tailed over replicas; with 32 the order
# of the clipped directions scattered by 0.14 and 6 of 40 (seed, problem) intervals reached below 1/2
_LYAP = dict(scales=(1.0, 0.5, 0.25, 0.125), b=20.0, radius=0.5)
SIZES["lyapunov"] = {
    "quick": {"crescent": dict(_LYAP, problem="crescent", a=0.1, steps=200, replicas=128),
              "mifflin2": dict(_LYAP, problem="mifflin2", a=0.1, steps=200, replicas=128),
              "relu": dict(_LYAP, problem="relu-mlp", a=0.05, steps=200, replicas=8)},
    "full": {"crescent": dict(_LYAP, problem="crescent", a=0.1, steps=1200, replicas=256),
             "mifflin2": dict(_LYAP, problem="mifflin2", a=0.1, steps=1200, replicas=256),
             "relu": dict(_LYAP, problem="relu-mlp", a=0.05, steps=1200, replicas=64)},
}

# gsgd.two-timescale (ReLU network, full batch; window ends K/2^j; slow windows start at k_j/2, slow time T)
_TWO = dict(problem="relu-mlp", a=0.01, b=10.0, p_eta=1.0, theta0=0.5, p_theta=0.1, coupling=2.0, radius=1.0)
SIZES["two-timescale"] = {
    "quick": {"fast": dict(_TWO, steps=2048, checkpoints=4, replicas=24, bootstrap=300),
              "slow": dict(_TWO, steps=4096, checkpoints=4, replicas=8, window=0.05, h_fraction=1.0)},
    "full": {"fast": dict(_TWO, steps=32768, checkpoints=6, replicas=64, bootstrap=1000),
             "slow": dict(_TWO, steps=32768, checkpoints=6, replicas=32, window=0.05, h_fraction=1.0)},
}

# gsgd.value-convergence (every step recorded; window ends K / 2^j)
_VALUE = dict(b=10.0, power=0.75, checkpoints=4, methods=("heavy_ball", "signum", "lion_singlescale", "normalized_sgd",
                                                         "clipped_sgd", "clipped_sgd_coordinate"))
SIZES["value-convergence"] = {
    "quick": {"l1": dict(_VALUE, problem="l1-regression", kwargs=dict(n=40, d=5, seed=0), a=0.3, radius=1.0,
                         batch_size=4, steps=4096, replicas=32)},
    "full": {"l1": dict(_VALUE, problem="l1-regression", kwargs=dict(n=40, d=5, seed=0), a=0.3, radius=1.0,
                        batch_size=4, steps=32768, replicas=64, checkpoints=6)},
}

# gsgd.boundedness (ReLU network + lam ||x||_1; total ODE time a b ln(1 + K/b) >= 100; checkpoints T/2^j)
_BOUNDED = dict(lam=0.05, a=0.5, b=200.0, radius=0.5, batch_size=8, every=8, checkpoints=4,
                methods=("heavy_ball", "signum", "lion_singlescale", "normalized_sgd", "clipped_sgd",
                         "clipped_sgd_coordinate"))
SIZES["boundedness"] = {
    "quick": {"relu": dict(_BOUNDED, steps=2048, replicas=8)},
    "full": {"relu": dict(_BOUNDED, steps=16384, replicas=32)},
}
