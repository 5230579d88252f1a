"""PinPanel driven through its slider and buttons against the sandbox over real HTTP."""

from __future__ import annotations

import html
import json

import pytest

import groupkit
from groupkit import webhooks
from groupkit.catalog import lookup
from groupkit.client import APIError, SentMessage
from groupkit.widgets import PinPanel, SendPanel
from tests.helpers import wait_for
from tests.widgets.conftest import SECRET_KEY, widget_text


def status_hook(message_id: str, group_id: str, timestamp: int) -> dict:
    status = webhooks.status(message_id, "sent", timestamp, group_id=group_id)
    return webhooks.envelope(
        "messages", {"statuses": [status]}, waba_id="1", messaging_product=None, with_metadata=False
    )


@pytest.fixture
def group(sandbox) -> str:
    return sandbox.group_ids[0]


@pytest.fixture
def sent(client, group) -> list[SentMessage]:
    return [client.send_text(group, f"Notice {n}") for n in range(1, 5)]


def test_pin_posts_the_chosen_message_for_the_chosen_days(sandbox, client, group, sent):
    panel = PinPanel(client, sent=sent)
    panel.group.value = group
    panel.message.value = sent[1].message_id
    panel.days.value = 21

    assert panel.payload["pin"] == {
        "type": "pin",
        "message_id": sent[1].message_id,
        "expiration_days": 21,
    }
    assert html.escape('"expiration_days": 21') in panel.preview.value
    panel.pin_button.click()

    assert isinstance(panel.last_result, SentMessage), panel.result.value
    assert sandbox.pinned(group) == [sent[1].message_id]
    [pin] = panel.pins
    assert (pin.group_id, pin.message_id, pin.days, pin.state) == (
        group,
        sent[1].message_id,
        21,
        "pinned",
    )
    assert pin.action_id == panel.last_result.message_id
    assert "Pinned for 21 days" in panel.result.value
    assert sent[1].message_id[-10:] in panel.session.value


def test_unpin_removes_the_pin(sandbox, client, group, sent):
    panel = PinPanel(client, sent=sent)
    panel.message.value = sent[0].message_id
    panel.pin_button.click()
    assert sandbox.pinned(group) == [sent[0].message_id]

    panel.unpin_button.click()

    assert isinstance(panel.last_result, SentMessage), panel.result.value
    assert panel.last_result.payload["pin"] == {"type": "unpin", "message_id": sent[0].message_id}
    assert sandbox.pinned(group) == []
    assert [p.state for p in panel.pins] == ["unpinned"]
    assert "unpinned" in panel.session.value


def test_a_fourth_pin_unpins_the_oldest_and_the_session_list_says_so(sandbox, client, group, sent):
    panel = PinPanel(client, sent=sent)
    for message in sent:  # four pins in one group
        panel.message.value = message.message_id
        panel.pin_button.click()

    assert sandbox.pinned(group) == [m.message_id for m in sent[1:]]
    states = {p.message_id: p.state for p in panel.pins}
    assert states[sent[0].message_id] == "unpinned automatically"
    assert [states[m.message_id] for m in sent[1:]] == ["pinned"] * 3
    assert "unpinned automatically" in panel.session.value


@pytest.mark.parametrize(("asked", "kept"), [(0, 1), (-5, 1), (1, 1), (30, 30), (31, 30), (99, 30)])
def test_the_slider_keeps_days_within_1_to_30(client, sent, asked, kept):
    panel = PinPanel(client, sent=sent)
    assert (panel.days.min, panel.days.max) == (1, 30)
    panel.days.value = asked
    assert panel.days.value == kept
    assert panel.payload["pin"]["expiration_days"] == kept


@pytest.mark.parametrize("days", [1, 30])
def test_both_bounds_are_accepted_by_the_api(sandbox, client, group, sent, days):
    panel = PinPanel(client, sent=sent)
    panel.days.value = days
    panel.pin_button.click()
    assert isinstance(panel.last_result, SentMessage), panel.result.value
    assert panel.last_result.payload["pin"]["expiration_days"] == days
    assert sandbox.pinned(group) == [panel.selection["message_id"]]


