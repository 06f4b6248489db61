"""SDE tools for adaptive methods (Malladi, Lyu, Panigrahi, Arora, NeurIPS 2022).

- ``verify.sde.paths``: the RMSprop and Adam SDEs (one Euler-Maruyama step each) and a batched
  integrator;
- ``verify.sde.moments``: their exact first two moments on a separable quadratic;
- ``verify.sde.monte_carlo``: E L(x_k) of the discrete methods by Monte Carlo, with a companion
  path: a control variate (``verify.sde.shadows``, quadratics) or a coupled SDE reference (any
  smooth loss);
- ``verify.sde.scaling``: the SDE scaling, the square-root and linear rules, SVAG.

The SDE forms were re-derived from the discrete updates, not copied from the paper's theorem
(see ``verify.sde.paths``). Problems come from ``problems`` (``noisy-quadratic``,
``noisy-logcosh``): L and its gradient, and Sigma = ``noise_covariance()`` (diagonal); the noise
scale sigma ~ 1/sqrt(batch) is a ``GradientNoise``.

>>> import numpy as np
>>> from verify import sde
>>> mean, var = sde.rmsprop_sde_moments([0.0, 1.0], x0=[1.0], curvature=[1.0], noise_var=[1.0],
...                                     sigma0=1.0, eps0=0.0, c2=1.0)
>>> np.round(mean[:, 0], 6), np.round(var[:, 0], 6)       # OU: e^{-t}, (1 - e^{-2t})/2
(array([1.      , 0.367879]), array([0.      , 0.432332]))
"""
from .moments import adam_sde_moments, quadratic_loss, rmsprop_sde_moments, sgd_sde_moments
from .monte_carlo import CoupledSDE, GradientNoise, LossCurve, diagonal_noise, expected_loss, loss_and_gradient
from .paths import AdamSDE, RMSpropSDE, euler_maruyama
from .shadows import AdamShadow, RMSpropShadow
from .scaling import (discrete_from_sde, linear_scaling, sde_from_discrete, sqrt_scaling, svag_adaptive,
                      svag_coefficients, svag_sgd)

__all__ = ["RMSpropSDE", "AdamSDE", "euler_maruyama", "rmsprop_sde_moments", "adam_sde_moments",
           "sgd_sde_moments", "quadratic_loss", "GradientNoise", "RMSpropShadow", "AdamShadow", "CoupledSDE",
           "LossCurve", "expected_loss", "diagonal_noise", "loss_and_gradient", "discrete_from_sde",
           "sde_from_discrete", "sqrt_scaling", "linear_scaling", "svag_coefficients", "svag_adaptive", "svag_sgd"]
