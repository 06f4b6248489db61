"""The ``stochopt`` command line.

    stochopt verify [CLAIM|PREFIX ...] [--quick | --full] [--report DIR] [--seed N | --seeds A:B]
                    [--workers N | --scheduler ADDRESS] [--direction MODULE:NAME | --method MODULE:NAME]
                    [--junit-xml FILE] [--compare BASELINE.json]
    stochopt sweep SPEC.toml [--out DIR] [--workers N | --scheduler ADDRESS]
    stochopt list [claims | methods | problems | demos]
    stochopt demo [NAME ...] [--list] [--out DIR] [--format gif|mp4|png] [--frames N]
    stochopt run METHOD PROBLEM [--steps K] [--replicas R] [--seed S] [--lr LR] [--batch-size B] [--plot FILE]

``stochopt verify`` with no claim runs every claim in quick mode and writes the report to
./stochopt-report/. Its exit status is 0 only when every claim is verified (every part passes
and every part's negative control fails, at every seed run) and every claim module imports;
2 for a usage error (detected before any work, e.g. a report directory that cannot be written). Unknown names get an error listing close matches.
With ``--direction``/``--method`` (default claims: ``gsgd``) the framework's assumptions on the user's
object are checked and printed first (``verify.user``); a violated one makes the parts that run the
object not applicable and the exit status 1. ``--compare`` exits 1 when a claim's verdict differs
from the baseline's. The paths of report.md, report.html, results.json (and the JUnit file) are
printed at the end.

>>> main(["list", "methods"])  # doctest: +ELLIPSIS
sgd ...
0
"""
from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main"]


def _parser():
    p = argparse.ArgumentParser(prog="stochopt", description="Numerical verification of SGD-type convergence theory.")
    sub = p.add_subparsers(dest="command", metavar="{verify,sweep,list,run,demo}")
    sub.required = True

    v = sub.add_parser("verify", help="run claims (check and negative control) and write a report")
    v.add_argument("claims", nargs="*", metavar="CLAIM", help="claim ids or prefixes (default: all)")
    mode = v.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick", help="CI sizes (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full", help="research sizes")
    v.add_argument("--report", default="stochopt-report", metavar="DIR", help="report directory (default ./stochopt-report)")
    seeds = v.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=_seed_arg, default=None, metavar="N", help="one seed (default 0)")
    seeds.add_argument("--seeds", type=_seeds_arg, default=None, metavar="A:B",
                       help="seeds A..B-1: a claim is verified only when verified at every seed")
    where = v.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                       help="run claims x seeds on a local Dask cluster of N worker processes (default: one per core "
                            "when Dask is installed and there are at least 8 tasks; 1: in this process)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on an existing Dask cluster (e.g. tcp://host:8786)")
    user = v.add_mutually_exclusive_group()
    user.add_argument("--direction", default=None, metavar="MODULE:NAME",
                      help="run the framework's claims (default: gsgd) with your Direction in place of the built-in "
                           "ones; its assumptions are checked first")
    user.add_argument("--method", default=None, metavar="MODULE:NAME",
                      help="likewise with your method: a factory (lr, momentum_lr) -> stochopt.Method, a stochopt "
                           "method factory, or a torch.optim.Optimizer subclass")
    v.add_argument("--junit-xml", default=None, metavar="FILE", help="also write the verdicts as JUnit XML")
    v.add_argument("--compare", default=None, metavar="BASELINE.json",
                   help="flag claims whose verdict changed or whose statistic left its interval since an earlier "
                        "results.json; exit 1 on a changed verdict")
    v.add_argument("--no-progress", action="store_true", help="no progress bar")

    sw = sub.add_parser("sweep", help="run a hyperparameter sweep from a TOML spec (resumable)")
    sw.add_argument("spec", metavar="SPEC.toml")
    sw.add_argument("--out", default=None, metavar="DIR", help="output directory (default ./sweep-NAME)")
    where = sw.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                       help="run the tasks on a local Dask cluster of N worker processes")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on an existing Dask cluster (e.g. tcp://host:8786)")
    sw.add_argument("--no-progress", action="store_true", help="no progress bar")

    ls = sub.add_parser("list", help="list claims, methods, problems or demos")
    ls.add_argument("what", nargs="?", default="claims", help="claims | methods | problems | demos (default claims)")

    r = sub.add_parser("run", help="run a method on a problem and print a summary")
    r.add_argument("method")
    r.add_argument("problem")
    r.add_argument("--steps", type=int, default=1000)
    r.add_argument("--replicas", type=int, default=8)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--lr", type=float, default=0.01, help="constant stepsize (default 0.01)")
    r.add_argument("--batch-size", type=int, default=None, help="minibatch size (default: full batch)")
    r.add_argument("--plot", metavar="FILE", default=None, help="draw f and a stationarity measure against k")

    from .teach.cli import add_demo_parser

    add_demo_parser(sub)
    return p


def _close(what, name, choices):
    from stochopt._checks import unknown_name_message

    return unknown_name_message(what, name, choices)


def _seed_arg(text):
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(f"--seed must be an integer >= 0; got {text!r}")
    return seed


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}")
    return value


