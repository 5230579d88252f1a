"""Rejects are kept small and still behave as the frozen dataclass they were (issue 14: 11)."""

from __future__ import annotations

import dataclasses
import pickle
import sys

import pytest

import groupkit
from groupkit import Reject
from groupkit.load import engine
from groupkit.load import sources as _sources


def test_a_reject_compares_hashes_prints_and_pickles_as_before():
    a = Reject("a.ndjson:2", "a.ndjson", 2, "malformed JSON", "{")
    b = Reject.at_line("a.ndjson", 2, "malformed JSON", "{")
    named = Reject("a.json#x", "a.json", None, "not a webhook")
    assert a == b and hash(a) == hash(b) and a != named
    assert (a.source, a.path, a.line, a.reason, a.excerpt) == (
        "a.ndjson:2",
        "a.ndjson",
        2,
        "malformed JSON",
        "{",
    )
    assert named.source == "a.json#x" and named.line is None and named.excerpt == ""
    assert repr(a) == (
        "Reject(source='a.ndjson:2', path='a.ndjson', line=2, reason='malformed JSON', excerpt='{')"
    )
    assert pickle.loads(pickle.dumps(named)) == named
    assert a.as_dict() == {
        "source": "a.ndjson:2",
        "path": "a.ndjson",
        "line": 2,
        "reason": "malformed JSON",
        "excerpt": "{",
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.line = 3
    assert not hasattr(a, "__dict__")


def test_garbage_lines_share_their_reason_and_store_no_source(tmp_path, monkeypatch):
    monkeypatch.setattr(_sources, "BLOCK_BYTES", 16 << 10)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    path = tmp_path / "garbage.ndjson"
    path.write_text("".join(f"{{not json {i}\n" for i in range(5000)))
    rejects = groupkit.read_webhooks(path, workers=2, progress=False).report.rejects
    assert [r.line for r in rejects] == list(range(1, 5001))
    assert [r.source for r in rejects[:2]] == [f"{path}:1", f"{path}:2"]
    assert len({id(r.reason) for r in rejects}) == len({r.reason for r in rejects})
    # five slots and no dict: far less than the ~600 bytes a reject cost
    assert sys.getsizeof(rejects[0]) <= 80
