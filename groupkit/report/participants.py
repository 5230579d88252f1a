"""The report's sections about people and change: "What changed" and "Members to reach".

:func:`participant_sections` returns ``(heading, anchor, html)`` sections that
:func:`groupkit.report.build_report` inserts before the load report:

* **What changed** -- only when the archive's business messages span at least two
  weeks: the last seven days against the seven before (:func:`groupkit.compare`), the
  changes larger than chance first, each with its 95 % interval;
* **Members to reach** -- the participants with the longest silent streaks
  (:func:`groupkit.participants`), their read rate against their streak, and who has
  not read each group's latest messages (:func:`groupkit.message_receipts`), one
  message at a time through a select box.

An archive with no participant gets neither section.

Examples
--------
>>> import groupkit
>>> participant_sections(groupkit.parse_webhooks([]), chart=lambda spec: "")
[]
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pandas as pd

from groupkit import charts
from groupkit.analytics import compare, deliveries, participants, read_coverage
from groupkit.analytics.change import last_windows, spans
from groupkit.analytics.participants import receipt_table
from groupkit.charts._style import GroupStyle, seconds_words
from groupkit.charts.change import compare_table
from groupkit.report.tables import static_table_html

__all__ = [
    "MESSAGES_PER_GROUP",
    "MIN_SPAN",
    "MIN_STREAK",
    "REPORT_METRICS",
    "participant_sections",
]

MIN_SPAN = pd.Timedelta(days=14)  # "What changed" needs two whole weeks
MIN_STREAK = 3  # unread messages in a row before someone is a member to reach
MESSAGES_PER_GROUP = 3  # latest messages per group in the "who has not read" picker
_MEMBERS_SHOWN = 25
REPORT_METRICS = (
    "delivered_rate",
    "read_rate",
    "read_within_rate",
    "failed_rate",
    "delivery_p90",
    "read_p50",
)
_SCRIPT = """
<script>
document.querySelectorAll('select.gk-message-pick').forEach((pick) => {
  const show = () => document.querySelectorAll(pick.dataset.tables).forEach((t) => {
    t.hidden = t.dataset.messageId !== pick.value;
  });
  pick.addEventListener('change', show);
  show();
});
</script>
"""


def _day(ts: pd.Timestamp) -> str:
    return f"{ts:%b %-d}"


def _window_words(window: tuple[pd.Timestamp, pd.Timestamp]) -> str:
    start, end = window
    return f"{_day(start)}–{_day(end - pd.Timedelta(days=1))}"


def _value_words(value: float, unit: str) -> str:
    if pd.isna(value):
        return "–"
    return f"{value:.0%}" if unit == "share" else seconds_words(value)


def _change_words(row: pd.Series) -> str:
    if row["unit"] == "share":
        return (
            f"{row['change'] * 100:+.1f} points (95 % interval {row['ci_low'] * 100:+.1f} to "
            f"{row['ci_high'] * 100:+.1f})"
        )
    return f"{row['change']:+.0f} s (95 % interval {row['ci_low']:+.0f} to {row['ci_high']:+.0f} s)"


def _what_changed(table: pd.DataFrame, chart: Callable[[Any], str]) -> str:
    before, after = table.attrs["before"], table.attrs["after"]
    rows = compare_table(table, metrics=REPORT_METRICS, max_rows=len(table) or 1)
    significant = rows[rows["significant"]]
    windows = (
        f"The last 7 days ({_window_words(after)}) against the 7 before "
        f"({_window_words(before)}), per group."
    )
    if significant.empty:
        lead = (
            "<p><b>No change is larger than chance explains.</b> With at most eight members "
            "per group, swings of several points are usually noise: wait for more receipts "
            "before acting on them.</p>"
        )
    else:
        items = "".join(
            f'<li data-metric="{html.escape(r["metric"])}"><b>{html.escape(r["label"])}</b> · '
            f"{html.escape(r['metric_words'])}: {_value_words(r['before'], r['unit'])} → "
            f"{_value_words(r['after'], r['unit'])}, {html.escape(_change_words(r))}</li>"
            for _, r in significant.iterrows()
        )
        lead = (
            f"<p><b>{len(significant)} change{'s' if len(significant) != 1 else ''} larger "
            "than chance explains</b> (p &lt; 0.05). Look first at a fall in read or "
            "delivered rate and a rise in failures or times: what changed in those groups "
            "(content, sending hour, members)?</p>"
            f'<ul class="gk-changes">{items}</ul>'
        )
    method = (
        '<p class="note">Rates: two-proportion score test and Newcombe interval '
        "(statsmodels); times: bootstrap interval and permutation test (scipy, fixed seed). "
        f"Fewer than {table.attrs['min_receipts']} receipts in a week: not tested. Grey "
        "changes are within what chance gives.</p>"
    )
    shown = rows[["label", "metric_words", "before", "after", "change_words", "p_value"]]
    shown = shown.assign(
        before=[_value_words(v, u) for v, u in zip(rows["before"], rows["unit"], strict=True)],
        after=[_value_words(v, u) for v, u in zip(rows["after"], rows["unit"], strict=True)],
        verdict=rows["verdict"],
    ).rename(columns={"label": "group", "metric_words": "metric", "change_words": "change"})
    details = (
        "<details><summary>Every group and metric</summary>"
        + static_table_html(shown, {"p_value": "{:.3f}".format})
        + "</details>"
    )
    return (
        f'<p class="note">{windows}</p>'
        + lead
        + chart(charts.compare_chart(table, metrics=REPORT_METRICS))
        + details
        + method
    )


def _members_to_reach(people: pd.DataFrame) -> str:
    reachable = people[people["member"].fillna(True).astype("bool")]
    quiet = reachable[reachable["silent_streak"] >= MIN_STREAK]
    quiet = quiet.sort_values(
        ["silent_streak", "read_rate", "group", "participant_id"],
        ascending=[False, True, True, True],
        kind="stable",
    )
    if quiet.empty:
        return (
            f"<p><b>Nobody has left {MIN_STREAK} or more of their latest messages unread.</b> "
            "Every current member read at least one of their latest messages.</p>"
        )
    lead = (
        f"<p><b>{len(quiet)} member{'s' if len(quiet) != 1 else ''} "
        f"{'have' if len(quiet) != 1 else 'has'} not read {MIN_STREAK} or more of their latest "
        "messages in a row.</b> Reach them another way, ask whether they still want the "
        "group, or remove them so the group's numbers show who reads.</p>"
    )
    shown = quiet.head(_MEMBERS_SHOWN)[
        ["group", "name", "participant_id", "silent_streak", "messages", "read_rate",
         "last_read_at", "replies"]
    ]  # fmt: skip
    formats = {
        "read_rate": "{:.0%}".format,
        "last_read_at": lambda t: f"{t:%Y-%m-%d %H:%M}",
    }
    more = (
        f'<p class="note">{len(quiet) - _MEMBERS_SHOWN} more in '
        "<code>groupkit.participants(archive)</code>.</p>"
        if len(quiet) > _MEMBERS_SHOWN
        else ""
    )
    return lead + f'<div id="members-to-reach">{static_table_html(shown, formats)}</div>' + more


def _who_has_not_read(archive: Any, frame: pd.DataFrame, names: dict[str, str]) -> str:
    coverage = read_coverage(frame).dropna(subset=["sent_at"])
    coverage = coverage[coverage["members"] > 0]
    latest = (
        coverage.sort_values(["sent_at", "message_id"], ascending=False, kind="stable")
        .groupby("group_id", sort=False)
        .head(MESSAGES_PER_GROUP)
    )
    if latest.empty:
        return ""
    latest = latest.sort_values(["group_id", "sent_at"], ascending=[True, False], kind="stable")
    rows = frame[frame["message_id"].isin(latest["message_id"])]
    receipts = receipt_table(archive, rows)
    options, tables = [], []
    for n, row in enumerate(latest.itertuples(index=False)):
        mid = html.escape(row.message_id)
        label = (
            f"{names.get(row.group_id, row.group_id)} · {row.sent_at:%Y-%m-%d %H:%M} · "
            f"{row.readers}/{row.members} read"
        )
        options.append(
            f'<option value="{mid}"{" selected" if n == 0 else ""}>{html.escape(label)}</option>'
        )
        mine = receipts[receipts["message_id"] == row.message_id].sort_values(
            ["state", "name", "participant_id"], kind="stable", na_position="last"
        )
        shown = mine[["name", "participant_id", "state", "delivered_at", "read_at", "left_at"]]
        stamp = lambda t: f"{t:%m-%d %H:%M}"  # noqa: E731
        table = static_table_html(
            shown.assign(state=mine["state"].astype("str")),
            {"delivered_at": stamp, "read_at": stamp, "left_at": stamp},
        )
        tables.append(f'<div class="gk-receipts" data-message-id="{mid}">{table}</div>')
    return (
        "<h3>Who has not read a message</h3>"
        f'<p class="note">The latest {MESSAGES_PER_GROUP} messages of each group; every '
        "member at send time with their state. Not read first.</p>"
        '<select class="gk-message-pick" data-tables="#members .gk-receipts">'
        + "".join(options)
        + "</select>"
        + "".join(tables)
        + _SCRIPT
    )


def participant_sections(
    archive: Any,
    *,
    chart: Callable[[Any], str],
    frame: pd.DataFrame | None = None,
    style: GroupStyle | None = None,
) -> list[tuple[str, str, str]]:
    """The "What changed" and "Members to reach" sections of the report.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    chart
        Embeds an altair chart in the page and returns its placeholder HTML (the
        report's own ``chart`` function).
    frame
        The archive's :func:`groupkit.deliveries`, when already computed.
    style
        The report's group labels and colours.

    Returns
    -------
    list of (str, str, str)
        ``(heading, anchor, html)``: "What changed" (anchor ``changed``) when the
        business messages span at least :data:`MIN_SPAN`, and "Members to reach"
        (anchor ``members``) when the archive knows any participant.
    """
    frame = deliveries(archive) if frame is None else frame
    people = participants(archive, frame=frame)
    if people.empty:
        return []
    names = {gid: style.name(gid) if style else name for gid, name in
             zip(people["group_id"], people["group"], strict=True)}  # fmt: skip
    out = []
    if spans(frame) >= MIN_SPAN:
        before, after = last_windows(frame, "7D")
        table = compare(frame, before=before, after=after)
        table = table.assign(group=table["group_id"].map(names).fillna(table["group"]))
        out.append(("What changed", "changed", _what_changed(table, chart)))
    members = (
        _members_to_reach(people)
        + chart(charts.silence_chart(people, style=style, data=archive))
        + _who_has_not_read(archive, frame, names)
    )
    out.append(("Members to reach", "members", members))
    return out
