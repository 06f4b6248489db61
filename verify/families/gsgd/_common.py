"""Shared pieces of the gsgd claims: the framework's instances as method factories, schedules.

A *method factory* is ``factory(lr, momentum_lr) -> stochopt.Method`` (the form a user passes with
``--method``): ``lr`` is the schedule eta_k, ``momentum_lr`` the schedule theta_k (for a single
timescale ``schedules.coupled(lr, tau)``). ``method_factories`` gives the framework's instances
under their ``stochopt.METHODS`` names (spec 1.3):

| name | direction s = select(m) | theta_k |
|---|---|---|
| heavy_ball | m | momentum_lr |
| signsgd | sign(m) | 1 (no momentum: ``momentum_lr`` is not used) |
| signum | sign(m) | momentum_lr |
| lion_singlescale | sign of the interpolated momentum | (1 - beta2) scaling eta_k = momentum_lr |
| normalized_sgd | m_b / ||m_b|| per block | momentum_lr |
| clipped_sgd | min(1, c / ||m_b||) m_b per block | momentum_lr |
| clipped_sgd_coordinate | clip(m, -c, c) | momentum_lr |

>>> import numpy as np
>>> from stochopt import schedules
>>> eta = diminishing(0.1)
>>> opt = method_factories()["signum"](eta, schedules.coupled(eta, 2.0))
>>> opt.name, opt.step(opt.init(np.zeros(2)), np.array([1.0, -1.0])).x.tolist()
('gsgd', [-0.1, 0.1])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import stochopt
from stochopt import schedules

__all__ = ["LION_BETAS", "CLIP_THRESHOLD", "METHOD_NAMES", "SINGLE_TIMESCALE", "method_factories", "diminishing",
           "increasing", "instances", "random_steps", "InstanceRun", "run_instance", "checkpoints", "window_max",
           "distance_to_points", "with_bias", "ShiftedOracle", "CLARKE_POINTS", "certify_points", "decay_exponents",
           "worst", "decay_figure", "fraction_figure"]

#: Lion's (beta1, beta2) in the single-timescale experiments: theta2_k = (1 - beta2) scaling eta_k.
LION_BETAS = (0.5, 0.9)
#: Clipping threshold c of the clipped directions (Huber phi): small enough that clipping happens
#: on every problem of the claims (gradients there are of order 1 to 10).
CLIP_THRESHOLD = 0.5

#: The framework's instances, in table order (``stochopt.METHODS`` spelling).
METHOD_NAMES = ("heavy_ball", "signsgd", "signum", "lion_singlescale", "normalized_sgd", "clipped_sgd",
                "clipped_sgd_coordinate")
#: The instances that run on a single timescale theta_k = tau eta_k (signSGD has theta_k = 1).
SINGLE_TIMESCALE = tuple(n for n in METHOD_NAMES if n != "signsgd")


def _lion(lr, momentum_lr):
    tau = getattr(momentum_lr, "tau", None)
    if not isinstance(momentum_lr, schedules.Coupled) or tau is None:
        raise TypeError("lion_singlescale is single-timescale only: momentum_lr must be schedules.coupled(lr, tau)")
    return stochopt.lion_singlescale(lr=lr, betas=LION_BETAS, scaling=np.asarray(tau) / (1.0 - LION_BETAS[1]))


def method_factories(names=METHOD_NAMES, blocks=None) -> dict:
    """{name: factory(lr, momentum_lr) -> Method} for the framework's instances named in ``names``.

    ``blocks`` (a partition of the coordinates, e.g. ``problem.blocks`` of a ReLU network) makes the
    normalized and clipped-by-norm directions act per block, like the official code per tensor.

    >>> sorted(method_factories(("heavy_ball", "signsgd")))
    ['heavy_ball', 'signsgd']
    >>> method_factories(("adam",))
    Traceback (most recent call last):
    ...
    ValueError: unknown framework instance 'adam'; accepted: heavy_ball, signsgd, signum, lion_singlescale, \
