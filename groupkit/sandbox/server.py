"""A local stand-in for the Groups API: real HTTP on loopback, real rules, realistic webhooks.

The server speaks both dialects: 360dialog's (``POST /messages``, ``GET /groups``,
``GET /groups/{id}``, header ``D360-API-KEY``) and Meta's Graph API
(``POST /<version>/<phone_number_id>/messages``, ``GET /<version>/<group_id>``,
``Authorization: Bearer``). One key opens both. Every accepted send is handed to
the simulator's model (:mod:`groupkit.simulate.model`), whose status webhooks are
appended to the archive and optionally POSTed to a webhook URL, signed.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import dataclasses
import json
import math
import os
import random
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from groupkit import payloads
from groupkit.catalog import lookup
from groupkit.sandbox._emitter import Emitter
from groupkit.simulate import model

__all__ = ["Sandbox", "serve"]

_VERSION = re.compile(r"v\d+(\.\d+)?")
_FAULTS = ("429", "500", "503", "drop")
_MODEL_TYPES = frozenset(model.BUSINESS_TYPES)


class _Reply(Exception):
    """Raised inside a handler to answer with an error body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _meta_error(status: int, code: int, details: str, *, message: str | None = None) -> _Reply:
    info = lookup(code)
    title = info.title if info else "Error"
    return _Reply(
        status,
        {
            "error": {
                "message": message or f"(#{code}) {title}",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": details},
                "fbtrace_id": "Sbx" + secrets.token_urlsafe(12),
            }
        },
    )


@dataclasses.dataclass
class _Group:
    id: str
    subject: str
    description: str
    participants: list[str]
    created_at: int
    profile: model.GroupProfile
    admin: bool = True
    suspended: bool = False
    join_approval_mode: str = "auto_approve"
    pins: dict[str, int] = dataclasses.field(default_factory=dict)  # message_id -> pin order


