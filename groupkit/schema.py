"""Every frame's columns, dtypes and meaning, in one place.

The loader, the cache, the Dask reader, the analytics and the README all take
their column lists from here.  A frame is described by an ordered mapping of
column name to :class:`Column`.

Dtype conventions
-----------------
* timestamps are tz-aware UTC: ``datetime64[s, UTC]`` for webhook times (Meta
  sends whole seconds) and ``datetime64[ms, UTC]`` for ``received_at``;
* ids and free text are pandas strings (``str``);
* error codes are nullable integers (``Int64``); flags are nullable ``boolean``;
* low-cardinality values (status, type, pricing, origin, ...) are ``category``.

Examples
--------
>>> from groupkit import schema
>>> list(schema.STATUSES)[:3]
['message_id', 'status', 'timestamp']
>>> schema.empty_frame("statuses").dtypes["timestamp"]
datetime64[s, UTC]
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

TS = "datetime64[s, UTC]"
TS_MS = "datetime64[ms, UTC]"
STR = "str"
CAT = "category"
INT = "Int64"
BOOL = "boolean"
FLOAT = "Float64"


@dataclass(frozen=True)
class Column:
    """One column of a frame: its dtype and what it means."""

    dtype: str
    doc: str


def _frame(**cols: tuple[str, str]) -> dict[str, Column]:
    return {name: Column(dtype, doc) for name, (dtype, doc) in cols.items()}


_CONTEXT = {
    "waba_id": (STR, "WhatsApp Business Account id (`entry[].id`)."),
    "phone_number_id": (STR, "Business phone number id (`value.metadata.phone_number_id`)."),
    "received_at": (TS_MS, "When the archive received the POST (from a wrapping envelope)."),
    "source": (STR, "Where the record was read: `file:line`, `file#index` or `<memory>:index`."),
}

STATUSES = _frame(
    message_id=(STR, "The business message (`wamid.`) the status is about."),
    status=(CAT, "`sent`, `delivered`, `read`, `failed`, `played` (or any other value seen)."),
    timestamp=(TS, "When Meta triggered the status (UTC)."),
    group_id=(STR, "The group, when `recipient_type == 'group'` (or a `group_id` key); else null."),
    recipient_id=(STR, "`recipient_id`: the group id for group messages, else the user's number."),
    recipient_type=(CAT, "`group` for group messages; null for 1:1."),
    participant_id=(
        STR,
        "Participant phone number: `recipient_participant_id` or `participant_recipient_id`.",
    ),
    participant_user_id=(STR, "Business-scoped user id: `recipient_participant_user_id`."),
    participant_parent_user_id=(STR, "`recipient_participant_parent_user_id` (parent BSUID)."),
    error_code=(INT, "Code of the first error of a `failed` status."),
    error_title=(STR, "Title of the first error of a `failed` status."),
    pricing_category=(CAT, "`pricing.category` (e.g. `group_marketing`), sibling or nested."),
    pricing_type=(CAT, "`pricing.type` (e.g. `regular`, `free_group_customer_service`)."),
    pricing_model=(CAT, "`pricing.pricing_model` (e.g. `PMP`, `CBP`)."),
    billable=(BOOL, "`pricing.billable`."),
    conversation_id=(STR, "`conversation.id`."),
    conversation_category=(CAT, "`conversation.origin.type`."),
    biz_opaque_callback_data=(STR, "Tracking data the business attached when sending."),
    **_CONTEXT,
)

MESSAGES = _frame(
    message_id=(STR, "Inbound message id (`wamid.`)."),
    group_id=(STR, "The group the message was posted in; null for 1:1 messages."),
    from_id=(STR, "Sender phone number (`from`)."),
    from_user_id=(STR, "Sender business-scoped user id (`from_user_id`)."),
    contact_name=(STR, "Sender profile name from `value.contacts[]` (matched on wa_id/user_id)."),
    type=(CAT, "Message type as sent (`text`, `image`, ..., `unsupported`, or any unknown type)."),
    timestamp=(TS, "When the message was sent (UTC)."),
    text=(STR, "Text body, caption of media, button text, or the system message body."),
    media_id=(STR, "Media id of image, video, audio, document or sticker."),
    mime_type=(STR, "Media MIME type."),
    media_url=(STR, "Media download URL, when Meta included one."),
    filename=(STR, "Document file name."),
    reaction_emoji=(STR, "Reaction emoji (empty or null when a reaction is removed)."),
    reaction_message_id=(STR, "The message a reaction is about."),
    context_message_id=(STR, "The message this one replies to (`context.id`)."),
    context_from=(STR, "Sender of the replied-to message (`context.from`)."),
    forwarded=(BOOL, "`context.forwarded` or `context.frequently_forwarded`."),
    unsupported_type=(STR, "For `unsupported` messages, the original type when Meta names it."),
    payload=(STR, "The type's own object as JSON text (location, interactive reply, order, ...)."),
    error_code=(INT, "Code of the first error on the message (e.g. 130501 for unsupported)."),
    **_CONTEXT,
)

ERRORS = _frame(
    code=(INT, "Error code (int or numeric string on the wire)."),
    title=(STR, "Error title."),
    message=(STR, "Error message."),
    details=(STR, "`error_data.details`."),
    href=(STR, "Link to Meta's error documentation, when given."),
    origin=(CAT, "Where the error sat: `status`, `message`, `webhook` or `group_event`."),
    field=(CAT, "`changes[].field` of the webhook that carried it."),
    message_id=(STR, "Message the error is about (status or message errors)."),
    group_id=(STR, "Group the error is about, when known."),
    participant_id=(STR, "Participant the error is about (failed participant removal)."),
    status=(CAT, "Status value for status errors (`failed`)."),
    timestamp=(TS, "Timestamp of the status, message or group event carrying the error."),
    **_CONTEXT,
)

GROUP_EVENTS = _frame(
    field=(CAT, "One of the four group fields, e.g. `group_participants_update`."),
    type=(CAT, "`group_create`, `group_participants_add`, ... (unknown values kept)."),
    group_id=(STR, "The group."),
    timestamp=(TS, "When the event happened (UTC)."),
    request_id=(STR, "Correlates with the API request that caused it."),
    join_request_id=(STR, "Join request id (join request created/revoked)."),
    initiated_by=(CAT, "`business` or `participant` (participant removal)."),
    reason=(CAT, "`reason`, e.g. `invite_link`."),
    subject=(STR, "Group subject (create) or new subject (settings update)."),
    description=(STR, "Group description (create) or new description (settings update)."),
    invite_link=(STR, "Invite link (group create)."),
    join_approval_mode=(CAT, "`auto_approve` or `approval_required`."),
    participant_id=(STR, "Join requester's `wa_id`."),
    participant_user_id=(STR, "Join requester's business-scoped `user_id`."),
    participants_added=(INT, "Number of `added_participants`."),
    participants_removed=(INT, "Number of `removed_participants`."),
    participants_failed=(INT, "Number of `failed_participants`."),
    update_successful=(BOOL, "Settings update: every requested change succeeded."),
    error_code=(INT, "Code of the first error on the event."),
    **_CONTEXT,
)

MEMBERSHIP = _frame(
    group_id=(STR, "The group."),
    participant_id=(STR, "Participant phone number / wa_id (or the `input` the business used)."),
    participant_user_id=(STR, "Participant business-scoped user id."),
    change=(CAT, "`join` or `leave`."),
    reason=(CAT, "`reason` of the event (e.g. `invite_link`)."),
    initiated_by=(CAT, "`business` or `participant` for removals."),
    timestamp=(TS, "When the change happened (UTC)."),
    request_id=(STR, "API request that caused it, when any."),
    **_CONTEXT,
)

OTHER_CHANGES = _frame(
    field=(CAT, "A `changes[].field` groupkit does not model (calls, account_update, ...)."),
    raw=(STR, "The change's `value`, as JSON text, so nothing is lost."),
    **_CONTEXT,
)

SENDS = _frame(
    message_id=(STR, "Message id the API returned (null when the send failed)."),
    group_id=(STR, "The group sent to."),
    type=(CAT, "`text`, `image`, ..., `template` or `pin`."),
    operation=(CAT, "`send_text`, `send_media`, `send_template`, `pin` or `unpin`."),
    requested_at=(TS_MS, "When the client first asked (its clock)."),
    accepted_at=(TS_MS, "When the API accepted the send (null on failure)."),
    ok=(BOOL, "Whether the API accepted the send."),
    attempts=(INT, "Requests made, retries included."),
    http_status=(INT, "HTTP status of the last answer."),
    error_code=(INT, "Cloud API error code on failure."),
    error_title=(STR, "Its title, or why the send failed."),
    provider=(CAT, "`360dialog` or `meta`."),
    pinned_message_id=(STR, "For pin and unpin: the message (un)pinned."),
    expiration_days=(INT, "For pin: how many days."),
    source=(STR, "Where the record was read: `file:line`."),
)

FRAMES: dict[str, dict[str, Column]] = {
    "statuses": STATUSES,
    "messages": MESSAGES,
    "errors": ERRORS,
    "group_events": GROUP_EVENTS,
    "membership": MEMBERSHIP,
    "other_changes": OTHER_CHANGES,
    "sends": SENDS,
}

# Columns that do not take part in "is this row an exact redelivery of another".
NOT_IN_IDENTITY = ("received_at", "source")

# Fields groupkit turns into frames; any other `changes[].field` lands in `other_changes`.
GROUP_FIELDS = (
    "group_lifecycle_update",
    "group_participants_update",
    "group_settings_update",
    "group_status_update",
)
KNOWN_FIELDS = ("messages", *GROUP_FIELDS)


def dtypes(frame: str) -> dict[str, str]:
    """Column name to dtype string for ``frame``.

    Examples
    --------
    >>> dtypes("membership")["change"]
    'category'
    """
    return {name: col.dtype for name, col in FRAMES[frame].items()}


def empty_frame(frame: str) -> pd.DataFrame:
    """An empty DataFrame with the full schema of ``frame``.

    Examples
    --------
    >>> empty_frame("errors").shape
    (0, 16)
    """
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in dtypes(frame).items()})


def identity_columns(frame: str) -> list[str]:
    """Columns whose values together identify an event (all but receipt metadata).

    Two rows equal on every identity column are the same event delivered twice.

    Examples
    --------
    >>> "source" in identity_columns("statuses")
    False
    """
    return [c for c in FRAMES[frame] if c not in NOT_IN_IDENTITY]


def markdown_table() -> str:
    """Every frame's columns as Markdown, as the README shows them.

    Examples
    --------
    >>> markdown_table().splitlines()[0]
    '### `statuses`'
    """
    out: list[str] = []
    for name, cols in FRAMES.items():
        out += [f"### `{name}`", "", "| column | dtype | meaning |", "|---|---|---|"]
        out += [f"| `{c}` | `{col.dtype}` | {col.doc} |" for c, col in cols.items()]
        out.append("")
    return "\n".join(out)
