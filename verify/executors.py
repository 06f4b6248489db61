"""Executors: a list of pure tasks in, their results out, in the tasks' order.

Every backend has one method, ``map(fn, tasks, on_done=None) -> list``: ``fn(task)`` for each
task, results in the order of ``tasks`` whatever order they finish in; ``on_done(i, result)``
is called as each finishes (progress bars). Because each task is a pure function of its fields,
the results do not depend on the backend.

>>> InProcess().map(abs, [-1, 2, -3])
[1, 2, 3]
"""
from __future__ import annotations

__all__ = ["InProcess"]


class InProcess:
    """Run the tasks one after another in this process (the default; no extra dependency)."""

    def map(self, fn, tasks, on_done=None) -> list:
        out = []
        for i, task in enumerate(tasks):
            out.append(fn(task))
            if on_done is not None:
                on_done(i, out[-1])
        return out

    def describe(self) -> dict:
        return {"backend": "in-process", "workers": 1}
