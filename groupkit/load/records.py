"""Sources -> records: cut a file's bytes into records and hand each to the lane or the walker.

NDJSON blocks go to the C lanes (:mod:`groupkit.load.lane`) where it is
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
    problems: list[tuple[int, sources.GzipProblem]] = []
    if data[:2] == sources.GZIP_MAGIC:
        data, problems = sources.gunzip(data)
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
        problems = [(max(0, at - 3), p) for at, p in problems]
    if (why := sources.not_text(data[: 1 << 16])) is not None:
        sink.records += 1
        sink.rejects.append((fidx, 1, why, excerpt(data[:0])))
        return Layout("single")
    if sources.is_line_mode(data):
        cut = problems[-1][1] if problems and problems[-1][1].cut else None
        if cut is not None:
            data = cut_tail(data, cut.reason, fidx, sink)
        line = 1
        for block in sources.iter_line_blocks(data):
            line += walk_lines(block, fidx, sink, line)
        for at, problem in problems:
            if problem is not cut:
                gzip_reject(problem, lines_before(data, at), 0, fidx, sink)
        return Layout("lines")
    if problems:
        sink.records += 1
        reason = "; ".join(p.reason for _, p in problems)
        if problems[-1][1].final:
            sink.rejects.append((fidx, 1, f"{reason}: the JSON document is cut off", excerpt(data)))
            return Layout("single")
        sink.rejects.append((fidx, 0, reason, ""))  # the document as a whole, read on
    names = walk_document(data, fidx, sink)
    start = sources.text_start(data)
    first = data[start : start + 1]
    if names is not None:
        return Layout("named", names)
    return Layout("array" if first == b"[" else "single")


def lines_before(data: bytes | memoryview, at: int) -> int:
    """Lines (an unterminated last one included) in the first ``at`` bytes of ``data``."""
    if at <= 0:
        return 0
    return sources.newlines(memoryview(data)[:at]) + (data[at - 1 : at] != b"\n")


def gzip_reject(problem: sources.GzipProblem, before: int, shift: int, fidx: int, sink: Sink):
    """Reject the gzip damage met after ``before`` lines of a file, on the line after
    them (addressed ``shift`` lines back, for a streamed file's part of its own)."""
    sink.records += 1
    reason = problem.reason
    if problem.final:
        reason = f"{reason}: records after line {before:,} are lost"
    sink.rejects.append((fidx, before + 1 - shift, reason, ""))


def cut_tail(
    data: bytes, problem: str, fidx: int, sink: Sink, *, before: int | None = None
) -> bytes:
    """Reject the record a broken gzip stream cut off, and return the intact lines.

    A streamed file's reject is addressed relative to a part of its own after the last
    block (line 1 there), with ``before`` the lines of the file ahead of ``data``; a
    whole file's by its line number.
    """
    intact = data.rfind(b"\n") + 1
    line = (before or 0) + data.count(b"\n", 0, intact) + 1
    sink.records += 1
    tail = data[intact:]
    if tail.strip():
        reason = f"{problem}: this last record is cut off"
    else:
        reason = f"{problem}: records after line {line - 1:,} are lost"
    sink.rejects.append((fidx, 1 if before is not None else line, reason, excerpt(tail)))
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
