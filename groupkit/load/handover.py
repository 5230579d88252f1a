"""Hand a worker's Arrow tables to the main process through shared memory.

Pickling tables through the process pool's pipe copies every byte several times
(about 1.5 s on the 1M-line benchmark).  Instead a worker writes the raw buffers
of its columns into files in ``/dev/shm`` and the main process maps them and
rebuilds the arrays around the mapped bytes, without a copy.

Two layout rules keep this cheap and keep memory honest:

* Raw buffers plus a small description (type, length, where each buffer sits),
  not Arrow IPC files: rebuilding an array with :meth:`pyarrow.Array.from_buffers`
  over a map costs about a third of opening an IPC file.
* A column with no value is described, not written: half the statuses columns
  are empty on a typical block, and their zero-filled offsets were most files.
* A column of ``OWN_FILE_BYTES`` or more gets a file of its own; the smaller
  columns of a part share one.  The frames keep text and time columns as views of
  these maps, so a large column nobody keeps (or one the caller drops later, as
  the report does) must be its own file to be freed with it.  Sharing the small
  ones keeps the number of files, and so of ``mmap`` calls, low.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from groupkit.load.arrays import nulls

OWN_FILE_BYTES = 64 << 10
_ALIGN = 64  # Arrow's preferred buffer alignment

# Where a buffer sits: (file number, offset, size), or None for an absent buffer.
Where = tuple[int, int, int] | None


@dataclass
class Chunk:
    length: int
    null_count: int
    offset: int
    buffers: list[Where] | None  # None: every value is null, and nothing was written
    dictionary: Chunk | None = None  # the values of a dictionary-encoded chunk


@dataclass
class Spilled:
    """The description of one part's tables, sent back through the pipe."""

    files: list[str] = field(default_factory=list)
    # frame -> (schema, [chunks of each column])
    tables: dict[str, tuple[pa.Schema, list[list[Chunk]]]] = field(default_factory=dict)


def _flat_type(t: pa.DataType) -> bool:
    nested = pa.types.is_nested(t) or pa.types.is_dictionary(t)
    return not (nested or isinstance(t, pa.ExtensionType))


def _flat(table: pa.Table) -> bool:
    """Every column is flat (no children), or dictionary-encoded flat values: from_buffers
    rebuilds it."""
    return all(
        _flat_type(t.value_type) if pa.types.is_dictionary(t) else _flat_type(t)
        for t in table.schema.types
    )


SHM = "/dev/shm"
_PREFIX = "groupkit-scratch-"


@contextlib.contextmanager
def scratch_dir(base: str | None = SHM) -> Iterator[str | None]:
    """A scratch folder in ``base`` (shared memory), or None where there is none.

    The folder is named ``groupkit-scratch-<pid>-<random>`` and held under an exclusive
    ``flock`` for as long as its load (and any worker forked from it) lives: a load
    killed with SIGKILL cannot remove it, and :func:`sweep_scratch` removes it on the
    next load by taking that lock.  The lock is taken before the folder gets its
    name, so a sweep never sees a live load's folder unlocked.
    """
    if base is None or not (os.path.isdir(base) and os.access(base, os.W_OK)):
        yield None
        return
    sweep_scratch(base)
    fresh = tempfile.mkdtemp(prefix=f".{_PREFIX}", dir=base)
    fd = os.open(fresh, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        _lock(fd, blocking=True)
        where = os.path.join(base, f"{_PREFIX}{os.getpid()}-{os.path.basename(fresh)[-8:]}")
        os.rename(fresh, where)
    except BaseException:
        os.close(fd)
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)
        os.close(fd)


def sweep_scratch(base: str = SHM) -> list[str]:
    """Remove the scratch folders in ``base`` whose load is gone; returns their paths.

    A folder is gone when nobody holds its lock: the process that made it, and
    every worker it forked, have ended (killed, most likely: a load that ends
    removes its own).  Other users' folders, and live ones, are left alone.
    """
    removed = []
    try:
        names = [n for n in os.listdir(base) if n.startswith("groupkit-")]
    except OSError:
        return removed
    for name in names:
        path = os.path.join(base, name)
        if not _OURS.fullmatch(name) and not (
            base == SHM and _OLD_STYLE.fullmatch(name) and _older_than(path, _OLD_STYLE_S)
        ):
            continue  # not a scratch folder, or an older groupkit's: no lock to tell
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            continue
        try:
            if _lock(fd, blocking=False):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        finally:
            os.close(fd)
    return removed


# The folders scratch_dir names.  Older groupkits named theirs groupkit-<random>
# in /dev/shm, without a lock: those are swept only once they are a day old.
_OURS = re.compile(re.escape(_PREFIX) + r"\d+-[A-Za-z0-9_]{8}")
_OLD_STYLE = re.compile(r"groupkit-[a-z0-9_]{8}")
_OLD_STYLE_S = 24 * 3600


