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


@dataclass(frozen=True)
class GzipProblem:
    """Damage met while decompressing: ``reason`` for the reject; ``cut`` when a
    member broke after giving output (its unterminated last record is cut off);
    ``final`` when nothing after it can be read."""

    reason: str
    cut: bool = False
    final: bool = True


def _recover(saved, buf: bytes) -> tuple[bytes, int]:
    """Everything a decompressor in state ``saved`` gives for ``buf`` before the byte
    at which it raises, and the length of the shortest prefix of ``buf`` that raises.

    zlib throws away the output of a call that raises: bisect on the input (only
    damaged files come here) so that no intact byte is lost, however it is chunked.
    """
    good, bad = 0, len(buf)
    while bad - good > 1:
        mid = (good + bad) // 2
        try:
            saved.copy().decompress(buf[:mid])
            good = mid
        except zlib.error:
            bad = mid
    return saved.copy().decompress(buf[:good]), bad


def gzip_pieces(read, step: int = 64 << 10, most: int = 0) -> Iterator[bytes | GzipProblem]:
    """Decompressed pieces of a (multi-member) gzip stream read by ``read(step)``, with
    a :class:`GzipProblem` where it is damaged; at most ``most`` bytes a piece (0:
    any size). Every path reads gzip here, so the same damage gives the same bytes
    and the same problems however the stream is chunked.

    A member whose CRC-32 or length check fails has been decompressed whole: its
    bytes are kept, with a problem, and the members after it are read. NUL padding
    after the last member is ignored.

    Examples
    --------
    >>> import gzip, io
    >>> b"".join(gzip_pieces(io.BytesIO(gzip.compress(b"a\\n") * 2).read))
    b'a\\na\\n'
    """
    d = None  # the member being read; None between members
    after = False  # a member has ended: NUL padding may follow
    made = drop = 0
    buf = b""
    while True:
        if not buf:
            buf = read(step)
            if not buf:
                if d is not None and not d.eof:
                    yield GzipProblem("gzip stream is truncated", cut=made > 0)
                return
        if drop:
            buf, drop = buf[drop:], max(0, drop - len(buf))
            continue
        if d is None or d.eof:
            if d is not None or after:
                buf = bytes(buf).lstrip(b"\x00")
                if not buf:
                    continue
            d, made, after = zlib.decompressobj(wbits=31), 0, True
        saved = d.copy()
        try:
            out = d.decompress(buf, most)
        except zlib.error as exc:
            out, bad = _recover(saved, buf)
            if out:
                made += len(out)
                yield out
            text = str(exc)
            if text.endswith(("incorrect data check", "incorrect length check")):
                what = "CRC-32" if text.endswith("data check") else "length"
                yield GzipProblem(
                    f"gzip member fails its {what} check: the {made:,} bytes it holds "
                    "were read as they are, and may be damaged",
                    final=False,
                )
                # The length field after a failed CRC-32 is not checked: skip it.
                skip = bad + (4 if what == "CRC-32" else 0)
                buf, drop, d = buf[skip:], max(0, skip - len(buf)), None
                continue
            yield GzipProblem(f"gzip stream is corrupt: {exc}", cut=made > 0)
            return
        if out:
            made += len(out)
            yield out
        buf = d.unused_data if d.eof else d.unconsumed_tail
        if not buf and not d.eof and most:
            # Output the last call had no room for, held inside zlib.
            while out := d.decompress(b"", most):
                made += len(out)
                yield out


def gunzip(data: bytes) -> tuple[bytes, list[tuple[int, GzipProblem]]]:
    """Decompress every gzip member of ``data``; returns the bytes and the problems
    met, each with the offset in those bytes where it was met."""
    view = memoryview(data)
    at = 0

    def read(n: int) -> bytes:
        nonlocal at
        piece = view[at : at + n]
        at += len(piece)
        return piece

    parts: list[bytes] = []
    problems: list[tuple[int, GzipProblem]] = []
    size = 0
    for out in gzip_pieces(read, 4 << 20):
        if isinstance(out, GzipProblem):
            problems.append((size, out))
        else:
            parts.append(out)
            size += len(out)
    return b"".join(parts), problems


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
