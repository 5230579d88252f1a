"""Delivery analytics over an :class:`groupkit.Archive`: pure functions, tidy frames.

* :func:`deliveries` -- one row per (group message, participant), the lifecycle;
* :func:`latency_summary` -- delivery/read latency quantiles per group or any key;
* :func:`funnel` -- recipients >= delivered >= read, plus failed and pending;
* :func:`error_summary` / :func:`error_catalog` -- errors by code, explained;
* :func:`read_coverage` -- share of members at send time who read within a time;
* :func:`bucket` -- Meta's half-hour / day / month time buckets;
* :func:`send_times` -- from API acceptance (groupkit's send log) to ``sent``;
* :func:`group_summary` -- one row per group, what every view of groupkit shows;
* :func:`groups_to_watch` -- the slowest, most failing and least read groups;
* :func:`costs` -- billable, free and exempt deliveries, priced by a rate card;
* :func:`webhook_health` -- redeliveries, out-of-order statuses, lag, orphans, gaps;
* :func:`pins` -- every pin of the send log, how it ended, and reading around it.
* :func:`participants` -- one row per (group, participant): got, read, said, silent;
* :func:`message_receipts` -- every recipient of one message and their state;
* :func:`compare` -- two time windows, each change with a 95 % interval and p-value.

The lifecycle functions also accept a frame already returned by :func:`deliveries`
(and :func:`group_summary` takes it as ``frame=``), so it is computed once.

Examples
--------
>>> from groupkit import analytics
>>> sorted(analytics.METRICS)
['delivery', 'read', 'read_after_delivery']
"""

from groupkit.analytics._time import bucket
from groupkit.analytics.change import compare
from groupkit.analytics.costs import costs
from groupkit.analytics.coverage import read_coverage
from groupkit.analytics.deliveries import DELIVERIES, STATES, deliveries, empty_deliveries
from groupkit.analytics.errors import error_catalog, error_summary
from groupkit.analytics.funnel import funnel
from groupkit.analytics.groups import group_names, group_summary, groups_to_watch
from groupkit.analytics.health import webhook_health
from groupkit.analytics.latency import METRICS, latency_summary
from groupkit.analytics.participants import message_receipts, participants
from groupkit.analytics.pins import pins
from groupkit.analytics.sends import send_times

__all__ = [
    "DELIVERIES",
    "METRICS",
    "STATES",
    "bucket",
    "compare",
    "costs",
    "deliveries",
    "empty_deliveries",
    "error_catalog",
    "error_summary",
    "funnel",
    "group_names",
    "group_summary",
    "groups_to_watch",
    "latency_summary",
    "message_receipts",
    "participants",
    "pins",
    "read_coverage",
    "send_times",
    "webhook_health",
]
