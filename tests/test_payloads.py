"""Payload builders: the exact bodies the client sends and the rules the sandbox enforces."""

from __future__ import annotations

import pytest

from groupkit import payloads
from groupkit.exceptions import GroupkitError
from groupkit.payloads import PayloadError

GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"


def test_text_message_matches_the_documented_group_body():
    # Reference 3.1, "Send a text message to a group".
    assert payloads.text_message(GROUP, "Hello", preview_url=True) == {
        "messaging_product": "whatsapp",
        "recipient_type": "group",
        "to": GROUP,
        "type": "text",
        "text": {"body": "Hello", "preview_url": True},
    }


def test_pin_body_matches_the_documented_shape_with_integer_days():
    # Reference 1.2: expiration_days is an Integer (the sample quotes it).
    assert payloads.pin_message(GROUP, "wamid.X", days=30) == {
        "messaging_product": "whatsapp",
        "recipient_type": "group",
        "to": GROUP,
        "type": "pin",
        "pin": {"type": "pin", "message_id": "wamid.X", "expiration_days": 30},
    }


def test_unpin_body_has_no_expiration():
    assert payloads.unpin_message(GROUP, "wamid.X")["pin"] == {
        "type": "unpin",
        "message_id": "wamid.X",
    }


@pytest.mark.parametrize("kind", payloads.MEDIA_KINDS)
def test_media_by_id_for_every_kind(kind):
    body = payloads.media_message(GROUP, kind, media_id="123")
    assert body["type"] == kind
    assert body[kind] == {"id": "123"}


def test_document_by_link_with_caption_and_filename():
    body = payloads.media_message(
        GROUP, "document", link="https://example.com/a.pdf", caption="Minutes", filename="a.pdf"
    )
    assert body["document"] == {
        "link": "https://example.com/a.pdf",
        "caption": "Minutes",
        "filename": "a.pdf",
    }


def test_template_with_components():
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    body = payloads.template_message(GROUP, "order_update", "en_US", components)
    assert body["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": components,
    }


@pytest.mark.parametrize(
    ("build", "field", "fragment"),
    [
        (lambda: payloads.text_message(GROUP, ""), "text.body", "empty"),
        (lambda: payloads.text_message(GROUP, "   \n"), "text.body", "empty"),
        (lambda: payloads.text_message(GROUP, "x" * 4097), "text.body", "4097 characters"),
        (lambda: payloads.pin_message(GROUP, "wamid.X", days=0), "pin.expiration_days", "1 to 30"),
        (lambda: payloads.pin_message(GROUP, "wamid.X", days=31), "pin.expiration_days", "31"),
        (lambda: payloads.pin_message(GROUP, "wamid.X", days=2.5), "pin.expiration_days", "2.5"),
        (lambda: payloads.pin_message(GROUP, "wamid.X", days=True), "pin.expiration_days", "True"),
        (
            lambda: payloads.pin_message(GROUP, "wamid.X", days=None),
            "pin.expiration_days",
            "required",
        ),
        (lambda: payloads.pin_message(GROUP, "", days=3), "pin.message_id", "required"),
        (lambda: payloads.media_message(GROUP, "image"), "image", "got neither"),
        (
            lambda: payloads.media_message(GROUP, "image", media_id="1", link="https://e.x/a.png"),
            "image",
            "not both",
        ),
        (lambda: payloads.media_message(GROUP, "gif", media_id="1"), "type", "media kind"),
        (lambda: payloads.media_message(GROUP, "image", link="ftp://x/y"), "image.link", "http"),
        (
            lambda: payloads.media_message(GROUP, "audio", media_id="1", caption="c"),
            "audio.caption",
            "caption",
        ),
        (
            lambda: payloads.media_message(GROUP, "image", media_id="1", filename="a"),
            "image.filename",
            "documents",
        ),
        (
            lambda: payloads.media_message(GROUP, "image", media_id="1", caption="c" * 1025),
            "image.caption",
            "1024",
        ),
        (lambda: payloads.template_message(GROUP, "", "en"), "template.name", "template name"),
        (
            lambda: payloads.template_message(GROUP, "Has Spaces", "en"),
            "template.name",
            "template name",
        ),
        (
            lambda: payloads.template_message(GROUP, "ok", "english please"),
            "template.language.code",
            "language code",
        ),
        (
            lambda: payloads.template_message(GROUP, "ok", "en", [{"no": "type"}]),
            "template.components[0]",
            "type",
        ),
        (lambda: payloads.text_message("", "hi"), "to", "non-empty"),
        (lambda: payloads.text_message("16505551234", "hi"), "to", "phone number"),
        (lambda: payloads.text_message("+1 650-555-1234", "hi"), "to", "phone number"),
        (lambda: payloads.text_message("group id with spaces", "hi"), "to", "not a group ID"),
        (lambda: payloads.text_message("abc", "hi"), "to", "not a group ID"),
        (lambda: payloads.create_group("   "), "subject", "empty"),
        (lambda: payloads.create_group("x" * 129), "subject", "128"),
        (lambda: payloads.create_group("ok", description="d" * 2049), "description", "2048"),
        (
            lambda: payloads.create_group("ok", join_approval_mode="yes"),
            "join_approval_mode",
            "auto_approve",
        ),
        (lambda: payloads.list_groups_params(limit=0), "limit", "1 to 1024"),
        (lambda: payloads.list_groups_params(limit=1025), "limit", "1 to 1024"),
        (lambda: payloads.list_groups_params(after="a", before="b"), "after", "at most one"),
    ],
)
def test_invalid_input_is_refused_with_field_and_reason(build, field, fragment):
    with pytest.raises(PayloadError) as caught:
        build()
    assert caught.value.field == field
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")


