"""A two-layer ReLU network whose first layer is trained, in the NTK or the mean-field scaling.

f(W) = (1 / 2n) sum_i (s sum_j a_j relu(w_j . x_i) - y_i)^2 with W = (w_1, ..., w_m) the first
layer (the parameter vector, row-major (m, d_in)), output weights a_j = +-1 fixed, inputs x_i on the
unit sphere and labels y_i ~ N(0, 1). The scale s is 1/sqrt(m) ("ntk": the weights move
O(1/sqrt(m)) relative to their start while the loss goes to 0, lazy training) or 1/m
("mean-field": they move O(1)). The data and the output signs depend on ``seed``; the initial
first layer, standard normal, on ``init_seed`` (``initial_weights`` draws several at once, one
per replica, for the same network).

With m d_in >= n the network can interpolate (inf f = 0 for inputs in general position), but no
minimiser is known in closed form, so ``x_star`` and ``f_star`` are None. The oracle is the
backpropagation gradient with relu'(0) = 0, the gradient wherever no pre-activation is 0.

>>> import numpy as np, problems
>>> p = problems.get("two-layer-relu", width=16, n=6, d_in=3)
>>> p.dim, p.initial_weights([0, 1]).shape
(48, (2, 48))
>>> bool(np.array_equal(p.initial_weights([0])[0], p.x0))
True
"""
from __future__ import annotations

import numpy as np

from ._base import FiniteSum, check_choice, check_int, rowsum

__all__ = ["TwoLayerReLU"]


class TwoLayerReLU(FiniteSum):
    """Two-layer ReLU regression network, first layer trained (delta-GClip's wide-network claims).

    Parameters: ``width`` m, ``n`` samples, ``d_in`` inputs, ``scaling`` ("ntk": s = 1/sqrt(m),
    or "mean-field": s = 1/m), ``seed`` (data and output signs), ``init_seed`` (x0).

    >>> import problems
    >>> p = problems.get("two-layer-relu", width=4, n=3, d_in=2, scaling="mean-field")
    >>> p.output_scale, p.unflatten(p.x0).shape
    (0.25, (4, 2))
    """

    name, convex, has_clarke = "two-layer-relu", False, False
    reference = ("Tucat, Mukherjee et al. (2024), Regularized gradient clipping provably trains wide and deep "
                 "neural networks (arXiv 2404.08624); Jacot, Gabriel & Hongler (2018), Neural tangent kernel")
    formula = "(1/2n) sum_i (s a^T relu(W x_i) - y_i)^2, s = 1/sqrt(m) (ntk) or 1/m (mean-field), W trained"
    clarke_note = "the Clarke subdifferential of a ReLU network's loss is not available in closed form"

    def __init__(self, width=64, n=8, d_in=4, scaling="ntk", seed=1, init_seed=0):
        self.width = check_int("width", width, low=1)
        self.n = self.n_samples = check_int("n", n, low=1)
        self.d_in = check_int("d_in", d_in, low=1)
        self.scaling = check_choice("scaling", scaling, ["ntk", "mean-field"])
        seed = check_int("seed", seed, low=0)
        init_seed = check_int("init_seed", init_seed, low=0)
        data = np.random.default_rng([seed, 0])
        X = data.standard_normal((self.n, self.d_in))
        self.X = X / np.linalg.norm(X, axis=1, keepdims=True)
        self.y = data.standard_normal(self.n)
        self.a = data.choice([-1.0, 1.0], size=self.width)
        for arr in (self.X, self.y, self.a):
            arr.flags.writeable = False
        self.output_scale = 1.0 / (self.width if self.scaling == "mean-field" else np.sqrt(self.width))
        params = {"width": self.width, "n": self.n, "d_in": self.d_in, "scaling": self.scaling, "seed": seed,
                  "init_seed": init_seed}
        super().__init__(self.width * self.d_in, self._draw_init(init_seed), params)

    def _draw_init(self, init_seed):
        return np.random.default_rng([init_seed, 1]).standard_normal(self.width * self.d_in)

    def initial_weights(self, init_seeds) -> np.ndarray:
        """Standard normal first layers, one per seed: shape (len(init_seeds), dim).

        >>> import problems
        >>> problems.get("two-layer-relu", width=2, d_in=2).initial_weights([3, 4, 5]).shape
        (3, 4)
        """
        return np.stack([self._draw_init(check_int("init_seed", s, low=0)) for s in init_seeds])

    def unflatten(self, x) -> np.ndarray:
        """The first layer W of shape (..., m, d_in) from x (..., m d_in).

        >>> import numpy as np, problems
        >>> problems.get("two-layer-relu", width=3, d_in=2).unflatten(np.zeros((5, 6))).shape
        (5, 3, 2)
        """
        x = self._as_x(x)
        return x.reshape(x.shape[:-1] + (self.width, self.d_in))

    def _forward(self, x, X):
        """Output (..., n) and pre-activations (..., n, m) on inputs X ((n, d_in) or (..., n, d_in))."""
        W = x.reshape(x.shape[:-1] + (self.width, self.d_in))
        pre = np.einsum("...md,...nd->...nm", W, X, optimize=False)
        out = self.output_scale * np.einsum("...nm,m->...n", np.maximum(pre, 0.0), self.a, optimize=False)
        return out, pre

    def _value(self, x):
        out, _ = self._forward(x, self.X)
        r = out - self.y
        return 0.5 * rowsum(r * r) / self.n

    def _backprop(self, x, X, y):
        out, pre = self._forward(x, X)
        residual = (out - y) / X.shape[-2]                            # d f / d out, mean over the batch
        dpre = (residual[..., None] * self.output_scale) * self.a * (pre > 0)
        return np.einsum("...nm,...nd->...md", dpre, X, optimize=False).reshape(x.shape)

    def _grad(self, x):
        return self._backprop(x, self.X, self.y)

    def _oracle(self, x, idx):
        return self._backprop(x, self.X[idx], self.y[idx])        # the minibatch's inputs, per replica
