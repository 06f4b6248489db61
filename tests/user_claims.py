"""Throw-away claims and user modules for the tests of user directions/methods, CI outputs and the plugin.

``register_descent_claim(cid)`` registers a small claim whose first part runs the framework (or a
user's direction or method) on f(x) = ||x||^2 / 2 with a single timescale and diminishing steps,
and whose second part runs no user object (so it is not applicable in a user run). ``USER_MODULE``
is the source of a user module (written to a temporary directory, imported from sys.path only):
a valid direction (pseudo-Huber), a broken one (phi = ||m||^2/2, select = -m), a torch.optim.SGD
subclass, and a method that forgets its stepsize schedule.
"""
import numpy as np

import stochopt
from stochopt import schedules
from verify.registry import Claim, decide

#: eta_k = ETA0 (10 / (k + 10))^0.75, theta_k = min(1, TAU eta_k), STEPS steps from x_0 = 1 + U[-0.5, 0.5]^3.
ETA0, TAU, STEPS, REPLICAS = 0.5, 1.0, 400, 4
#: The part's threshold: ||x_K|| / ||x_0|| must shrink below 0.1 (a test claim: a stated target).
THRESHOLD = 0.1


class Quadratic:
    """f(x) = ||x||^2 / 2 (gradient x), started near (1, 1, 1)."""

    n_samples, dim = 1, 3
    x0 = np.ones(3)

    def value(self, x):
        return 0.5 * np.sum(x * x, axis=-1)

    def oracle(self, x, idx):
        return np.array(x, copy=True)


def _shrink(factory, lr, seed):
    trace = stochopt.run(factory(lr, schedules.coupled(lr, TAU, cap=1.0)), Quadratic(), steps=STEPS,
                         replicas=REPLICAS, seed=seed, x0_radius=0.5, record_every=STEPS)
    ratio = np.linalg.norm(trace.x[-1], axis=-1) / np.linalg.norm(trace.x[0], axis=-1)
    return float(np.max(np.where(np.isfinite(ratio), ratio, np.inf)))


def register_descent_claim(cid="zzuser.descent"):
    """Register the throw-away claim ``cid`` (unregister it with ``verify.registry.unregister``)."""
    claim = Claim(cid, statement="single-timescale framework steps shrink ||x|| on ||x||^2/2",
                  source="test claim", assumptions=["phi convex, unique minimum at 0", "eta_k -> 0"],
                  sizes={"quick": {}, "full": {}})

    def factories(ctx):
        if ctx.direction is not None:
            direction = ctx.direction
            return {"user direction": lambda lr, theta: stochopt.gsgd(lr=lr, momentum_lr=theta, direction=direction)}
        return ctx.methods({"heavy_ball": lambda lr, theta: stochopt.gsgd(lr=lr, momentum_lr=theta),
                            "signum": lambda lr, theta: stochopt.gsgd(lr=lr, momentum_lr=theta, direction="sign")})

    def worst(ctx, lr):
        return max(_shrink(f, lr, ctx.seed) for f in factories(ctx).values())

    @claim.part("shrinks", statistic="largest over replicas of ||x_K|| / ||x_0||; lower is good; threshold 0.1",
                uses=("direction", "method"))
    def shrinks(ctx):
        return decide(worst(ctx, schedules.polynomial(ETA0 * 10 ** 0.75, b=10.0, p=0.75)), THRESHOLD,
                      figures=ctx.figures(_figure()))

    @shrinks.control(breaks="increasing steps eta_k = 0.3 (1 + k/25): the iterates chatter or blow up")
    def shrinks_control(ctx):
        return decide(worst(ctx, schedules.from_function(lambda k: 0.3 * (1 + k / 25))), THRESHOLD)

    @claim.part("plain", statistic="a constant 0; lower is good; threshold 1")
    def plain(ctx):
        return decide(0.0, 1.0)

    @plain.control(breaks="a constant 2")
    def plain_control(ctx):
        return decide(2.0, 1.0)

    return cid


def _figure():
    from verify.report import subplots

    fig, ax = subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 0])
    ax.set(title="shrinking", xlabel="k (steps)", ylabel="||x_k|| (units of x)")
    return fig, "passing: the line falls"


USER_MODULE = '''
import numpy as np
import torch
import stochopt
from stochopt.directions import Direction


class PseudoHuber(Direction):
    """phi(m) = sum_i delta^2 (sqrt(1 + (m_i / delta)^2) - 1), select(m) = m / sqrt(1 + (m / delta)^2)."""

    name = "pseudo_huber_test"

    def __init__(self, delta=1.0, blocks=None):
        super().__init__(blocks)
        self.delta = delta

    def phi(self, m):
        r = m / self.delta
        return self.delta ** 2 * np.sum(np.sqrt(1.0 + r * r) - 1.0, axis=-1)

    def select(self, m):
        return m / np.sqrt(1.0 + (m / self.delta) ** 2)


class Backwards(Direction):
    """phi(m) = ||m||^2 / 2, but select returns -m: not a subgradient."""

    name = "backwards_test"

    def phi(self, m):
        return 0.5 * np.sum(m * m, axis=-1)

    def select(self, m):
        return -m


class MySGD(torch.optim.SGD):
    """torch.optim.SGD as a user's optimizer class."""


def forgets_schedule(lr, momentum_lr):
    """Signum at a constant step 0.3: ignores eta_k (a broken method that still descends)."""
    return stochopt.signum(lr=0.3, momentum=0.5)
'''
