"""Can the feed be trusted?  The webhook feed itself, measured per period.

Meta delivers webhooks at least once, in no promised order, and retries for up to
7 days (reference 5.1).  :func:`webhook_health` counts, per period:

* ``webhooks``: webhook POSTs the archive holds (records, redeliveries included);
* ``redeliveries``: records that only repeat earlier-received items, which the
  loader dropped (kept in :attr:`groupkit.LoadReport.redelivered`);
* ``out_of_order``: statuses that arrived after a later state of the same receipt
  (``delivered`` after ``read``; a group-level ``sent`` after a participant's
  ``delivered``; anything after ``failed``);
* ``lag_p50/p90/p99``: ``received_at`` minus the item's own ``timestamp``;
* ``orphan_receipts``: ``delivered``/``read`` receipts of messages with neither a
  ``sent`` status nor a send-log record;
* ``gaps``: whether the period, inside the archive's span, had no webhook at all.

A record's time is its ``received_at`` when the archive wrapped it in an envelope,
else its ``entry[].time``, else the earliest timestamp of its items.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from groupkit.analytics._backend import refuse_dask
from groupkit.analytics._time import bucket, normalise_freq
from groupkit.analytics.deliveries import _phone_by_bsuid
from groupkit.exceptions import GroupkitError

__all__ = ["HEALTH", "webhook_health"]

TS_MS = "datetime64[ms, UTC]"
TD_MS = "timedelta64[ms]"

HEALTH = {
    "bucket": TS_MS,
    "webhooks": "Int64",
    "redeliveries": "Int64",
    "redelivery_rate": "Float64",
    "out_of_order": "Int64",
    "lag_p50": TD_MS,
    "lag_p90": TD_MS,
    "lag_p99": TD_MS,
    "orphan_receipts": "Int64",
    "gaps": "bool",
}
_RANK = {"sent": 0, "delivered": 1, "read": 2, "failed": 3}
_ITEM_FRAMES = ("statuses", "messages", "group_events", "membership", "errors", "other_changes")
_LAG_FRAMES = ("statuses", "messages", "group_events")
_STEP = {"half_hour": "30min", "day": "D", "month": "MS"}


def _ms(values: pd.Series) -> pd.Series:
    return values.astype(TS_MS)


def _items(archive: Any) -> pd.DataFrame:
    """``source`` and the three times of every kept item of a webhook."""
    parts = []
    for name in _ITEM_FRAMES:
        df = getattr(archive, name, None)
        if df is None or df.empty:
            continue
        if "source" not in df.columns:
            raise GroupkitError(
                f"webhook_health needs the {name} frame's source column (which record each "
                "row came from); load the archive with groupkit.read_webhooks and keep it"
            )
        n = len(df)
        missing = pd.Series(pd.NaT, index=df.index, dtype=TS_MS)
        parts.append(
            pd.DataFrame(
                {
                    "source": df["source"],
                    "received_at": _ms(df["received_at"]) if "received_at" in df else missing,
                    "entry_time": _ms(df["entry_time"]) if "entry_time" in df else missing,
                    "timestamp": _ms(df["timestamp"]) if "timestamp" in df else missing,
                }
            ).iloc[:n]
        )
    if not parts:
        return pd.DataFrame({"source": pd.Series([], dtype="str")}).assign(
            received_at=pd.Series([], dtype=TS_MS),
            entry_time=pd.Series([], dtype=TS_MS),
            timestamp=pd.Series([], dtype=TS_MS),
        )
    return pd.concat(parts, ignore_index=True)


def _record_times(items: pd.DataFrame) -> pd.Series:
    """Each record's time: ``received_at``, else ``entry[].time``, else its earliest item."""
    if items.empty:
        return pd.Series([], dtype=TS_MS, index=pd.Index([], dtype="str"))
    first = items.groupby("source", sort=False, observed=True).agg(
        received_at=("received_at", "min"),
        entry_time=("entry_time", "min"),
        timestamp=("timestamp", "min"),
    )
    return first["received_at"].fillna(first["entry_time"]).fillna(first["timestamp"])


def _participants(statuses: pd.DataFrame, membership: pd.DataFrame) -> pd.Series:
    """The participant of each status as :func:`groupkit.deliveries` keys it."""
    pid = statuses["participant_id"]
    if "participant_user_id" in statuses.columns and pid.isna().any():
        users = statuses["participant_user_id"]
        positions = np.flatnonzero(users.notna().to_numpy())
        phone_of = _phone_by_bsuid(statuses, positions, membership)
        pid = pid.fillna(users.map(phone_of).astype("str")).fillna(users)
    return pid


