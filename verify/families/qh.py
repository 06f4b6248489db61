"""Quasi-hyperbolic claims (spec 02-quasi-hyperbolic.md, section 2.4).

Sources: Ma & Yarats, "Quasi-hyperbolic momentum and Adam for deep learning" (ICLR 2019,
arXiv 1810.06801) and its library qhoptim 1.1.0, whose six converters are untested there;
the target algorithms' own papers (cited per claim). See docs/claims/qh.md.

Each converter claim is an iterate-level identity: QHM with the converted hyperparameters
and the target algorithm (``stochopt.qh.targets``, written in its paper's form) produce the
same matching sequence, in float64, to 1e-12 relative, on three gradient sources:

- ``random``: an i.i.d. Gaussian gradient sequence, the same for both (open loop);
- ``quadratic``: f(x) = sum_i lambda_i (x_i - x*_i)^2 / 2, lambda_i in [0.1, 1], x* != 0;
- ``l1-regression``: the nonsmooth (1/N) sum |a_i x - b_i| from ``problems``.

Every run moves R replicas in lock-step, each with its own hyperparameters (per-replica
arrays). The statistic is the largest relative error max_t ||qhm_t - target_t|| / ||target_t||
over replicas and sources; the symbolic proof (``verify.symbolic.converters``) must also hold.
"""
from __future__ import annotations

import re

import numpy as np
from matplotlib.figure import Figure

import stochopt
from stochopt import qh
from verify.registry import Verdict, claim, decide
from verify.symbolic import converters as symbolic

MA_YARATS = "Ma & Yarats, Quasi-hyperbolic momentum and Adam for deep learning (ICLR 2019, arXiv 1810.06801)"
QHOPTIM = "qhoptim 1.1.0 (facebookresearch/qhoptim), param_conv"
EXACT = 1e-12
SOURCES = ("random", "quadratic", "l1-regression")


# ============================================================================ helpers
def _steps(mode):
    # (steps, replicas). Full mode adds replicas (more parameter draws), not many steps: rounding errors
    # accumulate roughly linearly in t (QHM's pole at 1 integrates them, and on the l1 problem the
    # piecewise-constant gradient has no restoring force): the worst of 128 draws reaches ~2e-12 after
    # 1000 steps and ~5e-12 after 5000, so the 1e-12 identity is stated over 300-400 steps.
    return (300, 16) if mode == "quick" else (400, 256)


def _l1_problem(d, seed):
    import problems

    return problems.get("l1-regression", n=40, d=d, seed=seed)


def _oracles(rng, R, d, steps, seed):
    """{source: grad(x, t)} for the three gradient sources."""
    noise = rng.standard_normal((steps, R, d))
    lam = rng.uniform(0.1, 1.0, (R, d))
    x_star = rng.uniform(1.0, 3.0, (R, d)) * rng.choice([-1.0, 1.0], (R, d))
    l1 = _l1_problem(d, seed)
    return {
        "random": lambda x, t: noise[t],
        "quadratic": lambda x, t: lam * (x - x_star),
        "l1-regression": lambda x, t: l1.grad(x),
    }


def _trajectory(opt, x0, oracle, steps, attr="x"):
    """The sequence ``attr`` (x or a buffer) for t = 0..steps; gradients at state.x."""
    state = opt.init(x0)
    out = [np.array(getattr(state, attr))]
    for t in range(steps):
        state = opt.step(state, oracle(state.x, t))
        out.append(np.array(getattr(state, attr)))
    return np.stack(out)


def _rel_curve(a, b):
    """max over replicas of ||a_t - b_t|| / ||b_t||, per t (inf where a run overflowed)."""
    with np.errstate(all="ignore"):
        num = np.linalg.norm(a - b, axis=-1)
        den = np.maximum(np.linalg.norm(b, axis=-1), 1e-300)
        return np.nanmax(np.where(np.isfinite(num) & np.isfinite(den), num / den, np.inf), axis=-1)


def _figure(title, curves, threshold=EXACT, ylabel="max relative error over replicas"):
    fig = Figure(figsize=(6.4, 3.8), constrained_layout=True)
    ax = fig.subplots()
    for label, y in curves.items():
        y = np.maximum(np.asarray(y, float), 1e-18)
        ax.semilogy(np.arange(len(y)), y, label=label)
    if threshold is not None:
        ax.axhline(threshold, color="k", ls="--", lw=1, label=f"threshold {threshold:g}")
    ax.set_xlabel("step t")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return fig


def _proof_holds(proof) -> bool:
    """The symbolic proof holds AND is about the code that runs: its transcribed converter formulas
    agree with ``stochopt.qh``'s numbers (a proof of a mistranscribed formula proves nothing)."""
    agreement = proof.numeric_agreement
    return bool(proof) and agreement is not None and agreement <= EXACT


def _identity_claim(name, build, mode, seed, control, proof):
    """Run ``build(rng, R) -> (qhm_method, target_method, attr)`` on the three sources.

    ``proof``: the ConverterProof for this converter (check) or for the control's variant.
    """
    steps, R = _steps(mode)
    d = 5
    rng = np.random.default_rng(seed)
    oracles = _oracles(rng, R, d, steps, seed)
    x0 = rng.standard_normal((R, d))
    errors, curves = {}, {}
    for source, oracle in oracles.items():
        qhm_opt, target_opt, attr = build(np.random.default_rng([seed, len(errors)]), R)
        with np.errstate(all="ignore"):  # a control may diverge: its error is then inf, which is its verdict
            a = _trajectory(qhm_opt, x0, oracle, steps)
            b = _trajectory(target_opt, x0, oracle, steps, attr)
        curves[source] = _rel_curve(a, b)
        errors[source] = float(np.max(curves[source]))
    statistic = max(errors.values())
    details = {"max_relative_error": errors, "steps": steps, "replicas": R, "symbolic": proof.to_dict()}
    if not control and not _proof_holds(proof):
        statistic = max(statistic, 1.0)  # an unproved identity cannot pass on numbers alone
        details["note"] = "the symbolic proof did not hold (or is about other formulas than the code's)"
    title = f"{name}{' (control)' if control else ''}: QHM vs target, {R} replicas"
    return decide(statistic, EXACT, details=details, figures=[_figure(title, curves)])


def _log_uniform(rng, low, high, size):
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def _qhm_draw(rng, R):
    """QHM hyperparameters in a stable region: lr in [0.1, 1], momentum in [0.2, 0.95], nu in [0.1, 1]."""
    return rng.uniform(0.1, 1.0, R), rng.uniform(0.2, 0.95, R), rng.uniform(0.1, 1.0, R)


