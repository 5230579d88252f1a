"""What analysts use has a column: attribution, contacts, BSUIDs, settings, pricing by date.

Hand-written cases pin each behaviour; where the real payload a column was made for
is in ``../shared/peer_fixtures/realworld/``, it is read too.
"""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest

import groupkit
from tests.load.webhooks import GROUP, PEER_FIXTURES, hook, status, statuses, text_message

REALWORLD = PEER_FIXTURES.parent / "realworld"


def _fixture(name: str) -> dict:
    path = REALWORLD / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return json.loads(path.read_text())


def _one(frame: pd.DataFrame) -> pd.Series:
    assert len(frame) == 1, frame
    return frame.iloc[0]


# ------------------------------------------------------------------ inbound messages


def test_click_to_whatsapp_referral_has_columns():
    m = _one(
        groupkit.parse_webhooks(
            [_fixture("ArielAmzalak__WBAPI_Doc__meta-text-ctwa-referral.json")]
        ).messages
    )
    assert m["referral_source_type"] == "ad"
    assert m["referral_source_id"] == "120226305854810726"
    assert m["referral_headline"] == "Chat with us"
    assert m["referral_ctwa_clid"].startswith("Aff-n8ZTODiE79d22")
    assert m["referral_welcome_text"] == "Hi there! Let us know how we can help!"
    assert m["text"] == "Can I get more info about this?"
    assert pd.isna(m["extra"])


def test_referred_product_and_contact_details():
    message = text_message("wamid.P", sender="16505551234")
    value = message["entry"][0]["changes"][0]["value"]
    value["messages"][0]["context"] = {
        "from": "16505550000",
        "id": "wamid.Q",
        "referred_product": {"catalog_id": "CAT1", "product_retailer_id": "SKU-9"},
    }
    value["contacts"] = [
        {
            "profile": {"name": "Ana", "username": "@ana", "country_code": "BR"},
            "wa_id": "5511999990000",  # differs from `from`: kept apart
            "user_id": "BR.1234",
            "parent_user_id": "BR.PARENT",
        }
    ]
    m = _one(groupkit.parse_webhooks([message]).messages)
    assert (m["referred_product_catalog_id"], m["referred_product_retailer_id"]) == (
        "CAT1",
        "SKU-9",
    )
    assert (m["contact_name"], m["contact_username"], m["contact_country_code"]) == (
        "Ana",
        "@ana",
        "BR",
    )
    assert (m["contact_wa_id"], m["from_id"]) == ("5511999990000", "16505551234")
    assert (m["contact_user_id"], m["contact_parent_user_id"]) == ("BR.1234", "BR.PARENT")


def test_a_message_without_type_keeps_its_object():
    message = text_message("wamid.L")
    item = message["entry"][0]["changes"][0]["value"]["messages"][0]
    del item["type"], item["text"]
    item["location"] = {"latitude": 38.9, "longitude": -77.03, "name": "Here"}
    m = _one(groupkit.parse_webhooks([message]).messages)
    assert pd.isna(m["type"])
    assert json.loads(m["payload"]) == {"latitude": 38.9, "longitude": -77.03, "name": "Here"}
    assert pd.isna(m["extra"])


def test_media_hash_and_system_ids():
    message = text_message("wamid.S")
    item = message["entry"][0]["changes"][0]["value"]["messages"][0]
    item.update(type="image", image={"id": "M1", "mime_type": "image/jpeg", "sha256": "abc="})
    del item["text"]
    system = copy.deepcopy(message)
    s_item = system["entry"][0]["changes"][0]["value"]["messages"][0]
    s_item.update(id="wamid.SYS", type="system")
    del s_item["image"]
    s_item["system"] = {"body": "NAME changed from A to B", "type": "user_changed_number",
                        "wa_id": "111", "new_wa_id": "222", "customer": "CUST"}  # fmt: skip
    frame = groupkit.parse_webhooks([message, system]).messages.set_index("message_id")
    assert frame.loc["wamid.S", "media_sha256"] == "abc="
    sys_row = frame.loc["wamid.SYS"]
    assert (sys_row["system_type"], sys_row["system_wa_id"], sys_row["system_new_wa_id"]) == (
        "user_changed_number", "111", "222"
    )  # fmt: skip
    assert sys_row["system_customer"] == "CUST" and sys_row["text"] == "NAME changed from A to B"


def test_an_undeclared_key_lands_in_extra_in_canonical_form():
    message = text_message("wamid.X")
    item = message["entry"][0]["changes"][0]["value"]["messages"][0]
    item["zeta"] = {"b": 1.0, "a": [2]}
    item["context"] = {"id": "wamid.Y", "new_flag": True}
    m = _one(groupkit.parse_webhooks([message]).messages)
    assert m["extra"] == '{"context":{"new_flag":true},"zeta":{"a":[2],"b":1}}'
    assert m["context_message_id"] == "wamid.Y"


