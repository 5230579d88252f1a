"""``AsyncGroupClient``: the same operations as ``GroupClient``, for ``asyncio``."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
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

__all__ = ["AsyncGroupClient"]


class AsyncGroupClient:
    """Send to, pin in and list WhatsApp groups with ``await``.

    Takes the same arguments as :class:`groupkit.GroupClient`, except that
    ``transport`` is an ``httpx.AsyncBaseTransport`` and ``sleep`` a coroutine function.
    Every method behaves like its ``GroupClient`` namesake, retries included.

    Examples
    --------
    >>> import asyncio
    >>> from groupkit.sandbox import serve
    >>> async def main(box):
    ...     async with AsyncGroupClient(api_key=box.api_key, base_url=box.url) as client:
    ...         groups = await client.list_groups()
    ...         return await client.send_text(groups[0].id, "Hello")
    >>> with serve(seed=3) as box:
    ...     asyncio.run(main(box)).type
    'text'
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        access_token: str | None = None,
        phone_number_id: str | None = None,
        base_url: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout = 15.0,
        retry: RetryPolicy | None = None,
        send_log: str | os.PathLike[str] | SendLog | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
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
        self._http = httpx.AsyncClient(
            transport=transport, timeout=timeout, **self._core.client_options()
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> AsyncGroupClient:
        """Build a client from the environment, like :meth:`GroupClient.from_env`.

        Parameters
        ----------
        environ
            Where to read ``D360_API_KEY`` or ``WHATSAPP_ACCESS_TOKEN`` and
            ``WHATSAPP_PHONE_NUMBER_ID`` (defaults to ``os.environ``).
        **options
            Other constructor arguments.

        Returns
        -------
        AsyncGroupClient

        Examples
        --------
        >>> env = {"WHATSAPP_ACCESS_TOKEN": "t", "WHATSAPP_PHONE_NUMBER_ID": "106"}
        >>> AsyncGroupClient.from_env(env).provider
        'meta'
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
        return f"AsyncGroupClient({self._core!r})"

    async def __aenter__(self) -> AsyncGroupClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _call(self, call: Call) -> tuple[dict[str, Any], int]:
        core = self._core
        attempts = core.attempts()
        while True:
            attempts.begin()
            result: httpx.Response | httpx.TransportError
            try:
                result = await self._http.request(
                    call.method, call.path, params=call.params or None, json=call.json
                )
            except httpx.TransportError as exc:
                result = exc
            # Decide outside the except block so our errors carry no __context__ holding
            # the httpx request (whose headers include the credential).
            outcome = core.after_try(call, attempts, result)
            if outcome.body is not None:
                return outcome.body, attempts.count
            await self._sleep(outcome.delay or 0.0)

    async def _send(self, operation: str, body: dict[str, Any]) -> models.SentMessage:
        call = self._core.message_call(operation, body)
        requested_at = time.time()
        attempts = 0
        try:
            response, attempts = await self._call(call)
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

    async def send_text(
        self, group_id: str, body: str, *, preview_url: bool = False
    ) -> models.SentMessage:
        """Send a text message to a group (see :meth:`GroupClient.send_text`).

        Examples
        --------
        >>> import asyncio
        >>> from groupkit.sandbox import serve
        >>> async def main(box):
        ...     async with AsyncGroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...         return await c.send_text(box.group_ids[0], "hi")
        >>> with serve(seed=3) as box:
        ...     asyncio.run(main(box)).payload["text"]["body"]
        'hi'
        """
        return await self._send(
            "send_text", payloads.text_message(group_id, body, preview_url=preview_url)
        )

    async def send_media(
        self,
        group_id: str,
        kind: str,
        *,
        media_id: str | None = None,
        link: str | None = None,
        caption: str | None = None,
        filename: str | None = None,
    ) -> models.SentMessage:
        """Send an image, video, audio, document or sticker (see :meth:`GroupClient.send_media`).

        Examples
        --------
        >>> import asyncio
        >>> from groupkit.sandbox import serve
        >>> async def main(box):
        ...     async with AsyncGroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...         return await c.send_media(box.group_ids[0], "sticker", media_id="77")
        >>> with serve(seed=3) as box:
        ...     asyncio.run(main(box)).type
        'sticker'
        """
        body = payloads.media_message(
            group_id, kind, media_id=media_id, link=link, caption=caption, filename=filename
        )
        return await self._send("send_media", body)

    async def send_template(
        self,
        group_id: str,
        name: str,
        language: str,
        components: Sequence[Mapping[str, Any]] | None = None,
    ) -> models.SentMessage:
        """Send a template to a group (see :meth:`GroupClient.send_template`).

        Examples
        --------
        >>> import asyncio
        >>> from groupkit.sandbox import serve
        >>> async def main(box):
        ...     async with AsyncGroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...         return await c.send_template(box.group_ids[0], "digest", "en")
        >>> with serve(seed=3) as box:
        ...     asyncio.run(main(box)).type
        'template'
        """
        return await self._send(
            "send_template", payloads.template_message(group_id, name, language, components)
        )

    async def pin(self, group_id: str, message_id: str, *, days: int) -> models.SentMessage:
        """Pin a message for 1 to 30 days (see :meth:`GroupClient.pin`).

        Examples
        --------
        >>> import asyncio
        >>> from groupkit.sandbox import serve
        >>> async def main(box):
        ...     async with AsyncGroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...         sent = await c.send_text(box.group_ids[0], "rules")
        ...         return await c.pin(box.group_ids[0], sent.message_id, days=3)
        >>> with serve(seed=3) as box:
        ...     asyncio.run(main(box)).type
        'pin'
        """
        return await self._send("pin", payloads.pin_message(group_id, message_id, days=days))

    async def unpin(self, group_id: str, message_id: str) -> models.SentMessage:
        """Unpin a message (see :meth:`GroupClient.unpin`).

        Examples
        --------
        >>> import asyncio
        >>> from groupkit.sandbox import serve
        >>> async def main(box):
        ...     async with AsyncGroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...         sent = await c.send_text(box.group_ids[0], "rules")
        ...         return await c.unpin(box.group_ids[0], sent.message_id)
        >>> with serve(seed=3) as box:
        ...     asyncio.run(main(box)).payload["pin"]["type"]
        'unpin'
        """
        return await self._send("unpin", payloads.unpin_message(group_id, message_id))

    async def iter_groups(
        self, *, page_size: int | None = None
    ) -> AsyncIterator[models.GroupSummary]:
        """Yield every active group, following the cursor pagination.

        Examples
        --------
        >>> import asyncio
        >>> from groupkit.sandbox import serve
        >>> async def main(box):
        ...     async with AsyncGroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...         return [g.id async for g in c.iter_groups(page_size=1)]
        >>> with serve(seed=3, groups=2) as box:
        ...     len(asyncio.run(main(box)))
        2
        """
        pages = self._core.group_pages(page_size)
        while not pages.done:
            body, _ = await self._call(pages.next_call())
            for group in pages.read(body):
                yield group

    async def list_groups(
        self, *, page_size: int | None = None, max_groups: int | None = None
    ) -> list[models.GroupSummary]:
        """List active groups (see :meth:`GroupClient.list_groups`).

        Examples
        --------
        >>> import asyncio
        >>> from groupkit.sandbox import serve
        >>> async def main(box):
        ...     async with AsyncGroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...         return await c.list_groups(max_groups=1)
        >>> with serve(seed=3, groups=2) as box:
        ...     len(asyncio.run(main(box)))
        1
        """
        groups: list[models.GroupSummary] = []
        async for group in self.iter_groups(page_size=page_size):
            if max_groups is not None and len(groups) >= max_groups:
                break
            groups.append(group)
        return groups

    async def group_info(
        self, group_id: str, *, fields: Sequence[str] = GROUP_INFO_FIELDS
    ) -> models.GroupInfo:
        """Fetch a group's details (see :meth:`GroupClient.group_info`).

        Examples
        --------
        >>> import asyncio
        >>> from groupkit.sandbox import serve
        >>> async def main(box):
        ...     async with AsyncGroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...         return await c.group_info(box.group_ids[0])
        >>> with serve(seed=3) as box:
        ...     asyncio.run(main(box)).id == box.group_ids[0]
        True
        """
        body, _ = await self._call(self._core.group_info_call(group_id, tuple(fields)))
        return models.group_info(body)

    async def create_group(
        self,
        subject: str,
        *,
        description: str | None = None,
        join_approval_mode: str | None = None,
    ) -> str:
        """Ask the API to create a group (see :meth:`GroupClient.create_group`).

        Examples
        --------
        >>> import asyncio
        >>> from groupkit.sandbox import serve
        >>> async def main(box):
        ...     async with AsyncGroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...         return await c.create_group("Choir")
        >>> with serve(seed=3) as box:
        ...     asyncio.run(main(box)).startswith("req.")
        True
        """
        body = payloads.create_group(
            subject, description=description, join_approval_mode=join_approval_mode
        )
        response, _ = await self._call(self._core.create_group_call(body))
        return str(response.get("request_id", ""))
