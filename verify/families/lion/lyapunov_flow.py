"""lion.lyapunov-flow: H is non-increasing along accurately integrated Lion-K trajectories,
including trajectories that run on the boundary of the box.

Theorem (Chen, Liu, Liang, Liu, arXiv 2310.05898; coefficient re-derived, see
``lion.lyapunov-identity``): dH/dt = -Delta <= 0 along the Lion-K flow when eps gamma <= 1. We
integrate the flow with classical RK4 for smooth kernels (log cosh, half square, Huber = clip)
and read H at every step. With the Huber kernel the constraint ||lambda x||_inf <= delta is a hard
box (K* is +inf outside it) and the flow can run on its faces: started on a face with the momentum
pushing outward, a coordinate stays there (x_i' = delta - lambda x_i = 0) while the others move.
The control puts the plausible wrong coefficient in H; along the same trajectories H_c then
changes at rate -Delta_c + (1 + eps lambda)(c - c*) <m', x'> (proved), so it rises where that
defect exceeds Delta_c.
"""
from __future__ import annotations

import numpy as np

import problems
from verify.lion_theory import LionKFlow, wrong_coefficient
from verify.registry import Claim, decide

from ._common import CHEN_LYAP, figure
from .sizes import SIZES

CLAIM = Claim(
    id="lion.lyapunov-flow",
    statement=("Along accurately integrated Lion-K ODE trajectories (smooth K: tanh, half square, Huber/clip), H is "
               "non-increasing, also where the box constraint ||lambda x||_inf <= delta is active (Huber kernel, "
               "iterates on the faces): the largest increase of H over one RK4 step is below 1e-8 of its total "
               "decrease, at every step size dt in the range run."),
    source=f"{CHEN_LYAP} (coefficient re-derived; spec 03-lion.md 3.2)",
    assumptions=["smooth K (grad K Lipschitz; clip for the box)", "eps gamma <= 1", "f smooth, nonconvex "
                 "(problems 'smooth-nonconvex')",
                 "RK4 with dt in {0.05, 0.025} (quick; 0.04 to 0.01 in full), horizon T = 10 (quick; 20 full)"],
    reconstructed="the coefficient c (see lion.lyapunov-identity)",
    sizes=SIZES["lyapunov-flow"],
)

STATISTIC = ("largest increase of H over one RK4 step divided by the total decrease |H(0) - H(T)| + 1e-6 |H(0)| (the "
             "floor keeps the rounding of a constant H from counting), max over replicas, "
             "kernels, parameter sets and every dt run; lower is good; threshold 1e-8 (a stated numerical tolerance: "
             "the exact flow never increases H, and RK4's O(dt^5) local error and rounding stay orders of magnitude "
             "below 1e-8 of the decrease at these dt)")
THRESHOLD = 1e-8
PARAMS = [(1.0, 0.3, 1.0, 1.0), (2.0, 0.5, 1.0, 1.0)]      # alpha, gamma, lam, eps (eps gamma <= 1, gamma != lam)
# d = 8 and b_i uniform in [-2, 2]: about half of the minimiser outside the box (those coordinates stay on
# their faces) and half inside (those keep moving), at every seed
D_ACTIVE, B_RANGE_ACTIVE = 8, 2.0


def _starts(rng, problem, R, lam, on_faces):
    d = problem.dim
    x0 = rng.uniform(-0.9, 0.9, (R, d)) / lam
    m0 = rng.standard_normal((R, d))
    if on_faces:   # the coordinates whose minimiser is outside start on the face towards it, momentum outward
        b = np.asarray(problem.b)
        face = np.broadcast_to(np.abs(b) > 1.0 / lam, (R, d))
        x0 = np.where(face, np.sign(b) / lam, x0)
        m0 = np.where(face, np.sign(b) * rng.uniform(1.0, 3.0, (R, d)), m0)
    return x0, m0