def _plain_qhm(x0, oracle, steps, lr, momentum, nu):
    """QHM as a bare loop accepting any (lr, momentum, nu), for controls with invalid values."""
    lr, beta, nu = (np.asarray(v, float)[:, None] for v in (lr, momentum, nu))
    x, b, out = x0.copy(), np.zeros_like(x0), [x0.copy()]
    for t in range(steps):
        g = oracle(x, t)
        b = beta * b + (1 - beta) * g
        x = x - lr * ((1 - nu) * g + nu * b)
        out.append(x.copy())
    return np.stack(out)


# ============================================================================ converters
@claim(
    id="qh.converter.pid",
    statement=("QHM with from_pid(k_p, k_i, k_d) = (k_i, k_d/(k_d - k_p), k_p^2/(k_i k_d)) has the same iterates "
               "x_t as the PID optimizer x_{t+1} = x_0 + k_p e_t + k_i w_t + k_d v_t (e_t = -grad, integral w, "
               "derivative low-pass filtered with beta_f = k_d/(k_d - k_p)), from zero e, w, v and b."),
    source=f"{MA_YARATS}, App. (PID); Recht 2018 (argmin.net, PID); An et al., CVPR 2018",
    assumptions=["derivative filter beta_f = k_d/(k_d - k_p)", "zero initial e, w, v; QHM b_0 = 0",
                 "k_i, k_d != 0, k_d != k_p"],
    control="The PID target with an unfiltered derivative (beta_f = 0): the recursions differ, so must the iterates.",
    caption="Max relative error between QHM and the PID optimizer per step; passing means every curve below 1e-12.",
)
def converter_pid(mode: str, seed: int, control: bool = False) -> Verdict:
    def build(rng, R):
        gains = qh.to_pid(*_qhm_draw(rng, R))
        target = qh.pid(**gains, beta_f=0.0) if control else qh.pid(**gains)
        return qh.qhm(**qh.from_pid(**gains)), target, "x"

    return _identity_claim("from_pid", build, mode, seed, control, symbolic.prove_pid(filtered=not control))


@claim(
    id="qh.converter.synthesized-nesterov",
    statement=("QHM with from_synthesized_nesterov(alpha, beta1, beta2) = (alpha/(1 - beta1), beta1, "
               "1 - beta2 (1 - beta1)/beta1) reproduces synthesized Nesterov's gradient point "
               "y_t = xi_t + beta2 (xi_t - xi_{t-1}) for every t, with xi_{-1} = xi_0 = x_0."),
    source=f"{MA_YARATS}, App.; Lessard, Recht & Packard, SIAM J. Optim. 2016 (arXiv 1408.3595), Sec. 6",
    assumptions=["matching sequence: the gradient point y_t", "xi_{-1} = xi_0 = x_0, QHM b_0 = 0",
                 "alpha > 0, 0 < beta1 < 1"],
    control="Compare QHM with xi_t (the paper's main sequence) instead of y_t: it must not match.",
    caption="Max relative error between QHM and synthesized Nesterov's y_t; passing means below 1e-12.",
)
def converter_synthesized_nesterov(mode: str, seed: int, control: bool = False) -> Verdict:
    def build(rng, R):
        alpha, beta1, beta2 = rng.uniform(0.05, 0.5, R), rng.uniform(0.1, 0.9, R), rng.uniform(0.0, 1.0, R)
        target = qh.synthesized_nesterov(alpha, beta1, beta2)
        return qh.qhm(**qh.from_synthesized_nesterov(alpha, beta1, beta2)), target, "xi" if control else "x"

    proof = symbolic.prove_synthesized_nesterov(output="xi" if control else "y")
    return _identity_claim("from_synthesized_nesterov", build, mode, seed, control, proof)


@claim(
    id="qh.converter.robust-momentum",
    statement=("QHM with from_robust_momentum(L, kappa, rho) reproduces Robust Momentum's gradient point "
               "y_k = x_k + c (x_k - x_{k-1}) (Cyrus et al.'s a, b, c; rho in [1 - 1/sqrt(kappa), 1 - 1/kappa])."),
    source=f"{MA_YARATS}, App.; Cyrus, Hu, Van Scoy & Lessard, ACC 2018 (arXiv 1710.04753)",
    assumptions=["matching sequence: the gradient point y_k, not x_k", "x_{-1} = x_0, QHM b_0 = 0", "kappa > 1"],
    control="Compare QHM with Robust Momentum's x_k instead of y_k: it must not match.",
    caption="Max relative error between QHM and Robust Momentum's y_k; passing means below 1e-12.",
)
def converter_robust_momentum(mode: str, seed: int, control: bool = False) -> Verdict:
    def build(rng, R):
        kappa = _log_uniform(rng, 10.0, 100.0, R)
        low, high = 1 - 1 / np.sqrt(kappa), 1 - 1 / kappa
        rho = low + rng.uniform(0, 1, R) * (high - low)
        target = qh.robust_momentum(1.0, kappa, rho)
        return qh.qhm(**qh.from_robust_momentum(1.0, kappa, rho)), target, "xi" if control else "x"

    proof = symbolic.prove_robust_momentum(output="x" if control else "y")
    return _identity_claim("from_robust_momentum", build, mode, seed, control, proof)


@claim(
    id="qh.converter.triple-momentum",
    statement=("QHM with from_robust_momentum(L, kappa) (rho = None, i.e. 1 - 1/sqrt(kappa)) reproduces the "
               "gradient point y_k of Triple Momentum written in Van Scoy et al.'s own (alpha, beta, gamma, delta)."),
    source=(f"{MA_YARATS}, App.; Van Scoy, Freeman & Lynch, IEEE Control Systems Letters 2018; "
            "Cyrus et al. 2018 (rho = 1 - 1/sqrt(kappa) gives Triple Momentum)"),
    assumptions=["matching sequence: the gradient point y_k, not the output x_k", "xi_{-1} = xi_0 = x_0",
                 "kappa > 1"],
    control="Compare QHM with Triple Momentum's output x_k = (1 + delta) xi_k - delta xi_{k-1}: it must not match.",
    caption="Max relative error between QHM and Triple Momentum's y_k; passing means below 1e-12.",
)
def converter_triple_momentum(mode: str, seed: int, control: bool = False) -> Verdict:
    def build(rng, R):
        kappa = _log_uniform(rng, 10.0, 100.0, R)
        target = qh.triple_momentum(1.0, kappa)
        return qh.qhm(**qh.from_robust_momentum(1.0, kappa)), target, "output" if control else "x"

    proof = symbolic.prove_triple_momentum(output="x" if control else "y")
    return _identity_claim("from_robust_momentum (rho=None)", build, mode, seed, control, proof)


