"""The autodiff-artifact zoo (Bolte & Pauwels 2020; Kakade & Lee 2018).

One-dimensional functions written with relu or |.| whose backprop oracle (relu'(0) = 0, or a
per-component choice of |.|'(0)) differs from the true derivative at an artifact point. Each
declares ``artifact_point``, ``true_derivative`` and ``oracle_at_artifact`` there, the set where
oracle and derivative differ (``artifact_set``, and ``in_artifact_set(x)``). Every function here
is smooth, so ``clarke(x)`` is the single true gradient.

>>> import problems
>>> p = problems.get("artifact-shifted-quadratic")
>>> p.oracle_at_artifact.tolist(), p.true_derivative.tolist(), p.x_star.tolist()
([0.0], [1.0], [-1.0])
"""
from __future__ import annotations

import numpy as np

from ._base import FiniteSum, Problem, check_real, readonly

__all__ = ["ReluDifference", "ReluZero", "ShiftedQuadratic", "SumRule"]

BP = ("Bolte & Pauwels (2020), A mathematical model for automatic differentiation in machine learning, NeurIPS; "
      "Kakade & Lee (2018), Provably correct automatic subdifferentiation for qualified programs, NeurIPS")


def _relu(t):
    return np.maximum(t, 0.0)


def _relu_prime(t, at_zero):
    return np.where(t > 0, 1.0, np.where(t < 0, 0.0, at_zero))


class _Artifact(Problem):
    has_clarke = True
    artifact_set = "{0}"

    def __init__(self, relu_prime_at_zero=0.0, x_star=None, f_star=None):
        self.relu_prime_at_zero = check_real("relu_prime_at_zero", relu_prime_at_zero, 0.0, 1.0)
        super().__init__(1, [1.0], {"relu_prime_at_zero": self.relu_prime_at_zero}, x_star=x_star, f_star=f_star)
        self.artifact_point = readonly([0.0])
        self.true_derivative = readonly(self._true_grad(self.artifact_point))
        self.oracle_at_artifact = readonly(self.grad(self.artifact_point))

    def in_artifact_set(self, x) -> np.ndarray:
        """Boolean (...): whether the oracle differs from the true derivative at x (..., 1)."""
        x = self._as_x(x)
        return np.any(self._grad(x) != self._true_grad(x), axis=-1)

    def _clarke(self, x, tol):
        return self._true_grad(x)[None, :]


class ReluDifference(_Artifact):
    """relu(x) - relu(-x) = x: backprop with relu'(0) = 0 gives 0 at x = 0, the derivative is 1.

    >>> import problems
    >>> p = problems.get("artifact-relu-difference")
    >>> p.grad([[0.0], [2.0]]).ravel().tolist()
    [0.0, 1.0]
    """

    name, reference, convex = "artifact-relu-difference", BP, True
    formula = "relu(x) - relu(-x)  (= x)"

    def _value(self, x):
        return (_relu(x) - _relu(-x))[..., 0]

    def _grad(self, x):
        a = self.relu_prime_at_zero
        return _relu_prime(x, a) + _relu_prime(-x, a)

    def _true_grad(self, x):
        return np.ones(np.shape(x))

    @property
    def artifact_set(self):
        return "{0}" if self.relu_prime_at_zero != 0.5 else "empty (relu'(0) = 1/2)"


class ReluZero(_Artifact):
    """relu(-x) + x - relu(x) = 0: backprop with relu'(0) = 0 gives 1 at x = 0, the derivative is 0.

    >>> import problems
    >>> problems.get("artifact-zero").oracle_at_artifact.tolist()
    [1.0]
    """

    name, reference, convex = "artifact-zero", BP, True
    formula = "relu(-x) + x - relu(x)  (= 0)"

    def __init__(self, relu_prime_at_zero=0.0):
        super().__init__(relu_prime_at_zero, x_star=np.zeros(1), f_star=0.0)

    def _value(self, x):
        return (_relu(-x) + x - _relu(x))[..., 0]

    def _grad(self, x):
        a = self.relu_prime_at_zero
        return -_relu_prime(-x, a) + 1.0 - _relu_prime(x, a)

    def _true_grad(self, x):
        return np.zeros(np.shape(x))

    @property
    def artifact_set(self):
        return "{0}" if self.relu_prime_at_zero != 0.5 else "empty (relu'(0) = 1/2)"


