"""Verify your own direction or method: the framework's assumptions first, then the claims.

``check_direction(direction)`` and ``check_method(method)`` (also ``stochopt verify --direction
MODULE:NAME`` / ``--method MODULE:NAME``) do two things, in this order:

1. **Assumptions.** The framework (spec 1.2) assumes of the direction that phi is convex with its
   unique minimum at 0 and that select(m) is an element of dphi(m). These are checked numerically
   on a fixed, seeded sample of points (so the report is reproducible) before any claim runs:

   - ``shapes``: select(m) has the shape of m, phi(m) the shape m.shape[:-1], for (d,) and (R, d) inputs;
   - ``finite``: phi and select are finite at finite m, from |m| ~ 1e-8 to |m| ~ 1e3;
   - ``no-mutation``: neither phi nor select writes into m;
   - ``subgradient``: phi(y) >= phi(m) + <select(m), y - m> at random pairs, at pairs near each
     other, at y = 0 and at m = 0, on the whole vector and with y - m inside one block of a
     partition (the direction applied per block);
   - ``convex``: phi(t a + (1 - t) b) <= t phi(a) + (1 - t) phi(b) along random segments;
   - ``unique-minimum``: <select(m), m> > 0 for m != 0 (with convexity: phi(0) < phi(m)).

   Inequalities allow a rounding tolerance of ``RTOL`` times the magnitudes in them plus ``ATOL``
   (floating-point tolerances, not margins: a phi computed as a difference of O(1) terms, such as
   sqrt(1 + m^2) - 1, carries an absolute rounding error of ~1e-16; a wrong formula violates
   the inequalities by ~|m|^2 >= 1e-8 at the points with |m| >= 1e-4). For a method the contract of ``stochopt.Method`` is
   checked instead: it is built from (lr, momentum_lr) as floats and Schedules, keeps shapes,
   stays finite, never writes into its inputs, runs each replica independently, and its first
   step from rest opposes the gradient (<x_1 - x_0, g> < 0: what <s, m> > 0 means for a method).

2. **Claims.** Only when every assumption holds, the selected claims (default: the framework's,
   ``gsgd``) run with the user's object in every part declared ``uses=("direction",)`` /
   ``("method",)``. A violated assumption is reported by name with the point where it fails, and
   every such part is reported *not applicable* (never passed); the run is then not ok.

>>> import numpy as np
>>> from stochopt.directions import Direction
>>> class PseudoHuber(Direction):
...     name = "pseudo_huber_doc"
...     def phi(self, m): return np.sum(np.sqrt(1.0 + m * m) - 1.0, axis=-1)
...     def select(self, m): return m / np.sqrt(1.0 + m * m)
>>> direction_assumptions(PseudoHuber()).ok
True
>>> class Backwards(Direction):          # phi = ||m||^2 / 2 but select returns -m
...     name = "backwards_doc"
...     def phi(self, m): return 0.5 * np.sum(m * m, axis=-1)
...     def select(self, m): return -m
>>> report = direction_assumptions(Backwards())
>>> [c.name for c in report.violated]
['subgradient', 'unique-minimum']
>>> report.violated[0].message[:60]
'select is not a subgradient of phi: phi(y) < phi(m) + <s, y '
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .overrides import momentum_lr_used, resolve_direction, resolve_method

__all__ = ["AssumptionCheck", "AssumptionReport", "UserRun", "direction_assumptions", "method_assumptions",
           "check_direction", "check_method", "run_user", "RTOL", "ATOL"]

#: Rounding tolerance of the inequalities, relative to the magnitudes of their terms, and absolute.
RTOL = 1e-9
ATOL = 1e-14
#: Scales of the sample points: near 0 to large.
SCALES = (1e-8, 1e-4, 1e-2, 1.0, 1e2, 1e3)
#: Points per scale and per configuration.
PER_SCALE = 40
#: Configurations: (label, dimension, blocks or None).
CONFIGS = (("d = 1", 1, None), ("d = 2", 2, None), ("d = 5", 5, None),
           ("d = 6 in blocks [0..2], [3, 4], [5]", 6, [[0, 1, 2], [3, 4], [5]]))

DIRECTION_ASSUMPTIONS = {
    "shapes": "select(m) has the shape of m and phi(m) the shape m.shape[:-1] (for (d,) and (R, d) inputs)",
    "finite": "phi(m) and select(m) are finite for finite m",
    "no-mutation": "phi and select do not write into their input m",
    "subgradient": "select(m) is a subgradient of phi at m: phi(y) >= phi(m) + <select(m), y - m> for all y "
                   "(also per block)",
    "convex": "phi is convex: phi(t a + (1 - t) b) <= t phi(a) + (1 - t) phi(b)",
    "unique-minimum": "phi has its unique minimum at 0: <select(m), m> > 0 for every m != 0",
}
METHOD_ASSUMPTIONS = {
    "factory": "the factory builds a stochopt.Method from (lr, momentum_lr) given as floats and as Schedules",
    "shapes": "init and step keep the iterate's shape (d,) or (R, d)",
    "finite": "step gives finite iterates and buffers for finite inputs",
    "no-mutation": "step writes neither into the state's arrays nor into the gradient",
    "independent-replicas": "replica r's iterates do not depend on the other replicas run beside it",
    "descent-from-rest": "the first step from rest opposes the gradient: <x_1 - x_0, g> < 0 (as <s, m> > 0)",
}


# =============================================================================== records
@dataclass
class AssumptionCheck:
    """One assumption, checked: ``status`` "pass", "fail" or "not-checked"; ``message`` says what was found."""

    name: str
    statement: str
    status: str
    message: str = ""
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        from .registry import _jsonable

        return _jsonable({"name": self.name, "statement": self.statement, "status": self.status,
                          "message": self.message, "details": self.details})


@dataclass
class AssumptionReport:
    """The framework's assumptions on a user's direction (``kind="direction"``) or method."""

    kind: str
    subject: str
    checks: list
    notes: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    @property
    def violated(self) -> list:
        return [c for c in self.checks if c.status == "fail"]

    def reason(self) -> str:
        """Why the parts that use the object are not applicable (empty when ok)."""
        return "; ".join(f"assumption '{c.name}' violated: {c.message}" for c in self.violated)

    def lines(self) -> list:
        out = [f"assumptions of the {self.kind} {self.subject}: {'all hold' if self.ok else 'VIOLATED'}"]
        for c in self.checks:
            out.append(f"  {c.status.upper():<11} {c.name}: {c.message or c.statement}")
        out += [f"  note: {n}" for n in self.notes]
        return out

    def to_dict(self) -> dict:
        return {"kind": self.kind, "subject": self.subject, "ok": self.ok, "checks": [c.to_dict() for c in self.checks],
                "notes": list(self.notes)}


@dataclass
class UserRun:
    """What ``check_direction`` / ``check_method`` return: the assumption report and the claims.

    ``claims`` is the same list of ``ClaimResult`` as ``verify.run_claims`` returns; ``ok`` holds
    when every assumption holds, some claim applies, and every claim that applies is verified.
    """

    assumptions: AssumptionReport
    claims: list
    report_dir: str | None = None

    @property
    def applicable(self) -> list:
        return [r for r in self.claims if r.applicable]

    @property
    def ok(self) -> bool:
        return self.assumptions.ok and bool(self.applicable) and all(r.ok for r in self.applicable)


# =============================================================================== directions
def _fmt_vec(v) -> str:
    v = np.atleast_1d(np.asarray(v, dtype=float)) + 0.0  # + 0.0: no "-0" in messages
    return "[" + ", ".join(f"{x:.6g}" for x in v[:8]) + (", ...]" if v.size > 8 else "]")


def _readable(bad, *points) -> int:
    """Among the violating rows ``bad`` (a mask), the one whose points are nearest to unit scale:
    the counterexample a reader can check by hand."""
    scale = np.max([np.max(np.abs(p), axis=-1) for p in points], axis=0)
    distance = np.abs(np.log10(np.maximum(scale, 1e-300)))
    return int(np.argmin(np.where(bad, distance, np.inf)))


class _Failed(Exception):
    """An assumption failed at a point; ``args[0]`` is its name, ``args[1]`` the message."""


def _points(rng, n_rows, dim):
    """Random points at every scale of SCALES, some with exact zeros (kinks of sign-type phi)."""
    rows = []
    for scale in SCALES:
        block = scale * rng.standard_normal((n_rows, dim))
        block[: n_rows // 4] *= rng.random((n_rows // 4, dim)) < 0.5  # a quarter with zero coordinates
        rows.append(block)
    return np.concatenate(rows)


def _call(fn, m, what):
    """fn(m) on a private copy of m; shapes, finiteness and mutation checked at once."""
    before = np.array(m, copy=True)
    arg = np.array(m, copy=True)
    try:
        with np.errstate(all="ignore"):  # non-finite results are reported as such, not as warnings
            out = fn(arg)
    except Exception as exc:  # the user's code raised: reported as the assumption it breaks
        raise _Failed("finite", f"{what} raised {type(exc).__name__}: {exc} at m = {_fmt_vec(m.reshape(-1))}") from None
    if not np.array_equal(arg, before):
        raise _Failed("no-mutation", f"{what} wrote into its input: m = {_fmt_vec(before.reshape(-1)[:8])} became "
                                     f"{_fmt_vec(arg.reshape(-1)[:8])}")
    try:
        out = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        raise _Failed("shapes", f"{what} returned {type(out).__name__}, not an array of floats") from None
    return out


def _evaluate(direction, M, counts):
    """phi(M), select(M) with the shape, finiteness and mutation checks (counted per point)."""
    n, d = M.shape
    s = _call(direction.select, M, "select(m)")
    if s.shape != M.shape:
        raise _Failed("shapes", f"select(m) changes the shape: m of shape {M.shape} gives {s.shape}")
    value = _call(direction.phi, M, "phi(m)")
    if value.shape != (n,):
        raise _Failed("shapes", f"phi(m) must have shape m.shape[:-1] = {(n,)}; m of shape {M.shape} gives "
                                f"{value.shape}")
    one = _call(direction.select, M[0], "select(m)")
    if one.shape != (d,):
        raise _Failed("shapes", f"select(m) changes the shape: m of shape {(d,)} gives {one.shape}")
    if _call(direction.phi, M[0], "phi(m)").shape != ():
        raise _Failed("shapes", f"phi(m) of one vector (shape {(d,)}) must be a scalar")
    for name, arr in (("select(m)", s), ("phi(m)", value)):
        bad = ~np.isfinite(arr.reshape(n, -1)).all(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _Failed("finite", f"{name} is not finite at m = {_fmt_vec(M[i])}: {_fmt_vec(arr[i])}")
    for name in ("shapes", "finite", "no-mutation"):
        counts[name] += n
    return value, s


def _subgradient(direction, M, Y, label, where, counts):
    """phi(Y) >= phi(M) + <s, Y - M> up to rounding; raises _Failed naming the worst pair."""
    phi_m, s = _evaluate(direction, M, counts)
    phi_y, _ = _evaluate(direction, Y, counts)
    inner = np.sum(s * (Y - M), axis=-1)
    bound = phi_m + inner
    tol = RTOL * (np.abs(phi_y) + np.abs(phi_m) + np.sum(np.abs(s * (Y - M)), axis=-1)) + ATOL
    short = bound - phi_y - tol
    if np.any(short > 0):
        i = _readable(short > 0, M, Y)
        raise _Failed("subgradient", f"select is not a subgradient of phi: phi(y) < phi(m) + <s, y - m> at "
                                     f"m = {_fmt_vec(M[i])}, y = {_fmt_vec(Y[i])} ({where}; {label}): "
                                     f"phi(y) = {phi_y[i]:.6g} < {bound[i]:.6g}, s = select(m) = {_fmt_vec(s[i])}")
    counts["subgradient"] += int(M.shape[0])


def _convex(d, rng, label, dim, blocks, counts):
    """phi(t a + (1 - t) b) <= t phi(a) + (1 - t) phi(b) along random segments."""
    A = _points(rng, PER_SCALE, dim)
    B = _points(rng, PER_SCALE, dim)[rng.permutation(A.shape[0])]
    phi_a, _ = _evaluate(d, A, counts)
    phi_b, _ = _evaluate(d, B, counts)
    for t in (0.1, 0.25, 0.5, 0.75, 0.9):
        phi_t, _ = _evaluate(d, t * A + (1 - t) * B, counts)
        chord = t * phi_a + (1 - t) * phi_b
        excess = phi_t - chord - RTOL * (np.abs(phi_t) + np.abs(chord)) - ATOL
        if np.any(excess > 0):
            i = _readable(excess > 0, A, B)
            raise _Failed("convex", f"phi is not convex along the segment from a = {_fmt_vec(A[i])} to "
                                    f"b = {_fmt_vec(B[i])} ({label}): phi(t a + (1 - t) b) = {phi_t[i]:.6g} > "
                                    f"t phi(a) + (1 - t) phi(b) = {chord[i]:.6g} at t = {t}")
        counts["convex"] += A.shape[0]


def _subgradients(d, rng, label, dim, blocks, counts):
    """The subgradient inequality at random pairs, near pairs, y = 0, m = 0 and (per block) inside one block."""
    M = _points(rng, PER_SCALE, dim)
    n = M.shape[0]
    zero = np.zeros_like(M)
    near = M + (1e-3 * np.abs(M) + 1e-9) * rng.standard_normal(M.shape)
    pairs = [(M, _points(rng, PER_SCALE, dim)[rng.permutation(n)], "random y"), (M, near, "y near m"),
             (M, zero, "y = 0"), (zero, M, "m = 0")]
    for b, idx in enumerate(blocks or []):  # y - m inside one block: the direction applied per block
        Y = M.copy()
        Y[:, idx] = _points(rng, PER_SCALE, len(idx))[rng.permutation(n)]
        pairs.append((M, Y, f"y - m inside block {b} = {idx}"))
    for m_pts, y_pts, where in pairs:
        _subgradient(d, m_pts, y_pts, label, where, counts)


def _unique_minimum(d, rng, label, dim, blocks, counts):
    """<select(m), m> > 0 for m != 0 (with convexity: phi(0) < phi(m))."""
    M = _points(rng, PER_SCALE, dim)
    nonzero = M[np.any(M != 0, axis=1)]
    _, s = _evaluate(d, nonzero, counts)
    inner = np.sum(s * nonzero, axis=-1)
    if np.any(inner <= 0):
        i = _readable(inner <= 0, nonzero)
        raise _Failed("unique-minimum", f"phi does not have its unique minimum at 0: <select(m), m> = "
                                        f"{inner[i]:.6g} <= 0 at m = {_fmt_vec(nonzero[i])} ({label})")
    counts["unique-minimum"] += int(nonzero.shape[0])


#: The direction's assumptions checked one by one (each on its own seeded points); shapes, finiteness
#: and mutation are checked at every evaluation inside them.
_DIRECTION_CHECKS = (("convex", _convex), ("subgradient", _subgradients), ("unique-minimum", _unique_minimum))


def _describe(obj) -> str:
    if isinstance(obj, str):
        return obj
    target = obj if isinstance(obj, type) or callable(obj) and hasattr(obj, "__qualname__") else type(obj)
    return f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', repr(target))}"


def _report(kind, subject, statements, failures, counts, notes=()):
    """One AssumptionCheck per statement: failed (with where), passed (with how many checks), or not checked."""
    checks = []
    for name, statement in statements.items():
        n = counts.get(name, 0)
        if name in failures:
            checks.append(AssumptionCheck(name, statement, "fail", failures[name], {"checks_before": n}))
        elif n:
            checks.append(AssumptionCheck(name, statement, "pass", f"holds in {n} checks", {"checks": n}))
        else:
            stopped = ", ".join(f"'{f}'" for f in failures)
            checks.append(AssumptionCheck(name, statement, "not-checked", f"not checked: {stopped} failed first"))
    return AssumptionReport(kind, subject, checks, list(notes))


def direction_assumptions(direction, seed: int = 0) -> AssumptionReport:
    """Check the framework's assumptions on a direction (an instance, a class or "module:name").

    Each assumption is checked on its own seeded points (``CONFIGS`` x ``SCALES``) and reported
    with the first point where it fails. A direction whose phi or select cannot be evaluated
    (raises, changes shapes, is not finite, writes into m) stops the checks there.
    """
    subject = _describe(direction)
    direction = resolve_direction(direction)
    counts = {name: 0 for name in DIRECTION_ASSUMPTIONS}
    failures = {}
    try:
        direction.phi(np.ones(2))
    except NotImplementedError:
        failures["subgradient"] = (f"phi(m) is not implemented ({type(direction).__name__} defines only select): "
                                   "the framework needs phi (the Lyapunov function H = f + phi/tau)")
        return _report("direction", subject, DIRECTION_ASSUMPTIONS, failures, counts)
    except Exception:  # reported with its point by the checks below
        pass
    try:
        for index, (name, check) in enumerate(_DIRECTION_CHECKS):
            rng = np.random.default_rng([seed, 1729, index])
            try:
                for label, dim, blocks in CONFIGS:
                    check(direction if blocks is None else direction.per_block(blocks), rng, label, dim, blocks,
                          counts)
            except _Failed as failed:
                if failed.args[0] in ("shapes", "finite", "no-mutation"):
                    raise
                failures[failed.args[0]] = failed.args[1]
    except _Failed as failed:  # phi or select cannot be evaluated: nothing else can be checked
        failures[failed.args[0]] = failed.args[1]
        counts = {k: (v if k in ("shapes", "finite", "no-mutation") else 0) for k, v in counts.items()}
    return _report("direction", subject, DIRECTION_ASSUMPTIONS, failures, counts)


# =============================================================================== methods
def _method_contract(factory, rng, counts):
    """Build and step the method, checking shapes, finiteness and inputs; returns what the later checks reuse."""
    import stochopt
    from stochopt import schedules

    R, d, steps = 4, 3, 6
    built = []
    for lr, theta, what in ((0.05, 0.5, "floats"),
                            (schedules.polynomial(0.05, b=1.0, p=0.75), None, "Schedules (coupled theta)")):
        theta = schedules.coupled(lr, 4.0, cap=1.0) if theta is None else theta
        try:
            opt = factory(lr, theta)
        except Exception as exc:
            raise _Failed("factory", f"factory(lr, momentum_lr) with {what} raised {type(exc).__name__}: {exc}") \
                from None
        if not isinstance(opt, stochopt.Method):
            raise _Failed("factory", f"factory(lr, momentum_lr) with {what} returned {type(opt).__name__}, not a "
                                     "stochopt.Method")
        built.append(opt)
    counts["factory"] = len(built)
    opt = built[1]
    grads = rng.standard_normal((steps, R, d))
    x0 = rng.standard_normal((R, d))
    state = opt.init(x0)
    if state.x.shape != (R, d):
        raise _Failed("shapes", f"init(x0) of shape {(R, d)} gives an iterate of shape {state.x.shape}")
    xs = [state.x]
    for k in range(steps):
        x_before = np.array(state.x, copy=True)
        bufs_before = {n: np.array(v, copy=True) for n, v in state.buffers.items()}
        g = np.array(grads[k], copy=True)
        try:
            new = opt.step(state, g)
        except Exception as exc:
            raise _Failed("finite", f"step raised {type(exc).__name__}: {exc} at step {k}") from None
        if not (np.array_equal(state.x, x_before) and np.array_equal(g, grads[k])
                and all(np.array_equal(state.buffers[n], v) for n, v in bufs_before.items())):
            raise _Failed("no-mutation", f"step {k} wrote into the state's arrays or the gradient")
        if new.x.shape != (R, d):
            raise _Failed("shapes", f"step changes the iterate's shape: {(R, d)} -> {new.x.shape}")
        if not np.all(np.isfinite(new.x)) or not all(np.all(np.isfinite(v)) for v in new.buffers.values()):
            raise _Failed("finite", f"step {k} gives a non-finite iterate or buffer from finite inputs")
        state = new
        xs.append(state.x)
        for name in ("shapes", "finite", "no-mutation"):
            counts[name] = counts.get(name, 0) + R
    return built, x0, grads, xs


def _independent_replicas(opt, x0, grads, xs, counts, r=2):
    """Replica r run alone (with its own id) gives the iterates it gave among the others (1e-12 relative)."""
    alone = opt.init(x0[r:r + 1], replica_ids=[r])
    for k in range(grads.shape[0]):
        alone = opt.step(alone, grads[k, r:r + 1])
        gap = np.max(np.abs(alone.x[0] - xs[k + 1][r])) / max(np.max(np.abs(xs[k + 1][r])), 1e-300)
        if not gap <= 1e-12:
            raise _Failed("independent-replicas", f"replica {r} run alone differs from replica {r} among "
                                                  f"{x0.shape[0]} at step {k + 1} (relative difference {gap:.3g})")
        counts["independent-replicas"] = k + 1


def _descent_from_rest(opt, rng, counts, R=4, d=3):
    """From x_0 = 0 with fresh buffers, the first step opposes the gradient."""
    g = rng.standard_normal((R, d))
    step = opt.step(opt.init(np.zeros((R, d))), g).x
    inner = np.sum(step * g, axis=-1)
    if np.any(inner >= 0):
        i = int(np.argmax(inner))
        raise _Failed("descent-from-rest", f"the first step from rest does not oppose the gradient: <x_1 - x_0, g> = "
                                           f"{inner[i]:.6g} >= 0 for g = {_fmt_vec(g[i])}, x_1 - x_0 = "
                                           f"{_fmt_vec(step[i])}")
    counts["descent-from-rest"] = R


def method_assumptions(method, seed: int = 0) -> AssumptionReport:
    """Check the method contract on a user method (a factory, a stochopt factory, a torch optimizer
    class, or "module:name"); see the module docstring."""
    subject = _describe(method)
    factory = resolve_method(method)
    notes = []
    wrapped = getattr(factory, "__wrapped__", factory)
    if getattr(factory, "optimizer", None) is None and not momentum_lr_used(wrapped):
        notes.append("the method takes no momentum stepsize: theta_k (momentum_lr) is not passed on and its own "
                     "defaults are used, so the single-timescale coupling theta_k = tau eta_k does not hold")
    counts, failures = {}, {}
    rng = np.random.default_rng([seed, 1729])
    try:
        with np.errstate(all="ignore"):  # non-finite results are reported as such, not as warnings
            built, x0, grads, xs = _method_contract(factory, rng, counts)
    except _Failed as exc:  # a method that cannot be built or stepped cannot be checked further
        failures[exc.args[0]] = exc.args[1]
        return _report("method", subject, METHOD_ASSUMPTIONS, failures, counts, notes)
    for name, check in (("independent-replicas", lambda: _independent_replicas(built[1], x0, grads, xs, counts)),
                        ("descent-from-rest", lambda: _descent_from_rest(built[0], rng, counts))):
        try:
            check()
        except _Failed as exc:
            failures[exc.args[0]] = exc.args[1]
        except Exception as exc:  # the user's code raised in a configuration the contract check did not try
            failures[name] = f"raised {type(exc).__name__}: {exc}"
    return _report("method", subject, METHOD_ASSUMPTIONS, failures, counts, notes)


# =============================================================================== running
def _not_applicable_results(selected, mode, seeds, reason, direction=None, method=None) -> list:
    """ClaimResults in which every part that would run the user's object is not applicable for ``reason``."""
    from .registry import ClaimResult, PartResult, SeedResult, Verdict

    out = []
    for cl in selected:
        by_seed = []
        for seed in seeds:
            parts = []
            for p in cl.parts:
                why = reason if p.applies(direction, method) else \
                    "this part does not run a user " + ("direction" if direction is not None else "method")
                v = Verdict("not-applicable", details={"reason": why}, seeds=[seed], elapsed=0.0, mode=mode)
                parts.append(PartResult(p.name, p.statistic, p.breaks, v, replace(v, details=dict(v.details)),
                                        applicable=False))
            by_seed.append(SeedResult(cl.id, seed, mode, parts))
        out.append(ClaimResult(cl, by_seed))
    return out


