"""One plain, obviously-correct loop per method: the ground truth every fast path is checked against.

Each loop is written from its paper's (or its peer's) equations, one replica and one step at a
time, with scalar hyperparameters, and imports nothing of the update rules (``stochopt.terms``,
``framework``, ``adaptive``, ...): a mistake in a shared piece cannot hide in both. Every loop
takes the factory's keyword arguments, so ``ground_truth.adam(x0, grads, **kw)`` is the truth
for ``stochopt.adam(**kw)``, and returns a ``Trajectory``: the iterates and every buffer of the
method at every step.

``trajectory(method, x0, grads)`` runs a method (any ``stochopt.Method``) over a sequence of
gradients (or an oracle ``grad(x, k)``) and returns the same record, so that the two compare
array by array. ``REGISTRY`` maps every name of ``stochopt.METHODS`` (and a few methods outside
it) to its loop and to example configurations, each with per-replica hyperparameters and a
schedule; ``tests/test_ground_truth.py`` runs them all.

>>> import numpy as np, stochopt
>>> from stochopt import ground_truth
>>> grads = np.random.default_rng(0).standard_normal((5, 2, 3))
>>> x0 = np.zeros((2, 3))
>>> fast = ground_truth.trajectory(stochopt.adam(lr=0.1), x0, grads)
>>> plain = ground_truth.adam(x0, grads, lr=0.1)
>>> fast.x.shape, sorted(fast.buffers)          # x_0 .. x_5 for 2 replicas in R^3
((6, 2, 3), ['m', 'v'])
>>> bool(np.allclose(fast.x, plain.x, rtol=1e-13, atol=0) and np.allclose(fast.v, plain.v, rtol=1e-13, atol=0))
True
"""
from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from . import schedules

__all__ = [
    "Trajectory", "trajectory", "GroundTruth", "REGISTRY",
    "gsgd", "sgd", "heavy_ball", "signsgd", "signum", "normalized_sgd", "clipped_sgd", "srsgd",
    "gsgd_official", "lion", "lion_singlescale", "lion_k", "qhm", "qhadam", "qhadamw", "adam", "adamw",
    "rmsprop", "nadam", "adan", "adamssm", "state_space", "delta_gclip", "gclip",
]


# ====================================================================== the record and the runner
@dataclass(frozen=True)
class Trajectory:
    """Iterates and buffers at every step: ``x[k]`` is the iterate after k steps (``x[0] = x0``).

    ``buffers[name][k]`` is the buffer after k steps; buffers are also attributes
    (``traj.m``). ``state`` is the method's final State (None for a ground-truth loop).
    """

    x: np.ndarray
    buffers: Mapping[str, np.ndarray] = field(default_factory=dict)
    state: object = None

    def __getattr__(self, name):
        buffers = self.__dict__.get("buffers", {})
        if name in buffers:
            return buffers[name]
        raise AttributeError(f"Trajectory has no field or buffer {name!r} (buffers: {', '.join(buffers) or 'none'})")

    @property
    def steps(self) -> int:
        return self.x.shape[0] - 1


def trajectory(method, x0, grads, replica_ids=None) -> Trajectory:
    """Run ``method`` from ``x0`` over ``grads`` and record the iterate and every buffer at every step.

    ``grads`` is an array of gradients, one per step (shape (K,) + x0's shape, or (K, R, d) when
    the hyperparameters give R replicas), or a function ``grad(x, k)`` of the current iterate and
    step together with ``steps=`` given as ``(grad, steps)``.

    >>> import numpy as np, stochopt
    >>> t = trajectory(stochopt.heavy_ball(lr=0.5, momentum=0.5), np.ones(2), (lambda x, k: x, 3))
    >>> t.x[:, 0], t.m[:, 0]                        # gradient of |x|^2 / 2 at the current iterate
    (array([1.      , 0.75    , 0.4375  , 0.171875]), array([0.     , 0.5    , 0.625  , 0.53125]))
    """
    if isinstance(grads, tuple):
        oracle, steps = grads
    else:
        sequence = np.asarray(grads)
        oracle, steps = (lambda x, k: sequence[k]), sequence.shape[0]
    state = method.init(x0, replica_ids=replica_ids)
    xs, bufs = [state.x.copy()], {name: [np.array(b, copy=True)] for name, b in state.buffers.items()}
    for k in range(steps):
        state = method.step(state, oracle(state.x, k))
        xs.append(state.x.copy())
        for name, b in state.buffers.items():
            bufs.setdefault(name, []).append(np.array(b, copy=True))
    return Trajectory(np.stack(xs), {n: np.stack(v) for n, v in bufs.items()}, state)


# ====================================================================== hyperparameters per replica
def _value_at(value, k: int, r: int | None, ids):
    """A float, an (R,) array or a Schedule, read at step k for replica r (a Python float)."""
    if isinstance(value, schedules.Schedule):
        value = value(k, ids) if value.random else value(k)
    value = np.asarray(value, dtype=float)
    return float(value if value.ndim == 0 else value[0 if r is None else r])


