"""Build webhook POST bodies as Meta sends them: the one place that knows their shape.

The simulator, the sandbox, the benchmarks and the tests all build webhooks through
these functions, so a change to the envelope (reference section 1) is made once. They are
plain dicts of plain values (no pandas, no I/O), cheap enough for the benchmarks'
million-line archives; key order follows what Meta sends, so JSON written from them
reads like the reference's examples.

A POST is an :func:`envelope` around one change; its ``value`` holds ``statuses``
(:func:`status`), ``contacts`` and ``messages`` (:func:`contact`,
:func:`inbound_message`) or ``groups`` (:func:`group_event`).

Examples
--------
>>> from groupkit import webhooks
>>> sent = webhooks.status("wamid.A", "sent", 1750000000, group_id="G1")
>>> hook = webhooks.envelope("messages", {"statuses": [sent]})
>>> change = hook["entry"][0]["changes"][0]
>>> change["field"], change["value"]["metadata"]["phone_number_id"]
('messages', '106540352242922')
>>> change["value"]["statuses"][0]["recipient_type"]
'group'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "DISPLAY_PHONE_NUMBER",
    "PHONE_NUMBER_ID",
    "WABA_ID",
    "contact",
    "envelope",
    "group_event",
    "inbound_message",
    "metadata",
    "status",
]

# The business the simulator, the sandbox and the fixtures pretend to be.
WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "15550783881"


def _timestamp(value: Any) -> Any:
    # Meta writes unix seconds as a string; anything else passes through untouched, so a
    # test can build the malformed values the loader must survive.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def metadata(
    phone_number_id: str = PHONE_NUMBER_ID, display_phone_number: str = DISPLAY_PHONE_NUMBER
) -> dict[str, str]:
    """The ``value.metadata`` of a change: which business number the webhook is about.

    Examples
    --------
    >>> metadata("P1")
    {'display_phone_number': '15550783881', 'phone_number_id': 'P1'}
    """
    return {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id}


def envelope(
    field: str,
    value: Mapping[str, Any],
    *,
    waba_id: str = WABA_ID,
    meta: Mapping[str, Any] | None = None,
    messaging_product: str | None = "whatsapp",
    with_metadata: bool = True,
    time: int | None = None,
) -> dict[str, Any]:
    """One webhook POST body with one entry and one change.

    Parameters
    ----------
    field
        The change's ``field``: ``"messages"``, ``"group_lifecycle_update"``,
        ``"group_participants_update"``, ...
    value
        The change's payload (``statuses``, ``messages``, ``groups``, ...); it follows
        ``messaging_product`` and ``metadata`` in the ``value``.
    waba_id
        The entry's ``id`` (the WhatsApp Business Account).
    meta
        The ``metadata`` (default: :func:`metadata` of the default number).
    messaging_product
        ``value.messaging_product``; ``None`` leaves it out (for minimal fixtures).
    with_metadata
        ``False`` leaves ``metadata`` out (for minimal fixtures).
    time
        The entry's ``time`` (unix seconds), which some POSTs carry; ``None`` leaves it out.

    Returns
    -------
    dict
        ``{"object": "whatsapp_business_account", "entry": [{"id", "changes": [{"value",
        "field"}]}]}``.

    Examples
    --------
    >>> hook = envelope("group_lifecycle_update", {"groups": []}, waba_id="W", time=5)
    >>> hook["object"], hook["entry"][0]["id"], hook["entry"][0]["time"]
    ('whatsapp_business_account', 'W', 5)
    >>> envelope("messages", {"statuses": []}, messaging_product=None, with_metadata=False)
    {'object': 'whatsapp_business_account', 'entry': [{'id': '102290129340398', \
'changes': [{'value': {'statuses': []}, 'field': 'messages'}]}]}
    """
    head: dict[str, Any] = {}
    if messaging_product is not None:
        head["messaging_product"] = messaging_product
    if with_metadata:
        head["metadata"] = dict(meta) if meta is not None else metadata()
    entry: dict[str, Any] = {"id": waba_id}
    if time is not None:
        entry["time"] = time
    entry["changes"] = [{"value": {**head, **value}, "field": field}]
    return {"object": "whatsapp_business_account", "entry": [entry]}


def status(
    message_id: str,
    state: str,
    timestamp: int | str,
    *,
    group_id: str,
    participant: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One status object of a message sent to a group (reference 1.1).

    Parameters
    ----------
    message_id
        The ``wamid`` of the message.
    state
        ``"sent"``, ``"delivered"``, ``"read"``, ``"failed"``, ...
    timestamp
        Unix seconds; an int is written as Meta writes it, a string (other values pass
        through unchanged, for fixtures of malformed webhooks).
    group_id
        The group (``recipient_id``).
    participant
        The participant a ``delivered``/``read`` is about (``recipient_participant_id``);
        ``None`` for the group-level ``sent``/``failed``.
    **extra
        More keys, appended in order (``pricing``, ``errors``, ...).

    Examples
    --------
    >>> status("wamid.A", "read", 1750000005, group_id="G1", participant="16505550101")
    {'id': 'wamid.A', 'status': 'read', 'timestamp': '1750000005', 'recipient_id': 'G1', \
'recipient_type': 'group', 'recipient_participant_id': '16505550101'}
    """
    out: dict[str, Any] = {
        "id": message_id,
        "status": state,
        "timestamp": _timestamp(timestamp),
        "recipient_id": group_id,
        "recipient_type": "group",
    }
    if participant is not None:
        out["recipient_participant_id"] = participant
    out.update(extra)
    return out


