"""Worker processes and shared memory never outlive a load, however it ends."""

from __future__ import annotations

import glob
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from functools import partial
from pathlib import Path

import pytest

import groupkit
from groupkit.load import engine, handover
from groupkit.load import sources as _sources

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or not os.path.isdir("/dev/shm"), reason="Linux with /dev/shm"
)


def _hook(i: int) -> dict:
    status = {"id": f"wamid.{i}", "status": "sent", "timestamp": str(1750000000 + i),
              "recipient_id": "G1", "recipient_type": "group"}  # fmt: skip
    return {
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"statuses": [status]}}]}]
    }


def _archive(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps(_hook(i)) + "\n" for i in range(n)))
    return path


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _shm_dirs(pid: int) -> set[str]:
    """The scratch folders in shared memory of the load in process ``pid``."""
    return set(glob.glob(f"/dev/shm/groupkit-scratch-{pid}-*"))


def _small_blocks(monkeypatch) -> None:
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(_sources, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(_sources, "file_ranges", partial(_sources.file_ranges, size=4096))


# A parallel load cut into many small blocks; each worker prints its pid as it
# starts a block, and slows down so the parent is killed mid-load.
_SLOW_LOAD = """
import os, sys, time
from functools import partial
import groupkit
from groupkit.load import engine, sources

engine.PARALLEL_MIN_BYTES = 0
sources.BLOCK_BYTES = 4096
sources.file_ranges = partial(sources.file_ranges, size=4096)
real = engine.run_range

def announced(*args):
    os.write(1, b"%d\\n" % os.getpid())  # one write: the workers' lines never interleave
    time.sleep(0.05)
    return real(*args)

engine.run_range = announced
groupkit.read_webhooks(sys.argv[1], workers=2, cache=False)
"""


def test_sigkill_of_the_parent_ends_its_workers_and_the_next_load_removes_its_shm(tmp_path):
    path = _archive(tmp_path / "big.ndjson", 3000)
    script = tmp_path / "load.py"
    script.write_text(textwrap.dedent(_SLOW_LOAD))
    child = subprocess.Popen(
        [sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True
    )
    workers: set[int] = set()
    try:
        while len(workers) < 2:
            line = child.stdout.readline()
            assert line, "the load ended before both workers started"
            workers.add(int(line))
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
    deadline = time.monotonic() + 2
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert not [pid for pid in workers if _alive(pid)], "workers outlived their parent"
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    left = _shm_dirs(child.pid)
    assert left  # the killed load's scratch folder, which it could not remove
    groupkit.read_webhooks(_archive(tmp_path / "small.ndjson", 3), workers=1, cache=False)
    assert not _shm_dirs(child.pid)


_DONE: Path | None = None
_REAL_RANGE = engine.run_range


def _slow_range(fidx, seq, *args):
    """A worker's block that marks itself done; every block but the first is slow."""
    if seq:
        time.sleep(1)
    part = _REAL_RANGE(fidx, seq, *args)
    (_DONE / str(seq)).touch()
    return part


def test_keyboard_interrupt_mid_load_kills_workers_and_removes_scratch(tmp_path, monkeypatch):
    _small_blocks(monkeypatch)
    path = _archive(tmp_path / "big.ndjson", 3000)
    done = tmp_path / "done"
    done.mkdir()
    monkeypatch.setattr(sys.modules[__name__], "_DONE", done)

    def interrupted(part):  # runs here, as the first block comes back
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "run_range", _slow_range)
    monkeypatch.setattr(engine, "unspill", interrupted)
    with pytest.raises(KeyboardInterrupt):
        groupkit.read_webhooks(path, workers=2, cache=False)
    # The blocks in hand or queued were dropped, not parsed to the end first.
    assert sorted(p.name for p in done.iterdir()) == ["0"]
    assert multiprocessing.active_children() == []
    assert _shm_dirs(os.getpid()) == set()


def test_a_scratch_folder_of_a_live_load_is_kept(tmp_path):
    with handover.scratch_dir() as mine:
        handover.sweep_scratch()
        assert os.path.isdir(mine)
    assert not os.path.exists(mine)


def test_only_unlocked_scratch_folders_are_swept(tmp_path):
    # Folders named like groupkit's by someone else (a notebook's temp folder) stay.
    others = [tmp_path / "groupkit-04-7bsf9z89", tmp_path / "groupkit-abcdefgh"]
    dead = tmp_path / "groupkit-scratch-999999999-abcdefgh"  # nobody holds its lock
    for folder in [*others, dead]:
        folder.mkdir()
        (folder / "x").write_bytes(b"x")
    with handover.scratch_dir(str(tmp_path)) as mine:
        assert handover.sweep_scratch(str(tmp_path)) == []  # scratch_dir swept already
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [p.name for p in others] + [os.path.basename(mine)]
        )
