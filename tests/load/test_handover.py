"""Tables handed from workers to the main process through shared-memory files."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from groupkit.load import handover as _handover


@pytest.fixture
def where(tmp_path):
    # Any folder works: /dev/shm only makes it memory.
    return str(tmp_path)


def _tables() -> dict[str, pa.Table]:
    text = pa.array(["wamid.A", None, "", "é" * 50, "wamid.B"] * 400, pa.large_string())
    numbers = pa.array([1, None, 3, 4, 5] * 400, pa.int64())
    flags = pa.array([True, None, False, True, False] * 400, pa.bool_())
    chunked = pa.chunked_array([text.slice(3, 700), text.slice(0, 1300)])  # offsets != 0
    return {
        "statuses": pa.table(
            {
                "text": chunked,
                "n": numbers,
                "flag": flags,
                "none": pa.nulls(2000, pa.large_string()),
                "category": pa.chunked_array(
                    [  # a dictionary per chunk, one of them sliced
                        pc.dictionary_encode(text.slice(5, 1000)),
                        pc.dictionary_encode(text).slice(2, 1000),
                    ]
                ),
            }
        ),
        "small": pa.table({"x": pa.array([1, 2, 3]), "bits": pa.array([True, False, None])}),
        "empty": pa.table({"x": pa.array([], pa.int64())}),
    }


@pytest.mark.parametrize("own_file_bytes", [0, 4096, 1 << 30])
def test_tables_come_back_equal_and_the_files_are_gone(where, monkeypatch, own_file_bytes):
    # 0: every column its own file; 1 GB: all share one; 4 kB: a mix.
    monkeypatch.setattr(_handover, "OWN_FILE_BYTES", own_file_bytes)
    tables = _tables()
    spilled = _handover.spill(tables, where, "part")
    assert spilled is not None
    assert set(spilled.tables) == {"statuses", "small"}  # empty tables take the pipe
    written = os.listdir(where)
    assert written  # the bytes really went through files
    if own_file_bytes == 0:
        assert len(written) > 4
    if own_file_bytes == 1 << 30:
        assert len(written) == 1
    back = _handover.unspill(spilled)
    assert os.listdir(where) == []  # names removed at once; maps keep the pages
    for name in ("statuses", "small"):
        assert back[name].schema == tables[name].schema
        assert back[name].equals(tables[name])
        back[name].validate(full=True)


def test_nested_columns_stay_for_the_pipe(where):
    nested = pa.table({"items": pa.array([[1, 2], None, [3]])})
    assert _handover.spill({"nested": nested}, where, "part") is None
    assert os.listdir(where) == []


def test_a_full_or_missing_folder_leaves_nothing_behind(where):
    missing = os.path.join(where, "gone")
    assert _handover.spill(_tables(), missing, "part") is None
    assert not os.path.exists(missing)
