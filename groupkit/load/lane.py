"""The lanes: most lines of an archive, read in C without Python objects.

Most lines of a group archive are one of two POSTs: one entry, one ``messages``
change, and either a few status objects, or one participant's message with its
contact. The C extension :mod:`groupkit._scan` reads such lines straight from the
bytes into the statuses and messages frames' columns and hands every other line
back; :func:`walk_lines` walks those with the msgspec walker, which is exact about
reasons, and keeps the lanes' columns in ``sink.lane`` for
:func:`groupkit.load.build.block_tables`, which merges both back into reading order.

The C lane takes a line only if it would read it exactly as the walker does
(strict JSON, valid UTF-8, the common shapes; see ``_scan.c``); tests
compare the two on every archive the suite reads and on mutated lines. Where the
extension was not built (no C compiler at install time), every line takes the
walker: the same frames, more slowly.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from groupkit.load.arrays import nulls
from groupkit.load.walk import RAW_COLUMNS, Sink, walk_record

try:
    from groupkit.load import _scan
except ImportError:  # pragma: no cover - installed without a C compiler
    _scan = None

# Off switch, for comparing the lane with the walker (tests, benchmarks).
ENABLED = True

_T = pa.large_string()


def available() -> bool:
    """True when the C lane is built and switched on."""
    return _scan is not None and ENABLED


def walk_lines(data: bytes, fidx: int, sink: Sink, first_line: int) -> int | None:
    """Walk an NDJSON block through the lane; None where the lane is not available.

    Statuses and messages of lane lines go to ``sink.lane`` as Arrow columns; every other line
    is walked into ``sink`` by :func:`groupkit.load.walk.walk_record`. Returns the
    number of lines, like :func:`groupkit.load.walk.walk_block`.
    """
    if not available():
        return None
    lines, taken, routed, locs, (rows, columns), (mrows, mcolumns) = _scan.read(data, first_line)
    for line, loc in zip(routed, locs, strict=True):
        walk_record(line, fidx, loc, sink)
    sink.records += taken
    if rows:
        sink.lane["statuses"].append(_status_columns(rows, columns, fidx))
    if mrows:
        sink.lane["messages"].append(_message_columns(mrows, mcolumns, fidx))
    return lines


def _ints(n: int, part: tuple[bytes, bytes]) -> pa.Array:
    valid, values = part
    return pa.Array.from_buffers(pa.int64(), n, [pa.py_buffer(valid), pa.py_buffer(values)])


def _bools(n: int, part: tuple[bytes, bytes]) -> pa.Array:
    valid, values = part
    return pa.Array.from_buffers(pa.bool_(), n, [pa.py_buffer(valid), pa.py_buffer(values)])


def _texts(n: int, names: tuple[str, ...], parts: tuple) -> dict[str, pa.Array]:
    none = nulls(n, _T)
    return {
        name: none
        if part is None  # the column held no value in this block
        else pa.Array.from_buffers(_T, n, [pa.py_buffer(buffer) for buffer in part])
        for name, part in zip(names, parts, strict=True)
    }


def _line_numbers(n: int, fidx: int, loc: bytes) -> dict[str, pa.Array]:
    return {
        "_file": pa.array(np.full(n, fidx, dtype=np.int64)),
        "_loc": pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(loc)]),
    }


def _status_columns(n: int, columns: tuple, fidx: int) -> dict[str, pa.Array]:
    """The statuses frame's raw columns from _scan's buffers (see ``_scan.read``)."""
    text_parts, ts, expires, entry_time, billable, loc = columns
    text = _texts(n, _scan.TEXT_COLUMNS, text_parts)
    rid, rtype = text["recipient_id"], text["recipient_type"]
    # The declared rule of group_id: `group_id`, else the recipient of a group status.
    text["group_id"] = pc.coalesce(
        text["group_id"], pc.if_else(pc.equal(rtype, "group"), rid, pa.scalar(None, _T))
    )
    # participant_id: the first of its two declared paths that holds a value.
    text["participant_id"] = pc.coalesce(
        text.pop("recipient_participant_id"), text.pop("participant_recipient_id")
    )
    known = {
        **text,
        "timestamp": _ints(n, ts),
        "conversation_expires_at": _ints(n, expires),
        "entry_time": _ints(n, entry_time),
        "billable": _bools(n, billable),
        **_line_numbers(n, fidx, loc),
    }
    # Every other column is null on a lane line: no errors, no contacts, no extra keys,
    # no envelope (the lane sends any line that has one to the walker).
    return _with_nulls("statuses", n, known)


def _message_columns(n: int, columns: tuple, fidx: int) -> dict[str, pa.Array]:
    """The messages frame's raw columns from _scan's buffers (see ``_scan.read``)."""
    text_parts, ts, entry_time, forwarded, frequently, loc = columns
    known = {
        **_texts(n, _scan.MESSAGE_COLUMNS, text_parts),
        "timestamp": _ints(n, ts),
        "entry_time": _ints(n, entry_time),
        "forwarded": _bools(n, forwarded),
        "frequently_forwarded": _bools(n, frequently),
        **_line_numbers(n, fidx, loc),
    }
    # Null on a lane line: errors, referrals, system fields, extra keys, envelope.
    return _with_nulls("messages", n, known)


def _with_nulls(frame: str, n: int, known: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """Every raw column of ``frame``: the lane's, and one shared null column for the rest."""
    none = nulls(n, _T)
    return {name: known.get(name, none) for name in RAW_COLUMNS[frame]}
