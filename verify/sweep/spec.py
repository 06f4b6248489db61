"""The sweep spec: a TOML file naming a method, a grid over its hyperparameters, a problem, seeds,
replicas, steps, the statistics, and the figures. Read with the standard library (``tomllib``) and
validated as a whole before any task runs: every error names the key and its line in the file.

A grid variable ``$name`` may appear anywhere in ``[method]`` (including inside a schedule table
``{ type = "polynomial", a = "$lr0", b = 10.0, p = 0.75 }``), in ``[problem]`` and in the run keys
``batch_size`` and ``x0_radius`` of ``[sweep]``. Variables used only in ``[method]`` vary per replica
inside one task (one array program covers a line of the grid); the others split tasks.

>>> spec = parse_spec('''
... [sweep]
... name = "demo"
... seeds = "0:2"
... replicas = 4
... steps = 50
... record_every = 10
... statistics = ["f", "momentum_norm"]
... [problem]
... name = "crescent"
... [method]
... name = "heavy_ball"
... lr = "$lr"
... momentum = 0.9
... [grid]
... lr = [0.001, 0.01]
... ''')
>>> spec.grid, spec.seeds, spec.vectorized
({'lr': [0.001, 0.01]}, [0, 1], ('lr',))
"""
from __future__ import annotations

import ast
import inspect
import os
import re
from dataclasses import dataclass, field

__all__ = ["SweepSpec", "SpecError", "parse_spec", "load_spec", "STATISTICS", "evaluate_condition"]

#: statistic name -> what it is (computed at the recorded steps of every replica).
STATISTICS = {
    "f": "f(x_k), the full objective",
    "f_gap": "f(x_k) - f*, where the problem knows f*",
    "momentum_norm": "||m_k|| of the method's momentum buffer",
    "clarke_distance": ("dist(0, hull of the gradients of the pieces active within each tol of "
                        "[statistics] clarke_tol (default [1e-9]: the exact Clarke subdifferential)) at x_k"),
    "goldstein": "sampled Goldstein eps-measure at each eps of [statistics.goldstein] (NaN where uncertified)",
    "lyapunov_increase_share": ("sum of increases of H_k = f(x_k) + phi(m_k)/tau_k after the first 20% of the "
                                "records over H_0 - min H (framework methods: lr and momentum_lr)"),
    "diverged": "1 where the replica diverged and was frozen, else 0",
}
RUN_KEYS = ("batch_size", "x0_radius")
SWEEP_KEYS = {"name", "description", "seeds", "replicas", "steps", "record_every", "statistics", "points_per_task",
              *RUN_KEYS}


class SpecError(ValueError):
    """A sweep spec that cannot run: the message names the key and its line."""


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec (see the module docstring for the file format)."""

    name: str
    method: dict
    problem: dict
    grid: dict
    seeds: list
    replicas: int
    steps: int
    record_every: int
    statistics: list
    run: dict = field(default_factory=dict)
    goldstein: dict = field(default_factory=dict)
    clarke_tol: list = field(default_factory=lambda: [1e-9])
    figures: list = field(default_factory=list)
    points_per_task: int | None = None
    description: str = ""
    text: str = ""
    path: str | None = None

    @property
    def vectorized(self) -> tuple:
        """Grid variables that vary per replica inside a task (used only in [method])."""
        elsewhere = _variables(self.problem) | _variables(self.run)
        return tuple(v for v in self.grid if v not in elsewhere)

    @property
    def split(self) -> tuple:
        return tuple(v for v in self.grid if v not in self.vectorized)

    @property
    def shape(self) -> tuple:
        return tuple(len(v) for v in self.grid.values())

    def line_of(self, section: str, key: str) -> int | None:
        return line_of(self.text, section, key)

    def where(self, section: str, key: str) -> str:
        line = self.line_of(section, key)
        return f"{self.path or 'spec'}:{line if line else '?'}: [{section}] {key}"


def line_of(text: str, section: str, key: str) -> int | None:
    """1-based line of ``key = ...`` inside ``[section]`` (or of the section header)."""
    current = None
    header = None
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        m = re.match(r"^\[\s*([^\]]+?)\s*\]$", line)
        if m:
            current = m.group(1)
            if current == section:
                header = n
            continue
        if current == section and re.match(rf'^"?{re.escape(key)}"?\s*=', line):
            return n
    return header


def _variables(value) -> set:
    if isinstance(value, str):
        return {value[1:]} if value.startswith("$") else set()
    if isinstance(value, dict):
        return set().union(*(_variables(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_variables(v) for v in value)) if value else set()
    return set()


def load_spec(path) -> SweepSpec:
    """Read and validate a spec file."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise SpecError(f"cannot read the sweep spec {path}: {exc.strerror or exc}") from None
    return parse_spec(text, path)


