"""A cache that cannot hurt: a cache folder that is missing, broken or unwritable, and
junk or damage inside it, cost one warning and a fresh parse, never an error or a
different result."""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import groupkit
from groupkit.load import cache
from tests.cache.test_cache import _hook, _write, assert_same_archive, parses  # noqa: F401


def _cache_warnings(load) -> tuple[groupkit.Archive, list[str]]:
    """The archive ``load()`` returns and the messages of every CacheWarning it gave."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        got = load()
    messages = [str(w.message) for w in seen if issubclass(w.category, cache.CacheWarning)]
    others = [w for w in seen if not issubclass(w.category, cache.CacheWarning)]
    assert not others, others
    return got, messages


def _a_file(root: Path) -> Path:
    root.write_text("not a folder")
    return root


def _below_a_file(root: Path) -> Path:
    _a_file(root)
    return root / "cache"


def _dangling_link(root: Path) -> Path:
    root.symlink_to(root.parent / "gone")
    return root


def _level_is_a_file(level: str):
    def make(root: Path) -> Path:
        root.mkdir()
        (root / level).write_text("junk")
        return root

    make.__name__ = f"_{level}_is_a_file"
    return make


_BROKEN = [
    _a_file,
    _below_a_file,
    _dangling_link,
    _level_is_a_file("tmp"),
    _level_is_a_file("archives"),
    _level_is_a_file("files"),
]


@pytest.mark.parametrize("broken", _BROKEN, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("through", ["argument", "environment"])
def test_a_broken_cache_folder_gives_an_uncached_load_and_one_warning(
    tmp_path, monkeypatch, broken, through
):
    path = _write(tmp_path / "a.ndjson", _hook("wamid.A"), "{broken", _hook("wamid.B"))
    fresh = groupkit.read_webhooks(path, cache=False, workers=1)
    root = broken(tmp_path / "c")
    if through == "environment":
        monkeypatch.setenv(cache.ENV_VAR, str(root))
        arg = None
    else:
        arg = root
    got, messages = _cache_warnings(lambda: groupkit.read_webhooks(path, cache=arg, workers=1))
    assert_same_archive(got, fresh)
    assert len(messages) == 1 and "not cached" in messages[0], messages


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
@pytest.mark.parametrize("level", [".", "tmp", "archives", "files"])
def test_a_read_only_cache_folder_gives_an_uncached_load_and_one_warning(tmp_path, level):
    path = _write(tmp_path / "a.ndjson", _hook("wamid.A"), "{broken", _hook("wamid.B"))
    fresh = groupkit.read_webhooks(path, cache=False, workers=1)
    root = tmp_path / "c"
    cache.CacheStore(root)  # every level present
    (root / level).chmod(0o555)
    try:
        got, messages = _cache_warnings(lambda: groupkit.read_webhooks(path, cache=root, workers=1))
    finally:
        (root / level).chmod(0o755)
    assert_same_archive(got, fresh)
    assert len(messages) == 1 and "not cached" in messages[0], messages


def test_writes_that_fail_after_the_parse_give_one_warning(tmp_path, monkeypatch):
    """As on a read-only or full file system: every data file fails to write."""

    def refused(table, path):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(cache, "_write_table", refused)
    monkeypatch.setattr(cache, "_write_raw", refused)
    path = _write(tmp_path / "a.ndjson", _hook("wamid.A"), _hook("wamid.B"))
    fresh = groupkit.read_webhooks(path, cache=False, workers=1)
    root = tmp_path / "c"
    got, messages = _cache_warnings(lambda: groupkit.read_webhooks(path, cache=root, workers=1))
    assert_same_archive(got, fresh)
    assert len(messages) == 1 and "cannot write" in messages[0], messages
    assert list((root / "archives").iterdir()) == [] and list((root / "tmp").iterdir()) == []


@pytest.mark.parametrize("level", ["archives", "files"])
@pytest.mark.parametrize("junk", ["file", "link", "fifo"])
def test_junk_at_an_entry_path_is_rebuilt(tmp_path, parses, level, junk):  # noqa: F811
    path = _write(tmp_path / "a.ndjson", _hook("wamid.A"), _hook("wamid.B"))
    root = tmp_path / "c"
    fresh = groupkit.read_webhooks(path, cache=root, workers=1)
    entries = {lvl: sorted((root / lvl).iterdir()) for lvl in ("archives", "files")}
    if level == "files":  # the per-file entry is the one read
        for entry in entries["archives"]:
            shutil.rmtree(entry)
    (entry,) = entries[level]
    shutil.rmtree(entry)
    if junk == "file":
        entry.write_bytes(b"\x00junk")
    elif junk == "link":
        entry.symlink_to(tmp_path / "nowhere")
    else:
        os.mkfifo(entry)
    parses.clear()
    got, messages = _cache_warnings(lambda: groupkit.read_webhooks(path, cache=root, workers=1))
    assert_same_archive(got, fresh)
    assert messages and all("rebuilding" in m for m in messages), messages
    # A whole-archive entry is rebuilt from the per-file entries; a file's, by a parse.
    assert parses == ([] if level == "archives" else ["a.ndjson"])
    # ... and the rebuilt entry serves the next load.
    parses.clear()
    assert_same_archive(groupkit.read_webhooks(path, cache=root, workers=1), fresh)
    assert parses == []


def _two_level_cache(tmp_path: Path) -> tuple[Path, Path, groupkit.Archive]:
    """A cached load of a file with a reject, a redelivery and two groups."""
    path = _write(
        tmp_path / "a.ndjson",
        _hook("wamid.A"),
        "{broken",
        _hook("wamid.B", status="delivered", participant="15550001"),
        _hook("wamid.A"),
    )
    root = tmp_path / "c"
    fresh = groupkit.read_webhooks(path, cache=False, workers=1)
    groupkit.read_webhooks(path, cache=root, workers=1)
    return path, root, fresh


def _manifest(root: Path, level: str) -> Path:
    (entry,) = sorted((root / level).iterdir())
    return entry / "manifest.json"


@pytest.mark.parametrize("level", ["archives", "files"])
def test_a_flipped_byte_anywhere_in_a_manifest_is_caught_and_rebuilt(tmp_path, level):
    path, root, fresh = _two_level_cache(tmp_path)
    pristine = tmp_path / "pristine"
    shutil.copytree(root, pristine, symlinks=True)
    size = _manifest(pristine, level).stat().st_size
    # Every byte of the last 32 (the checksum and the end of the report) and a fixed
    # spread over the rest: each flip is loaded from a fresh copy of the cache.
    positions = sorted(set(range(0, size, max(1, size // 20))) | set(range(size - 32, size)))
    changed = []
    for pos in positions:
        shutil.rmtree(root)
        shutil.copytree(pristine, root, symlinks=True)
        if level == "files":  # the per-file entry is the one read
            _manifest(root, "archives").unlink()
        manifest = _manifest(root, level)
        data = bytearray(manifest.read_bytes())
        data[pos] ^= 0x01
        manifest.write_bytes(bytes(data))
        got, messages = _cache_warnings(lambda: groupkit.read_webhooks(path, cache=root, workers=1))
        try:
            assert_same_archive(got, fresh)
            assert any("rebuilding" in m for m in messages), messages
            # ... and what is served next is the rebuilt entry, not the damage.
            assert_same_archive(groupkit.read_webhooks(path, cache=root, workers=1), fresh)
        except AssertionError as exc:
            changed.append((pos, str(exc)[:80]))
    assert changed == []


@pytest.mark.parametrize("level", ["archives", "files"])
@pytest.mark.parametrize("content", [b"[]", b"null", b'"x"', b"{}", b"", b"\xff\xfe"])
def test_a_manifest_of_the_wrong_shape_is_rebuilt(tmp_path, level, content):
    path, root, fresh = _two_level_cache(tmp_path)
    if level == "files":
        _manifest(root, "archives").unlink()
    _manifest(root, level).write_bytes(content)
    got, messages = _cache_warnings(lambda: groupkit.read_webhooks(path, cache=root, workers=1))
    assert_same_archive(got, fresh)
    assert any("rebuilding" in m for m in messages), messages


@pytest.mark.parametrize("level", ["archives", "files"])
def test_a_fifo_in_place_of_a_manifest_is_rebuilt_without_waiting(tmp_path, level):
    path, root, fresh = _two_level_cache(tmp_path)
    if level == "files":
        _manifest(root, "archives").unlink()
    fifo = _manifest(root, level)
    fifo.unlink()
    os.mkfifo(fifo)
    result: dict = {}

    def load():
        result["got"], result["messages"] = _cache_warnings(
            lambda: groupkit.read_webhooks(path, cache=root, workers=1)
        )

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(10)
    hung = thread.is_alive()
    if hung:  # release the reader (a writer that closes at once) so the thread ends
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(20)
    assert not hung, "the load waited on the FIFO"
    assert_same_archive(result["got"], fresh)
    assert any("rebuilding" in m for m in result["messages"]), result["messages"]


_CONCURRENT_LOAD = """
import json, sys, warnings
import groupkit
warnings.simplefilter("error")
got = groupkit.read_webhooks(sys.argv[1], cache=sys.argv[2], workers=1)
print(json.dumps([got.statuses["message_id"].tolist(), got.report.records_read]))
"""


def test_concurrent_writers_of_one_entry_all_load_and_leave_one_good_entry(tmp_path, parses):  # noqa: F811
    path = _write(tmp_path / "a.ndjson", *[_hook(f"wamid.{i}") for i in range(300)], "{broken")
    root = tmp_path / "c"
    script = tmp_path / "load.py"
    script.write_text(_CONCURRENT_LOAD)
    runs = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0] * 4, [err[-500:] for _, err in outs]
    want = [[f"wamid.{i}" for i in range(300)], 301]
    assert [json.loads(out) for out, _ in outs] == [want] * 4
    parses.clear()
    got, messages = _cache_warnings(lambda: groupkit.read_webhooks(path, cache=root, workers=1))
    assert messages == [] and parses == []
    assert_same_archive(got, groupkit.read_webhooks(path, cache=False, workers=1))
    assert len(list((root / "archives").iterdir())) == 1


@pytest.mark.skipif(importlib.util.find_spec("groupkit.load._scan") is None, reason="no C lane")
@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=0), st.integers(min_value=0, max_value=7))
def test_the_checksum_of_cached_files_sees_every_flipped_bit(data, where, bit):
    """The whole-archive entry is checked by word sums, not CRC-32: any one flipped bit,
    anywhere in a file (the padded tail included), must change the sum."""
    from groupkit.load._scan import checksum

    if not data:
        assert checksum(b"") != checksum(b"\x00")  # the length is part of it
        return
    flipped = bytearray(data)
    flipped[where % len(data)] ^= 1 << bit
    assert checksum(bytes(flipped)) != checksum(data)
    assert checksum(data) == checksum(bytearray(data))
