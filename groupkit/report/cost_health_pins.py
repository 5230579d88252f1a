"""The report's "Cost", "Webhook health" and "Pins" sections.

Each leads with the answer and what to do, then the evidence (a table, a chart).
The numbers are :func:`groupkit.costs`, :func:`groupkit.webhook_health` and
:func:`groupkit.pins`, as in the notebooks.

* "Cost" appears when the archive's statuses carry pricing (in money with a rate
  card, ``groupkit report --rates CSV``; else in billable deliveries);
* "Webhook health" appears when the archive holds any webhook;
* "Pins" appears when the send log read with the archive has pins.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pandas as pd

from groupkit import charts, schema
from groupkit.analytics.costs import RULES_BEFORE, RULES_FROM, costs
from groupkit.analytics.health import webhook_health
from groupkit.analytics.pins import pins
from groupkit.charts._style import auto_freq, seconds_words
from groupkit.charts.cost_health_pins import ENDED_WORDS
from groupkit.report.tables import static_table_html

__all__ = ["STATUS_COLUMNS", "sections"]

# Status columns these sections read besides the lifecycle's (groupkit report keeps them).
STATUS_COLUMNS = (
    "pricing_type", "pricing_subtype", "billable", "received_at", "entry_time", "source",
)  # fmt: skip

Section = tuple[str, str, str]


def _note(text: str) -> str:
    return f'<p class="note">{text}</p>'


def _answer(text: str) -> str:
    return f"<p>{text}</p>"


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {html.escape(currency)}"


def _has_pricing(archive: Any) -> bool:
    st = archive.statuses
    return any(c in st.columns and st[c].notna().any() for c in ("pricing_category", "billable"))


def cost_section(
    archive: Any, frame: pd.DataFrame, rates: Any, chart: Callable, style: Any = None
) -> str:
    """The "Cost" section's HTML (empty when nothing is priced); ``style`` is the
    report's group names and colours, so the chart labels groups as the rest does."""
    table = costs(archive, rates, frame=frame)
    if table.empty:
        return ""
    esc = html.escape
    priced = "cost" in table.columns
    per_group = (
        table.groupby(["group", "group_id"], sort=False)[
            ["billable_deliveries", "free_deliveries", "exempt_deliveries"]
            + (["cost"] if priced else [])
        ]
        .sum(min_count=1)
        .reset_index()
    )
    billable = int(table["billable_deliveries"].sum())
    free = int(table["free_deliveries"].sum())
    exempt = int(table["exempt_deliveries"].sum())
    counts = (
        f"{billable:,} billable deliveries, {free:,} free and {exempt:,} exempt, "
        f"in {table['group_id'].nunique():,} groups"
    )
    parts = []
    if priced:
        currencies = sorted(table["currency"].dropna().unique())
        currency = currencies[0] if len(currencies) == 1 else "mixed currencies"
        total = float(table["cost"].fillna(0).sum())
        top = per_group.sort_values("cost", ascending=False, na_position="last").iloc[0]
        parts.append(
            _answer(
                f"<b>{_money(total, currency)}</b> for {counts}. The most expensive group is "
                f"<b>{esc(str(top['group']))}</b> ({_money(float(top['cost'] or 0), currency)})."
            )
        )
        unpriced = table.attrs.get("unpriced_deliveries", 0)
        if unpriced:
            parts.append(
                _answer(
                    f"<b>{unpriced:,} billable deliveries have no rate</b> in the card "
                    "(their country or category is missing, or they predate every "
                    "effective date) and are left out of the total: add rows for them."
                )
            )
        parts.append(
            _note(
                "Cost = billable deliveries x the card's rate in force on each delivery's date "
                "(the country's rate, else the category's <code>*</code> rate). The rates are "
                "the card's, not Meta's invoice."
            )
        )
    else:
        parts.append(
            _answer(
                f"{counts}. To see them in money, give a rate card: "
                "<code>groupkit report --rates rates.csv</code> (columns country, category, "
                "price, currency, effective_from); groupkit ships no prices."
            )
        )
    parts.append(
        _note(
            "Meta bills a group message per participant delivered. Each delivery counts once, "
            "even when its pricing came on both delivered and read. Exempt: "
            "<code>pricing.subtype</code> paid_exempt. A participant known only by a "
            "business-scoped id is country \u201cunknown\u201d."
        )
    )
    if set(table["pricing_rules"]) >= {RULES_BEFORE, RULES_FROM}:
        parts.append(
            _note(
                f"The archive spans {schema.PRICING_CHANGE}, when <code>pricing.type</code> "
                "changed meaning (free_group_customer_service: from an open service window to "
                "the number's free tier); rows keep the two apart in pricing_rules."
            )
        )
    formats = {
        "billable_deliveries": "{:,}".format,
        "free_deliveries": "{:,}".format,
        "exempt_deliveries": "{:,}".format,
    }
    if priced:
        formats["cost"] = lambda v: "–" if pd.isna(v) else f"{v:,.2f}"
    shown = per_group.sort_values(
        "cost" if priced else "billable_deliveries", ascending=False, kind="stable"
    ).drop(columns="group_id")
    parts.append(static_table_html(shown.head(25), formats))
    parts.append(chart(charts.cost_by_group(table, style=style or charts.group_style(archive))))
    return "".join(parts)


