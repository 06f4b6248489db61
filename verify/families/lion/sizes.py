"""The sizes of every ``lion`` claim, per mode: ``SIZES[claim_key][mode] -> dict``.

One table for the family (quick: CI, every claim at every seed 0-19 within ~30 s for the family;
full: a researcher's machine, seeds 0-4). docs/claims/lion.md lists each claim's sizes with their
run times and the ranges of the parameters that are not in the theorems.
"""

SIZES: dict = {
    "box-invariance": {
        "quick": {"replicas": 256, "steps": 200, "dim": 6},
        "full": {"replicas": 2048, "steps": 1000, "dim": 6},
    },
}
SIZES["implementation-identities"] = {
    "quick": {"replicas": 4, "dim": 6, "steps": 300},
    "full": {"replicas": 16, "dim": 20, "steps": 3000},
}
SIZES["lyapunov-identity"] = {
    "quick": {"states": 1000, "symbolic_points": 10},
    "full": {"states": 20000, "symbolic_points": 100},
}
SIZES["lyapunov-flow"] = {
    "quick": {"replicas": 32, "horizon": 10.0, "dts": [0.05, 0.025]},
    "full": {"replicas": 128, "horizon": 20.0, "dts": [0.04, 0.02, 0.01]},
}
SIZES["lyapunov-discrete"] = {
    "quick": {"replicas": 24, "horizon": 10.0, "etas": [0.04, 0.02, 0.01, 0.005]},
    "full": {"replicas": 64, "horizon": 20.0, "etas": [0.04, 0.02, 0.01, 0.005, 0.0025]},
}
SIZES["kkt-convergence"] = {
    "quick": {"replicas": 16, "log2_steps": 14, "fit_blocks": [3, 4, 5]},
    "full": {"replicas": 32, "log2_steps": 16, "fit_blocks": [3, 5, 7]},
}
SIZES["rate-exponent"] = {
    "quick": {"dims": [4, 16, 64], "horizons": [16, 64, 256, 1024, 4096], "replicas": 12},
    "full": {"dims": [4, 16, 64, 256], "horizons": [16, 64, 256, 1024, 4096, 16384], "replicas": 24},
}
SIZES["l1-l2-ratio"] = {
    "quick": {"widths": [8, 16, 32, 64], "checkpoints": [0, 25, 100, 400], "replicas": 8},
    "full": {"widths": [8, 16, 32, 64, 128], "checkpoints": [0, 25, 100, 400, 1600], "replicas": 8},
}
