"""The archive on disk: group commit, rotation by hour and size, gzip, recovery, one writer."""

from __future__ import annotations

import gzip
import json
import os
import threading

import pytest

import groupkit
from groupkit.receiver import ReceiverError
from groupkit.receiver.journal import Journal, envelope
from tests.receiver.conftest import webhook

HOUR = 3600.0
T0 = 1_764_594_000.0  # 2025-12-01T13:00:00Z


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def commit(journal: Journal, n: int, at: float) -> None:
    journal.commit_wait(envelope(at, webhook(n)), at)


def names(folder):
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def load(folder):
    archive = groupkit.read_webhooks(folder, workers=1)
    assert archive.report.rejects == []
    return archive


def test_lines_are_envelopes_the_loader_reads_with_received_at(tmp_path):
    with Journal(tmp_path, clock=Clock()) as journal:
        commit(journal, 1, T0 + 12.345)
        (line,) = journal.current_path.read_text().splitlines()
    assert json.loads(line) == {
        "received_at": "2025-12-01T13:00:12.345Z",
        "body": webhook(1).decode(),
    }
    archive = load(tmp_path)
    assert str(archive.statuses["received_at"].iloc[0]) == "2025-12-01 13:00:12.345000+00:00"


def test_a_new_file_each_hour_and_closed_files_are_gzipped(tmp_path):
    clock = Clock()
    with Journal(tmp_path, clock=clock) as journal:
        commit(journal, 1, T0 + 10)
        commit(journal, 2, T0 + HOUR - 1)
        clock.now = T0 + HOUR + 5
        commit(journal, 3, T0 + HOUR + 5)
        # A late line of the hour before goes into the newer file: files never reopen.
        commit(journal, 4, T0 + HOUR - 0.5)
        assert journal.current_path.name == "webhooks-20251201T14Z-0001.receiving.ndjson"
    assert names(tmp_path) == [
        "webhooks-20251201T13Z-0001.ndjson.gz",
        "webhooks-20251201T14Z-0001.ndjson.gz",
    ]
    first = gzip.decompress((tmp_path / names(tmp_path)[0]).read_bytes()).splitlines()
    assert [json.loads(json.loads(x)["body"])["entry"][0]["id"] for x in first] == [
        "102290129340398"
    ] * 2
    assert sorted(load(tmp_path).statuses["message_id"]) == [f"wamid.T{n}" for n in (1, 2, 3, 4)]


def test_a_new_file_when_the_current_one_is_full(tmp_path):
    line_size = len(envelope(T0, webhook(10)))
    with Journal(tmp_path, clock=Clock(), rotate_bytes=3 * line_size) as journal:
        for n in range(10, 20):
            commit(journal, n, T0)
    closed = names(tmp_path)
    assert closed == [f"webhooks-20251201T13Z-{i:04d}.ndjson.gz" for i in (1, 2, 3, 4)]
    sizes = [len(gzip.decompress((tmp_path / n).read_bytes()).splitlines()) for n in closed]
    assert sizes == [3, 3, 3, 1]
    assert len(load(tmp_path).statuses) == 10


def test_numbering_continues_after_a_restart_in_the_same_hour(tmp_path):
    for n in (1, 2):
        with Journal(tmp_path, clock=Clock()) as journal:
            commit(journal, n, T0)
    assert names(tmp_path) == [
        "webhooks-20251201T13Z-0001.ndjson.gz",
        "webhooks-20251201T13Z-0002.ndjson.gz",
    ]


def test_one_sync_covers_every_line_queued_while_the_last_sync_ran(tmp_path, monkeypatch):
    real_sync = os.fdatasync
    first_sync_started = threading.Event()
    release = threading.Event()

    def slow_sync(fd):
        first_sync_started.set()
        release.wait(10)
        real_sync(fd)

    monkeypatch.setattr(os, "fdatasync", slow_sync)
    with Journal(tmp_path, clock=Clock()) as journal:
        first = threading.Thread(target=commit, args=(journal, 0, T0))
        first.start()
        assert first_sync_started.wait(10)
        # While that sync runs, 20 more requests queue up ...
        others = [threading.Thread(target=commit, args=(journal, n, T0)) for n in range(1, 21)]
        for thread in others:
            thread.start()
        for _ in range(1000):
            with journal._cond:
                if len(journal._queue) == 20:
                    break
            threading.Event().wait(0.01)
        release.set()
        for thread in [first, *others]:
            thread.join(10)
        counts = journal.metrics.snapshot()
    # ... and are made durable by one more sync, not twenty.
    assert (counts["fsyncs"], counts["lines_synced"]) == (2, 21)
    assert len(load(tmp_path).statuses) == 21


