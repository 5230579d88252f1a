"""Request bodies for the Groups API, built and checked in one place.

The client, the sandbox and the widgets all go through these builders, so a body the
client sends is exactly a body the sandbox checks. Every builder validates its input
and raises :class:`PayloadError` (before any network call) with the offending field
and what to do; :func:`check_message` applies the same rules to a body that arrived
as JSON, which is how the sandbox answers like the real API.

Pure Python: no pandas, no httpx.

Examples
--------
>>> from groupkit import payloads
>>> body = payloads.text_message("Y2FwaV9ncm91cDoxMjM0NTY3ODk=", "Hello group")
>>> body["recipient_type"], body["type"], body["text"]
('group', 'text', {'body': 'Hello group', 'preview_url': False})
>>> payloads.pin_message("Y2FwaV9ncm91cDoxMjM0NTY3ODk=", "wamid.A1", days=7)["pin"]
{'type': 'pin', 'message_id': 'wamid.A1', 'expiration_days': 7}
>>> try:
...     payloads.pin_message("Y2FwaV9ncm91cDoxMjM0NTY3ODk=", "wamid.A1", days=31)
... except payloads.PayloadError as err:
...     print(err)
pin.expiration_days: must be a whole number of days from 1 to 30, got 31
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from groupkit.exceptions import PayloadError

__all__ = [
    "GROUP_MESSAGE_TYPES",
    "MAX_CAPTION_LENGTH",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_PINS",
    "MAX_SUBJECT_LENGTH",
    "MAX_TEXT_LENGTH",
    "MEDIA_KINDS",
    "NOT_IN_GROUPS",
    "PayloadError",
    "check_group_id",
    "check_message",
    "create_group",
    "list_groups_params",
    "media_message",
    "pin_message",
    "template_message",
    "text_message",
    "unpin_message",
]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_SUBJECT_LENGTH = 128
MAX_DESCRIPTION_LENGTH = 2048
MAX_PINS = 3
PIN_DAYS = range(1, 31)
LIST_LIMITS = range(1, 1025)

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
GROUP_MESSAGE_TYPES = frozenset({"text", "template", "pin", *MEDIA_KINDS})
# Reference 3.2 (Meta, "Non-supported message types"): what groups refuse, and why.
NOT_IN_GROUPS: dict[str, str] = {
    "interactive": "interactive messages (buttons, lists, flows) are not supported in groups",
    "location": "groups take only text, media and text- or media-based templates",
    "contacts": "groups take only text, media and text- or media-based templates",
    "reaction": "groups take only text, media and text- or media-based templates",
    "order": "commerce messages are not supported in groups",
    "product": "commerce messages are not supported in groups",
    "product_list": "commerce messages are not supported in groups",
    "catalog_message": "commerce messages are not supported in groups",
    "voice_call": "calling is not supported in groups",
    "call_permission_request": "calling is not supported in groups",
}
_CAPTIONED = frozenset({"image", "video", "document"})
_JOIN_APPROVAL_MODES = frozenset({"approval_required", "auto_approve"})
# Group IDs are opaque base64-like strings (e.g. "Y2FwaV9ncm91cDox...ZD"); be permissive
# about the alphabet but refuse what is clearly something else.
_GROUP_ID = re.compile(r"[A-Za-z0-9_\-=+/.]{8,512}")
_PHONE_LIKE = re.compile(r"\+?[0-9 ()\-]{6,20}")


def check_group_id(group_id: object, field: str = "to") -> str:
    """Return ``group_id`` if it looks like a group ID, else raise :class:`PayloadError`.

    Parameters
    ----------
    group_id
        The group ID from the Groups API (an opaque base64-like string).
    field
        The body field named in the error message.

    Returns
    -------
    str
        The same group ID.

    Examples
    --------
    >>> check_group_id("Y2FwaV9ncm91cDoxMjM0NTY3ODk=")
    'Y2FwaV9ncm91cDoxMjM0NTY3ODk='
    >>> try:
    ...     check_group_id("+1 650 555 1234")
    ... except PayloadError as err:
    ...     print(err.field, "|", err.reason[:48])
    to | '+1 650 555 1234' looks like a phone number, not
    """
    if not isinstance(group_id, str) or not group_id:
        raise PayloadError(field, f"a group ID must be a non-empty string, got {group_id!r}")
    if _PHONE_LIKE.fullmatch(group_id):
        raise PayloadError(
            field,
            f"{group_id!r} looks like a phone number, not a group ID; use the ID from "
            "list_groups() or the group_create webhook",
        )
    if not _GROUP_ID.fullmatch(group_id):
        shown = group_id if len(group_id) <= 40 else group_id[:37] + "..."
        raise PayloadError(
            field,
            f"{shown!r} is not a group ID (expected 8-512 characters of letters, digits "
            "and _-=+/.; no spaces)",
        )
    return group_id


def _envelope(group_id: str, message_type: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "group",
        "to": check_group_id(group_id),
        "type": message_type,
    }


def _check_text(value: object, field: str, limit: int) -> str:
    if value is None:
        raise PayloadError(field, "is required", code=131008)
    if not isinstance(value, str):
        raise PayloadError(field, f"must be a string, got {type(value).__name__}", code=131009)
    if not value.strip():
        raise PayloadError(field, "must not be empty", code=131008)
    if len(value) > limit:
        raise PayloadError(field, f"is {len(value)} characters; the limit is {limit}", code=131009)
    return value


def _whole_number_in(value: object, allowed: range) -> bool:
    # bool is a subclass of int, but True is not a number of days or groups.
    return isinstance(value, int) and not isinstance(value, bool) and value in allowed


def text_message(group_id: str, body: str, *, preview_url: bool = False) -> dict[str, Any]:
    """Build the body that sends a text message to a group.

    Parameters
    ----------
    group_id
        The group to send to.
    body
        The text, 1 to 4096 characters and not only whitespace.
    preview_url
        Ask WhatsApp to render a preview of the first URL in ``body``.

    Returns
    -------
    dict
        The JSON body for ``POST /messages``.

    Examples
    --------
    >>> text_message("Y2FwaV9ncm91cDoxMjM0NTY3ODk=", "hi", preview_url=True)["text"]
    {'body': 'hi', 'preview_url': True}
    """
    payload = _envelope(group_id, "text")
    payload["text"] = _text_object({"body": body, "preview_url": preview_url})
    return payload


def _text_object(text: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "body": _check_text(text.get("body"), "text.body", MAX_TEXT_LENGTH),
        "preview_url": bool(text.get("preview_url", False)),
    }


def media_message(
    group_id: str,
    kind: str,
    *,
    media_id: str | None = None,
    link: str | None = None,
    caption: str | None = None,
    filename: str | None = None,
) -> dict[str, Any]:
    """Build the body that sends an image, video, audio, document or sticker to a group.

    Parameters
    ----------
    group_id
        The group to send to.
    kind
        One of ``"image"``, ``"video"``, ``"audio"``, ``"document"``, ``"sticker"``.
    media_id, link
        Exactly one: the ID of uploaded media, or a public ``http(s)`` URL.
    caption
        Up to 1024 characters; image, video and document only.
    filename
        The file name shown to participants; documents only.

    Returns
    -------
    dict
        The JSON body for ``POST /messages``.

    Examples
    --------
    >>> group = "Y2FwaV9ncm91cDoxMjM0NTY3ODk="
    >>> body = media_message(group, "image", media_id="1234", caption="Menu")
    >>> body["image"]
    {'id': '1234', 'caption': 'Menu'}
    """
    if kind not in MEDIA_KINDS:
        raise PayloadError(
            "type", f"media kind must be one of {', '.join(MEDIA_KINDS)}; got {kind!r}"
        )
    payload = _envelope(group_id, kind)
    payload[kind] = _media_object(
        kind, {"id": media_id, "link": link, "caption": caption, "filename": filename}
    )
    return payload


def _media_object(kind: str, given: Mapping[str, Any]) -> dict[str, Any]:
    media_id, link = given.get("id"), given.get("link")
    if (media_id is None) == (link is None):
        raise PayloadError(
            kind,
            "give exactly one of media_id (uploaded media) or link (public URL), "
            + ("not both" if media_id is not None else "got neither"),
            code=131008 if media_id is None else 100,
        )
    media: dict[str, Any] = {}
    if media_id is not None:
        if not isinstance(media_id, str) or not media_id.strip():
            raise PayloadError(f"{kind}.id", "media ID must be a non-empty string", code=131009)
        media["id"] = media_id
    else:
        if not isinstance(link, str) or not re.match(r"https?://\S+$", link):
            raise PayloadError(f"{kind}.link", "must be an http(s) URL", code=131009)
        media["link"] = link
    caption, filename = given.get("caption"), given.get("filename")
    if caption is not None:
        if kind not in _CAPTIONED:
            raise PayloadError(f"{kind}.caption", f"{kind} messages cannot carry a caption")
        media["caption"] = _check_text(caption, f"{kind}.caption", MAX_CAPTION_LENGTH)
    if filename is not None:
        if kind != "document":
            raise PayloadError(f"{kind}.filename", "only documents have a filename")
        media["filename"] = _check_text(filename, "document.filename", 240)
    unknown = set(given) - {"id", "link", "caption", "filename"}
    if unknown:
        raise PayloadError(f"{kind}.{sorted(unknown)[0]}", "unknown media field")
    return media


def template_message(
    group_id: str,
    name: str,
    language: str,
    components: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Build the body that sends an approved template to a group.

    Groups take text- and media-based templates; authentication templates are refused
    by the platform (the builder cannot know a template's category from its name).

    Parameters
    ----------
    group_id
        The group to send to.
    name
        The template's name.
    language
        The template's language code, e.g. ``"en_US"``.
    components
        Template components with parameters, as in the Cloud API.

    Returns
    -------
    dict
        The JSON body for ``POST /messages``.

    Examples
    --------
    >>> template_message("Y2FwaV9ncm91cDoxMjM0NTY3ODk=", "weekly_update", "en_US")["template"]
    {'name': 'weekly_update', 'language': {'code': 'en_US'}}
    """
    payload = _envelope(group_id, "template")
    payload["template"] = _template_object(
        {"name": name, "language": {"code": language}}
        | ({"components": components} if components is not None else {})
    )
    return payload