@claim(
    id="qh.converter.accsgd",
    statement=("QHM with from_accsgd(delta, kappa, xi, eps) reproduces AccSGD's iterate w_t (the gradient "
               "point) for every t, with wbar_0 = w_0 = x_0, on delta > 0, kappa > 1, 0 < xi <= sqrt(kappa), "
               "0 < eps < 1."),
    source=f"{MA_YARATS}, App.; Kidambi, Netrapalli, Jain & Kakade, ICLR 2018 (arXiv 1803.05591), Alg. AccSGD",
    assumptions=["matching sequence: w_t", "wbar_0 = w_0 = x_0, QHM b_0 = 0",
                 "the same eps in the converter and the algorithm (qhoptim's default 0.7)"],
    control=("Convert with the default eps = 0.7 while AccSGD runs with its own eps != 0.7 (the hidden default "
             "mismatched): the iterates must differ."),
    caption="Max relative error between QHM and AccSGD's w_t; passing means below 1e-12.",
)
def converter_accsgd(mode: str, seed: int, control: bool = False) -> Verdict:
    def build(rng, R):
        delta = rng.uniform(0.05, 0.5, R)
        kappa = _log_uniform(rng, 2.0, 100.0, R)
        xi = rng.uniform(0.1, 1.0, R) * np.sqrt(kappa)
        eps = rng.uniform(0.2, 0.5, R) if control else rng.uniform(0.1, 0.95, R)
        conv = qh.from_accsgd(delta, kappa, xi) if control else qh.from_accsgd(delta, kappa, xi, eps)
        return qh.qhm(**conv), qh.accsgd(delta, kappa, xi, eps), "x"

    return _identity_claim("from_accsgd", build, mode, seed, control, symbolic.prove_accsgd())


def qhoptim_two_state(h, k, l, m, q, z):
    """qhoptim 1.1.0's TSO formula (transcribed from its documented algebra), for the controls.

    phi = sqrt((h - q)^2 + 4 k m), psi = k m - h q, xi = (h - q - phi)(l m - h z) + 2 m (l q - k z);
    lr = xi / (2 phi psi), nu = 2 m (l q - k z) / xi, momentum = (h + q - phi) / 2.

    >>> {k: float(v) for k, v in qhoptim_two_state(h=0, k=1, l=-0.5, m=-0.5, q=1.5, z=-0.75).items()}
    {'lr': 1.0, 'momentum': 0.5, 'nu': 0.0}
    """
    h, k, l, m, q, z = (np.asarray(v, float) for v in (h, k, l, m, q, z))
    phi = np.sqrt((h - q) ** 2 + 4 * k * m)
    psi = k * m - h * q
    xi = (h - q - phi) * (l * m - h * z) + 2 * m * (l * q - k * z)
    return {"lr": xi / (2 * phi * psi), "momentum": (h + q - phi) / 2, "nu": 2 * m * (l * q - k * z) / xi}


#: The counter-example of docs/differences-from-qhoptim.md: QHM(lr=1, momentum=0.5, nu=0.5) as the TSO
#: h=0, k=1, l=-0.5, m=-0.5, q=1.5, z=-0.75; qhoptim's formula returns nu = 0 (plain SGD) for it.
COUNTER_EXAMPLE = dict(lr=1.0, momentum=0.5, nu=0.5, scale=0.5, shift=1.0)


@claim(
    id="qh.converter.two-state",
    statement=("A two-state optimizer a' = h a + k x + l g, x' = m a + q x + z g is a QHM if and only if it has a "
               "unit eigenvalue, (1 - h)(1 - q) = k m; then QHM with momentum = h + q - 1, "
               "lr = -(z (1 - h) + m l)/(2 - h - q), nu = (lr + z)/(lr momentum) has the same x_t, started on the "
               "invariant line a_0 = k x_0/(1 - h). (qhoptim's formula is right only when q = 1, k = 0.)"),
    source=f"{MA_YARATS}, App. (TSO); derived here by matching transfer functions (docs/quasi-hyperbolic.md)",
    assumptions=["(1 - h)(1 - q) = k m", "other eigenvalue h + q - 1 in [0, 1)", "a_0 = k x_0/(1 - h)"],
    control=("Apply qhoptim's formula to the same general recoverable TSOs (q != 1, k != 0): its (lr, nu) are "
             "wrong there, so the iterates must differ."),
    caption="Max relative error between QHM and random recoverable TSOs; passing means below 1e-12.",
)
def converter_two_state(mode: str, seed: int, control: bool = False) -> Verdict:
    steps, R = _steps(mode)
    d = 5
    rng = np.random.default_rng(seed)
    oracles = _oracles(rng, R, d, steps, seed)
    x0 = rng.standard_normal((R, d))
    lr, beta, nu = _qhm_draw(rng, R)
    scale = rng.uniform(0.5, 2.0, R) * rng.choice([-1.0, 1.0], R)
    shift = rng.uniform(-1.0, 1.0, R)
    tso = qh.to_two_state(lr, beta, nu, scale, shift)
    target = qh.two_state(**tso)
    errors, curves = {}, {}
    for source, oracle in oracles.items():
        b = _trajectory(target, x0, oracle, steps)
        if control:
            a = _plain_qhm(x0, oracle, steps, **qhoptim_two_state(**tso))
        else:
            a = _trajectory(qh.qhm(**qh.from_two_state_optimizer(**tso)), x0, oracle, steps)
        curves[source] = _rel_curve(a, b)
        errors[source] = float(np.max(curves[source]))
    example = qh.to_two_state(**COUNTER_EXAMPLE)
    ours = qh.from_two_state_optimizer(**example)
    theirs = {k: float(v) for k, v in qhoptim_two_state(**example).items()}
    G = np.random.default_rng(seed).standard_normal((steps, 1, 3))
    x_tso = _trajectory(qh.two_state(**example), np.ones((1, 3)), lambda x, t: G[t], steps)
    example_errors = {name: float(np.max(_rel_curve(_plain_qhm(np.ones((1, 3)), lambda x, t: G[t], steps,
                                                                [p["lr"]], [p["momentum"]], [p["nu"]]), x_tso)))
                      for name, p in (("general_map", ours), ("qhoptim_formula", theirs))}
    proof = symbolic.prove_two_state(formula="qhoptim" if control else "general")
    details = {"max_relative_error": errors, "steps": steps, "replicas": R, "symbolic": proof.to_dict(),
               "counter_example": {"tso": example, "general_map": ours, "qhoptim_formula": theirs,
                                   "max_relative_error_random_gradients": example_errors}}
    statistic = max(errors.values())
    if not control and not _proof_holds(proof):
        statistic = max(statistic, 1.0)
        details["note"] = "the symbolic proof did not hold (or is about other formulas than the code's)"
    title = f"from_two_state_optimizer{' (qhoptim formula: control)' if control else ''}: {R} random TSOs"
    return decide(statistic, EXACT, details=details, figures=[_figure(title, curves)])


