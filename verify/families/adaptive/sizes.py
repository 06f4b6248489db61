"""Sizes of every adaptive claim, quick (CI) and full (research), in one table.

Parameters that are not in a theorem (grids, horizons, sample counts) are shown over a range
inside the claim where they could matter; docs/claims/adaptive.md lists the range over which
each verdict held and the measured run times.
"""

SIZES = {
    "rmsprop-sde-weak-error": {
        "quick": {"etas": [0.4, 0.2, 0.1], "T": 1.28, "d": 10, "n_times": 8, "replicas": 10000,
                  "logcosh_replicas": 1000},
        "full": {"etas": [0.4, 0.2, 0.1, 0.05], "T": 1.28, "d": 10, "n_times": 8, "replicas": 40000,
                 "logcosh_replicas": 4000},
    },
    "adam-sde-weak-error": {
        "quick": {"etas": [0.3, 0.15, 0.075], "T": 1.44, "d": 10, "n_times": 8, "replicas": 4000},
        "full": {"etas": [0.3, 0.15, 0.075, 0.0375], "T": 1.44, "d": 10, "n_times": 8, "replicas": 16000},
    },
}
SIZES.update({
    "adan-nme-identity": {"quick": {"replicas": 16, "d": 5, "steps": 200},
                          "full": {"replicas": 64, "d": 10, "steps": 2000}},
    "adan-conventions": {"quick": {"replicas": 8, "d": 6, "steps": 300, "restart_every": 50},
                         "full": {"replicas": 16, "d": 20, "steps": 2000, "restart_every": 250}},
})
SIZES.update({
    "adamssm-reductions": {"quick": {"replicas": 8, "d": 5, "steps": 200, "impulse_steps": 200, "dc_steps": 100},
                           "full": {"replicas": 32, "d": 20, "steps": 2000, "impulse_steps": 1000, "dc_steps": 1000}},
})
SIZES.update({
    "delta-gclip-step-factor": {"quick": {"replicas": 256, "d": 6, "steps": 50, "stall_replicas": 128,
                                          "stall_steps": 2000},
                                "full": {"replicas": 2048, "d": 20, "steps": 200, "stall_replicas": 512,
                                         "stall_steps": 20000}},
    "delta-gclip-wide-networks": {"quick": {"widths": [64, 256, 1024], "steps": 600, "inits": 4},
                                  "full": {"widths": [64, 256, 1024, 4096], "steps": 1500, "inits": 8}},
})
SIZES.update({
    "sqrt-scaling": {"quick": {"noise_levels": [1.0, 2.0, 4.0], "d": 5, "replicas": 2000, "kappas": [4, 16],
                               "T": 1.28, "points": 8, "bootstrap": 200},
                     "full": {"noise_levels": [0.5, 1.0, 2.0, 4.0, 8.0], "d": 5, "replicas": 8000,
                              "kappas": [4, 16, 64], "T": 1.28, "points": 8, "bootstrap": 400}},
})
SIZES.update({
    "svag": {"quick": {"ls": [1, 2, 4], "T": 1.28, "d": 10, "n_times": 8, "replicas": 2000},
             "full": {"ls": [1, 2, 4, 8], "T": 1.28, "d": 10, "n_times": 8, "replicas": 8000}},
})
SIZES.update({
    "adam-signgd-limit": {"quick": {"lrs": [5e-4, 2.5e-4, 1.25e-4], "instances": 6, "d": 4, "T": 0.5},
                          "full": {"lrs": [1e-3, 5e-4, 2.5e-4, 1.25e-4, 6.25e-5], "instances": 16, "d": 8, "T": 0.5}},
})
SIZES.update({
    "adam-spike-diagram": {"quick": {"instances": 5, "steps": 4000}, "full": {"instances": 15, "steps": 8000}},
})
