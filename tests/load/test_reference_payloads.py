"""Every webhook example in the reference, and every peer fixture, loads without loss.

Expected counts are computed here by walking the raw JSON, independently of the loader.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import groupkit
from groupkit import schema
from tests.load.reference_samples import BSUID_ALTERNATIVES, REFERENCE, webhook_samples
from tests.load.webhooks import PEER_FIXTURES

pytestmark = pytest.mark.skipif(
    not REFERENCE.exists(), reason="../shared/reference is not beside the checkout"
)

GROUP_FIELDS = set(schema.GROUP_FIELDS)


def _count(hook: dict) -> dict[str, int]:
    """Rows each frame should get, by walking the webhook's JSON."""
    n = dict.fromkeys(
        ("statuses", "messages", "errors", "group_events", "membership", "other_changes"), 0
    )
    for entry in hook["entry"]:
        for change in entry["changes"]:
            value, field = change.get("value") or {}, change.get("field")
            n["errors"] += len(value.get("errors") or [])
            if field == "messages":
                for st in value.get("statuses") or []:
                    n["statuses"] += 1
                    n["errors"] += len(st.get("errors") or [])
                for msg in value.get("messages") or []:
                    n["messages"] += 1
                    n["errors"] += len(msg.get("errors") or [])
            elif field in GROUP_FIELDS:
                for item in value.get("groups") or []:
                    n["group_events"] += 1
                    n["membership"] += len(item.get("added_participants") or [])
                    n["membership"] += len(item.get("removed_participants") or [])
                    # A participant the request could not add or remove is a row too.
                    n["membership"] += len(item.get("failed_participants") or [])
                    n["errors"] += len(item.get("errors") or [])
                    for part in item.get("failed_participants") or []:
                        n["errors"] += len(part.get("errors") or [])
                    for key in ("group_subject", "group_description", "profile_picture"):
                        n["errors"] += len((item.get(key) or {}).get("errors") or [])
            else:
                n["other_changes"] += 1
    return n


def _whole_changes(archive: groupkit.Archive) -> dict[str, pd.DataFrame]:
    """The frames, with other_changes cut to whole changes of unmodelled fields (its
    ``envelope`` rows, the undeclared keys around modelled changes, are the leaf test's)."""
    frames = archive.frames()
    other = frames["other_changes"]
    frames["other_changes"] = other[other["kind"] == "change"]
    return frames


SAMPLES = webhook_samples() if REFERENCE.exists() else []


def test_the_reference_has_the_samples_we_expect():
    kinds = {name.split("@")[0] for name, _ in SAMPLES}
    assert kinds == {"json", "jsonc", "yaml"}
    assert len(SAMPLES) >= 40