@claim(
    id="qh.converter.round-trips",
    statement=("Where a converter is bijective its inverse undoes it: from_synthesized_nesterov and "
               "to_synthesized_nesterov (momentum in (0, 1)), from_pid and to_pid (restricted to k_p != 0, "
               "i.e. nu != 0), and from_two_state_optimizer after to_two_state (every scale != 0, shift)."),
    source=f"{MA_YARATS}, App. (the converters' formulas); inverses derived here",
    assumptions=["SNV: 0 < beta1 < 1", "PID: k_p != 0, k_i != 0, k_d != 0, k_d != k_p", "TSO: any scale != 0"],
    control=("Round trip QHM -> TSO (general, q != 1) -> QHM through qhoptim's TSO formula instead of the general "
             "map: it does not return the inputs."),
    caption="Relative error of each round trip on random points; passing means all below 1e-12.",
)
def converter_round_trips(mode: str, seed: int, control: bool = False) -> Verdict:
    n = 2_000 if mode == "quick" else 200_000
    rng = np.random.default_rng(seed)
    # The maps' relative condition numbers grow like 1/(1 - momentum) and like 1/|nu|, 1/|beta2| near zero
    # (1 - nu or 1 - beta2 (1 - beta1)/beta1 cancels): draw momentum in [0.05, 0.95], |nu|, |beta2| >= 0.05.
    def away_from_zero(values):
        return np.where(np.abs(values) < 0.05, 0.5, values)

    lr, beta = _log_uniform(rng, 1e-3, 10.0, n), rng.uniform(0.05, 0.95, n)
    nu = away_from_zero(rng.uniform(-2.0, 2.0, n))

    def rel(out, ref):
        return float(max(np.max(np.abs(out[k] - ref[k]) / np.maximum(np.abs(ref[k]), 1e-300)) for k in ref))

    q = {"lr": lr, "momentum": beta, "nu": nu}
    errors = {}
    if control:
        tso = qh.to_two_state(lr, beta, nu, rng.uniform(0.5, 2.0, n), rng.uniform(0.1, 1.0, n))
        with np.errstate(all="ignore"):
            back = qhoptim_two_state(**tso)
        errors["qhm->tso->qhm (qhoptim formula)"] = rel(back, q)
    else:
        errors["qhm->snv->qhm"] = rel(qh.from_synthesized_nesterov(**qh.to_synthesized_nesterov(**q)), q)
        snv = {"alpha": lr, "beta1": beta, "beta2": away_from_zero(rng.uniform(-1.0, 2.0, n))}
        errors["snv->qhm->snv"] = rel(qh.to_synthesized_nesterov(**qh.from_synthesized_nesterov(**snv)), snv)
        errors["qhm->pid->qhm"] = rel(qh.from_pid(**qh.to_pid(**q)), q)
        gains = qh.to_pid(**q)
        errors["pid->qhm->pid"] = rel(qh.to_pid(**qh.from_pid(**gains)), gains)
        tso = qh.to_two_state(lr, beta, nu, rng.uniform(0.5, 2.0, n) * rng.choice([-1.0, 1.0], n),
                              rng.uniform(-1.0, 1.0, n))
        errors["qhm->tso->qhm"] = rel(qh.from_two_state_optimizer(**tso), q)
    statistic = max(errors.values())
    fig = Figure(figsize=(6.4, 3.6), constrained_layout=True)
    ax = fig.subplots()
    ax.barh(list(errors), [max(v, 1e-18) for v in errors.values()])
    ax.axvline(EXACT, color="k", ls="--", lw=1, label="threshold 1e-12")
    ax.set_xscale("log")
    ax.set_xlabel("max relative error over random points")
    ax.set_ylabel("round trip")
    ax.set_title(f"converter round trips{' (control)' if control else ''}, {n} points", fontsize=10)
    ax.legend(fontsize=8)
    return decide(statistic, EXACT, details={"max_relative_error": errors, "points": n}, figures=[fig])


def _unchecked_converters():
    """The bare formulas (no validation), as in qhoptim: what happens at singular inputs."""
    def pid(k_p, k_i, k_d):
        return {"lr": k_i, "momentum": k_d / (k_d - k_p), "nu": k_p * k_p / (k_i * k_d)}

    def snv(alpha, beta1, beta2):
        return {"lr": alpha / (1 - beta1), "momentum": beta1, "nu": 1 - beta2 * (1 - beta1) / beta1}

    def rm(l, kappa, rho=None):
        rho = 1 - 1 / np.sqrt(kappa) if rho is None else rho
        return snv(kappa * (1 - rho) ** 2 * (1 + rho) / l, kappa * rho ** 3 / (kappa - 1),
                   rho ** 3 / ((kappa - 1) * (1 - rho) ** 2 * (1 + rho)))

    def acc(delta, kappa, xi, eps=0.7):
        return {"lr": delta * eps * (1 + xi) / (1 + eps), "momentum": (kappa - eps * eps * xi) / (kappa + eps * xi),
                "nu": (eps * xi - 1) / (eps * (1 + xi))}

    return {"from_pid": pid, "from_synthesized_nesterov": snv, "from_robust_momentum": rm, "from_accsgd": acc,
            "from_two_state_optimizer": qhoptim_two_state}


