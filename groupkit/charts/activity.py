"""Activity charts: inbound group messages by hour and weekday, and by message type.

``groupkit.analytics`` has no inbound-message summary, so these count the
``messages`` frame here (grouped counts only; the charts embed the counts).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from groupkit.charts._style import (
    OTHER,
    WEEKDAYS,
    GroupStyle,
    group_style,
    pooled_groups,
)

__all__ = ["activity_heatmap", "inbound_counts", "messages_by_type"]


def inbound_counts(archive: Any, by: list[str], *, style: GroupStyle | None = None) -> pd.DataFrame:
    """Inbound group messages counted by group label and ``by`` (``hour``, ``weekday``, ``type``).

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive` (its ``messages`` frame is used; 1:1 messages,
        without a ``group_id``, are left out).
    by
        Any of ``hour`` (0-23, UTC), ``weekday`` (``Mon`` ... ``Sun``) and ``type``.
    style
        Group labels (:func:`group_style`).

    Returns
    -------
    pandas.DataFrame
        ``group, *by, messages``: only combinations that occur.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> messages = pd.DataFrame({"group_id": ["G1", "G1", None], "type": ["text"] * 3,
    ...     "timestamp": pd.to_datetime(["2026-03-02 10:05"] * 3, utc=True)})
    >>> inbound_counts(SimpleNamespace(messages=messages), ["weekday", "hour"]).values.tolist()
    [['…G1', 'Mon', 10, 2]]
    """
    messages = archive.messages
    messages = messages[messages["group_id"].notna()]
    if style is None:
        style = group_style(messages)
    table = pd.DataFrame({"group": style.label(messages["group_id"])})
    if "hour" in by:
        table["hour"] = messages["timestamp"].dt.hour.astype("int64")
    if "weekday" in by:
        # Ordered so Mon..Sun sort as days, not alphabetically.
        table["weekday"] = pd.Categorical.from_codes(
            messages["timestamp"].dt.day_of_week.to_numpy(), categories=list(WEEKDAYS), ordered=True
        )
    if "type" in by:
        table["type"] = messages["type"].astype("str")
    keys = ["group", *by]
    out = table.groupby(keys, sort=True, observed=True).size().rename("messages").reset_index()
    if "weekday" in by:
        out["weekday"] = out["weekday"].astype("str")
    return out.reset_index(drop=True)


def activity_heatmap(archive: Any, *, style: GroupStyle | None = None) -> alt.HConcatChart:
    """Inbound messages per group (bars) and by hour of day and weekday (heatmap, UTC).

    Click a group's bar (shift-click for more) to show only its messages in the
    heatmap; click the background to show all groups again.  The ``"other groups"``
    bar is the mean per pooled group, so that many quiet groups do not dwarf the
    ones named; the heatmap counts every message.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    style
        Group labels and colours (:func:`group_style`).

    Returns
    -------
    altair.HConcatChart
        Both panels share one dataset: ``group, weekday, hour, messages``
        (:func:`inbound_counts`) and ``per_group`` (``messages`` divided by the
        groups a label stands for); the heatmap sums ``messages`` over the selected
        groups.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> messages = pd.DataFrame({"group_id": ["G1", "G2"], "type": ["text"] * 2,
    ...     "timestamp": pd.to_datetime(["2026-03-02 10:05", "2026-03-03 11:00"], utc=True)})
    >>> chart = activity_heatmap(SimpleNamespace(messages=messages))
    >>> chart.data["messages"].sum()
    np.int64(2)
    """
    if style is None:
        style = group_style(archive.messages.dropna(subset=["group_id"]))
    table = inbound_counts(archive, ["weekday", "hour"], style=style)
    messages = archive.messages
    pooled = max(pooled_groups(style, messages["group_id"]), 1)
    table["per_group"] = table["messages"] / (table["group"] == OTHER).map({True: pooled, False: 1})
    pick = alt.selection_point(fields=["group"], name="heat_group")
    base = alt.Chart(table)
    title = "Inbound messages per group (click to filter)"
    bars = (
        base.mark_bar()
        .encode(
            y=alt.Y("group:N", sort=style.domain, title=None),
            x=alt.X("sum(per_group):Q", title="inbound messages per group"),
            color=style.color(legend=None),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.3)),
            tooltip=[
                alt.Tooltip("group:N", title="group"),
                alt.Tooltip("sum(per_group):Q", title="inbound messages per group", format=",.1f"),
                alt.Tooltip("sum(messages):Q", title="inbound messages", format=","),
            ],
        )
        .add_params(pick)
        .properties(
            title=[title, f"other groups: mean of {pooled}"] if style.pooled else title, width=200
        )
    )
    heat = (
        base.transform_filter(pick)
        .mark_rect()
        .encode(
            x=alt.X("hour:O", title="hour of day (UTC)", scale=alt.Scale(domain=list(range(24)))),
            y=alt.Y("weekday:O", title=None, scale=alt.Scale(domain=list(WEEKDAYS))),
            color=alt.Color(
                "sum(messages):Q",
                title="messages",
                scale=alt.Scale(scheme="blues", zero=True),
            ),
            tooltip=[
                alt.Tooltip("weekday:O", title="weekday"),
                alt.Tooltip("hour:O", title="hour (UTC)"),
                alt.Tooltip("sum(messages):Q", title="inbound messages", format=","),
            ],
        )
        .properties(title="Inbound messages by weekday and hour (selected groups)", width=480)
    )
    return alt.hconcat(bars, heat, data=table).resolve_scale(color="independent")


def messages_by_type(archive: Any, *, style: GroupStyle | None = None) -> alt.LayerChart:
    """What each group posts: the share of its inbound messages of each type.

    Shares, not counts, so the pooled ``"other groups"`` (all of their messages
    together) is a group like the others and never dwarfs the ones named.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    style
        Group labels and colours (:func:`group_style`).

    Returns
    -------
    altair.Chart
        Data: ``group, type, messages, share`` (``share`` of the group's inbound
        messages; :func:`inbound_counts` for the counts).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> messages = pd.DataFrame({"group_id": ["G1", "G1", "G2"], "type": ["text", "image", "text"],
    ...     "timestamp": pd.to_datetime(["2026-03-02 10:05"] * 3, utc=True)})
    >>> messages_by_type(SimpleNamespace(messages=messages)).data.values.tolist()
    [['…G1', 'image', 1, 0.5], ['…G1', 'text', 1, 0.5], ['…G2', 'text', 1, 1.0]]
    """
    if style is None:
        style = group_style(archive.messages.dropna(subset=["group_id"]))
    table = inbound_counts(archive, ["type"], style=style)
    totals = table.groupby("group", observed=True)["messages"].transform("sum")
    table = table.assign(share=(table["messages"] / totals.where(totals > 0)).astype("float64"))
    base = alt.Chart(
        table, title="Inbound messages: share of each type, per group (row sums to 100%)"
    ).encode(
        x=alt.X("type:N", title="message type", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("group:N", sort=style.domain, title=None),
        tooltip=[
            alt.Tooltip("group:N", title="group"),
            alt.Tooltip("type:N", title="message type"),
            alt.Tooltip("share:Q", title="share", format=".1%"),
            alt.Tooltip("messages:Q", title="inbound messages", format=","),
        ],
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "share:Q",
            title="share",
            scale=alt.Scale(scheme="blues", domain=[0, 1]),
            legend=alt.Legend(format="%"),
        )
    )
    labels = base.mark_text(fontSize=10).encode(
        text=alt.Text("share:Q", format=".0%"),
        color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("#222")),
    )
    return (cells + labels).properties(width=520, height=alt.Step(20))
