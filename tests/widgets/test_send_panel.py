"""SendPanel driven through its fields and its button against the sandbox over real HTTP."""

from __future__ import annotations

import html

import httpx
import pytest

import groupkit
from groupkit import payloads
from groupkit.catalog import lookup
from groupkit.client import APIError, GroupClient, SentMessage
from groupkit.widgets import SendPanel
from groupkit.widgets._common import archive_group_names
from tests.helpers import wait_for
from tests.widgets.conftest import SECRET_KEY, widget_text

# (name, message type, field values) that the API accepts.
VALID = [
    ("text", "text", {"text": "Meeting moved to 6pm", "preview_url": True}),
    (
        "image link with caption",
        "image",
        {"media": "https://example.com/menu.jpg", "caption": "Menu"},
    ),
    ("video by media id", "video", {"media_source": "id", "media": "1234567890"}),
    ("audio link", "audio", {"media": "https://example.com/note.ogg"}),
    (
        "document with filename",
        "document",
        {"media": "https://example.com/r.pdf", "filename": "report.pdf", "caption": "Q3"},
    ),
    ("template", "template", {"template_name": "weekly_update", "language": "en_US"}),
    (
        "template with components",
        "template",
        {
            "template_name": "order_ready",
            "language": "en",
            "components": '[{"type": "body", "parameters": [{"type": "text", "text": "Ada"}]}]',
        },
    ),
]

# (name, message type, field values, the field that must explain the problem, words it says)
INVALID = [
    ("empty text", "text", {"text": "   "}, "text", "must not be empty"),
    ("text too long", "text", {"text": "x" * 4097}, "text", "the limit is 4096"),
    ("image without media", "image", {"media": ""}, "media", "got neither"),
    ("image link not a URL", "image", {"media": "menu.jpg"}, "media", "http(s) URL"),
    (
        "video caption too long",
        "video",
        {"media": "https://example.com/v.mp4", "caption": "c" * 1025},
        "caption",
        "the limit is 1024",
    ),
    ("audio media id blank", "audio", {"media_source": "id", "media": ""}, "media", "got neither"),
    ("document ftp link", "document", {"media": "ftp://example.com/r.pdf"}, "media", "http(s)"),
    (
        "template name with capitals",
        "template",
        {"template_name": "Weekly Update"},
        "template_name",
        "lower-case letters",
    ),
    (
        "template bad language",
        "template",
        {"template_name": "weekly_update", "language": "english please"},
        "language",
        "language code",
    ),
    (
        "template components not JSON",
        "template",
        {"template_name": "weekly_update", "components": "[{type: body}"},
        "components",
        "not valid JSON",
    ),
    (
        "template components not a list",
        "template",
        {"template_name": "weekly_update", "components": '{"type": "body"}'},
        "components",
        "JSON list",
    ),
]


def fill(panel: SendPanel, message_type: str, values: dict) -> None:
    panel.message_type.value = message_type
    for name, value in values.items():
        getattr(panel, name).value = value


@pytest.mark.parametrize(("name", "message_type", "values"), VALID, ids=[v[0] for v in VALID])
def test_valid_input_previews_the_body_and_sends_it(sandbox, client, name, message_type, values):
    panel = SendPanel(client)
    fill(panel, message_type, values)

    assert panel.errors == {}
    assert not panel.send_button.disabled
    assert panel.payload == payloads.check_message(panel.payload)
    assert panel.payload["to"] == panel.group.value == sandbox.group_ids[0]
    assert panel.payload["type"] == message_type
    shown = panel.payload
    assert html.escape(f'"type": "{message_type}"') in panel.preview.value

    panel.send_button.click()

    result = panel.last_result
    assert isinstance(result, SentMessage), panel.result.value
    assert result.payload == shown, "the preview must be exactly the body that was posted"
    assert result.message_id in sandbox.outcomes
    assert result.message_id in panel.result.value
    assert panel.sent == [result]
    assert not panel.send_button.disabled and panel.send_button.description == "Send"


@pytest.mark.parametrize(
    ("name", "message_type", "values", "field", "words"), INVALID, ids=[v[0] for v in INVALID]
)
def test_invalid_input_is_explained_at_the_field_and_send_stays_disabled(
    sandbox, client, name, message_type, values, field, words
):
    panel = SendPanel(client)
    fill(panel, message_type, values)

    assert panel.payload is None
    assert words in panel.errors[field]
    assert html.escape(words) in panel.error_labels[field].value
    assert panel.send_button.disabled
    assert "nothing to send" in panel.preview.value
    before = sandbox.requests
    panel.send_button.click()  # a disabled button in a browser cannot be clicked; code can
    assert sandbox.requests == before, "an invalid form must never reach the API"
    assert panel.last_result is None


def test_fixing_the_field_clears_its_error_and_enables_send(client):
    panel = SendPanel(client)
    assert "text" in panel.errors and panel.send_button.disabled  # nothing typed yet
    panel.text.value = "Hi"
    assert panel.errors == {} and panel.error_labels["text"].value == ""
    assert not panel.send_button.disabled


