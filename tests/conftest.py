"""Fixtures every test package may use; shared plain helpers live in ``helpers.py``."""

from __future__ import annotations

import pytest

from tests.helpers import SleepRecorder


@pytest.fixture
def sleeps() -> SleepRecorder:
    """A ``sleep`` for clients that records the retry delays instead of waiting."""
    return SleepRecorder()
