"""Small typed results of the client's calls.

Examples
--------
>>> from datetime import datetime, timezone
>>> sent = SentMessage("wamid.A", "Y2FwaV9ncm91cDox", "text", {"type": "text"},
...                    datetime(2026, 1, 1, tzinfo=timezone.utc))
>>> sent.message_id, sent.accepted_at.year
('wamid.A', 2026)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["GroupInfo", "GroupSummary", "SentMessage"]


@dataclass(frozen=True)
class SentMessage:
    """A message (or pin/unpin) the API accepted.

    Attributes
    ----------
    message_id
        The wamid the API returned; statuses for it arrive by webhook.
    group_id
        The group it went to.
    type
        The message type: ``text``, ``image``, ..., ``template`` or ``pin``.
    payload
        The exact request body that was sent.
    accepted_at
        When the API's success answer arrived (UTC, client clock).
    message_status
        ``messages[].message_status`` when the API gives one (e.g. ``"accepted"``).
    attempts
        How many requests it took.
    """

    message_id: str
    group_id: str
    type: str
    payload: dict[str, Any] = field(repr=False)
    accepted_at: datetime
    message_status: str | None = None
    attempts: int = 1


@dataclass(frozen=True)
class GroupSummary:
    """One active group as listed by ``GET /groups``.

    Attributes
    ----------
    id
        The group ID.
    subject
        The group's name.
    created_at
        Creation time (UTC), when the API gives it.
    """

    id: str
    subject: str | None
    created_at: datetime | None


@dataclass(frozen=True)
class GroupInfo:
    """A group's details from ``GET /<GROUP_ID>``.

    Attributes
    ----------
    id, subject, description, join_approval_mode, suspended
        As the API returns them.
    participants
        WhatsApp IDs (or business-scoped user IDs) of the participants.
    total_participant_count
        Participants excluding the business.
    created_at
        ``creation_timestamp`` as a UTC datetime.
    raw
        The whole response body.
    """

    id: str
    subject: str | None = None
    description: str | None = None
    participants: tuple[str, ...] = ()
    total_participant_count: int | None = None
    join_approval_mode: str | None = None
    suspended: bool | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def to_datetime(value: Any) -> datetime | None:
    """Unix seconds as int, float or numeric string -> UTC datetime (else ``None``)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def group_summary(item: Mapping[str, Any]) -> GroupSummary:
    """Parse one item of ``data.groups[]`` (``created_at`` may be a string or an int)."""
    return GroupSummary(
        id=str(item.get("id")),
        subject=item.get("subject"),
        created_at=to_datetime(item.get("created_at")),
    )


def group_info(body: Mapping[str, Any]) -> GroupInfo:
    """Parse a group-info response (values may be quoted, as in Meta's sample)."""
    participants = []
    for item in body.get("participants") or []:
        if isinstance(item, Mapping):
            who = item.get("wa_id") or item.get("user_id")
            if who:
                participants.append(str(who))
    return GroupInfo(
        id=str(body.get("id")),
        subject=body.get("subject"),
        description=body.get("description"),
        participants=tuple(participants),
        total_participant_count=_to_int(body.get("total_participant_count")),
        join_approval_mode=body.get("join_approval_mode"),
        suspended=_to_bool(body.get("suspended")),
        created_at=to_datetime(body.get("creation_timestamp")),
        raw=dict(body),
    )
