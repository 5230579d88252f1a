"""Send to, pin in and list WhatsApp groups through 360dialog or Meta's Graph API.

The client never imports pandas; request bodies come from :mod:`groupkit.payloads`,
error meanings from :mod:`groupkit.catalog`.

Examples
--------
>>> from groupkit.client import GroupClient
>>> from groupkit.sandbox import serve
>>> with serve(seed=0) as sandbox, GroupClient(
...     api_key=sandbox.api_key, base_url=sandbox.url
... ) as client:
...     sent = client.send_text(sandbox.group_ids[0], "Hello")
>>> sent.group_id == sandbox.group_ids[0]
True
"""

from groupkit.client._async import AsyncGroupClient
from groupkit.client._core import RetryPolicy
from groupkit.client._sync import GroupClient
from groupkit.client.errors import (
    APIError,
    AuthenticationError,
    ClientConfigError,
    NotSentError,
    PayloadError,
    RateLimitError,
    SendUncertainError,
    ServerError,
    TransportError,
)
from groupkit.client.models import GroupInfo, GroupSummary, SentMessage
from groupkit.client.sendlog import SendLog
from groupkit.exceptions import SecretError

__all__ = [
    "APIError",
    "AsyncGroupClient",
    "AuthenticationError",
    "ClientConfigError",
    "GroupClient",
    "GroupInfo",
    "GroupSummary",
    "NotSentError",
    "PayloadError",
    "RateLimitError",
    "RetryPolicy",
    "SecretError",
    "SendLog",
    "SendUncertainError",
    "SentMessage",
    "ServerError",
    "TransportError",
]
