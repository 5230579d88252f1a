"""One contract on every path (issue 14, "What to build" 1).

A differential test: hypothesis, with a fixed seed, builds archives out of valid
webhooks of every kind (statuses, inbound messages, group events, other changes,
send-log records) and one kind of damage each (byte flips, truncation, a bad first
line, deep nesting, huge numbers, non-UTF-8 bytes, a BOM, damaged gzip members,
CRC errors, bytes after a member).  Each archive is read by every path:

- in memory (``parse_webhooks(bytes)``);
- one file in one process (``read_webhooks(path, workers=1)``);
- two workers over small blocks, or over a streamed gzip, forced on by small
  thresholds (the fixtures of ``test_damage.py`` / ``test_gzip_damage.py``);
- a cached reload (``read_webhooks(path, cache=dir)`` twice);
- ``groupkit.dask`` on the synchronous scheduler, small blocks.

Every path must give the same frames and the same rejects (file, line, reason, excerpt), and
``records_read == webhooks_parsed + send_records + len(rejects)`` on each loader path.

Documented differences that are not compared: ``source`` names the file
(``<memory>`` in memory), so only its line number is compared; a Dask frame is
indexed by reading order (compared after ``reset_index(drop=True)``, as
``tests/dask`` does) and Dask has no ``LoadReport`` (no ``records_read``), so its
rejects are compared through ``rejects_frame()``.
"""

from __future__ import annotations

import gzip
import json
import tempfile
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import groupkit
from groupkit.load import engine, lane
from groupkit.load import sources as _sources
from groupkit.simulate import simulate_archive
from groupkit.simulate.pins import simulate_pins
from tests.load.test_damage import DEEP, HUGE
from tests.load.webhooks import GROUP, hook, ndjson, status, statuses, text_message

dask_dataframe = pytest.importorskip("dask.dataframe")
import dask  # noqa: E402

import groupkit.dask  # noqa: E402

BAD_FIRST_LINES = [b"{", b"[", b"[]", b'["x"]', b"[{"]
NON_UTF8 = [b"\xff", b"\xfe\xff", b"\xe9", b"\xc3", b"\xed\xa0\x80", b"\x80"]
BOM = b"\xef\xbb\xbf"
_BLOCK = 1 << 10  # bytes of a worker's block: small, so small archives are split


def _other_changes() -> list[bytes]:
    """Changes groupkit keeps as they come (calls, settings) and an error status."""
    settings_item = {
        "timestamp": "1750000000",
        "group_id": GROUP,
        "type": "group_settings_update",
        "group_subject": {"text": "New name", "update_successful": True},
    }
    failed = status(
        "wamid.err",
        "failed",
        errors=[{"code": 131000, "title": "Something went wrong"}],
    )
    return [
        ndjson(hook("calls", {"calls": [{"id": "c1", "duration": 30, "to": "1"}]})),
        ndjson(hook("group_settings_update", {"groups": [settings_item]})),
        ndjson(statuses(failed)),
        ndjson(text_message("wamid.in.1", body="caf\u00e9 \U0001f600")),
        ndjson({"received_at": "2025-06-15T10:00:05Z", "payload": statuses(status("w.r", "read"))}),
    ]