def parse_spec(text: str, path: str | None = None) -> SweepSpec:
    """Parse and validate a spec given as TOML text."""
    import tomllib

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path or 'spec'}: not valid TOML: {exc}") from None
    where = lambda section, key: f"{path or 'spec'}:{line_of(text, section, key) or '?'}: [{section}] {key}"  # noqa
    for section in ("sweep", "problem", "method", "grid"):
        if not isinstance(doc.get(section), dict):
            raise SpecError(f"{path or 'spec'}: missing section [{section}] (a sweep needs [sweep], [problem], "
                            "[method] and [grid])")
    unknown = set(doc) - {"sweep", "problem", "method", "grid", "statistics", "figures"}
    if unknown:
        raise SpecError(f"{path or 'spec'}: unknown section(s) {sorted(unknown)}")
    sweep = doc["sweep"]
    bad = set(sweep) - SWEEP_KEYS
    if bad:
        key = sorted(bad)[0]
        raise SpecError(f"{where('sweep', key)}: unknown key (accepted: {', '.join(sorted(SWEEP_KEYS))})")
    grid = _grid(doc["grid"], where)
    spec = SweepSpec(
        name=_text(sweep, "name", where, default=os.path.splitext(os.path.basename(path or "sweep"))[0]),
        description=_text(sweep, "description", where, default=""),
        method=dict(doc["method"]), problem=dict(doc["problem"]), grid=grid,
        seeds=_seeds(sweep, where), replicas=_int(sweep, "replicas", where, 1),
        steps=_int(sweep, "steps", where, 1), record_every=_int(sweep, "record_every", where, 1),
        statistics=_statistics(sweep, where), run={k: sweep[k] for k in RUN_KEYS if k in sweep},
        goldstein=dict(doc.get("statistics", {}).get("goldstein", {})), figures=_figures(doc, where),
        clarke_tol=_clarke_tol(doc, where),
        points_per_task=_int(sweep, "points_per_task", where, 1) if "points_per_task" in sweep else None,
        text=text, path=path)
    _check_variables(spec, where)
    _check_names(spec, where)
    return spec


def _text(table, key, where, default):
    value = table.get(key, default)
    if not isinstance(value, str):
        raise SpecError(f"{where('sweep', key)}: must be a string; got {value!r}")
    return value


def _int(table, key, where, low):
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SpecError(f"{where('sweep', key)}: must be an integer >= {low}; got {value!r}")
    return value


def _seeds(sweep, where):
    from ..registry import parse_seeds

    if "seeds" not in sweep:
        raise SpecError(f"{where('sweep', 'seeds')}: missing (e.g. seeds = \"0:4\" or seeds = [0, 1])")
    try:
        return parse_seeds(sweep["seeds"])
    except ValueError as exc:
        raise SpecError(f"{where('sweep', 'seeds')}: {exc}") from None


def _statistics(sweep, where):
    names = sweep.get("statistics")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise SpecError(f"{where('sweep', 'statistics')}: a non-empty list of names from {sorted(STATISTICS)}")
    for n in names:
        if n not in STATISTICS:
            import difflib

            close = difflib.get_close_matches(n, STATISTICS, n=3)
            raise SpecError(f"{where('sweep', 'statistics')}: unknown statistic {n!r}"
                            + (f" (did you mean {', '.join(close)}?)" if close else "")
                            + f"; accepted: {', '.join(sorted(STATISTICS))}")
    return list(names)


def _clarke_tol(doc, where):
    tols = doc.get("statistics", {}).get("clarke_tol", [1e-9])
    if not isinstance(tols, list) or not tols or not all(isinstance(t, (int, float)) and t >= 0 for t in tols):
        raise SpecError(f"{where('statistics', 'clarke_tol')}: a non-empty list of activity tolerances >= 0, "
                        "e.g. clarke_tol = [1e-9, 1e-2]")
    return [float(t) for t in tols]


