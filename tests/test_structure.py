"""The layout rules of the project (issues 12, 13), checked on the source tree.

- stochopt and problems import nothing of verify, and nothing of each other;
- a claim module (one per claim, or per small group of claims on one theorem) stays short;
- a function of the methods and problems packages stays short (a method is its update rule built
  from named pieces, not a flag-driven block).
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLAIM_MODULE_LINES = 250
FUNCTION_LINES = 60


def _modules(package):
    return sorted((ROOT / package).rglob("*.py"))


def _imported_roots(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("package, forbidden", [("stochopt", {"verify", "problems"}),
                                                ("problems", {"verify", "stochopt"})])
def test_layering(package, forbidden):
    bad = {f"{p.relative_to(ROOT)} imports {root}" for p in _modules(package) for root in _imported_roots(p)
           if root in forbidden}
    assert not bad, sorted(bad)


def test_claim_modules_are_short():
    """Shared helpers of a family start with an underscore; every other module there holds claims."""
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "verify" / "families").rglob("*.py")
            if not p.name.startswith("_") and (n := len(p.read_text().splitlines())) > CLAIM_MODULE_LINES}
    assert not long, f"claim modules over {CLAIM_MODULE_LINES} lines: {long}"


def _body_lines(fn):
    """Lines of a function from its first statement after the docstring to its end."""
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str) and len(body) > 1:
        body = body[1:]
    return fn.end_lineno - body[0].lineno + 1


@pytest.mark.parametrize("package", ["stochopt", "problems"])
def test_functions_are_short(package):
    long = {}
    for path in _modules(package):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _body_lines(node) > FUNCTION_LINES:
                long[f"{path.relative_to(ROOT)}:{node.name}"] = _body_lines(node)
    assert not long, f"functions over {FUNCTION_LINES} lines (docstring excluded): {long}"