def _replica_count(x0, hyper) -> int | None:
    if np.ndim(x0) == 2:
        return np.shape(x0)[0]
    for value in hyper.values():
        if isinstance(value, schedules.Schedule) and value.replicas:
            return value.replicas
        if isinstance(value, np.ndarray) and value.ndim == 1:
            return value.shape[0]
    return None


def _run(loop, x0, grads, **hyper) -> Trajectory:
    """Run ``loop(x, grads, h)`` (a generator of (x, buffers), the initial state first) per replica.

    ``h(k)`` gives the hyperparameters at step k for that replica as Python floats; the results
    are stacked into a Trajectory shaped like the method's (a replica axis when x0 is (R, d) or a
    hyperparameter is per replica).
    """
    x0, grads = np.asarray(x0, dtype=float), np.asarray(grads, dtype=float)
    R = _replica_count(x0, hyper)
    ids = None if R is None else np.arange(R)
    per_replica = []
    for r in range(R or 1):
        rr = None if R is None else r
        start = x0 if x0.ndim == 1 else x0[r]
        g_r = grads if R is None else grads[:, r]

        def h(k, rr=rr):
            return types.SimpleNamespace(**{n: _value_at(v, k, rr, ids) for n, v in hyper.items()})

        per_replica.append(list(loop(start.copy(), g_r, h)))
    xs = np.stack([[x for x, _ in steps] for steps in per_replica], axis=1)
    names = per_replica[0][0][1].keys()
    bufs = {n: np.stack([[np.broadcast_to(b[n], x.shape) for x, b in steps] for steps in per_replica], axis=1)
            for n in names}
    if R is None:
        xs, bufs = xs[:, 0], {n: b[:, 0] for n, b in bufs.items()}
    return Trajectory(xs, bufs)


def _pair(values):
    first, second = values
    return first, second


# ====================================================================== the framework (spec 01)
def _blocks_of(blocks, d):
    return [np.arange(d)] if blocks is None else [np.asarray(b, dtype=int) for b in blocks]


def _per_block(fn):
    """Apply a map of one block's vector to every block."""
    def apply(m, blocks):
        out = np.empty_like(m)
        for b in _blocks_of(blocks, m.shape[0]):
            out[b] = fn(m[b])
        return out

    return apply


def _normalized(m):
    norm = np.linalg.norm(m)
    return m / norm if norm > 0 else np.zeros_like(m)


def _clip_norm(c):
    def clip(m):
        norm = np.linalg.norm(m)
        return m if norm <= c else (c / norm) * m

    return clip


def direction_map(direction="identity", blocks=None) -> Callable:
    """The map m -> s of a direction named as the factories name it (``"clip_norm:2.0"``), plainly.

    A ``stochopt.directions.Direction`` object is read through its name and parameters.

    >>> import numpy as np
    >>> direction_map("normalized", blocks=[[0, 1], [2]])(np.array([3.0, 4.0, -2.0]))
    array([ 0.6,  0.8, -1. ])
    """
    if not isinstance(direction, str):
        params = {k: v for k, v in vars(direction).items() if k != "blocks"}
        direction = direction.name + (f":{next(iter(params.values()))}" if params else "")
    name, _, arg = direction.partition(":")
    name = {"clip": "clip_norm", "tanh": "smooth_sign", "heavy_ball": "identity"}.get(name, name)
    a = float(arg) if arg else {"clip_norm": 1.0, "clip_coord": 1.0, "srsgd": 0.1, "smooth_sign": 1.0}.get(name)
    plain = {
        "identity": lambda m: m,
        "sign": np.sign,                                          # sign(0) = 0
        "normalized": _normalized,                                # m_b / ||m_b||, 0 at 0
        "clip_norm": _clip_norm(a),                               # min(1, c / ||m_b||) m_b
        "clip_coord": lambda m: np.clip(m, -a, a),
        "srsgd": lambda m: m + a * np.sign(m),
        "smooth_sign": lambda m: np.tanh(a * m),
    }[name]
    return lambda m: _per_block(plain)(m, blocks)


def _framework_loop(select, m_first_grad, m0):
    """Spec 1.2: m <- m + theta (g - m); x <- x - eta (select(m) + alpha g), coupled decay."""
    def loop(x, grads, h):
        m = np.zeros_like(x) if m0 is None else np.broadcast_to(np.asarray(m0, float), x.shape).copy()
        yield x, {"m": m}
        for k, g in enumerate(grads):
            p = h(k)
            g = g + p.weight_decay * x
            m = g.copy() if (m_first_grad and k == 0) else m + p.momentum_lr * (g - m)
            x = x - p.lr * (select(m) + p.extra_gradient * g)
            yield x, {"m": m}

    return loop


