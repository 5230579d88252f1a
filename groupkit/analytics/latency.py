"""Delivery and read latency: count, mean and quantiles in seconds, per group or any key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from groupkit.analytics._backend import implementation
from groupkit.analytics._common import as_list, deliveries_of, with_keys
from groupkit.analytics.names import name_groups
from groupkit.exceptions import GroupkitError

__all__ = ["METRICS", "latency_summary", "quantile_column"]

# metric name -> column of ``deliveries``
METRICS = {
    "delivery": "delivery_latency",
    "read": "read_latency",
    "read_after_delivery": "read_after_delivery",
}


def quantile_column(q: float) -> str:
    """Column name of quantile ``q``: ``0.5 -> 'p50_s'``, ``0.999 -> 'p99.9_s'``.

    Examples
    --------
    >>> quantile_column(0.9), quantile_column(0.999)
    ('p90_s', 'p99.9_s')
    """
    return f"p{round(q * 100, 6):g}_s"


def latency_summary(
    data: Any,
    *,
    metric: str = "delivery",
    by: str | Sequence[str] | None = "group_id",
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
    within_s: float = 5,
    freq: str | None = None,
) -> pd.DataFrame:
    """Latency statistics in seconds, per group (or per any key, or overall).

    Parameters
    ----------
    data
        A :class:`groupkit.Archive`, or a frame already returned by
        :func:`groupkit.deliveries` (to reuse it).
    metric
        ``"delivery"`` (sent -> delivered), ``"read"`` (sent -> read) or
        ``"read_after_delivery"`` (delivered -> read).
    by
        Column(s) of ``deliveries`` to group by, e.g. ``"group_id"``,
        ``"biz_opaque_callback_data"``, ``"pricing_category"``; ``"hour"`` or
        ``"weekday"`` of ``sent_at``; ``None`` for one overall row.
    quantiles
        Quantiles to report (linear interpolation, as :func:`numpy.quantile`).
    within_s
        Threshold for ``share_within``.
    freq
        Also group by the ``sent_at`` bucket: ``"half_hour"``, ``"day"`` or ``"month"``.

    Returns
    -------
    pandas.DataFrame
        One row per key: the ``by`` columns (and ``bucket``), then ``count``
        (receipts with a measured latency), ``mean_s``, one ``p<q>_s`` column per
        quantile (``p50_s``, ``p90_s``, ``p99_s`` by default), ``share_within`` (share
        of measured latencies ``<= within_s``) and ``within_s``.  Receipts without
        the latency (not delivered, not read, failed, no ``sent``) are left out.
        Grouped by ``group_id``, a readable ``group`` column
        (:func:`groupkit.analytics.names.name_groups`) comes first and the full
        ``group_id`` last.

    Examples
    --------
    >>> import pandas as pd
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(3))
    >>> frame["group_id"] = "G"
    >>> frame["delivery_latency"] = pd.to_timedelta([1, 3, 10], unit="s")
    >>> latency_summary(frame)[["group_id", "count", "p50_s", "share_within"]].values.tolist()
    [['G', 3, 3.0, 0.6666666666666666]]
    """
    options = {"metric": metric, "by": by, "quantiles": quantiles, "within_s": within_s}
    options["freq"] = freq
    engine = implementation("latency_summary", data)
    if engine is not None:
        return engine(data, **options)
    return name_groups(summarise_latency(data, **options), data)


def summarise_latency(
    data: Any,
    *,
    metric: str = "delivery",
    by: str | Sequence[str] | None = "group_id",
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
    within_s: float = 5,
    freq: str | None = None,
) -> pd.DataFrame:
    """:func:`latency_summary` of a pandas input, keys first and unnamed (see
    :func:`groupkit.analytics.names.name_groups`): what a Dask partition runs.

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> list(summarise_latency(empty_deliveries()).columns)[:2]
    ['group_id', 'count']
    """
    column = METRICS.get(metric)
    if column is None:
        raise GroupkitError(f"metric={metric!r}; use one of {sorted(METRICS)}")
    frame = deliveries_of(data)
    keys_in = as_list(by)
    frame, keys = with_keys(frame, keys_in, freq, "sent_at")
    seconds = frame[column].dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan)
    measured = ~np.isnan(seconds)
    table = frame.loc[measured, keys].reset_index(drop=True)
    table["seconds"] = seconds[measured]
    table["within"] = table["seconds"] <= within_s
    q_names = [quantile_column(q) for q in quantiles]
    if not keys:
        values = table["seconds"]
        row = {"count": len(values), "mean_s": values.mean()}
        qs = values.quantile(list(quantiles)) if len(values) else [np.nan] * len(quantiles)
        row.update(dict(zip(q_names, np.asarray(qs, dtype="float64"), strict=True)))
        row["share_within"] = table["within"].mean() if len(values) else np.nan
        out = pd.DataFrame([row])
    else:
        grouped = table.groupby(keys, observed=True, dropna=False, sort=True)
        out = grouped["seconds"].agg(count="size", mean_s="mean")
        if len(table):
            qs = grouped["seconds"].quantile(list(quantiles)).unstack(level=-1)
            qs.columns = q_names
        else:
            qs = pd.DataFrame(columns=q_names, index=out.index, dtype="float64")
        out = out.join(qs)
        out["share_within"] = grouped["within"].mean()
        out = out.reset_index()
    out["count"] = out["count"].astype("int64")
    out["within_s"] = float(within_s)
    return out[[*keys, "count", "mean_s", *q_names, "share_within", "within_s"]]
