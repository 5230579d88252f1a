"""Progress bars: files and bytes done, never in captured output unless asked for."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import groupkit
from groupkit import progress


def _archive(folder: Path, files: int = 2) -> Path:
    hook = {"entry": [{"id": "1", "changes": [{"field": "messages", "value": {"statuses": [
        {"id": "wamid.A", "status": "sent", "timestamp": "1750000000",
         "recipient_id": "G1", "recipient_type": "group"}]}}]}]}  # fmt: skip
    folder.mkdir(exist_ok=True)
    for n in range(files):
        (folder / f"day{n}.ndjson").write_text(json.dumps(hook) + "\n")
    return folder


def test_no_bar_by_default_even_for_large_work(tmp_path, capfd, monkeypatch):
    # Large enough to want a bar, but output is captured: nobody is watching.
    monkeypatch.setattr(progress, "MIN_BYTES", 0)
    groupkit.read_webhooks(_archive(tmp_path / "a"), cache=tmp_path / "c")
    groupkit.read_webhooks(_archive(tmp_path / "a"), cache=tmp_path / "c")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_forced_bar_shows_files_and_bytes(tmp_path, capsys):
    folder = _archive(tmp_path / "a", files=3)
    groupkit.read_webhooks(folder, progress=True, workers=1)
    err = capsys.readouterr().err
    assert "reading webhooks" in err
    assert "3/3 files" in err
    assert "B" in err and "/" in err


def test_cached_files_count_as_done_before_parsing_starts(tmp_path, monkeypatch):
    folder = _archive(tmp_path / "a", files=2)
    groupkit.read_webhooks(folder, cache=tmp_path / "c")
    (folder / "day9.ndjson").write_text((folder / "day0.ndjson").read_text())
    seen: list[tuple[int, int]] = []
    real_update = progress.FileBar.update

    def update(self, nbytes):
        real_update(self, nbytes)
        seen.append((self.files_done, self.files))

    monkeypatch.setattr(progress.FileBar, "update", update)
    groupkit.read_webhooks(folder, cache=tmp_path / "c", workers=1)
    assert seen == [(2, 3), (3, 3)]  # the two cached files at once, then the new one


def test_progress_false_never_draws(tmp_path, capfd):
    groupkit.read_webhooks(_archive(tmp_path / "a"), progress=False)
    assert capfd.readouterr() == ("", "")


def test_files_complete_in_order_as_their_bytes_do():
    counter = progress.bar([10, 0, 5, 20], progress=False)
    counter.update(4)
    assert counter.files_done == 0
    counter.update(6)
    assert counter.files_done == 2  # the empty file completes with the one before it
    counter.update(25)
    assert (counter.files_done, counter.bytes_done, counter.total) == (4, 35, 35)


def test_importing_ipykernel_alone_does_not_count_as_a_notebook(monkeypatch):
    # Test runners import ipykernel to execute notebooks; only a running kernel counts.
    monkeypatch.setitem(sys.modules, "ipykernel", sys.modules.get("ipykernel") or object())
    assert progress.interactive() is False
    assert progress.wanted(None, 10**12) is False


@pytest.mark.parametrize(("forced", "expected"), [(True, True), (False, False)])
def test_an_explicit_choice_wins(forced, expected):
    assert progress.wanted(forced, 0) is expected
