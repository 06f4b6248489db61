"""lion.l1-l2-ratio: along Lion training, the gradient l1/l2 ratio of ReLU networks is Theta(sqrt(d)).

Statement (Dong, Li, Lin, arXiv 2411.07724, empirical: "the gradient l1/l2 norm ratio aligns with
Theta(sqrt(d))", which makes their l1 rate O(sqrt(d) K^(-1/4)) match the l2 lower bound in d):
r = ||grad f||_1 / ||grad f||_2 (1 <= r <= sqrt(d)) satisfies r/sqrt(d) bounded away from 0 as the
width, hence d, grows, at every point along training. We test the order: the exponent s of
r/sqrt(d) ~ d^s across widths. Theta(sqrt(d)) is s = 0 (the l1 mass spreads over a fixed fraction
of the coordinates); a gradient concentrated on O(1) coordinates (r = Theta(1)) has s = -1/2. The
threshold -1/4 sits midway, so the verdict says which of the two orders the networks follow; a
slow decay between them (e.g. s = -0.1) is not excluded by a finite range and is reported, not
hidden (the exponent and its interval are in the details and docs/claims/lion.md).

The experiment compares networks of growing width at the same stage of training on the same task,
which two design choices make true (each derived, not tuned; docs/claims/lion.md has the numbers
without them):
- ONE task per seed: every width learns the labels of the narrowest width's teacher on the same
  inputs (problems 'relu-mlp' draws a teacher of the student's own width, so each width would
  otherwise learn a different task).
- Width-consistent steps: a Lion step moves EVERY weight by lr, so a unit with fan-in n receives n
  coherent changes and its pre-activation moves by O(n lr): at one lr for all widths the wide networks
  are driven harder (they lose up to 72% of their second-layer units within 1600 steps). The
  maximal-update scaling of sign/Adam-type steps (Yang et al., Tensor Programs V, 2022) keeps the
  per-step feature change width-independent: lr for the input weights and every bias, lr w0/fan_in
  for the hidden and output weights (w0 = the narrowest width, which trains at lr exactly). Lion is
  coordinatewise and invariant under positive rescaling of coordinates, so these per-coordinate steps
  are stochopt.lion run on u = x / s with gradient s * grad f(x) (s the per-coordinate factor): exactly
  x <- x - lr s sign(c).
Networks: two hidden layers of width w (d_in = 5, classification on 1024 samples, label noise 0.1 as
in the problem's default), He initialisation, Lion with minibatches of 16; r of the full-batch
gradient at checkpoints from initialisation to the end of the run (the amount of training is the
range over which the verdict is decided: the statistic is the smallest exponent over the
checkpoints). The control breaks "every unit takes part": all but 8 units per hidden layer start
dead (negative bias, zero weights), so only a fixed subnetwork has a nonzero gradient and stays so
under Lion (sign(0) = 0): r does not grow with the width and s = -1/2 up to the spread of r between
networks.
"""
from __future__ import annotations

import math

import numpy as np

import problems
import stochopt
from verify.registry import Claim, decide
from verify.stats import fit_exponent

from ._common import DONG, figure, l1_l2_ratio
from .sizes import SIZES

CLAIM = Claim(
    id="lion.l1-l2-ratio",
    statement=("Along Lion training of two-hidden-layer ReLU networks of growing width, the gradient ratio "
               "r = ||g||_1/||g||_2 is Theta(sqrt(d)): the fitted exponent s of r/sqrt(d) ~ d^s across widths is at "
               "least -1/4 (midway between Theta(sqrt(d)), s = 0, and a gradient on O(1) coordinates, s = -1/2) at every "
               "checkpoint; the exponent and its interval are reported."),
    source=f"{DONG} (the empirical Theta(sqrt(d)) statement about gradients of trained networks)",
    assumptions=["ReLU networks, two hidden layers of width w (problems 'relu-mlp', d_in = 5, n = 1024, classification)",
                 "one task per seed: every width learns the narrowest width's teacher labels on the same inputs",
                 "He initialisation, every unit alive",
                 "Lion, betas (0.9, 0.99), minibatch 16; lr = 1e-3 for the input weights and the biases, "
                 "1e-3 w0/fan_in for the hidden and output weights (width-consistent steps, w0 the narrowest width)",
                 "r of the full-batch gradient at checkpoints from initialisation to the end of the run"],
    reconstructed=("the form of the statement (an order in d, tested by its exponent); the paper's networks are larger; "
                   "the width-consistent step sizes are the maximal-update scaling of sign/Adam-type steps"),
    sizes=SIZES["l1-l2-ratio"],
)