def _seeds_arg(text):
    from .registry import parse_seeds

    try:
        return parse_seeds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _verdict_cells(verdict):
    from .report_md import fmt

    if verdict.status in ("error", "not-applicable"):
        return "-", "-"
    return fmt(verdict.statistic), fmt(verdict.threshold)


def _print_results(results, n_seeds):
    width = max([len(r.claim.id) for r in results] + [len("  " + p.name) for r in results for p in r.parts] + [5])
    width = min(width, 60)
    print(f"{'claim / part':<{width}}  {'check':<14} {'control':<14} {'statistic':>11} {'threshold':>10}  "
          f"{'seeds ok':>8}  time")
    for r in results:
        seeds_ok = sum(s.ok for s in r.by_seed)
        print(f"{r.claim.id:<{width}}  {r.status.upper():<29} {'':>11} {'':>10}  {seeds_ok:>4}/{len(r.by_seed):<3}  "
              f"{r.elapsed:.1f}s")
        for j, p in enumerate(r.parts):
            stat, thr = _verdict_cells(p.check)
            part_ok = sum(s.parts[j].ok for s in r.by_seed)
            flag = "" if all(s.parts[j].ok or not s.parts[j].applicable for s in r.by_seed) else "   <-- " + \
                "; ".join(sorted({m for s in r.by_seed for m in s.parts[j].problems}))[:120]
            name = ("  " + p.name)[:width]
            print(f"{name:<{width}}  {p.check.status:<14} {p.control.status:<14} {stat:>11} {thr:>10}  "
                  f"{part_ok:>4}/{len(r.by_seed):<3}{flag}")


def _verify_inputs(args):
    """Everything checked before any work: claims, report directory, output files, baseline, user object."""
    import verify
    from .report import prepare_report_dir

    user = args.direction or args.method
    selected = verify.claims(args.claims or (["gsgd"] if user else None))
    report_dir = prepare_report_dir(args.report)  # before any work: nothing is lost at the end
    junit = _check_output_path(args.junit_xml, "--junit-xml", "verify.xml") if args.junit_xml is not None else None
    baseline = None
    if args.compare is not None:
        from .ci import load_baseline

        baseline = load_baseline(args.compare)
    if args.direction:
        from .overrides import resolve_direction

        resolve_direction(args.direction)
    if args.method:
        from .overrides import resolve_method

        resolve_method(args.method)
    return selected, report_dir, junit, baseline


