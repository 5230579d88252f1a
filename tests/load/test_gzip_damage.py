"""Damaged gzip: intact records kept, the same rejects on every path (issue 14: 3, 4, 7)."""

from __future__ import annotations

import gzip
import io
import zlib

import pandas as pd
import pytest

import groupkit
from groupkit.load import engine, lane
from groupkit.load import sources as _sources
from tests.load.webhooks import ndjson, status, statuses

N = 1000
LINES = [ndjson(statuses(status(f"wamid.{i}", "sent"))) for i in range(N)]
DATA = b"".join(LINES)
CRC_FAILS = "gzip member fails its CRC-32 check"


def every_path(
    tmp_path, blob: bytes, monkeypatch, *, streamed: bool = True
) -> dict[str, groupkit.Archive]:
    """The gzip file ``blob`` read in memory, by one process, and by two workers
    (streamed, never handed whole to one, when ``streamed``), lane on and off."""
    path = tmp_path / "a.ndjson.gz"
    path.write_bytes(blob)

    def whole_file(fidx, path):
        raise AssertionError(f"{path} was parsed whole by one worker, not streamed")

    out = {}
    for enabled in (True, False):
        monkeypatch.setattr(lane, "ENABLED", enabled)
        out[f"memory, lane {enabled}"] = groupkit.parse_webhooks(blob)
        out[f"serial, lane {enabled}"] = groupkit.read_webhooks(path, workers=1, cache=False)
        with monkeypatch.context() as patch:
            if streamed:
                patch.setattr(engine, "run_file", whole_file)  # the forked workers see it too
            out[f"streamed, lane {enabled}"] = groupkit.read_webhooks(path, workers=2, cache=False)
    return out


def check(archives: dict[str, groupkit.Archive], ids: list[str], rejects: list[tuple[int, str]]):
    """Every path holds exactly the statuses ``ids`` and rejects that start with the
    ``rejects`` reasons at those lines, the same on every path."""
    first = next(iter(archives.values()))
    assert sorted(first.statuses["message_id"]) == sorted(ids)
    got = [(r.line, r.reason) for r in first.report.rejects]
    assert [line for line, _ in got] == [line for line, _ in rejects]
    for (_, reason), (_, start) in zip(got, rejects, strict=True):
        assert reason.startswith(start)
    for where, archive in archives.items():
        report = archive.report
        assert [(r.line, r.reason) for r in report.rejects] == got, where
        assert [r.source.rsplit("/", 1)[-1] for r in report.rejects if r.line] == [
            f"a.ndjson.gz:{r.line}" for r in report.rejects if r.line
        ] or where.startswith("memory"), where
        assert report.records_read == (
            report.webhooks_parsed + report.send_records + len(report.rejects)
        ), where
        for name, frame in first.frames().items():
            other = archive.frames()[name]
            pd.testing.assert_frame_equal(
                frame.drop(columns="source"), other.drop(columns="source"), obj=f"{where}: {name}"
            )


def ids(range_) -> list[str]:
    return [f"wamid.{i}" for i in range_]


def test_a_flipped_crc_bit_keeps_every_record_and_is_one_reject(
    tmp_path, small_blocks, monkeypatch
):
    blob = bytearray(gzip.compress(DATA))
    blob[-6] ^= 0x01  # inside the CRC-32 of the trailer; the data is intact
    check(every_path(tmp_path, bytes(blob), monkeypatch), ids(range(N)), [(N + 1, CRC_FAILS)])


def test_a_changed_byte_in_a_stored_block_is_read_the_same_on_every_path(
    tmp_path, small_blocks, monkeypatch
):
    blob = bytearray(gzip.compress(DATA, compresslevel=0))  # stored blocks: bytes as they are
    at = bytes(blob).index(b'"wamid.500"') + 8
    blob[at] = ord("x")  # wamid.500 -> wamid.5x0, which only the CRC-32 catches
    want = ids(range(N))
    want[500] = "wamid.5x0"
    check(every_path(tmp_path, bytes(blob), monkeypatch), want, [(N + 1, CRC_FAILS)])


def test_a_bad_crc_in_the_first_member_keeps_the_members_after_it(
    tmp_path, small_blocks, monkeypatch
):
    one = bytearray(gzip.compress(b"".join(LINES[:400])))
    one[-7] ^= 0x80
    blob = bytes(one) + gzip.compress(b"".join(LINES[400:]))
    check(every_path(tmp_path, blob, monkeypatch), ids(range(N)), [(401, CRC_FAILS)])