def _template_object(template: Mapping[str, Any]) -> dict[str, Any]:
    name = template.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,512}", name):
        raise PayloadError(
            "template.name",
            f"must be a template name of lower-case letters, digits and _, got {name!r}",
            code=131009 if name else 131008,
        )
    language = template.get("language")
    code = language.get("code") if isinstance(language, Mapping) else None
    if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?", code):
        raise PayloadError(
            "template.language.code",
            f"must be a language code such as 'en' or 'en_US', got {code!r}",
            code=131009 if code else 131008,
        )
    result: dict[str, Any] = {"name": name, "language": {"code": code}}
    components = template.get("components")
    if components is not None:
        if isinstance(components, (str, bytes)) or not isinstance(components, Sequence):
            raise PayloadError("template.components", "must be a list of component objects")
        for index, component in enumerate(components):
            if not isinstance(component, Mapping) or not isinstance(component.get("type"), str):
                raise PayloadError(
                    f"template.components[{index}]", "must be an object with a 'type'"
                )
        result["components"] = [dict(component) for component in components]
    return result


def pin_message(group_id: str, message_id: str, *, days: int) -> dict[str, Any]:
    """Build the body that pins a message in a group.

    Only a group admin can pin; at most 3 messages stay pinned (pinning a fourth
    unpins the oldest).

    Parameters
    ----------
    group_id
        The group the message is in.
    message_id
        The wamid of the message to pin.
    days
        How long the pin lasts: a whole number of days from 1 to 30.

    Returns
    -------
    dict
        The JSON body for ``POST /messages``.

    Examples
    --------
    >>> pin_message("Y2FwaV9ncm91cDoxMjM0NTY3ODk=", "wamid.A1", days=30)["type"]
    'pin'
    """
    payload = _envelope(group_id, "pin")
    payload["pin"] = _pin_object({"type": "pin", "message_id": message_id, "expiration_days": days})
    return payload


