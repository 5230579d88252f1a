"""Small, named webhook builders for the loader tests."""

from __future__ import annotations

import json
from pathlib import Path

from groupkit import webhooks

WABA = webhooks.WABA_ID
PHONE_ID = webhooks.PHONE_NUMBER_ID
GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
PEER_FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "peer_fixtures" / "pywa"


def hook(field: str, value: dict, *, waba: str = WABA) -> dict:
    """One POST with one entry and one change."""
    return webhooks.envelope(field, value, waba_id=waba, meta=webhooks.metadata(PHONE_ID))


def status(
    mid: str, state: str, ts: int | str = 1750000000, participant: str | None = None, **extra
) -> dict:
    # extra may hold keys of the status itself (a "group_id", another "recipient_type").
    return {**webhooks.status(mid, state, ts, group_id=GROUP, participant=participant), **extra}


def statuses(*items: dict) -> dict:
    return hook("messages", {"statuses": list(items)})


def text_message(
    mid: str, sender: str = "16505551234", body: str = "hi", ts: int = 1750000100
) -> dict:
    return hook(
        "messages",
        {
            "contacts": [{"profile": {"name": "Tiago"}, "wa_id": sender}],
            "messages": [
                {
                    "from": sender,
                    "group_id": GROUP,
                    "id": mid,
                    "timestamp": str(ts),
                    "type": "text",
                    "text": {"body": body},
                }
            ],
        },
    )


def ndjson(*records: dict | str) -> bytes:
    return b"".join((r if isinstance(r, str) else json.dumps(r)).encode() + b"\n" for r in records)