def run_user(claims=None, direction=None, method=None, mode: str = "quick", seeds=(0,), report_dir=None,
             progress=None, executor=None, assumptions: AssumptionReport | None = None, baseline=None) -> UserRun:
    """Assumptions, then the claims (default: every ``gsgd`` claim) with the user's object.

    ``assumptions``: an AssumptionReport already made (the CLI prints it before the claims run).
    ``baseline``: an earlier results.json document, compared in the report (``verify.ci.compare``).
    A claim none of whose parts runs a user object is "not applicable":

    >>> import stochopt
    >>> run = run_user("schedules.two-timescale", direction=stochopt.directions.Sign(), progress=False)
    >>> run.assumptions.ok, run.claims[0].status, run.ok
    (True, 'not applicable', False)
    """
    from . import registry
    from .registry import MODES, claims as select_claims, parse_seeds

    if (direction is None) == (method is None):
        raise ValueError("give either a direction or a method (not both, not neither)")
    if mode not in MODES:
        raise ValueError(f"mode must be 'quick' or 'full'; got {mode!r}")
    seeds = parse_seeds(seeds)
    selected = select_claims(claims if claims is not None else "gsgd")
    out_dir = None
    if report_dir is not None:
        from .report import prepare_report_dir

        out_dir = prepare_report_dir(report_dir)
    if assumptions is None:
        assumptions = direction_assumptions(direction) if direction is not None else method_assumptions(method)
    if assumptions.ok:
        results = registry.run_claims([c.id for c in selected], mode=mode, seeds=seeds, progress=progress,
                                      executor=executor, direction=direction, method=method)
    else:
        results = _not_applicable_results(selected, mode, seeds, assumptions.reason(), direction, method)
    if out_dir is not None:
        from .report import write_report

        describe = getattr(executor, "describe", None)
        write_report(results, out_dir, mode=mode, seeds=seeds, load_errors=registry.load_errors(),
                     executor=describe() if describe else None, direction=direction, method=method,
                     assumptions=assumptions, baseline=baseline)
    return UserRun(assumptions, results, out_dir)


