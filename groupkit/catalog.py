"""The one catalogue of WhatsApp Cloud API error codes that matter for groups.

Every code here comes from the team reference (``groups-api.md`` section 4): the Groups
error table (Meta, "Updated: Oct 31, 2025") plus the two group codes Meta documents
elsewhere (130501, 131203), and the general Cloud API codes that show up in sync
responses and status webhooks. ``retryable`` and ``retry`` are our reading of Meta's
"possible reasons and solutions"; Meta's own ``error.is_transient``, when a response
carries it, should win over them.

This module is pure Python on purpose: the HTTP client, the sandbox and the simulator
use it without importing pandas.

Examples
--------
>>> from groupkit.catalog import CATALOG, lookup
>>> lookup(131041).title
'Group unknown'
>>> lookup("130429").retryable
True
>>> lookup(None) is None, lookup("not a code") is None
(True, True)
>>> CATALOG[131020].http_status
400
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["CATALOG", "ErrorInfo", "lookup"]

GROUP_ERRORS_HREF = (
    "https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/error-codes"
)
GENERAL_ERRORS_HREF = (
    "https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes"
)
_GROUP_MESSAGING_HREF = (
    "https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/"
    "groups-messaging"
)
_GROUP_REFERENCE_HREF = (
    "https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/reference"
)

# Meta groups codes 200-299 under one "API Permission" entry; lookup() fills in the exact code.
_PERMISSION_RANGE = range(200, 300)

_NO_FIX = "no: fix the request"


@dataclass(frozen=True)
class ErrorInfo:
    """What one Cloud API error code means and what to do about it.

    Attributes
    ----------
    code
        The numeric error code (``error.code`` in a response, ``errors[].code`` in a webhook).
    title
        Meta's short title for the code.
    description
        Meta's description (the ``details`` text), verbatim or lightly abridged.
    family
        ``"group"`` for Groups API codes, ``"general"`` for general Cloud API codes.
    retryable
        Whether sending the same request again, possibly much later, can succeed.
    retry
        Short guidance on retrying, e.g. ``"yes, with backoff"`` or ``"not within 24 h"``.
    advice
        What to do, in one or two sentences, from Meta's guidance.
    http_status
        The HTTP status Meta documents for the code, or ``None`` where Meta publishes none.
    href
        Link to Meta's documentation of the code.

    Examples
    --------
    >>> info = lookup(131020)
    >>> info.family, info.retryable, info.retry
    ('group', False, 'no: fix the request')
    """

    code: int
    title: str
    description: str
    family: str
    retryable: bool
    retry: str
    advice: str
    http_status: int | None
    href: str


def _group(
    code: int,
    title: str,
    description: str,
    http_status: int | None,
    advice: str,
    *,
    retryable: bool = False,
    retry: str = _NO_FIX,
    href: str = GROUP_ERRORS_HREF,
) -> ErrorInfo:
    return ErrorInfo(
        code=code,
        title=title,
        description=description,
        family="group",
        retryable=retryable,
        retry=retry,
        advice=advice,
        http_status=http_status,
        href=href,
    )


def _general(
    code: int,
    title: str,
    description: str,
    advice: str,
    *,
    retryable: bool = False,
    retry: str = _NO_FIX,
    http_status: int | None = None,
) -> ErrorInfo:
    return ErrorInfo(
        code=code,
        title=title,
        description=description,
        family="general",
        retryable=retryable,
        retry=retry,
        advice=advice,
        http_status=http_status,
        href=GENERAL_ERRORS_HREF,
    )


_GROUP_CODES = [
    _group(
        130501,
        "Unsupported message type",
        "Message type is not currently supported.",
        None,
        "A participant posted a type groups do not support yet; the inbound message arrives as "
        "'unsupported'. Nothing to resend; ask the participant to use text if it matters.",
        href=_GROUP_MESSAGING_HREF,
    ),
    _group(
        131020,
        "Bad Group",
        "Cannot send messages to single member groups.",
        400,
        "Wait until at least one participant has joined (a group_participants_update webhook "
        "says so) before sending to the group.",
    ),
    _group(
        131041,
        "Group unknown",
        "The group was not found, either because it doesn't exist or you are not a member.",
        400,
        "Check the group ID (list active groups) and that the business number is still in it; "
        "deleted groups cannot be messaged.",
    ),
    _group(
        131059,
        "Invalid cursor",
        "The cursor has either expired or become corrupted. "
        "Start pagination from the beginning again.",
        400,
        "Restart the listing without a cursor.",
        retryable=True,
        retry="yes: restart pagination from the beginning",
    ),
    _group(
        131201,
        "Request partially succeeded",
        "Not all participant-level operations in the request succeeded.",
        206,
        "Read failed_join_requests / errors in the response and retry only the items that failed.",
        retryable=True,
        retry="yes, only the failed items",
    ),
    _group(
        131202,
        "Duplicate participant",
        "Duplicate participants in the participant array input.",
        400,
        "Remove duplicate users from the participants array.",
    ),
    _group(
        131203,
        "Unable to add participant to group",
        "Recipient has not accepted our new Terms of Service and Privacy Policy.",
        None,
        "The user must accept WhatsApp's current terms before joining; ask them out of band, "
        "then approve the join request again.",
        retryable=True,
        retry="not until the user accepts the terms",
        href=_GROUP_REFERENCE_HREF,
    ),
    _group(
        131204,
        "Participant overlimit",
        "Group participant size exceeds limit.",
        400,
        "A group holds at most 8 participants; remove participants or use another group.",
    ),
    _group(
        131207,
        "Group suspended",
        "The group violates platform policies.",
        403,
        "The group cannot be used while suspended; review WhatsApp's policies and wait for a "
        "group_suspend_cleared webhook.",
    ),
    _group(
        131208,
        "Group Rate Limit Hit",
        "Group operation failed because there were too many group operations from this "
        "phone number in a short period.",
        429,
        "Slow down group operations and retry later with exponential backoff.",
        retryable=True,
        retry="yes, with backoff",
    ),
    _group(
        131209,
        "Invalid Group Profile Picture Aspect Ratio",
        "Width and height of the image must be equal.",
        400,
        "Upload a square JPEG (height equal to width).",
    ),
    _group(
        131210,
        "Image is Too Small to Process",
        "Image width and height must be greater than 192px.",
        400,
        "Upload a JPEG of at least 192 x 192 pixels.",
    ),
    _group(
        131211,
        "Group create limit reached",
        "Reached the limit for the maximum number of groups that can be created for this number.",
        400,
        "A business number can have at most 10,000 groups; delete unused groups first.",
    ),
    _group(
        131212,
        "Participant is not a part of the group.",
        "Participant is not a part of the group.",
        400,
        "Fetch the group's participants and only address current members.",
    ),
    _group(
        131213,
        "Group join request does not exist.",
        "Group join request does not exist.",
        400,
        "List the group's pending join requests and use an ID from that list.",
    ),
    _group(
        131214,
        "Group creation is temporarily disabled",
        "Group creation is temporarily disabled due to excessive marketing messages sent by "
        "the WABA in customer service window over the past 7 days.",
        400,
        "Send fewer marketing messages inside the customer service window; creation resumes "
        "once the 7-day window clears.",
        retryable=True,
        retry="not soon: after the 7-day window",
    ),
    _group(
        131215,
        "This phone number is not eligible to access Groups APIs",
        "Groups APIs are only available for eligible phone numbers.",
        400,
        "Check eligibility (an Official Business Account; not a coexistence or Multi-solution "
        "Conversations number) in the Groups get-started guide.",
    ),
]

_GENERAL_CODES = [
    _general(
        0,
        "AuthException",
        "We were unable to authenticate the app user.",
        "Get a new access token (or check the API key).",
        retry="no: fix credentials",
    ),
    _general(
        1,
        "API Unknown",
        "Invalid request or possible server error.",
        "Check the WhatsApp Business Platform status page, then verify the request.",
        retryable=True,
        retry="once, then no",
    ),
    _general(
        2,
        "API Service",
        "Temporary due to downtime or due to being overloaded.",
        "Check the WhatsApp Business Platform status page before trying again.",
        retryable=True,
        retry="yes, with backoff",
    ),
    _general(
        3,
        "API Method",
        "Capability or permissions issue.",
        "Use the access token debugger to check the app's permissions.",
    ),
    _general(
        4,
        "API Too Many Calls",
        "The app has reached its API call rate limit.",
        "Try again later or reduce the frequency of API calls.",
        retryable=True,
        retry="yes, with slow backoff",
    ),
    _general(
        10,
        "Permission Denied",
        "Permission is either not granted or has been removed.",
        "Use the access token debugger; also check the number is eligible for this API.",
    ),
    _general(
        100,
        "Invalid parameter",
        "The request included one or more unsupported or misspelled parameters.",
        "Fix the request body against the endpoint's reference.",
    ),
    _general(
        190,
        "Access token has expired",
        "Your access token has expired.",
        "Get a new access token.",
        retry="no: fix credentials",
    ),
    _general(
        200,
        "API Permission",
        "Permission is either not granted or has been removed (codes 200-299).",
        "Use the access token debugger to check the app's permissions.",
    ),
    _general(
        368,
        "Temporarily blocked for policies violations",
        "The WhatsApp Business Account associated with the app has been restricted or disabled "
        "for violating a platform policy.",
        "See the Policy Enforcement documentation for the restriction and how to appeal.",
    ),
    _general(
        470,
        "Re-engagement message (legacy)",
        "Legacy On-Premises API code for a message sent outside the 24-hour window; Cloud API "
        "uses 131047 instead.",
        "Send an approved template to re-open the conversation.",
        retry="no: switch to a template",
    ),
    _general(
        80007,
        "Rate limit issues",
        "The WhatsApp Business Account has reached its rate limit.",
        "Try again later or reduce the frequency of requests.",
        retryable=True,
        retry="yes, with slow backoff",
    ),
    _general(
        130403,
        "Recipient blocked by business",
        "Unable to deliver the message. This business has blocked the end user on WhatsApp.",
        "Do not retry; unblock the user first if the message should reach them.",
    ),
    _general(
        130429,
        "Rate limit hit",
        "Cloud API message throughput has been reached.",
        "Try again later or reduce the frequency of messages (80 per second by default).",
        retryable=True,
        retry="yes, with backoff",
    ),
    _general(
        130472,
        "User's number is part of an experiment",
        "Message was not sent as part of an experiment.",
        "See Meta's marketing message experiment documentation.",
    ),
    _general(
        130497,
        "Business account is restricted from messaging users in this country",
        "The WhatsApp Business Account is restricted from messaging to users in certain countries.",
        "Check the business messaging policy for the countries you may message.",
    ),
    _general(
        131000,
        "Something went wrong",
        "Message failed to send due to an unknown error.",
        "Try again. If the error persists, open a Direct Support ticket.",
        retryable=True,
        retry="yes, a limited number of times",
    ),
    _general(
        131005,
        "Access denied",
        "Permission is either not granted or has been removed.",
        "Use the access token debugger to check the app's permissions.",
    ),
    _general(
        131008,
        "Required parameter is missing",
        "The request is missing a required parameter.",
        "Add the missing parameter named in the error details.",
    ),
    _general(
        131009,
        "Parameter value is not valid",
        "One or more parameter values are invalid.",
        "Fix the value named in the error details.",
    ),
    _general(
        131016,
        "Service unavailable",
        "A service is temporarily unavailable.",
        "Check the WhatsApp Business Platform status page before trying again.",
        retryable=True,
        retry="yes, with backoff",
    ),
    _general(
        131021,
        "Recipient cannot be sender",
        "Sender and recipient phone number is the same.",
        "Send to a number other than the sender's.",
    ),
    _general(
        131026,
        "Message Undeliverable",
        "Unable to deliver message. The recipient may not be a WhatsApp user, may not have "
        "accepted the new Terms of Service, or may use an old WhatsApp version.",
        "Ask the recipient out of band to update WhatsApp and accept the terms; do not retry "
        "blindly.",
    ),
    _general(
        131031,
        "Account has been locked",
        "The business account was restricted or disabled, or request data (such as the "
        "two-step verification PIN) did not match.",
        "Check Policy Enforcement and the Health Status API; fix the PIN if it is wrong.",
    ),
    _general(
        131037,
        "Display name approval needed",
        "The 555 business phone number needs an approved display name before sending.",
        "Change or get approval for the display name.",
    ),
    _general(
        131042,
        "Business eligibility payment issue",
        "There was an error related to your payment method.",
        "Fix the payment method in the business account's billing settings.",
        retry="no: not until billing is fixed",
    ),
    _general(
        131045,
        "Incorrect certificate",
        "Message failed to send due to a phone number registration error.",
        "Register the business phone number before sending.",
    ),
    _general(
        131047,
        "Re-engagement message",
        "More than 24 hours have passed since the recipient last replied to the sender number.",
        "Send an approved template instead; for groups the 24-hour window is shared by the whole "
        "group.",
        retry="no: switch to a template",
    ),
    _general(
        131048,
        "Spam rate limit hit",
        "There are restrictions on how many messages can be sent from this phone number; too "
        "many previous messages were blocked or flagged as spam.",
        "Check the number's quality rating and send less, more relevant messages.",
        retryable=True,
        retry="not soon: hours or days",
    ),
    _general(
        131049,
        "Meta chose not to deliver",
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "Wait at least 24 hours before resending the message to this recipient.",
        retryable=True,
        retry="not within 24 h",
    ),
    _general(
        131050,
        "User has stopped marketing messages",
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing "
        "messages on WhatsApp from your business.",
        "Do not retry marketing messages to this recipient.",
    ),
    _general(
        131051,
        "Unsupported message type",
        "Unsupported message type.",
        "Use a message type the recipient supports; groups take text, media and text- or "
        "media-based templates only.",
    ),
    _general(
        131052,
        "Media download error",
        "Unable to download the media sent by the user.",
        "Ask the user to send the media again by another route.",
        retry="no: nothing to resend (inbound media)",
    ),
    _general(
        131053,
        "Media upload error",
        "Unable to upload the media used in the message.",
        "Check the media type, size and that the link is publicly reachable.",
        retry="no: fix the media",
    ),
    _general(
        131056,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from the sender phone number to the same recipient phone "
        "number in a short period of time.",
        "Wait and retry the operation; keep to about one message every 6 seconds per recipient.",
        retryable=True,
        retry="yes, after a delay",
    ),
    _general(
        131057,
        "Account in maintenance mode",
        "Business Account is in maintenance mode, for example during a throughput upgrade.",
        "Try again in a few minutes.",
        retryable=True,
        retry="yes, minutes later",
    ),
    _general(
        131063,
        "Marketing templates disabled on Cloud API",
        "Marketing templates are disabled on Cloud API for this business account.",
        "Send marketing templates through the Marketing Messages API or re-enable them.",
    ),
    _general(
        131064,
        "Messaging limit hit due to template classification violations",
        "The messaging limit was lowered because of template category violations.",
        "The limit lifts after the enforcement period; fix template categories meanwhile.",
        retryable=True,
        retry="not soon: after the enforcement period",
    ),
    _general(
        132000,
        "Template Param Count Mismatch",
        "The number of variable parameter values does not match the number of variables "
        "defined in the template.",
        "Send exactly as many parameters as the template defines.",
    ),
    _general(
        132001,
        "Template does not exist",
        "The template does not exist in the specified language or the template has not "
        "been approved.",
        "Check the template name, language code and approval status.",
    ),
    _general(
        132005,
        "Template Hydrated Text Too Long",
        "Translated text is too long.",
        "Shorten the parameter values.",
    ),
    _general(
        132007,
        "Template Format Character Policy Violated",
        "Template content violates a WhatsApp policy.",
        "Change the template or parameter content.",
    ),
    _general(
        132012,
        "Template Parameter Format Mismatch",
        "Variable parameter values are formatted incorrectly.",
        "Send parameters in the format the template defines.",
    ),
    _general(
        132015,
        "Template is Paused",
        "The template is paused due to low quality, so it cannot be sent.",
        "Edit the template to improve its quality or use another template.",
        retryable=True,
        retry="not until the template is unpaused",
    ),
    _general(
        132016,
        "Template is Disabled",
        "The template has been paused too many times due to low quality and is now "
        "permanently disabled.",
        "Create a new template with different content.",
    ),
    _general(
        133004,
        "Server Temporarily Unavailable",
        "Server is temporarily unavailable.",
        "Check the WhatsApp Business Platform status page, then try again.",
        retryable=True,
        retry="yes, with backoff",
    ),
    _general(
        133010,
        "Phone number Not Registered",
        "Phone number not registered on the WhatsApp Business Platform.",
        "Register the phone number before sending.",
    ),
    _general(
        135000,
        "Generic user error",
        "Message failed to send because of an unknown error with your request parameters.",
        "Check the request syntax against the API reference.",
    ),
    _general(
        137000,
        "Identity key mismatch",
        "The recipient's identity key hash did not match when sending with "
        "recipient_identity_key_hash.",
        "Verify the recipient, then resend without the hash.",
    ),
    _general(
        2494100,
        "Account in maintenance mode",
        "Account is in maintenance mode (phone number migration).",
        "Try again in a few minutes.",
        retryable=True,
        retry="yes, minutes later",
    ),
]

CATALOG: dict[int, ErrorInfo] = {info.code: info for info in _GROUP_CODES + _GENERAL_CODES}
"""Every catalogued code, keyed by its integer code."""


def lookup(code: int | str | None) -> ErrorInfo | None:
    """Find what an error code means.

    Parameters
    ----------
    code
        The code as an ``int`` or a numeric string (webhooks sometimes quote it);
        ``None`` and anything non-numeric give ``None``.

    Returns
    -------
    ErrorInfo or None
        The catalogue entry, or ``None`` for an unknown code. Codes 201-299 share
        Meta's "API Permission" entry, returned with the exact code filled in.

    Examples
    --------
    >>> lookup(" 131047 ").title
    'Re-engagement message'
    >>> lookup(250).code, lookup(250).title
    (250, 'API Permission')
    >>> lookup(999999) is None
    True
    """
    if code is None or isinstance(code, bool):
        return None
    if isinstance(code, str):
        text = code.strip()
        if not text.lstrip("-").isdigit():
            return None
        code = int(text)
    elif not isinstance(code, int):
        return None
    info = CATALOG.get(code)
    if info is None and code in _PERMISSION_RANGE:
        return replace(CATALOG[200], code=code)
    return info
