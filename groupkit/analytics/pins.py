"""Do pins help?  Every pin from the send log, how it ended, and reading around it.

The API lets a group admin pin a message for 1 to 30 days; at most 3 messages stay
pinned, and "if three messages are already pinned when a new pin request is made,
the oldest pinned message will be automatically unpinned" (reference 1.2).  groupkit's
send log (``GroupClient(..., send_log=...)``) records each accepted ``pin`` and
``unpin``; :func:`pins` replays them per group under that rule:

* a pin ends by ``unpin`` (an unpin of it was accepted), ``expiry`` (its days ran
  out), or ``replaced`` (a pin while three were pinned unpinned it: the one pinned
  earliest);
* pinning a message that is already pinned restarts it: the running pin ends
  ``repinned`` and a new pin row starts (it takes no slot, so nothing is replaced);
* a pin still running when the archive ends has no ``ended_at``;
* an unpin of a message that is not pinned changes nothing (``attrs["unpins_ignored"]``).

Times are the API's acceptance (``accepted_at``); the log's order breaks ties.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from groupkit.analytics._backend import refuse_dask
from groupkit.analytics.deliveries import deliveries
from groupkit.analytics.names import name_groups
from groupkit.exceptions import GroupkitError

__all__ = ["ENDED_BY", "MAX_PINNED", "PINS", "pins"]

MAX_PINNED = 3
ENDED_BY = ("unpin", "expiry", "replaced", "repinned")
TS_MS = "datetime64[ms, UTC]"
TD = "timedelta64[s]"

PINS = {
    "group_id": "str",
    "message_id": "str",
    "pinned_at": TS_MS,
    "days": "Int64",
    "expires_at": TS_MS,
    "ended_at": TS_MS,
    "ended_by": "str",
    "recipients": "Int64",
    "unread_at_pin": "Int64",
    "read_rate_before": "Float64",
    "read_rate_during": "Float64",
    "time_to_read_before": TD,
    "time_to_read_during": TD,
}


def _pin_events(sends: pd.DataFrame) -> pd.DataFrame:
    """Accepted pin and unpin records, in the order they took effect."""
    operation = sends["operation"].astype("str")
    ok = sends["ok"].fillna(False).astype(bool)
    events = sends.loc[(operation.isin(["pin", "unpin"]) & ok).to_numpy()].copy()
    events["operation"] = operation.loc[events.index]
    events["at"] = events["accepted_at"].fillna(events["requested_at"]).astype(TS_MS)
    events["_order"] = np.arange(len(events))
    events = events[events["at"].notna() & events["pinned_message_id"].notna()]
    return events.sort_values(["at", "_order"], kind="stable")


def _archive_end(archive: Any) -> pd.Timestamp | None:
    """The latest time anything in the archive happened or was received."""
    latest = []
    for name, columns in (
        ("statuses", ("timestamp", "received_at")),
        ("messages", ("timestamp", "received_at")),
        ("group_events", ("timestamp", "received_at")),
        ("sends", ("accepted_at", "requested_at")),
    ):
        frame = getattr(archive, name, None)
        if frame is None or frame.empty:
            continue
        for column in columns:
            if column in frame.columns and frame[column].notna().any():
                latest.append(pd.Timestamp(frame[column].max()).tz_convert("UTC"))
    return max(latest) if latest else None


def _replay(events: pd.DataFrame, end: pd.Timestamp | None) -> tuple[list[dict], int]:
    """One dict per pin, with how and when it ended, under the platform's rules."""
    rows: list[dict] = []
    ignored = 0
    for group_id, group in events.groupby("group_id", sort=True, dropna=True):
        ignored += _replay_group(str(group_id), group, end, rows)
    return rows, ignored


def _replay_group(group_id: str, group: pd.DataFrame, end: Any, rows: list[dict]) -> int:
    """Append the pins of one group to ``rows``; return the unpins that changed nothing."""
    active: dict[str, int] = {}  # pinned message -> its row in `rows`
    ignored = 0

    def end_pin(message: str, when: pd.Timestamp, why: str) -> None:
        row = rows[active.pop(message)]
        row["ended_at"], row["ended_by"] = when, why

    def expire_until(when: pd.Timestamp) -> None:
        due = [
            (rows[i]["expires_at"], m)
            for m, i in active.items()
            if pd.notna(rows[i]["expires_at"]) and rows[i]["expires_at"] <= when
        ]
        for expires_at, message in sorted(due):
            end_pin(message, expires_at, "expiry")

    for event in group.itertuples(index=False):
        at, message = event.at, str(event.pinned_message_id)
        expire_until(at)
        if event.operation == "unpin":
            if message in active:
                end_pin(message, at, "unpin")
            else:
                ignored += 1
            continue
        if message in active:
            end_pin(message, at, "repinned")
        elif len(active) >= MAX_PINNED:
            oldest = min(active, key=lambda m: (rows[active[m]]["pinned_at"], active[m]))
            end_pin(oldest, at, "replaced")
        days = None if pd.isna(event.expiration_days) else int(event.expiration_days)
        rows.append(
            {
                "group_id": group_id,
                "message_id": message,
                "pinned_at": at,
                "days": days,
                "expires_at": at + pd.Timedelta(days=days) if days is not None else pd.NaT,
                "ended_at": pd.NaT,
                "ended_by": None,
            }
        )
        active[message] = len(rows) - 1
    if end is not None:
        expire_until(end)
    return ignored