LR, LIVE, N_SAMPLES = 1e-3, 8, 1024


def _problems(seed, widths):
    """The 'relu-mlp' problem of each width, all on the task (inputs and labels) of the narrowest one."""
    make = lambda w: problems.get("relu-mlp", hidden=(w, w), d_in=5, n=N_SAMPLES,  # noqa: E731
                                  task="classification", seed=seed)
    base = make(widths[0])
    out = []
    for w in widths:
        p = make(w)
        if not np.array_equal(p.X, base.X):
            raise AssertionError("relu-mlp drew different inputs for two widths of one seed")
        p.y = base.y          # the problem's labels come from a teacher of its own width: use the narrowest one's
        out.append(p)
    return out


def step_scale(p, w0):
    """Per-coordinate factor s of the width-consistent Lion step lr * s: w0/fan_in on the hidden and
    output weights, 1 on the input weights and the biases."""
    s = np.ones(p.dim)
    for k in range(2, len(p.blocks), 2):          # weight blocks after the first: W2, W3 (fan_in = width)
        s[p.blocks[k]] = w0 / p.shapes[k][1]
    return s


def _init(p, rng, replicas, dead):
    """He initialisation per replica (biases 0); with ``dead``, units beyond the first LIVE of each hidden
    layer get zero weights and a negative bias: their pre-activation is negative on every input."""
    x = np.zeros((replicas, p.dim))
    for blk, shape in zip(p.blocks, p.shapes):
        if len(shape) == 2:
            x[:, blk] = rng.standard_normal((replicas, blk.size)) * math.sqrt(2.0 / shape[1])
    if dead:
        layers = p.blocks
        for k in range(len(p.hidden)):
            W, b = layers[2 * k].reshape(p.shapes[2 * k]), layers[2 * k + 1]
            x[:, W[LIVE:].ravel()] = 0.0
            x[:, b[LIVE:]] = -1.0
            nxt = layers[2 * k + 2].reshape(p.shapes[2 * k + 2])
            x[:, nxt[:, LIVE:].ravel()] = 0.0                   # and no fan-out
    return x


def ratios(seed, widths, checkpoints, replicas, dead):
    """r/sqrt(d) of the full-batch gradient, shape (n_widths, n_checkpoints, replicas), the d's, the
    fraction of dead units (no positive pre-activation on the data) per hidden layer and the training
    loss (median over replicas) at the end, per width."""
    dims, out, dead_end, loss_end = [], np.empty((len(widths), len(checkpoints), replicas)), [], []
    opt = stochopt.lion(lr=LR, betas=(0.9, 0.99))
    for i, p in enumerate(_problems(seed, widths)):
        dims.append(p.dim)
        s = step_scale(p, widths[0])
        rng = np.random.default_rng([seed, widths[i], 71])
        state, k = opt.init(_init(p, rng, replicas, dead) / s), 0        # Lion on u = x / s
        for j, c in enumerate(checkpoints):
            while k < c:
                idx = rng.integers(0, p.n_samples, (replicas, 16))
                state = opt.step(state, s * p.oracle(s * state.x, idx))
                k += 1
            out[i, j] = l1_l2_ratio(p.grad(s * state.x)) / math.sqrt(p.dim)
        x = s * state.x
        z = p._forward(x, p.X)[2]                 # hidden pre-activations on the data
        dead_end.append([float(np.mean(np.all(zk <= 0, axis=-2))) for zk in z])
        loss_end.append(float(np.median(p.value(x))))
    return np.array(dims, float), out, dead_end, loss_end


