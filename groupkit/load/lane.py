"""The status lane: most lines of an archive, read in C without Python objects.

Nineteen lines in twenty of a group archive are the same POST: one entry, one
``messages`` change, a few status objects and nothing else. The C extension
:mod:`groupkit._scan` reads such lines straight from the bytes into the statuses
frame's columns and hands every other line back; :func:`walk_lines` walks those
with the msgspec walker, which is exact about reasons, and keeps the lane's
columns in ``sink.lane`` for :func:`groupkit.load.build.block_tables`, which merges
both back into reading order.

The C lane takes a line only if it would read it exactly as the walker does
(strict JSON, plain ASCII strings, the common shape; see ``_scan.c``); tests
compare the two on every archive the suite reads and on mutated lines. Where the
extension was not built (no C compiler at install time), every line takes the
walker: the same frames, more slowly.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from groupkit.load.walk import Sink, walk_record

try:
    from groupkit.load import _scan
except ImportError:  # pragma: no cover - installed without a C compiler
    _scan = None

# Off switch, for comparing the lane with the walker (tests, benchmarks).
ENABLED = True

_T = pa.large_string()
# The text columns _scan fills, in its order.
_TEXT = (
    "message_id",
    "status",
    "recipient_id",
    "recipient_type",
    "group_id",
    "recipient_participant_id",
    "participant_recipient_id",
    "participant_user_id",
    "participant_parent_user_id",
    "biz_opaque_callback_data",
    "conversation_id",
    "conversation_category",
    "pricing_category",
    "pricing_type",
    "pricing_model",
    "waba_id",
    "phone_number_id",
)


def available() -> bool:
    """True when the C lane is built and switched on."""
    return _scan is not None and ENABLED


def walk_lines(data: bytes, fidx: int, sink: Sink, first_line: int) -> int | None:
    """Walk an NDJSON block through the lane; None where the lane is not available.

    Statuses of lane lines go to ``sink.lane`` as Arrow columns; every other line
    is walked into ``sink`` by :func:`groupkit.load.walk.walk_record`. Returns the
    number of lines, like :func:`groupkit.load.walk.walk_block`.
    """
    if not available():
        return None
    lines, taken, routed, locs, rows, columns = _scan.statuses(data, first_line)
    for line, loc in zip(routed, locs, strict=True):
        walk_record(line, fidx, loc, sink)
    sink.records += taken
    if rows:
        sink.lane.append(_status_columns(rows, columns, fidx))
    return lines


def _status_columns(n: int, columns: tuple, fidx: int) -> dict[str, pa.Array]:
    """The statuses frame's raw columns from _scan's buffers (see ``_scan.statuses``)."""
    text_parts, (ts_valid, ts), (bill_valid, bill), loc = columns
    text = {
        name: pa.Array.from_buffers(
            _T, n, [pa.py_buffer(valid), pa.py_buffer(offsets), pa.py_buffer(data)]
        )
        for name, (valid, offsets, data) in zip(_TEXT, text_parts, strict=True)
    }
    rid, rtype = text["recipient_id"], text["recipient_type"]
    # The group is the recipient of a group status (or an explicit group_id, per OpenAPI).
    gid = pc.coalesce(
        text["group_id"], pc.if_else(pc.equal(rtype, "group"), rid, pa.scalar(None, _T))
    )
    pid = pc.coalesce(text["recipient_participant_id"], text["participant_recipient_id"])
    return {
        "message_id": text["message_id"],
        "status": text["status"],
        "timestamp": pa.Array.from_buffers(
            pa.int64(), n, [pa.py_buffer(ts_valid), pa.py_buffer(ts)]
        ),
        "group_id": gid,
        "recipient_id": rid,
        "recipient_type": rtype,
        "participant_id": pid,
        "participant_user_id": text["participant_user_id"],
        "participant_parent_user_id": text["participant_parent_user_id"],
        "error_code": pa.nulls(n, pa.int64()),
        "error_title": pa.nulls(n, _T),
        "pricing_category": text["pricing_category"],
        "pricing_type": text["pricing_type"],
        "pricing_model": text["pricing_model"],
        "billable": pa.Array.from_buffers(
            pa.bool_(), n, [pa.py_buffer(bill_valid), pa.py_buffer(bill)]
        ),
        "conversation_id": text["conversation_id"],
        "conversation_category": text["conversation_category"],
        "biz_opaque_callback_data": text["biz_opaque_callback_data"],
        "waba_id": text["waba_id"],
        "phone_number_id": text["phone_number_id"],
        "received_at": pa.nulls(n, pa.int64()),
        "_file": pa.array(np.full(n, fidx, dtype=np.int64)),
        "_loc": pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(loc)]),
    }
