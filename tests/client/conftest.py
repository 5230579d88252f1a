"""Fixtures for the client tests: a live sandbox on loopback and clients pointed at it."""

from __future__ import annotations

import pytest

from groupkit.client import GroupClient, RetryPolicy
from groupkit.sandbox import Sandbox, serve

SECRET_KEY = "d360-SECRET-key-never-shown-0123456789"


class SleepRecorder:
    """Stands in for time.sleep so retries are observable and tests never wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sandbox() -> Sandbox:
    with serve(seed=11, groups=3, api_key=SECRET_KEY, failure_rate=0.0) as box:
        yield box


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def client(sandbox: Sandbox, sleeps: SleepRecorder) -> GroupClient:
    with GroupClient(
        api_key=SECRET_KEY, base_url=sandbox.url, sleep=sleeps, retry=RetryPolicy(max_attempts=4)
    ) as c:
        yield c