def check_direction(direction, claims=None, mode: str = "quick", seeds=(0,), report_dir=None, progress=False,
                    executor=None) -> UserRun:
    """The framework's assumptions on ``direction``, then the claims (default ``gsgd``) run on it.

    ``direction``: a ``stochopt.directions.Direction`` subclass or instance, or "module:name".
    Returns a ``UserRun`` (``.assumptions``, ``.claims``: the ClaimResults, ``.ok``).

    >>> import numpy as np, stochopt
    >>> from verify.registry import Claim, decide, unregister
    >>> claim = Claim("doc.user-direction", statement="s", source="doc", sizes={"quick": {}, "full": {}})
    >>> @claim.part("descends", statistic="-<select(1), 1>; lower is good; threshold 0", uses=("direction",))
    ... def descends(ctx):
    ...     return decide(-ctx.directions(["sign"])[0].select(np.ones(3)).sum(), 0.0)
    >>> @descends.control(breaks="the opposite direction")
    ... def ascends(ctx):
    ...     return decide(ctx.directions(["sign"])[0].select(np.ones(3)).sum(), 0.0)
    >>> run = check_direction(stochopt.directions.ClipNorm(0.5), claims="doc.user-direction")
    >>> run.ok, run.claims[0].status
    (True, 'verified')
    >>> unregister("doc.user-direction")
    """
    return run_user(claims, direction=direction, mode=mode, seeds=seeds, report_dir=report_dir, progress=progress,
                    executor=executor)