def _verdict(ctx, dead):
    from matplotlib.ticker import NullFormatter

    size = ctx.size
    checkpoints = tuple(size["checkpoints"])
    dims, r, dead_end, loss_end = ratios(ctx.seed, tuple(size["widths"]), checkpoints, size["replicas"], dead)
    fits = [fit_exponent(dims, r[:, j, :], seed=ctx.seed) for j in range(len(checkpoints))]
    j = int(np.argmin([f.slope for f in fits]))
    stat, ci = fits[j].slope, (min(f.ci[0] for f in fits), min(f.ci[1] for f in fits))
    details = {"dims": dims.tolist(), "widths": list(size["widths"]), "checkpoints": list(checkpoints),
               "exponent_per_checkpoint": [f.slope for f in fits], "ci_per_checkpoint": [f.ci for f in fits],
               "r_over_sqrt_d_mean": {int(c): r[:, i, :].mean(axis=1).tolist() for i, c in enumerate(checkpoints)},
               "replicas": size["replicas"], "lr": LR, "lr_times_steps_range": [0.0, LR * checkpoints[-1]],
               "dead_unit_fraction_per_layer_at_end": dict(zip(size["widths"], dead_end)),
               "training_loss_at_end": dict(zip(size["widths"], loss_end)),
               "steps": "lr 1e-3 on input weights and biases, 1e-3 w0/fan_in on hidden and output weights",
               "units": f"all but {LIVE} per layer dead (control)" if dead else "all alive"}
    figs = []
    if ctx.draw:
        fig, (ax1, ax2) = figure()
        for i, c in enumerate(checkpoints):
            ax1.semilogx(dims, r[:, i, :].mean(axis=1), "o-", label=f"step {c}")
        ax1.axhline(math.sqrt(2 / math.pi), color="k", ls=":", lw=0.8, label="sqrt(2/pi) (Gaussian vector)")
        ax1.xaxis.set_minor_formatter(NullFormatter())
        ax1.set(xlabel="number of parameters d", ylabel="r / sqrt(d), r = ||g||_1 / ||g||_2",
                title="l1/l2 ratio along training" + (" (dead units)" if dead else ""))
        ax1.legend(fontsize=7)
        ax2.errorbar(range(len(fits)), [f.slope for f in fits],
                     yerr=np.array([(f.slope - f.ci[0], f.ci[1] - f.slope) for f in fits]).T, fmt="o", capsize=3)
        ax2.axhline(0.0, color="k", ls="--", lw=0.8, label="Theta(sqrt d): 0")
        ax2.axhline(-0.5, color="k", ls=":", lw=0.8, label="Theta(1): -1/2")
        ax2.axhline(-0.25, color="r", ls="--", lw=1, label="threshold -1/4")
        ax2.set_xticks(range(len(fits)), [f"step {c}" for c in checkpoints], fontsize=7)
        ax2.set(xlabel="checkpoint", ylabel="exponent s of r/sqrt(d) ~ d^s", title="fitted exponent, 95% interval")
        ax2.legend(fontsize=7)
        fig.suptitle("Control fails: dead units keep r fixed, s = -1/2" if dead else
                     "Pass: every exponent (and interval) above the red line, i.e. closer to Theta(sqrt d)", fontsize=9)
        figs = [(fig, "Passing: r/sqrt(d) does not fall like d^(-1/2) at any checkpoint.")]
    return decide(stat, -0.25, "higher", ci=ci, details=details, figures=figs)


@CLAIM.part("Theta(sqrt d) along training",
            statistic=("fitted exponent s of r/sqrt(d) against d over the widths (log-log least squares, bootstrap "
                       "interval over initialisations), the smallest over the checkpoints; higher is good; threshold "
                       "-1/4, midway between Theta(sqrt(d)) (s = 0) and a gradient on O(1) coordinates (s = -1/2)"))
def theta_sqrt_d(ctx):
    return _verdict(ctx, dead=False)


@theta_sqrt_d.control(breaks=(f"all but {LIVE} units per hidden layer dead (zero weights, negative bias): only a fixed "
                              "subnetwork has a nonzero gradient, at every width and (sign(0) = 0) all along training, "
                              "so r does not grow with the width: s = -1/2 up to the spread of r between networks"))
def dead_units(ctx):
    return _verdict(ctx, dead=True)
