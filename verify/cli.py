"""The ``stochopt`` command line.

    stochopt verify [CLAIM|PREFIX ...] [--quick | --full] [--report DIR] [--seed N]
    stochopt list [claims | methods | problems | demos]
    stochopt demo [NAME ...] [--list] [--out DIR] [--format gif|mp4|png] [--frames N]
    stochopt run METHOD PROBLEM [--steps K] [--replicas R] [--seed S] [--lr LR] [--batch-size B] [--plot FILE]

``stochopt verify`` with no claim runs every claim in quick mode and writes the report to
./stochopt-report/. Its exit status is 0 only when every check passes and every negative
control fails (and every claim module imports). Unknown names get an error listing close matches.

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
    sub = p.add_subparsers(dest="command", metavar="{verify,list,run,demo}")
    sub.required = True

    v = sub.add_parser("verify", help="run claims (check and negative control) and write a report")
    v.add_argument("claims", nargs="*", metavar="CLAIM", help="claim ids or prefixes (default: all)")
    mode = v.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick", help="CI sizes (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full", help="research sizes")
    v.add_argument("--report", default="stochopt-report", metavar="DIR", help="report directory (default ./stochopt-report)")
    v.add_argument("--seed", type=int, default=0, help="seed of every claim (default 0)")
    v.add_argument("--no-progress", action="store_true", help="no progress bar")

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


def _verify(args) -> int:
    import verify

    mode = args.mode or "quick"
    try:
        selected = verify.claims(args.claims or None)
    except ValueError as exc:
        print(f"stochopt verify: {exc}", file=sys.stderr)
        return 2
    errors = verify.load_errors()
    for mod, tb in errors.items():
        print(f"stochopt verify: claim module {mod} failed to import:\n{tb}", file=sys.stderr)
    results = verify.run_claims([c.id for c in selected], mode=mode, seed=args.seed, report_dir=args.report,
                                progress=False if args.no_progress else None)
    width = max([len(r.claim.id) for r in results] + [5])
    print(f"{'claim':<{width}}  {'check':<12}  {'control':<12}  {'statistic':>12}  {'threshold':>10}  time")
    for r in results:
        v, c = r.verdict, r.control_verdict
        stat = "-" if v.statistic is None else f"{v.statistic:.4g}" if isinstance(v.statistic, float) else str(v.statistic)
        thr = "-" if v.threshold is None else f"{v.threshold:.4g}" if isinstance(v.threshold, float) else str(v.threshold)
        flag = "" if r.ok else "   <-- " + "; ".join(r.problems)
        print(f"{r.claim.id:<{width}}  {v.status:<12}  {c.status:<12}  {stat:>12}  {thr:>10}  "
              f"{(v.elapsed or 0) + (c.elapsed or 0):.1f}s{flag}")
    ok = all(r.ok for r in results) and not errors
    n_ok = sum(r.ok for r in results)
    print(f"\n{n_ok}/{len(results)} claims verified (check passes and control fails); report in "
          f"{os.path.abspath(args.report)}" + ("" if ok else "  -- NOT OK"))
    return 0 if ok else 1


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


def _run(args) -> int:
    import numpy as np

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
        problem = problems.get(args.problem)
    except (ValueError, TypeError) as exc:
        print(f"stochopt run: {exc}", file=sys.stderr)
        return 2
    try:
        opt = stochopt.METHODS[args.method](lr=args.lr)
        trace = stochopt.run(opt, problem, steps=args.steps, replicas=args.replicas, seed=args.seed,
                             batch_size=args.batch_size, x0_radius=0.1 if args.replicas > 1 else 0.0,
                             record_every=max(1, args.steps // 200))
    except (ValueError, TypeError) as exc:
        print(f"stochopt run: {exc}", file=sys.stderr)
        return 2
    s = trace.summary()
    pick = np.unique(np.linspace(0, len(trace.k) - 1, min(25, len(trace.k))).astype(int))
    name, stat = _stationarity(problem, trace.x[pick])
    f_star = getattr(problem, "f_star", None)
    rows = [("method", args.method), ("problem", args.problem), ("steps", s["steps"]), ("replicas", s["replicas"]),
            ("lr", args.lr), ("batch size", args.batch_size or "full"), ("diverged", s["diverged"]),
            ("final f median", f"{s['f_median']:.6g}"), ("final f min / max", f"{s['f_min']:.6g} / {s['f_max']:.6g}"),
            ("f*", "unknown" if f_star is None else f"{f_star:.6g}"), (f"final {name} (median)", f"{stat[-1]:.4g}")]
    for key, val in rows:
        print(f"{key:<40} {val}")
    if args.plot:
        from .report import subplots

        fig, (ax1, ax2) = subplots(1, 2, figsize=(10, 3.8))
        k = trace.k
        med = np.nanmedian(trace.value, axis=1)
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
        fig.savefig(args.plot, dpi=110)
        print(f"{'plot':<40} {args.plot}")
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
