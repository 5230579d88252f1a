"""The parallel path (blocks in worker processes, streamed gzip) gives exactly the serial result."""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil

import pandas as pd
import pytest

import groupkit
from groupkit.load import engine
from groupkit.load import sources as _sources
from groupkit.simulate import simulate_archive
from tests.load.webhooks import ndjson, status, statuses


def _in_blocks(path, monkeypatch) -> groupkit.Archive:
    """Read with two workers, failing if any worker is handed a whole file."""

    def whole_file(fidx, path):
        raise AssertionError(f"{path} was parsed whole by one worker, not in blocks")

    with monkeypatch.context() as patch:
        patch.setattr(engine, "run_file", whole_file)  # the forked workers see it too
        return groupkit.read_webhooks(path, workers=2)


@pytest.fixture(scope="module")
def one_file(tmp_path_factory):
    """One NDJSON file of simulated traffic with a few bad lines spread through it."""
    folder = tmp_path_factory.mktemp("sim")
    simulate_archive(folder / "sim", groups=8, days=2, seed=7, duplicate=0.2)
    lines = b"".join(p.read_bytes() for p in sorted((folder / "sim").glob("*.ndjson")))
    rows = lines.splitlines(keepends=True)
    for at, bad in ((5, b"{broken\n"), (len(rows) // 2, b"[1]\n"), (len(rows) - 3, b"\n")):
        rows.insert(at, bad)
    path = folder / "all.ndjson"
    path.write_bytes(b"".join(rows))
    return path


def _same(a: groupkit.Archive, b: groupkit.Archive) -> None:
    for name in a.frames():
        pd.testing.assert_frame_equal(a.frames()[name], b.frames()[name], check_like=False)
    ra, rb = a.report, b.report
    assert (ra.records_read, ra.webhooks_parsed, ra.rows, ra.duplicates) == (
        rb.records_read,
        rb.webhooks_parsed,
        rb.rows,
        rb.duplicates,
    )
    assert [(r.source, r.reason) for r in ra.rejects] == [(r.source, r.reason) for r in rb.rejects]


def test_ranges_of_a_plain_file(one_file, small_blocks, monkeypatch):
    # The file really takes the ranges path, not one worker for the whole file.
    assert engine.head_is_lines(str(one_file)) is True
    assert len(_sources.file_ranges(str(one_file), one_file.stat().st_size)) > 5
    parallel = _in_blocks(one_file, monkeypatch)
    serial = groupkit.read_webhooks(one_file, workers=1)
    _same(serial, parallel)
    assert len(serial.report.rejects) == 2
    # Line numbers are global, not per block.
    lines = one_file.read_bytes().split(b"\n")
    for reject in parallel.report.rejects:
        assert lines[reject.line - 1] in (b"{broken", b"[1]")


def test_tables_come_back_through_shared_memory_or_the_pipe(one_file, small_blocks, monkeypatch):
    serial = groupkit.read_webhooks(one_file, workers=1)
    used, mapped = [], []
    real_dir, real_unspill = engine.spill_dir, engine.unspill

    @contextlib.contextmanager
    def watched_dir():
        with real_dir() as where:
            used.append(where)
            yield where

    def watched_unspill(part):
        mapped.append(0 if part.spilled is None else len(part.spilled.tables))
        return real_unspill(part)

    monkeypatch.setattr(engine, "spill_dir", watched_dir)
    monkeypatch.setattr(engine, "unspill", watched_unspill)
    _same(serial, groupkit.read_webhooks(one_file, workers=2))
    if used[0] is not None:  # a machine with /dev/shm: the files were used, then removed
        assert sum(mapped) > 0
        assert not os.path.exists(used[0])

    # Shared memory that cannot be written (full, or gone): the tables take the pipe.
    @contextlib.contextmanager
    def broken_dir():
        yield os.path.join(str(one_file.parent), "no-such-folder")

    mapped.clear()
    monkeypatch.setattr(engine, "spill_dir", broken_dir)
    _same(serial, groupkit.read_webhooks(one_file, workers=2))
    assert mapped and sum(mapped) == 0


def test_streamed_gzip(one_file, small_blocks, tmp_path, monkeypatch):
    gz = tmp_path / "all.ndjson.gz"
    with open(one_file, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    plain = groupkit.read_webhooks(one_file, workers=1)
    streamed = _in_blocks(gz, monkeypatch)
    for name, frame in plain.frames().items():
        got = streamed.frames()[name]
        pd.testing.assert_frame_equal(
            frame.drop(columns="source"), got.drop(columns="source"), check_like=False
        )
        line = frame["source"].str.rsplit(":", n=1).str[1]
        assert (got["source"].str.rsplit(":", n=1).str[1] == line).all()


def test_streamed_multi_member_gzip_without_shared_memory(
    one_file, small_blocks, tmp_path, monkeypatch
):
    # Two gzip members (as `cat a.gz b.gz` makes), and no /dev/shm: blocks are spooled
    # to an ordinary temporary folder, which is gone afterwards.
    data = one_file.read_bytes()
    half = data.index(b"\n", len(data) // 2) + 1
    gz = tmp_path / "two.ndjson.gz"
    gz.write_bytes(gzip.compress(data[:half]) + gzip.compress(data[half:]))
    spools = []
    real_spool = engine._parallel_gzip

    def no_shm():
        return contextlib.nullcontext(None)

    def watched_spool(*args):
        spools.append(args[-1])
        yield from real_spool(*args)

    monkeypatch.setattr(engine, "spill_dir", no_shm)
    monkeypatch.setattr(engine, "_parallel_gzip", watched_spool)
    streamed = _in_blocks(gz, monkeypatch)
    plain = groupkit.read_webhooks(one_file, workers=1)
    for name, frame in plain.frames().items():
        got = streamed.frames()[name]
        pd.testing.assert_frame_equal(
            frame.drop(columns="source"), got.drop(columns="source"), check_like=False
        )
    assert [r.line for r in streamed.report.rejects] == [r.line for r in plain.report.rejects]
    assert spools and not spools[0].startswith("/dev/shm") and not os.path.exists(spools[0])


def test_truncated_streamed_gzip(one_file, small_blocks, tmp_path):
    data = gzip.compress(one_file.read_bytes())
    gz = tmp_path / "cut.ndjson.gz"
    gz.write_bytes(data[: int(len(data) * 0.7)])
    serial = groupkit.read_webhooks(gz, workers=1)
    parallel = groupkit.read_webhooks(gz, workers=2)
    _same(serial, parallel)
    last = parallel.report.rejects[-1]
    assert "gzip stream is truncated" in last.reason
    # Every line before the cut is a record (the blank line sits after it): the cut
    # record is the last record read.
    assert last.line == parallel.report.records_read


def test_many_files_mixed_formats(small_blocks, tmp_path):
    simulate_archive(tmp_path / "mixed", groups=6, days=4, seed=3, fmt="mixed")
    _same(
        groupkit.read_webhooks(tmp_path / "mixed", workers=1),
        groupkit.read_webhooks(tmp_path / "mixed", workers=2),
    )


def test_progress_bar_only_when_asked(one_file, capsys):
    groupkit.read_webhooks(one_file)
    assert capsys.readouterr().err == ""
    groupkit.read_webhooks(one_file, progress=True)
    assert "reading webhooks" in capsys.readouterr().err


def test_blank_and_whitespace_lines_count_for_line_numbers(write):
    path = write("w.ndjson", b"\n  \n" + ndjson({"entry": []}) + b"\t\n{bad\n")
    archive_ = groupkit.read_webhooks(path)
    assert [r.line for r in archive_.report.rejects] == [5]
    assert archive_.report.records_read == 2


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n", "the file starts like a PNG image"),
        (b"\x07\x00binary", "binary data (a NUL byte at offset 1)"),
    ],
)
def test_a_binary_file_is_one_reject_on_every_path(tmp_path, small_blocks, gz, head, reason):
    body = head + b"".join(bytes([i % 251 + 1]) * 40 + b"\n" for i in range(2_000))
    path = tmp_path / ("x.bin.gz" if gz else "x.bin")
    path.write_bytes(gzip.compress(body) if gz else body)
    for archive in (
        groupkit.read_webhooks(path, workers=1),
        groupkit.read_webhooks(path, workers=2),
        groupkit.parse_webhooks(body),
    ):
        report = archive.report
        assert report.records_read == 1
        assert [(r.line, r.reason) for r in report.rejects] == [(1, f"not JSON text: {reason}")]


def test_a_zero_filled_block_in_an_archive_costs_only_its_own_lines(tmp_path, small_blocks):
    good = [ndjson(statuses(status(f"wamid.{i}", "sent"))) for i in range(300)]
    damaged = b"".join(good[:100]) + b"\x00" * 5000 + b"\n" + b"".join(good[100:])
    path = tmp_path / "a.ndjson"
    path.write_bytes(damaged)
    for archive in (
        groupkit.read_webhooks(path, workers=1),
        groupkit.read_webhooks(path, workers=2),
    ):
        assert len(archive.statuses) == 300
        assert len(archive.report.rejects) == 1
