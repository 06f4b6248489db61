"""The quasi-hyperbolic family: QHM, QHAdam, QHAdamW, the converters and their targets.

Ma & Yarats, "Quasi-hyperbolic momentum and Adam for deep learning" (ICLR 2019,
arXiv 1810.06801); reference library qhoptim 1.1.0. See docs/quasi-hyperbolic.md.

- methods: ``qhm``, ``qhadam``, ``qhadamw`` (also exported as ``stochopt.qhm`` ...).
- converters (qhoptim's names and return shapes): ``from_pid``, ``from_synthesized_nesterov``,
  ``from_robust_momentum``, ``from_accsgd``, ``from_two_state_optimizer`` ->
  ``{"lr", "momentum", "nu"}``; ``from_nadam`` -> ``{"lr", "betas", "nus"}``.
- inverse maps: ``to_pid``, ``to_synthesized_nesterov`` (bijective), ``to_two_state``
  (a family of TSOs equal to one QHM).
- targets, each written in its paper's form: ``pid``, ``synthesized_nesterov``,
  ``robust_momentum``, ``triple_momentum``, ``accsgd``, ``two_state``, ``nadam_dozat``.

>>> import numpy as np
>>> from stochopt import qh
>>> opt = qh.qhm(**qh.from_pid(k_p=-0.5, k_i=1.0, k_d=0.5))
>>> ref = qh.pid(k_p=-0.5, k_i=1.0, k_d=0.5)
>>> s, r = opt.init(np.ones(3)), ref.init(np.ones(3))
>>> for _ in range(10):
...     s, r = opt.step(s, np.sign(s.x)), ref.step(r, np.sign(r.x))
>>> bool(np.max(np.abs(s.x - r.x)) <= 1e-14)
True
"""
from .converters import (
    from_accsgd,
    from_nadam,
    from_pid,
    from_robust_momentum,
    from_synthesized_nesterov,
    from_two_state_optimizer,
    robust_momentum_coefficients,
    to_pid,
    to_synthesized_nesterov,
    to_two_state,
)
from .methods import qhadam, qhadamw, qhm
from .targets import (
    accsgd,
    nadam_dozat,
    pid,
    robust_momentum,
    synthesized_nesterov,
    triple_momentum,
    two_state,
)

__all__ = [
    "qhm",
    "qhadam",
    "qhadamw",
    "from_pid",
    "from_synthesized_nesterov",
    "from_robust_momentum",
    "from_accsgd",
    "from_two_state_optimizer",
    "from_nadam",
    "to_pid",
    "to_synthesized_nesterov",
    "to_two_state",
    "robust_momentum_coefficients",
    "pid",
    "synthesized_nesterov",
    "robust_momentum",
    "triple_momentum",
    "accsgd",
    "two_state",
    "nadam_dozat",
]
