"""Small files are parsed many to a unit of work, as if one at a time (issue 14: 11)."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

import groupkit
from groupkit.load import engine
from groupkit.load import sources as _sources
from tests.load.webhooks import ndjson, status, statuses


def _folder(tmp_path):
    """Small files of every layout, each holding statuses with known ids, plus bad records.

    Returns the folder, ``{message id: expected source}`` and the expected rejects
    as ``(file name, line or None)``, all written down here, not read from a load.
    """
    root = tmp_path / "dump"
    root.mkdir()
    expected: dict[str, str] = {}
    rejects: list[tuple[str, int | None]] = []
    for i in range(40):  # one webhook per file, as object stores dump them
        path = root / f"hook-{i:03d}.json"
        path.write_text(json.dumps(statuses(status(f"wamid.one{i}", "sent"))))
        expected[f"wamid.one{i}"] = f"{path}:1"
    path = root / "lines.ndjson"  # NDJSON with a bad line in the middle
    path.write_bytes(
        ndjson(statuses(status("wamid.l1", "sent")))
        + b"not json\n"
        + ndjson(statuses(status("wamid.l3", "read")))
    )
    expected |= {"wamid.l1": f"{path}:1", "wamid.l3": f"{path}:3"}
    rejects.append((path.name, 2))
    path = root / "array.json"  # an array: addressed by index
    hooks = [statuses(status(f"wamid.a{k}", "delivered")) for k in range(3)]
    path.write_text(json.dumps(hooks))
    expected |= {f"wamid.a{k}": f"{path}#{k}" for k in range(3)}
    path = root / "named.json"  # a mapping of named webhooks: addressed by name
    named = {k: statuses(status(f"wamid.n{k}", "sent")) for k in ("x", "y")}
    path.write_text(json.dumps(named))
    expected |= {"wamid.nx": f"{path}#x", "wamid.ny": f"{path}#y"}
    path = root / "zipped.ndjson.gz"
    path.write_bytes(gzip.compress(ndjson(statuses(status("wamid.gz", "sent")))))
    expected["wamid.gz"] = f"{path}:1"
    (root / "cut.json").write_bytes(b'{"entry": [{"changes": [')  # a cut-off document
    rejects.append(("cut.json", 1))
    (root / "garbage.bin").write_bytes(b"\xff\xfe\x00garbage")  # skipped, not read
    (root / "empty.json").write_bytes(b"")
    return root, expected, rejects


def _load(root, workers: int) -> groupkit.Archive:
    return groupkit.read_webhooks(root, workers=workers, progress=False, cache=False)


@pytest.fixture
def forced_workers(monkeypatch):
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)


@pytest.mark.parametrize("workers", [1, 2])
def test_batched_small_files_load_as_one_at_a_time(tmp_path, monkeypatch, forced_workers, workers):
    root, expected, rejects = _folder(tmp_path)
    monkeypatch.setattr(engine, "BATCH_FILES", 7)  # several batches, and batches of one
    batched = _load(root, workers)
    calls: list[int] = []
    run_files = engine.run_files
    spy = lambda items: calls.append(len(items)) or run_files(items)  # noqa: E731
    monkeypatch.setattr(engine, "run_files", spy)
    monkeypatch.setattr(engine, "SMALL_FILE", -1)  # every file its own unit of work
    alone = _load(root, workers)
    if workers == 1:
        assert calls and set(calls) == {1}

    # Truth written down by _folder: each id once, from its own file and line or key.
    got = dict(zip(batched.statuses["message_id"], batched.statuses["source"], strict=True))
    assert got == expected
    assert sorted((r.path.rsplit("/", 1)[-1], r.line) for r in batched.report.rejects) == sorted(
        rejects
    )
    assert batched.report.files_read == 46
    assert batched.report.records_read == 40 + 3 + 3 + 2 + 1 + 1

    # And the same frames, rejects and report as one file at a time.
    for name, frame in alone.frames().items():
        pd.testing.assert_frame_equal(batched.frames()[name], frame)
    assert batched.report.rejects == alone.report.rejects
    assert [name.rsplit("/", 1)[-1] for name, _ in batched.report.skipped_files] == ["garbage.bin"]
    facts = ("files_read", "bytes_read", "records_read", "webhooks_parsed", "rows", "skipped_files")
    for fact in facts:
        assert getattr(batched.report, fact) == getattr(alone.report, fact)


def test_small_files_are_batched_within_the_limits(monkeypatch, tmp_path):
    monkeypatch.setattr(engine, "BATCH_FILES", 3)
    monkeypatch.setattr(engine, "BATCH_BYTES", 100)
    sizes = [10, 10, 10, 10, 90, engine.SMALL_FILE + 1, 5]
    todo = list(enumerate(sizes))
    got = [[i for i, _ in batch] for batch in engine.batches(todo, lambda size: size)]
    # three files at most; 100 bytes closes a batch; a large file is a unit of its own
    assert got == [[0, 1, 2], [3, 4], [5], [6]]


def test_a_small_gzip_that_expands_past_a_block_is_not_batched(tmp_path, monkeypatch):
    monkeypatch.setattr(_sources, "BLOCK_BYTES", 16 << 10)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    data = b"".join(ndjson(statuses(status(f"wamid.{i}", "sent"))) for i in range(400))
    big = tmp_path / "big.ndjson.gz"
    big.write_bytes(gzip.compress(data))
    assert big.stat().st_size < 16 << 10 < len(data)
    calls: list = []
    monkeypatch.setattr(engine, "run_files", lambda items: calls.append(items))
    archive = groupkit.read_webhooks(tmp_path, workers=2, progress=False, cache=False)
    assert calls == []  # streamed to the workers in blocks, as before
    assert archive.statuses["source"].tolist() == [f"{big}:{i + 1}" for i in range(400)]
