"""Sources -> records: cut a file's bytes into records and hand each to the lane or the walker.

NDJSON blocks go to the C status lane (:mod:`groupkit.load.lane`) where it is
built, which hands back every line it does not take; whole-file documents (one
webhook, an array, a mapping of named webhooks) go record by record to the
walker (:mod:`groupkit.load.walk`).
"""

from __future__ import annotations

import msgspec

from groupkit.load import lane, sources
from groupkit.load import model as S
from groupkit.load.parts import Layout
from groupkit.load.walk import Sink, excerpt, reason_of, walk_block, walk_record

_WEBHOOK_KEYS = (b'"entry"', b'"object"', b'"body"', b'"payload"')


def walk_file_bytes(data: bytes, fidx: int, sink: Sink) -> Layout:
    """Walk a whole file's bytes (gzip or not, any format); returns its layout."""
    problem = None
    if data[:2] == sources.GZIP_MAGIC:
        data, problem = sources.gunzip(data)
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    if (why := sources.not_text(data[: 1 << 16])) is not None:
        sink.records += 1
        sink.rejects.append((fidx, 1, why, excerpt(data[:0])))
        return Layout("single")
    if sources.is_line_mode(data):
        if problem:
            data = cut_tail(data, problem, fidx, sink)
        line = 1
        for block in sources.iter_line_blocks(data):
            line += walk_lines(block, fidx, sink, line)
        return Layout("lines")
    if problem:
        sink.records += 1
        sink.rejects.append((fidx, 1, f"{problem}: the JSON document is cut off", excerpt(data)))
        return Layout("single")
    names = walk_document(data, fidx, sink)
    start = sources.text_start(data)
    first = data[start : start + 1]
    if names is not None:
        return Layout("named", names)
    return Layout("array" if first == b"[" else "single")


def cut_tail(data: bytes, problem: str, fidx: int, sink: Sink, *, streamed: bool = False) -> bytes:
    """Reject the record a broken gzip stream cut off, and return the intact lines.

    A streamed file's reject is addressed relative to a part of its own after the last
    block (line 1 there); a whole file's by its line number.
    """
    intact = data.rfind(b"\n") + 1
    line = 1 if streamed else data.count(b"\n", 0, intact) + 1
    sink.records += 1
    tail = data[intact:]
    if tail.strip():
        reason = f"{problem}: this last record is cut off"
    elif streamed:
        reason = f"{problem}: records after this point are lost"
    else:
        reason = f"{problem}: records after line {line - 1} are lost"
    sink.rejects.append((fidx, line, reason, excerpt(tail)))
    return data[:intact]


def walk_lines(data: bytes | memoryview, fidx: int, sink: Sink, first_line: int = 1) -> int:
    """Walk every non-blank line of an NDJSON block; returns the number of lines.

    The Arrow lane (:mod:`groupkit.load.lane`) takes the block if it can, else the
    msgspec walker reads it line by line.
    """
    data = bytes(data)
    count = lane.walk_lines(data, fidx, sink, first_line)
    return walk_block(data, fidx, sink, first_line) if count is None else count


def walk_document(data: bytes, fidx: int, sink: Sink) -> list[str] | None:
    """Walk a whole-file JSON document; returns record names for a named collection."""
    start = sources.text_start(data)
    if data[start : start + 1] == b"[":
        try:
            items = S.RAW_LIST.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            sink.records += 1
            sink.rejects.append((fidx, 0, f"JSON array: {reason_of(exc, data)}", excerpt(data)))
            return None
        for i, item in enumerate(items):
            walk_record(item, fidx, i, sink)
        return None
    try:
        named = S.RAW_DICT.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        named = None
    if named and _all_webhooks(named):
        names = list(named)
        for i, name in enumerate(names):
            walk_record(named[name], fidx, i, sink)
        return names
    walk_record(data, fidx, 1, sink)
    return None


def _all_webhooks(named: dict) -> bool:
    """A mapping of names to webhooks (as peers keep fixtures), not a webhook itself."""
    if "entry" in named or "body" in named or "payload" in named:
        return False
    for raw in named.values():
        head = bytes(raw)[:1]
        if head != b"{" or not any(key in bytes(raw) for key in _WEBHOOK_KEYS):
            return False
    return True