class ShiftedQuadratic(_Artifact):
    """x^2/2 + relu(x) - relu(-x) = x^2/2 + x: minimum at -1, yet backprop gives 0 at x = 0.

    >>> import problems
    >>> p = problems.get("artifact-shifted-quadratic"); p.f_star, p.in_artifact_set([[0.0], [-1.0]]).tolist()
    (-0.5, [True, False])
    """

    name, reference, convex = "artifact-shifted-quadratic", BP, True
    formula = "x^2/2 + relu(x) - relu(-x)  (= x^2/2 + x)"

    def __init__(self, relu_prime_at_zero=0.0):
        super().__init__(relu_prime_at_zero, x_star=-np.ones(1), f_star=-0.5)

    def _value(self, x):
        return (0.5 * x * x + _relu(x) - _relu(-x))[..., 0]

    def _grad(self, x):
        a = self.relu_prime_at_zero
        return x + _relu_prime(x, a) + _relu_prime(-x, a)

    def _true_grad(self, x):
        return np.asarray(x) + 1.0

    @property
    def artifact_set(self):
        return "{0}" if self.relu_prime_at_zero != 0.5 else "empty (relu'(0) = 1/2)"


class SumRule(FiniteSum, _Artifact):
    """Sum-rule failure: f = (f_1 + f_2)/2 with f_1 = |x|, f_2 = 2x - |x| + x^2, so f = x + x^2/2.

    The per-sample oracle takes |.|'(0) = ``abs_prime_at_zero[i]`` in sample i; the default
    (-1, +1) picks valid subgradients of each component (-1 in [-1, 1] and 2 - 1 = 1 in [1, 3])
    whose average 0 makes x = 0 look stationary although f'(0) = 1. Minimum at x* = -1, f* = -1/2.

    >>> import problems, numpy as np
    >>> p = problems.get("artifact-sum-rule")
    >>> p.oracle(np.zeros((1, 1)), np.array([[0, 1]])).tolist(), p.true_derivative.tolist()
    ([[0.0]], [1.0])
    """

    name, reference, convex, n_samples = "artifact-sum-rule", BP, True, 2
    formula = "(|x| + (2x - |x| + x^2)) / 2  (= x + x^2/2), N = 2"

    def __init__(self, abs_prime_at_zero=(-1.0, 1.0)):
        try:
            first, second = abs_prime_at_zero
        except (TypeError, ValueError):
            raise ValueError(f"abs_prime_at_zero must be a pair of reals in [-1, 1]; got {abs_prime_at_zero!r}") from None
        self.abs_prime_at_zero = readonly([check_real("abs_prime_at_zero[0]", first, -1.0, 1.0),
                                           check_real("abs_prime_at_zero[1]", second, -1.0, 1.0)])
        Problem.__init__(self, 1, [1.0], {"abs_prime_at_zero": self.abs_prime_at_zero.tolist()},
                         x_star=-np.ones(1), f_star=-0.5)
        self.artifact_point = readonly([0.0])
        self.true_derivative = readonly([1.0])
        self.oracle_at_artifact = readonly(self.grad(self.artifact_point))

    def _value(self, x):
        f1 = np.abs(x)
        f2 = 2 * x - np.abs(x) + x * x
        return (0.5 * (f1 + f2))[..., 0]

    def _oracle(self, x, idx):
        sign = np.where(x > 0, 1.0, np.where(x < 0, -1.0, self.abs_prime_at_zero[idx]))  # (..., b)
        per_sample = np.where(idx == 0, sign, 2.0 - sign + 2.0 * x)
        return per_sample.mean(axis=-1, keepdims=True)

    def _true_grad(self, x):
        return np.asarray(x) + 1.0

    @property
    def artifact_set(self):
        equal = self.abs_prime_at_zero[0] == self.abs_prime_at_zero[1]
        return "empty (the two components use the same |.|'(0))" if equal else "{0}"
