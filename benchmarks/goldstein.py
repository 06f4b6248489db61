"""Benchmark: sampled Goldstein measure with d = 100 and m = 2d = 200 gradients per point.

Prints the median time per point (target: under 50 ms) and, for scale, the time of the
min-norm solve alone and of the gradient evaluations alone, measured in the same run.

    python benchmarks/goldstein.py [--points 30] [--d 100]
"""
import argparse
import time

import numpy as np

import verify


class MaxOfAffine:
    """f(x) = max_j <a_j, x> + b_j with many pieces: sampled gradients are distinct vertices."""

    def __init__(self, d, pieces, seed=0):
        rng = np.random.default_rng(seed)
        self.A = rng.standard_normal((pieces, d))
        self.b = rng.standard_normal(pieces)
        self.dim = d

    def grad(self, y):
        return self.A[np.argmax(y @ self.A.T + self.b, axis=-1)]


class L1Sum:
    """f(x) = (1/N) sum_i |<a_i, x> - b_i| + ||x||^2/2: gradients differ in every sample."""

    def __init__(self, d, n, seed=0):
        rng = np.random.default_rng(seed)
        self.A = rng.standard_normal((n, d))
        self.b = rng.standard_normal(n)
        self.dim = d

    def grad(self, y):
        return np.sign(y @ self.A.T - self.b) @ self.A / self.A.shape[0] + y


def bench(problem, d, points, m, eps):
    rng = np.random.default_rng(1)
    times, solve, grads = [], [], []
    for i in range(points):
        x = rng.standard_normal(d)
        t0 = time.perf_counter()
        r = verify.goldstein(problem, x, eps=eps, samples=m, seed=i)
        times.append(time.perf_counter() - t0)
        assert r.certified
        t0 = time.perf_counter()
        g = problem.grad(r.points)
        grads.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        verify.min_norm_point(g)
        solve.append(time.perf_counter() - t0)
    return np.median(times) * 1e3, np.median(solve) * 1e3, np.median(grads) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=30)
    ap.add_argument("--d", type=int, default=100)
    args = ap.parse_args()
    d, m = args.d, 2 * args.d
    print(f"goldstein, d = {d}, m = {m} samples, median over {args.points} points (target < 50 ms per point)")
    for name, prob, eps in [("max of 50 affine pieces", MaxOfAffine(d, 50), 0.5),
                            ("l1 finite sum (N=500) + l2", L1Sum(d, 500), 0.1)]:
        total, solve, grad = bench(prob, d, args.points, m, eps)
        print(f"  {name:<28} {total:7.2f} ms per point  (min-norm solve {solve:6.2f} ms, gradients {grad:6.2f} ms)")


if __name__ == "__main__":
    main()
