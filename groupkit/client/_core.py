"""Everything the sync and async clients do, except the I/O.

Each operation is a *flow*,
a generator that yields what it needs done — a :class:`Call` to send, or a delay (float
seconds) to sleep — and receives the answer (an ``httpx.Response``, or the
``httpx.TransportError`` raised instead). It decides everything else: the request,
retries and backoff, the error to raise, the result, the send log. The operations are
written once in :mod:`groupkit.client._operations`; the shells in
:mod:`groupkit.client._sync` and :mod:`groupkit.client._async` only run flows
(``GroupClient._run`` / ``AsyncGroupClient._run``), blocking or with ``await``, so the
two clients cannot drift apart.

How a transport failure is reported (by httpx's exception classes):

========================================================  =======================================
httpx raised                                              groupkit raises
========================================================  =======================================
``ConnectError`` (refused, DNS), ``ConnectTimeout``,      retried, then :class:`NotSentError`
``PoolTimeout``, ``ProxyError``
``LocalProtocolError``, ``UnsupportedProtocol``           :class:`NotSentError` at once
anything else (``ReadTimeout``, ``WriteTimeout``,         a send: :class:`SendUncertainError`
``ReadError``, ``WriteError``, ``RemoteProtocolError``)   (retried only if the policy says so);
                                                          a read: retried, then
                                                          :class:`TransportError`
========================================================  =======================================
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from groupkit import payloads
from groupkit._secrets import check_secret
from groupkit.client import models
from groupkit.client.errors import (
    RATE_LIMIT_CODES,
    APIError,
    ClientConfigError,
    NotSentError,
    SendUncertainError,
    TransportError,
    api_error_from_response,
    parse_retry_after,
)
from groupkit.client.sendlog import SEND_RECORD_KIND, SendLog

D360_BASE_URL = "https://waba-v2.360dialog.io"
META_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v25.0"
GROUP_INFO_FIELDS = (
    "subject",
    "description",
    "participants",
    "join_approval_mode",
    "suspended",
    "creation_timestamp",
    "total_participant_count",
)
_USER_AGENT = "groupkit-client"
# Failures before the request left this machine: repeating cannot duplicate a send.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)
# ... and of those, the ones that would fail again the same way: not retried.
_NOT_RETRIED = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
_T = TypeVar("_T")
#: What a flow yields (a request to make, or seconds to wait), receives, and returns.
Flow = Generator["Call | float", "httpx.Response | httpx.TransportError | None", _T]


class _Secret:
    """Holds a credential so that no repr, str or traceback shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("credentials are not picklable")


class _HeaderAuth(httpx.Auth):
    """Adds the credential header at send time; the client's own headers never hold it."""

    def __init__(self, header: str, secret: _Secret, *, bearer: bool) -> None:
        self._header = header
        self._secret = secret
        self._bearer = bearer

    def __repr__(self) -> str:
        return f"_HeaderAuth({self._header!r}, <secret>)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        value = self._secret.reveal()
        request.headers[self._header] = f"Bearer {value}" if self._bearer else value
        yield request


class Run(Generic[_T]):
    """Steps through a flow for a shell: iterate for what to do, set :attr:`reply` to
    what came of it; :attr:`result` holds what the flow returned.

    The flow resumes in ``__next__``, after the shell's ``except`` block has ended, so
    an error it raises carries no ``__context__`` holding the httpx request.
    """

    def __init__(self, flow: Flow[_T]) -> None:
        self._flow = flow
        self.reply: httpx.Response | httpx.TransportError | None = None
        self.result: _T

    def __iter__(self) -> Iterator[Call | float]:
        while True:
            try:
                step = self._flow.send(self.reply)
            except StopIteration as done:
                self.result = done.value
                return
            self.reply = None
            yield step


@dataclass(frozen=True)
class RetryPolicy:
    """When and how the client repeats a request.

    Repeats on HTTP 429, HTTP 5xx, the rate-limit codes, and connection failures
    (the request never left), with exponential backoff and full jitter, honouring
    ``Retry-After``. A send that may already have reached the API (read timeout,
    dropped connection after the body was written) is *not* repeated unless
    ``retry_uncertain_sends`` is set, because the API has no idempotency key.

    Parameters
    ----------
    max_attempts
        Total tries including the first (1 disables retries).
    backoff
        Base delay in seconds; attempt *n* waits up to ``backoff * 2**(n-1)``.
    max_backoff
        Cap on one backoff delay.
    max_elapsed
        Give up rather than wait past this many seconds since the first try.
    retry_uncertain_sends
        Also repeat sends whose fate is unknown (may post twice).

    Examples
    --------
    >>> RetryPolicy(max_attempts=1).max_attempts
    1
    """

    max_attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_elapsed: float = 30.0
    retry_uncertain_sends: bool = False

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ClientConfigError("RetryPolicy.max_attempts must be at least 1")
        if self.backoff < 0 or self.max_backoff < 0 or self.max_elapsed < 0:
            raise ClientConfigError("RetryPolicy delays must not be negative")


