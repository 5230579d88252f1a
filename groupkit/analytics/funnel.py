"""The delivery funnel: recipients >= delivered >= read, plus failed and pending."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from groupkit.analytics._backend import is_dask
from groupkit.analytics._common import as_list, deliveries_of, with_keys

__all__ = ["funnel"]

_COUNTS = ["messages", "messages_failed", "recipients", "delivered", "read", "failed", "pending"]
_RATES = ["delivered_rate", "read_rate", "read_of_delivered", "failed_rate", "pending_rate"]


def funnel(
    data: Any, *, by: str | Sequence[str] | None = "group_id", freq: str | None = None
) -> pd.DataFrame:
    """Nested receipt counts and their rates, per group (or any key, or overall).

    Every count is a count of (message, participant) rows of :func:`groupkit.deliveries`
    in a state, so the nesting holds by construction: a read receipt counts once in
    ``recipients``, once in ``delivered`` and once in ``read``; nothing is summed over
    webhooks.

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
        The ``by`` columns, then ``messages`` (distinct messages), ``messages_failed``,
        ``recipients`` (rows with a known participant), ``delivered`` (delivered or
        read), ``read``, ``failed``, ``pending`` (member at send, nothing reported),
        and the rates ``delivered_rate``, ``read_rate``, ``failed_rate``,
        ``pending_rate`` (over ``recipients``) and ``read_of_delivered``.

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(3))
    >>> frame["group_id"], frame["message_id"] = "G", "wamid.1"
    >>> frame["participant_id"] = ["1", "2", "3"]
    >>> frame["state"] = ["read", "delivered", "pending"]
    >>> funnel(frame)[["recipients", "delivered", "read", "pending"]].values.tolist()
    [[3, 2, 1, 1]]
    """
    if is_dask(data):
        from groupkit.dask.analytics import funnel as dask_funnel

        return dask_funnel(data, by=by, freq=freq)
    frame = deliveries_of(data)
    frame, keys = with_keys(frame, as_list(by), freq, "sent_at")
    state = frame["state"].astype("str")
    known = frame["participant_id"].notna()
    failed_rows = state == "failed"
    table = pd.DataFrame(
        {
            "message_id": frame["message_id"],
            "failed_message": frame["message_id"].where(failed_rows),
            "recipients": known,
            "delivered": known & state.isin(["delivered", "read"]),
            "read": known & (state == "read"),
            "failed": known & failed_rows,
            "pending": known & (state == "pending"),
        }
    )
    for key in keys:
        table[key] = frame[key]
    aggs = {
        "messages": ("message_id", "nunique"),
        "messages_failed": ("failed_message", "nunique"),
        **{
            name: (name, "sum") for name in ("recipients", "delivered", "read", "failed", "pending")
        },
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
    return out[[*keys, *_COUNTS, *_RATES]]