def check_method(method, claims=None, mode: str = "quick", seeds=(0,), report_dir=None, progress=False,
                 executor=None) -> UserRun:
    """The method contract on ``method``, then the claims (default ``gsgd``) run on it.

    ``method``: a factory ``(lr, momentum_lr) -> stochopt.Method``, a stochopt method factory, a
    ``torch.optim.Optimizer`` subclass, or "module:name". Returns a ``UserRun``.

    >>> import numpy as np
    >>> from verify.registry import Claim, decide, unregister
    >>> claim = Claim("doc.user-method", statement="s", source="doc", sizes={"quick": {}, "full": {}})
    >>> def first_step(ctx, lr):
    ...     opt = ctx.methods({})["user method"](lr, 0.5)
    ...     return float(np.abs(opt.step(opt.init(np.ones(2)), np.ones(2)).x - 1).max())
    >>> @claim.part("a step of size lr/2", statistic="|x_1 - x_0|; lower is good; threshold 0.1", uses=("method",))
    ... def small(ctx):
    ...     return decide(first_step(ctx, 0.1), 0.1)
    >>> @small.control(breaks="lr 10 times larger")
    ... def large(ctx):
    ...     return decide(first_step(ctx, 1.0), 0.1)
    >>> run = check_method("stochopt:heavy_ball", claims="doc.user-method")
    >>> run.ok, [c.name for c in run.assumptions.checks if c.status == "pass"][:2]
    (True, ['factory', 'shapes'])
    >>> unregister("doc.user-method")
    """
    return run_user(claims, method=method, mode=mode, seeds=seeds, report_dir=report_dir, progress=progress,
                    executor=executor)