class _Attempts:
    """Counts tries of one call and says how long to wait before the next, if at all."""

    def __init__(self, policy: RetryPolicy, rng: random.Random) -> None:
        self.policy = policy
        self.rng = rng
        self.count = 0
        self.started = time.monotonic()

    def begin(self) -> None:
        self.count += 1

    def next_delay(self, retry_after: float | None = None) -> float | None:
        policy = self.policy
        if self.count >= policy.max_attempts:
            return None
        ceiling = min(policy.max_backoff, policy.backoff * 2 ** (self.count - 1))
        delay = self.rng.uniform(0, ceiling)
        if retry_after is not None:
            delay = max(delay, retry_after)
        if time.monotonic() - self.started + delay > policy.max_elapsed:
            return None
        return delay


@dataclass(frozen=True)
class Call:
    """One API operation: what to request and how to read the answer."""

    operation: str
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None

    @property
    def is_send(self) -> bool:
        return self.method == "POST"

    @property
    def request(self) -> dict[str, Any]:
        """The keyword arguments of ``httpx.Client.request`` that make this call."""
        return {
            "method": self.method,
            "url": self.path,
            "params": self.params or None,
            "json": self.json,
        }


@dataclass
class Outcome:
    """What one try produced: a decoded success body, or a delay before the next try."""

    body: dict[str, Any] | None = None
    delay: float | None = None


