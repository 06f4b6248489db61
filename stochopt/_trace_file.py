"""Reading a trace file without trusting it (``Trace.load``).

Order of the checks: the file is a zip archive of ``.npy`` arrays; every array's header
(shape, dtype) is read without its data; the JSON header is parsed with bounded size; the
metadata has the fields and types a trace has; every declared shape agrees with the header
(records, replicas, dimension) and the total fits in memory. Only then are the arrays read,
and their values checked (step counts increasing, the final step the last record, ...).
"""
from __future__ import annotations

import json
import types
import zipfile

import numpy as np

from .base import State
from .trace import FORMAT, MAX_HEADER_CHARS, available_memory

_PER_RECORD = ("value", "time", "momentum_norm")
_REQUIRED = ("k", "value", "time", "momentum_norm", "diverged_step", "final_x", "final_time", "final_k", "header_json")
_OPTIONAL = ("x", "replica_ids")
_META_TYPES = {"steps": int, "replicas": int, "record_every": int, "seed": int, "method": dict, "problem": str}


def read_trace(cls, path: str):
    """The Trace stored at ``path``; ValueError naming the problem when the file is not a valid trace."""
    if not zipfile.is_zipfile(path):
        kind = " (it is an .npy array file)" if _is_npy(path) else ""
        raise ValueError(f"{path} is not a stochopt trace: not an .npz archive{kind}")
    with np.load(path, allow_pickle=False) as data:
        declared = _declared_arrays(data.zip, path)
        header = _read_header(data, declared, path)
        _check_declared_shapes(declared, header, path)
        _check_memory(declared, path)
        arrays = {name: data[name] for name in declared if name != "header_json"}
    return _build(cls, arrays, header, path)


