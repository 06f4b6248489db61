"""gsgd.inclusion-tracking: the iterates track the limiting differential inclusion.

Theorem (Xiao, Hu, Toh, arXiv 2307.10053, via the asymptotic pseudo-trajectories of Benaim,
Hofbauer and Sorin 2005; reconstructed, no theorem number attributed): with theta_k = tau eta_k,
the interpolated iterates (x(t), m(t)) on the ODE clock t_k = sum_{i<k} eta_i follow solutions of

    x' in -dphi(m),    m' in tau (D_f(x) - m)

(set-valued where f has a kink and where phi is not differentiable: sign, normalized at 0): over a
window [t, t + T] the distance D_T(t) of the iterates to the solution from their own state goes to
0 as the steps do. What we verify, with the reference computed by ``verify.inclusions`` (an
event-driven scheme: kinks and zeros of m located, the minimal-norm/Filippov selection):

- constant steps eta (theta = tau eta) from common starts (deterministic parts: the momentum starts
  against the gradient, m_0 = -grad f(x_0), so it must turn round and every direction meets its
  switching set in every window): D_T = O(eta) for deterministic steps
  (Euler's order; a switching event costs O(eta)) and O(sqrt(eta)) when minibatch noise dominates
  (the fluctuation of a sum of T/eta noisy steps of size eta). Read as the fitted order q in
  mean D_T ~ eta^q, which must be at least the predicted order minus a margin (below);
- diminishing steps: D_T(t) over consecutive windows of one run shrinks with the step at the
  window, at the noise order, in windows where the iterates still travel (so that no window passes
  merely because the iterates have converged; its control shows it: compared with a flow on the
  wrong clock, the same windows do not track).

Margins: the fitted order may exceed the prediction (an O(eta) bias on top of O(sqrt(eta)) noise, or
O(eta^2) terms, raise it); it falls below it only pre-asymptotically, when a switching event (a
near-tangency of m_i to 0, a near-pass of a block of m by 0) is resolved at some steps of the grid and
not at others. The margin 0.4 (deterministic, order 1) and 0.15 (noise, order 1/2) allow for that
at the quick sizes; a constant error (every control: order 0) cannot reach either threshold.

Instances. Heavy ball, Signum, normalized and clipped (norm, coordinate) are ``stochopt.gsgd`` with
theta_k = tau eta_k. Two more iterations of the framework run in the deterministic parts (g = D_f(x)
exactly); their inclusions are reconstructed here:

- single-timescale Lion (betas (beta1, beta2) = (0.5, 0.9), scaling tau / (1 - beta2), so that
  1 - mu2 = tau eta = theta and 1 - mu1 = tau eta (1 - beta1) / (1 - beta2) = 5 theta):
  x_{k+1} = x_k - eta sign(c_k), c_k = m_k + 5 theta (g_k - m_k), m_{k+1} = m_k + theta (g_k - m_k).
  The direction is the sign of an interpolation of the momentum and the gradient, c_k - m_k = O(eta):
  c is m read 5 theta / tau = 5 eta of ODE time ahead along m' = tau (g - m). As eta -> 0 the
  interpolation vanishes and (x, m) track Signum's inclusion x' in -Sign(m), m' in tau (D_f(x) - m)
  (Sign(0) = [-1, 1]). The lead moves each zero crossing of a coordinate of m by O(eta) time, an
  O(eta) change of x per crossing: D_T = O(eta), with a larger constant than Signum's (crescent,
  seed 0: mean D_T about 14 eta for Lion, 1.8 eta for Signum);
- signSGD (theta_k = 1: m_{k+1} = g_k, x_{k+1} = x_k - eta sign(g_k)) has no momentum state; its
  inclusion is x' in -conv Sign(D_f(x)), and its iterates follow the Filippov solution of
  x' = -sign(grad f(x)) (``verify.inclusions.sign_flow``): across a kink both of whose sides point at
  it they zigzag, and their mean velocity is the combination of the two sides' -sign(g) tangent to
  the kink (on crescent's kink circle below x2 = 1/2 it is 0: the non-Clarke-stationary rest points);
  on a switching surface grad_i f = 0 of a separable piece (crescent's) s_i = 0. D_T = O(eta).
  Asserted on crescent only: on the ReLU network the sign-hull inclusion branches (no momentum
  smooths the switches): from some starts the iterates at different steps follow different solutions
  (seed 4, one replica: 0.02 from the reference at eta = 0.0025, 0.17-0.18 at the other steps), so a
  single reference bounds the distance to the solution set only from above: no evidence either way.

A single computed solution of an inclusion bounds the distance of the iterates to the solution
set from above, not the distance itself: a pass is conclusive, a fail would not be.
"""
from __future__ import annotations

