"""Fixtures for the client tests: a live sandbox on loopback and clients pointed at it."""

from __future__ import annotations

import pytest

from groupkit.client import GroupClient, RetryPolicy
from groupkit.sandbox import Sandbox, serve
from tests.helpers import SleepRecorder

SECRET_KEY = "d360-SECRET-key-never-shown-0123456789"


@pytest.fixture
def sandbox() -> Sandbox:
    with serve(seed=11, groups=3, api_key=SECRET_KEY, failure_rate=0.0) as box:
        yield box


@pytest.fixture
def client(sandbox: Sandbox, sleeps: SleepRecorder) -> GroupClient:
    with GroupClient(
        api_key=SECRET_KEY, base_url=sandbox.url, sleep=sleeps, retry=RetryPolicy(max_attempts=4)
    ) as c:
        yield c
