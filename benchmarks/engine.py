"""Replica-steps per second of ``stochopt.run`` against the peers a user would pick, in one run.

Work, the same for every peer: heavy ball (lr 0.01, momentum 0.9, i.e. m = 0.9 m + 0.1 g,
x = x - lr m) on R replicas, each drawing its own minibatch of row indices per step, gathering
those rows and taking the mean minibatch subgradient; f is evaluated at the start and at the
end (stochopt.run's two records with record_every = steps). Three workloads:

- memory-bound: l1 regression (N = 1000, d = 100), R = 1024, minibatch 10, 200 steps;
- claims' size: l1 regression (N = 40, d = 5), R = 24, minibatch 1, 4000 steps;
- ReLU network: problems' relu-mlp (one hidden layer of 16, 5 inputs, N = 200, d = 113 weights),
  R = 64, minibatch 8, 500 steps (backprop with relu'(0) = 0 everywhere).

Peers: JAX (``jit`` of ``lax.scan`` over steps of a ``vmap`` over replicas, float64; compile
time measured apart and not counted), ``torch.optim.SGD`` on one (R, d) parameter tensor, and
a Python loop over replicas calling ``Method.step`` (timed on fewer steps). A peer that is not
installed is skipped with a message (``pip install stochopt[bench]`` installs JAX).

Machines are noisy and shared: read the ratios, measured back to back in one run, not the
absolute times. Each time is the best of ``--repeats`` runs (wall clock). On a machine busy with
other work, a peer running two threads gets twice the CPU share of a one-thread peer; ``--cores 1``
pins the whole benchmark (every peer, JAX's and torch's thread pools included) to one core, which
compares the same CPU time. Usage::

    python benchmarks/engine.py [--repeats 3] [--workloads memory claims relu] [--cores N]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import problems  # noqa: E402
import stochopt  # noqa: E402
from stochopt import streams  # noqa: E402

LR, MOMENTUM = 0.01, 0.9


@dataclass(frozen=True)
class Workload:
    name: str
    problem: str
    params: dict
    replicas: int
    batch: int
    steps: int
    loop_steps: int  # steps for the (slow) per-replica Python loop


WORKLOADS = {
    "memory": Workload("memory-bound", "l1-regression", {"n": 1000, "d": 100, "seed": 0}, 1024, 10, 200, 5),
    "claims": Workload("claims' size", "l1-regression", {"n": 40, "d": 5, "seed": 0}, 24, 1, 4000, 200),
    "relu": Workload("ReLU network", "relu-mlp", {"hidden": (16,), "n": 200, "d_in": 5, "seed": 0}, 64, 8, 500, 20),
}


def best_of(fn, repeats: int) -> np.ndarray:
    """Least (wall-clock, CPU) seconds of ``repeats`` calls; CPU time sums the process's threads."""
    times = []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    return np.min(np.array(times), axis=0)


# ---------------------------------------------------------------------- stochopt
def run_stochopt(w: Workload, p):
    opt = stochopt.heavy_ball(lr=LR, momentum=MOMENTUM)
    return lambda: stochopt.run(opt, p, steps=w.steps, replicas=w.replicas, batch_size=w.batch, seed=0,
                                record_every=w.steps, progress=False)


def run_loop(w: Workload, p):
    """One oracle call and one Method.step per replica per step: what the engine replaces."""
    opt = stochopt.heavy_ball(lr=LR, momentum=MOMENTUM)
    cols = np.arange(w.batch)[None, :]

    def loop():
        states = [opt.init(p.x0[None], replica_ids=[r]) for r in range(w.replicas)]
        for k in range(w.loop_steps):
            for r in range(w.replicas):
                idx = streams.integers(p.n_samples, 0, streams.BATCH, np.array([[r]]), k, cols)
                states[r] = opt.step(states[r], p.oracle(states[r].x, idx))
    return loop


