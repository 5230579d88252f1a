"""Participants: who reads, and who has gone quiet."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from groupkit.charts._style import GroupStyle, group_style

__all__ = ["silence_chart"]

_MAX_POINTS = 4000  # altair refuses 5,000 rows; past this, the quietest are kept


def silence_chart(
    people: pd.DataFrame, *, style: GroupStyle | None = None, data: Any = None
) -> alt.Chart:
    """Each participant's read rate against their silent streak, coloured by group.

    Bottom right are the members to reach: they read little, and have not read the
    latest messages.  A point is a (group, participant) of
    :func:`groupkit.participants` that got at least one message.

    Parameters
    ----------
    people
        :func:`groupkit.participants`'s frame.
    style
        Group labels and colours (:func:`groupkit.charts.group_style`); by default
        built from ``data``, else from ``people``.
    data
        The archive, to name groups by their subject when ``style`` is not given.

    Returns
    -------
    altair.Chart
        Data: ``group, name, participant_id, messages, read, read_rate,
        silent_streak``; at most 4,000 points (the longest streaks).

    Examples
    --------
    >>> people = pd.DataFrame({"group_id": ["G1", "G1"], "participant_id": ["1", "2"],
    ...     "name": ["Ana", None], "messages": [4, 4], "read": [4, 1],
    ...     "read_rate": [1.0, 0.25], "silent_streak": [0, 3]})
    >>> chart = silence_chart(people)
    >>> chart.to_dict()["encoding"]["x"]["field"], len(chart.data)
    ('silent_streak', 2)
    """
    if style is None:
        style = group_style(data if data is not None else people[["group_id"]])
    got = people[people["messages"] > 0]
    got = got.sort_values(["silent_streak", "participant_id"], ascending=[False, True])
    got = got.head(_MAX_POINTS)
    table = pd.DataFrame(
        {
            "group": style.label(got["group_id"]).to_numpy(),
            "name": got["name"].fillna("").astype("str").to_numpy(),
            "participant_id": got["participant_id"].astype("str").to_numpy(),
            "messages": got["messages"].to_numpy(),
            "read": got["read"].to_numpy(),
            "read_rate": got["read_rate"].astype("float64").to_numpy(),
            "silent_streak": got["silent_streak"].to_numpy(),
        }
    )
    return (
        alt.Chart(
            table,
            title="Members to reach: read rate against unread messages in a row",
            width=520,
            height=260,
        )
        .mark_circle(size=70, opacity=0.75)
        .encode(
            x=alt.X(
                "silent_streak:Q",
                title="silent streak (latest messages not read)",
                scale=alt.Scale(zero=True),
                axis=alt.Axis(tickMinStep=1, format="d"),
            ),
            y=alt.Y(
                "read_rate:Q",
                title="share of their messages read",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=style.color(),
            tooltip=[
                alt.Tooltip("group:N", title="group"),
                alt.Tooltip("name:N", title="name"),
                alt.Tooltip("participant_id:N", title="participant"),
                alt.Tooltip("silent_streak:Q", title="silent streak"),
                alt.Tooltip("read_rate:Q", title="read", format=".0%"),
                alt.Tooltip("read:Q", title="messages read"),
                alt.Tooltip("messages:Q", title="messages received"),
            ],
        )
    )
