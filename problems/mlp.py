"""A small ReLU network on synthetic data, with the backprop oracle (a conservative field).

Layers d_in -> hidden[0] (-> hidden[1]) -> 1, with relu after each hidden layer. The parameter
vector flattens [W1, b1, W2, b2, ...] (each W row-major, shape (out, in)); ``blocks`` has one
index array per weight matrix and per bias. ``value`` is the exact mean loss (squared error
for regression, logistic loss log(1 + exp(-y out)) with y in {-1, +1} for classification).
The oracle is the chain rule of backpropagation with relu'(0) = ``relu_prime_at_zero``
(0 by default, like the deep-learning frameworks): an element of a conservative field of f
(Bolte & Pauwels 2020), equal to the gradient wherever no pre-activation is exactly 0.

With ``kink_inputs=True`` a quarter of the inputs are exactly 0 and x0 has zero biases, so the
first layer's pre-activations of those samples are exactly 0 at x0: the kinks are reached.

>>> import numpy as np, problems
>>> p = problems.get("relu-mlp", hidden=(4,), n=20, d_in=3, seed=0)
>>> p.dim, [len(b) for b in p.blocks]
(21, [12, 4, 4, 1])
>>> p.oracle(np.stack([p.x0, p.x0]), np.array([[0, 1], [2, 3]])).shape
(2, 21)
"""
from __future__ import annotations

import numpy as np

from ._base import FiniteSum, check_choice, check_int, check_real, einsum, rowsum

__all__ = ["ReluMLP"]


def _mm(W, a):
    """Batched layer product: W (..., o, i), a (..., b, i) -> (..., b, o); replica-stable."""
    return einsum("...oi,...bi->...bo", W, a)