normalized_sgd, clipped_sgd, clipped_sgd_coordinate
    """
    def gsgd(direction, per_block=False, momentum=True):
        def factory(lr, momentum_lr):
            return stochopt.gsgd(lr=lr, momentum_lr=momentum_lr if momentum else 1.0, direction=direction,
                                 blocks=blocks if per_block else None)
        return factory

    table = {
        "heavy_ball": gsgd("identity"),
        "signsgd": gsgd("sign", momentum=False),
        "signum": gsgd("sign"),
        "lion_singlescale": _lion,
        "normalized_sgd": gsgd("normalized", per_block=True),
        "clipped_sgd": gsgd(stochopt.directions.ClipNorm(CLIP_THRESHOLD), per_block=True),
        "clipped_sgd_coordinate": gsgd(stochopt.directions.ClipCoordinate(CLIP_THRESHOLD)),
    }
    out = {}
    for name in names:
        key = str(name).replace("-", "_")
        if key not in table:
            raise ValueError(f"unknown framework instance {name!r}; accepted: {', '.join(METHOD_NAMES)}")
        out[key] = table[key]
    return out


def diminishing(lr0: float, power: float = 0.75, offset: float = 10.0):
    """eta_k = lr0 (offset / (k + offset))^power: starts at lr0, sum eta = inf, sum eta^2 < inf for power in (1/2, 1].

    >>> eta = diminishing(0.1, power=1.0, offset=10.0)
    >>> round(eta(0), 6), round(eta(10), 6)
    (0.1, 0.05)
    """
    return schedules.polynomial(lr0 * offset ** power, b=offset, p=power)


def increasing(lr0: float, every: float):
    """eta_k = lr0 (1 + k / every): a schedule that breaks eta_k -> 0 (sum eta^2 = inf).

    >>> increasing(0.1, every=10.0)(10)
    0.2
    """
    import sympy

    k = schedules.k_symbol()
    return schedules.from_function(lambda step: lr0 * (1.0 + step / every),
                                   formula=sympy.Float(lr0) * (1 + k / sympy.Float(every)))


# --------------------------------------------------------------------------- instances
def instances(ctx, names=SINGLE_TIMESCALE, blocks=None) -> dict:
    """The factories a part runs: the user's direction (as ``stochopt.gsgd`` with it), the user's
    method, or the framework's instances ``names`` (``method_factories``).

    >>> from verify.registry import Context
    >>> list(instances(Context(), ("heavy_ball", "signum")))
    ['heavy_ball', 'signum']
    >>> list(instances(Context(direction=stochopt.directions.get("sign"))))
    ['user direction']
    """
    if ctx.direction is not None:
        direction = ctx.direction

        def user_direction(lr, momentum_lr):
            return stochopt.gsgd(lr=lr, momentum_lr=momentum_lr, direction=direction)

        return {"user direction": user_direction}
    return ctx.methods(method_factories(names, blocks))


def random_steps(lr0: float, power: float = 0.75, seed: int = 0, low: float = 0.5, high: float = 1.5,
                 constant: bool = False):
    """Random stepsizes eta_k = eta_bar_k zeta_{k,r}, zeta i.i.d. uniform on [low, high] (spec 1.2).

    eta_bar_k = lr0 (10 / (k + 10))^power (``diminishing``), or eta_bar_k = lr0 with ``constant``;
    ``lr0`` may be an (R,) array (one envelope per replica).

    >>> eta = random_steps(0.1, seed=3)
    >>> bool(0.05 <= eta(0, np.arange(4)).min() and eta(0, np.arange(4)).max() <= 0.15)
    True
    """
    envelope = schedules.polynomial(lr0, b=1.0, p=0.0) if constant else diminishing(lr0, power)
    return schedules.randomized(envelope, low=low, high=high, seed=seed)


@dataclass
class InstanceRun:
    """One instance of the framework run on many replicas in lock-step.

    k : (n,) recorded steps (0 first); x : (n, R, d) iterates; value : (n, R) f(x_k);
    envelope : (n,) or (n, R) the deterministic envelope eta_bar_k of the stepsize at k;
    diverged : (R,) bool (their rows are NaN in ``x``).
    """

    name: str
    k: np.ndarray
    x: np.ndarray
    value: np.ndarray
    envelope: np.ndarray
    diverged: np.ndarray


def run_instance(name, factory, problem, lr, *, steps: int, replicas: int, seed: int, tau: float,
                 x0_radius: float, x0=None, records: int = 128, batch_size=None) -> InstanceRun:
    """Run ``factory(lr, coupled(lr, tau))`` (single timescale theta_k = tau eta_k, capped at 1)
    from x0 + uniform[-x0_radius, x0_radius]^d, recording ``records`` evenly spaced iterates.

    >>> import problems
    >>> run = run_instance("heavy_ball", method_factories()["heavy_ball"], problems.get("crescent"),
    ...                    random_steps(0.1), steps=64, replicas=3, seed=0, tau=4.0, x0_radius=1.0, records=8)
    >>> run.x.shape, int(run.k[-1])
    ((9, 3, 2), 64)
    """
    opt = factory(lr, schedules.coupled(lr, tau, cap=1.0))
    every = max(1, steps // records)
    trace = stochopt.run(opt, problem, steps=steps, replicas=replicas, seed=seed, record_every=every,
                         batch_size=batch_size, x0=x0, x0_radius=x0_radius, progress=False)
    x = np.array(trace.x, dtype=float)
    x[:, trace.diverged] = np.nan
    envelope = getattr(lr, "envelope", lr)
    env = np.array([np.asarray(envelope(int(k)), dtype=float) for k in trace.k])
    return InstanceRun(name, trace.k, x, trace.value, env, trace.diverged)


def checkpoints(steps: int, count: int) -> np.ndarray:
    """The window ends k_j = steps / 2^j, j = count-1 .. 0 (increasing); window j is (k_j / 2, k_j].

    >>> checkpoints(4000, 3).tolist()
    [1000, 2000, 4000]
    """
    return np.array([steps // 2 ** j for j in range(count - 1, -1, -1)], dtype=np.int64)


def window_max(k, values, ends) -> np.ndarray:
    """(len(ends), R): the largest recorded value in each window (k_j / 2, k_j] (NaN stays NaN).

    >>> window_max(np.arange(9), np.arange(9.0)[:, None], [4, 8]).ravel().tolist()
    [4.0, 8.0]
    """
    k = np.asarray(k)
    values = np.asarray(values, dtype=float)
    return np.stack([np.max(values[(k > e / 2) & (k <= e)], axis=0) for e in ends])


def distance_to_points(x, points) -> np.ndarray:
    """min_j ||x - points_j|| over the last axis of x (..., d); points (m, d).

    >>> distance_to_points(np.array([[3.0, 4.0]]), np.zeros((1, 2))).tolist()
    [5.0]
    """
    x = np.asarray(x, dtype=float)
    diff = x[..., None, :] - np.asarray(points, dtype=float)
    return np.sqrt(np.min(np.sum(diff * diff, axis=-1), axis=-1))


class _Biased(stochopt.Method):
    """``inner`` with a constant vector b added to its direction: x_{k+1} = inner's x_{k+1} - eta_k b."""

    def __init__(self, inner, bias):
        self.__dict__.update(vars(inner))
        self._inner, self._bias = inner, np.asarray(bias, dtype=float)
        self.name = f"{inner.name}+bias"

    def step(self, state, grad):
        new = self._inner.step(state, grad)
        eta = np.asarray(self._inner.stepsize(state.k, state.replica_ids), dtype=float)
        return new.replace(x=new.x - (eta[:, None] if eta.ndim else eta) * self._bias)


