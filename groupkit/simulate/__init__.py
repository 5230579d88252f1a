"""Simulated group webhook archives with the ground truth they were generated from.

:mod:`groupkit.simulate.model` holds the behavioural model (pure functions, no pandas,
reused by the local API sandbox); :func:`simulate_archive` writes a whole archive and
returns a :class:`Simulation` whose ``truth`` holds what really happened.  The archive
part is imported on first use, so importing the model stays light.

Examples
--------
>>> import tempfile
>>> from groupkit.simulate import simulate_archive
>>> sim = simulate_archive(tempfile.mkdtemp(), groups=2, days=1, seed=3)
>>> sim.truth.deliveries["message_id"].nunique() == len(sim.truth.outcomes)
True
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_KNOBS", "Simulation", "Truth", "simulate_archive"]


def __getattr__(name: str) -> Any:
    if name in ("DEFAULT_KNOBS", "Simulation", "simulate_archive"):
        from groupkit.simulate import archive

        return getattr(archive, name)
    if name == "Truth":
        from groupkit.simulate.truth import Truth

        return Truth
    raise AttributeError(f"module 'groupkit.simulate' has no attribute {name!r}")
