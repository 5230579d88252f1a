"""Fixtures for the loader tests; the webhook builders are in ``webhooks.py``."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from groupkit.load import engine
from groupkit.load import sources as _sources


@pytest.fixture
def write(tmp_path: Path):
    """write(name, data, gz=False) -> path of a file in a fresh folder."""

    def _write(name: str, data: bytes | str, gz: bool = False) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = data.encode() if isinstance(data, str) else data
        path.write_bytes(gzip.compress(raw) if gz else raw)
        return path

    return _write


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 16 kB walked in 4 kB pieces, and no size threshold, so a small archive
    takes every parallel path (ranges to workers, streamed gzip)."""
    monkeypatch.setattr(_sources, "BLOCK_BYTES", 16 << 10)
    monkeypatch.setattr(engine, "WALK_BYTES", 4 << 10)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
