"""Sources -> records with their origin: paths, globs, gzip, and format detection.

Formats are recognised by content, never by file name: gzip by its magic bytes,
then one webhook object per file, a JSON array of webhooks, a mapping of named
webhooks, or NDJSON/JSONL (one record per line; blank lines are fine).
"""

from __future__ import annotations

import glob
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

from groupkit import _lane
from groupkit import _structs as S
from groupkit._walk import Sink, excerpt, reason_of, walk_block, walk_record

GZIP_MAGIC = b"\x1f\x8b"
BLOCK_BYTES = 8 << 20
_WEBHOOK_KEYS = (b'"entry"', b'"object"', b'"body"', b'"payload"')


@dataclass(frozen=True)
class SourceFile:
    """One file to read: its path as the user will see it in ``source``."""

    path: str
    size: int


def expand(
    source: str | os.PathLike | list | tuple, skipped: list[tuple[str, str]] | None = None
) -> list[SourceFile]:
    """Files named by a path, a directory (recursive), a glob, or a list of these.

    Files found in a directory or by a glob that are plainly not webhook archives
    (a README, a Parquet file) are left out and listed in ``skipped`` with the reason;
    a file named explicitly is always read. Raises FileNotFoundError for a path that
    does not exist and a glob that matches nothing.
    """
    items = list(source) if isinstance(source, list | tuple) else [source]
    out: list[SourceFile] = []
    seen: set[str] = set()
    for item in items:
        text = os.fspath(item)
        path = Path(text)
        searched = True
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            found, searched = [path], False
        elif glob.has_magic(text):
            found = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not found:
                raise FileNotFoundError(f"no file matches the pattern {text!r}")
        else:
            raise FileNotFoundError(f"no such file or directory: {text!r}")
        for p in found:
            key = os.path.abspath(p)
            if key in seen:
                continue
            seen.add(key)
            why = not_an_archive(p) if searched else None
            if why is None:
                out.append(SourceFile(str(p), p.stat().st_size))
            elif skipped is not None:
                skipped.append((str(p), why))
    return out


def not_an_archive(path: Path) -> str | None:
    """Why a file found in a folder is plainly not a webhook archive, or None if it may be."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if head[:2] == GZIP_MAGIC or not head.strip():
        return None
    if head[:4] == b"PAR1":
        return "a Parquet file, not a webhook archive"
    text = head[3:] if head[:3] == b"\xef\xbb\xbf" else head
    if text.lstrip()[:1] in (b"{", b"["):
        return None
    # An archive whose first line is damaged still has webhook lines further on.
    for line in text.split(b"\n")[1:-1]:
        line = line.strip()
        if line[:1] == b"{":
            try:
                rec = S.RECORD.decode(line)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue
            if rec.entry is not None or len(rec.body) or len(rec.payload) or rec.kind:
                return None
    start = text.lstrip()[:12].decode("utf-8", errors="replace")
    return f"not a webhook archive (it starts with {start!r})"


def gunzip(data: bytes) -> tuple[bytes, str | None]:
    """Decompress every gzip member of ``data``; returns (bytes, problem or None)."""
    parts: list[bytes] = []
    while data:
        d = zlib.decompressobj(wbits=31)
        try:
            parts.append(d.decompress(data))
            parts.append(d.flush())
        except zlib.error as exc:
            return b"".join(parts), f"gzip stream is corrupt: {exc}"
        if not d.eof:
            return b"".join(parts), "gzip stream is truncated"
        data = d.unused_data
        if data.strip(b"\x00") == b"":
            break
    return b"".join(parts), None


def is_line_mode(data: bytes) -> bool:
    """True when ``data`` is best read one record per line (NDJSON/JSONL)."""
    start = len(data) - len(data.lstrip())
    first = data[start : start + 1]
    if first != b"{":
        return first != b"["
    end = data.find(b"\n", start)
    if end < 0 or not data[end:].strip():
        return False  # one line: one webhook, or a named collection of them
    try:
        S.RECORD.decode(data[start:end])
    except (msgspec.DecodeError, msgspec.ValidationError):
        # A pretty-printed document spans lines; a broken first NDJSON line would not
        # make a valid whole document either, and is then read line by line.
        try:
            msgspec.json.decode(data)
        except msgspec.DecodeError:
            return data[start:end].strip() != b"{"
        return False
    return True


def walk_lines(data: bytes | memoryview, fidx: int, sink: Sink, first_line: int = 1) -> int:
    """Walk every non-blank line of an NDJSON block; returns the number of lines.

    The Arrow lane (:mod:`groupkit._lane`) takes the block if it can, else the
    msgspec walker reads it line by line.
    """
    data = bytes(data)
    count = _lane.walk_lines(data, fidx, sink, first_line)
    return walk_block(data, fidx, sink, first_line) if count is None else count


def walk_document(data: bytes, fidx: int, sink: Sink) -> list[str] | None:
    """Walk a whole-file JSON document; returns record names for a named collection."""
    start = len(data) - len(data.lstrip())
    if data[start : start + 1] == b"[":
        try:
            items = S.RAW_LIST.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            sink.records += 1
            sink.rejects.append((fidx, 0, f"JSON array: {reason_of(exc)}", excerpt(data)))
            return None
        for i, item in enumerate(items):
            walk_record(item, fidx, i, sink)
        return None
    try:
        named = S.RAW_DICT.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
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


def iter_line_blocks(data: bytes, size: int | None = None) -> Iterator[memoryview]:
    """Newline-aligned blocks of about ``size`` bytes (zero-copy views)."""
    size = size or BLOCK_BYTES
    view = memoryview(data)
    start, n = 0, len(data)
    while start < n:
        end = data.find(b"\n", min(start + size, n))
        end = n if end < 0 else end + 1
        yield view[start:end]
        start = end


def file_ranges(path: str, file_size: int, size: int | None = None) -> list[tuple[int, int]]:
    """Newline-aligned byte ranges of a plain file, found without reading it all."""
    size = size or BLOCK_BYTES
    ranges = []
    start = 0
    with open(path, "rb") as fh:
        while start < file_size:
            target = start + size
            if target >= file_size:
                ranges.append((start, file_size))
                break
            fh.seek(target)
            while True:
                chunk = fh.read(1 << 16)
                if not chunk:
                    end = file_size
                    break
                pos = chunk.find(b"\n")
                if pos >= 0:
                    end = target + pos + 1
                    break
                target += len(chunk)
            ranges.append((start, end))
            start = end
    return ranges