def test_a_pin_in_a_group_where_the_business_is_not_admin_shows_the_advice(sandbox, client):
    members = ["16505550111", "16505550112"]
    not_admin = sandbox.add_group("Parents", participants=members, admin=False)
    message = client.send_text(not_admin, "Bake sale on Friday")
    panel = PinPanel(client, sent=[message])
    panel.group.value = not_admin

    panel.pin_button.click()

    error = panel.last_result
    assert isinstance(error, APIError) and error.code == 10
    assert html.escape(lookup(10).advice) in panel.result.value
    assert panel.pins == []
    assert sandbox.pinned(not_admin) == []
    assert not panel.pin_button.disabled


def test_it_states_the_platform_rules(client):
    rules = PinPanel(client).rules.value
    assert "admin" in rules
    assert "At most 3" in rules
    assert "unpins the oldest automatically" in rules
    assert "1 to 30 days" in rules


def test_recent_messages_come_from_the_archive_newest_first_with_text_where_known(
    sandbox, client, group
):
    other = sandbox.group_ids[1]
    known = client.send_text(group, "Trail run Saturday 8am")
    hooks = [
        status_hook("wamid.OLDEST", group, 1_750_000_000),
        status_hook("wamid.NEWEST", group, 1_750_000_300),
        status_hook("wamid.MIDDLE", group, 1_750_000_100),
        status_hook("wamid.ELSEWHERE", other, 1_750_000_200),
        status_hook(known.message_id, group, 1_750_000_050),
    ]
    archive = groupkit.parse_webhooks(hooks)

    panel = PinPanel(client, archive, sent=[known])
    panel.group.value = group

    ids = [value for _, value in panel.message.options]
    assert ids == ["wamid.NEWEST", "wamid.MIDDLE", known.message_id, "wamid.OLDEST"]
    labels = dict((value, label) for label, value in panel.message.options)
    assert "Trail run Saturday 8am" in labels[known.message_id]
    assert "(text unknown)" in labels["wamid.NEWEST"]
    assert "2025-06-15 15:11:40" in labels["wamid.NEWEST"]
    assert panel.message.value == "wamid.NEWEST"

    panel.group.value = other
    assert [value for _, value in panel.message.options] == ["wamid.ELSEWHERE"]
    panel.pin_button.click()
    assert sandbox.pinned(other) == ["wamid.ELSEWHERE"]


def test_refresh_picks_up_statuses_that_reached_the_archive(sandbox, client, group):
    send = SendPanel(client)
    send.text.value = "Sent from the other panel"
    send.send_button.click()
    message_id = send.last_result.message_id
    panel = PinPanel(client, groupkit.parse_webhooks([]))
    assert message_id not in [v for _, v in panel.message.options]

    archive = wait_for(
        lambda: (
            a
            if message_id
            in set((a := groupkit.read_webhooks(sandbox.archive, workers=1)).statuses["message_id"])
            else None
        )
    )
    panel.refresh(archive)
    panel.group.value = group
    assert message_id in [v for _, v in panel.message.options]


def test_a_group_with_nothing_to_pin_is_explained(sandbox, client):
    panel = PinPanel(client)
    assert panel.message.options == ()
    assert "no recent business message" in panel.errors["message"]
    assert panel.pin_button.disabled and panel.unpin_button.disabled
    before = sandbox.requests
    panel.pin_button.click()
    assert sandbox.requests == before


def test_the_api_key_never_appears_in_the_pin_panel(sandbox, client, sent):
    panel = PinPanel(client, sent=sent)
    panel.pin_button.click()
    sandbox.fail_next("500", "500", "500")
    panel.unpin_button.click()
    assert "131000" in panel.result.value
    everything = "\n".join(
        [
            widget_text(panel),
            repr(panel),
            json.dumps(panel.payload),
            json.dumps(panel.unpin_payload),
            repr(panel.pins),
            str(panel.last_result),
            repr(vars(panel.last_result)),
            repr(vars(panel)),
        ]
    )
    assert SECRET_KEY not in everything