def gsgd(x0, grads, lr, momentum_lr, direction="identity", extra_gradient=0.0, weight_decay=0.0, blocks=None,
         m0=None):
    """The framework with theta_k = ``momentum_lr``; ``m0="first_grad"`` starts m at the first gradient."""
    first = isinstance(m0, str)
    loop = _framework_loop(direction_map(direction, blocks), first, None if first else m0)
    return _run(loop, x0, grads, lr=lr, momentum_lr=momentum_lr, extra_gradient=extra_gradient,
                weight_decay=weight_decay)


def _one_minus(momentum):
    if isinstance(momentum, schedules.Schedule):
        return schedules.from_function(lambda k: 1 - np.asarray(momentum(k), float))
    return 1 - np.asarray(momentum, float) if isinstance(momentum, np.ndarray) else 1 - momentum


def sgd(x0, grads, lr, weight_decay=0.0):
    """x <- x - lr (g + lambda x)."""
    return gsgd(x0, grads, lr, 1.0, "identity", 0.0, weight_decay)


def heavy_ball(x0, grads, lr, momentum=0.9, extra_gradient=0.0, weight_decay=0.0):
    """m <- momentum m + (1 - momentum) g, x <- x - lr (m + alpha g)."""
    return gsgd(x0, grads, lr, _one_minus(momentum), "identity", extra_gradient, weight_decay)


def signsgd(x0, grads, lr, weight_decay=0.0):
    """x <- x - lr sign(g), sign(0) = 0."""
    return gsgd(x0, grads, lr, 1.0, "sign", 0.0, weight_decay)


def signum(x0, grads, lr, momentum=0.9, weight_decay=0.0):
    """m <- momentum m + (1 - momentum) g, x <- x - lr sign(m)."""
    return gsgd(x0, grads, lr, _one_minus(momentum), "sign", 0.0, weight_decay)


def normalized_sgd(x0, grads, lr, momentum=0.0, blocks=None, weight_decay=0.0):
    """x <- x - lr m_b / ||m_b|| per block."""
    return gsgd(x0, grads, lr, _one_minus(momentum), "normalized", 0.0, weight_decay, blocks)


def clipped_sgd(x0, grads, lr, threshold=1.0, momentum=0.0, mode="norm", blocks=None, weight_decay=0.0):
    """x <- x - lr min(1, c / ||m_b||) m_b (norm) or x <- x - lr clip(m, -c, c) (coordinate)."""
    direction = f"{'clip_norm' if mode == 'norm' else 'clip_coord'}:{threshold}"
    return gsgd(x0, grads, lr, _one_minus(momentum), direction, 0.0, weight_decay, blocks)


def srsgd(x0, grads, lr, momentum=0.9, lam=0.1, weight_decay=0.0):
    """x <- x - lr (m + lam sign(m)) (reconstructed)."""
    return gsgd(x0, grads, lr, _one_minus(momentum), f"srsgd:{lam}", 0.0, weight_decay)


def gsgd_official(x0, grads, lr, momentum=0.9, scaling=None, direction="identity", weight_decay=0.0,
                  extra_gradient=0.0, blocks=None):
    """The official GSGD code (spec 1.4), as that code reads.

    scaling = 1 / lr_0 when None (each replica's first lr); coupled decay; the buffer starts at
    the first gradient; then mu_k = max(momentum, 1 - lr_k scaling (1 - momentum)),
    m <- mu m + (1 - mu) g, x <- x - lr (Dphi(m) + alpha g).
    """
    select = direction_map(direction, blocks)

    def loop(x, grads, h):
        m = np.zeros_like(x)
        yield x, {"m": m}
        scale = h(0).scaling if scaling is not None else 1.0 / h(0).lr
        for k, g in enumerate(grads):
            p = h(k)
            g = g + p.weight_decay * x
            mu = max(p.momentum, 1 - p.lr * scale * (1 - p.momentum))
            m = g.copy() if k == 0 else mu * m + (1 - mu) * g
            x = x - p.lr * (select(m) + p.extra_gradient * g)
            yield x, {"m": m}

    return _run(loop, x0, grads, lr=lr, momentum=momentum, weight_decay=weight_decay, extra_gradient=extra_gradient,
                scaling=1.0 if scaling is None else scaling)


