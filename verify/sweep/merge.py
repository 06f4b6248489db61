"""Merging a sweep's tasks into ``sweep.npz`` + ``sweep.json`` and drawing its figures."""
from __future__ import annotations

import io
import json
import os
import warnings

import numpy as np

__all__ = ["merge"]


def _place(arr, task, R):
    """A task's array with its replica axis (last) split into (grid points of the task, replicas)."""
    G = len(task.points)
    if arr.ndim == 1:                      # per replica: (G*R,) -> (G, R)
        return arr.reshape(G, R)
    lead = arr.shape[:-1]                  # per record (n, G*R) or goldstein (eps, n, G*R)
    return np.moveaxis(arr.reshape(*lead, G, R), -2, 0)


def merge(result, tasks, outcomes):
    from stochopt.engine import atomic_write

    from ..report import versions

    spec = result.spec
    seeds, R = spec.seeds, spec.replicas
    n_points = int(np.prod(spec.shape))
    arrays = {}
    k = None
    prints = []
    for task in tasks:
        outcome = outcomes[task.key]
        if outcome.fingerprint not in prints:
            prints.append(outcome.fingerprint)
        s = seeds.index(task.seed)
        for name, arr in outcome.arrays.items():
            if name == "k":
                k = arr
                continue
            placed = _place(arr, task, R)
            if name not in arrays:
                arrays[name] = np.full((len(seeds), n_points) + placed.shape[1:], np.nan)
            arrays[name][s, list(task.points)] = placed
    if len(prints) > 1:
        warnings.warn("the tasks were computed on workers with different fingerprints (numpy/SIMD/BLAS): "
                      "bit-identity across splits holds per instruction set only; sweep.json lists them")
    result.arrays, result.k, result.fingerprints = arrays, k, prints
    grid = {f"grid__{v}": np.asarray(vals) for v, vals in spec.grid.items()}
    buf = io.BytesIO()
    np.savez_compressed(buf, k=k, seeds=np.asarray(seeds), **grid, **arrays)
    atomic_write(os.path.join(result.out, "sweep.npz"), lambda f: f.write(buf.getvalue()))
    from .figures import draw

    result.figures = draw(result)
    doc = {"format": "stochopt-sweep-merged-1", "name": spec.name, "description": spec.description,
           "spec": spec.text, "grid": spec.grid, "axes": list(spec.grid), "seeds": seeds, "replicas": R,
           "shapes": {n: list(a.shape) for n, a in arrays.items()},
           "array_axes": "statistic[seed, grid point (C order over axes), record, replica]; goldstein and "
                         "clarke_distance[seed, point, eps or tol, record, replica]; per-replica statistics "
                         "[seed, point, replica]",
           "statistics": {n: STATISTIC_TEXT.get(n, n) for n in spec.statistics},
           "tasks": [{"key": t.key, "seed": t.seed, "points": list(t.points),
                      "fingerprint": outcomes[t.key].fingerprint} for t in tasks],
           "fingerprints": prints, "versions": versions(), "figures": result.figures,
           "computed": result.computed, "skipped": result.skipped}
    atomic_write(os.path.join(result.out, "sweep.json"), lambda f: f.write(json.dumps(doc, indent=2).encode()))
    stale = os.path.join(result.out, "failures.json")
    if os.path.exists(stale):
        os.unlink(stale)
    return result


from .spec import STATISTICS as STATISTIC_TEXT  # noqa: E402
