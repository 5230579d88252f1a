"""groupkit: what happened to the messages a business sent to WhatsApp groups.

groupkit reads archived WhatsApp Business Platform group webhooks into tidy pandas
frames, measures delivery and read per group (latency, failures, who reads), charts
it, writes an offline HTML report, and sends and pins group messages from Jupyter.

A three-line tour::

    archive = groupkit.read_webhooks("sample_data/webhooks")  # frames + load report
    groups = groupkit.group_summary(archive)  # per group: rates, latency, top error
    groupkit.groups_to_watch(groups)  # the slowest, most failing and least read

In a shell, ``groupkit report sample_data/webhooks -o report.html`` writes all of it
as one HTML page that works offline; ``groupkit --help`` lists the other commands,
and the notebooks in ``notebooks/`` walk through each part.
"""

from groupkit import schema
from groupkit.analytics import (
    compare,
    costs,
    deliveries,
    error_catalog,
    error_summary,
    funnel,
    group_summary,
    groups_to_watch,
    latency_summary,
    message_receipts,
    participants,
    pins,
    read_coverage,
    send_times,
    webhook_health,
)
from groupkit.archive import Archive, LoadReport, Reject
from groupkit.client import AsyncGroupClient, GroupClient, RetryPolicy
from groupkit.exceptions import (
    APIError,
    ArchiveError,
    AuthenticationError,
    CacheWarning,
    ClientConfigError,
    GroupkitError,
    NotSentError,
    PayloadError,
    RateLimitError,
    ReceiverError,
    SecretError,
    SendUncertainError,
    ServerError,
    TransportError,
)
from groupkit.load import parse_webhooks, read_record, read_webhooks

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "Archive",
    "ArchiveError",
    "AsyncGroupClient",
    "AuthenticationError",
    "CacheWarning",
    "ClientConfigError",
    "GroupClient",
    "GroupkitError",
    "LoadReport",
    "NotSentError",
    "PayloadError",
    "RateLimitError",
    "ReceiverError",
    "Reject",
    "RetryPolicy",
    "SecretError",
    "SendUncertainError",
    "ServerError",
    "TransportError",
    "__version__",
    "compare",
    "costs",
    "deliveries",
    "error_catalog",
    "error_summary",
    "funnel",
    "group_summary",
    "groups_to_watch",
    "latency_summary",
    "message_receipts",
    "parse_webhooks",
    "participants",
    "pins",
    "read_coverage",
    "read_record",
    "read_webhooks",
    "schema",
    "send_times",
    "webhook_health",
]
