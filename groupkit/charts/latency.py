"""Latency charts: ECDF, percentile bars, latency over time, delivered-within rate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from groupkit.analytics import METRICS, latency_summary
from groupkit.analytics.latency import quantile_column
from groupkit.charts._style import (
    FLOOR_S,
    FREQ_WORDS,
    GroupStyle,
    group_lines_over_time,
    highlight_opacity,
    labelled_deliveries,
    legend_selection,
    log_latency_scale,
    resolve_freq,
)

__all__ = [
    "METRIC_TITLES",
    "PERCENTILE_SHAPES",
    "latency_ecdf",
    "latency_over_time",
    "latency_percentiles",
    "within_rate_over_time",
]

METRIC_TITLES = {
    "delivery": "Delivery latency (sent → delivered)",
    "read": "Read latency (sent → read)",
    "read_after_delivery": "Read after delivery (delivered → read)",
}


def _ecdf_points(frame: pd.DataFrame, metric: str, grid: np.ndarray) -> pd.DataFrame:
    seconds = frame[METRICS[metric]].dt.total_seconds()
    table = pd.DataFrame({"group": frame["group"], "seconds": seconds}).dropna()
    if table.empty:
        return pd.DataFrame(
            {"group": pd.Series([], dtype="str"), "share": [], "seconds": [], "count": []},
            dtype="float64",
        ).astype({"group": "str", "count": "int64"})
    grouped = table.groupby("group", sort=True)["seconds"]
    points = grouped.quantile(list(grid)).rename("seconds").reset_index()
    points = points.rename(columns={points.columns[1]: "share"})
    return points.merge(grouped.size().rename("count").reset_index(), on="group")


def latency_ecdf(
    data: Any,
    *,
    metrics: Sequence[str] = ("delivery", "read", "read_after_delivery"),
    style: GroupStyle | None = None,
    upto: float = 0.99,
    points: int = 100,
) -> alt.HConcatChart:
    """Cumulative share of receipts by latency, one line per group, one panel per metric.

    Computed in pandas as quantiles on a grid (``points`` per group and metric), so
    the chart carries a few hundred rows whatever the archive size.  The latency
    axis is logarithmic (ticks in s, min, h, d) so that a few extreme receipts do
    not flatten every curve; latencies under one second are drawn at 1 s (webhook
    timestamps are whole seconds).  Click a group in the legend to highlight it.

    Parameters
    ----------
    data
        A :class:`groupkit.Archive` or a frame from :func:`groupkit.deliveries`.
    metrics
        Which of ``delivery``, ``read``, ``read_after_delivery`` to draw.
    style
        Group labels and colours (:func:`group_style`), shared between charts.
    upto
        Highest quantile drawn (``0.99`` leaves the slowest 1 % out of the axis).
    points
        Grid points per group and metric.

    Returns
    -------
    altair.HConcatChart
        One panel per metric, sharing one dataset: ``group, share, seconds, count``
        (receipts measured), ``metric`` and ``plotted`` (``seconds``, at least 1).

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(3))
    >>> frame["group_id"] = "G1"
    >>> frame["delivery_latency"] = pd.to_timedelta([0, 2, 9], unit="s")
    >>> chart = latency_ecdf(frame, metrics=["delivery"], points=3, upto=1.0)
    >>> chart.data[["group", "share", "seconds", "plotted"]].values.tolist()
    [['…G1', 0.0, 0.0, 1.0], ['…G1', 0.5, 2.0, 2.0], ['…G1', 1.0, 9.0, 9.0]]
    """
    frame, style = labelled_deliveries(data, style)
    grid = np.round(np.linspace(0.0, upto, points), 6)
    select = legend_selection()
    tables = [_ecdf_points(frame, metric, grid).assign(metric=metric) for metric in metrics]
    table = pd.concat(tables, ignore_index=True)
    table["plotted"] = table["seconds"].clip(lower=FLOOR_S)
    panels = []
    for metric in metrics:
        scale, axis = log_latency_scale(table.loc[table["metric"] == metric, "seconds"])
        panel = (
            alt.Chart(title=METRIC_TITLES[metric], width=260, height=220)
            .transform_filter(alt.datum.metric == metric)
            .mark_line(interpolate="step-after")
            .encode(
                x=alt.X("plotted:Q", title="latency (log scale)", scale=scale, axis=axis),
                y=alt.Y("share:Q", title="share of receipts", axis=alt.Axis(format="%")),
                color=style.color(),
                opacity=highlight_opacity(select),
                tooltip=[
                    alt.Tooltip("group:N", title="group"),
                    alt.Tooltip("share:Q", title="share of receipts at or below", format=".0%"),
                    alt.Tooltip("seconds:Q", title="latency (s)", format=",.0f"),
                    alt.Tooltip("count:Q", title="receipts measured", format=","),
                ],
            )
        )
        panels.append(panel.add_params(select) if not panels else panel)
    return alt.hconcat(*panels, data=table).properties(
        title=f"Latency ECDF per group, up to the p{upto * 100:g} (log scale)"
    )


PERCENTILE_SHAPES = ("circle", "square", "triangle-up", "diamond", "cross")


def latency_percentiles(
    data: Any,
    *,
    metric: str = "delivery",
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
    style: GroupStyle | None = None,
) -> alt.LayerChart:
    """Latency percentiles (p50, p90, p99 by default) per group, one row per group.

    Each percentile has its own shape (circle, square, triangle) and a line joins
    a group's lowest and highest, so the spread from median to tail shows at a
    glance; the latency axis is logarithmic (ticks in s, min, h, d).

    Parameters
    ----------
    data
        A :class:`groupkit.Archive` or a frame from :func:`groupkit.deliveries`.
    metric
        ``delivery``, ``read`` or ``read_after_delivery``.
    quantiles
        The percentiles, as for :func:`groupkit.latency_summary`.
    style
        Group labels and colours (:func:`group_style`).

    Returns
    -------
    altair.LayerChart
        Data: ``group, percentile`` (``p50`` ...), ``seconds``, ``plotted``
        (``seconds``, at least 1), ``count``, ``low``/``high`` (the group's lowest
        and highest percentile): the quantile columns of
        :func:`groupkit.latency_summary` by group, in long form.

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(3))
    >>> frame["group_id"] = "G1"
    >>> frame["delivery_latency"] = pd.to_timedelta([1, 3, 10], unit="s")
    >>> chart = latency_percentiles(frame, quantiles=[0.5])
    >>> chart.data[["group", "percentile", "seconds"]].values.tolist()
    [['…G1', 'p50', 3.0]]
    """
    frame, style = labelled_deliveries(data, style)
    summary = latency_summary(frame, metric=metric, by="group", quantiles=quantiles)
    columns = {quantile_column(q): quantile_column(q).removesuffix("_s") for q in quantiles}
    table = summary.melt(
        id_vars=["group", "count"],
        value_vars=list(columns),
        var_name="percentile",
        value_name="seconds",
    )
    table["percentile"] = table["percentile"].map(columns)
    table["plotted"] = table["seconds"].clip(lower=FLOOR_S)
    table["low"] = table.groupby("group")["plotted"].transform("min")
    table["high"] = table.groupby("group")["plotted"].transform("max")
    order = list(columns.values())
    shapes = [PERCENTILE_SHAPES[i % len(PERCENTILE_SHAPES)] for i in range(len(order))]
    scale, axis = log_latency_scale(table["seconds"])
    y = alt.Y("group:N", title=None, sort=style.domain)
    tooltip = [
        alt.Tooltip("group:N", title="group"),
        alt.Tooltip("percentile:N", title="percentile"),
        alt.Tooltip("seconds:Q", title="latency (s)", format=",.1f"),
        alt.Tooltip("count:Q", title="receipts measured", format=","),
    ]
    base = alt.Chart()
    spread_line = base.mark_rule(strokeWidth=2, opacity=0.5).encode(
        y=y,
        x=alt.X("low:Q", title="latency (log scale)", scale=scale, axis=axis),
        x2="high:Q",
        color=style.color(),
    )
    points = base.mark_point(size=90, filled=True, opacity=0.95).encode(
        y=y,
        x=alt.X("plotted:Q", scale=scale, axis=axis, title="latency (log scale)"),
        color=style.color(),
        shape=alt.Shape(
            "percentile:N",
            sort=order,
            scale=alt.Scale(domain=order, range=shapes),
            legend=alt.Legend(title="percentile", symbolFillColor="#555", symbolStrokeColor="#555"),
        ),
        tooltip=tooltip,
    )
    return alt.layer(spread_line, points, data=table).properties(
        title=f"{METRIC_TITLES[metric]}: {', '.join(order)} per group (log scale)",
        width=520,
        height=alt.Step(22),
    )


def latency_over_time(
    data: Any,
    *,
    metric: str = "delivery",
    quantile: float = 0.5,
    freq: str | None = None,
    style: GroupStyle | None = None,
) -> alt.Chart:
    """One latency percentile per group over time, by ``sent_at`` bucket.

    Parameters
    ----------
    data
        A :class:`groupkit.Archive` or a frame from :func:`groupkit.deliveries`.
    metric
        ``delivery``, ``read`` or ``read_after_delivery``.
    quantile
        Which percentile to follow (``0.5`` is the median).
    freq
        ``"half_hour"``, ``"day"``, ``"month"``; ``None`` picks one from the time span.
    style
        Group labels and colours (:func:`group_style`).

    Returns
    -------
    altair.Chart
        Data: ``group, bucket, count, seconds, plotted`` (``seconds``, at least 1,
        on a log axis), from :func:`groupkit.latency_summary` with
        ``by="group", freq=freq``.

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(2))
    >>> frame["group_id"] = "G1"
    >>> frame["sent_at"] = pd.to_datetime(["2026-03-01 10:00", "2026-03-02 10:00"], utc=True)
    >>> frame["delivery_latency"] = pd.to_timedelta([2, 4], unit="s")
    >>> latency_over_time(frame, freq="day").data["seconds"].tolist()
    [2.0, 4.0]
    """
    frame, style = labelled_deliveries(data, style)
    freq = resolve_freq(freq, frame["sent_at"])
    column = quantile_column(quantile)
    summary = latency_summary(frame, metric=metric, by="group", quantiles=[quantile], freq=freq)
    table = summary[["group", "bucket", "count", column]].rename(columns={column: "seconds"})
    table["plotted"] = table["seconds"].clip(lower=FLOOR_S)
    name = column.removesuffix("_s")
    scale, axis = log_latency_scale(table["seconds"])
    return group_lines_over_time(
        table,
        title=f"{METRIC_TITLES[metric]}: {name} per group and {FREQ_WORDS[freq]} sent (log scale)",
        freq=freq,
        style=style,
        y=alt.Y("plotted:Q", title=f"{name} latency (log scale)", scale=scale, axis=axis),
        tooltip=[
            alt.Tooltip("seconds:Q", title=f"{name} latency (s)", format=",.1f"),
            alt.Tooltip("count:Q", title="receipts measured", format=","),
        ],
    )


def within_rate_over_time(
    data: Any,
    *,
    within_s: float = 5,
    metric: str = "delivery",
    freq: str | None = None,
    style: GroupStyle | None = None,
) -> alt.Chart:
    """Share of receipts delivered (or read) within ``within_s`` seconds, over time.

    Parameters
    ----------
    data
        A :class:`groupkit.Archive` or a frame from :func:`groupkit.deliveries`.
    within_s
        The threshold in seconds.
    metric
        ``delivery`` ("delivered within N s"), ``read`` or ``read_after_delivery``.
    freq
        ``"half_hour"``, ``"day"``, ``"month"``; ``None`` picks one from the time span.
    style
        Group labels and colours (:func:`group_style`).

    Returns
    -------
    altair.Chart
        Data: ``group, bucket, count, share_within`` from
        :func:`groupkit.latency_summary` with ``within_s``.

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(4))
    >>> frame["group_id"] = "G1"
    >>> frame["sent_at"] = pd.to_datetime(["2026-03-01 10:00"] * 4, utc=True)
    >>> frame["delivery_latency"] = pd.to_timedelta([1, 2, 9, 30], unit="s")
    >>> within_rate_over_time(frame, within_s=5, freq="day").data["share_within"].tolist()
    [0.5]
    """
    frame, style = labelled_deliveries(data, style)
    freq = resolve_freq(freq, frame["sent_at"])
    summary = latency_summary(
        frame, metric=metric, by="group", quantiles=[], freq=freq, within_s=within_s
    )
    table = summary[["group", "bucket", "count", "share_within"]]
    verb = {"delivery": "delivered", "read": "read", "read_after_delivery": "read after delivery"}
    return group_lines_over_time(
        table,
        title=f"Share {verb[metric]} within {within_s:g} s, per group and {FREQ_WORDS[freq]}",
        freq=freq,
        style=style,
        y=alt.Y(
            "share_within:Q",
            title=f"{verb[metric]} within {within_s:g} s",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
        tooltip=[
            alt.Tooltip("share_within:Q", title=f"within {within_s:g} s", format=".1%"),
            alt.Tooltip("count:Q", title="receipts measured", format=","),
        ],
    )