def with_bias(factory, bias):
    """The factory whose method's direction s_{k+1} becomes s_{k+1} + b for a constant vector b.

    With s in dphi(m), s + b is in dphi_b(m) for phi_b(m) = phi(m) + <b, m>, whose minimum is not at 0
    (for phi = ||m||^2 / 2 it is at -b): the framework's assumption "phi convex with its unique minimum
    at 0" is broken. The limiting dynamics rest where m = -b is in D_f(x), i.e. at stationary points of
    the tilted f(x) + <b, x>, where dist(0, df(x)) = ||b|| wherever f is differentiable.

    >>> import numpy as np
    >>> f = with_bias(method_factories(("heavy_ball",))["heavy_ball"], [1.0, 0.0])
    >>> opt = f(0.5, 1.0)
    >>> opt.step(opt.init(np.zeros(2)), np.zeros(2)).x.tolist()
    [-0.5, 0.0]
    """
    def biased(lr, momentum_lr):
        return _Biased(factory(lr, momentum_lr), bias)

    return biased


# ------------------------------------------------------------------ Clarke-stationary sets
#: Every Clarke-stationary point of the problems whose set is known in closed form (spec 6.1, 6.2).
#: crescent, f = max(p1, p2): p1 has no critical point where it is the max (its critical point
#: (0, 1/2) has p2 > p1); p2's critical point (0, 3/2) is a smooth local maximum of f; on the kink
#: circle x1^2 + (x2 - 1)^2 = 1, 0 = l grad p1 + (1 - l) grad p2 forces x1 = 0, i.e. (0, 0) (l = 3/4,
#: the minimiser) and (0, 2) (l = 1/4). mifflin2: off the circle x1^2 + x2^2 = 1 both pieces'
#: critical points lie on the wrong side; on it, 0 in the hull forces x2 = 0 and x1 = 1 (x1 = -1
#: gives the gradients (-1.5, 0), (-8.5, 0)). active-faces: f = log(1 + M(x)) with M a norm
#: (max of |sum x_i| and |x_i|), so its only stationary point is 0. Each point is certified by the
#: exact Clarke distance (``certify_points``) before it is used.
CLARKE_POINTS = {
    "crescent": lambda n: np.array([[0.0, 0.0], [0.0, 2.0], [0.0, 1.5]]),
    "mifflin2": lambda n: np.array([[1.0, 0.0]]),
    "active-faces": lambda n: np.zeros((1, n)),
}