class Core:
    """Provider routing, call construction, retry decisions and result parsing."""

    def __init__(
        self,
        *,
        api_key: str | None,
        access_token: str | None,
        phone_number_id: str | None,
        base_url: str | None,
        api_version: str,
        retry: RetryPolicy | None,
        send_log: str | os.PathLike[str] | SendLog | None,
        seed: int | None = None,
    ) -> None:
        if (api_key is None) == (access_token is None):
            raise ClientConfigError(
                "give exactly one credential: api_key (360dialog) or access_token (Meta)"
            )
        what = "the API key" if api_key is not None else "the access token"
        self._secret = _Secret(check_secret(api_key or access_token, what, header=True))
        if api_key is not None:
            self.provider = "360dialog"
            self.base_url = (base_url or D360_BASE_URL).rstrip("/")
            self.auth = _HeaderAuth("D360-API-KEY", self._secret, bearer=False)
            self._prefix = ""
        else:
            if not phone_number_id or not str(phone_number_id).strip():
                raise ClientConfigError(
                    "Meta's Graph API needs phone_number_id (WHATSAPP_PHONE_NUMBER_ID) with the "
                    "access token"
                )
            self.provider = "meta"
            self.base_url = (base_url or f"{META_BASE_URL}/{api_version}").rstrip("/")
            self.auth = _HeaderAuth("Authorization", self._secret, bearer=True)
            self._prefix = "/" + quote(str(phone_number_id), safe="")
        self.phone_number_id = phone_number_id
        self.retry = retry or RetryPolicy()
        self.send_log = (
            send_log if isinstance(send_log, SendLog) or send_log is None else SendLog(send_log)
        )
        self.rng = random.Random(seed)

    def __repr__(self) -> str:
        return f"provider={self.provider!r}, base_url={self.base_url!r}"

    def client_options(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "auth": self.auth,
            "headers": {"User-Agent": _USER_AGENT, "Accept": "application/json"},
            "follow_redirects": False,
        }

    def scrub(self, text: str) -> str:
        """Remove the credential from text that may have echoed it: as is, escaped in
        JSON (an error body), or as a ``repr`` of text or bytes (an exception message)."""
        secret = self._secret.reveal()
        forms = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], repr(secret.encode())[2:-1]}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "<secret>")
        return text

    # -- calls -----------------------------------------------------------------------

    def message_call(self, operation: str, body: dict[str, Any]) -> Call:
        return Call(operation, "POST", f"{self._prefix}/messages", json=body)

    def list_groups_call(self, params: dict[str, str]) -> Call:
        return Call("list_groups", "GET", f"{self._prefix}/groups", params=params)

    def group_info_call(self, group_id: str, fields: tuple[str, ...]) -> Call:
        payloads.check_group_id(group_id, field="group_id")
        path = ("/groups/" if self.provider == "360dialog" else "/") + quote(group_id, safe="")
        return Call("group_info", "GET", path, params={"fields": ",".join(fields)})

    def create_group_call(self, body: dict[str, Any]) -> Call:
        return Call("create_group", "POST", f"{self._prefix}/groups", json=body)

    def attempts(self) -> _Attempts:
        return _Attempts(self.retry, self.rng)

    def group_pages(self, page_size: int | None) -> GroupPages:
        return GroupPages(self, page_size)

    # -- flows: what the shells run ---------------------------------------------------

    def call_flow(self, call: Call) -> Flow[tuple[dict[str, Any], int]]:
        """Try ``call`` until it succeeds or must fail; return the body and the tries.

        Errors are raised when the shell resumes the flow, outside the shell's ``except``
        block, so they carry no ``__context__`` holding the httpx request (whose headers
        include the credential).
        """
        attempts = self.attempts()
        while True:
            attempts.begin()
            outcome = self.after_try(call, attempts, (yield call))
            if outcome.body is not None:
                return outcome.body, attempts.count
            yield outcome.delay or 0.0

    def body_flow(self, call: Call) -> Flow[dict[str, Any]]:
        """The decoded body of a successful ``call``."""
        body, _ = yield from self.call_flow(call)
        return body

    def send_flow(self, operation: str, body: dict[str, Any]) -> Flow[models.SentMessage]:
        """Post a message body; log the outcome to the send log; return what was accepted."""
        call = self.message_call(operation, body)
        requested_at = time.time()
        attempts = 0
        try:
            response, attempts = yield from self.call_flow(call)
            sent = self.sent_message(call, response, attempts)
        except Exception as exc:
            attempts = getattr(exc, "attempts", attempts)
            self.log_send(call, requested_at=requested_at, attempts=attempts, error=exc)
            raise
        self.log_send(call, requested_at=requested_at, attempts=attempts, sent=sent)
        return sent

    # -- deciding after each try -------------------------------------------------------

    def after_exception(self, call: Call, exc: httpx.TransportError, attempts: _Attempts) -> float:
        """Delay before the next try after a transport failure, or raise the final error.

        See the module's table for which httpx failure becomes which error.
        """
        reason = self.scrub(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        where = {"method": call.method, "path": call.path, "attempts": attempts.count}
        not_sent = isinstance(exc, _NOT_SENT)
        if call.is_send and not not_sent and not self.retry.retry_uncertain_sends:
            raise SendUncertainError(reason, payload=call.json or {}, **where)
        delay = None if isinstance(exc, _NOT_RETRIED) else attempts.next_delay()
        if delay is None:
            raise (NotSentError if not_sent else TransportError)(reason, **where)
        return delay

    def after_try(
        self, call: Call, attempts: _Attempts, result: httpx.Response | httpx.TransportError
    ) -> Outcome:
        """Judge one try by its response or transport failure (see :class:`Outcome`).

        The clients call this outside their ``except`` block, so our errors carry no
        ``__context__`` holding the httpx request (whose headers include the credential).
        """
        if isinstance(result, httpx.TransportError):
            return Outcome(delay=self.after_exception(call, result, attempts))
        return self.after_response(call, result, attempts)

    def after_response(self, call: Call, response: httpx.Response, attempts: _Attempts) -> Outcome:
        """Decode a success, pick a delay for a retryable failure, or raise the API error."""
        status = response.status_code
        if 200 <= status < 300:
            try:
                body = response.json()
            except ValueError:
                body = {}
            return Outcome(body=body if isinstance(body, dict) else {"data": body})
        error = api_error_from_response(
            status,
            self.scrub(response.content.decode("utf-8", "replace")).encode(),
            headers=response.headers,
            method=call.method,
            path=call.path,
            attempts=attempts.count,
        )
        if status == 429 or status >= 500 or error.code in RATE_LIMIT_CODES:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            delay = attempts.next_delay(retry_after)
            if delay is not None:
                return Outcome(delay=delay)
        raise error

    # -- results -----------------------------------------------------------------------

    def sent_message(self, call: Call, body: dict[str, Any], attempts: int) -> models.SentMessage:
        messages = body.get("messages") or [{}]
        first = messages[0] if isinstance(messages[0], dict) else {}
        message_id = first.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise APIError(
                200,
                message="the API accepted the send but returned no message ID",
                body=body,
                method=call.method,
                path=call.path,
                attempts=attempts,
            )
        payload = call.json or {}
        return models.SentMessage(
            message_id=message_id,
            group_id=payload.get("to", ""),
            type=payload.get("type", ""),
            payload=payload,
            accepted_at=datetime.now(UTC),
            message_status=first.get("message_status"),
            attempts=attempts,
        )

    def log_send(
        self,
        call: Call,
        *,
        requested_at: float,
        attempts: int,
        sent: models.SentMessage | None = None,
        error: BaseException | None = None,
    ) -> None:
        if self.send_log is None:
            return
        payload = call.json or {}
        record: dict[str, Any] = {
            "kind": SEND_RECORD_KIND,
            "version": 1,
            "message_id": sent.message_id if sent else None,
            "group_id": payload.get("to"),
            "type": payload.get("type"),
            "operation": call.operation,
            "requested_at": requested_at,
            "accepted_at": sent.accepted_at.timestamp() if sent else None,
            "ok": sent is not None,
            "attempts": attempts,
            "http_status": 200 if sent else getattr(error, "status_code", None),
            "error_code": getattr(error, "code", None),
            "error_title": (getattr(error, "title", None) or type(error).__name__)
            if error is not None
            else None,
            "provider": self.provider,
        }
        pin = payload.get("pin")
        if isinstance(pin, Mapping):
            record["pinned_message_id"] = pin.get("message_id")
            record["expiration_days"] = pin.get("expiration_days")
        self.send_log.write(record)


class GroupPages:
    """The cursor walk behind ``iter_groups``: which page to ask for next, and when to stop.

    Stops after the last page, an empty page, or a cursor the API already gave (which
    would otherwise loop forever).
    """

    def __init__(self, core: Core, page_size: int | None) -> None:
        self._core = core
        self._page_size = page_size
        self._after: str | None = None
        self._seen: set[str] = set()
        self.done = False

    def next_flow(self) -> Flow[dict[str, Any]]:
        """The flow fetching the next page's body."""
        params = payloads.list_groups_params(limit=self._page_size, after=self._after)
        return self._core.body_flow(self._core.list_groups_call(params))

    def read(self, body: Mapping[str, Any]) -> list[models.GroupSummary]:
        """The groups on one page; sets :attr:`done` when no page should follow."""
        groups, after = page_groups(body)
        if after is None or after in self._seen or not groups:
            self.done = True
        else:
            self._seen.add(after)
        self._after = after
        return groups


def env_credentials(environ: Mapping[str, str]) -> dict[str, str]:
    """Credentials from ``D360_API_KEY``, else ``WHATSAPP_ACCESS_TOKEN`` + phone number ID."""
    # Not stripped: a key with a stray newline is refused by the client, with a hint,
    # like one given to the constructor (see groupkit._secrets).
    api_key = environ.get("D360_API_KEY", "")
    if api_key:
        return {"api_key": api_key}
    token = environ.get("WHATSAPP_ACCESS_TOKEN", "")
    if token:
        phone = environ.get("WHATSAPP_PHONE_NUMBER_ID", "").strip()
        if not phone:
            raise ClientConfigError(
                "WHATSAPP_ACCESS_TOKEN is set but WHATSAPP_PHONE_NUMBER_ID is not; Meta's Graph "
                "API needs both"
            )
        return {"access_token": token, "phone_number_id": phone}
    raise ClientConfigError(
        "no credentials in the environment: set D360_API_KEY (360dialog), or "
        "WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID (Meta)"
    )


def page_groups(body: Mapping[str, Any]) -> tuple[list[models.GroupSummary], str | None]:
    """The groups on one page and the cursor of the next page (``None`` on the last)."""
    data = body.get("data")
    items = data.get("groups") if isinstance(data, Mapping) else data
    groups = [models.group_summary(item) for item in items or [] if isinstance(item, Mapping)]
    paging = body.get("paging")
    if not isinstance(paging, Mapping) or not paging.get("next"):
        return groups, None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, Mapping) else None
    return groups, after if isinstance(after, str) and after else None