def test_a_commit_does_not_return_while_its_sync_is_still_running(tmp_path, monkeypatch):
    real_sync = os.fdatasync
    sync_started = threading.Event()
    release = threading.Event()

    def held_sync(fd):
        sync_started.set()
        release.wait(10)
        real_sync(fd)

    monkeypatch.setattr(os, "fdatasync", held_sync)
    with Journal(tmp_path, clock=Clock()) as journal:
        committing = threading.Thread(target=commit, args=(journal, 1, T0))
        committing.start()
        assert sync_started.wait(10)
        # The line is written, its sync has not returned: the request is not answered yet
        # (a commit that returned before its sync would end within this grace period).
        committing.join(0.5)
        assert committing.is_alive()
        release.set()
        committing.join(10)
        assert not committing.is_alive()
    assert list(load(tmp_path).statuses["message_id"]) == ["wamid.T1"]


def test_a_line_is_acknowledged_only_after_it_is_synced(tmp_path, monkeypatch):
    def failing_sync(fd):
        raise OSError(5, "Input/output error")

    with Journal(tmp_path, clock=Clock()) as journal:
        commit(journal, 1, T0)
        monkeypatch.setattr(os, "fdatasync", failing_sync)
        with pytest.raises(OSError):
            commit(journal, 2, T0)
        monkeypatch.undo()
        commit(journal, 3, T0)
        assert "failed" in journal.last_error
    # The failed line was cut off again; the file after it holds line 3.
    assert sorted(load(tmp_path).statuses["message_id"]) == ["wamid.T1", "wamid.T3"]


def test_only_one_journal_per_directory(tmp_path):
    with Journal(tmp_path), pytest.raises(ReceiverError, match="another groupkit receive"):
        Journal(tmp_path).open()


def test_what_a_killed_receiver_left_is_recovered_and_nothing_acknowledged_is_lost(tmp_path):
    complete = envelope(T0, webhook(1)) + envelope(T0, webhook(2))
    torn = envelope(T0, webhook(3))[:57]
    (tmp_path / "webhooks-20251201T13Z-0001.receiving.ndjson").write_bytes(complete + torn)
    # Killed after the compressed copy was in place, before the original was removed:
    done = envelope(T0, webhook(4))
    (tmp_path / "webhooks-20251201T12Z-0001.ndjson.gz").write_bytes(gzip.compress(done))
    (tmp_path / "webhooks-20251201T12Z-0001.receiving.ndjson").write_bytes(done)
    (tmp_path / ".webhooks-20251201T12Z-0001.ndjson.gz.tmp").write_bytes(b"\x1f\x8b half")

    # Before any receiver opens it, the archive already loads: the torn line is in progress.
    before = groupkit.read_webhooks(tmp_path, workers=1)
    assert before.report.rejects == []
    assert any("in progress" in why for _, why in before.report.skipped_files)

    with Journal(tmp_path, clock=Clock()) as journal:
        assert journal.metrics.snapshot()["torn_tails_recovered"] == 1
    assert names(tmp_path) == [
        "webhooks-20251201T12Z-0001.ndjson.gz",
        "webhooks-20251201T13Z-0001.ndjson.gz",
    ]
    assert not list(tmp_path.glob(".webhooks-*"))
    (record,) = [
        json.loads(line)
        for line in (tmp_path / ".quarantine").glob("*.ndjson").__next__().read_text().splitlines()
    ]
    assert "torn write" in record["reason"] and "never acknowledged" in record["reason"]
    after = load(tmp_path)
    assert after.report.skipped_files == []
    assert sorted(after.statuses["message_id"]) == ["wamid.T1", "wamid.T2", "wamid.T4"]
