"""The report page: the answer first (groups to look at), then the evidence.

Sections, one heading each: the archive at a glance, the groups to look at (slowest,
most failing, least read, each with its numbers and leading error), every group in a
sortable table, delivery, latency, delivery failures, inbound messages, cost, webhook
health and pins (those three from :mod:`groupkit.report.cost_health_pins`, when the
archive has the data), and the load report.  The charts colour the groups the headline
names and pool the rest, in grey, as context.  Every count is
:func:`groupkit.group_summary`'s, that is the funnel's.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from groupkit import charts
from groupkit.analytics import (
    deliveries,
    error_catalog,
    error_summary,
    funnel,
    group_summary,
    groups_to_watch,
    latency_summary,
)
from groupkit.analytics.errors import DELIVERY_ORIGINS, INBOUND_ORIGINS
from groupkit.charts._style import PALETTE, seconds_words
from groupkit.report import cost_health_pins
from groupkit.report.assets import javascript_bundle
from groupkit.report.participants import participant_sections
from groupkit.report.tables import TABLE_CSS, TABLE_SCRIPT, groups_table_html, static_table_html

__all__ = ["build_report", "group_table"]

MIN_RECEIPTS = 20  # receipts a group needs to be ranked on latency or reading

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 1200px;
       padding: 0 1rem; color: #222; box-sizing: border-box; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
h3 { margin: .2rem 0 .4rem; font-size: 1rem; }
.meta, .note { color: #555; font-size: .9rem; } .chart { margin: 1rem 0 2rem; }
.kpis { display: flex; flex-wrap: wrap; gap: .5rem 1.2rem; margin: 1rem 0; }
.kpi b { display: block; font-size: 1.4rem; } .kpi span { color: #555; font-size: .85rem; }
.cards { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 1rem; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6rem .8rem; }
.card ol { margin: 0; padding-left: 1.2rem; } .card li { margin: .35rem 0; }
.card .value { font-weight: 600; color: #8a3b00; } .card .why { color: #444; font-size: .85rem; }
.card .advice { color: #555; font-size: .8rem; }
.swatch { display: inline-block; width: .7rem; height: .7rem; border-radius: 2px;
          margin-right: .35rem; vertical-align: baseline; }
table.table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
table.table th, table.table td { padding: .25rem .6rem; border-bottom: 1px solid #eee;
                                  text-align: left; vertical-align: top; }
table.table th { background: #f6f6f6; }
"""

_RATE = "{:.1%}".format