def run_flow(ctx, kernels, d, b_range, on_faces, wrong):
    """H along RK4 trajectories, for each kernel x parameter set x dt: worst step increase / total decrease."""
    rng = np.random.default_rng([ctx.seed, 31])
    R, T = ctx.size["replicas"], ctx.size["horizon"]
    problem = problems.get("smooth-nonconvex", d=d, b_range=b_range, seed=ctx.seed)
    rows, example, active = [], None, []
    for K in kernels:
        for alpha, gamma, lam, eps in PARAMS:
            coef = wrong_coefficient(eps, gamma, lam) if wrong else None
            flow = LionKFlow(problem.grad, K, alpha, gamma, lam, eps, value=problem.value, coefficient=coef)
            x0, m0 = _starts(rng, problem, R, lam, on_faces)
            for dt in ctx.size["dts"]:
                sol = flow.trajectory(x0, m0, t_end=T, dt=dt)
                H = flow.lyapunov(sol.x, sol.m)
                # relative to the total decrease, floored at 1e-6 |H(0)|: a start on a corner of the box with a
                # saturated momentum keeps H constant, and its rounding (1e-16 |H|) must not count as an increase
                scale = np.abs(H[0] - H[-1]) + 1e-6 * np.abs(H[0])
                rel = np.max(np.diff(H, axis=0), axis=0) / scale
                rows.append((f"{K} ({alpha}, {gamma}) dt {dt}", float(np.max(rel))))
                on_face = np.max(np.abs(lam * sol.x), axis=-1) >= 1.0 - 1e-9
                active.append(float(np.mean(on_face)))
                if example is None:
                    example = (sol.t, H, np.max(np.abs(lam * sol.x), axis=-1))
    return rows, example, float(np.mean(active))


def _verdict(ctx, rows, example, active, title, wrong):
    stat = max(v for _, v in rows)
    figs = []
    if ctx.draw:
        fig, (ax1, ax2) = figure(width=11.0, wspace=0.5)
        t, H, box = example
        for r in range(min(H.shape[1], 16)):
            ax1.plot(t[:-1], np.maximum(H[:-1, r] - H[-1, r], 1e-16), lw=0.8)
        ax1.set_yscale("log")
        ax1.set(xlabel="ODE time t", ylabel="H(t) - H(T)", title=f"H along RK4 trajectories ({title})")
        labels, vals = zip(*rows)
        ax2.barh(range(len(vals)), np.maximum(vals, 1e-18), color="C3" if wrong else "C0")
        ax2.set_xscale("log")
        ax2.axvline(THRESHOLD, color="r", ls="--", lw=1, label="threshold 1e-8")
        ax2.set_yticks(range(len(vals)), labels, fontsize=6)
        ax2.set(xlabel="max one-step increase / total decrease", title="largest increase of H per case")
        ax2.legend(fontsize=8)
        verdict = ("Control fails: with the wrong c, H rises (bars right of the red line)" if wrong else
                   "Pass: H decreases monotonically; every bar left of the red line")
        fig.suptitle(verdict + f"; box active on {100 * active:.0f}% of the recorded states", fontsize=9)
        figs = [(fig, verdict)]
    return decide(stat, THRESHOLD, "lower", figures=figs,
                  details={"per_case": dict(rows), "replicas": ctx.size["replicas"], "dts": ctx.size["dts"],
                           "horizon": ctx.size["horizon"], "fraction_of_states_on_the_box": active})


@CLAIM.part("interior (log cosh, half square, Huber)", statistic=STATISTIC)
def interior(ctx):
    """Minimiser inside the box (b in [-0.5, 0.5]): near the barrier |lambda x| -> 1 the tanh flow
    saturates and H (through log(1 - lambda^2 x^2)) is ill-conditioned in float64, so the active box
    is tested with the Huber kernel in the next part."""
    rows, example, active = run_flow(ctx, ["log_cosh", "half_square", "huber"], 4, 0.5, False, False)
    return _verdict(ctx, rows, example, active, "interior", False)


@interior.control(breaks=("the coefficient (1 - eps lambda)/(1 + eps lambda) in H (c* broken, gamma != lambda): dH_c/dt "
                          "= -Delta_c + (1 + eps lambda)(c - c*) <m', x'> is positive on parts of the paths, so H rises "
                          "by O(dt) per step there, far above 1e-8 of the decrease"))
def interior_wrong(ctx):
    rows, example, active = run_flow(ctx, ["log_cosh", "half_square", "huber"], 4, 0.5, False, True)
    return _verdict(ctx, rows, example, active, "interior, wrong c", True)


@CLAIM.part("box active (Huber kernel, iterates on the faces)", statistic=STATISTIC)
def box_active(ctx):
    """Minimiser partly outside the box (d = 8, b in [-2, 2]); the coordinates whose b_i is outside
    start on the face towards it with an outward momentum and stay there while the rest moves."""
    rows, example, active = run_flow(ctx, ["huber"], D_ACTIVE, B_RANGE_ACTIVE, True, False)
    return _verdict(ctx, rows, example, active, "box active", False)


@box_active.control(breaks=("the coefficient (1 - eps lambda)/(1 + eps lambda) in H (c* broken): as in the interior "
                            "part, H_c must rise where the proved defect exceeds Delta_c"))
def box_active_wrong(ctx):
    rows, example, active = run_flow(ctx, ["huber"], D_ACTIVE, B_RANGE_ACTIVE, True, True)
    return _verdict(ctx, rows, example, active, "box active, wrong c", True)
