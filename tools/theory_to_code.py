"""Regenerate docs/theory-to-code.md: each statement of the theory -> the function that checks it.

Usage (from the repository root)::

    python tools/theory_to_code.py                 # writes docs/theory-to-code.md
    python tools/theory_to_code.py --output -      # prints to stdout
    python tools/theory_to_code.py --check         # exit 1 when the file is out of date

The GSGD rows (spec 01-framework.md, section 1.7) are written out by hand below: statement ->
claim id -> claim function -> experiment function -> measures and statistics. Every other claim
family gets a generated section listing the claim ids present in the registry (``verify.claims()``)
with the function that implements each, so the file can be regenerated whenever claims are added.
"""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# (spec 1.7 item, statement in words, claim id, experiment / check functions, measures and statistics)
GSGD_ROWS = [
    ("1", "Single timescale, full batch, diminishing steps: H = f + phi(m)/tau decreases up to a rise that vanishes "
          "with the step (heavy-ball, sign, normalized, clipped directions; crescent, mifflin2, ReLU network)",
     "gsgd.single-timescale.lyapunov",
     "`verify.families.gsgd.lyapunov`, `verify.families.gsgd.lyapunov.rises`",
     "`verify.lyapunov.relative_rise` (every step: no grid); order in the step scale, "
     "`verify.families.gsgd._flow.order_verdict`"),
    ("2", "Every instance (heavy ball, Signum, single-timescale Lion, normalized, clipped by norm and coordinate) with "
          "random stepsizes and starts: the distance to the Clarke-stationary set, the epsilon-active Clarke measure "
          "and (ReLU network, minibatches) the Goldstein measure at radii ~ sqrt(eta_k) go to 0; limits Clarke "
          "stationary (sign direction: only with momentum averaging)",
     "gsgd.single-timescale.stationarity",
     "`verify.families.gsgd.stationarity`, `verify.families.gsgd.stationarity_relu`, "
     "`verify.families.gsgd._common.run_instance`",
     "`verify.measures.clarke_distance` (eps-active), `verify.measures.goldstein`; "
     "`verify.families.gsgd._common.decay_exponents`, `verify.stats.log_slope`, `verify.stats.binomial_ci`"),
    ("2", "Clarke stationary is not minimal: Chebyshev-Rosenbrock N2's 2^(n-1) points certified, only x* minimal; runs "
          "end certified at chained-crescent-2's non-minimising local minimiser",
     "gsgd.clarke-not-minimal",
     "`verify.families.gsgd.not_minimal`, `verify.families.gsgd.not_minimal.valley_points`",
     "`verify.measures.clarke_distance`; `verify.stats.binomial_ci`"),
    ("3", "f(x_k) converges: the oscillation of f over windows (k/2, k] decays, every instance",
     "gsgd.value-convergence",
     "`verify.families.gsgd.value_convergence`",
     "max - min of f per window; `verify.families.gsgd._flow.order_verdict`"),
    ("4", "Two timescales (eta/theta -> 0): m_k tracks the conservative field (mean and 90% quantile of the fast "
          "error) and x_k follows the slow flow, identity and sign directions",
     "gsgd.two-timescale",
     "`verify.families.gsgd.two_timescale`, `verify.families.gsgd.two_timescale.fast_errors`",
     "`verify.tracking.MomentumRecorder`, `verify.inclusions.two_timescale_flow`, `verify.tracking.tracking_error`"),
    ("5", "Differential-inclusion tracking: D_T shrinks like eta (deterministic) or sqrt(eta) (noise) for constant "
          "steps, and along diminishing steps; heavy ball, Signum, normalized, clipped, single-timescale Lion "
          "(Signum's inclusion), signSGD (the sign-hull inclusion x' in -conv Sign(D_f(x)))",
     "gsgd.inclusion-tracking",
     "`verify.families.gsgd.inclusion_tracking`",
     "`verify.inclusions.single_timescale_flow`, `verify.inclusions.sign_flow`, `verify.inclusions.time_scaled`, "
     "`verify.tracking.common_start_error`, `verify.tracking.tracking_error`"),
    ("6", "Random x_0 and random stepsizes against autodiff artifacts (sum rule, the ReLU program x^2/2 + relu(x) - "
          "relu(-x)), every method: Clarke-stationary limits; a start on the artifact traps every method; each "
          "randomisation broken alone reported",
     "gsgd.random-stepsizes.clarke",
     "`verify.families.gsgd.artifacts`",
     "`verify.measures.clarke_distance`; `verify.stats.binomial_ci`"),
    ("7", "The stepsize conditions of the stationarity claims' schedules: formula = executed code, then sympy; random "
          "factors U[a, b] across replicas",
     "gsgd.schedule-conditions",
     "`verify.families.gsgd.schedule_conditions`",
     "`verify.symbolic.formula_of`, `verify.symbolic.CONDITIONS`, `verify.symbolic.ratio_limit`; Kolmogorov-Smirnov"),
    ("8", "Boundedness: on a coercive nonconvex f, over ODE time >= 100, the running maximum of ||x_k|| levels off",
     "gsgd.boundedness",
     "`verify.families.gsgd.boundedness`, `verify.families.gsgd.boundedness.Regularized`",
     "growth exponent of max ||x_k|| in the ODE time"),
]