def test_payload_error_is_a_groupkit_error_and_a_value_error():
    assert issubclass(PayloadError, GroupkitError)
    assert issubclass(PayloadError, ValueError)


def test_pin_accepts_days_quoted_as_in_metas_sample():
    body = {"messaging_product": "whatsapp", "recipient_type": "group", "to": GROUP}
    checked = payloads.check_message(
        body
        | {"type": "pin", "pin": {"type": "pin", "message_id": "wamid.X", "expiration_days": "7"}}
    )
    assert checked["pin"]["expiration_days"] == 7


@pytest.mark.parametrize(
    "body",
    [
        payloads.text_message(GROUP, "hi"),
        payloads.media_message(GROUP, "sticker", media_id="9"),
        payloads.template_message(GROUP, "t1", "pt_BR", [{"type": "header"}]),
        payloads.pin_message(GROUP, "wamid.X", days=1),
        payloads.unpin_message(GROUP, "wamid.X"),
    ],
)
def test_check_message_accepts_every_builder_output_unchanged(body):
    assert payloads.check_message(body) == body


@pytest.mark.parametrize(
    "message_type", ["interactive", "location", "contacts", "reaction", "order"]
)
def test_types_groups_do_not_allow_get_131051(message_type):
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "group",
        "to": GROUP,
        "type": message_type,
        message_type: {},
    }
    with pytest.raises(PayloadError) as caught:
        payloads.check_message(body)
    assert caught.value.code == 131051
    assert "cannot be sent to a group" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"recipient_type": "individual"}, "recipient_type", 131009),
        ({"messaging_product": None}, "messaging_product", 131008),
        ({"type": "carousel"}, "type", 131051),
        ({"text": None}, "text", 131008),
        ({"text": {"body": None}}, "text.body", 131008),
    ],
)
def test_check_message_reports_meta_codes(change, field, code):
    body = payloads.text_message(GROUP, "hi") | change
    with pytest.raises(PayloadError) as caught:
        payloads.check_message(body)
    assert (caught.value.field, caught.value.code) == (field, code)


def test_create_group_trims_the_subject():
    assert payloads.create_group(
        " Runners ", description="Sat 7am", join_approval_mode="approval_required"
    ) == {
        "messaging_product": "whatsapp",
        "subject": "Runners",
        "description": "Sat 7am",
        "join_approval_mode": "approval_required",
    }
