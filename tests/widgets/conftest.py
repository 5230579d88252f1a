"""Fixtures for the widget tests: a live sandbox on loopback and a client pointed at it."""

from __future__ import annotations

import json

import ipywidgets as widgets
import pytest

from groupkit.client import GroupClient, RetryPolicy
from groupkit.sandbox import Sandbox, serve
from groupkit.widgets._common import descendants
from tests.helpers import SleepRecorder

SECRET_KEY = "d360-WIDGET-secret-key-never-shown-42"


def widget_text(root: widgets.Widget) -> str:
    """Everything a widget tree would send to the browser, as one string."""
    parts = []
    for widget in descendants(root):
        parts.append(json.dumps(widget.get_state(), default=str))
        parts.append(repr(widget))
    return "\n".join(parts)


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    with serve(
        seed=7, groups=2, api_key=SECRET_KEY, failure_rate=0.0, archive=tmp_path / "archive"
    ) as box:
        yield box


@pytest.fixture
def client(sandbox: Sandbox, sleeps: SleepRecorder) -> GroupClient:
    with GroupClient(
        api_key=SECRET_KEY, base_url=sandbox.url, sleep=sleeps, retry=RetryPolicy(max_attempts=3)
    ) as c:
        yield c
