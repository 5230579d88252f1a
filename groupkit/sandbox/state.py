"""The sandbox's state and rules: groups, sends, pins, faults and rate limits, without HTTP.

:mod:`groupkit.sandbox.routes` turns requests into calls of :class:`SandboxState`
and its answers (or :class:`ApiError`) into responses; every accepted send is
handed to the simulator's model (:mod:`groupkit.simulate.model`), whose webhooks
the emitter (:mod:`groupkit.sandbox.emitter`) delivers on time.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import random
import re
import secrets
import threading
import time
from collections.abc import Sequence
from typing import Any

from groupkit import payloads, webhooks
from groupkit._secrets import check_secret
from groupkit.catalog import lookup
from groupkit.sandbox.emitter import Emitter
from groupkit.simulate import model

__all__ = ["ApiError", "SandboxState", "meta_error"]

VERSION = re.compile(r"v\d+(\.\d+)?")
FAULTS = ("429", "500", "503", "drop")
_MODEL_TYPES = frozenset(model.BUSINESS_TYPES)


class ApiError(Exception):
    """An error answer: HTTP status, JSON body and extra headers.

    Examples
    --------
    >>> error = ApiError(429, {"error": {"code": 4}}, {"Retry-After": "1"})
    >>> error.status, error.headers["Retry-After"]
    (429, '1')
    """

    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def meta_error(status: int, code: int, details: str, *, message: str | None = None) -> ApiError:
    """An error in Meta's shape, titled from the catalogue.

    Examples
    --------
    >>> meta_error(400, 131041, "no such group").body["error"]["code"]
    131041
    """
    info = lookup(code)
    title = info.title if info else "Error"
    return ApiError(
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
class Group:
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


class SandboxState:
    """The Groups API's state and rules, with no HTTP: what the sandbox's routes call.

    :class:`groupkit.sandbox.Sandbox` adds the server; see :func:`groupkit.sandbox.serve`
    for the parameters.

    Examples
    --------
    >>> state = SandboxState(groups=2, seed=4)
    >>> len(state.group_ids), state.emitter is None
    (2, True)
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        groups: int = 3,
        seed: int | None = None,
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
        self.api_key = (
            "sandbox-" + secrets.token_urlsafe(16)
            if api_key is None
            else check_secret(api_key, "the sandbox API key", header=True)
        )
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        self.failure_rate = failure_rate
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.retry_after = retry_after
        self._noise = {"aggregate": aggregate, "duplicate": duplicate, "reorder": reorder}
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._groups: dict[str, Group] = {}
        self._sent: dict[str, str] = {}  # message_id -> group_id
        self.outcomes: dict[str, model.MessageOutcome] = {}
        self._faults: collections.deque[str] = collections.deque()
        self._recent: collections.deque[float] = collections.deque()
        self._pin_counter = 0
        self.requests = 0
        # Set by the server while it runs: delivers the webhooks the model schedules.
        self.emitter: Emitter | None = None
        for index in range(groups):
            self.add_group(
                f"Sandbox group {index + 1}",
                participants=self._phones(self._rng.randint(2, 8)),
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(groups={len(self._groups)}, api_key=<secret>)"

    @property
    def url(self) -> str:
        """The base URL the API is served at (empty without a server)."""
        return ""

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
        >>> box = SandboxState(groups=0, seed=1)
        >>> gid = box.add_group("Solo")
        >>> box.participants(gid)
        []
        """
        if len(participants) > 8:
            raise ValueError("a group holds at most 8 participants")
        with self._lock:
            group = Group(
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
        >>> box = SandboxState(groups=0, seed=1)
        >>> gid = box.add_group("Club")
        >>> box.join(gid, ["16505550100"])
        >>> box.participants(gid)
        ['16505550100']
        """
        with self._lock:
            group = self._groups[group_id]
            group.participants.extend(p for p in participants if p not in group.participants)
            now = time.time()
            event = webhooks.group_event(
                "group_participants_add",
                group_id,
                int(now),
                reason="invite_link",
                added_participants=[{"wa_id": p} for p in participants],
            )
        self._emit_group_event(now, "group_participants_update", event)

    def _emit_group_event(self, now: float, field: str, event: dict[str, Any]) -> None:
        hook = webhooks.envelope(
            field,
            {"groups": [event]},
            waba_id=self.waba_id,
            meta=webhooks.metadata(self.phone_number_id),
        )
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
        >>> box = SandboxState(groups=0)
        >>> box.fail_next("429", "drop")
        """
        for fault in faults:
            if fault not in FAULTS:
                raise ValueError(f"unknown fault {fault!r}; use one of {', '.join(FAULTS)}")
        with self._lock:
            self._faults.extend(faults)

    # -- requests (called from the routes) ----------------------------------------------------

    def admit(self, path: str, headers: Any) -> tuple[list[str], bool, str | None]:
        """Count a request and check what its headers alone decide: the key, the rate
        limit and injected faults (before any body is read).

        Returns the path's parts (version prefix removed), whether it is a Meta-style
        path, and the fault to apply to it, if any.

        Examples
        --------
        >>> state = SandboxState(api_key="k", groups=0)
        >>> state.admit("/v23.0/106540352242922/messages", {"Authorization": "Bearer k"})
        (['106540352242922', 'messages'], True, None)
        >>> try:
        ...     state.admit("/groups", {})
        ... except ApiError as err:
        ...     print(err.status, err.body)
        401 {'error': 'Unauthorized - Invalid or missing D360-API-KEY'}
        """
        parts = [p for p in path.split("/") if p]
        meta_style = bool(parts) and bool(VERSION.fullmatch(parts[0]))
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
            raise meta_error(int(fault), code, "Sandbox fault injected by fail_next().")
        return parts, meta_style, fault

    def route(
        self, method: str, parts: list[str], meta_style: bool, query: dict[str, str], body: Any
    ) -> tuple[int, dict[str, Any]]:
        """Answer an admitted request whose JSON body (or None) is decoded.

        Examples
        --------
        >>> state = SandboxState(groups=2, seed=1)
        >>> status, body = state.route("GET", ["groups"], False, {"limit": "1"}, None)
        >>> status, len(body["data"]["groups"]), "next" in body["paging"]
        (200, 1, True)
        """
        path = "/" + "/".join(parts)
        if len(parts) == 2 and parts[1] in ("messages", "groups"):
            if parts[0] != self.phone_number_id:
                raise meta_error(
                    400,
                    100,
                    f"Unsupported post request. Object with ID '{parts[0]}' does not exist.",
                )
            parts = parts[1:]
        if parts == ["messages"] and method == "POST":
            return self._post_message(body)
        if parts == ["groups"] and method == "GET":
            return 200, self._list_groups(query, meta_style)
        if parts == ["groups"] and method == "POST":
            return 200, self._create_group(body)
        group_parts = parts[1:] if parts[:1] == ["groups"] else parts
        if len(group_parts) == 1 and method == "GET":
            return 200, self._group_info(group_parts[0], query)
        raise meta_error(404, 100, f"Unknown path {method} {path}.")

    def _check_auth(self, headers: Any, meta_style: bool) -> None:
        key = headers.get("D360-API-KEY")
        bearer = headers.get("Authorization", "")
        if bearer.startswith("Bearer "):
            key = key or bearer[len("Bearer ") :]
        if key is not None and secrets.compare_digest(key.encode(), self.api_key.encode()):
            return
        if meta_style:
            raise meta_error(
                401, 190, "Invalid OAuth access token.", message="Invalid OAuth access token."
            )
        raise ApiError(401, {"error": "Unauthorized - Invalid or missing D360-API-KEY"})

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

    def _rate_limited(self) -> ApiError:
        reply = meta_error(429, 130429, "Cloud API message throughput has been reached.")
        reply.headers["Retry-After"] = f"{self.retry_after:g}"
        return reply

    def _take_fault(self) -> str | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _group(self, group_id: Any) -> Group:
        group = self._groups.get(group_id) if isinstance(group_id, str) else None
        if group is None:
            raise meta_error(
                400,
                131041,
                "The group was not found, either because it doesn't exist or you are not a member.",
            )
        return group

    def _post_message(self, raw_body: Any) -> tuple[int, dict[str, Any]]:
        try:
            body = payloads.check_message(raw_body)
        except payloads.PayloadError as err:
            raise meta_error(400, err.code, str(err)) from None
        now = time.time()
        with self._lock:
            group = self._group(body["to"])
            if group.suspended:
                raise meta_error(403, 131207, "The group violates platform policies.")
            if not group.participants:
                raise meta_error(400, 131020, "Cannot send messages to single member groups.")
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

    def _apply_pin(self, group: Group, pin: dict[str, Any]) -> None:
        if not group.admin:
            raise meta_error(
                403, 10, "Only the group admin can pin or unpin messages in this group."
            )
        target = pin["message_id"]
        other = self._sent.get(target)
        if other is not None and other != group.id:
            raise meta_error(400, 131009, f"Message {target} was not sent to this group.")
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
        >>> box = SandboxState(groups=1, seed=1)
        >>> box.pinned(box.group_ids[0])
        []
        """
        with self._lock:
            pins = self._groups[group_id].pins
            return sorted(pins, key=pins.__getitem__)

    def _list_groups(self, query: dict[str, str], meta_style: bool) -> dict[str, Any]:
        limit_text = query.get("limit", "25")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 1024:
            raise meta_error(400, 100, "limit must be an integer from 1 to 1024.")
        limit = int(limit_text)
        start = 0
        if "after" in query or "before" in query:
            cursor = query.get("after") or query.get("before") or ""
            try:
                start = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
            except (ValueError, UnicodeDecodeError):
                raise meta_error(
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
            raise meta_error(400, 100, "The request body must be a JSON object.")
        try:
            body = payloads.create_group(
                raw_body.get("subject"),  # type: ignore[arg-type]
                description=raw_body.get("description"),
                join_approval_mode=raw_body.get("join_approval_mode"),
            )
        except payloads.PayloadError as err:
            raise meta_error(400, err.code, str(err)) from None
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
            webhooks.group_event(
                "group_create",
                group_id,
                int(now),
                request_id=request_id,
                subject=group.subject,
                invite_link="https://chat.whatsapp.com/" + secrets.token_urlsafe(16),
                join_approval_mode=group.join_approval_mode,
            ),
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
            raise meta_error(400, 100, f"Unknown field(s): {', '.join(unknown)}.")
        return {"messaging_product": "whatsapp", "id": group.id} | {f: values[f] for f in wanted}