def _older_than(path: str, seconds: float) -> bool:
    try:
        return time.time() - os.stat(path).st_mtime > seconds
    except OSError:
        return False


def _lock(fd: int, *, blocking: bool) -> bool:
    """Take an exclusive flock on ``fd``; False when another process holds one.

    Where there is no ``flock`` (Windows), nothing is locked and nothing swept.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def spill(tables: dict[str, pa.Table], where: str, stem: str) -> Spilled | None:
    """Write ``tables`` into files named ``stem-N`` in ``where``; None if they cannot go.

    Tables with a nested column, and empty tables, are left to the pipe (the caller
    keeps whatever is not in the returned description).  On any OSError (shared
    memory full or gone) the files written so far are removed and None returned.
    """
    out = Spilled()
    # The buffers each file will hold, in order; file 0 holds the small columns.
    contents: list[list[pa.Buffer | None]] = [[]]
    sizes = [0]

    def place(file_no: int, buf: pa.Buffer | None) -> Where:
        if buf is None:
            return None
        start = sizes[file_no]
        contents[file_no].append(buf)
        sizes[file_no] = start + -(-buf.size // _ALIGN) * _ALIGN
        return (file_no, start, buf.size)

    def describe(c: pa.Array, file_no: int) -> Chunk:
        if c.null_count == len(c):
            return Chunk(len(c), len(c), 0, None)
        values = describe(c.dictionary, file_no) if pa.types.is_dictionary(c.type) else None
        buffers = [place(file_no, b) for b in _own_buffers(c)]
        return Chunk(len(c), c.null_count, c.offset, buffers, values)

    for frame, table in tables.items():
        if not table.num_rows or not _flat(table):
            continue
        columns = []
        for column in table.columns:
            file_no = 0
            if sum(_nbytes(c) for c in column.chunks if c.null_count < len(c)) >= OWN_FILE_BYTES:
                contents.append([])
                sizes.append(0)
                file_no = len(contents) - 1
            columns.append([describe(c, file_no) for c in column.chunks])
        out.tables[frame] = (table.schema, columns)
    if not out.tables:
        return None
    try:
        for file_no, bufs in enumerate(contents):
            path = os.path.join(where, f"{stem}-{file_no}")
            out.files.append(path)
            if not sizes[file_no]:
                continue
            with open(path, "wb") as fh:
                for buf in bufs:
                    if buf is None:
                        continue
                    fh.write(buf)
                    if pad := -buf.size % _ALIGN:
                        fh.write(b"\0" * pad)
    except OSError:
        for path in out.files:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return None
    return out


def _own_buffers(array: pa.Array) -> list[pa.Buffer | None]:
    """The array's buffers; for a dictionary array those of its indices only."""
    if pa.types.is_dictionary(array.type):
        return array.indices.buffers()
    return array.buffers()


def _nbytes(array: pa.Array) -> int:
    size = sum(b.size for b in _own_buffers(array) if b is not None)
    return size + (_nbytes(array.dictionary) if pa.types.is_dictionary(array.type) else 0)


def _mapped(path: str) -> pa.Buffer | None:
    """The file's bytes as a read-only Arrow buffer over a map; the name is removed."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None  # a file with nothing in it was never written
    try:
        size = os.fstat(fd).st_size
        mm = mmap.mmap(fd, size, prot=mmap.PROT_READ) if size else None
    finally:
        os.close(fd)
        # The map outlives the name: the pages go with the last array over them.
        os.unlink(path)
    return None if mm is None else pa.py_buffer(mm)


def unspill(spilled: Spilled) -> dict[str, pa.Table]:
    """The tables of :func:`spill`, rebuilt over maps of its files (no copy)."""
    maps = [_mapped(path) for path in spilled.files]
    empty = pa.py_buffer(b"")

    def buffer(where: Where) -> pa.Buffer | None:
        if where is None:
            return None
        file_no, start, size = where
        return empty if not size else maps[file_no].slice(start, size)

    empties: dict[tuple[pa.DataType, int], pa.Array] = {}  # one per type and length

    def array(type_: pa.DataType, c: Chunk) -> pa.Array:
        if c.buffers is None:
            key = (type_, c.length)
            if key not in empties:
                empties[key] = nulls(c.length, type_)
            return empties[key]
        buffers = [buffer(w) for w in c.buffers]
        if c.dictionary is None:
            return pa.Array.from_buffers(type_, c.length, buffers, c.null_count, c.offset)
        values = array(type_.value_type, c.dictionary)
        return pa.DictionaryArray.from_buffers(
            type_, c.length, buffers, values, c.null_count, c.offset
        )

    tables = {}
    for frame, (schema, columns) in spilled.tables.items():
        arrays = [
            pa.chunked_array([array(f.type, c) for c in chunks], f.type)
            for f, chunks in zip(schema, columns, strict=True)
        ]
        tables[frame] = pa.table(arrays, schema=schema)
    return tables
