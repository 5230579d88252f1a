"""Small, named webhook builders for the loader tests."""

from __future__ import annotations

import json
from pathlib import Path

WABA = "102290129340398"
PHONE_ID = "106540352242922"
GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
PEER_FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "peer_fixtures" / "pywa"


def hook(field: str, value: dict, *, waba: str = WABA) -> dict:
    """One POST with one entry and one change."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_ID},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba, "changes": [{"value": value, "field": field}]}],
    }


def status(
    mid: str, state: str, ts: int | str = 1750000000, participant: str | None = None, **extra
) -> dict:
    out = {
        "id": mid,
        "status": state,
        "timestamp": str(ts) if isinstance(ts, int) else ts,
        "recipient_id": GROUP,
        "recipient_type": "group",
    }
    if participant is not None:
        out["recipient_participant_id"] = participant
    return {**out, **extra}


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
