"""The bundled sample archive and helpers to read a chart's embedded data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import groupkit
from groupkit import charts

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "webhooks"


@pytest.fixture(scope="session")
def archive() -> groupkit.Archive:
    return groupkit.read_webhooks(SAMPLE, progress=False)


@pytest.fixture(scope="session")
def frame(archive: groupkit.Archive) -> pd.DataFrame:
    return groupkit.deliveries(archive)


@pytest.fixture(scope="session")
def style(archive: groupkit.Archive) -> charts.GroupStyle:
    return charts.group_style(archive)
