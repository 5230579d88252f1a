"""The webhook builders write what Meta sends: checked against the reference's own examples.

The expected bodies below are copied from ``shared/reference/groups-api.md`` (the receive
group message example of section 1.3 and the ``group_participants_update`` example of
section 2.3), key order included, so JSON written from the builders reads like them.
"""

from __future__ import annotations

import json

import groupkit
from groupkit import webhooks

# Section 1.3, "Example (M-WG)": an inbound text message in a group.
REFERENCE_INBOUND = """{
  "object": "whatsapp_business_account",
  "entry": [{"id": "102290129340398", "changes": [{"value": {
    "messaging_product": "whatsapp",
    "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
    "contacts": [{"profile": {"name": "Tiago Mingo"}, "wa_id": "16505551234"}],
    "messages": [{
      "from": "16505551234",
      "group_id": "HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA",
      "id": "wamid.HASDI128HJOPUERIH82ahdasd09ASDHi5>",
      "timestamp": "1744344496",
      "text": {"body": "What does everyone think about this?"},
      "type": "text"}]},
    "field": "messages"}]}]}"""

# Section 2.3: a participant joined through the invite link (placeholders filled in).
REFERENCE_JOIN = """{
  "object": "whatsapp_business_account",
  "entry": [{"id": "W1", "changes": [{"value": {
    "messaging_product": "whatsapp",
    "metadata": {"display_phone_number": "D1", "phone_number_id": "P1"},
    "groups": [{"timestamp": "1750000000", "group_id": "G1",
                "type": "group_participants_add", "reason": "invite_link",
                "added_participants": [{"wa_id": "16505550101"}]}]},
    "field": "group_participants_update"}]}]}"""


def _same_with_order(built: dict, reference: str) -> None:
    want = json.loads(reference)
    assert built == want
    assert json.dumps(built) == json.dumps(want)  # key order too


def test_an_inbound_message_post_is_the_reference_example():
    message = webhooks.inbound_message(
        "16505551234",
        "HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA",
        "wamid.HASDI128HJOPUERIH82ahdasd09ASDHi5>",
        1744344496,
        "text",
        text={"body": "What does everyone think about this?"},
    )
    value = {"contacts": [webhooks.contact("16505551234", "Tiago Mingo")], "messages": [message]}
    _same_with_order(webhooks.envelope("messages", value), REFERENCE_INBOUND)


def test_a_participants_update_post_is_the_reference_example():
    event = webhooks.group_event(
        "group_participants_add",
        "G1",
        1750000000,
        reason="invite_link",
        added_participants=[{"wa_id": "16505550101"}],
    )
    hook = webhooks.envelope(
        "group_participants_update",
        {"groups": [event]},
        waba_id="W1",
        meta=webhooks.metadata("P1", "D1"),
    )
    _same_with_order(hook, REFERENCE_JOIN)


def test_statuses_read_back_as_written():
    sent = webhooks.status("wamid.A", "sent", 1750000000, group_id="G1")
    read = webhooks.status("wamid.A", "read", 1750000007, group_id="G1", participant="1650")
    archive = groupkit.parse_webhooks([webhooks.envelope("messages", {"statuses": [sent, read]})])
    rows = archive.statuses[["message_id", "status", "group_id", "participant_id"]]
    assert rows.astype(object).where(rows.notna(), None).values.tolist() == [
        ["wamid.A", "sent", "G1", None],
        ["wamid.A", "read", "G1", "1650"],
    ]
    assert archive.statuses["timestamp"].iloc[1].timestamp() == 1750000007


def test_a_malformed_timestamp_passes_through_for_fixtures():
    assert webhooks.status("m", "sent", "soon", group_id="G")["timestamp"] == "soon"
    assert webhooks.status("m", "sent", None, group_id="G")["timestamp"] is None
