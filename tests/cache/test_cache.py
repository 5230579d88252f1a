"""The Parquet cache: a cached load equals a fresh parse, and nothing stale or broken is served."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

import groupkit
from groupkit import webhooks
from groupkit.load import cache, engine
from groupkit.load import sources as _sources
from groupkit.simulate import simulate_archive


def _hook(mid: str, status: str = "sent", ts: int = 1750000000, participant: str | None = None):
    st = webhooks.status(mid, status, ts, group_id="G1", participant=participant)
    return webhooks.envelope(
        "messages", {"statuses": [st]}, waba_id="1", messaging_product=None, with_metadata=False
    )


def _write(path: Path, *records: object) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n")
    return path


def assert_same_archive(got: groupkit.Archive, want: groupkit.Archive) -> None:
    for name, frame in want.frames().items():
        pd.testing.assert_frame_equal(got.frames()[name], frame, obj=name)
    for attr in ("files_read", "bytes_read", "records_read", "webhooks_parsed", "send_records"):
        assert getattr(got.report, attr) == getattr(want.report, attr), attr
    assert got.report.rows == want.report.rows
    assert got.report.duplicates == want.report.duplicates
    assert got.report.unknown_fields == want.report.unknown_fields
    assert got.report.rejects == want.report.rejects


@pytest.fixture
def parses(monkeypatch):
    """Counts the files the loader really parses (in process: workers=1)."""
    calls: list[str] = []
    real = engine.run_file

    def counting(fidx, path):
        calls.append(Path(path).name)
        return real(fidx, path)

    monkeypatch.setattr(engine, "run_file", counting)
    return calls


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """Mixed formats (NDJSON, gzip, JSON array), envelopes and heavy redelivery."""
    out = tmp_path_factory.mktemp("sim")
    simulate_archive(out, groups=5, days=3, seed=11, fmt="mixed", duplicate=0.4)
    return out


def test_cached_reload_equals_a_fresh_parse_frame_by_frame(simulated, tmp_path, parses):
    fresh = groupkit.read_webhooks(simulated, cache=False, workers=1)
    first = groupkit.read_webhooks(simulated, cache=tmp_path, workers=1)
    parses.clear()
    again = groupkit.read_webhooks(simulated, cache=tmp_path, workers=1)
    assert parses == []  # served from the cache
    assert fresh.report.duplicates["statuses"] > 0
    assert_same_archive(first, fresh)
    assert_same_archive(again, fresh)


def test_rejects_and_their_lines_come_back_from_the_cache(tmp_path, parses):
    folder = tmp_path / "in"
    folder.mkdir()
    _write(folder / "a.ndjson", _hook("wamid.A"), "not json", _hook("wamid.B"))
    fresh = groupkit.read_webhooks(folder, cache=False)
    groupkit.read_webhooks(folder, cache=tmp_path / "c", workers=1)
    again = groupkit.read_webhooks(folder, cache=tmp_path / "c", workers=1)
    assert [r.line for r in again.report.rejects] == [2]
    assert_same_archive(again, fresh)
    with pytest.raises(groupkit.ArchiveError, match=r"a\.ndjson"):
        groupkit.read_webhooks(folder, cache=tmp_path / "c", on_error="raise")


def test_a_changed_file_is_parsed_again_and_only_it(tmp_path, parses):
    folder = tmp_path / "in"
    folder.mkdir()
    _write(folder / "a.ndjson", _hook("wamid.A"))
    b = _write(folder / "b.ndjson", _hook("wamid.B"))
    groupkit.read_webhooks(folder, cache=tmp_path / "c", workers=1)
    parses.clear()
    _write(b, _hook("wamid.B"), _hook("wamid.C"))  # size changes
    got = groupkit.read_webhooks(folder, cache=tmp_path / "c", workers=1)
    assert parses == ["b.ndjson"]
    assert got.statuses["message_id"].tolist() == ["wamid.A", "wamid.B", "wamid.C"]


def test_a_touched_file_with_the_same_size_is_parsed_again(tmp_path, parses):
    path = _write(tmp_path / "a.ndjson", _hook("wamid.A"))
    groupkit.read_webhooks(path, cache=tmp_path / "c", workers=1)
    # Same size, new content and mtime: the key must see it.
    _write(path, _hook("wamid.Z"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    parses.clear()
    got = groupkit.read_webhooks(path, cache=tmp_path / "c", workers=1)
    assert parses == ["a.ndjson"]
    assert got.statuses["message_id"].tolist() == ["wamid.Z"]


def test_another_parser_version_never_reads_old_entries(tmp_path, parses, monkeypatch):
    path = _write(tmp_path / "a.ndjson", _hook("wamid.A"))
    groupkit.read_webhooks(path, cache=tmp_path / "c", workers=1)
    monkeypatch.setattr(cache, "parser_version", lambda: "an-edited-parser")
    parses.clear()
    groupkit.read_webhooks(path, cache=tmp_path / "c", workers=1)
    assert parses == ["a.ndjson"]


def _copy_of_the_package(tmp_path: Path) -> Path:
    """A copy of groupkit's sources, to edit; its modules keep their groupkit names."""
    package = Path(groupkit.__file__).parent
    for path in package.rglob("*"):
        if path.suffix in (".py", ".c") and "__pycache__" not in path.parts:
            target = tmp_path / "copy" / path.relative_to(package)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    return tmp_path / "copy"