def _reading(out: pd.DataFrame, frame: pd.DataFrame, end: pd.Timestamp | None) -> pd.DataFrame:
    """Read rate and median time to read of the pinned message before and during each pin."""
    receipts = frame[
        frame["participant_id"].notna() & (frame["state"].astype("str") != "failed")
    ].astype({"read_at": TS_MS, "sent_at": TS_MS})
    by_message = dict(tuple(receipts.groupby("message_id", sort=False)))
    stats: dict[str, list] = {name: [] for name in list(PINS)[7:]}
    window_end = pd.Timestamp.max.tz_localize("UTC") if end is None else end
    for pin in out.itertuples(index=False):
        rows = by_message.get(pin.message_id)
        if rows is None or rows.empty:
            for name in stats:
                stats[name].append(None)
            continue
        stop = pin.ended_at if pd.notna(pin.ended_at) else window_end
        read = rows["read_at"]
        before = read.notna() & (read < pin.pinned_at)
        during = read.notna() & (read >= pin.pinned_at) & (read < stop)
        unread = len(rows) - int(before.sum())
        stats["recipients"].append(len(rows))
        stats["unread_at_pin"].append(unread)
        stats["read_rate_before"].append(before.sum() / len(rows))
        stats["read_rate_during"].append(during.sum() / unread if unread else None)
        to_read = (read - rows["sent_at"])[before].dropna()
        stats["time_to_read_before"].append(to_read.median() if len(to_read) else None)
        since_pin = (read - pin.pinned_at)[during]
        stats["time_to_read_during"].append(since_pin.median() if len(since_pin) else None)
    extra = pd.DataFrame(stats, index=out.index)
    for name in ("time_to_read_before", "time_to_read_during"):
        extra[name] = pd.to_timedelta(extra[name])
    return out.assign(**{name: extra[name] for name in stats})


def pins(archive: Any, *, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per pin in the send log: how long it ran, how it ended, and reading around it.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive` read with its send log (the ``sends`` frame).
    frame
        Its :func:`groupkit.deliveries`, when already computed.

    Returns
    -------
    pandas.DataFrame
        ``group`` (readable name), ``message_id`` (the pinned message), ``pinned_at``,
        ``days``, ``expires_at``, ``ended_at`` and ``ended_by`` (``unpin``,
        ``expiry``, ``replaced`` or ``repinned``; null while still pinned at the end
        of the archive), then the pinned message's receipts (``recipients``: not
        failed), ``unread_at_pin``, ``read_rate_before`` (share of recipients who
        read it before the pin), ``read_rate_during`` (share of those unread at the
        pin who read it while it was pinned), ``time_to_read_before`` (median from
        ``sent`` to ``read`` of reads before the pin), ``time_to_read_during``
        (median from the pin to ``read`` of reads while pinned), and ``group_id``.
        Sorted by group and pin time; ``attrs["unpins_ignored"]`` counts unpins of
        messages that were not pinned.

    Raises
    ------
    GroupkitError
        For a Dask archive or a frame that is not an archive.

    Examples
    --------
    >>> import groupkit
    >>> def log(op, message, at, days=None):
    ...     return {"kind": "groupkit.send", "ok": True, "group_id": "G", "type": "pin",
    ...             "operation": op, "message_id": f"wamid.pin{at}", "requested_at": at,
    ...             "accepted_at": at, "pinned_message_id": message, "expiration_days": days}
    >>> records = [log("pin", f"wamid.{m}", 1760000000 + i, 7) for i, m in enumerate("ABCD")]
    >>> out = pins(groupkit.parse_webhooks(records))
    >>> out[["message_id", "ended_by"]].values.tolist()
    [['wamid.A', 'replaced'], ['wamid.B', nan], ['wamid.C', nan], ['wamid.D', nan]]
    """
    refuse_dask(archive, "groupkit.pins")
    sends = getattr(archive, "sends", None)
    if isinstance(archive, pd.DataFrame) or sends is None:
        raise GroupkitError(
            "pins needs an Archive read with groupkit's send log (its sends frame), not a frame"
        )
    end = _archive_end(archive)
    rows, ignored = _replay(_pin_events(sends), end)
    out = pd.DataFrame(rows, columns=list(PINS)[:7])
    for name in ("pinned_at", "expires_at", "ended_at"):
        out[name] = pd.to_datetime(out[name], utc=True)
    out = out.astype({name: PINS[name] for name in out.columns})
    if len(out):
        frame = deliveries(archive) if frame is None else frame
        out = _reading(out, frame, end)
    else:
        out = out.assign(**{name: pd.Series([], dtype=PINS[name]) for name in list(PINS)[7:]})
    out = out.astype(PINS).sort_values(["group_id", "pinned_at"], kind="stable")
    out = name_groups(out.reset_index(drop=True), archive)
    out.attrs["unpins_ignored"] = ignored
    return out
