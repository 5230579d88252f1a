"""The client's errors: one hierarchy under :class:`groupkit.GroupkitError`.

``GroupkitError``
  - :class:`~groupkit.payloads.PayloadError` — refused before anything was sent
  - :class:`ClientConfigError` — credentials or settings missing or contradictory
  - :class:`APIError` — the API answered with an error
      - :class:`AuthenticationError` (401, codes 0 and 190)
      - :class:`RateLimitError` (429 and the rate-limit codes), with ``retry_after``
      - :class:`ServerError` (5xx)
  - :class:`TransportError` — no answer from the API
      - :class:`SendUncertainError` — a send may have reached the API; not retried
      - :class:`NotSentError` — the request never left this machine; safe to retry

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

from groupkit.catalog import ErrorInfo, lookup
from groupkit.exceptions import GroupkitError
from groupkit.payloads import PayloadError

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


class ClientConfigError(GroupkitError, ValueError):
    """The client was given missing or contradictory settings (e.g. no API key)."""


class APIError(GroupkitError):
    """The WhatsApp API (Meta or 360dialog) answered a request with an error.

    Attributes
    ----------
    status_code
        The HTTP status.
    code
        The Cloud API error code, or ``None`` when the body carried none.
    title
        Short title (Meta's ``error_user_title``, the text after ``(#code)`` in
        ``message``, or the catalogue's title).
    message
        The API's own ``message`` text (or 360dialog's error string).
    details
        ``error_data.details``: what exactly was wrong.
    fbtrace_id
        Meta's trace ID; quote it in support tickets.
    error_type
        Meta's ``type``, e.g. ``"OAuthException"``.
    is_transient
        Meta's ``is_transient`` flag when present.
    retry_after
        Seconds from a ``Retry-After`` header, if any.
    info
        The :class:`~groupkit.catalog.ErrorInfo` for ``code``, if catalogued.
    body
        The decoded error body (or the text, trimmed) for anything not modelled above.
    method, path
        The request that failed (path without query string).
    attempts
        How many times the request was tried.
    """

    def __init__(
        self,
        status_code: int,
        *,
        code: int | None = None,
        title: str | None = None,
        message: str | None = None,
        details: str | None = None,
        fbtrace_id: str | None = None,
        error_type: str | None = None,
        is_transient: bool | None = None,
        retry_after: float | None = None,
        body: Any = None,
        method: str = "",
        path: str = "",
        attempts: int = 1,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.info: ErrorInfo | None = lookup(code)
        self.title = title or (self.info.title if self.info else None)
        self.message = message
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.error_type = error_type
        self.is_transient = is_transient
        self.retry_after = retry_after
        self.body = body
        self.method = method
        self.path = path
        self.attempts = attempts
        super().__init__(self._describe())

    @property
    def retryable(self) -> bool:
        """Whether repeating the request later may succeed (Meta's flag, else the catalogue)."""
        if self.is_transient is not None:
            return self.is_transient
        if self.info is not None:
            return self.info.retryable
        return self.status_code == 429 or self.status_code >= 500

    def _describe(self) -> str:
        where = f" from {self.method} {self.path}" if self.method else ""
        head = f"HTTP {self.status_code}{where}"
        what = []
        if self.code is not None:
            what.append(f"(#{self.code})")
        if self.title:
            what.append(self.title)
        text = " ".join(what)
        extra = self.details or (self.message if self.message and not self.title else None)
        if extra and extra != self.title:
            text = f"{text}: {extra}" if text else extra
        parts = [f"{head}: {text.rstrip('.')}" if text else head]
        if self.fbtrace_id:
            parts.append(f"fbtrace_id={self.fbtrace_id}")
        if self.attempts > 1:
            parts.append(f"after {self.attempts} attempts")
        if self.retry_after is not None:
            parts.append(f"Retry-After {self.retry_after:g} s")
        if self.info is not None:
            parts.append(
                f"What to do: {self.info.advice} (retry: {self.info.retry}) {self.info.href}"
            )
        return ". ".join(parts)


class AuthenticationError(APIError):
    """The API key or access token was missing, wrong or expired (HTTP 401, codes 0, 190)."""


class RateLimitError(APIError):
    """Too many requests (HTTP 429 or a rate-limit code); see ``retry_after``."""


class ServerError(APIError):
    """The API failed on its side (HTTP 5xx)."""


class TransportError(GroupkitError):
    """The API could not be reached or did not answer (connection refused, timeouts).

    Attributes
    ----------
    method, path
        The request that failed.
    attempts
        How many times it was tried.
    """

    def __init__(self, reason: str, *, method: str = "", path: str = "", attempts: int = 1):
        self.reason = reason
        self.method = method
        self.path = path
        self.attempts = attempts
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"{method} {path}: {reason}{tries}".strip())


class SendUncertainError(TransportError):
    """A send was written but no answer came back: the message may or may not have gone out.

    groupkit does not retry these by default because the API has no idempotency key:
    a retry could post the message to the group twice. Check the webhooks (a ``sent``
    status for an unknown message ID) before resending, or opt in with
    ``RetryPolicy(retry_uncertain_sends=True)``.

    Attributes
    ----------
    payload
        The body that was being sent.
    """

    def __init__(self, reason: str, *, payload: Mapping[str, Any], **kwargs: Any) -> None:
        self.payload = dict(payload)
        super().__init__(
            f"{reason}; the message may already have been accepted, so it was not sent "
            "again (the API has no idempotency key). Check the webhooks before resending",
            **kwargs,
        )


class NotSentError(TransportError):
    """The request never left this machine, so nothing was sent: repeating it is safe.

    Raised (after the retries allowed) when httpx failed before writing the request:
    ``ConnectError`` (refused, DNS failure), ``ConnectTimeout``, ``PoolTimeout``,
    ``ProxyError``, ``UnsupportedProtocol`` or ``LocalProtocolError`` (a header this side
    could not write). The last two are not retried: they would fail again.

    Examples
    --------
    >>> err = NotSentError("ConnectError: refused", method="POST", path="/messages")
    >>> str(err).startswith("POST /messages: ConnectError: refused; not sent:")
    True
    """

    def __init__(self, reason: str, **kwargs: Any) -> None:
        super().__init__(reason, **kwargs)
        self.args = (
            f"{self.args[0]}; not sent: the request never left this machine, so repeating "
            "it cannot post twice",
        )


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
