"""send_times: from API acceptance (the client's send log) to the 'sent' status."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

import groupkit
from groupkit.sandbox import serve


def _send(mid, accepted, ok=True, attempts=1):
    return {
        "kind": "groupkit.send",
        "version": 1,
        "message_id": mid,
        "group_id": "G",
        "type": "text",
        "operation": "send_text",
        "requested_at": accepted - 0.5,
        "accepted_at": accepted if ok else None,
        "ok": ok,
        "attempts": attempts,
    }


def _sent(mid, ts):
    return {
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "statuses": [
                                {
                                    "id": mid,
                                    "status": "sent",
                                    "timestamp": str(ts),
                                    "recipient_id": "G",
                                    "recipient_type": "group",
                                }
                            ]
                        },
                    }
                ],
            }
        ]
    }


def test_acceptance_to_sent_per_message():
    records = [
        _send("wamid.A", 1750000000.25, attempts=2),
        _sent("wamid.A", 1750000003),
        _send("wamid.B", 1750000010.0),  # no sent status yet
        _send(None, 1750000020.0, ok=False),  # failed send: no message
        _sent("wamid.A", 1750000009),  # a later duplicate sent: the first counts
    ]
    out = groupkit.send_times(groupkit.parse_webhooks(records)).set_index("message_id")
    assert list(out.index) == ["wamid.A", "wamid.B"]
    assert out.loc["wamid.A", "acceptance_to_sent"] == pd.Timedelta(seconds=2.75)
    assert out.loc["wamid.A", "attempts"] == 2
    assert pd.isna(out.loc["wamid.B", "acceptance_to_sent"])


def test_send_log_beside_the_sandbox_archive(tmp_path):
    archive_dir = tmp_path / "archive"
    with (
        serve(seed=3, api_key="k-send-times", archive=archive_dir, failure_rate=0.0) as box,
        groupkit.GroupClient(
            api_key="k-send-times", base_url=box.url, send_log=archive_dir / "sends.jsonl"
        ) as client,
    ):
        sent = [client.send_text(box.group_ids[0], f"hello {i}") for i in range(3)]
        deadline = time.monotonic() + 10
        needles = [f'"id":"{s.message_id}","status":"sent"' for s in sent]
        while time.monotonic() < deadline:
            text = (
                (archive_dir / "sandbox-webhooks.ndjson").read_text()
                if (archive_dir / "sandbox-webhooks.ndjson").exists()
                else ""
            )
            if all(n in text for n in needles):
                break
            time.sleep(0.01)
        else:
            pytest.fail("the sandbox did not report 'sent' within 10 s")
        assert box.flush()
    archive = groupkit.read_webhooks(archive_dir, workers=1)
    assert archive.report.send_records == 3 and archive.report.rejects == []
    out = groupkit.send_times(archive).set_index("message_id")
    assert set(out.index) == {s.message_id for s in sent}
    log = {
        r["message_id"]: r
        for r in map(json.loads, (archive_dir / "sends.jsonl").read_text().splitlines())
    }
    for s in sent:
        row = out.loc[s.message_id]
        assert row["accepted_at"] == pd.Timestamp(
            log[s.message_id]["accepted_at"], unit="s", tz="UTC"
        ).floor("ms")
        assert row["acceptance_to_sent"] == row["sent_at"] - row["accepted_at"]