def test_the_parser_files_are_the_loader_and_what_it_imports():
    package = Path(groupkit.__file__).parent
    names = [p.relative_to(package).as_posix() for p in cache.parser_files(package)]
    assert names == sorted(names)
    loader = {p.relative_to(package).as_posix() for p in (package / "load").glob("*.py")}
    assert loader | {"load/_scan.c"} <= set(names)
    # Outside load/: what the loader imports (read from its import statements by hand:
    # load/api.py imports groupkit.progress and groupkit.exceptions, load/cache.py
    # groupkit.archive, load/walk.py groupkit.schema).
    assert {"schema.py", "archive.py", "progress.py", "exceptions.py"} <= set(names)
    # ... and not what it does not import.
    assert not {n for n in names if n.startswith(("analytics/", "dask/", "client/", "charts/"))}


def test_editing_any_parser_file_or_the_version_changes_the_parser_version(tmp_path):
    root = _copy_of_the_package(tmp_path)
    names = [p.relative_to(root).as_posix() for p in cache.parser_files(root)]
    before = cache._parser_digest("0.1.0", root)
    assert before == cache._parser_digest("0.1.0", root)
    assert cache._parser_digest("0.1.1", root) != before
    for name in names:
        original = (root / name).read_bytes()
        (root / name).write_bytes(original + b"\n# an edit\n")
        assert cache._parser_digest("0.1.0", root) != before, name
        (root / name).write_bytes(original)
    assert cache._parser_digest("0.1.0", root) == before
    # A module outside the loader that it does not import does not count.
    (root / "charts" / "new_chart.py").write_text("X = 1\n")
    assert cache._parser_digest("0.1.0", root) == before


def test_a_new_renamed_or_newly_imported_file_changes_the_parser_version(tmp_path):
    root = _copy_of_the_package(tmp_path)
    before = cache._parser_digest("0.1.0", root)
    # A new module of the loader, even one folder down, that nothing imports yet.
    (root / "load" / "formats").mkdir()
    (root / "load" / "formats" / "new_reader.py").write_text("X = 1\n")
    with_new = cache._parser_digest("0.1.0", root)
    assert with_new != before
    # The same bytes under another name.
    (root / "load" / "formats" / "new_reader.py").rename(root / "load" / "formats" / "renamed.py")
    assert cache._parser_digest("0.1.0", root) not in (before, with_new)
    (root / "load" / "formats" / "renamed.py").unlink()
    (root / "load" / "formats").rmdir()
    assert cache._parser_digest("0.1.0", root) == before
    # A module outside load/ counts once the loader imports it, even lazily.
    (root / "notes.py").write_text("X = 1\n")
    assert cache._parser_digest("0.1.0", root) == before
    walk = root / "load" / "walk.py"
    walk.write_text(walk.read_text() + "\n\ndef _later():\n    from groupkit import notes\n")
    assert "notes.py" in {p.name for p in cache.parser_files(root)}
    edited = cache._parser_digest("0.1.0", root)
    (root / "notes.py").write_text("X = 2\n")
    assert cache._parser_digest("0.1.0", root) != edited