def test_corrupt_deflate_data_loses_only_what_follows_the_damage(
    tmp_path, small_blocks, monkeypatch
):
    blob = bytearray(gzip.compress(DATA))
    at = len(blob) // 2
    blob[at] ^= 0xFF
    # Truth: the lines zlib gives for the compressed bytes before the damage.
    before = zlib.decompressobj(wbits=31).decompress(bytes(blob[:at]))
    intact = before.count(b"\n")
    archives = every_path(tmp_path, bytes(blob), monkeypatch)
    first = next(iter(archives.values()))
    kept = set(first.statuses["message_id"])
    assert set(ids(range(intact))) <= kept
    assert len(kept) < N
    last = first.report.rejects[-1]
    assert last.reason.startswith(("gzip stream is corrupt: Error -3", CRC_FAILS))
    # The garbage decompressed between the damage and its detection: rejects alike.
    check(archives, sorted(kept), [(r.line, r.reason) for r in first.report.rejects])


def test_a_bom_at_the_start_of_a_streamed_gzip_is_not_a_reject(tmp_path, small_blocks, monkeypatch):
    blob = gzip.compress(b"\xef\xbb\xbf" + DATA)
    check(every_path(tmp_path, blob, monkeypatch), ids(range(N)), [])


def test_bytes_after_a_member_keep_a_good_last_record_without_newline(
    tmp_path, small_blocks, monkeypatch
):
    blob = gzip.compress(DATA[:-1]) + b"junk"  # the last record has no final newline
    reason = "gzip stream is corrupt: Error -3 while decompressing data: incorrect header check"
    check(every_path(tmp_path, blob, monkeypatch), ids(range(N)), [(N + 1, reason)])


def test_nul_padding_after_the_last_member_is_ignored(tmp_path, small_blocks, monkeypatch):
    blob = gzip.compress(DATA) + b"\x00" * 1000  # its size field is padding: read whole
    check(every_path(tmp_path, blob, monkeypatch, streamed=False), ids(range(N)), [])


@pytest.mark.parametrize("keep", [0.3, 0.7])
def test_a_truncated_gzip_has_the_same_reject_on_every_path(
    tmp_path, small_blocks, monkeypatch, keep
):
    blob = gzip.compress(DATA)
    blob = blob[: int(len(blob) * keep)]
    before = zlib.decompressobj(wbits=31).decompress(blob)  # truth: what the bytes hold
    intact = before.count(b"\n")
    reason = "gzip stream is truncated: this last record is cut off"
    check(every_path(tmp_path, blob, monkeypatch), ids(range(intact)), [(intact + 1, reason)])


def _damaged() -> dict[str, bytes]:
    small = b"".join(LINES[:200])
    crc = bytearray(gzip.compress(small))
    crc[-6] ^= 0x01
    length = bytearray(gzip.compress(small))
    length[-2] ^= 0x01
    flipped = bytearray(gzip.compress(small))
    flipped[len(flipped) // 2] ^= 0xFF
    good = gzip.compress(small)
    return {
        "crc then a member": bytes(crc) + good,
        "length then a member": bytes(length) + good,
        "flipped": bytes(flipped),
        "truncated": good[: len(good) // 2],
        "junk after": good + b"junk",
        "padding": good + b"\x00" * 100,
    }


@pytest.mark.parametrize("name", list(_damaged()))
def test_the_gzip_reader_gives_the_same_bytes_and_problems_however_it_is_chunked(name):
    blob = _damaged()[name]
    seen = []
    for step, most in [(1, 0), (7, 100), (4096, 0), (1 << 20, 4096), (1 << 20, 0)]:
        data, problems = b"", []
        for out in _sources.gzip_pieces(io.BytesIO(blob).read, step, most):
            if isinstance(out, _sources.GzipProblem):
                problems.append((len(data), out))
            else:
                data += out
        seen.append((data, problems))
    assert all(s == seen[0] for s in seen)
    data, problems = seen[0]
    # Truth from zlib on the undamaged parts: a failed check keeps the member whole.
    if name.endswith("then a member"):
        assert data == b"".join(LINES[:200]) * 2
        assert [(at, p.final) for at, p in problems] == [(len(data) // 2, False)]
    elif name in ("junk after", "padding"):
        assert data == b"".join(LINES[:200])
        assert len(problems) == (name == "junk after")


def test_a_gzipped_json_array_with_a_bad_crc_keeps_its_webhooks(tmp_path, monkeypatch):
    array = b"[" + b",".join(line.rstrip(b"\n") for line in LINES[:5]) + b"]"
    blob = bytearray(gzip.compress(array))
    blob[-6] ^= 0x01
    archives = every_path(tmp_path, bytes(blob), monkeypatch, streamed=False)
    for archive in archives.values():
        assert sorted(archive.statuses["message_id"]) == ids(range(5))
        assert [r.reason[: len(CRC_FAILS)] for r in archive.report.rejects] == [CRC_FAILS]
        assert archive.report.records_read == 6