# ====================================================================== Lion (spec 03)
def lion(x0, grads, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
    """Chen et al. 2023: c = b1 m + (1 - b1) g; x <- x - lr (sign(c) + lambda x); m <- b2 m + (1 - b2) g."""
    return lion_k(x0, grads, lr, betas, weight_decay, K="l1")


def _lion_k_map(K):
    name = K if isinstance(K, str) else K.name
    params = {} if isinstance(K, str) else dict(vars(K))
    name = {"sign": "l1", "tanh": "log_cosh", "clip": "huber", "quadratic": "half_square", "normalized": "l2"}.get(name, name)
    return {
        "l1": np.sign,
        "l2": _normalized,
        "half_square": lambda c: c,
        "huber": lambda c: np.clip(c, -params.get("delta", 1.0), params.get("delta", 1.0)),
        "log_cosh": lambda c: np.tanh(params.get("scale", 1.0) * c),
    }[name]


def lion_k(x0, grads, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, K="l1"):
    """Lion with sign replaced by grad K (every registered K is odd, so grad K(c) = -grad K(-c))."""
    grad_k = _lion_k_map(K)

    def loop(x, grads, h):
        m = np.zeros_like(x)
        yield x, {"m": m}
        for k, g in enumerate(grads):
            p = h(k)
            c = p.beta1 * m + (1 - p.beta1) * g
            x = x - p.lr * (grad_k(c) + p.weight_decay * x)
            m = p.beta2 * m + (1 - p.beta2) * g
            yield x, {"m": m}

    beta1, beta2 = _pair(betas)
    return _run(loop, x0, grads, lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay)


def lion_singlescale(x0, grads, lr=1e-4, betas=(0.9, 0.99), scaling=None, weight_decay=0.0, extra_gradient=0.0):
    """The GSGD paper's Lion (spec 3.3): mu_i = max(1 - lr (1 - beta_i) scaling, beta_i), decay first."""
    def loop(x, grads, h):
        m = np.zeros_like(x)
        yield x, {"m": m}
        scale = h(0).scaling if scaling is not None else 1.0 / h(0).lr
        for k, g in enumerate(grads):
            p = h(k)
            mu1 = max(1 - p.lr * (1 - p.beta1) * scale, p.beta1)
            mu2 = max(1 - p.lr * (1 - p.beta2) * scale, p.beta2)
            x = (1 - p.lr * p.weight_decay) * x
            c = mu1 * m + (1 - mu1) * g
            x = x - p.lr * (np.sign(c) + p.extra_gradient * g)
            m = mu2 * m + (1 - mu2) * g
            yield x, {"m": m}

    beta1, beta2 = _pair(betas)
    return _run(loop, x0, grads, lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay,
                extra_gradient=extra_gradient, scaling=1.0 if scaling is None else scaling)


# ====================================================================== quasi-hyperbolic (spec 02)
def qhm(x0, grads, lr, momentum=0.999, nu=0.7, weight_decay=0.0, weight_decay_type="grad"):
    """Ma & Yarats: b <- beta b + (1 - beta) g, x <- x - lr ((1 - nu) g + nu b)."""
    def loop(x, grads, h):
        b = np.zeros_like(x)
        yield x, {"b": b}
        for k, g in enumerate(grads):
            p = h(k)
            if weight_decay_type == "grad":
                g = g + p.weight_decay * x
            else:
                x = (1 - p.lr * p.weight_decay) * x
            b = p.momentum * b + (1 - p.momentum) * g
            x = x - p.lr * ((1 - p.nu) * g + p.nu * b)
            yield x, {"b": b}

    return _run(loop, x0, grads, lr=lr, momentum=momentum, nu=nu, weight_decay=weight_decay)


def qhadam(x0, grads, lr=1e-3, betas=(0.9, 0.999), nus=(1.0, 1.0), weight_decay=0.0, decouple_weight_decay=False,
           eps=1e-8):
    """QHAdam (spec 2.2); a coordinate whose numerator and denominator are both 0 does not move."""
    def loop(x, grads, h):
        m, v = np.zeros_like(x), np.zeros_like(x)
        yield x, {"m": m, "v": v}
        for k, g in enumerate(grads):
            p, t = h(k), k + 1
            if decouple_weight_decay:
                x = (1 - p.lr * p.weight_decay) * x
            else:
                g = g + p.weight_decay * x
            m = p.beta1 * m + (1 - p.beta1) * g
            v = p.beta2 * v + (1 - p.beta2) * g ** 2
            m_hat, v_hat = m / (1 - p.beta1 ** t), v / (1 - p.beta2 ** t)
            num = (1 - p.nu1) * g + p.nu1 * m_hat
            den = np.sqrt((1 - p.nu2) * g ** 2 + p.nu2 * v_hat) + p.eps
            with np.errstate(divide="ignore", invalid="ignore"):
                x = x - p.lr * np.where((num == 0) & (den == 0), 0.0, num / den)
            yield x, {"m": m, "v": v}

    (beta1, beta2), (nu1, nu2) = _pair(betas), _pair(nus)
    return _run(loop, x0, grads, lr=lr, beta1=beta1, beta2=beta2, nu1=nu1, nu2=nu2, weight_decay=weight_decay, eps=eps)


def qhadamw(x0, grads, lr=1e-3, betas=(0.9, 0.999), nus=(1.0, 1.0), weight_decay=0.0, eps=1e-8):
    """QHAdam with decoupled weight decay."""
    return qhadam(x0, grads, lr, betas, nus, weight_decay, True, eps)


# ====================================================================== adaptive (spec 04)
def _adam_loop(decoupled):
    def loop(x, grads, h):
        m, v = np.zeros_like(x), np.zeros_like(x)
        yield x, {"m": m, "v": v}
        for k, g in enumerate(grads):
            p, t = h(k), k + 1
            if decoupled:
                x = (1 - p.lr * p.weight_decay) * x      # AdamW (Loshchilov & Hutter)
            else:
                g = g + p.weight_decay * x               # torch.optim.Adam's L2 penalty
            m = p.beta1 * m + (1 - p.beta1) * g
            v = p.beta2 * v + (1 - p.beta2) * g ** 2
            m_hat, v_hat = m / (1 - p.beta1 ** t), v / (1 - p.beta2 ** t)
            x = x - p.lr * m_hat / (np.sqrt(v_hat) + p.eps)
            yield x, {"m": m, "v": v}

    return loop


def adam(x0, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """Kingma & Ba, bias-corrected moments, coupled L2 decay (torch.optim.Adam)."""
    beta1, beta2 = _pair(betas)
    return _run(_adam_loop(False), x0, grads, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)


def adamw(x0, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """AdamW: x <- (1 - lr lambda) x, then the Adam step."""
    beta1, beta2 = _pair(betas)
    return _run(_adam_loop(True), x0, grads, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)


def rmsprop(x0, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
            convention="torch", v0=0.0):
    """torch.optim.RMSprop (plain, centered, with momentum), or Adam with beta1 = 0 (``convention="adam"``)."""
    def torch_loop(x, grads, h):
        v, mean, buf = np.full_like(x, h(0).v0), np.zeros_like(x), np.zeros_like(x)
        yield x, {"v": v, "mean": mean, "buf": buf}
        for k, g in enumerate(grads):
            p = h(k)
            g = g + p.weight_decay * x
            v = p.alpha * v + (1 - p.alpha) * g ** 2
            mean = p.alpha * mean + (1 - p.alpha) * g
            avg = (np.sqrt(v - mean ** 2) if centered else np.sqrt(v)) + p.eps
            buf = p.momentum * buf + g / avg
            x = x - p.lr * (buf if p.momentum > 0 else g / avg)
            yield x, {"v": v, "mean": mean, "buf": buf}

    def adam_loop(x, grads, h):                           # Malladi et al.: v_hat = v / (1 - alpha^t)
        v = np.full_like(x, h(0).v0)
        yield x, {"v": v}
        for k, g in enumerate(grads):
            p, t = h(k), k + 1
            g = g + p.weight_decay * x
            v = p.alpha * v + (1 - p.alpha) * g ** 2
            x = x - p.lr * g / (np.sqrt(v / (1 - p.alpha ** t)) + p.eps)
            yield x, {"v": v}

    loop = adam_loop if convention == "adam" else torch_loop
    return _run(loop, x0, grads, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, v0=v0)


def nadam(x0, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=None):
    """NAdam: Dozat's constant mu = beta1, or torch's mu_t = beta1 (1 - 0.5 * 0.96^(t psi))."""
    def loop(x, grads, h):
        m, v, mu_product = np.zeros_like(x), np.zeros_like(x), 1.0
        yield x, ({"m": m, "v": v} if momentum_decay is None else {"m": m, "v": v, "mu_product": mu_product})
        for k, g in enumerate(grads):
            p, t = h(k), k + 1

            def mu(i):
                return p.beta1 if momentum_decay is None else p.beta1 * (1 - 0.5 * 0.96 ** (i * p.psi))

            g = g + p.weight_decay * x
            m = p.beta1 * m + (1 - p.beta1) * g
            v = p.beta2 * v + (1 - p.beta2) * g ** 2
            mu_product = mu_product * mu(t)
            m_bar = (1 - mu(t)) * g / (1 - mu_product) + mu(t + 1) * m / (1 - mu_product * mu(t + 1))
            x = x - p.lr * m_bar / (np.sqrt(v / (1 - p.beta2 ** t)) + p.eps)
            yield x, ({"m": m, "v": v} if momentum_decay is None else {"m": m, "v": v, "mu_product": mu_product})

    beta1, beta2 = _pair(betas)
    return _run(loop, x0, grads, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                psi=0.0 if momentum_decay is None else momentum_decay)


def adan(x0, grads, lr=1e-3, betas=None, eps=1e-8, weight_decay=0.0, no_prox=False, convention="official",
         bias_correction=None, prev_grad=None, restart_every=None):
    """Adan (Xie et al.), from the paper's equations; the official code's betas are 1 - the paper's.

    Options as in ``stochopt.adan``: bias corrections 1 - (1 - b)^t (official), g_{-1} = g_0
    (official) or 0 (paper), ``no_prox`` (decay before the step), restarts every N steps.
    """
    official = convention == "official"
    b = (0.98, 0.92, 0.99) if betas is None and official else (0.02, 0.08, 0.01) if betas is None else betas
    correct = official if bias_correction is None else bias_correction
    first = (prev_grad or ("first" if official else "zero")) == "first"

    def loop(x, grads, h):
        m, v, n, g_prev = (np.zeros_like(x),) * 4
        yield x, {"m": m, "v": v, "n": n, "g_prev": g_prev}
        for k, g in enumerate(grads):
            p = h(k)
            b1, b2, b3 = (1 - p.b1, 1 - p.b2, 1 - p.b3) if official else (p.b1, p.b2, p.b3)   # the paper's
            j = k if restart_every is None else k % restart_every
            if j == 0:
                m, v, n = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
                g_prev = g if first else np.zeros_like(x)
            m = (1 - b1) * m + b1 * g
            v = (1 - b2) * v + b2 * (g - g_prev)
            n = (1 - b3) * n + b3 * (g + (1 - b2) * (g - g_prev)) ** 2
            c1, c2, c3 = ((1 - (1 - b1) ** (j + 1), 1 - (1 - b2) ** (j + 1), 1 - (1 - b3) ** (j + 1)) if correct
                          else (1.0, 1.0, 1.0))
            step = p.lr * (m / c1 + (1 - b2) * v / c2) / (np.sqrt(n / c3) + p.eps)
            x = (1 - p.lr * p.weight_decay) * x - step if no_prox else (x - step) / (1 + p.lr * p.weight_decay)
            g_prev = g
            yield x, {"m": m, "v": v, "n": n, "g_prev": g_prev}

    return _run(loop, x0, grads, lr=lr, b1=b[0], b2=b[1], b3=b[2], eps=eps, weight_decay=weight_decay)


def state_space(form, x0, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, pole=None, zero=None,
                bias_correction=True):
    """AdaGrad, Adam, AdaBelief and AdamSSM, each from its own paper's update (not a state-space form).

    AdamSSM's second moment is the output of H(z) = K (1 - zeta/z) / ((1 - beta2/z)(1 - p/z))
    applied to g^2, written as its second-order difference equation; ``w`` is the output of the
    first section (the Adam EMA); the bias correction divides by the step response of each.
    """
    def loop(x, grads, h):
        z = np.zeros_like(x)
        m, w, v, u_prev, v_prev, cv, cv_prev = z, z, z, z, z, 0.0, 0.0
        yield x, _ssm_buffers(form, bias_correction, m, w, v, 0.0, cv)
        for k, g in enumerate(grads):
            p, t = h(k), k + 1
            g = g + p.weight_decay * x
            if form == "adagrad":                           # Duchi et al.: v = sum g^2
                v = v + g ** 2
                x = x - p.lr * g / (np.sqrt(v) + p.eps)
                yield x, {"v": v}
                continue
            m = p.beta1 * m + (1 - p.beta1) * g
            u = g ** 2 if form != "adabelief" else (g - m) ** 2
            w = p.beta2 * w + (1 - p.beta2) * u + (p.eps if form == "adabelief" else 0.0)
            cw = 1 - p.beta2 ** t
            if form == "adamssm":
                gain = (1 - p.beta2) * (1 - p.pole) / (1 - p.zero)
                v, v_prev = (p.beta2 + p.pole) * v - p.beta2 * p.pole * v_prev + gain * (u - p.zero * u_prev), v
                cv, cv_prev = (p.beta2 + p.pole) * cv - p.beta2 * p.pole * cv_prev + gain * (1 - p.zero * (t > 1)), cv
                u_prev = u
            else:
                v, cv = w, cw
            if bias_correction:
                x = x - p.lr / (1 - p.beta1 ** t) * m / (np.sqrt(v / cv) + p.eps)
            else:
                x = x - p.lr * m / (np.sqrt(v) + p.eps)
            yield x, _ssm_buffers(form, bias_correction, m, w, v, cw, cv)

    beta1, beta2 = _pair(betas)
    return _run(loop, x0, grads, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                pole=0.0 if pole is None else pole, zero=0.0 if zero is None else zero)


def _ssm_buffers(form, bias_correction, m, w, v, cw, cv):
    if form == "adagrad":
        return {"v": v}
    out = {"m": m, "v": v}
    if form == "adamssm":
        out["w"] = w
    if bias_correction:
        out["cv"] = cv
        if form == "adamssm":
            out["cw"] = cw
    return out


def adamssm(x0, grads, lr=1e-3, betas=(0.9, 0.999), pole=0.9, zero=0.8, eps=1e-8, weight_decay=0.0,
            bias_correction=True):
    """AdamSSM (Chakrabarti & Chopra): Adam whose second moment is H(z) applied to g^2."""
    return state_space("adamssm", x0, grads, lr, betas, eps, weight_decay, pole, zero, bias_correction)


def delta_gclip(x0, grads, lr, gamma=0.1, delta=1e-3):
    """x <- x - h g, h = lr min(1, max(delta, gamma / ||g||)) with the replica's l2 norm; 0 step at g = 0."""
    def loop(x, grads, h):
        yield x, {}
        for k, g in enumerate(grads):
            p = h(k)
            norm = np.linalg.norm(g)
            factor = p.lr if norm == 0 else p.lr * min(1.0, max(p.delta, p.gamma / norm))
            x = x - factor * g
            yield x, {}

    return _run(loop, x0, grads, lr=lr, gamma=gamma, delta=delta)


def gclip(x0, grads, lr, gamma=0.1):
    """Gradient clipping: delta-GClip with delta = 0."""
    return delta_gclip(x0, grads, lr, gamma, 0.0)


# ====================================================================== the registry
@dataclass(frozen=True)
class GroundTruth:
    """A ground-truth loop and the configurations it is checked at (keyword arguments of the factory).

    ``factory`` is None for the names of ``stochopt.METHODS`` (the factory is ``METHODS[name]``).
    Each configuration sweeps some hyperparameter per replica (``REPLICAS`` replicas) and most
    give ``lr`` as a schedule.
    """

    loop: Callable
    configs: tuple
    factory: Callable | None = None


REPLICAS = 3


def _lr(a=0.05, p=0.6):
    return schedules.polynomial(a, b=1.0, p=p)


def _per(*values):
    return np.array(values, dtype=float)


def _state_space(form):
    def loop(x0, grads, **kw):
        return state_space(form, x0, grads, **kw)

    def factory(**kw):
        from .adaptive import state_space as make   # the method under test, built when checked

        return make(form, **kw)

    return loop, factory


def _framework_and_lion_configs(lr, random_lr):
    blocks = [[0, 3], [1, 2, 4]]
    return {
        "sgd": (sgd, [dict(lr=lr, weight_decay=_per(0.0, 0.1, 0.3)), dict(lr=random_lr)]),
        "heavy_ball": (heavy_ball, [dict(lr=lr, momentum=_per(0.0, 0.5, 0.9), extra_gradient=0.3, weight_decay=0.05)]),
        "signsgd": (signsgd, [dict(lr=_per(0.01, 0.02, 0.05), weight_decay=0.1), dict(lr=random_lr)]),
        "signum": (signum, [dict(lr=lr, momentum=_per(0.0, 0.5, 0.9))]),
        "normalized_sgd": (normalized_sgd, [dict(lr=lr, momentum=_per(0.0, 0.5, 0.9)),
                                            dict(lr=0.02, momentum=0.5, blocks=blocks, weight_decay=0.1)]),
        "clipped_sgd": (clipped_sgd, [dict(lr=lr, threshold=1.5, momentum=_per(0.0, 0.5, 0.9), blocks=blocks),
                                      dict(lr=lr, threshold=0.5, momentum=0.5, mode="coordinate")]),
        "srsgd": (srsgd, [dict(lr=lr, momentum=_per(0.5, 0.8, 0.9), lam=0.3)]),
        "gsgd_official": (gsgd_official, [
            dict(lr=lr, momentum=_per(0.0, 0.5, 0.9), direction="normalized", extra_gradient=0.3, weight_decay=0.01),
            dict(lr=random_lr, momentum=0.9, direction="sign"),
            dict(lr=_lr(0.1, 1.0), momentum=0.8, scaling=_per(5.0, 10.0, 40.0), direction="clip_norm:1.5",
                 blocks=blocks)]),
        "lion": (lion, [dict(lr=lr, betas=(_per(0.0, 0.9, 0.9), 0.99), weight_decay=0.5)]),
        "lion_singlescale": (lion_singlescale, [
            dict(lr=lr, betas=(0.9, _per(0.9, 0.99, 0.999)), weight_decay=0.1, extra_gradient=0.2),
            dict(lr=random_lr, betas=(0.5, 0.9), scaling=30.0)]),
        "lion_k": (lion_k, [dict(lr=lr, betas=(0.9, _per(0.9, 0.99, 0.999)), weight_decay=0.3, K=K)
                            for K in ("l1", "l2", "half_square", "huber", "log_cosh")]),
    }


def _qh_and_adaptive_configs(lr):
    return {
        "qhm": (qhm, [dict(lr=lr, momentum=_per(0.5, 0.9, 0.99), nu=_per(0.0, 0.7, 1.3), weight_decay=0.05),
                      dict(lr=0.1, momentum=0.9, nu=0.7, weight_decay=_per(0.0, 0.1, 0.3), weight_decay_type="direct")]),
        "qhadam": (qhadam, [
            dict(lr=lr, betas=(_per(0.5, 0.9, 0.99), 0.999), nus=(_per(0.0, 0.7, 1.2), 0.9), weight_decay=0.05),
            dict(lr=0.01, betas=(0.9, 0.99), nus=(0.7, _per(0.3, 0.5, 1.0)), weight_decay=0.1,
                 decouple_weight_decay=True, eps=0.0)]),
        "qhadamw": (qhadamw, [dict(lr=lr, nus=(0.7, 1.0), weight_decay=_per(0.0, 0.1, 0.5))]),
        "adam": (adam, [dict(lr=lr, betas=(_per(0.0, 0.9, 0.7), 0.999), weight_decay=0.1),
                        dict(lr=_per(0.01, 0.02, 0.03), betas=(0.9, 0.5), eps=1e-3)]),
        "adamw": (adamw, [dict(lr=lr, betas=(0.8, _per(0.9, 0.99, 0.999)), weight_decay=0.5)]),
        "rmsprop": (rmsprop, [
            dict(lr=lr, alpha=_per(0.5, 0.9, 0.99), weight_decay=0.1),
            dict(lr=lr, alpha=0.95, momentum=_per(0.0, 0.5, 0.9), centered=True, eps=1e-6),
            dict(lr=0.01, alpha=0.9, momentum=0.5),
            dict(lr=0.01, alpha=0.95, centered=True, v0=_per(0.5, 1.0, 2.0)),
            dict(lr=lr, alpha=_per(0.5, 0.9, 0.99), convention="adam", weight_decay=0.1, v0=0.3)]),
        "nadam": (nadam, [dict(lr=lr, betas=(_per(0.5, 0.9, 0.95), 0.999), weight_decay=0.1),
                          dict(lr=lr, betas=(0.9, 0.99), momentum_decay=_per(4e-3, 4e-2, 1.0))]),
        "adan": (adan, [
            dict(lr=lr, betas=(_per(0.9, 0.98, 0.5), 0.92, 0.99), weight_decay=0.05),
            dict(lr=lr, weight_decay=_per(0.0, 0.05, 0.2), no_prox=True, restart_every=30),
            dict(lr=0.01, betas=(0.02, _per(0.08, 0.2, 0.5), 0.01), convention="paper", weight_decay=0.05),
            dict(lr=0.01, convention="paper", bias_correction=True, prev_grad="first", restart_every=70),
            dict(lr=0.01, bias_correction=False, prev_grad="zero", no_prox=True, weight_decay=0.1)]),
        "adamssm": (adamssm, [
            dict(lr=lr, betas=(0.9, _per(0.9, 0.99, 0.999)), pole=0.9, zero=0.8, weight_decay=0.05),
            dict(lr=0.01, betas=(0.5, 0.95), pole=_per(0.0, 0.5, 0.95), zero=_per(-0.5, 0.5, 0.9)),
            dict(lr=0.01, betas=(0.9, 0.99), pole=0.99, zero=0.3, bias_correction=False)]),
        "delta_gclip": (delta_gclip, [dict(lr=lr, gamma=_per(0.1, 1.0, 10.0), delta=0.05)]),
        "gclip": (gclip, [dict(lr=lr, gamma=_per(0.1, 1.0, 10.0))]),
    }


def _registry():
    lr, random_lr = _lr(), schedules.randomized(_lr(), low=0.5, high=1.5, seed=4)
    entries = {**_framework_and_lion_configs(lr, random_lr), **_qh_and_adaptive_configs(lr)}
    out = {name: GroundTruth(loop, tuple(configs)) for name, (loop, configs) in entries.items()}
    out["gsgd"] = GroundTruth(gsgd, (
        dict(lr=lr, momentum_lr=schedules.coupled(lr, tau=_per(1.0, 4.0, 16.0), cap=1.0), direction="smooth_sign:3.0"),
        dict(lr=0.02, momentum_lr=0.3, direction="sign", m0="first_grad", weight_decay=0.1),
        dict(lr=0.02, momentum_lr=_per(0.1, 0.5, 1.0), direction="clip_coord:0.5", m0=np.linspace(-1.0, 1.0, 5)),
        dict(lr=_lr(0.1, 0.6), momentum_lr=schedules.coupled(_lr(0.1, 0.6), tau=2.0), direction="sign",
             extra_gradient=_per(0.0, 0.2, 1.0))),
        factory=_factory("gsgd"))
    for form, configs in (("adagrad", [dict(lr=_lr(0.1), eps=1e-10, weight_decay=_per(0.0, 0.1, 0.3))]),
                          ("adam", [dict(lr=lr, betas=(_per(0.5, 0.9, 0.99), 0.99))]),
                          ("adabelief", [dict(lr=lr, betas=(0.9, _per(0.9, 0.99, 0.999)))])):
        loop, factory = _state_space(form)
        out[f"ssm_{form}"] = GroundTruth(loop, tuple(configs), factory=factory)
    return out


def _factory(name):
    def factory(**kw):
        import stochopt

        return getattr(stochopt, name)(**kw)

    return factory


#: name -> GroundTruth, for every entry of ``stochopt.METHODS`` and a few methods outside it.
REGISTRY = _registry()
