"""groupkit: WhatsApp Business Platform group webhooks into tidy pandas frames.

Read an archive of webhooks, look at the frames and the load report:

>>> import groupkit
>>> archive = groupkit.parse_webhooks([])
>>> archive.statuses.empty, archive.report.records_read
(True, 0)
"""

from groupkit import schema
from groupkit.analytics import (
    deliveries,
    error_catalog,
    error_summary,
    funnel,
    latency_summary,
    read_coverage,
    send_times,
)
from groupkit.archive import Archive, LoadReport, Reject
from groupkit.client import (
    APIError,
    AsyncGroupClient,
    AuthenticationError,
    ClientConfigError,
    GroupClient,
    PayloadError,
    RateLimitError,
    RetryPolicy,
    SendUncertainError,
    ServerError,
    TransportError,
)
from groupkit.exceptions import ArchiveError, GroupkitError
from groupkit.load import parse_webhooks, read_webhooks

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "Archive",
    "ArchiveError",
    "AsyncGroupClient",
    "AuthenticationError",
    "ClientConfigError",
    "GroupClient",
    "GroupkitError",
    "LoadReport",
    "PayloadError",
    "RateLimitError",
    "Reject",
    "RetryPolicy",
    "SendUncertainError",
    "ServerError",
    "TransportError",
    "__version__",
    "deliveries",
    "error_catalog",
    "error_summary",
    "funnel",
    "latency_summary",
    "parse_webhooks",
    "read_coverage",
    "read_webhooks",
    "schema",
    "send_times",
]
