"""``AsyncGroupClient``: the same operations as ``GroupClient``, for ``asyncio``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import httpx

from groupkit.client import models
from groupkit.client._core import Flow, Run
from groupkit.client._operations import Shell

_T = TypeVar("_T")

__all__ = ["AsyncGroupClient"]


class AsyncGroupClient(Shell[httpx.AsyncBaseTransport, Callable[[float], Awaitable[None]]]):
    """Send to, pin in and list WhatsApp groups with ``await``.

    Takes the same arguments as :class:`groupkit.GroupClient`, except that
    ``transport`` is an ``httpx.AsyncBaseTransport`` and ``sleep`` a coroutine function.
    Every method is its ``GroupClient`` namesake (one definition in
    :mod:`groupkit.client._operations`: same signature, docstring, retries and errors),
    awaited.

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

    _http_class = httpx.AsyncClient
    _default_sleep = staticmethod(asyncio.sleep)
    _http: httpx.AsyncClient

    async def __aenter__(self) -> AsyncGroupClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _run(self, flow: Flow[_T]) -> _T:
        """Run a flow (see :mod:`groupkit.client._core`): its requests and sleeps, awaited."""
        run = Run(flow)
        for step in run:
            try:
                run.reply = await self._io(step)
            except httpx.TransportError as exc:
                run.reply = exc
        return run.result

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
            for group in pages.read(await self._run(pages.next_flow())):
                yield group
