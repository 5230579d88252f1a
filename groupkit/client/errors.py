"""The client's errors: what an error response means, and which exception says it.

The exception classes themselves live in :mod:`groupkit.exceptions` (the one tree of
groupkit's errors); they are re-exported here so ``from groupkit.client.errors import
APIError`` keeps working.

Error bodies come in three shapes (reference 4.3 and 6): Meta's
``{"error": {"message", "type", "code", "error_data": {"details"}, "fbtrace_id"}}``,
360dialog's own ``{"error": "text"}``, and 360dialog's ``{"detail": ...}`` wrapper
around either. :func:`api_error_from_response` understands all of them.

Examples
--------
>>> err = api_error_from_response(
...     400, b'{"error": {"message": "(#131041) Group unknown", "code": 131041,'
...     b' "error_data": {"details": "no such group"}, "fbtrace_id": "Az8"}}',
...     method="POST", path="/messages",
... )
>>> type(err).__name__, err.code, err.title, err.fbtrace_id
('APIError', 131041, 'Group unknown', 'Az8')
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from groupkit.exceptions import (
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

__all__ = [
    "RATE_LIMIT_CODES",
    "APIError",
    "AuthenticationError",
    "ClientConfigError",
    "NotSentError",
    "PayloadError",
    "RateLimitError",
    "SendUncertainError",
    "ServerError",
    "TransportError",
    "api_error_from_response",
    "parse_retry_after",
]

# Codes meaning "too much, too fast": the request was not carried out, so repeating it is safe.
RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131056, 131208})
_AUTH_CODES = frozenset({0, 190})
_MESSAGE_CODE = re.compile(r"^\(#(\d+)\)\s*(.*)$", re.DOTALL)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date).

    Parameters
    ----------
    value
        The header value, or ``None``.
    now
        Current unix time, for HTTP dates (defaults to ``time.time()``).

    Returns
    -------
    float or None
        Non-negative seconds, or ``None`` if absent or unreadable.

    Examples
    --------
    >>> parse_retry_after("3"), parse_retry_after("0.5"), parse_retry_after("soon")
    (3.0, 0.5, None)
    >>> parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", now=30.0)
    30.0
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _str_or_none(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, default=str)


def api_error_from_response(
    status_code: int,
    content: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    method: str = "",
    path: str = "",
    attempts: int = 1,
) -> APIError:
    """Build the right :class:`APIError` subclass from an error response.

    Parameters
    ----------
    status_code
        The HTTP status.
    content
        The raw response body.
    headers
        Response headers (for ``Retry-After``).
    method, path
        The request, for the message.
    attempts
        How many times the request was tried.

    Returns
    -------
    APIError
        :class:`AuthenticationError`, :class:`RateLimitError`, :class:`ServerError`
        or plain :class:`APIError`.

    Examples
    --------
    >>> err = api_error_from_response(401, b'{"error": "Invalid or missing D360-API-KEY"}')
    >>> type(err).__name__, err.message
    ('AuthenticationError', 'Invalid or missing D360-API-KEY')
    """
    try:
        body: Any = json.loads(content) if content else None
    except ValueError:
        body = content.decode("utf-8", "replace")[:500]
    fields: dict[str, Any] = {}
    error: Any = body
    if isinstance(error, Mapping) and "detail" in error and "error" not in error:
        error = error["detail"]
    if isinstance(error, Mapping) and "error" in error:
        error = error["error"]
    if isinstance(error, Mapping):
        message = _str_or_none(error.get("message"))
        code = _int_or_none(error.get("code"))
        title = _str_or_none(error.get("error_user_title") or error.get("title"))
        if message and (match := _MESSAGE_CODE.match(message)):
            code = code if code is not None else int(match.group(1))
            title = title or match.group(2).strip() or None
        error_data = error.get("error_data")
        details = error_data.get("details") if isinstance(error_data, Mapping) else None
        fields.update(
            code=code,
            title=title,
            message=message,
            details=_str_or_none(details or error.get("error_user_msg")),
            fbtrace_id=_str_or_none(error.get("fbtrace_id")),
            error_type=_str_or_none(error.get("type")),
            is_transient=error.get("is_transient")
            if isinstance(error.get("is_transient"), bool)
            else None,
        )
    elif error is not None:
        fields["message"] = _str_or_none(error)
    retry_after = parse_retry_after((headers or {}).get("retry-after"))
    code = fields.get("code")
    if status_code == 401 or code in _AUTH_CODES:
        cls: type[APIError] = AuthenticationError
    elif status_code == 429 or code in RATE_LIMIT_CODES:
        cls = RateLimitError
    elif status_code >= 500:
        cls = ServerError
    else:
        cls = APIError
    return cls(
        status_code,
        retry_after=retry_after,
        body=body,
        method=method,
        path=path,
        attempts=attempts,
        **fields,
    )
