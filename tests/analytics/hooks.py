"""Tiny webhook payloads and send-log lines for hand-computed tests of costs, health and pins."""

from __future__ import annotations

import pandas as pd

from groupkit import webhooks

GROUP = "Y2FwaV9ncm91cDoxNTU1MDc4Mzg4MToxMjAzNjM0MDAwMDAwMQZD"
T0 = 1_772_359_200  # 2026-03-01 10:00:00 UTC


def at(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(T0 + seconds, unit="s", tz="UTC")


def status(
    message: str,
    kind: str,
    seconds: int,
    participant: str | None = None,
    *,
    pricing: dict | None = None,
    bsuid: str | None = None,
    group: str = GROUP,
    t0: int = T0,
) -> dict:
    """One status object (group-level ``sent``/``failed`` without a participant)."""
    extra = {}
    if bsuid is not None:
        extra["recipient_participant_user_id"] = bsuid
    if pricing is not None:
        extra["pricing"] = pricing
    return webhooks.status(
        message, kind, t0 + seconds, group_id=group, participant=participant, **extra
    )


def post(*statuses: dict, received_at: str | None = None) -> dict:
    """A ``messages`` webhook POST with these statuses, optionally in a receipt envelope."""
    hook = webhooks.envelope("messages", {"statuses": list(statuses)}, with_metadata=False)
    return hook if received_at is None else {"received_at": received_at, "body": hook}


def pricing(category: str, kind: str = "regular", *, subtype: str | None = None, billable=None):
    out = {"pricing_model": "PMP", "type": kind, "category": category}
    if billable is not None:
        out["billable"] = billable
    if subtype is not None:
        out["subtype"] = subtype
    return out


def send_line(
    operation: str,
    seconds: float,
    pinned: str | None = None,
    *,
    days: int | None = None,
    ok: bool = True,
    message: str | None = None,
    group: str = GROUP,
) -> dict:
    """One line of groupkit's send log (``pin``/``unpin`` or a send)."""
    return {
        "kind": "groupkit.send",
        "version": 1,
        "message_id": message or f"wamid.op{seconds}",
        "group_id": group,
        "type": "pin" if operation in ("pin", "unpin") else "text",
        "operation": operation,
        "requested_at": T0 + seconds - 0.2,
        "accepted_at": T0 + seconds if ok else None,
        "ok": ok,
        "attempts": 1,
        "pinned_message_id": pinned,
        "expiration_days": days,
        "provider": "360dialog",
    }