def _is_npy(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(6) == b"\x93NUMPY"


def _bad(path: str, why: str) -> ValueError:
    return ValueError(f"{path} is not a valid stochopt trace: {why}")


def _declared_arrays(archive: zipfile.ZipFile, path: str) -> dict:
    """name -> (shape, dtype) from each member's .npy header, reading no array data."""
    declared = {}
    for member in archive.namelist():
        name = member[:-4] if member.endswith(".npy") else member
        known = name in _REQUIRED or name in _OPTIONAL or name.startswith(("hyper__", "buffer__"))
        if not member.endswith(".npy") or not known:
            raise _bad(path, f"unexpected member {member!r}")
        with archive.open(member) as f:
            try:
                version = np.lib.format.read_magic(f)
                reader = {(1, 0): np.lib.format.read_array_header_1_0,
                          (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if reader is None:
                    raise ValueError(f"unsupported .npy version {version}")
                shape, _, dtype = reader(f, max_header_size=10_000)
            except ValueError as exc:
                raise _bad(path, f"array {name!r} has a damaged header ({exc})") from None
        if dtype.hasobject:
            raise _bad(path, f"array {name!r} holds Python objects (a pickle); refused")
        declared[name] = (tuple(shape), dtype)
    missing = [n for n in _REQUIRED if n not in declared]
    if missing:
        raise _bad(path, f"missing arrays {', '.join(missing)}")
    return declared


def _read_header(data, declared: dict, path: str) -> dict:
    shape, dtype = declared["header_json"]
    if shape != () or dtype.kind != "U" or dtype.itemsize // 4 > MAX_HEADER_CHARS:
        raise _bad(path, f"the header must be one JSON string of at most {MAX_HEADER_CHARS} characters")
    try:
        header = json.loads(str(data["header_json"]))
    except (ValueError, RecursionError) as exc:
        raise _bad(path, f"the header is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise _bad(path, f"the header is not a {FORMAT!r} header (format {found!r})")
    meta = header.get("meta")
    if not isinstance(meta, dict):
        raise _bad(path, "the header has no 'meta' object")
    for key, kind in _META_TYPES.items():
        value = meta.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _bad(path, f"meta[{key!r}] must be a {kind.__name__}; got {value!r}")
    if meta["replicas"] < 1 or meta["record_every"] < 1 or meta["steps"] < 0:
        raise _bad(path, "meta replicas and record_every must be >= 1 and steps >= 0")
    reasons = header.get("diverged_reason")
    if not isinstance(reasons, list) or len(reasons) != meta["replicas"] or not all(isinstance(r, str) for r in reasons):
        raise _bad(path, f"diverged_reason must be a list of {meta['replicas']} strings (one per replica)")
    return header


def _check_declared_shapes(declared: dict, header: dict, path: str) -> None:
    """Every array's declared shape and dtype against (records, replicas, dim) of the header."""
    meta = header["meta"]
    replicas = meta["replicas"]
    final_x = declared["final_x"][0]
    if len(final_x) != 2 or final_x[0] != replicas:
        raise _bad(path, f"final_x must have shape ({replicas}, d) for {replicas} replicas; declared {final_x}")
    dim = final_x[1]
    records = declared["k"][0][0] if len(declared["k"][0]) == 1 else -1
    most = meta["steps"] // meta["record_every"] + 2
    if not 1 <= records <= most:
        raise _bad(path, f"k must hold between 1 and {most} records (steps / record_every + 2); "
                         f"declared shape {declared['k'][0]}")
    stated = header.get("shape", {"records": records, "replicas": replicas, "dim": dim})
    if stated != {"records": records, "replicas": replicas, "dim": dim}:
        raise _bad(path, f"the header states shape {stated}, the arrays {records} records, {replicas} replicas, "
                         f"dimension {dim}")
    expect = {"k": ((records,), "iu"), "x": ((records, replicas, dim), "f"), "diverged_step": ((replicas,), "iu"),
              "final_x": ((replicas, dim), "f"), "final_time": ((replicas,), "f"), "final_k": ((), "iu"),
              "replica_ids": ((replicas,), "iu"), **{n: ((records, replicas), "f") for n in _PER_RECORD}}
    for name, (shape, dtype) in declared.items():
        if name.startswith("hyper__"):
            want = ((records, replicas), "f")
        elif name.startswith("buffer__"):
            if not shape or shape[0] != replicas or np.prod(shape, dtype=float) > 64.0 * replicas * dim:
                raise _bad(path, f"buffer {name[8:]!r} must have shape ({replicas}, ...) and at most 64 values "
                                 f"per coordinate; declared {shape}")
            want = (shape, "fiu")
        else:
            want = expect.get(name, (shape, dtype.kind))
        if shape != want[0] or dtype.kind not in want[1]:
            raise _bad(path, f"array {name!r} must have shape {want[0]} and a {'float' if want[1] == 'f' else 'numeric'} "
                             f"dtype; declared shape {shape}, dtype {dtype}")


def _check_memory(declared: dict, path: str) -> None:
    total = sum(float(np.prod(shape, dtype=float)) * dtype.itemsize for shape, dtype in declared.values())
    free = available_memory()
    if free is not None and total > free:
        raise ValueError(f"{path}: its arrays need {total / 2**30:.2f} GiB, more than the "
                         f"{free / 2**30:.2f} GiB of memory available; refused before reading")


def _build(cls, arrays: dict, header: dict, path: str):
    k, final_k = arrays["k"], int(arrays["final_k"])
    # final_k is the last record, or beyond it in a checkpoint written between two records
    if k[0] < 0 or np.any(np.diff(k) <= 0) or not int(k[-1]) <= final_k <= header["meta"]["steps"]:
        raise _bad(path, f"recorded steps must increase from k >= 0 up to final_k <= steps; got k = "
                         f"{k[:3].tolist()}...{k[-2:].tolist()}, final_k = {final_k}")
    diverged = arrays["diverged_step"]
    if np.any(diverged < -1) or np.any(diverged > final_k):
        raise _bad(path, f"diverged_step must be -1 or a step in [0, {final_k}]")
    ids = arrays.get("replica_ids")
    if ids is not None and np.any(ids < 0):
        raise _bad(path, "replica_ids must be non-negative")
    buffers = {n[len("buffer__"):]: v for n, v in arrays.items() if n.startswith("buffer__")}
    hyper = {n[len("hyper__"):]: v for n, v in arrays.items() if n.startswith("hyper__")}
    state = State(x=arrays["final_x"], k=final_k, buffers=types.MappingProxyType(buffers), replica_ids=ids)
    return cls(k.astype(np.int64), arrays.get("x"), arrays["value"], arrays["time"], hyper,
               arrays["momentum_norm"], diverged.astype(np.int64), list(header["diverged_reason"]), state,
               arrays["final_time"], header["meta"])