@pytest.mark.parametrize(
    ("name", "hook"),
    SAMPLES + list(BSUID_ALTERNATIVES.items()),
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_reference_sample_loads_without_loss(name, hook):
    archive = groupkit.parse_webhooks([hook])
    assert archive.report.rejects == []
    got = {frame: len(df) for frame, df in _whole_changes(archive).items() if frame != "sends"}
    assert got == _count(hook)


def test_reference_hazards():
    """Section 7 of the reference: spellings, placements and shapes that trip peers."""
    by_name = dict(SAMPLES)
    loaded = {name: groupkit.parse_webhooks([hook]) for name, hook in SAMPLES}
    statuses = pd.concat([a.statuses for a in loaded.values()])
    # Both participant spellings land in participant_id.
    assert "GROUP_PARTICIPANT_PHONE_NUMBER" in set(statuses["participant_id"])
    # Pricing nested in conversation (aggregated samples) and as a sibling both read.
    assert statuses["billable"].eq(True).sum() >= 6
    assert set(statuses["pricing_category"].dropna()) >= {"CONVERSATION_CATEGORY"}
    # Group statuses take the group from recipient_id.
    group_rows = statuses[statuses["recipient_type"] == "group"]
    assert group_rows["group_id"].equals(group_rows["recipient_id"])
    # initiated_by moved into its object by the sanitiser, read from the group object.
    events = pd.concat([a.group_events for a in loaded.values()])
    assert set(events["initiated_by"].dropna()) == {"business", "participant"}
    # A leave by a participant is a membership change with that participant.
    membership = pd.concat([a.membership for a in loaded.values()])
    leaves = membership[
        (membership["change"] == "leave") & (membership["initiated_by"] == "participant")
    ]
    assert leaves["participant_id"].tolist() == ["WHATSAPP_ID"]
    # Unsupported group messages keep their type and error 130501.
    messages = pd.concat([a.messages for a in loaded.values()])
    unsupported = messages[messages["type"] == "unsupported"]
    assert set(unsupported["error_code"].dropna()) == {130501, 131051}
    assert "edit" in set(unsupported["unsupported_type"].dropna())
    assert len(by_name) == len(SAMPLES)


def test_bsuid_alternatives_map_ids_to_the_right_columns():
    archive = groupkit.parse_webhooks(list(BSUID_ALTERNATIVES.values()))
    mem = archive.membership[["change", "participant_id", "participant_user_id"]].fillna("")
    assert sorted(map(tuple, mem.values.tolist())) == [
        ("join", "16505551234", "US.13491208655302741918"),
        ("leave", "", "US.13491208655302741918"),
        ("leave", "16505551234", "US.13491208655302741918"),
    ]
    requests = archive.group_events.dropna(subset=["join_request_id"])
    assert set(requests["participant_user_id"]) == {"US.13491208655302741918"}


# ------------------------------------------------------------------ peer fixtures (pywa)

PEER_FILES = sorted(PEER_FIXTURES.glob("*.json")) if PEER_FIXTURES.exists() else []


@pytest.mark.skipif(
    not PEER_FILES, reason="../shared/peer_fixtures/pywa is not beside the checkout"
)
def test_every_peer_fixture_loads_with_zero_rejects_and_nothing_lost():
    archive = groupkit.read_webhooks(PEER_FIXTURES)
    expected = dict.fromkeys(
        ("statuses", "messages", "errors", "group_events", "membership", "other_changes"), 0
    )
    n_hooks = 0
    for path in PEER_FILES:
        for hook in json.loads(path.read_text()).values():
            n_hooks += 1
            for frame, n in _count(hook).items():
                expected[frame] += n
    report = archive.report
    assert report.rejects == []
    assert report.records_read == report.webhooks_parsed == n_hooks == 74
    whole = archive.other_changes["kind"].eq("change").sum()
    got = {f: report.rows[f] + report.duplicates[f] for f in expected} | {"other_changes": whole}
    assert got == expected
    # The fixtures reuse ids, but no two are the same event: nothing may be dropped.
    assert sum(report.duplicates.values()) == 0
    # Pinned, so a change in what is read shows up here.
    assert {f: report.rows[f] for f in ("statuses", "messages", "errors")} == {
        "statuses": 7,
        "messages": 36,
        "errors": 5,
    }
    assert report.unknown_fields == {
        "account_update": 17,
        "calls": 4,
        "smb_message_echoes": 3,
        "template_category_update": 1,
        "message_template_components_update": 1,
        "message_template_quality_update": 1,
        "message_template_status_update": 2,
        "user_preferences": 2,
    }


@pytest.mark.skipif(
    not PEER_FILES, reason="../shared/peer_fixtures/pywa is not beside the checkout"
)
def test_peer_fixture_details():
    archive = groupkit.read_webhooks(PEER_FIXTURES)
    st = archive.statuses.set_index(archive.statuses["source"].str.split("#").str[1])
    group = st.loc["group"]
    assert (group["group_id"], group["participant_id"], group["participant_user_id"]) == (
        "fowefinoewcnw",
        "<GROUP_PARTICIPANT_USER_PHONE_NUMBER>",
        "US.123456",
    )
    assert st.loc["with_tracker", "biz_opaque_callback_data"] == "some data"
    assert pd.isna(st.loc["sent", "group_id"])  # 1:1 statuses have no group
    msgs = archive.messages.set_index(archive.messages["source"].str.split("#").str[1])
    assert msgs.loc["reaction", "reaction_emoji"] == "\U0001f62e"
    assert msgs.loc["video", "text"] == "caption" and msgs.loc["video", "forwarded"]
    assert msgs.loc["reply", "context_message_id"] == "wamid.xyzxyz=="
    assert msgs.loc["unsupported_with_type", "unsupported_type"] == "pool"
    assert msgs.loc["quick_reply", "text"] == "title"
    assert msgs.loc["text", "contact_name"] == "Test Name"
    calls = archive.other_changes[archive.other_changes["field"] == "calls"]
    assert all(json.loads(raw) for raw in calls["raw"])  # kept verbatim, valid JSON
    assert "webhook" in set(archive.errors["origin"])  # value.errors of the interactive sample
