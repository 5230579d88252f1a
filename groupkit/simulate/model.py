"""The behavioural model of group message delivery, as pure functions.

Three steps turn a business message into the webhooks Meta would POST:

1. :func:`draw_profile` draws how a group behaves (delivery and read delays, how
   many participants never read, how often a send fails);
2. :func:`message_outcome` draws what truly happens to one message in that group:
   the group-level ``sent`` or ``failed`` and, per participant, when it was
   delivered and read;
3. :func:`status_webhooks` turns that truth into the status webhooks an archive
   would hold: group-level ``sent``/``failed``, per-participant ``delivered``/``read``
   (sometimes aggregated), redeliveries, late arrivals, a ``read`` with no
   ``delivered`` when both happened at once (reference 1.1.2), and now and then a
   stray ``delivered`` after a ``failed``.

Everything takes an explicit :class:`random.Random`, so a seed reproduces a run.
Times are unix seconds; the outcome's times are whole seconds because Meta's
webhook timestamps are.  The archive simulator and the local API sandbox both use
these functions.

Examples
--------
>>> import random
>>> rng = random.Random(7)
>>> profile = draw_profile(rng)
>>> outcome = message_outcome(
...     rng, profile, message_id="wamid.A", group_id="G1",
...     participants=["16505550001", "16505550002"], sent_at=1_760_000_000,
... )
>>> [p.participant_id for p in outcome.receipts]
['16505550001', '16505550002']
>>> hooks = status_webhooks(rng, outcome, waba_id="1029", phone_number_id="1065")
>>> hooks == sorted(hooks, key=lambda pair: pair[0])
True
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field

from groupkit import webhooks
from groupkit.catalog import lookup

__all__ = [
    "BUSINESS_TYPES",
    "FAILURE_CODES",
    "GroupProfile",
    "MessageOutcome",
    "ParticipantOutcome",
    "bsuid",
    "draw_profile",
    "error_object",
    "message_outcome",
    "status_webhooks",
]

# Outbound types a group accepts (reference 0.7: text, media, text and media templates).
BUSINESS_TYPES = ("text", "image", "video", "document", "audio", "template")

# Failure codes of a group send and how often each occurs among failures.  131020
# (single-member group) is not drawn: it happens when a group has no participants.
FAILURE_CODES = {131026: 0.30, 131049: 0.25, 131000: 0.20, 131041: 0.10, 131047: 0.10, 131016: 0.05}
# Codes Meta raises after the message went out (a ``sent`` precedes the ``failed``).
_FAIL_AFTER_SENT = {131026, 131049, 131000}

_DETAILS = {
    131026: "Message Undeliverable.",
    131049: "In order to maintain a healthy ecosystem engagement, the message failed to be "
    "delivered.",
    131000: "Something went wrong.",
    131041: "The group was not found, either because it doesn't exist or you are not a member.",
    131047: "Message failed to send because more than 24 hours have passed since the customer "
    "last replied to this number.",
    131016: "A service is temporarily unavailable.",
    131020: "Cannot send messages to single member groups.",
}


@dataclass(frozen=True)
class GroupProfile:
    """How one group behaves.

    Delays are log-normal: ``median`` seconds with spread ``sigma``, so most
    receipts are quick and a long tail is slow.

    Attributes
    ----------
    delivery_median_s, delivery_sigma
        Delay from ``sent`` to a participant's ``delivered``.
    read_median_s, read_sigma
        Delay from ``delivered`` to ``read``.
    never_delivered
        Probability that a participant's phone never reports the message.
    never_read
        Probability that a participant who got the message never reads it.
    read_on_delivery
        Probability that the participant had the chat open: delivered and read at
        the same second, and Meta sends only the ``read``.
    failure
        Probability that a send fails for the whole group.
    slow
        Whether this is one of the few slow groups.
    """

    delivery_median_s: float
    delivery_sigma: float
    read_median_s: float
    read_sigma: float
    never_delivered: float
    never_read: float
    read_on_delivery: float
    failure: float
    slow: bool = False


@dataclass(frozen=True)
class ParticipantOutcome:
    """What truly happened to one message for one participant.

    ``delivered_at`` equals ``read_at`` when the participant read it as it arrived;
    ``delivered_reported`` is then ``False`` because Meta sends no ``delivered``.
    """

    participant_id: str
    delivered_at: int | None
    read_at: int | None
    delivered_reported: bool = True


@dataclass(frozen=True)
class MessageOutcome:
    """What truly happened to one business message sent to a group.

    Attributes
    ----------
    message_id, group_id
        The message and the group.
    participants
        Members of the group (besides the business) when it was sent.
    attempted_at
        When the business sent it.
    sent_at
        The group-level ``sent``; ``None`` when Meta failed it before sending.
    failed_at, error_code
        The group-level ``failed`` and its code, or ``None``.
    receipts
        One :class:`ParticipantOutcome` per participant, in ``participants`` order
        (delivered and read are ``None`` for a failed message).
    message_type
        ``text``, ``image``, ..., or ``template``.
    pricing_category, pricing_type
        Pricing Meta reports on ``delivered``/``read`` (reference 1.1.6).
    biz_opaque_callback_data
        Tracking data the business attached, echoed on every status.
    """

    message_id: str
    group_id: str
    participants: tuple[str, ...]
    attempted_at: int
    sent_at: int | None
    failed_at: int | None
    error_code: int | None
    receipts: tuple[ParticipantOutcome, ...]
    message_type: str = "text"
    pricing_category: str = "group_service"
    pricing_type: str = "free_group_customer_service"
    biz_opaque_callback_data: str | None = None
    # Filled by status_webhooks(): what noise it injected (see there).
    extra: dict = field(default_factory=dict, compare=False)


def draw_profile(rng: random.Random, *, slow: bool = False) -> GroupProfile:
    """Draw the delay, read and failure behaviour of one group.

    Parameters
    ----------
    rng
        Source of randomness.
    slow
        Draw one of the rare slow groups (minutes to deliver, hours to read).

    Returns
    -------
    GroupProfile

    Examples
    --------
    >>> import random
    >>> fast, slow = draw_profile(random.Random(1)), draw_profile(random.Random(1), slow=True)
    >>> fast.delivery_median_s < slow.delivery_median_s
    True
    """
    if slow:
        delivery_median = rng.uniform(60.0, 600.0)
        read_median = rng.uniform(1800.0, 4 * 3600.0)
    else:
        delivery_median = rng.uniform(1.0, 6.0)
        read_median = rng.uniform(30.0, 900.0)
    return GroupProfile(
        delivery_median_s=delivery_median,
        delivery_sigma=rng.uniform(0.6, 1.4),
        read_median_s=read_median,
        read_sigma=rng.uniform(0.8, 1.6),
        never_delivered=rng.uniform(0.0, 0.08),
        never_read=rng.uniform(0.05, 0.35),
        read_on_delivery=rng.uniform(0.02, 0.12),
        failure=rng.uniform(0.01, 0.06),
        slow=slow,
    )


def _lognormal_s(rng: random.Random, median: float, sigma: float) -> int:
    return round(rng.lognormvariate(math.log(median), sigma))


def _pricing(message_type: str, template_category: str) -> tuple[str, str]:
    if message_type != "template":
        return "group_service", "free_group_customer_service"
    if template_category == "marketing":
        return "group_marketing", "regular"
    return "group_utility", "regular"


def message_outcome(
    rng: random.Random,
    profile: GroupProfile,
    *,
    message_id: str,
    group_id: str,
    participants: list[str],
    sent_at: float,
    message_type: str | None = None,
    template_category: str | None = None,
    biz_opaque_callback_data: str | None = None,
) -> MessageOutcome:
    """Draw the true fate of one message sent to a group at ``sent_at``.

    Parameters
    ----------
    rng
        Source of randomness.
    profile
        The group's behaviour (:func:`draw_profile`).
    message_id, group_id
        Identifiers of the message and group.
    participants
        Members of the group (besides the business) when the message is sent. An
        empty list fails the send with 131020 (single-member group).
    sent_at
        When the business sent it (unix seconds; rounded down to whole seconds).
    message_type
        One of :data:`BUSINESS_TYPES`; drawn when ``None``.
    template_category
        ``marketing`` or ``utility`` for templates; drawn when ``None``.
    biz_opaque_callback_data
        Tracking data echoed on every status.

    Returns
    -------
    MessageOutcome

    Examples
    --------
    >>> import random
    >>> rng = random.Random(3)
    >>> out = message_outcome(rng, draw_profile(rng), message_id="wamid.B", group_id="G",
    ...                       participants=[], sent_at=1_760_000_000)
    >>> out.error_code, out.sent_at is None
    (131020, True)
    """
    t0 = int(sent_at)
    if message_type is None:
        message_type = rng.choices(BUSINESS_TYPES, weights=(40, 15, 5, 5, 3, 32))[0]
    if template_category is None:
        template_category = rng.choice(("marketing", "utility"))
    category, pricing_type = _pricing(message_type, template_category)
    common = {
        "message_id": message_id,
        "group_id": group_id,
        "participants": tuple(participants),
        "attempted_at": t0,
        "message_type": message_type,
        "pricing_category": category,
        "pricing_type": pricing_type,
        "biz_opaque_callback_data": biz_opaque_callback_data,
    }
    failed_receipts = tuple(ParticipantOutcome(p, None, None) for p in participants)
    if not participants:
        return MessageOutcome(
            **common,
            sent_at=None,
            failed_at=t0 + rng.randint(0, 2),
            error_code=131020,
            receipts=(),
        )
    if rng.random() < profile.failure:
        code = rng.choices(list(FAILURE_CODES), weights=list(FAILURE_CODES.values()))[0]
        after_sent = code in _FAIL_AFTER_SENT and rng.random() < 0.7
        return MessageOutcome(
            **common,
            sent_at=t0 if after_sent else None,
            failed_at=t0 + (rng.randint(1, 40) if after_sent else rng.randint(0, 2)),
            error_code=code,
            receipts=failed_receipts,
        )
    receipts = []
    for participant in participants:
        if rng.random() < profile.never_delivered:
            receipts.append(ParticipantOutcome(participant, None, None))
            continue
        delivered = t0 + _lognormal_s(rng, profile.delivery_median_s, profile.delivery_sigma)
        if rng.random() < profile.read_on_delivery:
            receipts.append(ParticipantOutcome(participant, delivered, delivered, False))
            continue
        read = None
        if rng.random() >= profile.never_read:
            read = delivered + 1 + _lognormal_s(rng, profile.read_median_s, profile.read_sigma)
        receipts.append(ParticipantOutcome(participant, delivered, read))
    return MessageOutcome(
        **common, sent_at=t0, failed_at=None, error_code=None, receipts=tuple(receipts)
    )


def bsuid(participant_id: str) -> str:
    """The business-scoped user id of a participant, stable across runs.

    Examples
    --------
    >>> bsuid("16505550001") == bsuid("16505550001"), bsuid("16505550001")[:3]
    (True, 'US.')
    """
    digest = hashlib.sha256(participant_id.encode()).hexdigest()
    return "US." + str(int(digest[:16], 16)).zfill(20)[:20]


def error_object(code: int) -> dict:
    """The ``errors[]`` item of a ``failed`` status for ``code`` (reference 4.4).

    Title and ``message`` come from :mod:`groupkit.catalog` (Meta: ``message`` equals
    the title).

    Examples
    --------
    >>> error_object(131020)["title"]
    'Bad Group'
    """
    info = lookup(code)
    title = info.title if info is not None else "Unknown error"
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": _DETAILS.get(code, title)},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


def _envelope(waba_id: str, phone_number_id: str, value: dict) -> dict:
    return webhooks.envelope(
        "messages", value, waba_id=waba_id, meta=webhooks.metadata(phone_number_id)
    )


def _group_status(outcome: MessageOutcome, status: str, ts: int) -> dict:
    extra = {}
    if outcome.biz_opaque_callback_data is not None:
        extra["biz_opaque_callback_data"] = outcome.biz_opaque_callback_data
    return webhooks.status(outcome.message_id, status, ts, group_id=outcome.group_id, **extra)


def participant_status(
    rng: random.Random,
    outcome: MessageOutcome,
    participant_id: str,
    status: str,
    ts: int,
    *,
    with_pricing: bool,
) -> dict:
    """One per-participant ``delivered``/``read`` status object, in one of Meta's spellings.

    Examples
    --------
    >>> import random
    >>> rng = random.Random(0)
    >>> out = message_outcome(rng, draw_profile(rng), message_id="wamid.C", group_id="G",
    ...                       participants=["1650"], sent_at=0)
    >>> obj = participant_status(rng, out, "1650", "read", 5, with_pricing=False)
    >>> obj["status"], obj["timestamp"], obj["recipient_type"]
    ('read', '5', 'group')
    """
    obj = _group_status(outcome, status, ts)
    key = "participant_recipient_id" if rng.random() < 0.2 else "recipient_participant_id"
    obj[key] = participant_id
    if rng.random() < 0.3:
        obj["recipient_participant_user_id"] = bsuid(participant_id)
    if with_pricing:
        pricing = {
            "billable": outcome.pricing_type == "regular",
            "pricing_model": "PMP",
            "type": outcome.pricing_type,
            "category": outcome.pricing_category,
        }
        conversation = {
            "id": "c" + outcome.message_id[-12:],
            "origin": {"type": outcome.pricing_category},
        }
        if rng.random() < 0.5:
            obj["conversation"] = conversation
            obj["pricing"] = pricing
        else:
            obj["conversation"] = {**conversation, "pricing": pricing}
    return obj


def _lag(rng: random.Random, reorder: float) -> float:
    """Seconds between an event and its webhook POST; a reordered one comes much later."""
    if rng.random() < reorder:
        return rng.uniform(20.0, 900.0)
    return rng.uniform(0.05, 2.5)


def status_webhooks(
    rng: random.Random,
    outcome: MessageOutcome,
    *,
    waba_id: str,
    phone_number_id: str,
    aggregate: float = 0.3,
    duplicate: float = 0.05,
    reorder: float = 0.1,
) -> list[tuple[float, dict]]:
    """The status webhooks Meta would POST for ``outcome``, with their emit times.

    Parameters
    ----------
    rng
        Source of randomness.
    outcome
        The message's true fate (:func:`message_outcome`).
    waba_id, phone_number_id
        Business account and number in the envelope.
    aggregate
        Probability that statuses of the same type triggered within two seconds of
        each other go out in one POST (many participants x one message).
    duplicate
        Probability that a POST is delivered again later (at-least-once delivery);
        a tenth of these re-send a ``read`` with a later timestamp instead of an
        exact copy.
    reorder
        Probability that a POST is held back for 20 s to 15 min, so that it arrives
        after statuses that happened later.

    Returns
    -------
    list of (float, dict)
        ``(emit_time_unix, webhook)`` ordered by emit time.  ``webhook`` is the full
        ``whatsapp_business_account`` POST body, exactly as Meta sends it; an exact
        redelivery is the *same* dict object twice.  Irregularities that change
        what analytics must report are counted in ``outcome.extra``:
        ``read_duplicates`` (a read re-sent with a later timestamp),
        ``stray_delivered`` and ``stray_participants`` (a delivered after a failed).

    Examples
    --------
    >>> import random
    >>> rng = random.Random(5)
    >>> out = message_outcome(rng, draw_profile(rng), message_id="wamid.D", group_id="G",
    ...                       participants=["1650", "1651"], sent_at=1_760_000_000)
    >>> hooks = status_webhooks(rng, out, waba_id="W", phone_number_id="P", duplicate=0)
    >>> statuses = [s["status"] for _, h in hooks
    ...             for s in h["entry"][0]["changes"][0]["value"]["statuses"]]
    >>> statuses[0]
    'sent'
    """
    posts: list[tuple[float, dict]] = []

    def emit(event_time: int, statuses: list[dict]) -> None:
        hook = _envelope(waba_id, phone_number_id, {"statuses": statuses})
        posts.append((event_time + _lag(rng, reorder), hook))

    if outcome.sent_at is not None:
        emit(outcome.sent_at, [_group_status(outcome, "sent", outcome.sent_at)])
    if outcome.failed_at is not None:
        failed = _group_status(outcome, "failed", outcome.failed_at)
        failed["errors"] = [error_object(outcome.error_code or 131000)]
        emit(outcome.failed_at, [failed])
        if outcome.sent_at is not None and outcome.participants and rng.random() < 0.1:
            # A stray delivered after the failure: failed is final, analytics must ignore it.
            late = outcome.failed_at + rng.randint(1, 120)
            who = rng.choice(outcome.participants)
            emit(
                late, [participant_status(rng, outcome, who, "delivered", late, with_pricing=True)]
            )
            outcome.extra["stray_delivered"] = outcome.extra.get("stray_delivered", 0) + 1
            outcome.extra.setdefault("stray_participants", []).append(who)
    events: list[tuple[str, int, str, bool]] = []
    for receipt in outcome.receipts:
        if receipt.delivered_at is not None and receipt.delivered_reported:
            events.append(("delivered", receipt.delivered_at, receipt.participant_id, True))
        if receipt.read_at is not None:
            events.append(
                ("read", receipt.read_at, receipt.participant_id, not receipt.delivered_reported)
            )
    for status in ("delivered", "read"):
        batch: list[tuple[int, dict]] = []
        for _, ts, who, priced in sorted(e for e in events if e[0] == status):
            obj = participant_status(
                rng, outcome, who, status, ts, with_pricing=priced or status == "delivered"
            )
            if batch and ts - batch[0][0] <= 2 and rng.random() < aggregate:
                batch.append((ts, obj))
                continue
            if batch:
                emit(max(t for t, _ in batch), [o for _, o in batch])
            batch = [(ts, obj)]
        if batch:
            emit(max(t for t, _ in batch), [o for _, o in batch])
    redelivered: list[tuple[float, dict]] = []
    for emit_time, hook in posts:
        if rng.random() >= duplicate:
            continue
        retry_at = emit_time + rng.choice((rng.uniform(1, 60), rng.uniform(600, 30 * 3600)))
        statuses = hook["entry"][0]["changes"][0]["value"]["statuses"]
        if statuses[0]["status"] == "read" and len(statuses) == 1 and rng.random() < 0.1:
            # The same read again with a later trigger time: not an exact copy.
            again = {
                **statuses[0],
                "timestamp": str(int(statuses[0]["timestamp"]) + rng.randint(1, 90)),
            }
            redelivered.append(
                (retry_at, _envelope(waba_id, phone_number_id, {"statuses": [again]}))
            )
            outcome.extra["read_duplicates"] = outcome.extra.get("read_duplicates", 0) + 1
        else:
            redelivered.append((retry_at, hook))
    posts.extend(redelivered)
    posts.sort(key=lambda pair: pair[0])
    return posts
