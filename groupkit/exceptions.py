"""groupkit's exceptions and warnings, all in one module.

Everything groupkit raises on purpose is a :class:`GroupkitError`; the subclasses say
what went wrong and where. The tree::

    Exception
    └── GroupkitError                 anything groupkit raises on purpose
        ├── ArchiveError (ValueError)     a webhook record could not be read (file:line)
        ├── PayloadError (ValueError)     a request the API would refuse; nothing was sent
        ├── ReceiverError                 ``groupkit receive`` cannot start as configured
        ├── SecretError (ValueError)      a key or secret with control characters (never quoted)
        ├── ClientConfigError (ValueError)  credentials or client settings missing or contradictory
        ├── APIError                      the API answered with an error
        │   ├── AuthenticationError           HTTP 401, codes 0 and 190
        │   ├── RateLimitError                HTTP 429 and the rate-limit codes (``retry_after``)
        │   └── ServerError                   HTTP 5xx
        └── TransportError                no answer from the API
            ├── SendUncertainError            a send may have reached the API; not retried
            └── NotSentError                  the request never left this machine; safe to retry

    UserWarning
    └── CacheWarning                  the cache could not be used; the load went on without it

The modules that raise them import them from here, and the old paths keep working
(``from groupkit.client.errors import APIError``, ``from groupkit.payloads import
PayloadError``, ``from groupkit.receiver import ReceiverError``, ``from groupkit.cache
import CacheWarning``). The functions that build them (e.g.
:func:`groupkit.client.errors.api_error_from_response`) stay with their owners.

Examples
--------
>>> from groupkit.exceptions import ArchiveError, GroupkitError
>>> err = ArchiveError("day1.ndjson", 12, "malformed JSON: unexpected character")
>>> isinstance(err, GroupkitError), str(err)
(True, 'day1.ndjson:12: malformed JSON: unexpected character')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from groupkit.catalog import ErrorInfo, lookup

__all__ = [
    "APIError",
    "ArchiveError",
    "AuthenticationError",
    "CacheWarning",
    "ClientConfigError",
    "GroupkitError",
    "NotSentError",
    "PayloadError",
    "RateLimitError",
    "ReceiverError",
    "SecretError",
    "SendUncertainError",
    "ServerError",
    "TransportError",
]


class GroupkitError(Exception):
    """Base class of every error groupkit raises on purpose."""


# --- reading archives -------------------------------------------------------------------------


class ArchiveError(GroupkitError, ValueError):
    """A record of a webhook archive could not be read.

    Parameters
    ----------
    path
        The file (or ``<memory>``) the record came from.
    line
        1-based line number, or the index of the record in memory or in a JSON array.
    reason
        What was wrong, in words.
    """

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {reason}")


class CacheWarning(UserWarning):
    """The cache could not be used as asked: the load went on without it, or rebuilt an entry.

    The frames and report are those of an uncached load; only speed is lost.

    Examples
    --------
    >>> issubclass(CacheWarning, UserWarning)
    True
    """


# --- building requests ------------------------------------------------------------------------


class PayloadError(GroupkitError, ValueError):
    """A request the API would refuse, caught before anything was sent.

    Parameters
    ----------
    field
        Dotted path of the offending field in the request body, e.g. ``"pin.expiration_days"``.
    reason
        What is wrong and, where useful, what to do.
    code
        The Cloud API error code the real API would most likely answer with
        (the sandbox uses it for its error responses).

    Examples
    --------
    >>> err = PayloadError("text.body", "must not be empty")
    >>> str(err), err.code
    ('text.body: must not be empty', 100)
    """

    def __init__(self, field: str, reason: str, *, code: int = 100) -> None:
        self.field = field
        self.reason = reason
        self.code = code
        super().__init__(f"{field}: {reason}")


# --- the webhook receiver ---------------------------------------------------------------------


class ReceiverError(GroupkitError):
    """``groupkit receive`` cannot start as configured (secrets, directory, options).

    Examples
    --------
    >>> from groupkit.receiver import load_secrets
    >>> try:
    ...     load_secrets("/no/such/secrets.env")
    ... except ReceiverError as exc:
    ...     print(exc)
    secrets file /no/such/secrets.env does not exist
    """


# --- the client -------------------------------------------------------------------------------


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


class SecretError(GroupkitError, ValueError):
    """A key, token or secret cannot be used as given; the message never quotes it.

    Raised when a client, the sandbox or the receiver is built with a credential that
    holds a control character (NUL, newline, tab, DEL, any C0 or C1 control, a line or
    paragraph separator) or begins or ends with whitespace — what reading a key from a
    file usually leaves behind. groupkit rejects rather than strips: a silently changed
    key would fail later, far from its cause. The message says which credential and
    what to do (for example "strip the trailing newline"), never its characters.

    Examples
    --------
    >>> err = SecretError("the API key", "ends with a newline; strip the trailing newline")
    >>> isinstance(err, ValueError), str(err)
    (True, 'the API key ends with a newline; strip the trailing newline')
    """

    def __init__(self, what: str, problem: str) -> None:
        self.what = what
        super().__init__(f"{what} {problem}")