#: (converter, arguments, the parameter the error must name)
SINGULAR_CASES = [
    ("from_pid", dict(k_p=-0.1, k_i=0.0, k_d=1.0), "k_i"),
    ("from_pid", dict(k_p=-0.1, k_i=1.0, k_d=0.0), "k_d"),
    ("from_pid", dict(k_p=0.5, k_i=1.0, k_d=0.5), "k_d"),
    ("from_synthesized_nesterov", dict(alpha=0.1, beta1=0.0, beta2=0.5), "beta1"),
    ("from_synthesized_nesterov", dict(alpha=0.1, beta1=1.0, beta2=0.5), "beta1"),
    ("from_robust_momentum", dict(l=1.0, kappa=1.0), "kappa"),
    ("from_robust_momentum", dict(l=0.0, kappa=10.0), "l"),
    ("from_robust_momentum", dict(l=1.0, kappa=10.0, rho=1.0), "rho"),
    ("from_accsgd", dict(delta=0.1, kappa=10.0, xi=2.0, eps=0.0), "eps"),
    ("from_accsgd", dict(delta=0.1, kappa=10.0, xi=-1.0), "xi"),
    ("from_two_state_optimizer", dict(h=0.5, k=0.0, l=0.1, m=-0.1, q=0.5, z=-0.1), "q"),
    ("from_two_state_optimizer", dict(h=1.0, k=0.0, l=0.1, m=-0.1, q=1.0, z=-0.1), "h"),
    ("from_two_state_optimizer", dict(h=0.5, k=0.0, l=0.1, m=0.0, q=1.0, z=0.0), "z"),
]


@claim(
    id="qh.converter.singular-inputs",
    statement=("Every converter rejects its singular inputs (k_i = 0, k_d = 0, k_d = k_p; beta1 in {0, 1}; "
               "kappa = 1, l = 0, rho = 1; eps = 0, xi = -1; a TSO without a unit eigenvalue, with a double one, "
               "or whose integrator cancels) with a ValueError naming the parameter, instead of returning "
               "inf/NaN or raising ZeroDivisionError."),
    source=f"spec 02-quasi-hyperbolic.md 2.3 (our contract); the formulas of {QHOPTIM}",
    assumptions=["the converters of stochopt.qh"],
    control="The bare formulas without validation (qhoptim's behaviour): no singular input gets a clear error.",
    caption="Number of singular inputs not rejected with a ValueError naming the parameter; passing means 0.",
)
def converter_singular_inputs(mode: str, seed: int, control: bool = False) -> Verdict:
    funcs = _unchecked_converters() if control else {name: getattr(qh, name) for name, _, _ in SINGULAR_CASES}
    outcomes = []
    for name, kwargs, param in SINGULAR_CASES:
        try:
            with np.errstate(all="ignore"):
                result = funcs[name](**{k: np.float64(v) for k, v in kwargs.items()})
            outcome = f"returned {result}"
            ok = False
        except ValueError as exc:
            ok = re.search(rf"\b{re.escape(param)}\b", str(exc)) is not None
            outcome = f"ValueError: {exc}"
        except Exception as exc:  # ZeroDivisionError etc.: not a clear error
            ok, outcome = False, f"{type(exc).__name__}: {exc}"
        outcomes.append({"converter": name, "args": kwargs, "must_name": param, "rejected": ok, "outcome": outcome})
    missed = sum(not o["rejected"] for o in outcomes)
    fig = Figure(figsize=(6.4, 3.6), constrained_layout=True)
    ax = fig.subplots()
    ax.bar(["rejected", "not rejected"], [len(outcomes) - missed, missed], color=["tab:green", "tab:red"])
    ax.set_xlabel("outcome of the converter call")
    ax.set_ylabel("number of singular inputs")
    ax.set_title(f"singular converter inputs{' (unchecked formulas: control)' if control else ''}", fontsize=10)
    return decide(missed, 0, details={"cases": outcomes}, figures=[fig])


# ============================================================================ special cases
def _plain_momentum(x0, G, lr, beta, nesterov):
    """torch.optim.SGD's undampened momentum (buf = beta buf + g), plain or Nesterov."""
    x, buf, out = x0.copy(), np.zeros_like(x0), [x0.copy()]
    for g in G:
        buf = beta * buf + g
        x = x - lr * (g + beta * buf if nesterov else buf)
        out.append(x.copy())
    return np.stack(out)


def _open_loop(opt, x0, G):
    return _trajectory(opt, x0, lambda x, t: G[t], len(G))


@claim(
    id="qh.special-cases.qhm",
    statement=("QHM(lr, momentum beta, nu) is exactly: SGD(lr) when nu = 0, and when beta = 0 for any nu; "
               "heavy_ball(lr, beta) (EMA momentum), i.e. undampened momentum with lr (1 - beta), when nu = 1; "
               "PyTorch's Nesterov SGD with lr (1 - beta) when nu = beta."),
    source=f"{MA_YARATS}, Sec. 3 (QHM recovers SGD, momentum and NAG)",
    assumptions=["b_0 = 0, no weight decay", "the same gradient sequence"],
    control="QHM with nu = 1 and momentum nu beta is not QHM(nu, beta) (the discount is not the momentum).",
    caption="Max relative error of each special case per step; passing means all below 1e-12.",
)
def special_cases_qhm(mode: str, seed: int, control: bool = False) -> Verdict:
    steps, R = _steps(mode)
    rng = np.random.default_rng(seed)
    d = 5
    G = rng.standard_normal((steps, R, d))
    x0 = rng.standard_normal((R, d))
    lr, beta, nu = _qhm_draw(rng, R)
    curves = {}
    if control:
        curves["qhm(nu=1, momentum=nu*beta) vs qhm(nu, beta)"] = _rel_curve(
            _open_loop(qh.qhm(lr, nu * beta, 1.0), x0, G), _open_loop(qh.qhm(lr, beta, nu), x0, G))
    else:
        sgd = _open_loop(stochopt.sgd(lr=lr), x0, G)
        curves["nu=0 vs sgd"] = _rel_curve(_open_loop(qh.qhm(lr, beta, 0.0), x0, G), sgd)
        curves["beta=0 vs sgd"] = _rel_curve(_open_loop(qh.qhm(lr, 0.0, nu), x0, G), sgd)
        hb = _open_loop(qh.qhm(lr, beta, 1.0), x0, G)
        curves["nu=1 vs heavy_ball"] = _rel_curve(hb, _open_loop(stochopt.heavy_ball(lr=lr, momentum=beta), x0, G))
        curves["nu=1 vs torch-style momentum"] = _rel_curve(
            hb, _plain_momentum(x0, G, (lr * (1 - beta))[:, None], beta[:, None], nesterov=False))
        curves["nu=beta vs torch-style Nesterov"] = _rel_curve(
            _open_loop(qh.qhm(lr, beta, beta), x0, G),
            _plain_momentum(x0, G, (lr * (1 - beta))[:, None], beta[:, None], nesterov=True))
    errors = {k: float(np.max(v)) for k, v in curves.items()}
    title = f"QHM special cases{' (control)' if control else ''}, {R} replicas"
    return decide(max(errors.values()), EXACT, details={"max_relative_error": errors, "steps": steps},
                  figures=[_figure(title, curves)])


