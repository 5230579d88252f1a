"""Read coverage: the share of members at send time who read a message within a time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from groupkit.analytics._common import deliveries_of
from groupkit.analytics._time import bucket
from groupkit.analytics.names import name_groups

__all__ = ["read_coverage"]


def _within(within: str | float | pd.Timedelta) -> pd.Timedelta:
    if isinstance(within, int | float):
        return pd.Timedelta(seconds=within)
    return pd.Timedelta(within)


def read_coverage(
    data: Any, *, within: str | float | pd.Timedelta = "1h", freq: str | None = None
) -> pd.DataFrame:
    """Per message (or per group over time), the share of members who read it in time.

    The denominator is the members at send time (from membership webhooks), so a
    member who never reported anything lowers coverage.  For a group whose
    membership the archive does not hold, it falls back to the participants that
    reported (``members_known`` is ``False``), which overstates coverage.

    Parameters
    ----------
    data
        A :class:`groupkit.Archive` or a frame from :func:`groupkit.deliveries`.
    within
        How soon after ``sent_at`` a read counts, e.g. ``"1h"``, ``"30min"``, or
        seconds as a number.
    freq
        ``None`` for one row per message; ``"half_hour"``, ``"day"`` or ``"month"``
        for one row per group and bucket of ``sent_at``.

    Returns
    -------
    pandas.DataFrame
        ``group`` first (the group's subject or the end of its id, see
        :func:`groupkit.analytics.names.name_groups`) and the full ``group_id``
        last; between them, per message: ``message_id, sent_at, members, members_known,
        readers, readers_within, coverage`` (``readers_within / members``),
        ``coverage_any`` (``readers / members``) and ``failed``.
        Per group and bucket: ``bucket, messages, members, readers_within,
        coverage`` (sum of readers within over sum of members) and
        ``mean_message_coverage``.  ``within_s`` gives the threshold in seconds.

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(4))
    >>> frame["group_id"], frame["message_id"] = "G", "wamid.1"
    >>> frame["participant_id"] = ["1", "2", "3", "4"]
    >>> frame["member_at_send"] = pd.array([True] * 4, dtype="boolean")
    >>> frame["state"] = ["read", "read", "delivered", "pending"]
    >>> frame["read_latency"] = pd.to_timedelta([60, 7200, None, None], unit="s")
    >>> out = read_coverage(frame, within="1h")
    >>> print(out[["members", "readers", "readers_within", "coverage"]].to_string(index=False))
     members  readers  readers_within  coverage
           4        2               1      0.25
    """
    return name_groups(_read_coverage(data, within=within, freq=freq), data)


def _read_coverage(
    data: Any, *, within: str | float | pd.Timedelta, freq: str | None
) -> pd.DataFrame:
    limit = _within(within)
    frame = deliveries_of(data)
    known = frame["member_at_send"].notna()
    counted = frame["member_at_send"].fillna(False).astype("bool") | (
        ~known & frame["participant_id"].notna()
    )
    read_in_time = frame["read_latency"].notna() & (frame["read_latency"] <= limit)
    table = pd.DataFrame(
        {
            "group_id": frame["group_id"],
            "message_id": frame["message_id"],
            "sent_at": frame["sent_at"],
            "members": counted,
            "members_known": known,
            "readers": counted & (frame["state"].astype("str") == "read"),
            "readers_within": counted & read_in_time,
            "failed": frame["state"].astype("str") == "failed",
        }
    )
    per_message = (
        table.groupby(["group_id", "message_id"], sort=False)
        .agg(
            sent_at=("sent_at", "first"),
            members=("members", "sum"),
            members_known=("members_known", "all"),
            readers=("readers", "sum"),
            readers_within=("readers_within", "sum"),
            failed=("failed", "any"),
        )
        .reset_index()
    )
    for name in ("members", "readers", "readers_within"):
        per_message[name] = per_message[name].astype("int64")
    members = per_message["members"].replace(0, np.nan)
    per_message["coverage"] = per_message["readers_within"] / members
    per_message["coverage_any"] = per_message["readers"] / members
    per_message["within_s"] = limit.total_seconds()
    per_message = per_message.sort_values(["group_id", "sent_at", "message_id"]).reset_index(
        drop=True
    )
    columns = [
        "group_id",
        "message_id",
        "sent_at",
        "members",
        "members_known",
        "readers",
        "readers_within",
        "coverage",
        "coverage_any",
        "failed",
        "within_s",
    ]
    per_message = per_message[columns]
    if freq is None:
        return per_message
    per_message = per_message.assign(bucket=bucket(per_message["sent_at"], freq))
    grouped = per_message.groupby(["group_id", "bucket"], sort=True)
    out = grouped.agg(
        messages=("message_id", "size"),
        members=("members", "sum"),
        readers_within=("readers_within", "sum"),
        mean_message_coverage=("coverage", "mean"),
    ).reset_index()
    out["coverage"] = out["readers_within"] / out["members"].replace(0, np.nan)
    out["within_s"] = limit.total_seconds()
    return out[
        [
            "group_id",
            "bucket",
            "messages",
            "members",
            "readers_within",
            "coverage",
            "mean_message_coverage",
            "within_s",
        ]
    ]