def test_duplicates_across_files_are_dropped_after_cached_parts_combine(tmp_path, parses):
    folder = tmp_path / "in"
    folder.mkdir()
    _write(folder / "a.ndjson", _hook("wamid.A"), _hook("wamid.B"))
    groupkit.read_webhooks(folder, cache=tmp_path / "c", workers=1)
    # A redelivery of wamid.B lands in a new file: only it is parsed, and the
    # combined frames drop it exactly as a fresh load does.
    _write(folder / "b.ndjson", _hook("wamid.B"), _hook("wamid.C"))
    parses.clear()
    got = groupkit.read_webhooks(folder, cache=tmp_path / "c", workers=1)
    assert parses == ["b.ndjson"]
    assert got.statuses["message_id"].tolist() == ["wamid.A", "wamid.B", "wamid.C"]
    assert got.report.duplicates["statuses"] == 1
    assert got.statuses["source"].iloc[1].endswith("a.ndjson:2")
    assert_same_archive(got, groupkit.read_webhooks(folder, cache=False))


def _entries(root: Path, level: str) -> list[Path]:
    return sorted((root / level).iterdir())


# A broken whole-archive entry is rebuilt from the per-file parts; a broken part re-parses.
@pytest.mark.parametrize(("level", "parsed"), [("archives", []), ("files", ["a.ndjson"])])
def test_a_truncated_entry_is_detected_and_rebuilt(tmp_path, parses, level, parsed):
    path = _write(tmp_path / "a.ndjson", _hook("wamid.A"), _hook("wamid.B"))
    root = tmp_path / "c"
    fresh = groupkit.read_webhooks(path, cache=root, workers=1)
    if level == "files":  # make the per-file entry the one that is read
        for entry in _entries(root, "archives"):
            (entry / "manifest.json").unlink()
    (table,) = _entries(root, level)[0].glob("statuses.*")  # .arrow or .parquet
    table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])
    parses.clear()
    with pytest.warns(cache.CacheWarning, match="rebuilding"):
        got = groupkit.read_webhooks(path, cache=root, workers=1)
    assert parses == parsed
    assert_same_archive(got, fresh)
    # ... and the rebuilt entry serves the next load.
    parses.clear()
    assert_same_archive(groupkit.read_webhooks(path, cache=root, workers=1), fresh)
    assert parses == []


def test_a_flipped_byte_fails_the_checksum_and_is_rebuilt(tmp_path, parses):
    path = _write(tmp_path / "a.ndjson", *[_hook(f"wamid.{i}") for i in range(200)])
    root = tmp_path / "c"
    fresh = groupkit.read_webhooks(path, cache=root, workers=1)
    (entry,) = _entries(root, "archives")
    table = entry / "statuses.arrow"
    data = bytearray(table.read_bytes())
    # Inside a message id: same size, still valid Arrow; only a checksum can see it.
    data[data.index(b"wamid.150") + 8] ^= 0x01
    table.write_bytes(bytes(data))
    parses.clear()
    with pytest.warns(cache.CacheWarning, match="fails its checksum"):
        got = groupkit.read_webhooks(path, cache=root, workers=1)
    assert_same_archive(got, fresh)