import numpy as np

import problems
import stochopt
from stochopt import schedules

from ...inclusions import single_timescale_flow, time_scaled
from ...registry import Claim
from ...tracking import MomentumRecorder, common_start_error, tracking_error
from . import _flow as F
from .sizes import SIZES

CLAIM = Claim(
    id="gsgd.inclusion-tracking",
    statement=("The single-timescale iterates (heavy ball, Signum, normalized, clipped by norm and by coordinate; "
               "single-timescale Lion, whose interpolated sign direction has Signum's limit) track solutions of the "
               "limiting inclusion x' in -dphi(m), m' in tau (D_f(x) - m), and signSGD (theta_k = 1) those of "
               "x' in -conv Sign(D_f(x)): with constant "
               "steps the windowed distance D_T shrinks like eta (deterministic steps: crescent, a ReLU network) and "
               "like sqrt(eta) (minibatch noise: l1 regression), and along diminishing steps D_T(t) shrinks with "
               "the step while the iterates travel."),
    source=("Xiao, Hu, Toh, arXiv 2307.10053 (limiting dynamics of the framework, spec 1.5) with Benaim, Hofbauer, "
            "Sorin, SIAM J. Control Optim. 44 (2005) (stochastic approximation of differential inclusions)"),
    assumptions=["f locally Lipschitz, path-differentiable (crescent, relu-mlp, l1-regression)",
                 "phi convex with its unique minimum at 0, s in dphi(m)", "theta_k = tau eta_k, tau = 1 (signSGD: "
                 "theta_k = 1; Lion: betas (0.5, 0.9), 1 - mu2 = tau eta_k)",
                 "constant parts: eta in a grid spanning a factor 8, T fixed", "diminishing part: "
                 "eta_k = a b / (k + b) (sum eta = inf, sum eta^2 < inf)", "oracle: full batch (crescent, ReLU "
                 "network) or minibatch of 4 (l1 regression)"],
    reconstructed=("the rates O(eta) and O(sqrt(eta)) of D_T (the theorem states D_T -> 0); the limiting inclusions of "
                   "single-timescale Lion (Signum's) and of signSGD (x' in -conv Sign(D_f(x)), Filippov selection)"),
    sizes=SIZES["inclusion-tracking"],
)
TAU = 1.0
DETERMINISTIC, NOISE = (1.0, 0.4), (0.5, 0.15)  # (predicted order, margin)
WRONG_CLOCK = 2.0
H_FRACTION = 0.5  # reference step / smallest eta (the scheme is second order between events)


def _problem(spec):
    name = spec["problem"]
    return F.relu() if name == "relu-mlp" else problems.get(name, **spec.get("kwargs", {}))


#: The deterministic parts run every instance: the five gsgd directions (heavy ball, Signum, normalized,
#: clipped by norm and by coordinate), single-timescale Lion and signSGD.
INSTANCES = F.DIRECTION_NAMES + ("lion", "signsgd")
#: signSGD is not asserted on the ReLU network: there its sign-hull inclusion branches (no momentum smooths the
#: switches; the iterates at different steps follow different solutions from one start, see the docstring).
RELU_INSTANCES = tuple(n for n in INSTANCES if n != "signsgd")