# ---------------------------------------------------------------------- JAX
def jax_runner(w: Workload, p):
    """(compile_seconds, run) for the workload in JAX, or None when JAX is not installed."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    loss = _jax_l1(jnp, p) if w.problem == "l1-regression" else _jax_mlp(jnp, p)
    grad = jax.grad(loss)
    R, b, N, steps = w.replicas, w.batch, p.n_samples, w.steps

    def value(x):
        return jax.vmap(lambda xr: loss(xr, jnp.arange(N)))(x)

    def body(carry, k):
        x, m, key = carry
        idx = jax.random.randint(jax.random.fold_in(key, k), (R, b), 0, N)
        g = jax.vmap(grad)(x, idx)
        m = MOMENTUM * m + (1 - MOMENTUM) * g
        return (x - LR * m, m, key), None

    @jax.jit
    def run(x0, key):
        (x, _, _), _ = jax.lax.scan(body, (x0, jnp.zeros_like(x0), key), jnp.arange(steps))
        return x, value(x0), value(x)

    x0 = jnp.asarray(np.broadcast_to(p.x0, (R, p.dim)))
    key = jax.random.PRNGKey(0)
    t0 = time.perf_counter()
    jax.block_until_ready(run(x0, key))
    return time.perf_counter() - t0, lambda: jax.block_until_ready(run(x0, key))


def _jax_l1(jnp, p):
    A, b = jnp.asarray(p.A), jnp.asarray(p.b)

    def loss(x, idx):
        return jnp.mean(jnp.abs(A[idx] @ x - b[idx]))
    return loss


def _jax_mlp(jnp, p):
    X, y = jnp.asarray(p.X), jnp.asarray(p.y)
    (h, d_in), sizes = p.shapes[0], [int(np.prod(s)) for s in p.shapes]
    cut = np.cumsum(sizes)[:-1]

    def loss(x, idx):
        W1, b1, W2, b2 = jnp.split(x, cut)
        hidden = jnp.maximum(X[idx] @ W1.reshape(h, d_in).T + b1, 0.0)
        out = hidden @ W2 + b2[0]
        return jnp.mean(0.5 * (out - y[idx]) ** 2)
    return loss


# ---------------------------------------------------------------------- torch
def torch_runner(w: Workload, p):
    try:
        import torch
    except ImportError:
        return None
    loss_fn = _torch_l1(torch, p) if w.problem == "l1-regression" else _torch_mlp(torch, p)
    R, b, N = w.replicas, w.batch, p.n_samples
    all_idx = torch.arange(N).expand(R, N)

    def run():
        x = torch.nn.Parameter(torch.from_numpy(np.array(np.broadcast_to(p.x0, (R, p.dim)))))
        sgd = torch.optim.SGD([x], lr=LR, momentum=MOMENTUM, dampening=MOMENTUM)
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            loss_fn(x, all_idx)
        for _ in range(w.steps):
            idx = torch.randint(N, (R, b), generator=gen)
            sgd.zero_grad(set_to_none=True)
            loss_fn(x, idx).sum().backward()  # per-replica losses are independent: the sum's gradient
            sgd.step()
        with torch.no_grad():
            loss_fn(x, all_idx)
    return run


def _torch_l1(torch, p):
    A, b = torch.from_numpy(np.ascontiguousarray(p.A)), torch.from_numpy(np.ascontiguousarray(p.b))

    def loss(x, idx):
        return (torch.einsum("rbd,rd->rb", A[idx], x) - b[idx]).abs().mean(-1)
    return loss


def _torch_mlp(torch, p):
    X, y = torch.from_numpy(np.ascontiguousarray(p.X)), torch.from_numpy(np.ascontiguousarray(p.y))
    (h, d_in), sizes = p.shapes[0], [int(np.prod(s)) for s in p.shapes]

    def loss(x, idx):
        W1, b1, W2, b2 = torch.split(x, sizes, dim=1)
        hidden = torch.relu(torch.einsum("rbi,rhi->rbh", X[idx], W1.reshape(-1, h, d_in)) + b1[:, None, :])
        out = torch.einsum("rbh,rh->rb", hidden, W2) + b2
        return (0.5 * (out - y[idx]) ** 2).mean(-1)
    return loss


# ---------------------------------------------------------------------- bandwidth
def copy_bandwidth(repeats: int = 5) -> float:
    """Bytes per second moved by a large array copy (read + write), best of ``repeats``."""
    src = np.ones(2**23)  # 64 MiB, beyond the caches
    dst = np.empty_like(src)
    return 2 * src.nbytes / best_of(lambda: np.copyto(dst, src), repeats)[1]


def bytes_per_step(w: Workload, p) -> dict:
    """Memory traffic of one step of the l1 workload, as the engine computes it and at the least."""
    R, b, d = w.replicas, w.batch, p.dim
    state = 6 * R * d * 8  # x, m, g: each written once and read once
    gathered = 3 * R * b * d * 8  # rows A[idx] written once, read by two contractions
    return {"least": state, "engine": state + gathered}


# ---------------------------------------------------------------------- main
def measure(w: Workload, repeats: int) -> dict:
    """Replica-steps per second of each peer as arrays (wall clock, CPU time)."""
    p = problems.get(w.problem, **w.params)
    steps_done = w.replicas * w.steps
    out = {"stochopt": steps_done / best_of(run_stochopt(w, p), repeats)}
    jax_peer = jax_runner(w, p)
    if jax_peer is None:
        print("  jax not installed: JAX comparison skipped (pip install 'stochopt[bench]')")
    else:
        out["jax_compile_s"] = jax_peer[0]
        out["jax"] = steps_done / best_of(jax_peer[1], repeats)
    torch_peer = torch_runner(w, p)
    if torch_peer is None:
        print("  torch not installed: torch.optim comparison skipped")
    else:
        out["torch"] = steps_done / best_of(torch_peer, repeats)
    out["loop"] = w.replicas * w.loop_steps / best_of(run_loop(w, p), 1)
    if w.problem == "l1-regression" and w.replicas >= 1024:
        bw = copy_bandwidth()
        out["bandwidth_GBps"] = bw / 1e9
        out["bound_us"] = {k: v / bw * 1e6 for k, v in bytes_per_step(w, p).items()}
        out["engine_us"] = w.replicas / out["stochopt"] * 1e6
    return out


def table(rows, column: int, title: str) -> None:
    targets = {"memory": 1.0, "claims": 0.5}
    print(f"\n{title}")
    print(f"{'workload':<14} {'stochopt.run':>13} {'JAX':>11} {'ratio':>7} {'torch':>11} {'ratio':>7} "
          f"{'loop':>10} {'ratio':>7}  target")
    for key, w, r in rows:
        def cell(peer):
            if peer not in r:
                return f"{'-':>11} {'-':>7}"
            return f"{r[peer][column]:>11,.0f} {r['stochopt'][column] / r[peer][column]:>6.2f}x"
        target = f">= {targets[key]}x JAX" if key in targets else ""
        print(f"{w.name:<14} {r['stochopt'][column]:>13,.0f} {cell('jax')} {cell('torch')} "
              f"{r['loop'][column]:>10,.0f} {r['stochopt'][column] / r['loop'][column]:>6.1f}x  {target}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    ap.add_argument("--cores", type=int, default=None, help="pin the benchmark to this many cores")
    args = ap.parse_args(argv)
    if args.cores is not None:  # before JAX or torch start their thread pools
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
        os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={'false' if args.cores == 1 else 'true'}"
        try:
            import torch

            torch.set_num_threads(args.cores)
        except ImportError:
            pass
    print(f"cores: {len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f}")
    rows = []
    for key in args.workloads:
        w = WORKLOADS[key]
        print(f"{w.name}: {w.problem} {w.params}, R = {w.replicas}, minibatch {w.batch}, {w.steps} steps")
        r = measure(w, args.repeats)
        rows.append((key, w, r))
        if "bound_us" in r:
            print(f"  copy bandwidth {r['bandwidth_GBps']:.1f} GB/s: a step moves at least "
                  f"{r['bound_us']['least']:.0f} us of traffic (state only), {r['bound_us']['engine']:.0f} us as "
                  f"computed (with the gathered rows); the engine takes {r['engine_us'][0]:.0f} us per step "
                  f"(wall clock), {r['engine_us'][1]:.0f} us of CPU")
        if "jax_compile_s" in r:
            print(f"  JAX compile time (not counted): {r['jax_compile_s']:.2f} s")
    table(rows, 0, "wall clock (replica-steps per second; ratio = stochopt.run / peer, > 1: stochopt is faster)")
    table(rows, 1, "CPU time, all threads of the process (the fair measure on a machine busy with other work)")


if __name__ == "__main__":
    main()
