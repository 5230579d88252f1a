"""The delivery funnel: recipients >= delivered >= read, plus failed and pending.

The counting rules every view of groupkit uses (report, ``groupkit summary``, the
dashboard, the notebooks): a receipt is a row of :func:`groupkit.deliveries`, that is
a (message, participant), or, for a message whose recipients the archive cannot tell
(no membership webhooks for its group and no participant reported), one row standing
for its unknown recipients.  Each receipt is in exactly one of ``delivered`` (read
included), ``failed`` and ``pending``, so the three rates add up to one, and a
message that failed at group level is failed in every rate, never "0 % failed".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from groupkit.analytics._backend import implementation
from groupkit.analytics._common import as_list, deliveries_of, with_keys
from groupkit.analytics.names import name_groups

__all__ = ["funnel"]

_COUNTS = [
    "messages",
    "messages_failed",
    "recipients",
    "recipients_unknown",
    "delivered",
    "read",
    "failed",
    "pending",
]
_RATES = [
    "delivered_rate",
    "read_rate",
    "read_of_delivered",
    "failed_rate",
    "pending_rate",
    "messages_failed_rate",
]


def funnel(
    data: Any, *, by: str | Sequence[str] | None = "group_id", freq: str | None = None
) -> pd.DataFrame:
    """Nested receipt counts and their rates, per group (or any key, or overall).

    Every count is a count of rows of :func:`groupkit.deliveries` (receipts) in a
    state, so the nesting holds by construction: a read receipt counts once in
    ``recipients``, once in ``delivered`` and once in ``read``; nothing is summed over
    webhooks.  A message whose recipients are unknown (its group has no membership
    webhooks and nobody reported on it) is one receipt, counted in
    ``recipients_unknown``: if it failed, it is a failed receipt, so a group whose
    messages failed outright never reads "0 % failed".

    Parameters
    ----------
    data
        A :class:`groupkit.Archive` or a frame from :func:`groupkit.deliveries`.
    by
        Column(s) of ``deliveries`` (or ``"hour"``/``"weekday"`` of ``sent_at``);
        ``None`` for one overall row.
    freq
        Also group by the ``sent_at`` bucket (``"half_hour"``, ``"day"``, ``"month"``).

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, then ``messages`` (distinct messages), ``messages_failed``
        (messages with a failed receipt), ``recipients`` (receipts), of which
        ``recipients_unknown`` (messages whose recipients are unknown, one receipt
        each), ``delivered`` (delivered or read), ``read``, ``failed``, ``pending``
        (nothing reported yet: a member at send time with no receipt, or a message
        with unknown recipients that only reached ``sent``); the rates
        ``delivered_rate``, ``read_rate``, ``failed_rate``, ``pending_rate`` (over
        ``recipients``; delivered + failed + pending = 1), ``read_of_delivered`` and
        ``messages_failed_rate`` (``messages_failed / messages``).
        Grouped by ``group_id``, a readable ``group`` column
        (:func:`groupkit.analytics.names.name_groups`) comes first and the full
        ``group_id`` last.

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(3))
    >>> frame["group_id"], frame["message_id"] = "G", "wamid.1"
    >>> frame["participant_id"] = ["1", "2", "3"]
    >>> frame["state"] = ["read", "delivered", "pending"]
    >>> funnel(frame)[["recipients", "delivered", "read", "pending"]].values.tolist()
    [[3, 2, 1, 1]]

    A message that failed in a group whose members the archive does not know:

    >>> failed = empty_deliveries().reindex(range(1))
    >>> failed["group_id"], failed["message_id"], failed["state"] = "G", "wamid.2", "failed"
    >>> row = funnel(failed).iloc[0]
    >>> int(row["recipients_unknown"]), int(row["failed"]), float(row["failed_rate"])
    (1, 1, 1.0)
    """
    engine = implementation("funnel", data)
    if engine is not None:
        return engine(data, by=by, freq=freq)
    return name_groups(summarise_funnel(data, by=by, freq=freq), data)


def summarise_funnel(
    data: Any, *, by: str | Sequence[str] | None = "group_id", freq: str | None = None
) -> pd.DataFrame:
    """:func:`funnel` of a pandas input, keys first and unnamed (see
    :func:`groupkit.analytics.names.name_groups`): what a Dask partition runs.

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> list(summarise_funnel(empty_deliveries()).columns)[:2]
    ['group_id', 'messages']
    """
    frame = deliveries_of(data)
    frame, keys = with_keys(frame, as_list(by), freq, "sent_at")
    state = frame["state"].astype("str")
    failed_rows = (state == "failed").to_numpy()
    table = pd.DataFrame(
        {
            "message_id": frame["message_id"],
            "failed_message": frame["message_id"].where(failed_rows),
            "recipients": np.ones(len(frame), dtype=bool),
            "recipients_unknown": frame["participant_id"].isna().to_numpy(),
            "delivered": state.isin(["delivered", "read"]).to_numpy(),
            "read": (state == "read").to_numpy(),
            "failed": failed_rows,
            # "sent" is the state of a message with unknown recipients that nobody
            # reported on: nothing delivered yet, like a silent member.
            "pending": state.isin(["pending", "sent"]).to_numpy(),
        }
    )
    for key in keys:
        table[key] = frame[key]
    aggs = {
        "messages": ("message_id", "nunique"),
        "messages_failed": ("failed_message", "nunique"),
        **{name: (name, "sum") for name in _COUNTS[2:]},
    }
    if keys:
        out = table.groupby(keys, observed=True, dropna=False, sort=True).agg(**aggs).reset_index()
    else:
        out = pd.DataFrame(
            [{name: getattr(table[col], how)() for name, (col, how) in aggs.items()}]
        )
    out[_COUNTS] = out[_COUNTS].astype("int64")
    recipients = out["recipients"].replace(0, np.nan)
    out["delivered_rate"] = out["delivered"] / recipients
    out["read_rate"] = out["read"] / recipients
    out["read_of_delivered"] = out["read"] / out["delivered"].replace(0, np.nan)
    out["failed_rate"] = out["failed"] / recipients
    out["pending_rate"] = out["pending"] / recipients
    out["messages_failed_rate"] = out["messages_failed"] / out["messages"].replace(0, np.nan)
    return out[[*keys, *_COUNTS, *_RATES]]