def _sweep(ctx, spec, name, direction, clock):
    """(etas, D (len(etas), R)): D_T from common starts for each constant step."""
    p = _problem(spec)
    center = p.x_star if spec.get("around") == "x_star" else p.x0
    x0 = F.starts(center, spec["replicas"], spec["radius"], ctx.seed)
    # the momentum starts against the gradient (m0 = -grad f(x0)) when ``turn``: it must turn round, so
    # every direction meets its switching set (m_i = 0, or m = 0) in every window
    m0 = -np.asarray(p.grad(x0), dtype=float) if spec.get("turn") else np.zeros_like(x0)
    etas = np.asarray(spec["etas"], dtype=float)
    lr = np.repeat(etas, len(x0))
    opt = F.tracked_method(name, direction, lr, TAU, np.tile(m0, (etas.size, 1)))
    steps = int(np.ceil(spec["window"] / etas.min() * (1 + 1e-9)))
    trace = stochopt.run(opt, p, steps=steps, replicas=lr.size, seed=ctx.seed, batch_size=spec.get("batch_size"),
                         x0=np.tile(x0, (etas.size, 1)), record_every=1, progress=False)
    h = H_FRACTION * etas.min()
    flow, z0 = F.limiting_inclusion(name, p, direction, TAU, h, x0, m0)
    flow = flow if clock == 1.0 else time_scaled(flow, clock)
    return etas, common_start_error(trace, flow, z0, spec["window"], h=h)


def _constant_part(ctx, key, expected, clock=1.0, names=INSTANCES):
    spec = ctx.size[key]
    blocks = getattr(_problem(spec), "blocks", None)
    errors = {}
    for name, direction in F.directions(ctx, blocks, names).items():
        etas, errors[name] = _sweep(ctx, spec, name, direction, clock)
    order, margin = expected
    figs = []
    if ctx.draw:
        figs = [F.loglog_figure(etas, errors, order, f"D_T against the step ({spec['problem']}, T = {spec['window']:g})",
                                "constant step eta", "mean over replicas of D_T",
                                f"Distance of the iterates to the inclusion's solution from the same start, over a "
                                f"window T = {spec['window']:g} of ODE time. Passing: every line at least as steep as "
                                f"the dashed slope {order:g} minus {margin:g}" +
                                ("" if clock == 1.0 else f"; here against the flow on a clock x{clock:g} (control)"))]
    return F.order_verdict(etas, errors, order, margin, seed=ctx.seed, figures=figs,
                           details={"clock": clock, "tau": TAU, **spec})


_CONSTANT = ("order q of mean D_T ~ eta^q (least squares in log-log, 95% bootstrap over replicas), the smallest over "
             "the directions; higher is good; threshold {t:g} = the predicted order {o:g} minus a margin {m:g} for "
             "switching events resolved at some steps of the grid and not others")


@CLAIM.part("deterministic steps on crescent", uses=("direction",),
            statistic=_CONSTANT.format(t=DETERMINISTIC[0] - DETERMINISTIC[1], o=DETERMINISTIC[0], m=DETERMINISTIC[1]))
def crescent(ctx):
    return _constant_part(ctx, "crescent", DETERMINISTIC)


@crescent.control(breaks=f"the reference is the flow on a clock x{WRONG_CLOCK:g} (the field doubled): the distance "
                         "is the gap between the two flows, which does not shrink with eta (predicted order 0)")
def crescent_wrong_clock(ctx):
    return _constant_part(ctx, "crescent", DETERMINISTIC, clock=WRONG_CLOCK)


@CLAIM.part("deterministic steps on a ReLU network", uses=("direction",),
            statistic=_CONSTANT.format(t=DETERMINISTIC[0] - DETERMINISTIC[1], o=DETERMINISTIC[0], m=DETERMINISTIC[1]))
def relu_net(ctx):
    return _constant_part(ctx, "relu", DETERMINISTIC, names=RELU_INSTANCES)


@relu_net.control(breaks=f"the reference is the flow on a clock x{WRONG_CLOCK:g}: predicted order 0")
def relu_net_wrong_clock(ctx):
    return _constant_part(ctx, "relu", DETERMINISTIC, clock=WRONG_CLOCK, names=RELU_INSTANCES)


#: Under noise the order 1/2 is the central limit of T / eta noisy steps of a Lipschitz field; for
#: sign and normalized the noise enters through s(m) where |m| is of the size of its noise, no such
#: limit holds, and their order is not asserted (they are in the deterministic parts).
LIPSCHITZ = ("identity", "clip_norm", "clip_coord")


@CLAIM.part("minibatch noise on l1 regression (Lipschitz directions)", uses=("direction",),
            statistic=_CONSTANT.format(t=NOISE[0] - NOISE[1], o=NOISE[0], m=NOISE[1]))
def l1_noise(ctx):
    return _constant_part(ctx, "l1-noise", NOISE, names=LIPSCHITZ)


