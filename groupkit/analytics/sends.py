"""From API acceptance to ``sent``: join groupkit's send log to the statuses."""

from __future__ import annotations

import pandas as pd

SEND_TIMES = {
    "group_id": "str",
    "message_id": "str",
    "type": "category",
    "requested_at": "datetime64[ms, UTC]",
    "accepted_at": "datetime64[ms, UTC]",
    "sent_at": "datetime64[s, UTC]",
    "attempts": "Int64",
    "acceptance_to_sent": "timedelta64[ms]",
}


def send_times(archive) -> pd.DataFrame:
    """Per message sent through :class:`groupkit.GroupClient` with a send log: when the
    client asked, when the API accepted it, and when Meta reported it ``sent``.

    The send log (``GroupClient(..., send_log=PATH)``) is read beside the webhooks by
    :func:`groupkit.read_webhooks`; only accepted sends with a message id appear.
    ``acceptance_to_sent`` is ``sent_at - accepted_at``; it is null until a ``sent``
    status arrives. Note that ``accepted_at`` is the client's clock and ``sent_at``
    Meta's, so small negative values mean clock skew, not time travel.

    Parameters
    ----------
    archive
        An :class:`groupkit.Archive` whose ``sends`` frame is not empty.

    Returns
    -------
    pandas.DataFrame
        ``group_id, message_id, type, requested_at, accepted_at, sent_at, attempts,
        acceptance_to_sent``, one row per accepted send.

    Examples
    --------
    >>> import groupkit
    >>> send = {"kind": "groupkit.send", "message_id": "wamid.A", "group_id": "G",
    ...         "type": "text", "requested_at": 1750000000.0, "accepted_at": 1750000000.4,
    ...         "ok": True, "attempts": 1}
    >>> sent = {"entry": [{"id": "1", "changes": [{"field": "messages", "value": {
    ...     "statuses": [{"id": "wamid.A", "status": "sent", "timestamp": "1750000002",
    ...                   "recipient_id": "G", "recipient_type": "group"}]}}]}]}
    >>> send_times(groupkit.parse_webhooks([send, sent]))["acceptance_to_sent"].tolist()
    [Timedelta('0 days 00:00:01.600000')]
    """
    sends = archive.sends
    sends = sends[sends["ok"].fillna(False).astype(bool) & sends["message_id"].notna()]
    first = sends.sort_values("accepted_at", kind="stable").drop_duplicates("message_id")
    st = archive.statuses
    sent = (
        st[st["status"].astype("str") == "sent"]
        .groupby("message_id", observed=True)["timestamp"]
        .min()
        .rename("sent_at")
    )
    out = first[["group_id", "message_id", "type", "requested_at", "accepted_at", "attempts"]]
    out = out.merge(sent, how="left", left_on="message_id", right_index=True)
    out["acceptance_to_sent"] = out["sent_at"].astype("datetime64[ms, UTC]") - out["accepted_at"]
    return out[list(SEND_TIMES)].astype(SEND_TIMES).reset_index(drop=True)