def unpin_message(group_id: str, message_id: str) -> dict[str, Any]:
    """Build the body that unpins a message in a group.

    Parameters
    ----------
    group_id
        The group the message is in.
    message_id
        The wamid of the pinned message.

    Returns
    -------
    dict
        The JSON body for ``POST /messages``.

    Examples
    --------
    >>> unpin_message("Y2FwaV9ncm91cDoxMjM0NTY3ODk=", "wamid.A1")["pin"]
    {'type': 'unpin', 'message_id': 'wamid.A1'}
    """
    payload = _envelope(group_id, "pin")
    payload["pin"] = _pin_object({"type": "unpin", "message_id": message_id})
    return payload


def _pin_object(pin: Mapping[str, Any]) -> dict[str, Any]:
    operation = pin.get("type")
    if operation not in ("pin", "unpin"):
        raise PayloadError("pin.type", f"must be 'pin' or 'unpin', got {operation!r}", code=131009)
    message_id = pin.get("message_id")
    if not isinstance(message_id, str) or not message_id.strip():
        raise PayloadError(
            "pin.message_id", "the wamid of the message to (un)pin is required", code=131008
        )
    result: dict[str, Any] = {"type": operation, "message_id": message_id}
    days = pin.get("expiration_days")
    if operation == "pin":
        if days is None:
            raise PayloadError(
                "pin.expiration_days", "is required to pin: 1 to 30 days", code=131008
            )
        # The API documents an Integer; Meta's own sample quotes it, so accept "7" too.
        if isinstance(days, str) and days.strip().isdigit():
            days = int(days)
        if not _whole_number_in(days, PIN_DAYS):
            raise PayloadError(
                "pin.expiration_days",
                f"must be a whole number of days from 1 to 30, got {days!r}",
                code=131009,
            )
        result["expiration_days"] = days
    elif days is not None:
        raise PayloadError("pin.expiration_days", "only applies to pin, not unpin")
    return result


