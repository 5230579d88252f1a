"""Sources -> records with their origin: paths, globs, gzip, and format detection.

Formats are recognised by content, never by file name: gzip by its magic bytes,
then one webhook object per file, a JSON array of webhooks, a mapping of named
webhooks, or NDJSON/JSONL (one record per line; blank lines are fine).
"""

from __future__ import annotations

import glob
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np

from groupkit.load import model as S

try:
    from groupkit.load import _scan
except ImportError:  # pragma: no cover - installed without a C compiler
    _scan = None

GZIP_MAGIC = b"\x1f\x8b"
BLOCK_BYTES = 8 << 20

# Files people keep beside their webhooks, by the bytes they start with.
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"RIFF", "a RIFF file (audio, video or WebP)"),
    (b"OggS", "an Ogg file"),
)


def not_text(head: bytes) -> str | None:
    """Why bytes that begin with ``head`` are plainly not JSON text, or None.

    Known binary formats by their first bytes, anything else by a NUL byte (which no
    JSON text holds) in a ``head`` that does not open like JSON: a JSON file with
    damage further on (a zero-filled block, say) still has its good lines read.
    Such a file is one reject, not one per line.

    Examples
    --------
    >>> not_text(b"\\x89PNG\\r\\n\\x1a\\n...")
    'not JSON text: the file starts like a PNG image'
    >>> not_text(b'{"object": "whatsapp_business_account"}') is None
    True
    """
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return f"not JSON text: the file starts like {kind}"
    if head.lstrip()[:1] in (b"{", b"["):
        return None  # JSON, perhaps damaged further on: its good lines are read
    if (at := head.find(b"\x00")) >= 0:
        return f"not JSON text: binary data (a NUL byte at offset {at:,})"
    return None


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
    if (why := not_text(head)) is not None:
        kind = why.removeprefix("not JSON text: ").replace("the file starts like ", "")
        return f"{kind}, not a webhook archive"
    text = head[3:] if head[:3] == b"\xef\xbb\xbf" else head
    if text.lstrip()[:1] in (b"{", b"["):
        return None
    # An archive whose first line is damaged still has webhook lines further on.
    for line in text.split(b"\n")[1:-1]:
        line = line.strip()
        if line[:1] == b"{":
            try:
                rec = S.RECORD.decode(line)
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
                continue
            if len(rec.entry) or len(rec.body) or len(rec.payload) or rec.kind:
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


# The first byte that is not JSON whitespace (found without copying a large file).
_TEXT = re.compile(rb"[^ \t\r\n\f\v]")


def text_start(data: bytes) -> int:
    """Where the text of ``data`` starts after JSON whitespace, without copying it.

    Examples
    --------
    >>> text_start(b" \\n {}")
    3
    """
    found = _TEXT.search(data)
    return found.start() if found else len(data)


def is_line_mode(data: bytes) -> bool:
    """True when ``data`` is best read one record per line (NDJSON/JSONL).

    A damaged first line costs that line alone: when the first line is not a record
    and the whole text is no JSON document either, a second line that is a webhook
    record on its own makes it NDJSON (a pretty-printed document's second line never
    is one).

    Examples
    --------
    >>> is_line_mode(b'[]\\n{"entry": []}\\n')
    True
    >>> is_line_mode(b'[\\n  {"entry": []}\\n]\\n')
    False
    """
    start = text_start(data)
    first = data[start : start + 1]
    if first != b"{" and first != b"[":
        return True
    end = data.find(b"\n", start)
    if end < 0 or not _TEXT.search(data, end):
        return False  # one line: one webhook, a named collection or an array of them
    if first == b"{":
        try:
            S.RECORD.decode(data[start:end])
            return True
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            pass
    elif not _record_follows(data, end):
        return False  # an array document, perhaps damaged: read whole
    # A pretty-printed document spans lines; a broken first NDJSON line would not
    # make a valid whole document either, and is then read line by line.
    try:
        msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return data[start:end].strip() != b"{" or _record_follows(data, end)
    return False


def _record_follows(data: bytes, end: int) -> bool:
    """True when the first non-blank line after offset ``end`` is a webhook record."""
    at = text_start(data[end : end + (1 << 16)]) + end
    stop = data.find(b"\n", at)
    line = data[at : len(data) if stop < 0 else stop].rstrip()
    if line[:1] != b"{" or line[-1:] != b"}":
        return False
    try:
        rec = S.RECORD.decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return False
    return bool(len(rec.entry) or len(rec.body) or len(rec.payload) or rec.kind)


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


def decompressed_chunks(path: str, most: int = 1 << 20) -> Iterator[bytes | str]:
    """Decompressed pieces (at most ``most`` bytes each) of a (multi-member) gzip file;
    a str at the end names a problem.

    Bounded pieces: text compresses 10-40x, and large short-lived buffers fragment
    the heap of a process that keeps running (the main process of a load).
    """
    d = zlib.decompressobj(wbits=31)
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(64 << 10)
            if not chunk:
                if not d.eof:
                    yield "gzip stream is truncated"
                return
            try:
                while chunk:
                    out = d.decompress(chunk, most)
                    chunk = d.unconsumed_tail
                    if d.eof and d.unused_data.strip(b"\x00"):
                        chunk = d.unused_data  # another member follows
                        d = zlib.decompressobj(wbits=31)
                    if out:
                        yield out
            except zlib.error as exc:
                yield f"gzip stream is corrupt: {exc}"
                return


# The name ``groupkit receive`` gives the one file it is still appending to; closed
# files lose the marker (they become ``.ndjson.gz``).
RECEIVING_SUFFIX = ".receiving.ndjson"
CLOSED_SUFFIX = ".ndjson.gz"


def receiver_stem(path: str) -> str:
    """A file's name without the suffix ``groupkit receive`` gives it while open or closed.

    Examples
    --------
    >>> receiver_stem("out/webhooks-20261201T13Z-0001.receiving.ndjson")
    'out/webhooks-20261201T13Z-0001'
    >>> receiver_stem("out/webhooks-20261201T13Z-0001.ndjson.gz")
    'out/webhooks-20261201T13Z-0001'
    """
    for suffix in (RECEIVING_SUFFIX, CLOSED_SUFFIX):
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path


def read_receiving(path: str) -> tuple[bytes, tuple[str, str] | None]:
    """The complete lines of a file ``groupkit receive`` is writing, and a note for
    the load report about the unterminated line after them (None when there is none).

    That line is one the receiver has not finished writing, so it has not answered
    its sender yet: a load leaves it out and lists it in ``report.skipped_files`` as
    in progress, not as a reject. A truncated last line of any other file is a reject.
    """
    with open(path, "rb") as fh:
        data = fh.read()
    complete = data.rfind(b"\n") + 1
    if complete == len(data):
        return data, None
    line = data.count(b"\n", 0, complete) + 1
    why = (
        f"in progress: groupkit receive is still writing this line ({len(data) - complete:,} "
        "bytes so far, not yet acknowledged to its sender)"
    )
    return data[:complete], (f"{path}:{line}", why)


def newlines(data) -> int:
    """Newlines in a bytes-like object: memchr in C, else numpy (~3x bytes.count)."""
    if _scan is not None:
        return _scan.newlines(data)
    return int(np.count_nonzero(np.frombuffer(data, np.uint8) == 10))