class ReluMLP(FiniteSum):
    """ReLU MLP with 1 or 2 hidden layers on seeded synthetic regression/classification data.

    Parameters: ``hidden`` (tuple of 1 or 2 positive widths), ``n`` samples, ``d_in`` inputs,
    ``task`` ("regression" or "classification"), ``relu_prime_at_zero`` in [0, 1], ``noise``
    (label noise of the teacher network), ``kink_inputs``, ``seed``.

    >>> import problems
    >>> p = problems.get("relu-mlp", hidden=(3, 2), d_in=2, n=10, kink_inputs=True)
    >>> [w.shape for w in p.unflatten(p.x0)]
    [(3, 2), (3,), (2, 3), (2,), (1, 2), (1,)]
    >>> int(p.preactivation_zero_count(p.x0)) > 0
    True
    """

    name, convex, has_clarke = "relu-mlp", False, False
    reference = ("Bolte & Pauwels (2020), A mathematical model for automatic differentiation in machine learning; "
                 "Davis, Drusvyatskiy, Kakade & Lee (2020), Stochastic subgradient method converges on tame functions")
    formula = "(1/N) sum_i loss(net_x(a_i), y_i), net = affine o relu o affine (o relu o affine)"
    clarke_note = "the Clarke subdifferential of a ReLU network's loss is not available in closed form"

    def __init__(self, hidden=(16,), n=200, d_in=5, task="regression", relu_prime_at_zero=0.0, noise=0.1,
                 kink_inputs=False, seed=0):
        if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
            hidden = (hidden,)
        try:
            hidden = tuple(hidden)
        except TypeError:
            raise TypeError(f"hidden must be a tuple of 1 or 2 positive integer widths; got {hidden!r}") from None
        if len(hidden) not in (1, 2):
            raise ValueError(f"hidden must have 1 or 2 layer widths; got {len(hidden)} ({hidden!r})")
        hidden = tuple(check_int(f"hidden[{i}] (layer width)", h, low=1) for i, h in enumerate(hidden))
        self.n = check_int("n", n, low=1)
        self.d_in = check_int("d_in", d_in, low=1)
        self.task = check_choice("task", task, ["regression", "classification"])
        self.relu_prime_at_zero = check_real("relu_prime_at_zero", relu_prime_at_zero, 0.0, 1.0)
        noise = check_real("noise", noise, low=0.0)
        if not isinstance(kink_inputs, (bool, np.bool_)):
            raise TypeError(f"kink_inputs must be True or False; got {kink_inputs!r}")
        seed = check_int("seed", seed, low=0)
        self.hidden = hidden
        self.sizes = (self.d_in,) + hidden + (1,)
        self.n_samples = self.n

        shapes, blocks, start = [], [], 0
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            for shape in ((fan_out, fan_in), (fan_out,)):
                size = int(np.prod(shape))
                shapes.append(shape)
                blocks.append(np.arange(start, start + size))
                start += size
        self.shapes = shapes
        self.blocks = blocks
        self.dim = start

        data_rng = np.random.default_rng([seed, 0])
        X = data_rng.standard_normal((self.n, self.d_in))
        teacher = [data_rng.standard_normal(s) * (np.sqrt(2.0 / s[1]) if len(s) == 2 else 0.1) for s in shapes]
        if kink_inputs:
            X[: max(1, self.n // 4)] = 0.0
        out = self._forward(self._pack(teacher), X)[0]
        if self.task == "regression":
            y = out + noise * data_rng.standard_normal(self.n)
        else:
            y = np.where(out + noise * data_rng.standard_normal(self.n) >= 0, 1.0, -1.0)
        self.X, self.y = X, y
        self.X.flags.writeable = False
        self.y.flags.writeable = False

        init_rng = np.random.default_rng([seed, 1])
        x0 = self._pack([init_rng.standard_normal(s) * np.sqrt(2.0 / s[1]) if len(s) == 2 else np.zeros(s)
                         for s in shapes])
        params = {"hidden": list(hidden), "n": self.n, "d_in": self.d_in, "task": self.task,
                  "relu_prime_at_zero": self.relu_prime_at_zero, "noise": noise, "kink_inputs": bool(kink_inputs),
                  "seed": seed}
        super().__init__(start, x0, params)

    # -- parameter vector <-> layers
    def _pack(self, arrays):
        return np.concatenate([np.asarray(a, dtype=float).reshape(-1) for a in arrays])

    def unflatten(self, x) -> list:
        """[W1, b1, W2, b2, ...] views of x (..., D), each with shape (..., out, in) or (..., out).

        >>> import numpy as np, problems
        >>> p = problems.get("relu-mlp", hidden=(3,), d_in=2, n=4)
        >>> [w.shape for w in p.unflatten(np.zeros((5, p.dim)))]
        [(5, 3, 2), (5, 3), (5, 1, 3), (5, 1)]
        """
        return self._layers(self._as_x(x))

    def _layers(self, x):
        return [x[..., blk[0]:blk[-1] + 1].reshape(x.shape[:-1] + shape) for blk, shape in zip(self.blocks, self.shapes)]

    def flatten(self, arrays) -> np.ndarray:
        """Inverse of ``unflatten`` for one parameter set (no replica axis).

        >>> import problems, numpy as np
        >>> p = problems.get("relu-mlp", hidden=(2,), d_in=1, n=4)
        >>> bool(np.array_equal(p.flatten(p.unflatten(p.x0)), p.x0))
        True
        """
        return self._pack(arrays)

    # -- network
    def _forward(self, x, X):
        """Output (..., b) on inputs X ((b, d_in) or (..., b, d_in)), and the cached layers."""
        # contiguous copies: einsum's rounding may depend on memory layout, not only on values
        layers = [np.ascontiguousarray(a) for a in self._layers(x)]
        a, zs, acts = X, [], [X]
        for k in range(len(self.hidden)):
            z = _mm(layers[2 * k], a)
            z += layers[2 * k + 1][..., None, :]
            a = np.maximum(z, 0.0)
            zs.append(z)
            acts.append(a)
        out = _mm(layers[-2], a)[..., 0] + layers[-1]
        return out, layers, zs, acts

    def _loss(self, out, y):
        """Per-sample loss (..., b)."""
        if self.task == "regression":
            r = out - y
            return 0.5 * r * r
        return np.logaddexp(0.0, -y * out)

    def _loss_slope(self, out, y):
        """Derivative of the per-sample loss in the network's output (..., b)."""
        if self.task == "regression":
            return out - y
        from scipy.special import expit

        return -y * expit(-y * out)

    def _value(self, x):
        out = self._forward(x, self.X)[0]
        return rowsum(self._loss(out, self.y)) / self.n

    def _backprop(self, x, X, y):
        out, layers, zs, acts = self._forward(x, X)
        delta = self._loss_slope(out, y)
        delta /= out.shape[-1]  # mean over the batch
        delta = delta[..., None]  # (..., b, 1)
        grads = []
        for k in range(len(self.hidden), -1, -1):
            grads.append(rowsum(np.swapaxes(delta, -1, -2)))  # bias: sum over the batch
            grads.append(einsum("...bo,...bi->...oi", delta, acts[k]))
            if k > 0:
                delta = einsum("...bo,...oi->...bi", delta, layers[2 * k])
                delta *= self._relu_slope(zs[k - 1])
        grads.reverse()
        lead = x.shape[:-1]
        return np.concatenate([g.reshape(lead + (-1,)) for g in grads], axis=-1)

    def _relu_slope(self, z):
        """relu'(z) with relu'(0) = relu_prime_at_zero (a boolean mask when that is 0: same product)."""
        if self.relu_prime_at_zero == 0.0:
            return z > 0
        return np.where(z > 0, 1.0, np.where(z < 0, 0.0, self.relu_prime_at_zero))

    def _grad(self, x):
        return self._backprop(x, self.X, self.y)

    def _oracle(self, x, idx):
        return self._backprop(x, self.X[idx], self.y[idx])

    def preactivation_zero_count(self, x) -> np.ndarray:
        """Number of hidden pre-activations exactly equal to 0 over the whole data set, shape (...).

        Exact zeros are where relu'(0) matters (the float-rounding caveat of "almost surely").

        >>> import problems
        >>> int(problems.get("relu-mlp", hidden=(4,), n=8).preactivation_zero_count(problems.get("relu-mlp", hidden=(4,), n=8).x0))
        0
        """
        zs = self._forward(self._as_x(x), self.X)[2]
        return sum(np.count_nonzero(z == 0.0, axis=(-2, -1)) for z in zs)
