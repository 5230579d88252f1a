"""``GroupClient``: send to and pin in WhatsApp groups through 360dialog or Meta, blocking."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import httpx

from groupkit.client import models
from groupkit.client._core import Flow, Run
from groupkit.client._operations import Shell

_T = TypeVar("_T")

__all__ = ["GroupClient"]


class GroupClient(Shell[httpx.BaseTransport, Callable[[float], None]]):
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

    _http_class = httpx.Client
    _default_sleep = staticmethod(time.sleep)
    _http: httpx.Client

    def __enter__(self) -> GroupClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _run(self, flow: Flow[_T]) -> _T:
        """Run a flow (see :mod:`groupkit.client._core`): make its requests, blocking."""
        run = Run(flow)
        for step in run:
            try:
                run.reply = self._io(step)
            except httpx.TransportError as exc:
                run.reply = exc
        return run.result

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
            yield from pages.read(self._run(pages.next_flow()))