def certify_points(problem, points, tol: float = 1e-9) -> np.ndarray:
    """Exact Clarke distance of each point (raises ValueError if one is not Clarke stationary).

    >>> import problems
    >>> bool(certify_points(problems.get("mifflin2"), CLARKE_POINTS["mifflin2"](2))[0] < 1e-12)
    True
    """
    from ...measures import clarke_distance

    dist = np.asarray(clarke_distance(problem, np.asarray(points, dtype=float)).value, dtype=float)
    if not np.all(dist <= tol):
        raise ValueError(f"{problem.name}: the points {np.asarray(points).tolist()} should be Clarke stationary; "
                         f"their exact Clarke distances are {dist.tolist()}")
    return dist


# ----------------------------------------------------------------------------- statistics
def decay_exponents(ends, cells: dict, seed: int = 0) -> dict:
    """{cell: (beta, (low, high))}: the exponent beta of median_r values ~ k^-beta over the window
    ends (least squares in log-log; 95% percentile bootstrap over replicas, ``stats.log_slope``).

    ``cells`` maps a name to a (len(ends), R) array; diverged replicas (NaN columns) are dropped.

    >>> k = np.array([512, 1024, 2048])
    >>> b, ci = decay_exponents(k, {"a": (k[:, None] ** -0.5) * np.ones((1, 8))})["a"]
    >>> round(b, 6)
    0.5
    """
    from ...stats import log_slope

    out = {}
    for name, values in cells.items():
        fit = log_slope(ends, values, center="median", seed=seed)
        out[name] = (-fit.slope, (-fit.ci[1], -fit.ci[0]))
    return out


def worst(exponents: dict):
    """(statistic, ci, cell) of the smallest exponent; the interval is [min of the lows, min of the
    highs] over the cells, so the verdict passes only if every cell passes and fails if one fails.

    >>> worst({"a": (0.5, (0.4, 0.6)), "b": (0.3, (0.1, 0.7))})
    (0.3, (0.1, 0.6), 'b')
    """
    name = min(exponents, key=lambda c: exponents[c][0])
    lows = [ci[0] for _, ci in exponents.values()]
    highs = [ci[1] for _, ci in exponents.values()]
    return exponents[name][0], (min(lows), min(highs)), name


