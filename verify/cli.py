"""The ``stochopt`` command line.

    stochopt verify [CLAIM|PREFIX ...] [--quick | --full] [--report DIR] [--seed N | --seeds A:B]
                    [--workers N | --scheduler ADDRESS]
    stochopt sweep SPEC.toml [--out DIR] [--workers N | --scheduler ADDRESS]
    stochopt list [claims | methods | problems | demos]
    stochopt demo [NAME ...] [--list] [--out DIR] [--format gif|mp4|png] [--frames N]
    stochopt run METHOD PROBLEM [--steps K] [--replicas R] [--seed S] [--lr LR] [--batch-size B] [--plot FILE]

``stochopt verify`` with no claim runs every claim in quick mode and writes the report to
./stochopt-report/. Its exit status is 0 only when every claim is verified (every part passes
and every part's negative control fails, at every seed run) and every claim module imports;
2 for a usage error (detected before any work, e.g. a report directory that cannot be written). Unknown names get an error listing close matches.

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
                       help="run claims x seeds on a local Dask cluster of N worker processes")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on an existing Dask cluster (e.g. tcp://host:8786)")
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
    print(f"{'claim / part':<{width}}  {'check':<13} {'control':<13} {'statistic':>11} {'threshold':>10}  "
          f"{'seeds ok':>8}  time")
    for r in results:
        seeds_ok = sum(s.ok for s in r.by_seed)
        print(f"{r.claim.id:<{width}}  {r.status.upper():<27} {'':>11} {'':>10}  {seeds_ok:>4}/{len(r.by_seed):<3}  "
              f"{r.elapsed:.1f}s")
        for j, p in enumerate(r.parts):
            stat, thr = _verdict_cells(p.check)
            part_ok = sum(s.parts[j].ok for s in r.by_seed)
            flag = "" if all(s.parts[j].ok or not s.parts[j].applicable for s in r.by_seed) else "   <-- " + \
                "; ".join(sorted({m for s in r.by_seed for m in s.parts[j].problems}))[:120]
            name = ("  " + p.name)[:width]
            print(f"{name:<{width}}  {p.check.status:<13} {p.control.status:<13} {stat:>11} {thr:>10}  "
                  f"{part_ok:>4}/{len(r.by_seed):<3}{flag}")


def _verify(args) -> int:
    import verify
    from .report import prepare_report_dir

    mode = args.mode or "quick"
    seeds = args.seeds if args.seeds is not None else [0 if args.seed is None else args.seed]
    try:
        selected = verify.claims(args.claims or None)
        report_dir = prepare_report_dir(args.report)  # before any work: nothing is lost at the end
    except ValueError as exc:
        print(f"stochopt verify: {exc}", file=sys.stderr)
        return 2
    errors = verify.load_errors()
    for mod, tb in errors.items():
        print(f"stochopt verify: claim module {mod} failed to import:\n{tb}", file=sys.stderr)
    from .executors import make_executor

    try:
        executor = make_executor(args.workers, args.scheduler)
    except (ImportError, ValueError) as exc:
        print(f"stochopt verify: {exc}", file=sys.stderr)
        return 2
    with executor:
        results = verify.run_claims([c.id for c in selected], mode=mode, seeds=seeds, report_dir=report_dir,
                                    progress=False if args.no_progress else None, executor=executor)
    _print_results(results, len(seeds))
    ok = all(r.ok for r in results) and not errors
    n_ok = sum(r.ok for r in results)
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"every seed {seeds[0]}..{seeds[-1]}"
    print(f"\n{n_ok}/{len(results)} claims verified at {seed_text} (every part passes and its control fails)"
          + ("" if ok else "  -- NOT OK"))
    print(f"report:  {os.path.join(report_dir, 'report.md')}")
    print(f"results: {os.path.join(report_dir, 'results.json')}")
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


def _check_plot_path(path):
    """The plot's directory must exist and be writable before the run (nothing computed is lost)."""
    if path is None:
        return None
    if not str(path).strip():
        raise ValueError("--plot is empty: give a file name, e.g. --plot run.png")
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise ValueError(f"--plot: directory {directory} does not exist; create it or choose another path")
    if os.path.isdir(path):
        raise ValueError(f"--plot: {path} is a directory; give a file name, e.g. {os.path.join(path, 'run.png')}")
    if not os.access(directory, os.W_OK):
        raise ValueError(f"--plot: directory {directory} is not writable")
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
        plot_path = _check_plot_path(args.plot)
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