def contact(wa_id: str, name: str) -> dict[str, Any]:
    """One ``contacts[]`` item: who sent an inbound message.

    Examples
    --------
    >>> contact("16505550101", "Ana")
    {'profile': {'name': 'Ana'}, 'wa_id': '16505550101'}
    """
    return {"profile": {"name": name}, "wa_id": wa_id}


def inbound_message(
    sender: str,
    group_id: str,
    message_id: str,
    timestamp: int | str,
    kind: str,
    **content: Any,
) -> dict[str, Any]:
    """One ``messages[]`` item: a participant wrote in the group (reference 1.3).

    Parameters
    ----------
    sender
        The participant's phone number (``from``).
    group_id, message_id
        The group and the message's ``wamid``.
    timestamp
        Unix seconds (written as a string).
    kind
        The message ``type`` (``"text"``, ``"image"``, ``"reaction"``, ...).
    **content
        The type's object, e.g. ``text={"body": "Hi"}``; it comes before ``type``, as in
        Meta's examples. Keys added to the result later come after it.

    Examples
    --------
    >>> inbound_message("16505550101", "G1", "wamid.B", 1750000000, "text", text={"body": "Hi"})
    {'from': '16505550101', 'group_id': 'G1', 'id': 'wamid.B', 'timestamp': '1750000000', \
'text': {'body': 'Hi'}, 'type': 'text'}
    """
    return {
        "from": sender,
        "group_id": group_id,
        "id": message_id,
        "timestamp": _timestamp(timestamp),
        **content,
        "type": kind,
    }


def group_event(kind: str, group_id: str, timestamp: int | str, **fields: Any) -> dict[str, Any]:
    """One ``groups[]`` item of a group lifecycle or participants webhook (reference section 2).

    Parameters
    ----------
    kind
        ``"group_create"``, ``"group_participants_add"``, ``"group_participants_remove"``, ...
    group_id
        The group.
    timestamp
        Unix seconds (written as a string).
    **fields
        The event's own keys in order (``reason``, ``added_participants``, ``subject``, ...).

    Examples
    --------
    >>> group_event("group_participants_add", "G1", 1750000000, reason="invite_link",
    ...             added_participants=[{"wa_id": "16505550101"}])["added_participants"]
    [{'wa_id': '16505550101'}]
    """
    return {"timestamp": _timestamp(timestamp), "group_id": group_id, "type": kind, **fields}