def test_only_the_fields_a_type_needs_are_shown(client):
    panel = SendPanel(client)

    def visible():
        return {name for name, row in panel._rows.items() if row.layout.display != "none"}

    always = {"group", "message_type"}
    assert visible() == always | {"text", "preview_url"}
    panel.message_type.value = "audio"
    assert visible() == always | {"media_source", "media"}
    panel.message_type.value = "document"
    assert visible() == always | {"media_source", "media", "caption", "filename"}
    panel.message_type.value = "template"
    assert visible() == always | {"template_name", "language", "components"}


def test_a_caption_typed_for_an_image_is_not_sent_with_audio(client):
    panel = SendPanel(client)
    fill(panel, "image", {"media": "https://example.com/a.jpg", "caption": "Menu"})
    assert panel.payload["image"]["caption"] == "Menu"
    panel.message_type.value = "audio"
    assert panel.payload["audio"] == {"link": "https://example.com/a.jpg"}


def test_a_send_the_api_refuses_shows_the_error_and_its_advice(sandbox, client):
    solo = sandbox.add_group("Just me")  # no participants: the API answers 131020
    panel = SendPanel(client)
    panel.group.value = solo
    panel.text.value = "Anyone here?"

    panel.send_button.click()

    error = panel.last_result
    assert isinstance(error, APIError) and error.code == 131020
    assert "131020" in panel.result.value
    assert html.escape(lookup(131020).advice) in panel.result.value
    assert panel.sent == []
    assert not panel.send_button.disabled, "the user may fix the group and try again"


def test_a_rate_limited_send_succeeds_after_the_retry(sandbox, client, sleeps):
    panel = SendPanel(client)
    panel.text.value = "Flash sale"
    sandbox.fail_next("429")

    panel.send_button.click()

    sent = panel.last_result
    assert isinstance(sent, SentMessage), panel.result.value
    assert sent.attempts == 2
    assert sleeps.delays == [sandbox.retry_after]
    assert "after 2 attempts" in panel.result.value
    assert sent.message_id in sandbox.outcomes


def test_the_button_is_disabled_and_says_so_while_the_send_is_in_flight(sandbox):
    seen: list[tuple[bool, str]] = []
    panel: SendPanel | None = None

    class Spy(httpx.HTTPTransport):
        def handle_request(self, request):
            if request.method == "POST" and panel is not None:
                seen.append((panel.send_button.disabled, panel.send_button.description))
            return super().handle_request(request)

    with GroupClient(api_key=SECRET_KEY, base_url=sandbox.url, transport=Spy()) as client:
        panel = SendPanel(client)
        panel.text.value = "Hello"
        panel.send_button.click()

    assert seen == [(True, "Sending…")]
    assert (panel.send_button.disabled, panel.send_button.description) == (False, "Send")


def test_groups_come_from_an_archive_with_their_names(sandbox, client, tmp_path):
    client.create_group("Runners")  # the sandbox answers with a group_create webhook
    archive_dir = sandbox.archive
    runners = wait_for(
        lambda: [
            gid
            for gid, name in archive_group_names(
                groupkit.read_webhooks(archive_dir, workers=1)
            ).items()
            if name == "Runners"
        ]
    )[0]
    archive = groupkit.read_webhooks(archive_dir, workers=1)
    sandbox.join(runners, ["16505550101", "16505550102"])

    panel = SendPanel(client, groups=archive)

    labels = dict((gid, label) for label, gid in panel.group.options)
    assert labels[runners].startswith("Runners (…")
    panel.group.value = runners
    panel.text.value = "Welcome, runners"
    assert panel.selection == {"group_id": runners, "message_type": "text"}
    panel.send_button.click()
    assert isinstance(panel.last_result, SentMessage), panel.result.value
    assert panel.last_result.group_id == runners


def test_groups_can_be_given_as_a_mapping_of_names(client, sandbox):
    first, second = sandbox.group_ids
    panel = SendPanel(client, groups={second: "Second", first: None})
    assert [label for label, _ in panel.group.options] == [
        f"Second (…{second[-4:]})",
        f"…{first[-4:]}",
    ]
    assert panel.group.value == second


def test_no_group_to_choose_from_is_explained(client):
    panel = SendPanel(client, groups=[])
    panel.text.value = "Hello"
    assert panel.errors == {"group": "choose a group"}
    assert panel.send_button.disabled


def test_the_api_key_never_appears_in_the_widget_or_its_output(sandbox, client):
    solo = sandbox.add_group("Solo")
    panel = SendPanel(client)
    panel.text.value = "ok"
    panel.send_button.click()
    ok = panel.last_result
    panel.group.value = solo
    panel.send_button.click()
    failed = panel.last_result
    sandbox.fail_next("500", "500", "500")
    panel.send_button.click()

    assert isinstance(ok, SentMessage) and isinstance(failed, APIError)
    everything = "\n".join(
        [
            widget_text(panel),
            repr(panel),
            str(panel.payload),
            repr(panel.sent),
            str(ok.payload),
            str(failed),
            repr(failed.__dict__),
            str(panel.last_result),
            str(panel.selection),
            repr(vars(panel)),
        ]
    )
    assert SECRET_KEY not in everything
    assert "131000" in panel.result.value  # the last, failing send is shown