def _plain_adam(x0, G, lr, beta1, beta2, eps, weight_decay=0.0, decoupled=False, bias_correction=True):
    """Adam/AdamW as torch.optim writes them (step size lr/bc1, denominator sqrt(v)/sqrt(bc2) + eps)."""
    x, m, v, out = x0.copy(), np.zeros_like(x0), np.zeros_like(x0), [x0.copy()]
    for t, g in enumerate(G, start=1):
        if decoupled:
            x = x * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * x
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        bc1, bc2 = (1 - beta1 ** t, 1 - beta2 ** t) if bias_correction else (1.0, 1.0)
        x = x - (lr / bc1) * m / (np.sqrt(v) / np.sqrt(bc2) + eps)
        out.append(x.copy())
    return np.stack(out)


@claim(
    id="qh.special-cases.qhadam",
    statement=("QHAdam with nus = (1, 1) is Adam and, with decoupled weight decay, AdamW; its first step is "
               "lr g/(|g| + eps) for any nus; nus = (0, 1) is Adam with beta1 = 0 (RMSProp with a bias-corrected "
               "second moment)."),
    source=f"{MA_YARATS}, Sec. 4 (QHAdam recovers Adam, RMSProp and NAdam)",
    assumptions=["bias-corrected moments, eps outside the square root", "the same gradient sequence"],
    control=("nus = (0, 1) against RMSProp without bias correction (torch.optim.RMSprop's convention): "
             "the recovery holds only modulo bias correction, so it must not match."),
    caption="Max relative error of each QHAdam special case per step; passing means all below 1e-12.",
)
def special_cases_qhadam(mode: str, seed: int, control: bool = False) -> Verdict:
    steps, R = _steps(mode)
    rng = np.random.default_rng(seed)
    d = 5
    G = rng.standard_normal((steps, R, d)) * _log_uniform(rng, 1e-3, 1e3, (1, R, 1))
    x0 = rng.standard_normal((R, d))
    lr = _log_uniform(rng, 1e-3, 1e-1, R)
    beta1, beta2 = rng.uniform(0.5, 0.95, R), rng.uniform(0.9, 0.9999, R)
    eps, wd = _log_uniform(rng, 1e-10, 1e-6, R), rng.uniform(0.0, 0.1, R)
    col = (lambda v: v[:, None])
    curves = {}
    if control:
        curves["nus=(0,1) vs RMSProp without bias correction"] = _rel_curve(
            _open_loop(qh.qhadam(lr, (beta1, beta2), (0.0, 1.0), eps=eps), x0, G),
            _plain_adam(x0, G, col(lr), 0.0, col(beta2), col(eps), bias_correction=False))
    else:
        curves["nus=(1,1) vs Adam"] = _rel_curve(
            _open_loop(qh.qhadam(lr, (beta1, beta2), (1.0, 1.0), wd, eps=eps), x0, G),
            _plain_adam(x0, G, col(lr), col(beta1), col(beta2), col(eps), col(wd)))
        curves["qhadamw nus=(1,1) vs AdamW"] = _rel_curve(
            _open_loop(qh.qhadamw(lr, (beta1, beta2), (1.0, 1.0), wd, eps=eps), x0, G),
            _plain_adam(x0, G, col(lr), col(beta1), col(beta2), col(eps), col(wd), decoupled=True))
        curves["nus=(0,1) vs Adam(beta1=0)"] = _rel_curve(
            _open_loop(qh.qhadam(lr, (beta1, beta2), (0.0, 1.0), eps=eps), x0, G),
            _plain_adam(x0, G, col(lr), 0.0, col(beta2), col(eps)))
        nus = (rng.uniform(-0.5, 1.5, R), rng.uniform(0.0, 1.0, R))
        opt = qh.qhadam(lr, (beta1, beta2), nus, eps=eps)
        first = opt.step(opt.init(x0), G[0]).x
        expected = x0 - col(lr) * G[0] / (np.abs(G[0]) + col(eps))
        curves["first step vs lr g/(|g| + eps), random nus"] = _rel_curve(first[None], expected[None])
    errors = {k: float(np.max(v)) for k, v in curves.items()}
    title = f"QHAdam special cases{' (control)' if control else ''}, {R} replicas"
    return decide(max(errors.values()), EXACT, details={"max_relative_error": errors, "steps": steps},
                  figures=[_figure(title, curves)])


# ============================================================================ rates and bounds
def _fit_rate(errors, lo, hi):
    """exp(least-squares slope of log error over steps lo..hi)."""
    k = np.arange(lo, hi)
    slope = np.polyfit(k, np.log(errors[lo:hi]), 1)[0]
    return float(np.exp(slope))