def _pool() -> list[bytes]:
    """Valid NDJSON lines of every kind: a small simulated archive (statuses, inbound
    messages, group events, redeliveries), its pins' send-log lines, other changes."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sim = simulate_archive(folder / "hooks", groups=3, days=1, seed=4, duplicate=0.3)
        simulate_pins(sim, folder / "sends.jsonl", seed=4)
        lines = []
        for path in sorted((folder / "hooks").glob("*.ndjson")):
            lines += path.read_bytes().splitlines(keepends=True)
        sends = (folder / "sends.jsonl").read_bytes().splitlines(keepends=True)

    def kind(line: bytes) -> str:
        record = json.loads(line)
        record = record.get("payload", record)
        if "entry" not in record:
            return ",".join(sorted(record))
        change = record["entry"][0]["changes"][0]
        return change["field"] + ":" + ",".join(sorted(change["value"]))

    by_kind: dict[str, list[bytes]] = {}
    for line in lines:
        by_kind.setdefault(kind(line), []).append(line)
    pool = [line for group in by_kind.values() for line in group[:12]]
    return pool + sends[:8] + _other_changes()


POOL = _pool()


def test_the_pool_holds_every_kind_of_record():
    archive = groupkit.parse_webhooks(b"".join(POOL))
    assert archive.report.rejects == []
    for name in ("statuses", "messages", "group_events", "sends", "errors"):
        assert len(getattr(archive, name)) > 0, name
    assert archive.report.webhooks_parsed + archive.report.send_records == len(POOL)


# ---------------------------------------------------------------------- the generator


def _insert_line(data_lines: list[bytes], at: int, line: bytes) -> list[bytes]:
    return [*data_lines[:at], line, *data_lines[at:]]


KINDS = [
    "none",
    "flip",
    "truncate",
    "bad first line",
    "deep",
    "huge",
    "non-utf8",
    "bom",
    "gz flip",
    "gz truncate",
    "gz crc",
    "gz length",
    "gz trailing",
    "gz members",
]


@st.composite
def archives(draw, kind: str) -> tuple[str, bytes, bool, int]:
    """(damage kind, the file's bytes, gzip?, newlines before compression)."""
    lines = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=60))
    gz = kind.startswith("gz") or draw(st.booleans())
    if kind == "bad first line":
        lines = [draw(st.sampled_from(BAD_FIRST_LINES)) + b"\n", *lines]
    elif kind == "deep":
        lines = _insert_line(lines, draw(st.integers(0, len(lines))), DEEP)
    elif kind == "huge":
        record = draw(st.sampled_from([r for r, _ in HUGE]))
        lines = _insert_line(lines, draw(st.integers(0, len(lines))), record)
    elif kind == "non-utf8":
        at = draw(st.integers(0, len(lines) - 1))
        line = lines[at]
        quote = line.index(b'"', draw(st.integers(0, len(line) - 2)) if b'"' in line else 0)
        lines = [*lines]
        lines[at] = line[: quote + 1] + draw(st.sampled_from(NON_UTF8)) + line[quote + 1 :]
    data = b"".join(lines)
    if kind == "bom":
        data = BOM + data
    elif kind == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    elif kind == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    if not gz:
        return kind, data, False, data.count(b"\n")
    level = draw(st.sampled_from([0, 6]))
    blob = bytearray(gzip.compress(data, compresslevel=level, mtime=0))
    if kind == "gz flip":
        at = draw(st.integers(10, len(blob) - 9))  # inside the compressed data
        blob[at] ^= draw(st.integers(1, 255))
    elif kind == "gz truncate":
        del blob[draw(st.integers(10, len(blob) - 1)) :]
    elif kind == "gz crc":
        blob[draw(st.integers(len(blob) - 8, len(blob) - 5))] ^= 1 << draw(st.integers(0, 7))
    elif kind == "gz length":
        blob[draw(st.integers(len(blob) - 4, len(blob) - 1))] ^= 1 << draw(st.integers(0, 7))
    elif kind == "gz trailing":
        blob += draw(st.sampled_from([b"junk", b"\x00" * 64, b"\x1f\x8b", b"\n"]))
    elif kind == "gz members":
        cut = draw(st.integers(0, len(lines)))
        first = bytearray(gzip.compress(b"".join(lines[:cut]), mtime=0))
        first[-6] ^= 0x01  # the first member's CRC fails; the second is whole
        blob = first + gzip.compress(b"".join(lines[cut:]), mtime=0)
    return kind, bytes(blob), True, data.count(b"\n")


# ---------------------------------------------------------------------- the paths


def _comparable(frames: dict[str, pd.DataFrame], name: str) -> dict[str, pd.DataFrame]:
    """Frames indexed 0..n-1, ``source`` as ``file:line`` with the file's name only
    (``<memory>`` stands for ``name``)."""
    out = {}
    for key, frame in frames.items():
        frame = frame.reset_index(drop=True)
        if "source" in frame:
            parts = frame["source"].astype(str).str.rsplit(":", n=1)
            files = parts.str[0].map(lambda p: name if p == "<memory>" else Path(p).name)
            frame = frame.assign(source=files + ":" + parts.str[-1])
        out[key] = frame
    return out


def _rejects(frame: pd.DataFrame, name: str) -> list[tuple]:
    """(file, line, reason, excerpt) of each reject; ``<memory>`` stands for ``name``."""
    out = []
    for row in frame.itertuples():
        line = None if pd.isna(row.line) else int(row.line)
        file = name if row.path == "<memory>" else Path(row.path).name
        if line is not None:
            assert row.source == f"{row.path}:{line}", row
        out.append((file, line, row.reason, row.excerpt))
    return out


