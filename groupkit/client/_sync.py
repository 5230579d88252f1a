"""``GroupClient``: send to and pin in WhatsApp groups through 360dialog or Meta, blocking."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from groupkit import payloads
from groupkit.client import models
from groupkit.client._core import (
    DEFAULT_API_VERSION,
    GROUP_INFO_FIELDS,
    Call,
    Core,
    RetryPolicy,
    env_credentials,
)
from groupkit.client.sendlog import SendLog

__all__ = ["GroupClient"]


class GroupClient:
    """Send messages to WhatsApp groups, pin them, and list groups.

    Parameters
    ----------
    api_key
        A 360dialog API key (sent as ``D360-API-KEY``; no phone number in paths).
    access_token
        A Meta access token (sent as ``Authorization: Bearer``); needs ``phone_number_id``.
    phone_number_id
        The business phone number ID for Meta's Graph API.
    base_url
        Where the API lives; defaults to 360dialog's or Meta's. Point it at the sandbox
        (:func:`groupkit.sandbox.serve`) to work without an account.
    api_version
        Graph API version for Meta (ignored when ``base_url`` is given).
    transport
        An ``httpx.BaseTransport`` to use instead of the network (tests, proxies).
    timeout
        Seconds, or an ``httpx.Timeout``.
    retry
        A :class:`RetryPolicy`; the default tries up to 4 times within 30 s.
    send_log
        A path (or :class:`SendLog`) to append a JSONL record of every send to.
    sleep
        The function used to wait between tries (tests pass a recorder).

    Examples
    --------
    >>> from groupkit.sandbox import serve
    >>> with serve(seed=1) as sandbox, GroupClient(
    ...     api_key=sandbox.api_key, base_url=sandbox.url
    ... ) as client:
    ...     group = client.list_groups()[0]
    ...     sent = client.send_text(group.id, "Hello from the notebook")
    >>> sent.message_id.startswith("wamid."), sent.type
    (True, 'text')
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        access_token: str | None = None,
        phone_number_id: str | None = None,
        base_url: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = 15.0,
        retry: RetryPolicy | None = None,
        send_log: str | os.PathLike[str] | SendLog | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._core = Core(
            api_key=api_key,
            access_token=access_token,
            phone_number_id=phone_number_id,
            base_url=base_url,
            api_version=api_version,
            retry=retry,
            send_log=send_log,
        )
        self._sleep = sleep
        self._http = httpx.Client(
            transport=transport, timeout=timeout, **self._core.client_options()
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> GroupClient:
        """Build a client from ``D360_API_KEY``, or ``WHATSAPP_ACCESS_TOKEN`` and
        ``WHATSAPP_PHONE_NUMBER_ID``.

        Parameters
        ----------
        environ
            Where to read the variables (defaults to ``os.environ``).
        **options
            Any other constructor argument, e.g. ``base_url`` or ``send_log``.

        Returns
        -------
        GroupClient

        Examples
        --------
        >>> client = GroupClient.from_env({"D360_API_KEY": "k"}, base_url="http://127.0.0.1:9")
        >>> client.provider
        '360dialog'
        >>> client.close()
        """
        return cls(**env_credentials(os.environ if environ is None else environ), **options)

    @property
    def provider(self) -> str:
        """``"360dialog"`` or ``"meta"``."""
        return self._core.provider

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._core.base_url

    def __repr__(self) -> str:
        return f"GroupClient({self._core!r})"

    def __enter__(self) -> GroupClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- the request loop ---------------------------------------------------------------

    def _call(self, call: Call) -> tuple[dict[str, Any], int]:
        core = self._core
        attempts = core.attempts()
        while True:
            attempts.begin()
            result: httpx.Response | httpx.TransportError
            try:
                result = self._http.request(
                    call.method, call.path, params=call.params or None, json=call.json
                )
            except httpx.TransportError as exc:
                result = exc
            # Decide outside the except block so our errors carry no __context__ holding
            # the httpx request (whose headers include the credential).
            outcome = core.after_try(call, attempts, result)
            if outcome.body is not None:
                return outcome.body, attempts.count
            self._sleep(outcome.delay or 0.0)

    def _send(self, operation: str, body: dict[str, Any]) -> models.SentMessage:
        call = self._core.message_call(operation, body)
        requested_at = time.time()
        attempts = 0
        try:
            response, attempts = self._call(call)
            sent = self._core.sent_message(call, response, attempts)
        except Exception as exc:
            self._core.log_send(
                call,
                requested_at=requested_at,
                attempts=getattr(exc, "attempts", attempts),
                error=exc,
            )
            raise
        self._core.log_send(call, requested_at=requested_at, attempts=attempts, sent=sent)
        return sent

    # -- public operations ----------------------------------------------------------------

    def send_text(
        self, group_id: str, body: str, *, preview_url: bool = False
    ) -> models.SentMessage:
        """Send a text message to a group.

        Parameters
        ----------
        group_id
            The group's ID.
        body
            1 to 4096 characters.
        preview_url
            Render a link preview for the first URL.

        Returns
        -------
        SentMessage
            The accepted message; its statuses arrive by webhook.

        Examples
        --------
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     c.send_text(box.group_ids[0], "Meeting at 6").type
        'text'
        """
        return self._send(
            "send_text", payloads.text_message(group_id, body, preview_url=preview_url)
        )

    def send_media(
        self,
        group_id: str,
        kind: str,
        *,
        media_id: str | None = None,
        link: str | None = None,
        caption: str | None = None,
        filename: str | None = None,
    ) -> models.SentMessage:
        """Send an image, video, audio, document or sticker to a group.

        Parameters
        ----------
        group_id
            The group's ID.
        kind
            ``"image"``, ``"video"``, ``"audio"``, ``"document"`` or ``"sticker"``.
        media_id, link
            Exactly one: uploaded media's ID or a public URL.
        caption
            For image, video and document.
        filename
            For documents.

        Returns
        -------
        SentMessage

        Examples
        --------
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     c.send_media(box.group_ids[0], "image", link="https://example.com/a.jpg").type
        'image'
        """
        body = payloads.media_message(
            group_id, kind, media_id=media_id, link=link, caption=caption, filename=filename
        )
        return self._send("send_media", body)

    def send_template(
        self,
        group_id: str,
        name: str,
        language: str,
        components: Sequence[Mapping[str, Any]] | None = None,
    ) -> models.SentMessage:
        """Send an approved text- or media-based template to a group.

        Parameters
        ----------
        group_id
            The group's ID.
        name
            The template's name.
        language
            Its language code, e.g. ``"en_US"``.
        components
            Components with parameters, as in the Cloud API.

        Returns
        -------
        SentMessage

        Examples
        --------
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     c.send_template(box.group_ids[0], "weekly_digest", "en_US").type
        'template'
        """
        return self._send(
            "send_template", payloads.template_message(group_id, name, language, components)
        )

    def pin(self, group_id: str, message_id: str, *, days: int) -> models.SentMessage:
        """Pin a message in a group for 1 to 30 days (admin only; at most 3 stay pinned).

        Parameters
        ----------
        group_id
            The group's ID.
        message_id
            The wamid to pin.
        days
            1 to 30.

        Returns
        -------
        SentMessage
            ``message_id`` is the ID of the pin action itself.

        Examples
        --------
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     sent = c.send_text(box.group_ids[0], "Rules: be kind")
        ...     c.pin(box.group_ids[0], sent.message_id, days=7).payload["pin"]["expiration_days"]
        7
        """
        return self._send("pin", payloads.pin_message(group_id, message_id, days=days))

    def unpin(self, group_id: str, message_id: str) -> models.SentMessage:
        """Unpin a message in a group.

        Parameters
        ----------
        group_id
            The group's ID.
        message_id
            The pinned wamid.

        Returns
        -------
        SentMessage

        Examples
        --------
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     sent = c.send_text(box.group_ids[0], "Rules: be kind")
        ...     _ = c.pin(box.group_ids[0], sent.message_id, days=1)
        ...     c.unpin(box.group_ids[0], sent.message_id).payload["pin"]["type"]
        'unpin'
        """
        return self._send("unpin", payloads.unpin_message(group_id, message_id))

    def iter_groups(self, *, page_size: int | None = None) -> Iterator[models.GroupSummary]:
        """Yield every active group, following the cursor pagination.

        Parameters
        ----------
        page_size
            Groups per request, 1 to 1024 (the API defaults to 25).

        Yields
        ------
        GroupSummary

        Examples
        --------
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2, groups=5) as box:
        ...     with GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...         len(list(c.iter_groups(page_size=2)))
        5
        """
        pages = self._core.group_pages(page_size)
        while not pages.done:
            body, _ = self._call(pages.next_call())
            yield from pages.read(body)

    def list_groups(
        self, *, page_size: int | None = None, max_groups: int | None = None
    ) -> list[models.GroupSummary]:
        """List active groups, following the cursor pagination.

        Parameters
        ----------
        page_size
            Groups per request, 1 to 1024.
        max_groups
            Stop after this many groups.

        Returns
        -------
        list of GroupSummary

        Examples
        --------
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2, groups=3) as box:
        ...     with GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...         [g.id for g in c.list_groups()] == box.group_ids
        True
        """
        groups = []
        for group in self.iter_groups(page_size=page_size):
            if max_groups is not None and len(groups) >= max_groups:
                break
            groups.append(group)
        return groups

    def group_info(
        self, group_id: str, *, fields: Sequence[str] = GROUP_INFO_FIELDS
    ) -> models.GroupInfo:
        """Fetch a group's subject, description, participants and settings.

        Parameters
        ----------
        group_id
            The group's ID.
        fields
            Which fields to ask for (default: all documented ones).

        Returns
        -------
        GroupInfo

        Examples
        --------
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     info = c.group_info(box.group_ids[0])
        >>> info.total_participant_count == len(info.participants)
        True
        """
        body, _ = self._call(self._core.group_info_call(group_id, tuple(fields)))
        return models.group_info(body)

    def create_group(
        self,
        subject: str,
        *,
        description: str | None = None,
        join_approval_mode: str | None = None,
    ) -> str:
        """Ask the API to create a group; the group ID arrives in a ``group_create`` webhook.

        Parameters
        ----------
        subject
            1 to 128 characters.
        description
            Up to 2048 characters.
        join_approval_mode
            ``"auto_approve"`` or ``"approval_required"``.

        Returns
        -------
        str
            The ``request_id`` the webhook will carry.

        Examples
        --------
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     c.create_group("Runners").startswith("req.")
        True
        """
        body = payloads.create_group(
            subject, description=description, join_approval_mode=join_approval_mode
        )
        response, _ = self._call(self._core.create_group_call(body))
        return str(response.get("request_id", ""))
