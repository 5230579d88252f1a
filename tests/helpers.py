"""Small helpers the test packages share; import them as ``from helpers import ...``.

``tests/conftest.py`` puts this folder on ``sys.path`` (pytest's default import mode
adds the folder of a top-level ``conftest.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.02) -> Any:
    """Poll ``condition`` until it is truthy and return its value; fail after ``timeout`` s.

    For what a background thread or another process makes true: webhooks the sandbox
    emits, a widget's worker finishing, a server starting to listen.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


class SleepRecorder:
    """Stands in for time.sleep so retries are observable and tests never wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path of imports from ``start`` back to itself in ``graph``, or None.

    ``graph`` maps a module to the modules it imports, as
    :func:`groupkit._imports.import_graph` builds it.
    """
    stack = [(start, [start])]
    seen = set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return [*path, nxt]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None
