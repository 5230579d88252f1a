"""Charts of what groups cost, how healthy the webhook feed is, and what pins do.

* :func:`cost_by_group` -- cost (or billable deliveries) per group, stacked by category;
* :func:`webhook_health_chart` -- webhook lag quantiles and the redelivery rate over time;
* :func:`pin_timeline` -- each pin drawn over the pinned message's read curve.

Each takes an archive or the analytics frame already computed, and embeds only the
aggregate (groups x categories, periods x 3 quantiles, a few hundred points per
pinned message).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from groupkit.analytics.costs import costs
from groupkit.analytics.deliveries import deliveries
from groupkit.analytics.health import webhook_health
from groupkit.analytics.pins import pins
from groupkit.charts._style import (
    FLOOR_S,
    FREQ_WORDS,
    GroupStyle,
    auto_freq,
    bucket_tooltip,
    group_style,
    log_latency_scale,
    mean_per_pooled_group,
    time_axis,
)
from groupkit.exceptions import GroupkitError

__all__ = ["cost_by_group", "pin_timeline", "webhook_health_chart"]

MAX_POINTS = 300  # points of one message's read curve
ENDED_WORDS = {
    "unpin": "unpinned",
    "expiry": "expired",
    "replaced": "replaced by a 4th pin",
    "repinned": "pinned again",
    "still pinned": "still pinned",
}


def cost_by_group(data: Any, rates: Any = None, *, style: GroupStyle | None = None) -> alt.Chart:
    """Cost per group, stacked by pricing category (billable deliveries without a card).

    Parameters
    ----------
    data
        A :class:`groupkit.Archive`, or a frame :func:`groupkit.costs` returned
        grouped by ``group_id``.
    rates
        A rate card for :func:`groupkit.costs` when ``data`` is an archive.
    style
        Group labels and colours (:func:`group_style`); pooled groups are one bar,
        ``"other groups"``, showing the mean per pooled group.

    Returns
    -------
    altair.Chart
        Data: ``group, pricing_category, value, billable_deliveries, free_deliveries,
        groups``: :func:`groupkit.costs` summed per group label and category;
        ``value`` is the cost when the frame has one, else billable deliveries.

    Examples
    --------
    >>> frame = pd.DataFrame({"group_id": ["G1", "G1"], "pricing_category":
    ...     ["group_marketing", "group_utility"], "billable_deliveries": [3, 2],
    ...     "free_deliveries": [0, 1], "exempt_deliveries": [0, 0],
    ...     "currency": ["USD", "USD"], "cost": [0.15, 0.02]})
    >>> chart = cost_by_group(frame)
    >>> chart.data[["group", "pricing_category", "value"]].values.tolist()
    [['…G1', 'group_marketing', 0.15], ['…G1', 'group_utility', 0.02]]
    """
    frame = data if isinstance(data, pd.DataFrame) else costs(data, rates)
    if style is None:
        style = group_style(frame[["group_id"]] if isinstance(data, pd.DataFrame) else data)
    has_cost = "cost" in frame.columns
    currencies = sorted(frame["currency"].dropna().unique()) if has_cost else []
    if len(currencies) > 1:
        raise GroupkitError(
            f"the rate card mixes currencies ({', '.join(currencies)}); chart one at a time"
        )
    table = frame.assign(
        group=style.label(frame["group_id"]).to_numpy(),
        value=frame["cost"].astype("Float64").fillna(0)
        if has_cost
        else frame["billable_deliveries"],
    )
    table = (
        table.groupby(["group", "pricing_category"], sort=True)[
            ["value", "billable_deliveries", "free_deliveries"]
        ]
        .sum()
        .reset_index()
        .astype({"value": "float64", "billable_deliveries": "int64", "free_deliveries": "int64"})
    )
    columns = ["value", "billable_deliveries", "free_deliveries"]
    note = mean_per_pooled_group(table, style, frame["group_id"], columns)
    what = f"cost ({currencies[0]})" if currencies else "billable deliveries"
    title = f"{what[0].upper()}{what[1:]} per group, by pricing category{note}"
    return (
        alt.Chart(table, title=title, width=520)
        .mark_bar()
        .encode(
            y=alt.Y("group:N", title=None, sort=style.domain),
            x=alt.X("value:Q", title=what, stack="zero"),
            color=alt.Color(
                "pricing_category:N",
                scale=alt.Scale(scheme="tableau10"),
                legend=alt.Legend(title="pricing category"),
            ),
            tooltip=[
                alt.Tooltip("group:N", title="group"),
                alt.Tooltip("pricing_category:N", title="category"),
                alt.Tooltip("value:Q", title=what, format=",.4~f"),
                alt.Tooltip("billable_deliveries:Q", title="billable deliveries", format=",.1~f"),
                alt.Tooltip("free_deliveries:Q", title="free deliveries", format=",.1~f"),
                alt.Tooltip("groups:Q", title="groups in this bar", format=","),
            ],
        )
    )


def _freq_of(health: pd.DataFrame) -> str:
    steps = health["bucket"].diff().dropna()
    if steps.empty:
        return "day"
    step = steps.min()
    if step <= pd.Timedelta(minutes=30):
        return "half_hour"
    return "day" if step <= pd.Timedelta(days=1) else "month"


def webhook_health_chart(data: Any, *, freq: str | None = None) -> alt.VConcatChart:
    """Webhook lag (p50, p90, p99) and redelivery rate per period, one above the other.

    Parameters
    ----------
    data
        A :class:`groupkit.Archive`, or a frame :func:`groupkit.webhook_health` returned.
    freq
        For an archive: ``"half_hour"``, ``"day"`` or ``"month"``; ``None`` picks
        one from the archive's span.

    Returns
    -------
    altair.VConcatChart
        The lag panel (log time axis; lags under a second drawn at 1 s; left out
        when the archive has no ``received_at``) and the redelivery-rate panel.

    Examples
    --------
    >>> health = pd.DataFrame({
    ...     "bucket": pd.to_datetime(["2026-03-01", "2026-03-02"], utc=True),
    ...     "webhooks": [10, 20], "redeliveries": [1, 0], "redelivery_rate": [0.1, 0.0],
    ...     "out_of_order": [0, 1], "lag_p50": pd.to_timedelta([2, 3], unit="s"),
    ...     "lag_p90": pd.to_timedelta([5, 9], unit="s"),
    ...     "lag_p99": pd.to_timedelta([60, 90], unit="s"),
    ...     "orphan_receipts": [0, 0], "gaps": [False, False]})
    >>> chart = webhook_health_chart(health)
    >>> len(chart.vconcat), chart.vconcat[0].data["quantile"].unique().tolist()
    (2, ['p50', 'p90', 'p99'])
    """
    if isinstance(data, pd.DataFrame):
        health = data
    else:
        if freq is None:
            times = data.statuses["timestamp"] if len(data.statuses) else pd.Series([], "object")
            freq = auto_freq(times)
        health = webhook_health(data, freq=freq)
    freq = _freq_of(health)
    lags = health.melt(
        id_vars=["bucket"],
        value_vars=["lag_p50", "lag_p90", "lag_p99"],
        var_name="quantile",
        value_name="lag",
    ).dropna(subset=["lag"])
    lags["quantile"] = lags["quantile"].str.removeprefix("lag_")
    lags["lag_s"] = lags["lag"].dt.total_seconds().clip(lower=FLOOR_S)
    lags["lag_text"] = lags["lag"].astype("str")
    lags = lags.drop(columns="lag")
    rate = health[["bucket", "webhooks", "redeliveries", "redelivery_rate", "out_of_order"]]
    rate = rate.astype({"redelivery_rate": "float64"}).assign(
        redelivery_rate=lambda t: t["redelivery_rate"].fillna(0.0)
    )
    rate_chart = (
        alt.Chart(rate, title=f"Redelivered webhooks per {FREQ_WORDS[freq]}", width=560, height=160)
        .mark_bar(color="#e15759")
        .encode(
            x=time_axis(freq, f"received, per {FREQ_WORDS[freq]} (UTC)"),
            y=alt.Y("redelivery_rate:Q", title="redelivery rate", axis=alt.Axis(format="%")),
            tooltip=[
                bucket_tooltip(freq),
                alt.Tooltip("webhooks:Q", title="webhooks", format=","),
                alt.Tooltip("redeliveries:Q", title="redeliveries", format=","),
                alt.Tooltip("redelivery_rate:Q", title="redelivery rate", format=".1%"),
                alt.Tooltip("out_of_order:Q", title="statuses out of order", format=","),
            ],
        )
    )
    panels = [rate_chart]
    if len(lags):
        scale, axis = log_latency_scale(lags["lag_s"])
        lag_chart = (
            alt.Chart(
                lags,
                title=f"Webhook lag (received_at - event time) per {FREQ_WORDS[freq]}",
                width=560,
                height=200,
            )
            .mark_line(point=True)
            .encode(
                x=time_axis(freq, f"received, per {FREQ_WORDS[freq]} (UTC)"),
                y=alt.Y("lag_s:Q", title="lag", scale=scale, axis=axis),
                color=alt.Color(
                    "quantile:N",
                    scale=alt.Scale(domain=["p50", "p90", "p99"], scheme="oranges"),
                    legend=alt.Legend(title="quantile"),
                ),
                tooltip=[
                    bucket_tooltip(freq),
                    alt.Tooltip("quantile:N", title="quantile"),
                    alt.Tooltip("lag_text:N", title="lag"),
                ],
            )
        )
        panels.insert(0, lag_chart)
    return alt.vconcat(*panels).resolve_scale(color="independent")


def _read_curve(rows: pd.DataFrame) -> pd.DataFrame:
    """Cumulative share of recipients who read, at each read (thinned to MAX_POINTS)."""
    recipients = len(rows)
    sent = rows["sent_at"].dropna()
    reads = rows["read_at"].dropna().sort_values(kind="stable").reset_index(drop=True)
    share = (np.arange(len(reads)) + 1) / recipients
    curve = pd.DataFrame({"time": reads, "share": share})
    if len(curve) > MAX_POINTS:
        keep = np.unique(np.linspace(0, len(curve) - 1, MAX_POINTS).round().astype(int))
        curve = curve.iloc[keep]
    start = sent.min() if len(sent) else (reads.min() if len(reads) else pd.NaT)
    if pd.notna(start):
        curve = pd.concat([pd.DataFrame({"time": [start], "share": [0.0]}), curve])
    return curve.reset_index(drop=True)


def pin_timeline(
    data: Any,
    *,
    frame: pd.DataFrame | None = None,
    pin_frame: pd.DataFrame | None = None,
    max_messages: int = 4,
) -> alt.VConcatChart:
    """Each pinned message's read curve, with its pins drawn as bands over it.

    Parameters
    ----------
    data
        A :class:`groupkit.Archive` read with its send log.
    frame
        Its :func:`groupkit.deliveries`, when already computed.
    pin_frame
        Its :func:`groupkit.pins`, when already computed.
    max_messages
        Pinned messages to draw, those with the most recipients first.

    Returns
    -------
    altair.VConcatChart
        One panel per pinned message: the share of its recipients who have read it
        over time (a step line) over one band per pin, coloured by how it ended.

    Raises
    ------
    GroupkitError
        When the archive's send log has no pin.

    Examples
    --------
    >>> import groupkit
    >>> line = {"kind": "groupkit.send", "ok": True, "group_id": "G", "type": "pin",
    ...         "operation": "pin", "message_id": "wamid.P", "requested_at": 1760000000,
    ...         "accepted_at": 1760000000, "pinned_message_id": "wamid.A",
    ...         "expiration_days": 7}
    >>> chart = pin_timeline(groupkit.parse_webhooks([line]))
    >>> chart.vconcat[0].layer[0].data["ended"].tolist()
    ['still pinned']
    """
    pin_frame = pins(data, frame=frame) if pin_frame is None else pin_frame
    if pin_frame.empty:
        raise GroupkitError("the send log has no pin to draw")
    frame = deliveries(data) if frame is None else frame
    receipts = frame[frame["participant_id"].notna() & (frame["state"].astype("str") != "failed")]
    counts = receipts.groupby("message_id").size()
    pinned = pin_frame.assign(recipients_=pin_frame["message_id"].map(counts).fillna(0))
    order = (
        pinned.groupby("message_id", sort=False)["recipients_"]
        .max()
        .sort_values(ascending=False, kind="stable")
    )
    panels = []
    for message in order.index[:max_messages]:
        bands = pin_frame[pin_frame["message_id"] == message]
        rows = receipts[receipts["message_id"] == message]
        curve = _read_curve(rows) if len(rows) else pd.DataFrame({"time": [], "share": []})
        last = max(
            [t for t in (curve["time"].max() if len(curve) else pd.NaT,) if pd.notna(t)]
            + [bands["pinned_at"].max()]
        )
        ended = bands["ended_by"].fillna("still pinned").astype("str")
        band_table = pd.DataFrame(
            {
                "start": bands["pinned_at"],
                "end": bands["ended_at"].fillna(max(last, bands["pinned_at"].max())),
                "ended": ended.map(ENDED_WORDS).fillna(ended),
                "days": bands["days"].astype("float64"),
            }
        )
        group = str(bands["group"].iloc[0]) if "group" in bands else str(bands["group_id"].iloc[0])
        title = f"{group} · {message[-12:]}: {len(rows):,} recipients"
        band = (
            alt.Chart(band_table)
            .mark_rect(opacity=0.35)
            .encode(
                x=alt.X("start:T", title="time (UTC)"),
                x2="end:T",
                color=alt.Color(
                    "ended:N",
                    scale=alt.Scale(
                        domain=list(ENDED_WORDS.values()),
                        range=["#4e79a7", "#9e9e9e", "#e15759", "#f28e2b", "#59a14f"],
                    ),
                    legend=alt.Legend(title="pin ended"),
                ),
                tooltip=[
                    alt.Tooltip("start:T", title="pinned", format="%Y-%m-%d %H:%M"),
                    alt.Tooltip("end:T", title="until", format="%Y-%m-%d %H:%M"),
                    alt.Tooltip("ended:N", title="ended"),
                    alt.Tooltip("days:Q", title="days asked"),
                ],
            )
        )
        line = (
            alt.Chart(curve)
            .mark_line(interpolate="step-after", color="#222")
            .encode(
                x=alt.X("time:T", title="time (UTC)"),
                y=alt.Y(
                    "share:Q",
                    title="read (share of recipients)",
                    axis=alt.Axis(format="%"),
                    scale=alt.Scale(domain=[0, 1]),
                ),
                tooltip=[
                    alt.Tooltip("time:T", title="time", format="%Y-%m-%d %H:%M"),
                    alt.Tooltip("share:Q", title="read", format=".0%"),
                ],
            )
        )
        panels.append(alt.layer(band, line, title=title, width=560, height=140))
    return alt.vconcat(*panels)
