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
    FREQ_WORDS,
    GroupStyle,
    duration_unit,
    group_lines_over_time,
    highlight_opacity,
    labelled_deliveries,
    legend_selection,
    resolve_freq,
)

__all__ = [
    "METRIC_TITLES",
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
    the chart carries a few hundred rows whatever the archive size.  Click a group
    in the legend to highlight it.

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
        (receipts measured), ``metric``, ``unit`` and ``value`` (latency in ``unit``).

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(3))
    >>> frame["group_id"] = "G1"
    >>> frame["delivery_latency"] = pd.to_timedelta([1, 2, 9], unit="s")
    >>> chart = latency_ecdf(frame, metrics=["delivery"], points=3, upto=1.0)
    >>> chart.data[["group", "share", "value"]].values.tolist()
    [['…G1', 0.0, 1.0], ['…G1', 0.5, 2.0], ['…G1', 1.0, 9.0]]
    """
    frame, style = labelled_deliveries(data, style)
    grid = np.round(np.linspace(0.0, upto, points), 6)
    select = legend_selection()
    tables, panels = [], []
    for metric in metrics:
        table = _ecdf_points(frame, metric, grid)
        unit, size = duration_unit(table["seconds"])
        tables.append(table.assign(metric=metric, unit=unit, value=table["seconds"] / size))
        panel = (
            alt.Chart(title=METRIC_TITLES[metric], width=260, height=220)
            .transform_filter(alt.datum.metric == metric)
            .mark_line(interpolate="step-after")
            .encode(
                x=alt.X("value:Q", title=f"latency ({unit})"),
                y=alt.Y("share:Q", title="share of receipts", axis=alt.Axis(format="%")),
                color=style.color(),
                opacity=highlight_opacity(select),
                tooltip=[
                    alt.Tooltip("group:N", title="group"),
                    alt.Tooltip("share:Q", title="share of receipts at or below", format=".0%"),
                    alt.Tooltip("value:Q", title=f"latency ({unit})", format=",.1f"),
                    alt.Tooltip("count:Q", title="receipts measured", format=","),
                ],
            )
        )
        panels.append(panel.add_params(select) if not panels else panel)
    data = pd.concat(tables, ignore_index=True)
    return alt.hconcat(*panels, data=data).properties(
        title=f"Latency ECDF per group (up to the p{upto * 100:g})"
    )


def latency_percentiles(
    data: Any,
    *,
    metric: str = "delivery",
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
    style: GroupStyle | None = None,
) -> alt.Chart:
    """Bars of latency percentiles (p50, p90, p99 by default) per group.

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
    altair.Chart
        Data: ``group, percentile`` (``p50`` ...), ``seconds``, ``value`` (in the
        chart's unit), ``count``: the quantile columns of
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
    unit, size = duration_unit(table["seconds"])
    table["value"] = table["seconds"] / size
    order = list(columns.values())
    return (
        alt.Chart(
            table,
            title=f"{METRIC_TITLES[metric]}: {', '.join(order)} per group",
            width=alt.Step(14),
        )
        .mark_bar()
        .encode(
            x=alt.X("group:N", title=None, sort=style.domain, axis=alt.Axis(labelAngle=-30)),
            xOffset=alt.XOffset("percentile:N", sort=order),
            y=alt.Y("value:Q", title=f"latency ({unit})"),
            color=style.color(),
            opacity=alt.Opacity(
                "percentile:N",
                sort=order,
                scale=alt.Scale(domain=order, range=list(np.linspace(1.0, 0.4, len(order)))),
                legend=alt.Legend(title="percentile"),
            ),
            tooltip=[
                alt.Tooltip("group:N", title="group"),
                alt.Tooltip("percentile:N", title="percentile"),
                alt.Tooltip("value:Q", title=f"latency ({unit})", format=",.1f"),
                alt.Tooltip("count:Q", title="receipts measured", format=","),
            ],
        )
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
        Data: ``group, bucket, count, seconds, value`` (in the chart's unit), from
        :func:`groupkit.latency_summary` with ``by="group", freq=freq``.

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
    unit, size = duration_unit(table["seconds"])
    table["value"] = table["seconds"] / size
    name = column.removesuffix("_s")
    return group_lines_over_time(
        table,
        title=f"{METRIC_TITLES[metric]}: {name} per group and {FREQ_WORDS[freq]} sent",
        freq=freq,
        style=style,
        y=alt.Y("value:Q", title=f"{name} latency ({unit})"),
        tooltip=[
            alt.Tooltip("value:Q", title=f"{name} latency ({unit})", format=",.1f"),
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
