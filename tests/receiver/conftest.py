"""Fixtures for the receiver tests: secrets, webhooks to send, and a live receiver on loopback."""

from __future__ import annotations

import json

import httpx
import pytest

from groupkit import webhooks
from groupkit.receiver import ReceiverSecrets, Secret, serve
from groupkit.signatures import sign

APP_SECRET = "app-secret-0f9e"
VERIFY_TOKEN = "verify-token-77aa"
D360_SECRET = "d360-platform-secret-31"
GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"


def webhook(n: int, *, status: str = "delivered") -> bytes:
    """A group status POST as Meta sends it, its message id ``wamid.T<n>``."""
    item = webhooks.status(
        f"wamid.T{n}", status, 1764590000 + n, group_id=GROUP, participant="16505550101"
    )
    hook = webhooks.envelope(
        "messages", {"statuses": [item]}, meta={"phone_number_id": webhooks.PHONE_NUMBER_ID}
    )
    return json.dumps(hook).encode()


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"X-Hub-Signature-256": sign(body, secret), "Content-Type": "application/json"}


@pytest.fixture
def secrets() -> ReceiverSecrets:
    return ReceiverSecrets(app_secret=Secret(APP_SECRET), verify_token=Secret(VERIFY_TOKEN))


@pytest.fixture
def receiver(tmp_path, secrets):
    with serve(tmp_path / "archive", secrets=secrets) as running:
        yield running


@pytest.fixture
def http(receiver):
    with httpx.Client(base_url=receiver.url, timeout=10) as client:
        yield client