def _watch_splitting(patch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count, in the main process, the files cut into ranges and the gzip files
    streamed to workers block by block."""
    seen = {"ranges": 0, "streamed": 0}
    file_ranges, parallel_gzip = _sources.file_ranges, engine._parallel_gzip

    def ranges(*args, **kwargs):
        seen["ranges"] += 1
        return file_ranges(*args, **kwargs)

    def streamed(*args, **kwargs):
        seen["streamed"] += 1
        return parallel_gzip(*args, **kwargs)

    patch.setattr(_sources, "file_ranges", ranges)
    patch.setattr(engine, "_parallel_gzip", streamed)
    return seen


def _every_path(files: dict[str, bytes], use_lane: bool) -> dict[str, tuple]:
    """(frames, rejects, report or None) of the archive ``files`` (name: bytes) read on
    every path: one file is also read in memory; several are read as their folder."""
    out: dict[str, tuple] = {}
    first = next(iter(files))

    def keep(where: str, archive: groupkit.Archive) -> None:
        out[where] = (
            _comparable(archive.frames(), first),
            _rejects(archive.report.rejects_frame(), first),
            archive.report,
        )

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(lane, "ENABLED", use_lane)
        folder = Path(tmp) / "archive"
        folder.mkdir()
        for name, blob in files.items():
            (folder / name).write_bytes(blob)
        path = folder / first if len(files) == 1 else folder
        if len(files) == 1:
            keep("memory", groupkit.parse_webhooks(files[first]))
        keep("serial", groupkit.read_webhooks(path, workers=1, cache=False, progress=False))
        cache_dir = Path(tmp) / "cache"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a cache that works gives no warning
            keep("cache, first", groupkit.read_webhooks(path, workers=1, cache=cache_dir))
            keep("cache, reload", groupkit.read_webhooks(path, workers=1, cache=cache_dir))
        # Small blocks, no size threshold: two workers read blocks, or stream the gzip.
        patch.setattr(_sources, "BLOCK_BYTES", _BLOCK)
        patch.setattr(engine, "WALK_BYTES", 512)
        patch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
        split = _watch_splitting(patch)
        keep("workers", groupkit.read_webhooks(path, workers=2, cache=False, progress=False))
        out["split"] = split
        with dask.config.set({"scheduler": "sync", "dataframe.shuffle.method": "tasks"}):
            darchive = groupkit.dask.read_webhooks(str(path), blocksize=2048)
            frames, rejects = dask.compute(darchive.frames(), darchive.rejects)
        out["dask, sync"] = (
            _comparable(frames, first),
            _rejects(rejects.reset_index(drop=True), first),
            None,
        )
    return out


def _check(kind: str, paths: dict[str, tuple]) -> None:
    first_where, (want_frames, want_rejects, _) = next(iter(paths.items()))
    for where, (frames, rejects, report) in paths.items():
        if report is not None:
            assert report.records_read == (
                report.webhooks_parsed + report.send_records + len(report.rejects)
            ), where
        assert rejects == want_rejects, f"{kind}: rejects of {where} differ from {first_where}"
        assert sorted(frames) == sorted(want_frames), where
        for name, frame in want_frames.items():
            pd.testing.assert_frame_equal(
                frames[name], frame, obj=f"{kind}: {name} of {where} vs {first_where}"
            )


@settings(
    derandomize=True,
    max_examples=5,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data(), use_lane=st.booleans())
def test_every_path_gives_the_same_frames_and_rejects(kind, data, use_lane):
    archive = data.draw(archives(kind), label="archive")
    kind, blob, gz, newlines = archive
    paths = _every_path({"a.ndjson.gz" if gz else "a.ndjson": blob}, use_lane)
    split = paths.pop("split")
    event(f"{kind}, {'gzip' if gz else 'plain'}")
    how = "streamed gzip" if split["streamed"] else "ranges" if split["ranges"] else "whole"
    event(f"split: {how}")
    _check(kind, paths)
    if kind == "none" and newlines > 4 and len(blob) > 4 * _BLOCK:
        # Not vacuous: a clean archive of several blocks was split among the workers.
        assert split["streamed" if gz else "ranges"] == 1, split
    # Truth for the damage whose cost is known: one inserted bad line is one reject.
    if kind in ("bad first line", "deep", "huge", "non-utf8"):
        _, rejects, report = paths["serial"]
        assert len(rejects) == 1, rejects
        assert report.records_read == newlines


@settings(
    derandomize=True,
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), use_lane=st.booleans())
def test_a_folder_of_damaged_files_gives_the_same_result_on_every_path(data, use_lane):
    # Several files: each reject names its own file, redeliveries meet across files.
    count = data.draw(st.integers(2, 3), label="files")
    files = {}
    for n in range(count):
        kind = data.draw(st.sampled_from(KINDS), label=f"kind of file {n}")
        _, blob, gz, _ = data.draw(archives(kind), label=f"file {n}")
        files[f"{n}.ndjson.gz" if gz else f"{n}.ndjson"] = blob
    paths = _every_path(files, use_lane)
    paths.pop("split")
    _check(", ".join(files), paths)
