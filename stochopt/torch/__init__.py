"""PyTorch adapters: the verified methods as drop-in ``torch.optim.Optimizer`` classes.

Imported only when used (``from stochopt.torch import GSGD``); ``import stochopt`` never imports
torch. Install the extra with ``pip install stochopt[torch]``. Every class equals its NumPy
reference iterate by iterate in float64 (``tests/test_torch_reference.py``):

| class    | NumPy reference             | signature from            |
|----------|-----------------------------|---------------------------|
| GSGD     | ``stochopt.gsgd_official``  | official GSGD code        |
| Lion     | ``stochopt.lion_singlescale`` | official GSGD code (``Lion_singlescale``) |
| QHM      | ``stochopt.qhm``            | qhoptim 1.1.0             |
| QHAdam   | ``stochopt.qhadam``         | qhoptim 1.1.0             |
| QHAdamW  | ``stochopt.qhadamw``        | qhoptim 1.1.0             |

>>> import torch
>>> from stochopt.torch import GSGD
>>> w = torch.nn.Parameter(torch.tensor([3.0, 4.0]))
>>> opt = GSGD([w], lr=0.5, momentum=0.9, Dphi_map="normalized")
>>> loss = 0.5 * w.pow(2).sum()                  # gradient w
>>> loss.backward(); opt.step(); opt.zero_grad()
>>> w.detach()                                   # w - 0.5 w / ||w||
tensor([2.7000, 3.6000])
"""
from __future__ import annotations

try:
    import torch  # noqa: F401  absolute import (PEP 328): the real PyTorch, never this package
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "stochopt.torch needs PyTorch; install it with `pip install stochopt[torch]` "
        "(the rest of stochopt works with NumPy alone)"
    ) from exc

from .gsgd import GSGD, direction_function
from .lion import Lion
from .qh import QHM, QHAdam, QHAdamW

__all__ = ["GSGD", "Lion", "QHM", "QHAdam", "QHAdamW", "direction_function"]
