"""Control variates for the Monte Carlo estimates on a quadratic: the method's recursion, linearised.

A shadow runs beside the discrete method, driven by the same draws z, with v replaced by its
noise-only mean vbar (deterministic): the shadow is then linear in the draws and its mean and
covariance follow exactly, so E L(Y_k) is known and E L(x_k) = E[L(x_k) - L(Y_k)] + E L(Y_k) has a
Monte Carlo error that shrinks with the step size (``verify.sde.monte_carlo.expected_loss``).
Diagonal noisy quadratics only (``problems`` "noisy-quadratic" with a diagonal A).
"""
from __future__ import annotations

import numpy as np

from .monte_carlo import GradientNoise, diagonal_noise

__all__ = ["RMSpropShadow", "AdamShadow"]


class _Shadow:
    """Common part of the control variates: Y (R, d) relative to the quadratic's centre, its exact
    moments, and vbar, the noise-only mean of v (v0 + EMA of sigma^2 (r1^2 + r2^2) Sigma)."""

    def __init__(self, problem, x0, noise: GradientNoise, lr, beta2, eps, v0=0.0):
        self.a = np.diag(np.asarray(problem.A, float)).copy()
        if not np.array_equal(np.asarray(problem.A), np.diag(self.a)):
            raise ValueError("the control variates need a diagonal Hessian A")
        self.s, self.center, self.offset = diagonal_noise(problem), np.asarray(problem.x_star, float), problem.f_star
        self.noise_coef = noise.sigma * np.sqrt(self.s)        # multiplies the combined draw z
        self.noise_var = noise.variance * self.s                # variance of the noise term per coordinate
        self.lr, self.beta2, self.eps = lr, beta2, eps
        self.y = np.array(x0, dtype=float) - self.center
        self.vbar = np.broadcast_to(np.asarray(v0, float), self.s.shape).astype(float)
        self.mean = self.y[0].copy()
        self.k = 0

    def loss(self) -> np.ndarray:
        return 0.5 * np.sum(self.a * self.y * self.y, axis=-1) + self.offset

    def _advance_vbar(self):
        self.vbar = self.beta2 * self.vbar + (1 - self.beta2) * self.noise_var
        self.k += 1


class RMSpropShadow(_Shadow):
    """Control variate for RMSprop (torch convention, v0 given) on a diagonal noisy quadratic.

    Y' = Y - c_k (a Y + sigma sqrt(Sigma) z), c_k = lr / (sqrt(vbar_{k+1}) + eps): linear in the
    draws, so mean and variance follow exactly: mean' = (1 - c a) mean, var' = (1 - c a)^2 var + c^2 Var(noise).

    >>> import numpy as np, problems
    >>> p = problems.get("noisy-quadratic", hessian=[1.0], noise_cov=[1.0])
    >>> sh = RMSpropShadow(p, np.ones((1, 1)), GradientNoise(), lr=0.5, alpha=0.0, eps=1.0, v0=1.0)
    >>> sh.step(np.zeros((1, 1))); float(sh.y[0, 0]), float(sh.expected_loss()), float(sh.var[0])
    (0.75, 0.3125, 0.0625)
    """

    def __init__(self, problem, x0, noise, lr, alpha, eps, v0=0.0):
        super().__init__(problem, x0, noise, lr, alpha, eps, v0)
        self.var = np.zeros_like(self.s)

    def step(self, z):
        self._advance_vbar()
        c = self.lr / (np.sqrt(self.vbar) + self.eps)
        self.y = self.y - c * (self.a * self.y + self.noise_coef * z)
        f = 1 - c * self.a
        self.mean, self.var = f * self.mean, f * f * self.var + c * c * self.noise_var

    def expected_loss(self) -> float:
        return float(0.5 * np.sum(self.a * (self.mean ** 2 + self.var)) + self.offset)


class AdamShadow(_Shadow):
    """Control variate for Adam (bias-corrected, v0 = 0) on a diagonal noisy quadratic.

    m' = b1 m + (1 - b1)(a Y + noise), Y' = Y - c_k m' with c_k = lr/(1 - b1^t)/(sqrt(vbar/(1 - b2^t)) + eps):
    (Y, m) <- A (Y, m) + B w, so the mean and the 2 x 2 covariance per coordinate follow exactly.

    >>> import numpy as np, problems
    >>> p = problems.get("noisy-quadratic", hessian=[1.0], noise_cov=[1.0])
    >>> sh = AdamShadow(p, np.ones((1, 1)), GradientNoise(sigma=0.0), lr=0.5, betas=(0.0, 0.5), eps=1.0)
    >>> sh.step(np.zeros((1, 1))); float(sh.y[0, 0]), float(sh.mean[0, 0]), float(sh.cov[0, 0])
    (0.5, 0.5, 0.0)
    """

    def __init__(self, problem, x0, noise, lr, betas, eps):
        super().__init__(problem, x0, noise, lr, betas[1], eps, 0.0)
        self.beta1 = betas[0]
        self.m = np.zeros_like(self.y)
        self.mean = np.stack([self.mean, np.zeros_like(self.mean)])     # E(Y, m)
        self.cov = np.zeros((3,) + self.s.shape)                         # Var Y, Cov(Y, m), Var m

    def step(self, z):
        self._advance_vbar()
        t, b1 = self.k, self.beta1
        c = self.lr / (1 - b1 ** t) / (np.sqrt(self.vbar / (1 - self.beta2 ** t)) + self.eps)
        self.m = b1 * self.m + (1 - b1) * (self.a * self.y + self.noise_coef * z)
        self.y = self.y - c * self.m
        # (Y, m) <- A (Y, m) + B w: A = [[1 - c(1-b1)a, -c b1], [(1-b1)a, b1]], B w has variances below
        a11, a12, a21, a22 = 1 - c * (1 - b1) * self.a, -c * b1, (1 - b1) * self.a, b1
        q = (1 - b1) ** 2 * self.noise_var                               # Var of (1 - b1) noise
        mean = self.mean
        self.mean = np.stack([a11 * mean[0] + a12 * mean[1], a21 * mean[0] + a22 * mean[1]])
        vyy, vym, vmm = self.cov
        self.cov = np.stack([
            a11 * a11 * vyy + 2 * a11 * a12 * vym + a12 * a12 * vmm + c * c * q,
            a11 * a21 * vyy + (a11 * a22 + a12 * a21) * vym + a12 * a22 * vmm - c * q,
            a21 * a21 * vyy + 2 * a21 * a22 * vym + a22 * a22 * vmm + q,
        ])

    def expected_loss(self) -> float:
        return float(0.5 * np.sum(self.a * (self.mean[0] ** 2 + self.cov[0])) + self.offset)