def _grid(grid, where):
    if not grid:
        raise SpecError(f"{where('grid', '')}: the grid is empty: give at least one axis, e.g. lr = [0.01, 0.1]")
    out = {}
    for var, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SpecError(f"{where('grid', var)}: a grid axis is a non-empty list of values; got {values!r}")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise SpecError(f"{where('grid', var)}: grid values must be numbers; got {values!r}")
        if len(set(values)) != len(values):
            raise SpecError(f"{where('grid', var)}: repeated grid values {values!r}")
        out[var] = list(values)
    return out


def _figures(doc, where):
    figs = doc.get("figures", {})
    out = []
    for name, fig in figs.items():
        if not isinstance(fig, dict) or fig.get("kind") not in ("heatmap", "line"):
            raise SpecError(f"{where('figures', name)}: a figure is a table with kind = \"heatmap\" or \"line\"")
        out.append({"name": name, **fig})
    return out


def _check_variables(spec, where):
    used = _variables(spec.method) | _variables(spec.problem) | _variables(spec.run)
    for var in sorted(used - set(spec.grid)):
        section = "method" if var in _variables(spec.method) else "problem"
        raise SpecError(f"{where(section, '')}: ${var} is used but [grid] has no axis {var!r}")
    for var in spec.grid:
        if var not in used:
            raise SpecError(f"{where('grid', var)}: grid axis {var!r} is not used ($${var} appears nowhere)")
    for fig in spec.figures:
        for axis in ("x", "y"):
            if axis in fig and fig[axis] not in spec.grid:
                raise SpecError(f"{where('figures', fig['name'])}: {axis} = {fig[axis]!r} is not a grid axis")
        if fig.get("statistic") not in spec.statistics:
            raise SpecError(f"{where('figures', fig['name'])}: statistic {fig.get('statistic')!r} is not among the "
                            f"sweep's statistics {spec.statistics}")
        if fig.get("conditions"):
            try:
                evaluate_condition(fig["conditions"], {v: 1.0 for v in spec.grid})
            except ValueError as exc:
                raise SpecError(f"{where('figures', fig['name'])}: conditions: {exc}") from None


def _check_names(spec, where):
    import problems

    from .run import method_factory

    name = spec.method.get("name")
    try:
        factory = method_factory(name)
    except (KeyError, ValueError, TypeError) as exc:
        raise SpecError(f"{where('method', 'name')}: {exc}") from None
    params = inspect.signature(factory).parameters
    for key in spec.method:
        if key != "name" and key not in params:
            raise SpecError(f"{where('method', key)}: {name} has no hyperparameter {key!r}; accepted: "
                            f"{', '.join(params)}")
    pname = spec.problem.get("name")
    if pname is None:
        raise SpecError(f"{where('problem', 'name')}: missing (e.g. name = \"crescent\")")
    try:
        default = problems.get(pname)
    except (ValueError, TypeError) as exc:
        raise SpecError(f"{where('problem', 'name')}: {exc}") from None
    needs = {"f_gap": "f_star", "clarke_distance": "clarke"}
    for stat, attr in needs.items():
        if stat in spec.statistics and getattr(default, attr, None) is None:
            raise SpecError(f"{where('sweep', 'statistics')}: {stat} needs a problem with {attr}; {pname} has none")
    if "goldstein" in spec.statistics:
        eps = spec.goldstein.get("eps")
        if not isinstance(eps, list) or not eps or not all(isinstance(e, (int, float)) and e > 0 for e in eps):
            raise SpecError(f"{where('statistics', 'goldstein')}: give goldstein = {{ eps = [0.01, 0.1], samples = 20 }}")


_ALLOWED = (ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Name, ast.Load, ast.Constant,
            ast.And, ast.Or, ast.Not, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.Lt, ast.LtE,
            ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


def evaluate_condition(expression: str, values: dict):
    """Evaluate an arithmetic condition on grid variables (no calls, no attributes).

    >>> evaluate_condition("tau * lr0 <= 1 and tau > 0", {"tau": 2.0, "lr0": 0.1})
    True
    >>> evaluate_condition("__import__('os')", {})
    Traceback (most recent call last):
    ...
    ValueError: only arithmetic and comparisons of grid variables are allowed; got Call
    """
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"only arithmetic and comparisons of grid variables are allowed; got {type(node).__name__}")
        if isinstance(node, ast.Name) and node.id not in values:
            raise ValueError(f"unknown variable {node.id!r} (grid axes: {', '.join(values)})")
    return eval(compile(tree, "<condition>", "eval"), {"__builtins__": {}}, dict(values))  # noqa: S307 - checked
