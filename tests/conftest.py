"""Fixtures every test package may use; shared plain helpers live in ``helpers.py``."""

from __future__ import annotations

import pytest
from helpers import SleepRecorder

# Every conftest.py here imports as the module "conftest"; --doctest-modules would import
# this one again after a subfolder's and fail on the clash. It has no doctests anyway.
collect_ignore = ["conftest.py"]


@pytest.fixture
def sleeps() -> SleepRecorder:
    """A ``sleep`` for clients that records the retry delays instead of waiting."""
    return SleepRecorder()