def _verify(args) -> int:
    import verify

    mode = args.mode or "quick"
    seeds = args.seeds if args.seeds is not None else [0 if args.seed is None else args.seed]
    try:
        selected, report_dir, junit, baseline = _verify_inputs(args)
    except (ValueError, TypeError) as exc:
        print(f"stochopt verify: {exc}", file=sys.stderr)
        return 2
    errors = verify.load_errors()
    for mod, tb in errors.items():
        print(f"stochopt verify: claim module {mod} failed to import:\n{tb}", file=sys.stderr)
    assumptions = None
    if args.direction or args.method:  # the assumptions first, printed before any claim runs
        from .user import direction_assumptions, method_assumptions

        assumptions = direction_assumptions(args.direction) if args.direction else method_assumptions(args.method)
        print("\n".join(assumptions.lines()) + "\n")
    from .executors import LocalDask, make_executor
    from .report import write_report

    try:
        executor = make_executor(args.workers, args.scheduler, tasks=len(selected) * len(seeds))
    except (ImportError, ValueError) as exc:
        print(f"stochopt verify: {exc}", file=sys.stderr)
        return 2
    if args.workers is None and args.scheduler is None and isinstance(executor, LocalDask):
        print(f"stochopt verify: {len(selected) * len(seeds)} tasks on a local Dask cluster, one worker per core "
              "(--workers 1: in this process)", file=sys.stderr)
    progress = False if args.no_progress else None
    with executor:
        ids = [c.id for c in selected]
        if assumptions is not None:
            from .user import run_user

            results = run_user(ids, direction=args.direction, method=args.method, mode=mode, seeds=seeds,
                               progress=progress, executor=executor, assumptions=assumptions).claims
        else:
            results = verify.run_claims(ids, mode=mode, seeds=seeds, progress=progress, executor=executor)
        doc = write_report(results, report_dir, mode=mode, seeds=seeds, load_errors=errors,
                           executor=executor.describe(), direction=args.direction, method=args.method,
                           assumptions=assumptions, baseline=baseline)
    _print_results(results, len(seeds))
    ok = doc["summary"]["ok"]
    n_ok = sum(r.ok for r in results)
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"every seed {seeds[0]}..{seeds[-1]}"
    na = doc["summary"]["not_applicable"]
    print(f"\n{n_ok}/{len(results)} claims verified at {seed_text} (every part passes and its control fails)"
          + (f", {na} not applicable" if na else "") + ("" if ok else "  -- NOT OK"))
    if assumptions is not None and not assumptions.ok:
        print(f"the {assumptions.kind}'s assumptions are violated ({', '.join(c.name for c in assumptions.violated)}): "
              "the parts that run it are not applicable")
    if baseline is not None:
        from .ci import compare

        comparison = compare(doc, baseline)
        print("\n".join(comparison.lines()))
        ok = ok and not comparison.verdict_changed
    outputs = [("report", "report.md"), ("html", "report.html"), ("results", "results.json")]
    print()
    for label, name in outputs:
        print(f"{label + ':':<9}{os.path.join(report_dir, name)}")
    if junit is not None:
        from .ci import write_junit

        print(f"{'junit:':<9}{write_junit(doc, junit)}")
    return 0 if ok else 1


def _sweep(args) -> int:
    from .executors import make_executor
    from .sweep import SpecError, load_spec, run_sweep

    try:
        spec = load_spec(args.spec)
        out = args.out if args.out is not None else f"sweep-{spec.name}"
        executor = make_executor(args.workers, args.scheduler)
    except (SpecError, ValueError, ImportError) as exc:
        print(f"stochopt sweep: {exc}", file=sys.stderr)
        return 2
    try:
        with executor:
            result = run_sweep(spec, out, executor=executor, progress=False if args.no_progress else None)
    except (SpecError, ValueError) as exc:
        print(f"stochopt sweep: {exc}", file=sys.stderr)
        return 2
    print(f"sweep {spec.name}: {result.computed} task(s) computed, {result.skipped} reused from {result.out}/tasks")
    if result.failures:
        for f in result.failures:
            print(f"task {f['key'][:12]} (seed {f['seed']}, grid points {f['points']}) raised:\n{f['traceback']}",
                  file=sys.stderr)
        print(f"{len(result.failures)} task(s) failed (listed in {result.out}/failures.json); rerun the same command "
              "to retry them (finished tasks are kept)", file=sys.stderr)
        return 1
    print(f"results: {os.path.join(result.out, 'sweep.npz')}, {os.path.join(result.out, 'sweep.json')}")
    for fig in result.figures:
        print(f"figure:  {os.path.join(result.out, fig['file'])}")
    return 0


