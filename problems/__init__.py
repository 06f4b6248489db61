"""problems: synthetic nonsmooth (finite-sum) problems with known answers and exact oracles.

``problems.get(name, **params)`` builds a problem; ``problems.names()`` lists them and
``problems.table()`` gives one metadata row per problem (for ``stochopt list problems``).
Every problem is batched over leading replica axes, in float64, and the batched result equals
a per-replica loop bit for bit. See docs/problems.md for the formulas and references.

>>> import numpy as np, problems
>>> p = problems.get("l1-regression", n=50, d=4, seed=0)
>>> p.dim, p.n_samples
(4, 50)
>>> x = np.zeros((8, 4)); idx = np.zeros((8, 5), dtype=int)
>>> p.oracle(x, idx).shape, p.value(x).shape
((8, 4), (8,))
>>> problems.get("cb22")
Traceback (most recent call last):
...
ValueError: unknown problem 'cb22'. Did you mean 'cb2', 'cb3'? Accepted: ...
"""
from __future__ import annotations

import difflib
import inspect

from ._base import FiniteSum, Problem
from . import artifacts, classic, finite_sums, mlp, noisy, noisy_logcosh, scalable, smooth, two_layer

__all__ = ["Problem", "FiniteSum", "get", "names", "table", "canonical_name", "REGISTRY"]

#: name -> problem class (each class takes keyword parameters only).
REGISTRY = {
    "cb2": classic.CB2,
    "cb3": classic.CB3,
    "dem": classic.DEM,
    "ql": classic.QL,
    "lq": classic.LQ,
    "mifflin1": classic.Mifflin1,
    "mifflin2": classic.Mifflin2,
    "crescent": classic.Crescent,
    "rosen-suzuki": classic.RosenSuzuki,
    "maxq": scalable.MaxQ,
    "mxhilb": scalable.MxHilb,
    "chained-lq": scalable.ChainedLQ,
    "chained-cb3-1": scalable.ChainedCB3I,
    "chained-cb3-2": scalable.ChainedCB3II,
    "active-faces": scalable.ActiveFaces,
    "brown2": scalable.Brown2,
    "chained-mifflin2": scalable.ChainedMifflin2,
    "chained-crescent-1": scalable.ChainedCrescentI,
    "chained-crescent-2": scalable.ChainedCrescentII,
    "chebyshev-rosenbrock-1": scalable.ChebyshevRosenbrock1,
    "chebyshev-rosenbrock-2": scalable.ChebyshevRosenbrock2,
    "l1-regression": finite_sums.L1Regression,
    "hinge-svm": finite_sums.HingeSVM,
    "max-affine": finite_sums.MaxAffine,
    "lasso": finite_sums.Lasso,
    "phase-retrieval": finite_sums.PhaseRetrieval,
    "quadratic": finite_sums.Quadratic,
    "logistic": finite_sums.Logistic,
    "noisy-quadratic": noisy.NoisyQuadratic,
    "noisy-logcosh": noisy_logcosh.NoisyLogCosh,
    "relu-mlp": mlp.ReluMLP,
    "two-layer-relu": two_layer.TwoLayerReLU,
    "artifact-relu-difference": artifacts.ReluDifference,
    "artifact-zero": artifacts.ReluZero,
    "artifact-shifted-quadratic": artifacts.ShiftedQuadratic,
    "artifact-sum-rule": artifacts.SumRule,
    "separable-quadratic": smooth.SeparableQuadratic,
    "smooth-nonconvex": smooth.SmoothNonconvex,
}


def names() -> list:
    """All registered problem names, in table order.

    >>> import problems
    >>> problems.names()[:3]
    ['cb2', 'cb3', 'dem']
    """
    return list(REGISTRY)


def get(name: str, **params) -> Problem:
    """Build the problem ``name`` with keyword parameters (see each class for its parameters).

    >>> import problems
    >>> problems.get("chained-lq", n=5).dim
    5
    >>> problems.get("chained-lq", m=5)
    Traceback (most recent call last):
    ...
    TypeError: problem 'chained-lq' has no parameter 'm'; accepted: n
    >>> problems.get("L1_Regression").name      # other spellings are normalised
    'l1-regression'
    """
    name = canonical_name(name)
    cls = REGISTRY[name]
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    for key in params:
        if key not in accepted:
            raise TypeError(f"problem {name!r} has no parameter {key!r}; accepted: {', '.join(accepted) or '(none)'}")
    return cls(**params)


def canonical_name(name) -> str:
    """The registered spelling of a problem name: lower case, words joined by hyphens.

    "l1_regression", "L1-Regression" and "l1 regression" all mean "l1-regression". An unknown
    name raises ValueError listing close matches.

    >>> import problems
    >>> problems.canonical_name("Chained_CB3_1")
    'chained-cb3-1'
    """
    if not isinstance(name, str):
        raise TypeError(f"a problem name must be a string (see problems.names()); got {name!r}")
    spelled = "-".join(name.strip().lower().replace("_", " ").replace("-", " ").split())
    if spelled in REGISTRY:
        return spelled
    close = difflib.get_close_matches(spelled, list(REGISTRY), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValueError(f"unknown problem {name!r}.{hint} Accepted: {', '.join(map(repr, REGISTRY))}")


def table() -> list:
    """One metadata row per problem at its default parameters: name, dim, n_samples, convex,
    f_star, reference, clarke (exact Clarke subdifferential available), formula.

    >>> import problems
    >>> row = problems.table()[0]
    >>> row["name"], row["dim"], row["convex"], row["clarke"]
    ('cb2', 2, True, True)
    """
    rows = []
    for name, cls in REGISTRY.items():
        row = cls().describe()
        row["formula"] = cls.formula
        rows.append(row)
    return rows
