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


def test_the_sandbox_posts_signed_webhooks_that_groupkit_receive_archives(tmp_path):
    """Client -> sandbox -> signed POSTs -> groupkit receive -> read_webhooks: the same data
    as the sandbox's own archive, every POST accepted on its signature."""
    from groupkit.receiver import ReceiverSecrets, Secret
    from groupkit.receiver import serve as receive

    app_secret = "e2e-app-secret-5c"
    secrets = ReceiverSecrets(app_secret=Secret(app_secret))
    with (
        receive(tmp_path / "received", secrets=secrets) as receiver,
        serve(
            seed=7,
            api_key=KEY,
            archive=tmp_path / "sandbox",
            webhook_url=receiver.url + "/webhook",
            app_secret=app_secret,
            failure_rate=0.0,
        ) as box,
        groupkit.GroupClient(api_key=KEY, base_url=box.url) as client,
    ):
        sent = [client.send_text(group, "hello") for group in box.group_ids]
        assert box.flush(timeout=30)
        delivered, failures = box.emitter.delivered, box.emitter.delivery_failures
        counts = receiver.metrics.snapshot()

    assert failures == 0 and delivered == len(box.emitter.emitted) > len(sent)
    assert counts["accepted"] == delivered and counts["rejected_signature"] == 0

    received = groupkit.read_webhooks(tmp_path / "received", workers=1)
    own = groupkit.read_webhooks(tmp_path / "sandbox", workers=1)
    assert received.report.rejects == [] and received.report.skipped_files == []
    columns = ["message_id", "status", "participant_id", "timestamp"]

    def rows(archive):
        return sorted(map(tuple, archive.statuses[columns].astype(str).values.tolist()))

    assert rows(received) == rows(own)
    for message in sent:
        truth = box.outcomes[message.message_id]
        mine = received.statuses[received.statuses["message_id"] == message.message_id]
        readers = {r.participant_id for r in truth.receipts if r.read_at is not None}
        assert set(mine.loc[mine["status"] == "read", "participant_id"]) == readers