def health_section(archive: Any, chart: Callable) -> str:
    """The "Webhook health" section's HTML (empty for an archive without webhooks)."""
    times = (
        archive.statuses["timestamp"] if len(archive.statuses) else archive.messages["timestamp"]
    )
    freq = auto_freq(times)
    health = webhook_health(archive, freq=freq)
    if health.empty or int(health["webhooks"].sum()) == 0:
        return ""
    webhooks = int(health["webhooks"].sum())
    redeliveries = int(health["redeliveries"].sum())
    late = int(health["out_of_order"].sum())
    orphans = int(health["orphan_receipts"].sum())
    gaps = health.loc[health["gaps"], "bucket"]
    order = health.attrs.get("arrival_order", "reading order")
    rate = redeliveries / webhooks if webhooks else 0.0
    lag90 = health["lag_p90"].dropna()
    lag_text = (
        f"; the median period's p90 lag is {seconds_words(lag90.dt.total_seconds().median())}"
        if len(lag90)
        else "; the lag is unknown (no <code>received_at</code>: archive with "
        "<code>groupkit receive</code> to measure it)"
    )
    parts = [
        _answer(
            f"{webhooks:,} webhooks, <b>{redeliveries:,} redelivered ({rate:.1%})</b>, "
            f"<b>{late:,} statuses out of order</b> (judged by {order}), "
            f"{orphans:,} receipts of messages with no <code>sent</code> and no send-log "
            f"record, {len(gaps):,} empty {'periods' if len(gaps) != 1 else 'period'}"
            f"{lag_text}."
        ),
        _note(
            "What to do: deduplicate on (message, participant, status) and order statuses "
            "by their timestamp, never by arrival (groupkit does both). A redelivery rate "
            "above a few percent means your endpoint answered Meta late or not with 200: "
            "answer first, process later. Orphan receipts mean the archive misses "
            "<code>sent</code> webhooks or the send log. An empty period inside the span is "
            "an outage of the feed or of the archiving: check the receiver's logs for it."
        ),
    ]
    if len(gaps):
        listed = ", ".join(f"{t:%Y-%m-%d %H:%M}" for t in gaps.head(12))
        more = f" and {len(gaps) - 12:,} more" if len(gaps) > 12 else ""
        parts.append(_note(f"Empty periods (UTC, start): {listed}{more}."))
    parts.append(chart(charts.webhook_health_chart(health)))
    return "".join(parts)


def pins_section(archive: Any, frame: pd.DataFrame, chart: Callable) -> str:
    """The "Pins" section's HTML (empty when the send log has no pin)."""
    table = pins(archive, frame=frame)
    if table.empty:
        return ""
    ended = table["ended_by"].fillna("still pinned").map(ENDED_WORDS).value_counts()
    words = ", ".join(f"{n:,} {why}" for why, n in ended.items())
    during = table["read_rate_during"].dropna()
    before = table["read_rate_before"].dropna()
    reading = ""
    if len(during):
        reading = (
            f" While pinned, a median of <b>{during.median():.0%}</b> of the recipients who "
            "had not read the message yet read it"
            + (
                f" (before the pin, {before.median():.0%} of all recipients had)."
                if len(before)
                else "."
            )
        )
    parts = [
        _answer(
            f"{len(table):,} pins in {table['group_id'].nunique():,} groups; ended: {words}."
            f"{reading}"
        ),
        _note(
            "At most 3 messages stay pinned; a 4th pin unpins the one pinned earliest "
            "(replaced). A pin that outlasts the archive is still pinned. If pinned messages "
            "are read no more than before, pin less and sooner after sending."
        ),
    ]
    shown = table.assign(
        message=table["message_id"].str.slice(-12),
        ended_by=table["ended_by"].fillna("still pinned"),
        time_to_read_during=table["time_to_read_during"].dt.total_seconds(),
    )[
        [
            "group",
            "message",
            "pinned_at",
            "days",
            "ended_by",
            "recipients",
            "read_rate_before",
            "read_rate_during",
            "time_to_read_during",
        ]
    ]
    rate = lambda v: "–" if pd.isna(v) else f"{v:.0%}"  # noqa: E731
    parts.append(
        static_table_html(
            shown.head(30),
            {
                "pinned_at": lambda v: f"{v:%Y-%m-%d %H:%M}",
                "read_rate_before": rate,
                "read_rate_during": rate,
                "time_to_read_during": lambda v: seconds_words(v) or "–",
            },
        )
    )
    parts.append(chart(charts.pin_timeline(archive, frame=frame, pin_frame=table)))
    return "".join(parts)


def sections(
    archive: Any,
    *,
    frame: pd.DataFrame,
    chart: Callable[[Any], str],
    rates: Any = None,
    style: Any = None,
) -> list[Section]:
    """The "Cost", "Webhook health" and "Pins" sections that apply to ``archive``.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    frame
        Its :func:`groupkit.deliveries`.
    chart
        Embeds a chart and returns its placeholder (the report's own).
    rates
        A rate card (CSV path or DataFrame) for the "Cost" section, or None.
    style
        The report's :func:`groupkit.charts.group_style` (default: the archive's).

    Returns
    -------
    list of (heading, anchor, html)
        Only the sections the archive has data for.

    Examples
    --------
    >>> import groupkit
    >>> archive = groupkit.parse_webhooks([])
    >>> sections(archive, frame=groupkit.deliveries(archive), chart=lambda c: "")
    []
    """
    out: list[Section] = []
    if _has_pricing(archive) and (body := cost_section(archive, frame, rates, chart, style)):
        out.append(("Cost", "cost", body))
    if body := health_section(archive, chart):
        out.append(("Webhook health", "health", body))
    sends = getattr(archive, "sends", None)
    if sends is not None and len(sends) and (body := pins_section(archive, frame, chart)):
        out.append(("Pins", "pins", body))
    return out
