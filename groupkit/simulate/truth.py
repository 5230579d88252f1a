"""The ground truth of a simulated archive, as frames.

Built from the model's own records (:class:`~groupkit.simulate.model.MessageOutcome`
and the membership events it drew), never by reading the archive back, so an
analytics result that equals it is right for an independent reason.

Examples
--------
>>> truth = build_truth([], {}, [])
>>> truth.deliveries.empty, list(truth.membership.columns)
(True, ['group_id', 'participant_id', 'change', 'timestamp'])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from groupkit.analytics.deliveries import DELIVERIES, STATES
from groupkit.catalog import lookup
from groupkit.simulate.model import MessageOutcome

__all__ = ["Truth", "build_truth"]


@dataclass
class Truth:
    """What really happened in a simulated archive.

    Attributes
    ----------
    deliveries
        One row per (business message, recipient) with the true sent, delivered,
        read and failed times and final state, in the columns and dtypes of
        :func:`groupkit.deliveries`.  Recipients are the members at send time
        where the archive holds the group's membership, else the participants that
        got a receipt webhook (all an archive can show).
    membership
        Every join and leave: ``group_id, participant_id, change, timestamp``.
    inbound
        Participant messages: ``message_id, group_id, from_id, type, timestamp``.
    outcomes
        The model's :class:`~groupkit.simulate.model.MessageOutcome` per message.
    counts
        Injected irregularities: ``read_duplicates`` (a read re-sent with a later
        timestamp) and ``stray_delivered`` (a delivered after a failed).
    """

    deliveries: pd.DataFrame
    membership: pd.DataFrame
    inbound: pd.DataFrame
    outcomes: list[MessageOutcome] = field(repr=False)
    counts: dict[str, int]


def _ts(values: list) -> pd.Series:
    return pd.Series(pd.to_datetime(pd.Series(values, dtype="Int64"), unit="s", utc=True)).astype(
        "datetime64[s, UTC]"
    )


def _rows(outcome: MessageOutcome, known: bool) -> list[dict]:
    code = outcome.error_code
    info = lookup(code) if code is not None else None
    title = info.title if info is not None else None
    failed = outcome.failed_at is not None
    stray = outcome.extra.get("stray_participants", ())
    if known:
        recipients = list(outcome.participants)
    else:
        recipients = [r.participant_id for r in outcome.receipts if r.delivered_at is not None] + [
            p for p in stray
        ]
        recipients = list(dict.fromkeys(recipients))
    receipts = {r.participant_id: r for r in outcome.receipts}
    common = {
        "group_id": outcome.group_id,
        "message_id": outcome.message_id,
        "sent_at": outcome.sent_at,
        "failed_at": outcome.failed_at,
        "error_code": code,
        "error_title": title,
        "biz_opaque_callback_data": outcome.biz_opaque_callback_data,
    }
    if not recipients:
        state = "failed" if failed else "sent"
        return [
            {
                **common,
                "participant_id": None,
                "delivered_at": None,
                "read_at": None,
                "state": state,
                "delivered_implied": False,
                "member_at_send": pd.NA,
                "pricing_category": None,
            }
        ]
    rows = []
    for pid in recipients:
        receipt = receipts.get(pid)
        delivered = receipt.delivered_at if receipt is not None and not failed else None
        read = receipt.read_at if receipt is not None and not failed else None
        if failed:
            state = "failed"
        elif read is not None:
            state = "read"
        elif delivered is not None:
            state = "delivered"
        else:
            state = "pending"
        rows.append(
            {
                **common,
                "participant_id": pid,
                "delivered_at": delivered,
                "read_at": read,
                "state": state,
                "delivered_implied": bool(
                    receipt is not None and not failed and not receipt.delivered_reported
                ),
                "member_at_send": True if known else pd.NA,
                # Pricing rides on the delivered (or the read when no delivered comes).
                "pricing_category": outcome.pricing_category if delivered is not None else None,
            }
        )
    return rows


def build_truth(
    outcomes: list[MessageOutcome],
    groups: dict[str, tuple[bool, list[tuple[int, str, str]]]],
    inbound: list[dict],
) -> Truth:
    """Turn the model's records into truth frames.

    Parameters
    ----------
    outcomes
        Every business message's true fate.
    groups
        ``group_id -> (membership_in_archive, [(timestamp, participant_id, "join"|"leave")])``.
    inbound
        Participant messages as dicts with ``message_id, group_id, from_id, type, ts``.

    Returns
    -------
    Truth

    Examples
    --------
    >>> build_truth([], {"G": (True, [(1, "1650", "join")])}, []).membership.shape
    (1, 4)
    """
    rows = [
        row
        for outcome in outcomes
        for row in _rows(outcome, groups.get(outcome.group_id, (True, []))[0])
    ]
    columns = list(DELIVERIES)
    frame = pd.DataFrame(rows, columns=[c for c in columns if c not in _DERIVED])
    for name in ("sent_at", "delivered_at", "read_at", "failed_at"):
        frame[name] = _ts(frame[name].tolist())
    frame["delivery_latency"] = frame["delivered_at"] - frame["sent_at"]
    frame["read_latency"] = frame["read_at"] - frame["sent_at"]
    frame["read_after_delivery"] = frame["read_at"] - frame["delivered_at"]
    frame = frame[columns]
    typed = {}
    for name, col in DELIVERIES.items():
        if name == "state":
            typed[name] = pd.Categorical(frame[name], categories=list(STATES))
        elif col.dtype == "bool":
            typed[name] = frame[name].astype("bool")
        else:
            typed[name] = frame[name].astype(col.dtype)
    deliveries = pd.DataFrame(typed)
    deliveries = deliveries.sort_values(
        ["group_id", "message_id", "participant_id"], kind="stable"
    ).reset_index(drop=True)

    events = [
        {"group_id": gid, "participant_id": pid, "change": change, "timestamp": ts}
        for gid, (_, changes) in groups.items()
        for ts, pid, change in sorted(changes)
    ]
    membership = pd.DataFrame(events, columns=["group_id", "participant_id", "change", "timestamp"])
    membership = membership.astype({"group_id": "str", "participant_id": "str", "change": "str"})
    membership["timestamp"] = _ts(membership["timestamp"].tolist())

    inbound_frame = pd.DataFrame(
        inbound, columns=["message_id", "group_id", "from_id", "type", "ts"]
    ).rename(columns={"ts": "timestamp"})
    inbound_frame = inbound_frame.astype(
        {"message_id": "str", "group_id": "str", "from_id": "str", "type": "str"}
    )
    inbound_frame["timestamp"] = _ts(inbound_frame["timestamp"].tolist())

    counts = {
        "read_duplicates": sum(o.extra.get("read_duplicates", 0) for o in outcomes),
        "stray_delivered": sum(o.extra.get("stray_delivered", 0) for o in outcomes),
    }
    return Truth(
        deliveries=deliveries,
        membership=membership,
        inbound=inbound_frame,
        outcomes=outcomes,
        counts=counts,
    )


_DERIVED = ("delivery_latency", "read_latency", "read_after_delivery")