@claim(
    id="qh.triple-momentum.rate",
    statement=("On strongly convex quadratics with Hessian eigenvalues in [mu, L], Triple Momentum tuned with "
               "kappa = L/mu converges at the worst-case linear rate rho = 1 - 1/sqrt(kappa) (attained at "
               "lambda = mu and lambda = L)."),
    source=("Van Scoy, Freeman & Lynch, IEEE Control Systems Letters 2018 (rate 1 - 1/sqrt(kappa) for "
            "L-smooth mu-strongly convex f); Cyrus et al. 2018"),
    assumptions=["f quadratic, eigenvalues in [mu, L], both ends present", "kappa = L/mu known exactly"],
    control=("Tune Triple Momentum with mu overestimated four times (kappa/4): the rate 1 - 2/sqrt(kappa) it "
             "promises is not achieved on the true quadratic."),
    caption=("log ||x_k - x*|| against k per kappa, with the slope log(1 - 1/sqrt(kappa)) dashed; passing means the "
             "fitted rate is within 5% of the gap 1/sqrt(kappa)."),
)
def triple_momentum_rate(mode: str, seed: int, control: bool = False) -> Verdict:
    kappas = np.array([4.0, 25.0, 100.0, 400.0] if mode == "quick" else [4.0, 25.0, 100.0, 400.0, 2500.0, 10000.0])
    R, d = len(kappas), 8
    rng = np.random.default_rng(seed)
    L = 1.0
    lam = np.stack([np.linspace(L / kp, L, d) for kp in kappas])
    # x* = 0: the iterates themselves decay, so floats keep full relative precision down to 1e-300
    # (with x* != 0 the error would floor at 1e-16 ||x*||); the rate is translation invariant.
    x_star = np.zeros((R, d))
    x0 = rng.standard_normal((R, d))
    tuned = np.maximum(kappas / 4, 1.5) if control else kappas
    rho = 1 - 1 / np.sqrt(tuned)
    # 250 decades at the true rate: the fit window [K/2, K] is long enough that the polynomial factor of
    # the double root at lambda = mu (error ~ k rho^k) biases the fitted rate by < 1% of the gap 1 - rho.
    horizon = np.ceil(250 * np.log(10) / -np.log(1 - 1 / np.sqrt(kappas))).astype(int)
    steps = int(horizon.max())
    opt = qh.triple_momentum(L, tuned)
    state = opt.init(x0)
    err = np.empty((steps + 1, R))
    # max-norm: the Euclidean norm would square entries below 1e-154 into underflow
    err[0] = np.max(np.abs(state.output - x_star), axis=-1)
    with np.errstate(all="ignore"):
        for t in range(steps):
            state = opt.step(state, lam * (state.x - x_star))
            err[t + 1] = np.max(np.abs(state.output - x_star), axis=-1)
    rates = np.array([_fit_rate(np.maximum(err[:, r], 1e-300), int(horizon[r]) // 2, int(horizon[r]))
                      if np.all(np.isfinite(err[: horizon[r], r])) else np.inf for r in range(R)])
    with np.errstate(invalid="ignore"):
        gap_error = np.abs(rates - rho) / (1 - rho)
    statistic = float(np.max(np.where(np.isfinite(gap_error), gap_error, np.inf)))
    fig = Figure(figsize=(6.4, 3.8), constrained_layout=True)
    ax = fig.subplots()
    for r in range(R):
        n = int(horizon[r])
        ax.semilogy(np.arange(n + 1), np.clip(err[: n + 1, r], 1e-300, 1e300), label=f"kappa={kappas[r]:g}")
        ax.semilogy(np.arange(n + 1), err[0, r] * rho[r] ** np.arange(n + 1), "k--", lw=0.8)
    ax.set_xlabel("step k")
    ax.set_ylabel("max-norm ||x_k - x*|| (output sequence)")
    ax.set_title(f"Triple Momentum rate{' (mu overestimated: control)' if control else ''}", fontsize=10)
    ax.legend(fontsize=8)
    details = {"kappa": kappas, "kappa_tuned": tuned, "rho_claimed": rho, "rate_measured": rates,
               "relative_gap_error": gap_error, "horizon": horizon}
    return decide(statistic, 0.05, details=details, figures=[fig])


def adam_bound(nu1, nu2, beta1, beta2, terms):
    """sqrt(sum_{i < terms} a_i^2 / b_i), the per-coordinate bound on |dx|/lr (no bias correction, eps = 0).

    >>> round(float(adam_bound(1.0, 1.0, 0.9, 0.999, 400)[0][0]), 4)     # Adam's defaults
    7.2703
    """
    i = np.arange(terms)[:, None]
    a = nu1 * (1 - beta1) * beta1 ** i
    b = nu2 * (1 - beta2) * beta2 ** i
    a[0] += 1 - nu1
    b[0] += 1 - nu2
    return np.sqrt(np.sum(a * a / b, axis=0)), a, b


@claim(
    id="qh.adam-step-bound",
    statement=("Without bias correction and with eps = 0, every coordinate of a QHAdam (and Adam: nus = (1, 1)) "
               "step satisfies |dx|/lr <= sqrt(sum_i a_i^2 / b_i), a_0 = 1 - nu1 + nu1 (1 - beta1), "
               "a_i = nu1 (1 - beta1) beta1^i, b_0 = 1 - nu2 + nu2 (1 - beta2), b_i = nu2 (1 - beta2) beta2^i, "
               "finite when beta1 < sqrt(beta2); the bound is tight (attained by g_{t-i} proportional to a_i/b_i) "
               "and never exceeded by random gradients."),
    source=f"{MA_YARATS}, App. (bound on the QHAdam step; Cauchy-Schwarz); spec 2.4",
    assumptions=["no bias correction (here: a state after 10^5 zero-gradient steps, where 1 - beta^t = 1 in "
                 "float64)", "eps = 0", "beta1 < sqrt(beta2)", "nu2 > 0"],
    control=("beta1 > sqrt(beta2): the series diverges, so the bound computed from its first T/2 terms is "
             "exceeded by adversarial gradients over T steps."),
    caption=("Per-coordinate |dx|/(lr * bound): random gradients (dots) stay <= 1 and adversarial ones (stars) "
             "reach 1; passing means |max ratio - 1| <= 1e-10."),
)
def adam_step_bound(mode: str, seed: int, control: bool = False) -> Verdict:
    rng = np.random.default_rng(seed)
    if control:
        combos = [(0.95, 0.8, 1.0, 1.0), (0.9, 0.7, 0.7, 0.9), (0.99, 0.9, 1.0, 0.5)]
    else:
        combos = [(0.9, 0.999, 1.0, 1.0), (0.9, 0.99, 0.7, 1.0), (0.5, 0.9, 0.3, 0.6), (0.8, 0.95, 1.0, 0.5),
                  (0.0, 0.9, 0.5, 0.8), (0.7, 0.999, 0.9, 0.99)]
    beta1, beta2, nu1, nu2 = (np.array(c) for c in zip(*combos))
    R, d = len(combos), 64 if mode == "quick" else 1024
    T = 600
    bound, a, b = adam_bound(nu1, nu2, beta1, beta2, T // 2)
    full_bound = adam_bound(nu1, nu2, beta1, beta2, T)[0]
    lr = 1e-2
    opt = qh.qhadam(lr=lr, betas=(beta1, beta2), nus=(nu1, nu2), eps=0.0)
    x0 = np.zeros((R, d))
    ratios_random = np.zeros((R, 0))
    # random gradients: Gaussian, heavy-tailed, and sign-alternating sequences, T steps each
    for kind in ("gauss", "cauchy", "alternating"):
        state = opt.init(x0).replace(k=100_000)  # after 1e5 zero gradients: bias corrections are exactly 1
        worst = np.zeros(R)
        for t in range(T):
            if kind == "gauss":
                g = rng.standard_normal((R, d))
            elif kind == "cauchy":
                g = rng.standard_cauchy((R, d))
            else:
                g = (-1.0) ** t * np.abs(rng.standard_normal((R, d))) * rng.uniform(0.5, 1.5, (R, 1))
            new = opt.step(state, g)
            worst = np.maximum(worst, np.max(np.abs(new.x - state.x), axis=-1) / (lr * bound))
            state = new
        ratios_random = np.concatenate([ratios_random, worst[:, None]], axis=1)
    # adversarial: g at step s proportional to a_{T-1-s} / b_{T-1-s} (random sign and scale per coordinate)
    T_adv = T
    i = np.arange(T_adv)[:, None]
    a_full = nu1 * (1 - beta1) * beta1 ** i
    b_full = nu2 * (1 - beta2) * beta2 ** i
    a_full[0] += 1 - nu1
    b_full[0] += 1 - nu2
    coef = rng.choice([-1.0, 1.0], (R, d)) * _log_uniform(rng, 1e-3, 1e3, (R, d))
    # where a_i = 0 (beta1 = 0) the best g_{t-i} is 0; 1e-150 instead avoids 0/0 at eps = 0 and adds
    # only ~1e-300 to the second moment
    shape = np.maximum(a_full / b_full, 1e-150)
    state = opt.init(x0).replace(k=100_000)
    with np.errstate(over="ignore"):
        for s in range(T_adv):
            new = opt.step(state, coef * shape[T_adv - 1 - s][:, None])
            last = np.abs(new.x - state.x) / lr
            state = new
    ratio_adv = np.min(last, axis=-1) / bound                     # every coordinate attains it
    max_ratio = np.maximum(ratios_random.max(axis=1), np.max(last, axis=-1) / bound)
    statistic = float(np.max(np.abs(max_ratio - 1)))
    r_geo = beta1 ** 2 / beta2
    with np.errstate(divide="ignore", invalid="ignore"):
        closed = np.sqrt(a[0] ** 2 / b[0] + (nu1 * (1 - beta1)) ** 2 / (nu2 * (1 - beta2)) * r_geo / (1 - r_geo))
    fig = Figure(figsize=(6.4, 3.8), constrained_layout=True)
    ax = fig.subplots()
    for j, kind in enumerate(("gauss", "cauchy", "alternating")):
        ax.plot(np.arange(R), ratios_random[:, j], "o", label=f"random ({kind}), max over steps")
    ax.plot(np.arange(R), ratio_adv, "*", ms=12, label="adversarial g ~ a_i/b_i")
    ax.axhline(1.0, color="k", ls="--", lw=1, label="bound")
    ax.set_yscale("log")
    ax.set_xticks(np.arange(R), [f"b=({c[0]},{c[1]})\nnu=({c[2]},{c[3]})" for c in combos], fontsize=6)
    ax.set_xlabel("setting (betas, nus)")
    ax.set_ylabel("|dx| / (lr * bound)")
    ax.set_title(f"QHAdam per-step bound{' (beta1 > sqrt(beta2): control)' if control else ''}", fontsize=10)
    ax.legend(fontsize=7)
    details = {"combos (beta1, beta2, nu1, nu2)": combos, "bound (first T/2 terms)": bound,
               "bound (closed form)": closed, "bound (first T terms)": full_bound,
               "adversarial ratio": ratio_adv, "max random ratio": ratios_random.max(axis=1), "T": T}
    return decide(statistic, 1e-10, details=details, figures=[fig])


@claim(
    id="qh.from-nadam.asymptotic",
    statement=("QHAdam with from_nadam(lr, betas) (nus = (beta1, 1)) takes asymptotically the same steps as "
               "Dozat's constant-mu NAdam on the same gradients: the relative difference of the steps decays "
               "like mu^t, and the first step differs by exactly the factor (1 + 2 mu)/(1 + mu)."),
    source=(f"{MA_YARATS}, Sec. 4 (NAdam as QHAdam, 'modulo bias correction'); Dozat, ICLR 2016 workshop, "
            "Incorporating Nesterov Momentum into Adam"),
    assumptions=["nu1 = beta1 = mu (constant), nu2 = 1", "the same gradient sequence"],
    control="QHAdam with nus = (1, 1) (plain Adam) instead of (beta1, 1): the late steps must not agree.",
    caption="Relative difference of the steps per t (log scale); passing means below 1e-9 over the last 10%.",
)
def from_nadam_asymptotic(mode: str, seed: int, control: bool = False) -> Verdict:
    rng = np.random.default_rng(seed)
    mus = np.array([0.5, 0.9, 0.95, 0.975])
    R, d = len(mus), 16
    steps = 2_000 if mode == "quick" else 10_000
    lr, beta2, eps = 1e-3, 0.999, 1e-8
    conv = qh.from_nadam(lr, (mus, beta2))
    nus = (1.0, 1.0) if control else conv["nus"]
    ours = qh.qhadam(lr=conv["lr"], betas=conv["betas"], nus=nus, eps=eps)
    dozat = qh.nadam_dozat(lr=lr, betas=(mus, beta2), eps=eps)
    G = rng.standard_normal((steps, R, d)) + 0.3
    x0 = np.zeros((R, d))
    a, b = _open_loop(ours, x0, G), _open_loop(dozat, x0, G)
    da, db = np.diff(a, axis=0), np.diff(b, axis=0)
    rel = np.linalg.norm(da - db, axis=-1) / np.linalg.norm(db, axis=-1)       # (steps, R)
    late = float(np.max(rel[int(0.9 * steps):]))
    ratio_first = np.linalg.norm(db[0], axis=-1) / np.linalg.norm(da[0], axis=-1)
    predicted = (1 + 2 * mus) / (1 + mus)
    first_error = float(np.max(np.abs(ratio_first / predicted - 1)))
    statistic = late if control else max(late, first_error)
    fig = Figure(figsize=(6.4, 3.8), constrained_layout=True)
    ax = fig.subplots()
    for r in range(R):
        ax.semilogy(np.arange(1, steps + 1), np.maximum(rel[:, r], 1e-18), label=f"mu={mus[r]}")
        if not control:
            ax.semilogy(np.arange(1, steps + 1), np.maximum(mus[r] ** np.arange(1, steps + 1), 1e-18), "k:", lw=0.7)
    ax.axhline(1e-9, color="k", ls="--", lw=1, label="threshold 1e-9")
    ax.set_xlabel("step t")
    ax.set_ylabel("|step_QHAdam - step_NAdam| / |step_NAdam|")
    ax.set_title(f"from_nadam vs Dozat's NAdam{' (nus = (1, 1): control)' if control else ''}", fontsize=10)
    ax.legend(fontsize=8)
    details = {"mu": mus, "late_relative_difference": late, "first_step_ratio": ratio_first,
               "first_step_ratio_predicted": predicted, "first_step_error": first_error,
               "symbolic_first_step_ratio": str(symbolic.nadam_first_step_ratio()), "steps": steps}
    return decide(statistic, 1e-9, details=details, figures=[fig])
