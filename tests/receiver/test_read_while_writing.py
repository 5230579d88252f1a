"""read_webhooks on a directory groupkit receive is writing: in progress is not a reject."""

from __future__ import annotations

import threading

import httpx
import pytest

import groupkit
from groupkit.receiver import serve
from groupkit.receiver.journal import envelope
from tests.receiver.conftest import signed, webhook


def test_an_unterminated_last_line_of_the_receivers_file_is_in_progress(tmp_path):
    lines = envelope(0, webhook(1)) + envelope(0, webhook(2))
    partial = envelope(0, webhook(3))[:40]
    (tmp_path / "webhooks-19700101T00Z-0001.receiving.ndjson").write_bytes(lines + partial)
    archive = groupkit.read_webhooks(tmp_path, workers=1)
    assert archive.report.rejects == []
    assert sorted(archive.statuses["message_id"]) == ["wamid.T1", "wamid.T2"]
    ((where, why),) = archive.report.skipped_files
    assert where.endswith("webhooks-19700101T00Z-0001.receiving.ndjson:3")
    assert why.startswith("in progress") and "40 bytes" in why
    assert groupkit.read_webhooks(tmp_path, workers=1, on_error="raise").report.rejects == []


def test_the_same_truncated_line_in_any_other_file_is_a_reject(tmp_path):
    lines = envelope(0, webhook(1)) + envelope(0, webhook(2))
    partial = envelope(0, webhook(3))[:40]
    (tmp_path / "webhooks-19700101T00Z-0001.ndjson").write_bytes(lines + partial)
    archive = groupkit.read_webhooks(tmp_path, workers=1)
    (reject,) = archive.report.rejects
    assert reject.line == 3
    assert archive.report.skipped_files == []


def test_a_bad_complete_line_of_the_receivers_file_is_still_a_reject(tmp_path):
    data = envelope(0, webhook(1)) + b"{not json}\n" + envelope(0, webhook(2))
    (tmp_path / "webhooks-19700101T00Z-0001.receiving.ndjson").write_bytes(data)
    archive = groupkit.read_webhooks(tmp_path, workers=1)
    assert [r.line for r in archive.report.rejects] == [2]
    assert archive.report.skipped_files == []


@pytest.mark.parametrize("rotate_bytes", [64 << 20, 4096], ids=["one-file", "rotating"])
def test_loads_taken_while_posts_arrive_never_reject_and_never_lose_acknowledged_posts(
    tmp_path, secrets, rotate_bytes
):
    # With 4 KB files, files close and are compressed (renamed, removed) under the loads.
    with (
        serve(tmp_path, secrets=secrets, rotate_bytes=rotate_bytes) as receiver,
        httpx.Client(base_url=receiver.url) as http,
    ):
        _post_while_loading(receiver, http)
    if rotate_bytes == 4096:
        assert len(list(tmp_path.glob("*.ndjson.gz"))) > 10


def _post_while_loading(receiver, http):
    acknowledged: list[int] = []
    done = threading.Event()

    def post_all():
        try:
            for n in range(300):
                body = webhook(n)
                if http.post("/", content=body, headers=signed(body)).status_code == 200:
                    acknowledged.append(n)
        finally:
            done.set()

    poster = threading.Thread(target=post_all)
    poster.start()
    loads = 0
    while not done.is_set() or loads == 0:
        seen_before = list(acknowledged)  # acknowledged before this load started
        archive = groupkit.read_webhooks(receiver.out, workers=1)
        loads += 1
        assert archive.report.rejects == []
        found = set(archive.statuses["message_id"])
        assert {f"wamid.T{n}" for n in seen_before} <= found
        if loads >= 200:
            break
    poster.join(30)
    assert len(acknowledged) == 300
    final = groupkit.read_webhooks(receiver.out, workers=1)
    assert set(final.statuses["message_id"]) == {f"wamid.T{n}" for n in range(300)}
