"""Small, readable archives for the analytics tests, built straight in the schema's dtypes."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from groupkit import schema

T0 = 1_772_359_200  # 2026-03-01 10:00:00 UTC
GROUP = "Y2FwaV9ncm91cDoxNTU1MDc4Mzg4MToxMjAzNjM0MDAwMDAwMQZD"


def frame(name: str, rows: list[dict]) -> pd.DataFrame:
    """A frame of ``name`` in the schema's dtypes; ``timestamp`` is given as unix seconds."""
    dtypes = schema.dtypes(name)
    data = pd.DataFrame(rows, columns=list(dtypes))
    out = {}
    for col, dtype in dtypes.items():
        values = data[col]
        if dtype in (schema.TS, schema.TS_MS):
            values = pd.to_datetime(values.astype("Int64"), unit="s", utc=True)
        out[col] = values.astype(dtype)
    return pd.DataFrame(out)


def status(message_id: str, kind: str, at: int, participant: str | None = None, **extra) -> dict:
    """One group status row (`sent`/`failed` group-level when ``participant`` is None)."""
    return {
        "message_id": message_id,
        "status": kind,
        "timestamp": T0 + at,
        "group_id": extra.pop("group_id", GROUP),
        "recipient_id": GROUP,
        "recipient_type": "group",
        "participant_id": participant,
        **extra,
    }


def member(participant: str, change: str, at: int, group_id: str = GROUP) -> dict:
    return {
        "group_id": group_id,
        "participant_id": participant,
        "change": change,
        "timestamp": T0 + at,
    }


def make_archive(statuses=(), membership=(), errors=(), messages=()) -> SimpleNamespace:
    """An object with the Archive's frames, for pure-function tests."""
    return SimpleNamespace(
        statuses=frame("statuses", list(statuses)),
        membership=frame("membership", list(membership)),
        errors=frame("errors", list(errors)),
        messages=frame("messages", list(messages)),
        group_events=schema.empty_frame("group_events"),
        other_changes=schema.empty_frame("other_changes"),
    )


def at(seconds: int) -> pd.Timestamp:
    """Seconds after T0 as the UTC timestamp the frames hold."""
    return pd.Timestamp(T0 + seconds, unit="s", tz="UTC")
