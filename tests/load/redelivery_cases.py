"""Hand-built statuses with the redeliveries marked by hand, for the pandas loader and Dask.

Each case uses its own message id, so the cases do not meet; together they are one
frame whose expected drops are the cases' drops in order.
"""

from __future__ import annotations

import pandas as pd

from groupkit import schema

T0 = "2026-03-01 10:00:00"
# (case, [(message_id, status, timestamp, source, received_at, pricing), ...], drops by hand)
CASES = [
    ("the same status in two records: the later one goes",
     [("wamid.1", "sent", T0, "a:1", None, None), ("wamid.1", "sent", T0, "b:1", None, None)],
     [False, True]),
    ("the same item twice in one record is not a redelivery",
     [("wamid.2", "sent", T0, "a:2", None, None), ("wamid.2", "sent", T0, "a:2", None, None)],
     [False, False]),
    ("two copies in one record, one in another: only the other record's copy goes",
     [("wamid.3", "read", T0, "a:3", None, None), ("wamid.3", "read", T0, "a:3", None, None),
      ("wamid.3", "read", T0, "b:3", None, None)],
     [False, False, True]),
    ("received earlier wins over read earlier",
     [("wamid.4", "sent", T0, "a:4", "2026-03-01 12:00", None),
      ("wamid.4", "sent", T0, "b:4", "2026-03-01 11:00", None)],
     [True, False]),
    ("a known receive time wins over a missing one",
     [("wamid.5", "sent", T0, "a:5", None, None),
      ("wamid.5", "sent", T0, "b:5", "2026-03-01 10:00", None)],
     [True, False]),
    ("another timestamp or another status is another event",
     [("wamid.6", "sent", T0, "a:6", None, None),
      ("wamid.6", "sent", "2026-03-01 10:00:01", "b:6", None, None),
      ("wamid.6", "delivered", T0, "b:6", None, None)],
     [False, False, False]),
    ("a difference outside the first-pass keys (pricing) is another event",
     [("wamid.7", "sent", T0, "a:7", None, "regular"),
      ("wamid.7", "sent", T0, "b:7", None, "authentication")],
     [False, False]),
]  # fmt: skip


def statuses(cases=CASES, with_received_at: bool = True) -> tuple[pd.DataFrame, list[bool]]:
    """The cases' rows as one statuses frame (schema columns), and the drops by hand."""
    rows = [row for _, case_rows, _ in cases for row in case_rows]
    drops = [drop for _, _, case_drops in cases for drop in case_drops]
    frame = schema.empty_frame("statuses").reindex(range(len(rows)))
    message_id, status, timestamp, source, received_at, pricing = zip(*rows, strict=True)
    frame["message_id"] = pd.array(message_id, dtype="str")
    frame["status"] = pd.Categorical(status)
    frame["timestamp"] = pd.to_datetime(list(timestamp), utc=True).as_unit("s")
    frame["source"] = pd.array(source, dtype="str")
    frame["group_id"] = pd.array(["G1"] * len(rows), dtype="str")
    frame["pricing_category"] = pd.Categorical(pricing)
    received = pd.to_datetime(list(received_at), utc=True).as_unit("ms")
    frame["received_at"] = received if with_received_at else pd.NaT
    return frame, drops
