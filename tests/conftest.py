import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest


class TinyL1:
    """A small l1-regression finite sum defined here so engine tests do not depend on `problems`.

    f(x) = (1/N) sum_i |a_i . x - b_i|, batched with multiply-and-sum (no BLAS across replicas).
    """

    name = "tiny-l1"

    def __init__(self, n=50, d=4, seed=0):
        rng = np.random.default_rng(seed)
        self.A = rng.standard_normal((n, d))
        self.b = self.A @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
        self.n_samples, self.dim = n, d
        self.x0 = np.zeros(d)
        self.params = {"n": n, "d": d, "seed": seed}

    def value(self, x):
        r = np.sum(x[..., None, :] * self.A, axis=-1) - self.b
        return np.mean(np.abs(r), axis=-1)

    def oracle(self, x, idx):
        a = self.A[idx]  # (R, b, d)
        r = np.sum(a * x[..., None, :], axis=-1) - self.b[idx]
        return np.mean(np.sign(r)[..., None] * a, axis=-2)

    def grad(self, x):
        r = np.sum(x[..., None, :] * self.A, axis=-1) - self.b
        return np.mean(np.sign(r)[..., None] * self.A, axis=-2)


@pytest.fixture
def tiny_l1():
    return TinyL1()


def rel_err(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))
