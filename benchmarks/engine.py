"""Replica-steps per second of ``stochopt.run`` against two peers, measured in one run.

Work: heavy ball (lr 0.01, momentum 0.9) on an l1-regression finite sum (N = 1000, d = 100,
minibatch 10 per replica per step), R = 1024 replicas.

- engine: ``stochopt.run`` (all replicas in lock-step, one oracle call per step).
- loop: the same work as a Python loop over replicas (one oracle call and one step per replica).
- torch: the same update with ``torch.optim.SGD`` on an (R, d) float64 tensor, the same
  minibatches and the same l1 oracle written in torch (when torch is installed).

Machines are noisy: read the ratios, not the absolute times. Usage::

    python benchmarks/engine.py [--replicas 1024] [--steps 200] [--repeats 3]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import problems
import stochopt
from stochopt import streams


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--loop-steps", type=int, default=10, help="steps for the (slow) Python loop")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    R, steps = args.replicas, args.steps
    p = problems.get("l1-regression", n=1000, d=100, seed=0)
    opt = stochopt.heavy_ball(lr=0.01, momentum=0.9)
    batch = 10

    def engine():
        stochopt.run(opt, p, steps=steps, replicas=R, batch_size=batch, seed=0, record_every=steps, progress=False)

    t_engine = best_of(engine, args.repeats)
    rate_engine = R * steps / t_engine

    rids = np.arange(R)

    def loop():
        states = [opt.init(p.x0[None], replica_ids=[r]) for r in range(R)]
        for k in range(args.loop_steps):
            for r in range(R):
                idx = streams.integers(p.n_samples, 0, streams.BATCH, np.array([[r]]), k, np.arange(batch)[None])
                states[r] = opt.step(states[r], p.oracle(states[r].x, idx))

    t_loop = best_of(loop, 1)
    rate_loop = R * args.loop_steps / t_loop

    print(f"replicas R = {R}, d = {p.dim}, N = {p.n_samples}, batch = {batch}")
    print(f"engine  : {rate_engine:12,.0f} replica-steps/s  ({t_engine:.3f} s for {steps} steps)")
    print(f"loop    : {rate_loop:12,.0f} replica-steps/s  ({t_loop:.3f} s for {args.loop_steps} steps)")
    print(f"engine / loop  = {rate_engine / rate_loop:8.1f}x   (target >= 50x)")

    try:
        import torch
    except ImportError:
        print("torch not installed: torch.optim comparison skipped")
        return
    A = torch.from_numpy(np.ascontiguousarray(p.A))
    b = torch.from_numpy(np.ascontiguousarray(p.b))
    all_idx = [torch.from_numpy(streams.integers(p.n_samples, 0, streams.BATCH, rids[:, None], k,
                                                 np.arange(batch)[None])) for k in range(steps)]

    def torch_run():
        x = torch.nn.Parameter(torch.from_numpy(np.array(np.broadcast_to(p.x0, (R, p.dim)))))
        sgd = torch.optim.SGD([x], lr=0.01, momentum=0.9, dampening=0.9)
        for k in range(steps):
            idx = all_idx[k]
            with torch.no_grad():
                a = A[idx]
                r = (a * x.detach()[:, None, :]).sum(-1) - b[idx]
                x.grad = (torch.sign(r)[..., None] * a).mean(-2)
            sgd.step()

    t_torch = best_of(torch_run, args.repeats)
    rate_torch = R * steps / t_torch
    print(f"torch   : {rate_torch:12,.0f} replica-steps/s  ({t_torch:.3f} s for {steps} steps, "
          f"{torch.get_num_threads()} threads; index draws precomputed, not timed)")
    print(f"engine / torch = {rate_engine / rate_torch:8.2f}x   (target >= 1x)")


if __name__ == "__main__":
    main()