FAMILY_TITLES = {
    "qh": "Quasi-hyperbolic methods (spec 02-quasi-hyperbolic.md)",
    "adaptive": "Adaptive methods (spec 04-adaptive.md)",
    "lion": "Lion and Lion-K (spec 03-lion.md)",
    "schedules": "Stepsize schedules (spec 01-framework.md 1.2, 05-verification.md 5.5)",
}


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _where(claim) -> str:
    """The module of a claim and its parts."""
    return f"`{claim.module}` (parts: {_cell('; '.join(p.name for p in claim.parts))})"


def render() -> str:
    sys.path.insert(0, ROOT)
    import verify

    claims = verify.claims()
    by_id = {c.id: c for c in claims}
    lines = [
        "# Theory to code",
        "",
        "Each statement of the theory, the claim that checks it, and the functions that do the work.",
        "Generated by `python tools/theory_to_code.py` from the claim registry (`verify.claims()`);",
        "do not edit by hand: edit the claim (or the GSGD rows in the script) and regenerate.",
        "",
        "## GSGD framework (spec 01-framework.md, section 1.7; docs/claims/gsgd.md)",
        "",
        "| spec 1.7 | statement | claim id | claim function | experiment | measures and statistics |",
        "|---|---|---|---|---|---|",
    ]
    for item, statement, cid, experiment, measures in GSGD_ROWS:
        cl = by_id.get(cid)
        fn = _where(cl) if cl is not None else "(not registered)"
        lines.append(f"| {item} | {_cell(statement)} | `{cid}` | {fn} | {_cell(experiment)} | {_cell(measures)} |")
    missing = sorted(c.id for c in claims if c.family == "gsgd" and c.id not in {r[2] for r in GSGD_ROWS})
    if missing:
        lines += ["", "GSGD claims registered but not yet mapped above: " + ", ".join(f"`{m}`" for m in missing)]
    families = sorted({c.family for c in claims} - {"gsgd"}, key=lambda f: (f not in FAMILY_TITLES, f))
    for fam in families:
        title = FAMILY_TITLES.get(fam, f"Family `{fam}`")
        lines += ["", f"## {title}", "",
                  f"Claims of family `{fam}` present in the registry (statement, source and the function that "
                  "checks it):", "",
                  "| claim id | statement | source | function |", "|---|---|---|---|"]
        for c in claims:
            if c.family == fam:
                lines.append(f"| `{c.id}` | {_cell(c.statement)} | {_cell(c.source)} | {_where(c)} |")
    for fam in FAMILY_TITLES:
        if fam not in families:
            lines += ["", f"## {FAMILY_TITLES[fam]}", "", "No claim of this family is registered yet."]
    errors = verify.load_errors()
    if errors:
        lines += ["", "## Claim modules that failed to import", ""] + [f"- `{m}`" for m in sorted(errors)]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.path.join(ROOT, "docs", "theory-to-code.md"),
                        help="where to write the table ('-' for stdout)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file differs from the registry")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = ""
        if current != text:
            print(f"{args.output} is out of date: run python tools/theory_to_code.py", file=sys.stderr)
            return 1
        return 0
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