@l1_noise.control(breaks=f"the reference is the flow on a clock x{WRONG_CLOCK:g}: predicted order 0")
def l1_noise_wrong_clock(ctx):
    return _constant_part(ctx, "l1-noise", NOISE, clock=WRONG_CLOCK, names=LIPSCHITZ)


# ------------------------------------------------------------------ diminishing steps
def _diminishing(ctx, clock):
    """D_T(t_m) over windows [t_m, t_m + T] of one full-batch run, at the steps k_m = b (2^j - 1) where
    eta_k = a b / (k + b) has halved j times; each window's reference step is eta(t_m) / 2."""
    spec = ctx.size["diminishing"]
    p = _problem(spec)
    x0 = F.starts(p.x0, spec["replicas"], spec["radius"], ctx.seed, stream=1)
    a, b, T = spec["a"], spec["b"], spec["window"]
    eta = schedules.polynomial(a * b, b=b, p=1.0)
    marks = (b * (2.0 ** np.arange(spec["windows"]) - 1)).astype(int)
    steps = int(b * (np.exp((a * b * np.log(1 + marks[-1] / b) + T) / (a * b)) - 1)) + 2  # past the last window
    errors, travel = {}, {}
    for name, direction in F.directions(ctx, getattr(p, "blocks", None), LIPSCHITZ).items():
        rec = MomentumRecorder()
        opt = stochopt.gsgd(lr=eta, momentum_lr=schedules.coupled(eta, TAU), direction=direction)
        trace = stochopt.run(opt, p, steps=steps, replicas=len(x0), seed=ctx.seed, x0=x0, record_every=1,
                             callbacks=[rec], progress=False)
        M = rec.array(trace)
        rows = []
        for k in marks:
            h = H_FRACTION * float(eta(int(k)))
            flow = single_timescale_flow(p, direction, tau=TAU, kink_accuracy=h)
            flow = flow if clock == 1.0 else time_scaled(flow, clock)
            rows.append(tracking_error(trace, flow, T, starts=[k], momentum=M, h=h).error[0])
        errors[name] = np.array(rows)
        end = np.searchsorted(trace.time[:, 0], trace.time[marks, 0] + T)
        travel[name] = [float(np.mean(np.linalg.norm(trace.x[j] - trace.x[k], axis=-1))) for k, j in zip(marks, end)]
    eta_m = np.array([float(eta(int(k))) for k in marks])
    order, margin = DETERMINISTIC
    figs = []
    if ctx.draw:
        figs = [F.loglog_figure(eta_m, errors, order, "D_T(t_m) along diminishing steps (ReLU network, full batch)",
                                "step eta(t_m) at the window start", "mean over replicas of D_T(t_m)",
                                "Each point is a window [t_m, t_m + T] of one run (later windows to the left). Passing: "
                                f"every line at least as steep as the dashed slope {order:g} minus {margin:g}; the "
                                "iterates travel in every window (details: travel)")]
    return F.order_verdict(eta_m, errors, order, margin, seed=ctx.seed, figures=figs,
                           details={"clock": clock, "window_start_steps": marks, "mean_travel_per_window": travel,
                                    "schedule": f"eta_k = {a} * {b} / (k + {b})", **spec})


@CLAIM.part("diminishing steps on a ReLU network (Lipschitz directions)", uses=("direction",),
            statistic=("order q of mean D_T(t_m) ~ eta(t_m)^q over consecutive windows [t_m, t_m + T] of one run "
                       "(eta(t_m): the step at the window start), the smallest over the directions; higher is good; "
                       f"threshold {DETERMINISTIC[0] - DETERMINISTIC[1]:g} = the order {DETERMINISTIC[0]:g} of "
                       f"deterministic steps minus {DETERMINISTIC[1]:g}"))
def diminishing(ctx):
    return _diminishing(ctx, 1.0)


@diminishing.control(breaks=f"the same windows compared with the flow on a clock x{WRONG_CLOCK:g} (a wrong "
                            "inclusion from the same states): while the iterates travel, the gap does not shrink "
                            "(predicted order 0), so the windows cannot pass merely because the iterates converge")
def diminishing_wrong_clock(ctx):
    return _diminishing(ctx, WRONG_CLOCK)