def _prior_max(keys: list[np.ndarray], arrival: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Per row: the largest ``value`` among rows of the same keys that arrived strictly
    earlier (-1 when none).  Rows that arrived together (one record, or one
    ``received_at``) do not count as before one another."""
    if len(arrival) == 0:
        return np.zeros(0, dtype=np.int64)
    names = [f"k{i}" for i in range(len(keys))]
    df = pd.DataFrame({**dict(zip(names, keys, strict=True)), "arrival": arrival, "v": value})
    at_once = df.groupby([*names, "arrival"], sort=True)["v"].max()
    before = at_once.groupby(level=names, sort=False).cummax()
    before = before.groupby(level=names, sort=False).shift(1).fillna(-1).astype(np.int64)
    index = pd.MultiIndex.from_arrays([*keys, arrival], names=[*names, "arrival"])
    return before.reindex(index).to_numpy()


def _out_of_order(archive: Any) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Statuses that arrived after a later state of their receipt, and orphan receipts.

    Returns the out-of-order statuses' sources, the orphan receipts' sources (each
    receipt's first arrival) and how arrival was judged.
    """
    st = archive.statuses
    rank = st["status"].astype("str").map(_RANK).to_numpy(dtype="float64", na_value=np.nan)
    usable = ~np.isnan(rank) & st["message_id"].notna().to_numpy()
    st = st.loc[usable]
    rank = rank[usable].astype(np.int64)
    received = st["received_at"] if "received_at" in st.columns else None
    if received is not None and len(st) and received.notna().all():
        arrival = received.array.asi8
        order = "received_at"
    else:
        # Reading order, a record at a time: items of one POST arrive together.
        arrival = pd.factorize(st["source"])[0].astype(np.int64)
        order = "reading order"
    msg = pd.factorize(st["message_id"])[0]
    pid_codes = pd.factorize(_participants(st, archive.membership))[0]
    group_level = pid_codes < 0
    # Within a receipt: a status below the furthest state already arrived.
    part = ~group_level
    late = np.zeros(len(st), dtype=bool)
    prior = _prior_max([msg[part], pid_codes[part]], arrival[part], rank[part])
    # A group-level failed is final for every participant of the message.
    failed = np.where(group_level & (rank == _RANK["failed"]), 1, 0)
    failed_before = _prior_max([msg], arrival, failed)[part] == 1
    late[part] = (prior > rank[part]) | (failed_before & (rank[part] < _RANK["failed"]))
    # A group-level sent after any later state of the message's receipts.
    any_before = _prior_max([msg], arrival, rank)
    late |= group_level & (rank == _RANK["sent"]) & (any_before > _RANK["sent"])

    # Orphans: delivered/read receipts of messages with no sent and no send-log record.
    has_sent = set(st.loc[rank == _RANK["sent"], "message_id"])
    sends = getattr(archive, "sends", None)
    if sends is not None and not sends.empty:
        has_sent |= set(sends["message_id"].dropna())
    receipt_rows = part & np.isin(rank, [_RANK["delivered"], _RANK["read"]])
    orphan = receipt_rows & ~st["message_id"].isin(has_sent).to_numpy()
    orphans = pd.DataFrame(
        {
            "msg": msg[orphan],
            "pid": pid_codes[orphan],
            "arrival": arrival[orphan],
            "source": st["source"].to_numpy()[orphan],
        }
    )
    orphans = orphans.sort_values("arrival", kind="stable").drop_duplicates(["msg", "pid"])
    return st.loc[late, ["source"]], orphans[["source"]], order


def _lags(archive: Any) -> pd.DataFrame:
    parts = []
    for name in _LAG_FRAMES:
        df = getattr(archive, name, None)
        if df is None or df.empty or "received_at" not in df.columns:
            continue
        has = df["received_at"].notna() & df["timestamp"].notna()
        if not has.any():
            continue
        received = _ms(df.loc[has, "received_at"])
        parts.append(
            pd.DataFrame({"at": received, "lag_ms": (received - _ms(df.loc[has, "timestamp"]))})
        )
    if not parts:
        return pd.DataFrame({"at": pd.Series([], dtype=TS_MS), "lag_ms": []})
    lags = pd.concat(parts, ignore_index=True)
    return lags.assign(lag_ms=lags["lag_ms"].dt.total_seconds() * 1000.0)


def _periods(first: pd.Timestamp, last: pd.Timestamp, canonical: str) -> pd.DatetimeIndex:
    start = bucket(pd.Series([first]), canonical).iloc[0]
    end = bucket(pd.Series([last]), canonical).iloc[0]
    return pd.date_range(start, end, freq=_STEP[canonical]).astype(TS_MS)


def webhook_health(archive: Any, freq: str = "D") -> pd.DataFrame:
    """How healthy the webhook feed was, one row per period.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive` from :func:`groupkit.read_webhooks` or
        :func:`groupkit.parse_webhooks` (it needs the frames' ``source`` and the load
        report's :attr:`~groupkit.LoadReport.redelivered`).
    freq
        ``"half_hour"``, ``"day"`` (default, also ``"D"``) or ``"month"``.

    Returns
    -------
    pandas.DataFrame
        One row per period from the archive's first webhook to its last, by each
        record's time (``received_at``, else ``entry[].time``, else its earliest
        item): ``bucket``; ``webhooks`` (records, redeliveries included);
        ``redeliveries`` (records all of whose items repeat an earlier-received
        one); ``redelivery_rate``; ``out_of_order`` (statuses that arrived after a
        later state of the same receipt: by ``received_at`` when every status has
        one, else by reading order; ``attrs["arrival_order"]`` says which);
        ``lag_p50``, ``lag_p90``, ``lag_p99`` (``received_at`` minus the item's
        ``timestamp``, over statuses, messages and group events, linear
        interpolation; null without ``received_at``); ``orphan_receipts``
        (``delivered``/``read`` receipts, at their first arrival, of messages with
        no ``sent`` and no send-log record); ``gaps`` (True for a period with no
        webhook at all).

    Raises
    ------
    GroupkitError
        For a Dask archive, a deliveries frame, or frames without ``source``.

    Examples
    --------
    >>> import groupkit
    >>> def hook(status, ts, who=None):
    ...     obj = {"id": "wamid.A", "status": status, "timestamp": str(ts),
    ...            "recipient_id": "G", "recipient_type": "group"}
    ...     obj |= {"recipient_participant_id": who} if who else {}
    ...     return {"entry": [{"id": "1", "changes": [{"field": "messages",
    ...             "value": {"statuses": [obj]}}]}]}
    >>> sent, read = hook("sent", 1760000000), hook("read", 1760000060, "1650")
    >>> late = hook("delivered", 1760000030, "1650")
    >>> health = webhook_health(groupkit.parse_webhooks([sent, read, read, late]))
    >>> health[["webhooks", "redeliveries", "out_of_order", "gaps"]].values.tolist()
    [[4, 1, 1, False]]
    >>> health.attrs["arrival_order"]
    'reading order'
    """
    refuse_dask(archive, "groupkit.webhook_health")
    if isinstance(archive, pd.DataFrame) or not hasattr(archive, "report"):
        raise GroupkitError(
            "webhook_health needs an Archive from groupkit.read_webhooks or parse_webhooks "
            "(frames and load report), not a frame"
        )
    canonical = normalise_freq(freq)
    items = _items(archive)
    kept = _record_times(items)
    gone = archive.report.redelivered_frame()
    gone = gone[~gone["source"].isin(kept.index)]
    redelivered = _record_times(
        pd.DataFrame(
            {
                "source": gone["source"],
                "received_at": _ms(gone["received_at"]),
                "entry_time": _ms(gone["entry_time"]),
                "timestamp": _ms(gone["timestamp"]),
            }
        )
    )
    late, orphans, order = _out_of_order(archive)
    lags = _lags(archive)
    times = pd.concat([kept, redelivered]).dropna()
    if times.empty:
        out = pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in HEALTH.items()})
        out.attrs["arrival_order"] = order
        return out
    periods = _periods(times.min(), times.max(), canonical)

    def per_period(when: pd.Series) -> pd.Series:
        when = pd.Series(when, dtype=TS_MS).dropna()
        counts = bucket(when, canonical).value_counts()
        return counts.reindex(periods, fill_value=0)

    webhooks = per_period(times)
    redeliveries = per_period(redelivered.dropna())
    out_of_order = per_period(late["source"].map(kept))
    orphan_count = per_period(orphans["source"].map(kept))
    out = pd.DataFrame(
        {
            "bucket": periods,
            "webhooks": webhooks.to_numpy(),
            "redeliveries": redeliveries.to_numpy(),
            "out_of_order": out_of_order.to_numpy(),
            "orphan_receipts": orphan_count.to_numpy(),
        }
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["redelivery_rate"] = out["redeliveries"] / out["webhooks"].where(out["webhooks"] > 0)
    if len(lags):
        at = bucket(lags["at"], canonical)
        q = lags.groupby(at.to_numpy())["lag_ms"].quantile([0.5, 0.9, 0.99]).unstack()
        q = q.reindex(periods)
        for quantile, name in ((0.5, "lag_p50"), (0.9, "lag_p90"), (0.99, "lag_p99")):
            out[name] = pd.to_timedelta(q[quantile].to_numpy(), unit="ms")
    else:
        for name in ("lag_p50", "lag_p90", "lag_p99"):
            out[name] = pd.Series(pd.NaT, index=out.index, dtype=TD_MS)
    out["gaps"] = out["webhooks"] == 0
    out = out[list(HEALTH)].astype(HEALTH)
    out.attrs["arrival_order"] = order
    return out
