"""Planted mistakes: each row plants one mistake (by monkeypatching) and names what catches it.

One module per claim family (``tests/planted/<family>.py``) defines ``ROWS`` (a list of
``Planted``) and ``NO_PLANTED`` ({claim id: why no implementation mistake can reach it}).
``tests/test_planted_mistakes.py`` runs every row: the catcher must report the mistake.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Planted:
    """One planted mistake.

    id : a short unique name ("adam-missing-bias-correction").
    plants : what the mistake is, in words.
    patch : ``patch(monkeypatch)`` plants it (monkeypatch undoes it after the row).
    caught_by : a claim id ("gsgd.two-timescale"), a claim part ("gsgd.two-timescale:sign direction"),
        or a test ("tests/test_ground_truth.py::test_matches") with ``detector``.
    detector : for a test catcher, a function that raises AssertionError when the mistake is caught.
    """

    id: str
    plants: str
    patch: Callable
    caught_by: str
    detector: Callable | None = None

    @property
    def claim_id(self) -> str | None:
        return None if self.caught_by.startswith("tests/") else self.caught_by.split(":")[0]

    @property
    def part(self) -> str | None:
        if self.claim_id is None or ":" not in self.caught_by:
            return None
        return self.caught_by.split(":", 1)[1]


def all_rows() -> list:
    rows = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        rows.extend(getattr(module, "ROWS", []))
    return rows


def no_planted() -> dict:
    out = {}
    for info in pkgutil.iter_modules(__path__):
        out.update(getattr(importlib.import_module(f"{__name__}.{info.name}"), "NO_PLANTED", {}))
    return out
