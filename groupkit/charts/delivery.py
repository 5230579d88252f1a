"""Delivery charts: the funnel per group and read coverage over time."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from groupkit.analytics import funnel, read_coverage
from groupkit.charts._style import (
    FREQ_WORDS,
    GroupStyle,
    group_lines_over_time,
    highlight_opacity,
    labelled_deliveries,
    legend_selection,
    resolve_freq,
)

__all__ = ["FUNNEL_STAGES", "coverage_over_time", "funnel_chart"]

FUNNEL_STAGES = ("delivered", "read", "failed", "pending")
_STAGE_WORDS = {
    "delivered": "delivered (read included)",
    "read": "read",
    "failed": "failed",
    "pending": "pending (nothing reported)",
}


def funnel_chart(data: Any, *, style: GroupStyle | None = None) -> alt.Chart:
    """Share of receipts delivered, read, failed and pending, bars per group.

    Rates, not counts, so a small group's failures are as visible as a big one's,
    and ``"other groups"`` is a rate like any group's.  The counts are
    :func:`groupkit.funnel`'s (every view of groupkit counts the same way).

    Parameters
    ----------
    data
        A :class:`groupkit.Archive` or a frame from :func:`groupkit.deliveries`.
    style
        Group labels and colours (:func:`group_style`).

    Returns
    -------
    altair.Chart
        Data: ``group, stage, receipts`` (in that stage), ``recipients``, ``rate``
        (``receipts / recipients``), ``messages``: :func:`groupkit.funnel` by group,
        in long form.

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(4))
    >>> frame["group_id"], frame["message_id"] = "G1", "wamid.1"
    >>> frame["participant_id"] = ["1", "2", "3", "4"]
    >>> frame["state"] = ["read", "delivered", "pending", "failed"]
    >>> table = funnel_chart(frame).data
    >>> dict(zip(table["stage"], table["rate"]))
    {'delivered': 0.5, 'read': 0.25, 'failed': 0.25, 'pending': 0.25}
    """
    frame, style = labelled_deliveries(data, style)
    counts = funnel(frame, by="group")
    table = counts.melt(
        id_vars=["group", "messages", "recipients"],
        value_vars=list(FUNNEL_STAGES),
        var_name="stage",
        value_name="receipts",
    )
    table["rate"] = table["receipts"] / table["recipients"].where(table["recipients"] > 0)
    table["stage_words"] = table["stage"].map(_STAGE_WORDS)
    select = legend_selection()
    return (
        alt.Chart(
            table,
            title="Delivery funnel per group: share of receipts in each state",
            width=520,
            height=alt.Step(8),
        )
        .mark_bar()
        .encode(
            y=alt.Y("stage:N", sort=list(FUNNEL_STAGES), title=None),
            yOffset=alt.YOffset("group:N", sort=style.domain),
            x=alt.X(
                "rate:Q",
                title="share of receipts",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=style.color(),
            opacity=highlight_opacity(select),
            tooltip=[
                alt.Tooltip("group:N", title="group"),
                alt.Tooltip("stage_words:N", title="state"),
                alt.Tooltip("rate:Q", title="share of receipts", format=".1%"),
                alt.Tooltip("receipts:Q", title="receipts", format=","),
                alt.Tooltip("recipients:Q", title="of receipts", format=","),
                alt.Tooltip("messages:Q", title="messages sent", format=","),
            ],
        )
        .add_params(select)
    )


def coverage_over_time(
    data: Any,
    *,
    within: str | float | pd.Timedelta = "1h",
    freq: str | None = None,
    style: GroupStyle | None = None,
) -> alt.Chart:
    """Share of members at send time who read within ``within``, per group over time.

    Parameters
    ----------
    data
        A :class:`groupkit.Archive` or a frame from :func:`groupkit.deliveries`.
    within
        How soon after sending a read counts (``"1h"``, ``"30min"``, seconds).
    freq
        ``"half_hour"``, ``"day"``, ``"month"``; ``None`` picks one from the time span.
    style
        Group labels and colours (:func:`group_style`).

    Returns
    -------
    altair.Chart
        Data: ``group, bucket, messages, members, readers_within, coverage``: the
        per-message coverage of :func:`groupkit.read_coverage` summed per group and
        bucket (``coverage = readers_within / members``).

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(2))
    >>> frame["group_id"], frame["message_id"] = "G1", "wamid.1"
    >>> frame["participant_id"] = ["1", "2"]
    >>> frame["sent_at"] = pd.to_datetime(["2026-03-01 10:00"] * 2, utc=True)
    >>> frame["state"] = ["read", "delivered"]
    >>> frame["read_latency"] = pd.to_timedelta([60, None], unit="s")
    >>> coverage_over_time(frame, freq="day").data["coverage"].tolist()
    [0.5]
    """
    frame, style = labelled_deliveries(data, style)
    freq = resolve_freq(freq, frame["sent_at"])
    per_message = read_coverage(frame, within=within, freq=freq)
    # read_coverage keys by group_id; pool into the chart's labels (sums, then the ratio).
    per_message["group"] = style.label(per_message["group_id"])
    table = (
        per_message.groupby(["group", "bucket"], sort=True)[
            ["messages", "members", "readers_within"]
        ]
        .sum()
        .reset_index()
    )
    table["coverage"] = table["readers_within"] / table["members"].where(table["members"] > 0)
    limit = per_message["within_s"].iloc[0] if len(per_message) else pd.Timedelta(within)
    words = _duration_words(limit)
    return group_lines_over_time(
        table,
        title=f"Read coverage: members who read within {words}, per {FREQ_WORDS[freq]}",
        freq=freq,
        style=style,
        y=alt.Y(
            "coverage:Q",
            title=f"read within {words}",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
        tooltip=[
            alt.Tooltip("coverage:Q", title=f"read within {words}", format=".1%"),
            alt.Tooltip("readers_within:Q", title="readers in time", format=","),
            alt.Tooltip("members:Q", title="members at send (summed)", format=","),
            alt.Tooltip("messages:Q", title="messages", format=","),
        ],
    )


def _duration_words(limit: float | pd.Timedelta) -> str:
    seconds = limit.total_seconds() if isinstance(limit, pd.Timedelta) else float(limit)
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"