_KILLED_WRITER = """
import os, signal, sys
import groupkit
from groupkit.load import cache

real = cache._write_table
def write_then_die(table, path):
    real(table, path)
    os.kill(os.getpid(), signal.SIGKILL)   # killed mid-write: after one table

cache._write_table = write_then_die
groupkit.read_webhooks(sys.argv[1], cache=sys.argv[2], workers=1)
"""


def test_a_load_killed_mid_write_leaves_no_entry_and_the_next_load_rebuilds(tmp_path):
    path = _write(tmp_path / "a.ndjson", _hook("wamid.A"), "{broken", _hook("wamid.B"))
    root = tmp_path / "c"
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(_KILLED_WRITER))
    done = subprocess.run([sys.executable, str(script), str(path), str(root)], check=False)
    assert done.returncode == -9
    assert _entries(root, "files") == [] and _entries(root, "archives") == []
    assert list((root / "tmp").iterdir())  # the half-written scratch directory
    got = groupkit.read_webhooks(path, cache=root, workers=1)
    assert_same_archive(got, groupkit.read_webhooks(path, cache=False))
    assert len(_entries(root, "archives")) == 1


def test_an_entry_without_its_manifest_is_never_served(tmp_path, parses):
    path = _write(tmp_path / "a.ndjson", _hook("wamid.A"))
    root = tmp_path / "c"
    groupkit.read_webhooks(path, cache=root, workers=1)
    for level in ("archives", "files"):
        for entry in _entries(root, level):
            (entry / "manifest.json").unlink()
    parses.clear()
    with pytest.warns(cache.CacheWarning, match="manifest.json is missing"):
        got = groupkit.read_webhooks(path, cache=root, workers=1)
    assert parses == ["a.ndjson"]
    assert got.statuses["message_id"].tolist() == ["wamid.A"]


def test_blocks_parsed_in_parallel_are_cached_with_file_relative_lines(tmp_path, monkeypatch):
    # Small blocks so one file is cut into several ranges parsed by worker processes.
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(_sources, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(_sources, "file_ranges", partial(_sources.file_ranges, size=4096))
    records = [_hook(f"wamid.{i}", ts=1750000000 + i) for i in range(120)]
    records[95] = "not json"
    records.append(records[3])  # a redelivery, far from its original
    path = _write(tmp_path / "big.ndjson", *records)
    assert path.stat().st_size > 5 * 4096
    fresh = groupkit.read_webhooks(path, cache=False, workers=1)
    groupkit.read_webhooks(path, cache=tmp_path / "c", workers=2)
    for entry in _entries(tmp_path / "c", "archives"):  # read the per-file entry
        (entry / "manifest.json").unlink()
    with pytest.warns(cache.CacheWarning, match="manifest.json is missing"):
        got = groupkit.read_webhooks(path, cache=tmp_path / "c", workers=1)
    assert [r.line for r in got.report.rejects] == [96]
    assert got.report.duplicates["statuses"] == 1
    assert_same_archive(got, fresh)


def test_the_environment_variable_names_the_default_directory(tmp_path, monkeypatch, parses):
    path = _write(tmp_path / "a.ndjson", _hook("wamid.A"))
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "env-cache"))
    groupkit.read_webhooks(path, workers=1)
    assert _entries(tmp_path / "env-cache", "archives")
    parses.clear()
    groupkit.read_webhooks(path, workers=1)
    assert parses == []
    groupkit.read_webhooks(path, workers=1, cache=False)
    assert parses == ["a.ndjson"]


def test_cache_true_without_a_directory_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.ENV_VAR, raising=False)
    path = _write(tmp_path / "a.ndjson", _hook("wamid.A"))
    with pytest.raises(ValueError, match="GROUPKIT_CACHE"):
        groupkit.read_webhooks(path, cache=True)


def test_clear_cache_removes_every_entry(tmp_path):
    path = _write(tmp_path / "a.ndjson", _hook("wamid.A"))
    groupkit.read_webhooks(path, cache=tmp_path / "c")
    assert cache.clear_cache(tmp_path / "c") == 2
    assert _entries(tmp_path / "c", "files") == []