# ------------------------------------------------------------------ statuses


def test_a_bsuid_only_status_names_its_recipient_and_contact():
    s = _one(
        groupkit.parse_webhooks(
            [_fixture("ArielAmzalak__WBAPI_Doc__meta-bsuid-status-no-phone.json")]
        ).statuses
    )
    assert s["recipient_id"] == ""
    assert s["recipient_user_id"].startswith("user.9373795779eb")
    assert (s["contact_name"], s["contact_username"], s["contact_country_code"]) == (
        "Pablo M.", "@pablomorales", "US"
    )  # fmt: skip
    assert s["contact_user_id"] == s["recipient_user_id"]


def test_pricing_subtype_expiry_entry_time_and_display_number():
    st = status("wamid.T", "delivered", participant="16505550001")
    st["pricing"] = {"billable": False, "pricing_model": "PMP", "category": "group_service",
                     "type": "free_group_customer_service", "subtype": "paid_exempt"}  # fmt: skip
    st["conversation"] = {"id": "C", "expiration_timestamp": "1760003600"}
    post = statuses(st)
    post["entry"][0]["time"] = 1760000005
    s = _one(groupkit.parse_webhooks([post]).statuses)
    assert s["pricing_subtype"] == "paid_exempt"
    assert s["conversation_expires_at"] == pd.Timestamp(1760003600, unit="s", tz="UTC")
    assert s["entry_time"] == pd.Timestamp(1760000005, unit="s", tz="UTC")
    assert s["display_phone_number"] == "15550783881"


def test_pricing_type_is_read_with_its_date():
    def priced(mid: str, ts: int) -> dict:
        st = status(mid, "delivered", ts, participant="16505550001")
        st["pricing"] = {"type": "free_group_customer_service", "category": "group_service"}
        return statuses(st)

    before = priced("wamid.B", 1_790_500_000)  # 2026-09-27
    after = priced("wamid.A", 1_791_500_000)  # 2026-10-09
    assert groupkit.parse_webhooks([before]).report.notes == []
    assert groupkit.parse_webhooks([after]).report.notes == []
    spans = groupkit.parse_webhooks([before, after]).report
    assert len(spans.notes) == 1
    assert "pricing_type changed meaning on 2026-10-01" in spans.notes[0]
    assert "free tier" in spans.notes[0] and "open group service window" in spans.notes[0]
    assert "notes:" in str(spans)
    doc = groupkit.schema.STATUSES["pricing_type"].doc
    assert "2026-10-01" in doc


# ------------------------------------------------------------------ group settings and members


def _settings(subject_ok: bool, description_ok: bool | None = None) -> dict:
    item = {"timestamp": "1750000000", "group_id": GROUP, "type": "group_settings_update",
            "group_subject": {"text": "New name", "update_successful": subject_ok}}  # fmt: skip
    if not subject_ok:
        item["group_subject"]["errors"] = [{"code": 131000, "title": "Something went wrong"}]
    if description_ok is not None:
        item["group_description"] = {"text": "New text", "update_successful": description_ok}
    item["profile_picture"] = {"mime_type": "image/jpeg", "sha256": "H", "update_successful": True}
    return hook("group_settings_update", {"groups": [item]})


def test_a_failed_settings_change_never_reads_as_the_new_state():
    archive = groupkit.parse_webhooks([_settings(False, True)])
    e = _one(archive.group_events)
    assert pd.isna(e["subject"])  # the subject did not change
    assert (e["subject_requested"], e["subject_updated"]) == ("New name", False)
    assert (e["description"], e["description_updated"]) == ("New text", True)
    assert (e["picture_sha256"], e["picture_updated"]) == ("H", True)
    assert not e["update_successful"]
    err = _one(archive.errors)
    assert (err["setting"], err["code"], err["group_id"]) == ("group_subject", 131000, GROUP)
    ok = _one(groupkit.parse_webhooks([_settings(True)]).group_events)
    assert ok["subject"] == "New name" and ok["update_successful"]


def test_the_real_partial_failure_reads_the_same_way():
    archive = groupkit.parse_webhooks(
        [_fixture("ArielAmzalak__WBAPI_Doc__meta-group-settings-partial-fail.json")]
    )
    e = _one(archive.group_events)
    assert pd.isna(e["subject"]) and pd.isna(e["description"])
    assert e["subject_requested"] == "Test Subject" and e["picture_updated"]
    assert set(archive.errors["setting"].dropna()) == {"group_subject", "group_description"}