def _list(args) -> int:
    what = args.what
    if what == "claims":
        import verify

        for c in verify.claims():
            print(f"{c.id}  {c.statement[:100]}")
        for mod in verify.load_errors():
            print(f"(claim module {mod} failed to import)", file=sys.stderr)
        return 0
    if what == "methods":
        import stochopt

        for name, factory in stochopt.METHODS.items():
            doc = (factory.__doc__ or "").strip().splitlines()
            print(f"{name:<20} {doc[0] if doc else ''}")
        return 0
    if what == "problems":
        try:
            import problems
        except ImportError:
            print("stochopt list: the problems package is not installed", file=sys.stderr)
            return 2
        rows = problems.table()
        print(f"{'name':<26} {'dim':>5} {'n_samples':>9} {'convex':>6} {'clarke':>6}  reference")
        for row in rows:
            print(f"{row['name']:<26} {row['dim']!s:>5} {row.get('n_samples')!s:>9} {str(row.get('convex')):>6} "
                  f"{str(row.get('clarke')):>6}  {row.get('reference', '')}")
        return 0
    if what == "demos":
        from .teach.cli import list_demos

        return list_demos()
    print(f"stochopt list: {_close('list', what, ['claims', 'methods', 'problems', 'demos'])}", file=sys.stderr)
    return 2


def _stationarity(problem, X):
    """(measure name, median over replicas) for records X (n, R, d): Clarke distance when exact, else Goldstein."""
    import numpy as np

    from .measures import clarke_distance, goldstein

    if getattr(problem, "has_clarke", hasattr(problem, "clarke")):
        try:
            vals = np.array([np.median(clarke_distance(problem, x).value) for x in X])
            return "Clarke distance", vals
        except ValueError:  # no exact Clarke set here (e.g. too many kinks): use the sampled measure
            pass
    vals = np.array([np.median(goldstein(problem, x, eps=1e-3, samples=min(20, 2 * x.shape[-1] + 1)).value) for x in X])
    return "Goldstein distance (eps=1e-3)", vals


def _check_output_path(path, flag="--plot", example="run.png"):
    """An output file's directory must exist and be writable before the run (nothing computed is lost)."""
    if path is None:
        return None
    if not str(path).strip():
        raise ValueError(f"{flag} is empty: give a file name, e.g. {flag} {example}")
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise ValueError(f"{flag}: directory {directory} does not exist; create it or choose another path")
    if os.path.isdir(path):
        raise ValueError(f"{flag}: {path} is a directory; give a file name, e.g. {os.path.join(path, example)}")
    if not os.access(directory, os.W_OK):
        raise ValueError(f"{flag}: directory {directory} is not writable")
    return path


