"""Typed shapes of a webhook POST, decoded straight from JSON bytes by msgspec.

msgspec decodes into these structs in one pass, skipping keys groupkit does not
read, which is both faster than building dicts and gives precise error messages
with a JSON path (``... - at `$.entry[0].changes[0].value.statuses[1]```) that
become the reasons in the load report.  Every field is optional unless the
platform always sends it, so unusual but legal payloads still decode; the
``value`` of a change is kept raw and decoded by field, so fields groupkit does
not model never fail the record and can be kept verbatim.
"""

from __future__ import annotations

import msgspec

Raw = msgspec.Raw
# Timestamps and error codes arrive as numbers or numeric strings.
Num = int | float | str | None


class _S(msgspec.Struct, omit_defaults=True, gc=False):
    pass


class ErrorData(_S):
    details: str | None = None


class Error(_S):
    code: Num = None
    title: str | None = None
    message: str | None = None
    error_data: ErrorData | None = None
    href: str | None = None


class Pricing(_S):
    billable: bool | str | None = None
    pricing_model: str | None = None
    type: str | None = None
    category: str | None = None


class Origin(_S):
    type: str | None = None


class Conversation(_S):
    id: str | None = None
    origin: Origin | None = None
    pricing: Pricing | None = None


class Status(_S):
    id: str
    status: str | None = None
    timestamp: Num = None
    recipient_id: str | None = None
    recipient_type: str | None = None
    group_id: str | None = None
    recipient_participant_id: str | None = None
    participant_recipient_id: str | None = None
    recipient_participant_user_id: str | None = None
    recipient_participant_parent_user_id: str | None = None
    biz_opaque_callback_data: str | None = None
    conversation: Conversation | None = None
    pricing: Pricing | None = None
    errors: list[Error] | None = None


class Text(_S):
    body: str | None = None


class Media(_S):
    id: str | None = None
    mime_type: str | None = None
    caption: str | None = None
    filename: str | None = None
    url: str | None = None


class Reaction(_S):
    message_id: str | None = None
    emoji: str | None = None


class Context(_S, rename={"from_": "from"}):
    id: str | None = None
    from_: str | None = None
    forwarded: bool | None = None
    frequently_forwarded: bool | None = None


class Button(_S):
    text: str | None = None
    payload: str | None = None


class Reply(_S):
    id: str | None = None
    title: str | None = None


class Interactive(_S):
    type: str | None = None
    button_reply: Reply | None = None
    list_reply: Reply | None = None


class System(_S):
    body: str | None = None


class Unsupported(_S):
    type: str | None = None


class Message(_S, rename={"from_": "from"}):
    id: str
    from_: str | None = None
    from_user_id: str | None = None
    group_id: str | None = None
    timestamp: Num = None
    type: str | None = None
    text: Text | None = None
    image: Media | None = None
    video: Media | None = None
    audio: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    reaction: Reaction | None = None
    context: Context | None = None
    button: Button | None = None
    system: System | None = None
    unsupported: Unsupported | None = None
    # Kept verbatim: their content is the message's payload column, read as needed.
    interactive: Raw = Raw(b"")
    location: Raw = Raw(b"")
    contacts: Raw = Raw(b"")
    order: Raw = Raw(b"")
    edit: Raw = Raw(b"")
    revoke: Raw = Raw(b"")
    errors: list[Error] | None = None


class Profile(_S):
    name: str | None = None


class Contact(_S):
    wa_id: str | None = None
    user_id: str | None = None
    profile: Profile | None = None


class Metadata(_S):
    phone_number_id: str | None = None


class Participant(_S):
    # Meta's OpenAPI examples give these as bare numbers; the wire has strings.
    wa_id: str | int | None = None
    input: str | int | None = None
    user_id: str | None = None
    errors: list[Error] | None = None


class Setting(_S):
    text: str | None = None
    update_successful: bool | None = None
    errors: list[Error] | None = None


class GroupItem(_S):
    timestamp: Num = None
    group_id: str | None = None
    type: str | None = None
    request_id: str | None = None
    join_request_id: str | None = None
    initiated_by: str | None = None
    reason: str | None = None
    subject: str | None = None
    description: str | None = None
    invite_link: str | None = None
    join_approval_mode: str | None = None
    wa_id: str | None = None
    user_id: str | None = None
    added_participants: list[Participant] | None = None
    removed_participants: list[Participant] | None = None
    failed_participants: list[Participant] | None = None
    group_subject: Setting | None = None
    group_description: Setting | None = None
    profile_picture: Setting | None = None
    errors: list[Error] | None = None


class Value(_S):
    """The ``value`` of a change for the fields groupkit models (messages and group fields)."""

    metadata: Metadata | None = None
    contacts: list[Contact] | None = None
    messages: list[Message] | None = None
    statuses: list[Status] | None = None
    groups: list[GroupItem] | None = None
    errors: list[Error] | None = None


class Change(_S):
    field: str | None = None
    value: Raw = Raw(b"")


class Entry(_S):
    id: str | None = None
    changes: list[Change] | None = None


class Record(_S):
    """A webhook POST, or an archive envelope around one (``body``/``payload``)."""

    kind: str | None = None
    entry: list[Entry] | None = None
    body: Raw = Raw(b"")
    payload: Raw = Raw(b"")
    received_at: Num = None


class FastChange(_S):
    field: str | None = None
    value: Value | None = None


class FastEntry(_S):
    id: str | None = None
    changes: list[FastChange] | None = None


class FastHook(_S):
    entry: list[FastEntry] | None = None


class FastRecord(_S):
    """One-pass decoding of the common case; anything unusual takes :class:`Record`."""

    entry: list[FastEntry] | None = None
    body: FastHook | str | None = None
    payload: FastHook | str | None = None
    received_at: Num = None


class Send(_S):
    """A line of groupkit's own send log (``"kind": "groupkit.send"``)."""

    message_id: str | None = None
    group_id: str | None = None
    type: str | None = None
    operation: str | None = None
    requested_at: int | float | None = None
    accepted_at: int | float | None = None
    ok: bool | None = None
    attempts: int | None = None
    http_status: int | None = None
    error_code: Num = None
    error_title: str | None = None
    provider: str | None = None
    pinned_message_id: str | None = None
    expiration_days: int | None = None


SEND_KIND = "groupkit.send"

# The field order of Status, as msgspec.structs.astuple returns it.
STATUS_FIELDS = Status.__struct_fields__

RECORD = msgspec.json.Decoder(Record)
FAST_RECORD = msgspec.json.Decoder(FastRecord)
VALUE = msgspec.json.Decoder(Value)
SEND = msgspec.json.Decoder(Send)
INTERACTIVE = msgspec.json.Decoder(Interactive)
ENCODE = msgspec.json.Encoder().encode
RAW_LIST = msgspec.json.Decoder(list[Raw])
RAW_DICT = msgspec.json.Decoder(dict[str, Raw])
STRING = msgspec.json.Decoder(str)