class ShiftedOracle:
    """``problem`` whose oracle returns g - c for a constant vector c (value and Clarke set unchanged).

    For the framework's iteration this is the same as replacing phi by phi(m - c), whose minimum is
    at c instead of 0 (m tracks E g = grad f - c, the direction is evaluated at m, and the iterates
    coincide with those of phi(. - c) after the transient of m_0): it breaks "phi has its unique
    minimum at 0" for every direction and every method alike. The dynamics then rest where c is in
    D_f(x), at stationary points of the tilted f(x) - <c, x>, where dist(0, df(x)) = ||c|| wherever
    f is differentiable.

    >>> import problems
    >>> ShiftedOracle(problems.get("crescent"), [0.5, 0.0]).grad(np.zeros((1, 2))).tolist()
    [[-0.5, -1.0]]
    """

    def __init__(self, problem, shift):
        self._problem, self.shift = problem, np.asarray(shift, dtype=float)

    def __getattr__(self, name):
        # every gradient path must go through the shift: no unchecked fast paths of the inner problem
        if name.startswith(("unchecked_", "_grad", "_oracle")):
            raise AttributeError(name)
        return getattr(self._problem, name)

    def grad(self, x):
        return self._problem.grad(x) - self.shift

    def oracle(self, x, idx):
        return self._problem.oracle(x, idx) - self.shift


# ---------------------------------------------------------------------------------- figures
def decay_figure(ends, curves, ylabel, title, caption, slope):
    """One log-log panel per problem: {(problem, method): median measure at the window ends}, with the
    threshold's slope as a dashed line. Returns [(figure, caption)].

    >>> figs = decay_figure(np.array([1, 2, 4]), {("p", "m"): np.array([1.0, 0.5, 0.25])}, "y", "t", "c", 0.125)
    >>> figs[0][1]
    'c'
    """
    import textwrap

    from ...report import subplots

    names = sorted({p for p, _ in curves})
    fig, axes = subplots(1, len(names), figsize=(4.2 * len(names) + 0.6, 3.6), squeeze=False,
                         margins={"left": 1.0, "wspace": 1.0, "top": 0.6})  # two-line titles and y labels
    for ax, pname in zip(axes[0], names):
        mine = {m: med for (p, m), med in curves.items() if p == pname}
        for m, med in mine.items():
            ax.loglog(ends, np.maximum(med, 1e-16), "o-", label=m, lw=1, ms=3)
        ref = np.asarray(ends, dtype=float) ** -slope
        top = max(float(np.nanmax(med[:1])) for med in mine.values())
        ax.loglog(ends, top * ref / ref[0], "k--", label=f"slope -{slope:g} (threshold)")
        ax.set_title(textwrap.fill(f"{title} ({pname})", 44, break_on_hyphens=False), fontsize=10)
        ax.set(xlabel="k (window end)", ylabel=textwrap.fill(ylabel, 48))
        ax.legend(fontsize=6)
    return [(fig, caption)]


def fraction_figure(fractions, threshold, title, caption):
    """Horizontal bars {label: (fraction, (low, high))} with their intervals and the threshold.

    >>> fraction_figure({"a": (1.0, (0.9, 1.0))}, 0.9, "t", "c")[0][1]
    'c'
    """
    from ...report import subplots, text_width

    labels = list(fractions)
    vals = np.array([fractions[c][0] for c in labels])
    err = np.array([[v - fractions[c][1][0] for v, c in zip(vals, labels)],
                    [fractions[c][1][1] - v for v, c in zip(vals, labels)]])
    fig, ax = subplots(1, 1, figsize=(6.0, 0.35 * len(labels) + 1.6),
                       margins={"left": text_width(labels, 7) + 0.2})  # the labels name the bars
    ax.barh(range(len(labels)), vals, color="C0")
    ax.errorbar(vals, range(len(labels)), xerr=np.maximum(err, 0.0), fmt="none", ecolor="k")
    ax.axvline(threshold, color="C3", ls="--", label=f"threshold {threshold:g}")
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set(xlim=(0, 1.02), title=title, xlabel="fraction of replicas (95% Clopper-Pearson interval)")
    ax.legend(fontsize=7)
    return [(fig, caption)]