def test_failed_participants_are_rows_by_input():
    archive = groupkit.parse_webhooks(
        [_fixture("ArielAmzalak__WBAPI_Doc__meta-group-remove-partial-fail.json")]
    )
    mem = archive.membership[["change", "participant_input", "error_code"]]
    assert mem.astype(object).where(mem.notna(), None).values.tolist() == [
        ["leave", "PHONE_NUMBER or WHATSAPP_ID", None],
        ["remove_failed", "PHONE_NUMBER or WHATSAPP_ID", 900001],
    ]


def test_failed_participants_do_not_change_who_is_a_member():
    joined = {"timestamp": "1750000000", "group_id": GROUP, "type": "group_participants_add",
              "added_participants": [{"input": "16505550001", "wa_id": "16505550001",
                                      "username": "@one", "parent_user_id": "US.P"}]}  # fmt: skip
    # Later, a request to add the same person again fails: they are still a member.
    again = {"timestamp": "1750000050", "group_id": GROUP, "type": "group_participants_add",
             "failed_participants": [{"input": "16505550001"}]}  # fmt: skip
    events = [hook("group_participants_update", {"groups": [g]}) for g in (joined, again)]
    archive = groupkit.parse_webhooks([*events, statuses(status("wamid.M", "sent", 1750000100))])
    mem = archive.membership.set_index("change")
    assert mem.loc["join", "participant_username"] == "@one"
    assert mem.loc["join", "participant_parent_user_id"] == "US.P"
    assert mem.loc["add_failed", "participant_id"] == "16505550001"
    deliveries = groupkit.deliveries(archive)
    assert deliveries["participant_id"].tolist() == ["16505550001"]


def test_old_flat_error_details_are_read():
    message = text_message("wamid.E")
    item = message["entry"][0]["changes"][0]["value"]["messages"][0]
    item.update(type="unknown", errors=[{"code": 131051, "details": "Not supported", "title": "U"}])
    err = _one(groupkit.parse_webhooks([message]).errors)
    assert (err["code"], err["details"], err["origin"]) == (131051, "Not supported", "message")


# ------------------------------------------------------------------ envelopes and redeliveries


def test_an_unexpected_object_and_new_value_keys_are_kept_in_other_changes():
    post = statuses(status("wamid.O", "sent"))
    post["object"] = "instagram"
    post["entry"][0]["changes"][0]["value"]["user_actions"] = [{"action": "block", "wa_id": "1"}]
    archive = groupkit.parse_webhooks([post])
    assert len(archive.statuses) == 1
    row = _one(archive.other_changes)
    assert (row["kind"], row["field"]) == ("envelope", "messages")
    assert json.loads(row["raw"]) == {
        "record": {"object": "instagram"},
        "value": {"user_actions": [{"action": "block", "wa_id": "1"}]},
    }
    assert archive.report.unknown_fields == {}  # no field groupkit does not read


def _respell(text: str) -> str:
    """The same JSON, pretty-printed with its keys in reverse order and 1 as 1.0."""

    def reverse(obj):
        if isinstance(obj, dict):
            return {k: reverse(obj[k]) for k in reversed(list(obj))}
        if isinstance(obj, list):
            return [reverse(v) for v in obj]
        return float(obj) if isinstance(obj, int) and not isinstance(obj, bool) else obj

    return json.dumps(reverse(json.loads(text)), indent=2)


def test_redeliveries_are_found_by_content_not_by_spelling(tmp_path):
    message = text_message("wamid.R")
    m_item = message["entry"][0]["changes"][0]["value"]["messages"][0]
    m_item.update(type="location", location={"latitude": 1, "longitude": 2, "name": "x"})
    del m_item["text"]
    m_item["brand_new"] = {"n": 3}
    calls = hook("calls", {"calls": [{"id": "c1", "duration": 30, "to": "1"}]})
    st = statuses(status("wamid.R", "delivered", participant="1", extra={"n": 4}))
    docs = [message, calls, st]
    (tmp_path / "compact.ndjson").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (tmp_path / "pretty.json").write_text(
        "[" + ",".join(_respell(json.dumps(d)) for d in docs) + "]"
    )
    archive = groupkit.read_webhooks(tmp_path)
    assert archive.report.rejects == []
    assert (len(archive.messages), len(archive.other_changes), len(archive.statuses)) == (1, 1, 1)
    dup = archive.report.duplicates
    assert (dup["messages"], dup["other_changes"], dup["statuses"]) == (1, 1, 1)


def test_identical_items_inside_one_post_stay_two_rows():
    post = statuses(
        status("wamid.D", "read", participant="1"), status("wamid.D", "read", participant="1")
    )
    archive = groupkit.parse_webhooks([post])
    assert len(archive.statuses) == 2 and archive.report.duplicates["statuses"] == 0
