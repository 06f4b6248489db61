"""Wall time of one sweep in one process and on a local Dask cluster of 2 workers, in one run.

    python benchmarks/sweep.py [--spec examples/sweeps/heavy_ball_tau.toml]

Each task is a block of grid points x replicas (seconds of work), so the scheduler's overhead
(milliseconds per task) is small against it; on 2 cores the ideal ratio is 2x. The cluster's
start-up is timed separately. Both runs must give the same arrays, bit for bit (checked).
"""
import argparse
import os
import shutil
import tempfile
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--spec", default=os.path.join(here, "..", "examples", "sweeps", "heavy_ball_tau.toml"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4000, help="steps per run (task grain)")
    parser.add_argument("--points-per-task", type=int, default=4)
    args = parser.parse_args()

    import dataclasses

    from verify.executors import LocalDask
    from verify.sweep import load_spec, run_sweep

    spec = dataclasses.replace(load_spec(args.spec), steps=args.steps, points_per_task=args.points_per_task,
                               figures=[])
    base = tempfile.mkdtemp()
    try:
        t = time.perf_counter()
        one = run_sweep(spec, os.path.join(base, "one"), progress=False)
        t_one = time.perf_counter() - t
        t = time.perf_counter()
        ex = LocalDask(workers=args.workers)
        ex.client.run(__import__, "verify.sweep")  # workers import the package before the clock starts
        t_start = time.perf_counter() - t
        try:
            t = time.perf_counter()
            many = run_sweep(spec, os.path.join(base, "many"), executor=ex, progress=False)
            t_many = time.perf_counter() - t
        finally:
            ex.close()
        same = all(np.array_equal(one.arrays[k], many.arrays[k], equal_nan=True) for k in one.arrays)
        print(f"sweep {spec.name}: {one.computed} tasks")
        print(f"  1 process          {t_one:8.2f} s")
        print(f"  {args.workers} Dask workers     {t_many:8.2f} s   (cluster start-up {t_start:.2f} s, not included)")
        print(f"  speed-up           {t_one / t_many:8.2f}x   (ideal {args.workers}x on {os.cpu_count()} cores)")
        print(f"  bit-identical      {same}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
