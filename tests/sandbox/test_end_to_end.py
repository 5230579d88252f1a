"""The whole loop on a laptop: send through the client, the sandbox emits statuses into an
archive, and read_webhooks finds the message's per-participant deliveries."""

from __future__ import annotations

import json

import groupkit
from groupkit.sandbox import serve
from tests.helpers import wait_for

KEY = "e2e-key-0001"


def sent_status_written(path, message_id):
    file = path / "sandbox-webhooks.ndjson"
    if not file.exists():
        return False
    needle = f'"id":"{message_id}","status":"sent"'
    return needle in file.read_text()


def test_send_then_statuses_then_analysis(tmp_path):
    archive_dir = tmp_path / "archive"
    with (
        serve(seed=42, api_key=KEY, archive=archive_dir, failure_rate=0.0, duplicate=0.2) as box,
        groupkit.GroupClient(
            api_key=KEY, base_url=box.url, send_log=tmp_path / "sends.jsonl"
        ) as client,
    ):
        group_id = box.group_ids[0]
        sent = client.send_text(group_id, "Training is on tonight")
        wait_for(lambda: sent_status_written(archive_dir, sent.message_id))
        assert box.flush()
        truth = box.outcomes[sent.message_id]

    statuses = groupkit.read_webhooks(archive_dir, workers=1).statuses
    mine = statuses[statuses["message_id"] == sent.message_id]
    assert set(mine["group_id"]) == {group_id}
    assert (mine["status"] == "sent").any()
    delivered_or_read = mine[mine["status"].isin(["delivered", "read"])]
    expected = {r.participant_id for r in truth.receipts if r.delivered_at is not None}
    assert expected  # the seed gives a group where someone received it
    assert set(delivered_or_read["participant_id"]) == expected
    readers = {r.participant_id for r in truth.receipts if r.read_at is not None}
    assert set(mine.loc[mine["status"] == "read", "participant_id"]) == readers

    record = json.loads((tmp_path / "sends.jsonl").read_text())
    assert record["message_id"] == sent.message_id and record["ok"] is True
    assert KEY not in (tmp_path / "sends.jsonl").read_text()
