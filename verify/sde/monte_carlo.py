"""Monte Carlo estimates of E L(x_k) for a discrete adaptive method, with a companion path per replica.

``expected_loss`` runs a ``stochopt`` method on a problem with gradient noise
g = grad L(x) + sigma Sigma^{1/2} z (``GradientNoise``), R replicas in lock-step, and records
L(x_k) at chosen steps. A **companion** driven by the same draws z makes the estimate precise:

- a *control variate* (``verify.sde.shadows``: ``RMSpropShadow``, ``AdamShadow``): the method's
  recursion on a quadratic with v replaced by its noise-only mean, so that the companion is linear and E L(Y_k) is known
  exactly; the estimate E[L(x_k) - L(Y_k)] + E L(Y_k) is unbiased and its standard error shrinks
  with the step size;
- a *coupled SDE reference* (``CoupledSDE``): the method's SDE integrated by Euler-Maruyama at
  dt = eta^2 and eta^2 / 2 on the same Brownian path (dW = eta z over one step), combined by
  Richardson extrapolation 2 L(X^{dt/2}) - L(X^{dt}) (Euler's O(dt) weak error cancels); the
  estimate is then the weak error E L(x_k) - E L(X(k eta^2)) itself, for any smooth loss.

Each piece has its own known-answer test (tests/test_sde.py). Draws come from numpy Generators
seeded by (seed, purpose): the method's noise never depends on which companion runs beside it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["GradientNoise", "CoupledSDE", "LossCurve", "expected_loss", "diagonal_noise", "loss_and_gradient",
           "generator"]


def generator(seed, purpose: int):
    """A numpy Generator for one purpose of a run; ``seed`` is an int or a tuple of ints.

    >>> float(generator((3, 1), 0).random()) == float(generator([3, 1], 0).random())
    True
    """
    return np.random.default_rng([int(v) for v in np.atleast_1d(seed)] + [purpose])


def loss_and_gradient(problem):
    """(value, grad) functions of a problem for the hot loop: the problem's own, except for a noisy
    quadratic with diagonal A, whose generic path multiplies a dense (d, d) matrix per replica; there
    the same numbers (bit for bit: the off-diagonal zeros add nothing) come from elementwise products.

    >>> import numpy as np, problems
    >>> p = problems.get("noisy-quadratic", hessian=[1.0, 3.0], noise_cov=1.0, center=[0.5, 0.0])
    >>> value, grad = loss_and_gradient(p)
    >>> x = np.array([[1.0, 2.0]]); bool(np.array_equal(grad(x), p.grad(x)) and np.array_equal(value(x), p.value(x)))
    True
    """
    from problems.noisy import NoisyQuadratic

    if type(problem) is not NoisyQuadratic or not np.array_equal(problem.A, np.diag(np.diag(problem.A))):
        return problem.value, problem.grad
    a, center, offset = np.diag(problem.A).copy(), np.asarray(problem.x_star, float), problem.f_star

    def grad(x):
        return a * (x - center)

    def value(x):
        r = x - center
        return 0.5 * np.ascontiguousarray(r * (a * r)).sum(axis=-1) + offset

    return value, grad


def diagonal_noise(problem) -> np.ndarray:
    """diag Sigma of a problem's one-sample gradient noise (ValueError unless Sigma is diagonal and constant).

    >>> import problems
    >>> diagonal_noise(problems.get("noisy-quadratic", hessian=[1.0, 2.0], noise_cov=[0.5, 0.25])).tolist()
    [0.5, 0.25]
    """
    if not hasattr(problem, "noise_covariance"):
        raise TypeError(f"problem {getattr(problem, 'name', problem)!r} has no gradient-noise model (noise_covariance)")
    S = np.asarray(problem.noise_covariance(), float)
    if not np.array_equal(S, np.diag(np.diag(S))):
        raise ValueError("the SDE tools need a diagonal noise covariance Sigma")
    return np.diag(S).copy()


@dataclass(frozen=True)
class GradientNoise:
    """The noise of one stochastic gradient: sigma Sigma^{1/2} (r1 z1 + r2 z2), z1, z2 independent.

    sigma ~ 1/sqrt(batch); ``weights`` (r1, r2) are SVAG's (default (1, 0): one draw);
    ``distribution`` "gaussian" or "exponential" (centred Exp(1): skewed, unit variance).
    ``draw`` returns the combined standard draw r1 z1 + r2 z2 (variance r1^2 + r2^2 per entry).

    >>> import numpy as np
    >>> z = GradientNoise(sigma=2.0, weights=(2.0, -1.0)).draw(np.random.default_rng(0), (200000, 1))
    >>> round(float(z.var()), 1), GradientNoise(sigma=2.0, weights=(2.0, -1.0)).variance
    (5.0, 20.0)
    """

    sigma: float = 1.0
    weights: tuple = (1.0, 0.0)
    distribution: str = "gaussian"

    def __post_init__(self):
        if not (self.sigma >= 0 and math.isfinite(self.sigma)):
            raise ValueError(f"sigma must be a finite number >= 0; got {self.sigma!r}")
        if len(self.weights) != 2 or not all(math.isfinite(w) for w in self.weights):
            raise ValueError(f"weights must be a pair of finite numbers (r1, r2); got {self.weights!r}")
        if self.distribution not in ("gaussian", "exponential"):
            raise ValueError(f"distribution must be 'gaussian' or 'exponential'; got {self.distribution!r}")
        object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))

    @property
    def variance(self) -> float:
        """Variance of the noise per unit of Sigma: sigma^2 (r1^2 + r2^2)."""
        return self.sigma ** 2 * (self.weights[0] ** 2 + self.weights[1] ** 2)

    def draw(self, rng, shape) -> np.ndarray:
        unit = rng.standard_normal if self.distribution == "gaussian" else (
            lambda size: rng.standard_exponential(size) - 1.0)
        r1, r2 = self.weights
        z = r1 * unit(shape)
        return z if r2 == 0.0 else z + r2 * unit(shape)


class CoupledSDE:
    """The method's SDE on the same Brownian path as the discrete run: a Monte Carlo reference.

    One discrete step k (draw z_k) is the SDE time interval [k eta^2, (k+1) eta^2] with
    dW = eta z_k. Two Euler-Maruyama chains run on it: one step of dt = eta^2, and two steps of
    eta^2 / 2 whose increments split eta z_k by a Brownian bridge (eta z/2 +- eta w/2, w a fresh
    standard normal). ``loss()`` is the Richardson combination 2 L(X^{dt/2}) - L(X^{dt}), whose
    expectation is E L(X(t)) up to O(dt^2) = O(eta^4) for smooth coefficients. Gaussian noise only
    (the Brownian increments must be Gaussian).

    >>> import numpy as np, problems
    >>> from verify.sde.paths import RMSpropSDE
    >>> p = problems.get("noisy-quadratic", hessian=[1.0], noise_cov=[1.0])
    >>> ref = CoupledSDE(RMSpropSDE(1.0, 1.0, 1.0, [1.0]), p, np.ones((1, 1)), eta=0.5, seed=0)
    >>> ref.step(np.zeros((1, 1))); float(ref.fine["x"][0, 0]) < 1.0
    True
    """

    def __init__(self, sde, problem, x0, eta, seed, **init):
        self.sde, self.eta, self.k = sde, float(eta), 0
        self.value, self.grad = loss_and_gradient(problem)
        self.coarse, self.fine = sde.init(x0, **init), sde.init(x0, **init)
        self.rng = generator(seed, 1)

    def step(self, z):
        eta, dt = self.eta, self.eta ** 2
        t = self.k * dt
        w = self.rng.standard_normal(z.shape)
        grad = self.grad
        self.coarse = self.sde.step(self.coarse, grad, eta * z, t, dt)
        self.fine = self.sde.step(self.fine, grad, 0.5 * eta * (z + w), t, dt / 2)
        self.fine = self.sde.step(self.fine, grad, 0.5 * eta * (z - w), t + dt / 2, dt / 2)
        self.k += 1

    def loss(self) -> np.ndarray:
        return 2.0 * self.value(self.fine["x"]) - self.value(self.coarse["x"])

    def expected_loss(self):
        return None           # unknown: the estimate is the difference E L(x_k) - E L(X(t_k))


@dataclass
class LossCurve:
    """Estimates at the recorded steps, with their Monte Carlo standard errors.

    ``estimate`` is E L(x_k) (no companion, or a control variate) or the weak error
    E L(x_k) - E L(X(k eta^2)) (a coupled SDE reference): see ``quantity``. ``samples`` (n_rec, R)
    are the per-replica values whose mean plus ``shift`` is the estimate.
    """

    steps: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    samples: np.ndarray
    shift: np.ndarray
    quantity: str


def expected_loss(method, problem, x0, steps, replicas, noise: GradientNoise, seed=0, record_steps=None,
                  companion=None, gradients=None) -> LossCurve:
    """Run ``method`` from x0 on ``problem`` with gradient noise, R replicas in lock-step; estimate at ``record_steps``.

    ``companion(x0_batch)`` builds the companion (or None); ``gradients``, if given, collects the
    mean over replicas of ||grad L(x_k)||^2 at the recorded steps (the signal of a noise-to-signal ratio).

    >>> import numpy as np, problems, stochopt
    >>> from verify.sde.shadows import RMSpropShadow
    >>> p = problems.get("noisy-quadratic", hessian=[1.0, 1.0], noise_cov=[1.0, 1.0])
    >>> opt = stochopt.rmsprop(lr=0.1, alpha=0.99, eps=5.0, v0=100.0)
    >>> make = lambda x: RMSpropShadow(p, x, GradientNoise(10.0), lr=0.1, alpha=0.99, eps=5.0, v0=100.0)
    >>> c = expected_loss(opt, p, np.ones(2), 100, 500, GradientNoise(10.0), companion=make)
    >>> c.estimate.shape, bool(c.se[0] < 0.01), c.quantity
    ((1,), True, 'E L(x_k)')
    """
    s = diagonal_noise(problem)
    value, grad = loss_and_gradient(problem)
    root = noise.sigma * np.sqrt(s)
    x0 = np.broadcast_to(np.asarray(x0, float), (replicas, problem.dim))
    state = method.init(x0)
    other = None if companion is None else companion(x0)
    record_steps = [steps] if record_steps is None else sorted(int(k) for k in record_steps)
    where = {k: i for i, k in enumerate(record_steps)}
    samples, shift = np.empty((len(where), replicas)), np.zeros(len(where))
    rng = generator(seed, 0)

    def record(k):
        i = where[k]
        samples[i] = value(state.x) - (0.0 if other is None else other.loss())
        known = None if other is None else other.expected_loss()
        shift[i] = 0.0 if known is None else known
        if gradients is not None:
            gradients.append(float(np.mean(np.sum(grad(state.x) ** 2, axis=-1))))

    if 0 in where:
        record(0)
    for k in range(steps):
        z = noise.draw(rng, x0.shape)
        state = method.step(state, grad(state.x) + root * z)
        if other is not None:
            other.step(z)
        if k + 1 in where:
            record(k + 1)
    quantity = "E L(x_k)" if other is None or other.expected_loss() is not None else "E L(x_k) - E L(X(k eta^2))"
    return LossCurve(np.asarray(record_steps), samples.mean(axis=1) + shift,
                     samples.std(axis=1, ddof=1) / math.sqrt(replicas), samples, shift, quantity)
