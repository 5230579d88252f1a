"""Altair charts of the analytics: latency, funnel, coverage, errors, activity, cost,
webhook health and pins.

Every chart aggregates an analytics frame in pandas first and embeds only the
aggregate (groups x buckets, a few hundred ECDF points per group), so its data
stays small whatever the archive size.  Pass one :func:`group_style` to every
chart so a group keeps its label and colour across charts; its ``highlight``
colours the groups to look at and pools the rest, in grey, as context.  Latency
axes are logarithmic with ticks in s, min, h and d; the funnel is in rates.

In a notebook, :func:`enable_offline` makes charts render without internet
access (Vega inlined from vl-convert, as in the HTML report).

Examples
--------
>>> import groupkit
>>> from groupkit import charts
>>> archive = groupkit.parse_webhooks([])  # or groupkit.read_webhooks("sample_data/webhooks")
>>> style = charts.group_style(archive)
>>> chart = charts.funnel_chart(archive, style=style)
>>> chart.to_dict()["mark"]["type"], chart.to_dict()["encoding"]["x"]["title"]
('bar', 'share of receipts')
"""

from groupkit.charts._style import GroupStyle, duration_unit, group_style
from groupkit.charts.activity import activity_heatmap, inbound_counts, messages_by_type
from groupkit.charts.change import compare_chart
from groupkit.charts.cost_health_pins import cost_by_group, pin_timeline, webhook_health_chart
from groupkit.charts.delivery import coverage_over_time, funnel_chart
from groupkit.charts.errors import errors_by_group, errors_over_time
from groupkit.charts.latency import (
    latency_ecdf,
    latency_over_time,
    latency_percentiles,
    within_rate_over_time,
)
from groupkit.charts.offline import enable_offline
from groupkit.charts.people import silence_chart

__all__ = [
    "GroupStyle",
    "activity_heatmap",
    "compare_chart",
    "cost_by_group",
    "coverage_over_time",
    "duration_unit",
    "enable_offline",
    "errors_by_group",
    "errors_over_time",
    "funnel_chart",
    "group_style",
    "inbound_counts",
    "latency_ecdf",
    "latency_over_time",
    "latency_percentiles",
    "messages_by_type",
    "pin_timeline",
    "silence_chart",
    "webhook_health_chart",
    "within_rate_over_time",
]