def create_group(
    subject: str, *, description: str | None = None, join_approval_mode: str | None = None
) -> dict[str, Any]:
    """Build the body that creates a group.

    Parameters
    ----------
    subject
        The group's name, 1 to 128 characters after trimming whitespace.
    description
        Up to 2048 characters.
    join_approval_mode
        ``"auto_approve"`` (the platform default) or ``"approval_required"``.

    Returns
    -------
    dict
        The JSON body for ``POST /groups``.

    Examples
    --------
    >>> create_group("  Book club ")
    {'messaging_product': 'whatsapp', 'subject': 'Book club'}
    """
    if not isinstance(subject, str):
        raise PayloadError("subject", "must be a string", code=131009)
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "subject": _check_text(subject.strip(), "subject", MAX_SUBJECT_LENGTH),
    }
    if description is not None:
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_LENGTH:
            raise PayloadError(
                "description", f"must be a string of at most {MAX_DESCRIPTION_LENGTH} characters"
            )
        body["description"] = description
    if join_approval_mode is not None:
        if join_approval_mode not in _JOIN_APPROVAL_MODES:
            raise PayloadError(
                "join_approval_mode",
                f"must be 'auto_approve' or 'approval_required', got {join_approval_mode!r}",
            )
        body["join_approval_mode"] = join_approval_mode
    return body


def list_groups_params(
    *, limit: int | None = None, after: str | None = None, before: str | None = None
) -> dict[str, str]:
    """Build the query parameters that list active groups.

    Parameters
    ----------
    limit
        Groups per page, 1 to 1024 (the API defaults to 25).
    after, before
        Paging cursors from a previous page (at most one).

    Returns
    -------
    dict
        Query parameters for ``GET /groups``.

    Examples
    --------
    >>> list_groups_params(limit=100, after="QVFIUm")
    {'limit': '100', 'after': 'QVFIUm'}
    """
    params: dict[str, str] = {}
    if limit is not None:
        if not _whole_number_in(limit, LIST_LIMITS):
            raise PayloadError("limit", f"must be from 1 to 1024, got {limit!r}")
        params["limit"] = str(limit)
    if after is not None and before is not None:
        raise PayloadError("after", "give at most one of after and before")
    for name, cursor in (("after", after), ("before", before)):
        if cursor is not None:
            if not isinstance(cursor, str) or not cursor:
                raise PayloadError(name, "a cursor must be a non-empty string", code=131059)
            params[name] = cursor
    return params


def check_message(body: object) -> dict[str, Any]:
    """Check a ``POST /messages`` body for a group as the API would, and normalise it.

    The sandbox runs every incoming body through this; the builders above produce
    bodies that pass it unchanged.

    Parameters
    ----------
    body
        The decoded JSON body.

    Returns
    -------
    dict
        The body rebuilt from its checked parts (unknown top-level keys dropped).

    Raises
    ------
    PayloadError
        With the Cloud API code the real API would likely use (``131051`` for a type
        groups do not allow).

    Examples
    --------
    >>> body = text_message("Y2FwaV9ncm91cDoxMjM0NTY3ODk=", "hi")
    >>> check_message(body) == body
    True
    >>> try:
    ...     check_message(body | {"type": "interactive"})
    ... except PayloadError as err:
    ...     print(err.field, err.code)
    type 131051
    """
    if not isinstance(body, Mapping):
        raise PayloadError("body", "must be a JSON object")
    if body.get("messaging_product") != "whatsapp":
        raise PayloadError("messaging_product", "must be 'whatsapp'", code=131008)
    if body.get("recipient_type") != "group":
        raise PayloadError(
            "recipient_type", "must be 'group' when sending to a group ID", code=131009
        )
    message_type = body.get("type", "text")
    if message_type in NOT_IN_GROUPS:
        raise PayloadError(
            "type",
            f"{message_type!r} cannot be sent to a group: {NOT_IN_GROUPS[message_type]}",
            code=131051,
        )
    if message_type not in GROUP_MESSAGE_TYPES:
        raise PayloadError(
            "type",
            f"unknown message type {message_type!r}; groups take "
            + ", ".join(sorted(GROUP_MESSAGE_TYPES)),
            code=131051,
        )
    result = _envelope(body.get("to"), message_type)  # type: ignore[arg-type]
    content = body.get(message_type)
    if not isinstance(content, Mapping):
        raise PayloadError(
            message_type, f"a {message_type} message needs a {message_type!r} object", code=131008
        )
    if message_type == "text":
        result["text"] = _text_object(content)
    elif message_type == "template":
        result["template"] = _template_object(content)
    elif message_type == "pin":
        result["pin"] = _pin_object(content)
    else:
        result[message_type] = _media_object(message_type, content)
    return result