def _run_trace(args, problem):
    import stochopt

    opt = stochopt.METHODS[args.method](lr=args.lr)
    return stochopt.run(opt, problem, steps=args.steps, replicas=args.replicas, seed=args.seed,
                        batch_size=args.batch_size, x0_radius=0.1 if args.replicas > 1 else 0.0,
                        record_every=max(1, args.steps // 200))


def _summary_rows(args, problem, trace):
    import numpy as np

    s = trace.summary()
    rows = [("method", args.method), ("problem", args.problem), ("steps", s["steps"]), ("replicas", s["replicas"]),
            ("lr", args.lr), ("batch size", args.batch_size or "full"), ("diverged", s["diverged"])]
    if s["diverged"] == s["replicas"]:
        first = int(np.min(trace.diverged_step))
        rows.append(("result", f"every replica diverged (the first at step {first}): lr {args.lr} is too large "
                               "for this problem; try a smaller --lr"))
        return rows, None, None
    pick = np.unique(np.linspace(0, len(trace.k) - 1, min(25, len(trace.k))).astype(int))
    alive = ~trace.diverged
    name, stat = _stationarity(problem, trace.x[pick][:, alive])
    f_star = getattr(problem, "f_star", None)
    rows += [("final f median", f"{s['f_median']:.6g}"), ("final f min / max", f"{s['f_min']:.6g} / {s['f_max']:.6g}"),
             ("f*", "unknown" if f_star is None else f"{f_star:.6g}"), (f"final {name} (median)", f"{stat[-1]:.4g}")]
    return rows, pick, (name, stat)


def _plot(args, problem, trace, pick, measure, path):
    import io

    import numpy as np

    from stochopt.engine import atomic_write

    from .report import subplots

    name, stat = measure
    f_star = getattr(problem, "f_star", None)
    fig, (ax1, ax2) = subplots(1, 2, figsize=(10, 3.8))
    k = trace.k
    med = np.nanmedian(trace.value[:, ~trace.diverged], axis=1)
    gap = med - f_star if f_star is not None else med
    if f_star is not None and np.all(gap[1:] > 0):
        ax1.semilogy(k, gap)
        ax1.set_ylabel("median f(x_k) - f* (objective units)")
    else:
        ax1.plot(k, med)
        ax1.set_ylabel("median f(x_k) (objective units)")
    ax1.set(title=f"{args.method} on {args.problem}: objective", xlabel="step k (count)")
    ax2.semilogy(k[pick], np.maximum(stat, 1e-300), marker="o")
    ax2.set(title=f"stationarity: {name}", xlabel="step k (count)", ylabel="distance of 0 to the set (gradient units)")
    buf = io.BytesIO()
    fig.savefig(buf, format=os.path.splitext(path)[1][1:] or "png", dpi=110)
    atomic_write(path, lambda f: f.write(buf.getvalue()))  # an existing plot is replaced whole or kept


def _run(args) -> int:
    import stochopt

    if args.method not in stochopt.METHODS:
        print(f"stochopt run: {_close('method', args.method, list(stochopt.METHODS))}", file=sys.stderr)
        return 2
    try:
        import problems
    except ImportError:
        print("stochopt run: the problems package is not installed", file=sys.stderr)
        return 2
    try:
        plot_path = _check_output_path(args.plot)
        problem = problems.get(args.problem)
        trace = _run_trace(args, problem)
    except (ValueError, TypeError) as exc:
        print(f"stochopt run: {exc}", file=sys.stderr)
        return 2
    rows, pick, measure = _summary_rows(args, problem, trace)
    for key, val in rows:
        print(f"{key:<40} {val}")
    if measure is None:
        return 1
    if plot_path:
        try:
            _plot(args, problem, trace, pick, measure, plot_path)
        except OSError as exc:
            print(f"stochopt run: could not write the plot {plot_path}: {exc.strerror or exc} (the summary above "
                  "is complete; an earlier file at that path is unchanged)", file=sys.stderr)
            return 1
        print(f"{'plot':<40} {plot_path}")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``stochopt`` console script; returns the exit status.

    >>> main(["list", "problems"])  # doctest: +ELLIPSIS
    name ...
    cb2 ...
    0
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    args = _parser().parse_args(argv)
    try:
        if args.command == "verify":
            return _verify(args)
        if args.command == "list":
            return _list(args)
        if args.command == "sweep":
            return _sweep(args)
        if args.command == "demo":
            from .teach.cli import run_demo

            return run_demo(args)
        return _run(args)
    except BrokenPipeError:  # e.g. `stochopt list methods | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
