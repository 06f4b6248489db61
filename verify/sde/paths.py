"""The RMSprop and Adam SDEs as objects with one Euler-Maruyama step each, and a batched integrator.

Noise model g = grad L(x) + sigma Sigma^{1/2} z (diagonal Sigma); with sigma0 = sigma eta,
eps0 = eps eta, c_i = (1 - beta_i)/eta^2 fixed and t = k eta^2 (u = v / sigma^2)::

    RMSprop: dX = -P^{-1} (grad L dt + sigma0 Sigma^{1/2} dW),  P = sigma0 diag(u)^{1/2} + eps0
             du = c2 (diag Sigma - u) dt
    Adam:    dX = -(sqrt(gamma2)/gamma1) P^{-1} m dt,  P = sigma0 diag(u)^{1/2} + eps0 sqrt(gamma2)
             dm = c1 (grad L - m) dt + sigma0 c1 Sigma^{1/2} dW,   du = c2 (diag Sigma - u) dt
             gamma_i(t) = 1 - exp(-c_i t)

These forms were re-derived from the discrete updates (Taylor expansion of one step in eta with
the scaling above) and confirmed numerically by the weak-error claims, not copied from the
paper's theorem statement.

A state is a dict of arrays of shape (R, d) (R paths in lock-step); ``step(state, grad, dW, t, dt)``
takes the drift's gradient at the state's x (``grad`` is a function of x) and the Brownian
increments dW (R, d) over [t, t + dt].
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["RMSpropSDE", "AdamSDE", "euler_maruyama"]


def _diag(noise_var):
    s = np.asarray(noise_var, dtype=float)
    if s.ndim != 1 or np.any(s < 0) or not np.all(np.isfinite(s)):
        raise ValueError(f"noise_var must be a 1-D array of finite values >= 0 (diagonal of Sigma); got {noise_var!r}")
    return s


def _validate(sde, rates):
    """noise_var a diagonal; sigma0, eps0 finite >= 0; the rates (c1, c2) finite > 0."""
    object.__setattr__(sde, "noise_var", _diag(sde.noise_var))
    for name in ("sigma0", "eps0") + rates:
        value = getattr(sde, name)
        ok = value > 0 if name in rates else value >= 0
        if not (ok and math.isfinite(value)):
            raise ValueError(f"{name} must be a finite number {'>' if name in rates else '>='} 0; got {value!r}")


@dataclass(frozen=True)
class RMSpropSDE:
    """dX = -P^{-1}(grad L dt + sigma0 Sigma^{1/2} dW), P = sigma0 u^{1/2} + eps0, du = c2 (Sigma - u) dt.

    ``init(x0, u0=None)``: u0 defaults to diag Sigma (the discrete run started at v0 = sigma^2 Sigma).
    The Euler-Maruyama step evaluates P at the start of the step (Ito).

    >>> import numpy as np
    >>> sde = RMSpropSDE(sigma0=1.0, eps0=1.0, c2=1.0, noise_var=np.ones(1))
    >>> s = sde.step(sde.init(np.ones((1, 1))), lambda x: x, dW=np.zeros((1, 1)), t=0.0, dt=0.5)
    >>> float(s["x"][0, 0]), float(s["u"][0, 0])          # x - x dt / (1 + 1); u stays at Sigma
    (0.75, 1.0)
    """

    sigma0: float
    eps0: float
    c2: float
    noise_var: np.ndarray

    def __post_init__(self):
        _validate(self, ("c2",))

    def init(self, x0, u0=None) -> dict:
        x = np.array(x0, dtype=float, copy=True)
        u = np.broadcast_to(self.noise_var if u0 is None else np.asarray(u0, float), x.shape).copy()
        return {"x": x, "u": u}

    def step(self, state, grad, dW, t, dt) -> dict:
        x, u = state["x"], state["u"]
        P = self.sigma0 * np.sqrt(u) + self.eps0
        x = x - (grad(x) * dt + self.sigma0 * np.sqrt(self.noise_var) * dW) / P
        return {"x": x, "u": u + self.c2 * (self.noise_var - u) * dt}


@dataclass(frozen=True)
class AdamSDE:
    """The Adam SDE (module docstring) started at m0 = 0 and, by default, u0 = 0 (v0 = 0).

    The factor sqrt(gamma2)/gamma1 ~ 1/sqrt(t) is singular at t = 0, so each step updates m and u
    first and evaluates the gamma factors and P at the end of the step, as the discrete method's
    bias corrections do at t = k + 1.

    >>> import numpy as np
    >>> sde = AdamSDE(sigma0=1.0, eps0=0.0, c1=1.0, c2=1.0, noise_var=np.ones(1))
    >>> s = sde.step(sde.init(np.ones((1, 1))), lambda x: x, dW=np.zeros((1, 1)), t=0.0, dt=0.01)
    >>> round(float(s["x"][0, 0]), 6)                     # 1 - dt (sqrt(gamma2)/gamma1) m/sqrt(u), m = u = dt
    0.989975
    """

    sigma0: float
    eps0: float
    c1: float
    c2: float
    noise_var: np.ndarray

    def __post_init__(self):
        _validate(self, ("c1", "c2"))

    def init(self, x0, u0=0.0) -> dict:
        x = np.array(x0, dtype=float, copy=True)
        return {"x": x, "m": np.zeros_like(x), "u": np.broadcast_to(np.asarray(u0, float), x.shape).copy()}

    def step(self, state, grad, dW, t, dt) -> dict:
        x, m, u = state["x"], state["m"], state["u"]
        m = m + self.c1 * (grad(x) - m) * dt + self.sigma0 * self.c1 * np.sqrt(self.noise_var) * dW
        u = u + self.c2 * (self.noise_var - u) * dt
        gamma1, gamma2 = -math.expm1(-self.c1 * (t + dt)), -math.expm1(-self.c2 * (t + dt))
        P = self.sigma0 * np.sqrt(u) + self.eps0 * math.sqrt(gamma2)
        return {"x": x - (math.sqrt(gamma2) / gamma1) * (m / P) * dt, "m": m, "u": u}


def euler_maruyama(sde, grad, x0, T, dt, seed=0, record_times=None, **init):
    """Integrate ``sde`` (an ``RMSpropSDE`` or ``AdamSDE``) from x0 (R, d) by Euler-Maruyama.

    ``grad`` is the drift's gradient function of x; ``init`` is passed to ``sde.init`` (u0).
    Returns (times, X) with X of shape (len(times), R, d) at ``record_times`` (default [T]).

    >>> import numpy as np
    >>> sde = RMSpropSDE(sigma0=1.0, eps0=0.0, c2=1.0, noise_var=np.ones(1))
    >>> t, X = euler_maruyama(sde, lambda x: x, np.ones((20000, 1)), T=1.0, dt=0.01)
    >>> bool(abs(X[-1].mean() - np.exp(-1)) < 0.02), bool(abs(X[-1].var() - (1 - np.exp(-2)) / 2) < 0.02)
    (True, True)
    """
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim != 2:
        raise ValueError(f"x0 must have shape (R, d); got {x0.shape}")
    steps = int(round(T / dt))
    if steps < 1 or abs(steps * dt - T) > 1e-9 * max(T, 1):
        raise ValueError(f"T must be a positive multiple of dt; got T={T}, dt={dt}")
    record_times = [T] if record_times is None else list(record_times)
    where = {int(round(tr / dt)): i for i, tr in enumerate(record_times)}
    out = np.empty((len(record_times),) + x0.shape)
    rng = np.random.default_rng(seed)
    state = sde.init(x0, **init)
    if 0 in where:
        out[where[0]] = state["x"]
    for n in range(steps):
        state = sde.step(state, grad, math.sqrt(dt) * rng.standard_normal(x0.shape), n * dt, dt)
        if n + 1 in where:
            out[where[n + 1]] = state["x"]
    return np.asarray(record_times, float), out