def group_table(archive: Any, *, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The report's groups table as data: :func:`groupkit.group_summary`, slowest first.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    frame
        Its :func:`groupkit.deliveries`, when already computed.

    Returns
    -------
    pandas.DataFrame
        :func:`groupkit.group_summary` sorted as the report sorts it (delivery p90,
        slowest first), with ``advice`` for each group's top delivery error.

    Examples
    --------
    >>> import groupkit
    >>> group_table(groupkit.parse_webhooks([])).empty
    True
    """
    summary = group_summary(archive, frame=frame)
    advice = error_catalog().set_index("code")["advice"]
    summary["advice"] = summary["top_error_code"].map(advice).astype("str")
    summary = summary.sort_values(
        ["delivery_p90_s", "group_id"], ascending=[False, True], na_position="last"
    )
    return summary.reset_index(drop=True)


def _kpis(total: pd.Series, summary: pd.DataFrame, latency: pd.Series) -> str:
    """The archive at a glance; each figure carries its number in ``data-value``."""
    items = [
        (len(summary), f"{len(summary):,}", "groups"),
        (total["messages"], f"{int(total['messages']):,}", "messages sent"),
        (total["recipients"], f"{int(total['recipients']):,}", "receipts"),
        (total["delivered"], _pct(total["delivered_rate"]), "delivered"),
        (total["read"], _pct(total["read_rate"]), "read"),
        (
            total["failed"],
            _pct(total["failed_rate"]),
            f"failed ({int(total['failed']):,} receipts)",
        ),
        (total["pending"], _pct(total["pending_rate"]), "pending"),
        (latency["p50_s"], seconds_words(latency["p50_s"]) or "–", "delivery p50"),
        (latency["p90_s"], seconds_words(latency["p90_s"]) or "–", "delivery p90"),
        (total["messages_failed"], f"{int(total['messages_failed']):,}", "messages failed"),
        (
            summary["inbound_messages"].sum(),
            f"{int(summary['inbound_messages'].sum()):,}",
            "inbound messages",
        ),
    ]
    cells = "".join(
        f'<div class="kpi" data-kpi="{html.escape(label.split(" (")[0])}" '
        f'data-value="{_number(number)}">'
        f"<b>{html.escape(value)}</b><span>{html.escape(label)}</span></div>"
        for number, value, label in items
    )
    return f'<div class="kpis">{cells}</div>'


def _number(value: Any) -> str:
    return "" if pd.isna(value) else repr(float(value))


def _pct(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.1%}"


def _watch_value(row: pd.Series) -> tuple[str, str]:
    """The ranking number of a headline entry, and the numbers around it."""
    if row["concern"] == "slowest":
        value = f"p90 {seconds_words(row['delivery_p90_s'])}"
        why = (
            f"p50 {seconds_words(row['delivery_p50_s'])}; "
            f"{int(row['delivered']):,} deliveries measured"
        )
    elif row["concern"] == "most failing":
        value = f"{row['messages_failed_rate']:.1%} of messages failed"
        why = (
            f"{int(row['messages_failed']):,} of {int(row['messages']):,} messages; "
            f"{int(row['failed']):,} failed receipts ({row['failed_rate']:.1%})"
        )
    else:
        value = f"{row['read_rate']:.1%} read"
        coverage = "" if pd.isna(row["coverage"]) else f"; {row['coverage']:.0%} within 1 h"
        why = f"{int(row['read']):,} of {int(row['recipients']):,} receipts{coverage}"
    return value, why


_CONCERNS = {
    "slowest": ("Slowest delivery", "ranked by p90 time from sent to delivered"),
    "most failing": ("Most failing", "ranked by the share of messages that failed"),
    "least read": ("Least read", "ranked by the share of receipts read"),
}


def _headline(watch: pd.DataFrame, colours: dict[str, str]) -> str:
    cards = []
    for concern, (title, ranked) in _CONCERNS.items():
        rows = watch[watch["concern"] == concern]
        items = []
        for _, row in rows.iterrows():
            value, why = _watch_value(row)
            swatch = colours.get(row["group_id"])
            dot = f'<span class="swatch" style="background:{swatch}"></span>' if swatch else ""
            error = ""
            if pd.notna(row["top_error_code"]):
                advice = row["advice"] if isinstance(row["advice"], str) else ""
                error = (
                    f'<div class="advice">top error {int(row["top_error_code"])} '
                    f"{html.escape(str(row['top_error_title']))} "
                    f"({int(row['top_error_count']):,}): {html.escape(advice)}</div>"
                )
            items.append(
                f'<li data-group-id="{html.escape(row["group_id"])}">{dot}'
                f'<b title="{html.escape(row["group_id"])}">{html.escape(row["group"])}</b>'
                f' · <span class="value">{html.escape(value)}</span>'
                f'<div class="why">{html.escape(why)}</div>{error}</li>'
            )
        body = (
            f"<ol>{''.join(items)}</ol>" if items else '<p class="note">No group to name here.</p>'
        )
        cards.append(
            f'<div class="card" id="watch-{concern.replace(" ", "-")}"><h3>{title}</h3>'
            f'<p class="note">{ranked}</p>{body}</div>'
        )
    note = (
        f"Ranked by each metric, not by volume; a group needs {MIN_RECEIPTS} receipts to be "
        "ranked on latency or reading. The charts below colour these groups; the rest are "
        "pooled in grey as context."
    )
    return f'<p class="note">{note}</p><div class="cards">{"".join(cards)}</div>'


def _errors_table(archive: Any, origin: tuple[str, ...]) -> str:
    errors = error_summary(archive, origin=origin)
    if errors.empty:
        return '<p class="note">None in this archive.</p>'
    advice = error_catalog().set_index("code")["advice"]
    errors = errors.assign(advice=errors["code"].map(advice))
    shown = errors[["code", "title", "family", "count", "share", "advice"]]
    return static_table_html(shown, {"share": _RATE, "count": "{:,}".format})


def build_report(
    archive: Any,
    *,
    title: str = "groupkit report",
    frame: pd.DataFrame | None = None,
    max_groups: int = 9,
    bundle: Callable[[], str] = javascript_bundle,
    rates: Any = None,
) -> str:
    """The report of ``archive`` as one self-contained HTML page.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    title
        Page title.
    frame
        Its :func:`groupkit.deliveries` frame, when already computed.
    max_groups
        Groups with their own colour in the charts: the groups to look at, up to
        this many; the rest are pooled as context.  The table lists every group.
    bundle
        Returns the Vega JavaScript to inline (default: :func:`javascript_bundle`).
    rates
        A rate card (CSV path or DataFrame) for the "Cost" section (see
        :func:`groupkit.costs`); without one, cost is shown in billable deliveries.

    Returns
    -------
    str
        The HTML page: no external script, style or font.

    Examples
    --------
    >>> import groupkit
    >>> page = build_report(groupkit.parse_webhooks([]), bundle=lambda: "")
    >>> page.startswith("<!DOCTYPE html>"), page.count('class="chart"'), page.count("<h2>")
    (True, 11, 7)
    """
    script = bundle()  # first, so a missing extra fails before any work
    from groupkit.load.engine import give_back_memory

    frame = deliveries(archive) if frame is None else frame
    give_back_memory()  # the lifecycle's working set, before the charts add theirs
    summary = group_table(archive, frame=frame)
    watch = groups_to_watch(summary, min_receipts=MIN_RECEIPTS)
    highlight = list(dict.fromkeys(watch["group_id"]))[:max_groups]
    style = charts.group_style(archive, max_groups=max_groups, highlight=highlight)
    colours = {gid: PALETTE[i % len(PALETTE)] for i, gid in enumerate(style.labels)}
    total = funnel(frame, by=None).iloc[0]
    latency = latency_summary(frame, by=None).iloc[0]
    esc = html.escape

    def chart(spec: Any) -> str:
        embeds.append(spec.to_dict())
        return f'<div class="chart" id="chart-{len(embeds) - 1}"></div>'

    embeds: list[dict] = []
    sections = [
        (
            "Groups to look at",
            "watch",
            _headline(watch, colours),
        ),
        (
            "Groups",
            "groups",
            groups_table_html(summary, colours=colours),
        ),
        (
            "Delivery",
            "delivery",
            '<p class="note">Every receipt is delivered, failed or pending. A receipt is a '
            "member at send time (or, without membership webhooks, a participant that "
            "reported); a message whose recipients the archive cannot tell counts as one "
            "receipt, so a failed message is failed in every rate.</p>"
            + chart(charts.funnel_chart(frame, style=style))
            + chart(charts.coverage_over_time(frame, style=style)),
        ),
        (
            "Latency",
            "latency",
            '<p class="note">Logarithmic time axes, so a few receipts that took hours do '
            "not flatten the rest; latencies under a second are drawn at 1 s.</p>"
            + chart(charts.latency_percentiles(frame, metric="delivery", style=style))
            + chart(charts.latency_percentiles(frame, metric="read", style=style))
            + chart(charts.latency_ecdf(frame, style=style))
            + chart(charts.latency_over_time(frame, metric="delivery", style=style))
            + chart(charts.within_rate_over_time(frame, within_s=5, style=style)),
        ),
        (
            "Delivery failures",
            "failures",
            '<p class="note">Failed statuses: messages the business sent that did not reach '
            "someone, by code, with what to do.</p>"
            + _errors_table(archive, DELIVERY_ORIGINS)
            + chart(charts.errors_over_time(archive, origin=DELIVERY_ORIGINS))
            + chart(charts.errors_by_group(archive, style=style, origin=DELIVERY_ORIGINS))
            + "<h3>Group and webhook errors</h3>"
            + _errors_table(archive, ("webhook", "group_event")),
        ),
        (
            "Inbound messages",
            "inbound",
            chart(charts.activity_heatmap(archive, style=style))
            + chart(charts.messages_by_type(archive, style=style))
            + "<h3>Inbound messages WhatsApp could not pass on</h3>"
            '<p class="note">Errors on messages participants posted (e.g. 130501, a type '
            "the API does not support); they say nothing about delivery.</p>"
            + _errors_table(archive, INBOUND_ORIGINS),
        ),
        *participant_sections(archive, chart=chart, frame=frame, style=style),
        *cost_health_pins.sections(archive, frame=frame, chart=chart, rates=rates, style=style),
        (
            "Load report",
            "load",
            archive.report._repr_html_(heading=False),
        ),
    ]
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by groupkit. '
        "Counts are those of groupkit.group_summary and groupkit.funnel.</p>",
        _kpis(total, summary, latency),
    ]
    for heading, anchor, content in sections:
        body.append(f'<section id="{anchor}"><h2>{esc(heading)}</h2>{content}</section>')
    safe_script = script.replace("</script", "<\\/script")
    specs = json.dumps(
        [{"target": f"#chart-{i}", "spec": s} for i, s in enumerate(embeds)]
    ).replace("</", "<\\/")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title>",
            f"<style>{_CSS}{TABLE_CSS}</style>",
            f"<script>{safe_script}</script>",
            "</head><body>",
            *body,
            "<script>",
            TABLE_SCRIPT,
            f"const groupkitCharts = {specs};",
            "window.groupkitRendered = Promise.all(groupkitCharts.map(",
            "  (c) => vegaEmbed(c.target, c.spec, {renderer: 'svg', actions: false})",
            "));",
            "window.groupkitRendered.catch((e) => console.error(e));",
            "</script>",
            "</body></html>",
        ]
    )
