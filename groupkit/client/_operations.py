"""What both clients are, written once: the constructor and every public operation.

:class:`Shell` is both clients' constructor, ``from_env`` and properties.
Each method of :class:`Operations` builds the request body (with
:mod:`groupkit.payloads`) and returns a :data:`~groupkit.client._core.Flow` that the
core drives through retries, errors and the send log. :class:`Shell`
declares each one (an ``_Operation``), which becomes on ``GroupClient`` a blocking
method and on ``AsyncGroupClient`` a coroutine method of the same name, signature and
docstring, handing the flow to the client's ``_run``: one signature, one docstring and
one body serve both clients.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, Self, TypeVar, overload

import httpx

from groupkit import payloads
from groupkit.client import models
from groupkit.client._core import (
    DEFAULT_API_VERSION,
    GROUP_INFO_FIELDS,
    Call,
    Core,
    Flow,
    RetryPolicy,
    env_credentials,
)
from groupkit.client.sendlog import SendLog

__all__ = ["Operations", "Shell"]

_P = ParamSpec("_P")
_T = TypeVar("_T")
_TransportT = TypeVar("_TransportT")
_SleepT = TypeVar("_SleepT", bound=Callable[[float], Any])


class _Blocking(Protocol):
    def _run(self, flow: Flow[_T]) -> _T: ...


class _Awaiting(Protocol):
    def _run(self, flow: Flow[_T]) -> Coroutine[Any, Any, _T]: ...


class _Operation(Generic[_P, _T]):
    """A public method of both clients, written once as a flow of :class:`Operations`.

    On a client whose ``_run`` blocks (``GroupClient``) it is a method returning the
    flow's result; on one whose ``_run`` is a coroutine (``AsyncGroupClient``) a
    coroutine method. Either has the operation's signature and docstring, with the
    result (not the flow) as its return annotation.
    """

    def __init__(self, flow: Callable[Concatenate[Operations, _P], Flow[_T]]) -> None:
        self._flow = flow
        self._methods: dict[type, Callable[..., Any]] = {}

    @overload
    def __get__(self, instance: None, owner: type) -> Callable[..., Any]: ...
    @overload
    def __get__(
        self, instance: _Awaiting, owner: type | None = None
    ) -> Callable[_P, Coroutine[Any, Any, _T]]: ...
    @overload
    def __get__(self, instance: _Blocking, owner: type | None = None) -> Callable[_P, _T]: ...

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        owner = owner if owner is not None else type(instance)
        method = self._methods.get(owner) or self._methods.setdefault(owner, self._make(owner))
        return method if instance is None else method.__get__(instance, owner)

    def _make(self, owner: type) -> Callable[..., Any]:
        flow = self._flow
        if inspect.iscoroutinefunction(owner._run):

            async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
                return await self._run(flow(self._operations, *args, **kwargs))
        else:

            def method(self: Any, *args: Any, **kwargs: Any) -> Any:
                return self._run(flow(self._operations, *args, **kwargs))

        functools.update_wrapper(method, flow)
        method.__qualname__ = f"{owner.__qualname__}.{flow.__name__}"
        returns = str(flow.__annotations__["return"]).removeprefix("Flow[").removesuffix("]")
        method.__annotations__ = {**flow.__annotations__, "return": returns}
        method.__signature__ = inspect.signature(flow).replace(  # type: ignore[attr-defined]
            return_annotation=returns
        )
        return method


class Operations:
    """The operations of both clients; see :class:`groupkit.GroupClient` for their use.

    The examples show ``GroupClient``; with ``AsyncGroupClient`` each call is awaited.
    """

    def __init__(self, core: Core) -> None:
        self._core = core

    def send_text(
        self, group_id: str, body: str, *, preview_url: bool = False
    ) -> Flow[models.SentMessage]:
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
        >>> from groupkit import GroupClient
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     c.send_text(box.group_ids[0], "Meeting at 6").type
        'text'
        """
        return (
            yield from self._core.send_flow(
                "send_text", payloads.text_message(group_id, body, preview_url=preview_url)
            )
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
    ) -> Flow[models.SentMessage]:
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
        >>> from groupkit import GroupClient
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     c.send_media(box.group_ids[0], "image", link="https://example.com/a.jpg").type
        'image'
        """
        body = payloads.media_message(
            group_id, kind, media_id=media_id, link=link, caption=caption, filename=filename
        )
        return (yield from self._core.send_flow("send_media", body))

    def send_template(
        self,
        group_id: str,
        name: str,
        language: str,
        components: Sequence[Mapping[str, Any]] | None = None,
    ) -> Flow[models.SentMessage]:
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
        >>> from groupkit import GroupClient
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     c.send_template(box.group_ids[0], "weekly_digest", "en_US").type
        'template'
        """
        return (
            yield from self._core.send_flow(
                "send_template", payloads.template_message(group_id, name, language, components)
            )
        )

    def pin(self, group_id: str, message_id: str, *, days: int) -> Flow[models.SentMessage]:
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
        >>> from groupkit import GroupClient
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     sent = c.send_text(box.group_ids[0], "Rules: be kind")
        ...     c.pin(box.group_ids[0], sent.message_id, days=7).payload["pin"]["expiration_days"]
        7
        """
        return (
            yield from self._core.send_flow(
                "pin", payloads.pin_message(group_id, message_id, days=days)
            )
        )

    def unpin(self, group_id: str, message_id: str) -> Flow[models.SentMessage]:
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
        >>> from groupkit import GroupClient
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     sent = c.send_text(box.group_ids[0], "Rules: be kind")
        ...     _ = c.pin(box.group_ids[0], sent.message_id, days=1)
        ...     c.unpin(box.group_ids[0], sent.message_id).payload["pin"]["type"]
        'unpin'
        """
        return (
            yield from self._core.send_flow("unpin", payloads.unpin_message(group_id, message_id))
        )

    def list_groups(
        self, *, page_size: int | None = None, max_groups: int | None = None
    ) -> Flow[list[models.GroupSummary]]:
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
        >>> from groupkit import GroupClient
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2, groups=3) as box:
        ...     with GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...         [g.id for g in c.list_groups()] == box.group_ids
        True
        """
        pages = self._core.group_pages(page_size)
        groups: list[models.GroupSummary] = []
        while not pages.done and (max_groups is None or len(groups) < max_groups):
            groups.extend(pages.read((yield from pages.next_flow())))
        return groups[:max_groups]

    def group_info(
        self, group_id: str, *, fields: Sequence[str] = GROUP_INFO_FIELDS
    ) -> Flow[models.GroupInfo]:
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
        >>> from groupkit import GroupClient
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     info = c.group_info(box.group_ids[0])
        >>> info.total_participant_count == len(info.participants)
        True
        """
        call = self._core.group_info_call(group_id, tuple(fields))
        return models.group_info((yield from self._core.body_flow(call)))

    def create_group(
        self,
        subject: str,
        *,
        description: str | None = None,
        join_approval_mode: str | None = None,
    ) -> Flow[str]:
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
        >>> from groupkit import GroupClient
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=2) as box, GroupClient(api_key=box.api_key, base_url=box.url) as c:
        ...     c.create_group("Runners").startswith("req.")
        True
        """
        body = payloads.create_group(
            subject, description=description, join_approval_mode=join_approval_mode
        )
        response = yield from self._core.body_flow(self._core.create_group_call(body))
        return str(response.get("request_id", ""))


class Shell(Generic[_TransportT, _SleepT]):
    """The constructor, ``from_env`` and properties both clients share.

    Subclasses set ``_http_class`` (``httpx.Client`` or ``httpx.AsyncClient``) and
    ``_default_sleep``, and add a ``_run`` that drives a :data:`Flow` with :meth:`_io`
    (blocking, or as a coroutine).
    """

    _http_class: Callable[..., Any]
    _default_sleep: Callable[[float], Any]

    # The public operations, blocking or awaited as the subclass's ``_run`` is.
    send_text = _Operation(Operations.send_text)
    send_media = _Operation(Operations.send_media)
    send_template = _Operation(Operations.send_template)
    pin = _Operation(Operations.pin)
    unpin = _Operation(Operations.unpin)
    list_groups = _Operation(Operations.list_groups)
    group_info = _Operation(Operations.group_info)
    create_group = _Operation(Operations.create_group)

    def __init__(
        self,
        api_key: str | None = None,
        *,
        access_token: str | None = None,
        phone_number_id: str | None = None,
        base_url: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        transport: _TransportT | None = None,
        timeout: float | httpx.Timeout = 15.0,
        retry: RetryPolicy | None = None,
        send_log: str | os.PathLike[str] | SendLog | None = None,
        sleep: _SleepT | None = None,
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
        self._operations = Operations(self._core)
        self._sleep = sleep if sleep is not None else type(self)._default_sleep
        self._http = self._http_class(
            transport=transport, timeout=timeout, **self._core.client_options()
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> Self:
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
        GroupClient or AsyncGroupClient
            A client of the class it is called on.

        Examples
        --------
        >>> from groupkit.client import AsyncGroupClient, GroupClient
        >>> client = GroupClient.from_env({"D360_API_KEY": "k"}, base_url="http://127.0.0.1:9")
        >>> client.provider
        '360dialog'
        >>> client.close()
        >>> env = {"WHATSAPP_ACCESS_TOKEN": "t", "WHATSAPP_PHONE_NUMBER_ID": "106"}
        >>> AsyncGroupClient.from_env(env).provider
        'meta'
        """
        return cls(**env_credentials(os.environ if environ is None else environ), **options)

    def _io(self, step: Call | float) -> Any:
        """Make a flow's request, or sleep (an awaitable on the async client)."""
        return self._http.request(**step.request) if isinstance(step, Call) else self._sleep(step)

    @property
    def provider(self) -> str:
        """``"360dialog"`` or ``"meta"``."""
        return self._core.provider

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._core.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._core!r})"
