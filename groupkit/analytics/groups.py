"""One row per group, and the groups to look at first: what every view of groupkit shows.

:func:`group_summary` is the per-group table of the HTML report, of ``groupkit
summary``, of the notebooks and of the dashboard's groups: the counts are those of
:func:`groupkit.funnel` (so every view gives the same number for the same thing),
beside latency, read coverage, inbound traffic and each group's leading delivery
error.  :func:`groups_to_watch` ranks groups by what is wrong with them (slowest,
most failing, least read), not by how busy they are.

Examples
--------
>>> from groupkit.analytics import groups
>>> groups.WATCH_CONCERNS
('slowest', 'most failing', 'least read')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from groupkit.analytics.coverage import _within, read_coverage
from groupkit.analytics.deliveries import deliveries
from groupkit.analytics.errors import DELIVERY_ORIGINS, INBOUND_ORIGINS
from groupkit.analytics.funnel import funnel
from groupkit.analytics.latency import latency_summary
from groupkit.analytics.names import _all_group_ids, group_names, short_ids
from groupkit.catalog import lookup

__all__ = [
    "WATCH_CONCERNS",
    "group_names",
    "group_summary",
    "groups_to_watch",
    "short_ids",
]

WATCH_CONCERNS = ("slowest", "most failing", "least read")

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
_RATES = ["delivered_rate", "read_rate", "failed_rate", "pending_rate", "messages_failed_rate"]


def _leading_errors(errors: pd.DataFrame) -> pd.DataFrame:
    """Per group: the most frequent delivery-failure code, its title and count."""
    columns = ["group_id", "top_error_code", "top_error_title", "top_error_count"]
    errors = errors[errors["group_id"].notna() & errors["code"].notna()]
    if errors.empty:
        return pd.DataFrame(columns=columns)
    counts = (
        errors.groupby(["group_id", "code"], observed=True)
        .agg(count=("code", "size"), title=("title", "first"))
        .reset_index()
        .sort_values(["group_id", "count", "code"], ascending=[True, False, True])
        .drop_duplicates("group_id")
    )
    titles = [
        (info.title if (info := lookup(int(code))) is not None else title)
        for code, title in zip(counts["code"], counts["title"], strict=True)
    ]
    return pd.DataFrame(
        {
            "group_id": counts["group_id"].astype("str").to_numpy(),
            "top_error_code": counts["code"].astype("Int64").to_numpy(),
            "top_error_title": pd.array(titles, dtype="str"),
            "top_error_count": counts["count"].astype("int64").to_numpy(),
        }
    )


def group_summary(
    archive: Any,
    *,
    frame: pd.DataFrame | None = None,
    within: str | float | pd.Timedelta = "1h",
) -> pd.DataFrame:
    """One row per group: counts and rates, latency, read coverage, inbound, top error.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    frame
        Its :func:`groupkit.deliveries`, when already computed.
    within
        The read coverage threshold (as :func:`groupkit.read_coverage`).

    Returns
    -------
    pandas.DataFrame
        Readable columns first: ``group`` (:func:`group_names`), the counts of
        :func:`groupkit.funnel` (``messages, messages_failed, recipients,
        recipients_unknown, delivered, read, failed, pending``), its rates
        (``delivered_rate, read_rate, failed_rate, pending_rate,
        messages_failed_rate``), ``delivery_p50_s, delivery_p90_s, read_p50_s,
        read_p90_s`` (seconds), ``coverage`` (share of members at send time who read
        within ``within``; ``attrs["within_s"]``), ``members_known`` (the archive has
        the group's membership), ``inbound_messages``, ``inbound_errors`` (errors on
        inbound messages, e.g. 130501), ``delivery_errors`` (errors on statuses),
        ``top_error_code, top_error_title, top_error_count`` (the leading delivery
        error), and the full ``group_id`` last.  Every group the archive mentions
        has a row, busiest (most messages sent) first.

    Examples
    --------
    >>> import groupkit
    >>> hook = {"entry": [{"id": "1", "changes": [{"field": "messages", "value": {
    ...     "statuses": [{"id": "wamid.A", "status": "failed", "timestamp": "1760000000",
    ...                   "recipient_id": "GROUP1", "recipient_type": "group",
    ...                   "errors": [{"code": 131041, "title": "Group unknown"}]}]}}]}]}
    >>> row = group_summary(groupkit.parse_webhooks([hook])).iloc[0]
    >>> row["group"], int(row["failed"]), float(row["failed_rate"]), row["top_error_title"]
    ('…GROUP1', 1, 1.0, 'Group unknown')
    """
    frame = deliveries(archive) if frame is None else frame
    counts = funnel(frame)[["group_id", *_COUNTS, *_RATES]]
    out = counts
    for metric in ("delivery", "read"):
        lat = latency_summary(frame, metric=metric, quantiles=(0.5, 0.9))
        lat = lat[["group_id", "p50_s", "p90_s"]].rename(
            columns={"p50_s": f"{metric}_p50_s", "p90_s": f"{metric}_p90_s"}
        )
        out = out.merge(lat, on="group_id", how="left")
    coverage = read_coverage(frame, within=within)
    per_group = coverage.groupby("group_id")[["readers_within", "members"]].sum()
    ratio = per_group["readers_within"] / per_group["members"].where(per_group["members"] > 0)
    known = coverage.groupby("group_id")["members_known"].all()
    out["coverage"] = out["group_id"].map(ratio).astype("float64")
    out["members_known"] = out["group_id"].map(known).astype("boolean")

    ids = _all_group_ids(archive)
    ids = sorted(set(ids) | set(out["group_id"].astype("str")))
    out = out.set_index("group_id").reindex(pd.Index(ids, name="group_id", dtype="str"))
    for name in _COUNTS:
        out[name] = out[name].fillna(0).astype("int64")

    messages = archive.messages
    inbound = messages[messages["group_id"].notna()].groupby("group_id").size()
    out["inbound_messages"] = inbound.reindex(out.index, fill_value=0).astype("int64")
    errors = archive.errors
    origin = errors["origin"].astype("str")
    for name, origins in (
        ("inbound_errors", INBOUND_ORIGINS),
        ("delivery_errors", DELIVERY_ORIGINS),
    ):
        mine = errors[origin.isin(origins) & errors["group_id"].notna()]
        out[name] = mine.groupby("group_id").size().reindex(out.index, fill_value=0).astype("int64")
    leading = _leading_errors(errors[origin.isin(DELIVERY_ORIGINS)]).set_index("group_id")
    out = out.join(leading, how="left")
    out["top_error_code"] = out["top_error_code"].astype("Int64")
    out["top_error_title"] = out["top_error_title"].astype("str")
    out["top_error_count"] = out["top_error_count"].fillna(0).astype("int64")

    names = group_names(archive, out.index)
    out.insert(0, "group", pd.array([names[g] for g in out.index], dtype="str"))
    out = out.reset_index()
    out = out.sort_values(["messages", "group_id"], ascending=[False, True], kind="stable")
    out = out[[c for c in out.columns if c != "group_id"] + ["group_id"]]
    out = out.reset_index(drop=True)
    out.attrs["within_s"] = _within(within).total_seconds()
    return out


def groups_to_watch(summary: pd.DataFrame, *, n: int = 3, min_receipts: int = 20) -> pd.DataFrame:
    """The groups to look at first: the slowest, the most failing and the least read.

    Each concern ranks groups by its own metric, never by volume, so a small slow
    group is named before a busy fast one.  A group needs ``min_receipts`` receipts
    (delivered ones, for the slowest) to be ranked on latency or reading, so that a
    group with two messages cannot top a list by chance; a failure counts from one.

    Parameters
    ----------
    summary
        :func:`group_summary` of the archive.
    n
        Groups per concern, at most.
    min_receipts
        Receipts a group needs before it is ranked as slowest or least read.

    Returns
    -------
    pandas.DataFrame
        ``concern`` (:data:`WATCH_CONCERNS`), ``rank`` (1 is the worst), ``group``,
        ``metric`` (what ranks it), ``value`` (the metric's value: seconds or a
        share), then the group's row of ``summary`` (counts, rates, latency,
        ``top_error_code``, ``top_error_title``) and ``advice`` for the top error
        (from :func:`groupkit.error_catalog`).

    Examples
    --------
    >>> summary = pd.DataFrame({
    ...     "group": ["busy", "slow"], "group_id": ["G1", "G2"], "messages": [90, 3],
    ...     "messages_failed": [0, 0], "recipients": [900, 30], "failed": [0, 0],
    ...     "delivered": [900, 30], "read_rate": [0.9, 0.8], "messages_failed_rate": [0.0, 0.0],
    ...     "delivery_p90_s": [4.0, 600.0], "top_error_code": pd.array([None, None], "Int64")})
    >>> watch = groups_to_watch(summary)
    >>> watch[watch["concern"] == "slowest"][["rank", "group", "value"]].values.tolist()
    [[1, 'slow', 600.0], [2, 'busy', 4.0]]
    """
    rules = {
        "slowest": ("delivery_p90_s", False, summary["delivered"] >= min_receipts),
        "most failing": ("messages_failed_rate", False, summary["messages_failed"] > 0),
        "least read": ("read_rate", True, summary["recipients"] >= min_receipts),
    }
    pieces = []
    for concern, (metric, ascending, eligible) in rules.items():
        ranked = summary[eligible & summary[metric].notna()]
        tiebreak = "failed" if concern == "most failing" else "recipients"
        ranked = ranked.sort_values(
            [metric, tiebreak, "group_id"], ascending=[ascending, False, True], kind="stable"
        ).head(n)
        pieces.append(
            ranked.assign(
                concern=concern,
                rank=np.arange(1, len(ranked) + 1),
                metric=metric,
                value=ranked[metric].astype("float64"),
            )
        )
    out = pd.concat(pieces, ignore_index=True) if pieces else summary.iloc[:0]
    advice = {
        code: info.advice
        for code in out["top_error_code"].dropna().unique()
        if (info := lookup(int(code))) is not None
    }
    out["advice"] = out["top_error_code"].map(advice).astype("str")
    first = ["concern", "rank", "group", "metric", "value"]
    return out[first + [c for c in out.columns if c not in first]].reset_index(drop=True)