class Sandbox:
    """The running sandbox: its address, credentials, groups and webhook emitter.

    Create it with :func:`serve` (a context manager) or call :meth:`start` and
    :meth:`stop` yourself. See :func:`serve` for the parameters.

    Attributes
    ----------
    url
        Base URL, e.g. ``http://127.0.0.1:50123`` (use as the client's ``base_url``).
    api_key
        The key the sandbox accepts (as ``D360-API-KEY`` or a bearer token).
    phone_number_id, waba_id
        The business number and account in Meta-style paths and webhooks.
    archive
        Directory the webhooks are appended to, or ``None``.

    Examples
    --------
    >>> with serve(groups=2, seed=4) as box:
    ...     len(box.group_ids), box.url.startswith("http://127.0.0.1:")
    (2, True)
    """

    def __init__(
        self,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        archive: str | os.PathLike[str] | None = None,
        webhook_url: str | None = None,
        app_secret: str | None = None,
        api_key: str | None = None,
        groups: int = 3,
        seed: int | None = None,
        time_scale: float = 0.001,
        failure_rate: float | None = None,
        rate_limit: int | None = None,
        rate_window: float = 1.0,
        retry_after: float = 1.0,
        aggregate: float = 0.3,
        duplicate: float = 0.05,
        reorder: float = 0.1,
        phone_number_id: str = "106540352242922",
        waba_id: str = "102290129340398",
    ) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must not be negative")
        self._host = host
        self._port = port
        self.archive = Path(archive) if archive is not None else None
        self._webhook_url = webhook_url
        self._app_secret = app_secret
        self.api_key = api_key or "sandbox-" + secrets.token_urlsafe(16)
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        self.time_scale = time_scale
        self.failure_rate = failure_rate
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.retry_after = retry_after
        self._noise = {"aggregate": aggregate, "duplicate": duplicate, "reorder": reorder}
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._groups: dict[str, _Group] = {}
        self._sent: dict[str, str] = {}  # message_id -> group_id
        self.outcomes: dict[str, model.MessageOutcome] = {}
        self._faults: collections.deque[str] = collections.deque()
        self._recent: collections.deque[float] = collections.deque()
        self._pin_counter = 0
        self.requests = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.emitter: Emitter | None = None
        for index in range(groups):
            self.add_group(
                f"Sandbox group {index + 1}",
                participants=self._phones(self._rng.randint(2, 8)),
            )

    def __repr__(self) -> str:
        state = "running" if self._server else "stopped"
        return f"Sandbox({state}, url={self.url!r}, groups={len(self._groups)}, api_key=<secret>)"

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL of the running server (empty before :meth:`start`)."""
        if self._server is None:
            return ""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Sandbox:
        """Start serving on a background thread; returns ``self``."""
        if self._server is not None:
            return self
        self.emitter = Emitter(
            archive=self.archive,
            webhook_url=self._webhook_url,
            app_secret=self._app_secret,
            time_scale=self.time_scale,
        )
        self._server = _Server((self._host, self._port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="groupkit-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server, close its connections, and stop emitting (pending webhooks drop)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.emitter is not None:
            self.emitter.close()
        self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- groups -----------------------------------------------------------------------------

    def _phones(self, count: int) -> list[str]:
        return [f"1650555{self._rng.randint(0, 9999):04d}" for _ in range(count)]

    def _new_group_id(self) -> str:
        jid = f"1203634{self._rng.randint(0, 10**11):011d}"
        raw = f"capi_group:{self.phone_number_id}:{jid}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @property
    def group_ids(self) -> list[str]:
        """IDs of all groups, oldest first."""
        with self._lock:
            return list(self._groups)

    def participants(self, group_id: str) -> list[str]:
        """The participants of a group (not counting the business)."""
        with self._lock:
            return list(self._groups[group_id].participants)

    def add_group(
        self,
        subject: str,
        participants: Sequence[str] = (),
        *,
        admin: bool = True,
        suspended: bool = False,
        slow: bool = False,
    ) -> str:
        """Create a group directly (no webhook), e.g. to set up a test.

        Parameters
        ----------
        subject
            The group's name.
        participants
            WhatsApp IDs of members besides the business (at most 8).
        admin
            Whether the business is an admin (only admins may pin).
        suspended
            Whether the group is suspended (sends answer 131207).
        slow
            Draw one of the model's slow groups.

        Returns
        -------
        str
            The new group's ID.

        Examples
        --------
        >>> box = Sandbox(groups=0, seed=1)
        >>> gid = box.add_group("Solo")
        >>> box.participants(gid)
        []
        """
        if len(participants) > 8:
            raise ValueError("a group holds at most 8 participants")
        with self._lock:
            group = _Group(
                id=self._new_group_id(),
                subject=subject,
                description="",
                participants=list(participants),
                created_at=int(time.time()),
                profile=self._profile(slow),
                admin=admin,
                suspended=suspended,
            )
            self._groups[group.id] = group
            return group.id

    def _profile(self, slow: bool) -> model.GroupProfile:
        profile = model.draw_profile(self._rng, slow=slow)
        if self.failure_rate is not None:
            profile = dataclasses.replace(profile, failure=self.failure_rate)
        return profile

    def join(self, group_id: str, participants: Sequence[str]) -> None:
        """Simulate users joining through the invite link (emits ``group_participants_add``).

        Examples
        --------
        >>> with serve(groups=0, seed=1) as box:
        ...     gid = box.add_group("Club")
        ...     box.join(gid, ["16505550100"])
        ...     box.participants(gid)
        ['16505550100']
        """
        with self._lock:
            group = self._groups[group_id]
            group.participants.extend(p for p in participants if p not in group.participants)
            now = time.time()
            event = {
                "timestamp": str(int(now)),
                "group_id": group_id,
                "type": "group_participants_add",
                "reason": "invite_link",
                "added_participants": [{"wa_id": p} for p in participants],
            }
        self._emit_group_event(now, "group_participants_update", event)

    def _emit_group_event(self, now: float, field: str, event: dict[str, Any]) -> None:
        hook = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": self.waba_id,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550783881",
                                    "phone_number_id": self.phone_number_id,
                                },
                                "groups": [event],
                            },
                            "field": field,
                        }
                    ],
                }
            ],
        }
        if self.emitter is not None:
            self.emitter.schedule(now, [(now + self._rng.uniform(0.2, 2.0), hook)])

    # -- test helpers -----------------------------------------------------------------------

    def fail_next(self, *faults: str) -> None:
        """Make the next requests fail, one fault per request, in order.

        Parameters
        ----------
        *faults
            ``"429"`` (rate limited, with ``Retry-After``), ``"500"`` (131000),
            ``"503"`` (131016), or ``"drop"``: the send is *accepted* and its webhooks
            emitted, but the connection closes without an answer.

        Examples
        --------
        >>> box = Sandbox(groups=0)
        >>> box.fail_next("429", "drop")
        """
        for fault in faults:
            if fault not in _FAULTS:
                raise ValueError(f"unknown fault {fault!r}; use one of {', '.join(_FAULTS)}")
        with self._lock:
            self._faults.extend(faults)

    def flush(self, timeout: float = 10.0) -> bool:
        """Emit every pending webhook now and wait until they are written.

        Examples
        --------
        >>> with serve(seed=1) as box:
        ...     box.flush()
        True
        """
        return self.emitter.flush(timeout) if self.emitter is not None else True

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait (up to ``timeout`` s) until every scheduled webhook has been emitted on time.

        Examples
        --------
        >>> with serve(seed=1) as box:
        ...     box.wait_idle(1.0)
        True
        """
        return self.emitter.wait_idle(timeout) if self.emitter is not None else True

    # -- request handling (called from handler threads) ---------------------------------------

    def _check_auth(self, headers: Any, meta_style: bool) -> None:
        key = headers.get("D360-API-KEY")
        bearer = headers.get("Authorization", "")
        if bearer.startswith("Bearer "):
            key = key or bearer[len("Bearer ") :]
        if key is not None and secrets.compare_digest(key.encode(), self.api_key.encode()):
            return
        if meta_style:
            raise _meta_error(
                401, 190, "Invalid OAuth access token.", message="Invalid OAuth access token."
            )
        raise _Reply(401, {"error": "Unauthorized - Invalid or missing D360-API-KEY"})

    def _check_rate(self) -> None:
        if self.rate_limit is None:
            return
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] > self.rate_window:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit:
                raise self._rate_limited()
            self._recent.append(now)

    def _rate_limited(self) -> _Reply:
        reply = _meta_error(429, 130429, "Cloud API message throughput has been reached.")
        reply.headers["Retry-After"] = f"{self.retry_after:g}"
        return reply

    def _take_fault(self) -> str | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: Any, raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str], bool]:
        """Route one request; returns (status, body, headers, drop_connection)."""
        parts = [p for p in path.split("/") if p]
        meta_style = bool(parts) and bool(_VERSION.fullmatch(parts[0]))
        if meta_style:
            parts = parts[1:]
        with self._lock:
            self.requests += 1
        self._check_auth(headers, meta_style)
        self._check_rate()
        fault = self._take_fault()
        if fault == "429":
            raise self._rate_limited()
        if fault in ("500", "503"):
            code = 131000 if fault == "500" else 131016
            raise _meta_error(int(fault), code, "Sandbox fault injected by fail_next().")
        if len(parts) == 2 and parts[1] in ("messages", "groups"):
            if parts[0] != self.phone_number_id:
                raise _meta_error(
                    400,
                    100,
                    f"Unsupported post request. Object with ID '{parts[0]}' does not exist.",
                )
            parts = parts[1:]
        if parts == ["messages"] and method == "POST":
            status, body = self._post_message(self._json(raw))
            return status, body, {}, fault == "drop"
        if parts == ["groups"] and method == "GET":
            return 200, self._list_groups(query, meta_style), {}, False
        if parts == ["groups"] and method == "POST":
            return 200, self._create_group(self._json(raw)), {}, False
        group_parts = parts[1:] if parts[:1] == ["groups"] else parts
        if len(group_parts) == 1 and method == "GET":
            return 200, self._group_info(group_parts[0], query), {}, False
        raise _meta_error(404, 100, f"Unknown path {method} {path}.")

    @staticmethod
    def _json(raw: bytes) -> Any:
        try:
            return json.loads(raw or b"null")
        except ValueError:
            raise _meta_error(400, 100, "The request body is not valid JSON.") from None

    def _group(self, group_id: Any) -> _Group:
        group = self._groups.get(group_id) if isinstance(group_id, str) else None
        if group is None:
            raise _meta_error(
                400,
                131041,
                "The group was not found, either because it doesn't exist or you are not a member.",
            )
        return group

    def _post_message(self, raw_body: Any) -> tuple[int, dict[str, Any]]:
        try:
            body = payloads.check_message(raw_body)
        except payloads.PayloadError as err:
            raise _meta_error(400, err.code, str(err)) from None
        now = time.time()
        with self._lock:
            group = self._group(body["to"])
            if group.suspended:
                raise _meta_error(403, 131207, "The group violates platform policies.")
            if not group.participants:
                raise _meta_error(400, 131020, "Cannot send messages to single member groups.")
            if body["type"] == "pin":
                self._apply_pin(group, body["pin"])
            message_id = "wamid." + base64.b64encode(secrets.token_bytes(27)).decode()
            self._sent[message_id] = group.id
            message_type = body["type"] if body["type"] in _MODEL_TYPES else "text"
            outcome = model.message_outcome(
                self._rng,
                group.profile,
                message_id=message_id,
                group_id=group.id,
                participants=list(group.participants),
                sent_at=now,
                message_type=message_type,
            )
            self.outcomes[message_id] = outcome
            events = model.status_webhooks(
                self._rng,
                outcome,
                waba_id=self.waba_id,
                phone_number_id=self.phone_number_id,
                **self._noise,
            )
        if self.emitter is not None:
            self.emitter.schedule(now, events)
        message: dict[str, Any] = {"id": message_id}
        if body["type"] == "template":
            message["message_status"] = "accepted"
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": group.id, "wa_id": group.id}],
            "messages": [message],
        }

    def _apply_pin(self, group: _Group, pin: dict[str, Any]) -> None:
        if not group.admin:
            raise _meta_error(
                403, 10, "Only the group admin can pin or unpin messages in this group."
            )
        target = pin["message_id"]
        other = self._sent.get(target)
        if other is not None and other != group.id:
            raise _meta_error(400, 131009, f"Message {target} was not sent to this group.")
        if pin["type"] == "unpin":
            # Unpinning a message that is not pinned is a no-op (the docs name no error).
            group.pins.pop(target, None)
            return
        self._pin_counter += 1
        group.pins[target] = self._pin_counter
        while len(group.pins) > payloads.MAX_PINS:
            oldest = min(group.pins, key=group.pins.__getitem__)
            del group.pins[oldest]

    def pinned(self, group_id: str) -> list[str]:
        """Message IDs pinned in a group, oldest pin first.

        Examples
        --------
        >>> box = Sandbox(groups=1, seed=1)
        >>> box.pinned(box.group_ids[0])
        []
        """
        with self._lock:
            pins = self._groups[group_id].pins
            return sorted(pins, key=pins.__getitem__)

    def _list_groups(self, query: dict[str, str], meta_style: bool) -> dict[str, Any]:
        limit_text = query.get("limit", "25")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 1024:
            raise _meta_error(400, 100, "limit must be an integer from 1 to 1024.")
        limit = int(limit_text)
        start = 0
        if "after" in query or "before" in query:
            cursor = query.get("after") or query.get("before") or ""
            try:
                start = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
            except (ValueError, UnicodeDecodeError):
                raise _meta_error(
                    400,
                    131059,
                    "The cursor has either expired or become corrupted. Start pagination "
                    "from the beginning again.",
                ) from None
            if "before" in query:
                start = max(0, start - limit)
        with self._lock:
            groups = list(self._groups.values())
        page = groups[start : start + limit]
        items = [
            {
                "id": g.id,
                "subject": g.subject,
                "created_at": str(g.created_at) if meta_style else g.created_at,
            }
            for g in page
        ]

        def cursor_for(index: int) -> str:
            return base64.urlsafe_b64encode(str(index).encode()).decode().rstrip("=")

        paging: dict[str, Any] = {
            "cursors": {"before": cursor_for(start), "after": cursor_for(start + len(page))}
        }
        if start + len(page) < len(groups):
            paging["next"] = (
                f"{self.url}/groups?limit={limit}&after={cursor_for(start + len(page))}"
            )
        if start > 0:
            paging["previous"] = f"{self.url}/groups?limit={limit}&before={cursor_for(start)}"
        return {"data": {"groups": items}, "paging": paging}

    def _create_group(self, raw_body: Any) -> dict[str, Any]:
        if not isinstance(raw_body, dict):
            raise _meta_error(400, 100, "The request body must be a JSON object.")
        try:
            body = payloads.create_group(
                raw_body.get("subject"),  # type: ignore[arg-type]
                description=raw_body.get("description"),
                join_approval_mode=raw_body.get("join_approval_mode"),
            )
        except payloads.PayloadError as err:
            raise _meta_error(400, err.code, str(err)) from None
        request_id = "req." + secrets.token_hex(8)
        group_id = self.add_group(body["subject"])
        now = time.time()
        with self._lock:
            group = self._groups[group_id]
            group.description = body.get("description", "")
            group.join_approval_mode = body.get("join_approval_mode", "auto_approve")
        self._emit_group_event(
            now,
            "group_lifecycle_update",
            {
                "timestamp": str(int(now)),
                "group_id": group_id,
                "type": "group_create",
                "request_id": request_id,
                "subject": group.subject,
                "invite_link": "https://chat.whatsapp.com/" + secrets.token_urlsafe(16),
                "join_approval_mode": group.join_approval_mode,
            },
        )
        return {"messaging_product": "whatsapp", "request_id": request_id}

    def _group_info(self, group_id: str, query: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            group = self._group(group_id)
            values = {
                "subject": group.subject,
                "description": group.description,
                "participants": [{"wa_id": p} for p in group.participants],
                "join_approval_mode": group.join_approval_mode,
                "suspended": group.suspended,
                "creation_timestamp": group.created_at,
                "total_participant_count": len(group.participants),
            }
        wanted = [f for f in query.get("fields", "").split(",") if f]
        unknown = [f for f in wanted if f not in values]
        if unknown:
            raise _meta_error(400, 100, f"Unknown field(s): {', '.join(unknown)}.")
        return {"messaging_product": "whatsapp", "id": group.id} | {f: values[f] for f in wanted}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections so they finish."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "groupkit-sandbox"
    sys_version = ""
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log (it would clutter notebooks and tests)."""

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        extra: dict[str, str] = {}
        drop = False
        try:
            status, body, extra, drop = self.server.sandbox.handle(
                self.command, split.path, query, self.headers, raw
            )
        except _Reply as reply:
            status, body, extra = reply.status, reply.body, reply.headers
        if drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()


@contextlib.contextmanager
def serve(
    *,
    port: int = 0,
    archive: str | os.PathLike[str] | None = None,
    webhook_url: str | None = None,
    app_secret: str | None = None,
    api_key: str | None = None,
    groups: int = 3,
    seed: int | None = None,
    time_scale: float = 0.001,
    failure_rate: float | None = None,
    rate_limit: int | None = None,
    rate_window: float = 1.0,
    retry_after: float = 1.0,
    aggregate: float = 0.3,
    duplicate: float = 0.05,
    reorder: float = 0.1,
) -> Iterator[Sandbox]:
    """Run a local Groups API on loopback for the duration of a ``with`` block.

    Parameters
    ----------
    port
        Port to listen on (0 picks a free one; read ``sandbox.url``).
    archive
        Directory to append the emitted webhooks to (``sandbox-webhooks.ndjson``),
        readable with :func:`groupkit.read_webhooks`.
    webhook_url
        Also POST every webhook here.
    app_secret
        Sign the POSTs with ``X-Hub-Signature-256`` using this secret.
    api_key
        The key to accept (default: a random one, in ``sandbox.api_key``).
    groups
        How many groups (2 to 8 participants each) to start with.
    seed
        Seed for groups, participants and the delivery model.
    time_scale
        Wall-clock seconds per simulated second for webhook emission.
    failure_rate
        Override the model's per-group probability that a send fails.
    rate_limit, rate_window
        Answer 429 beyond ``rate_limit`` requests per ``rate_window`` seconds.
    retry_after
        The ``Retry-After`` seconds sent with a 429.
    aggregate, duplicate, reorder
        Webhook noise passed to :func:`groupkit.simulate.model.status_webhooks`.

    Yields
    ------
    Sandbox

    Examples
    --------
    >>> import httpx
    >>> with serve(seed=0) as box:
    ...     r = httpx.get(box.url + "/groups", headers={"D360-API-KEY": box.api_key})
    ...     len(r.json()["data"]["groups"])
    3
    """
    if not math.isfinite(time_scale):
        raise ValueError("time_scale must be finite")
    sandbox = Sandbox(
        port=port,
        archive=archive,
        webhook_url=webhook_url,
        app_secret=app_secret,
        api_key=api_key,
        groups=groups,
        seed=seed,
        time_scale=time_scale,
        failure_rate=failure_rate,
        rate_limit=rate_limit,
        rate_window=rate_window,
        retry_after=retry_after,
        aggregate=aggregate,
        duplicate=duplicate,
        reorder=reorder,
    )
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
