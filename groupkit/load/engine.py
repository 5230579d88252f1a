"""The worker pool: cut an archive into units of work, parse them in processes, hand back.

Plain NDJSON files larger than a block are cut into newline-aligned byte ranges;
large gzip files are decompressed here and streamed to workers a block at a time
through a spool in shared memory; every other file is one unit.  Workers hand
their Arrow tables back through ``/dev/shm`` (:mod:`groupkit.load.handover`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import mmap
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import IO

import pyarrow as pa

from groupkit.load import handover, lane, sources
from groupkit.load.build import block_tables
from groupkit.load.parts import Layout, Part, RejectRows, add_sources
from groupkit.load.records import cut_tail, gzip_reject, lines_before, walk_file_bytes, walk_lines
from groupkit.load.walk import Sink

PARALLEL_MIN_BYTES = 24 << 20


WALK_BYTES = 2 << 20


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: bulk parsing allocates millions of acyclic objects, and
    the collector's repeated passes over them cost more than the parse itself."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def run_file(fidx: int, path: str) -> Part:
    with gc_paused():
        return _run_file_now(fidx, path)


def _run_file_now(fidx: int, path: str) -> Part:
    sink = Sink()
    with open(path, "rb") as fh:
        data = fh.read()
    layout = walk_file_bytes(data, fidx, sink)
    tables, bad = block_tables(sink)
    add_sources(tables, path, layout, 0)
    return Part(fidx, 0, 0, tables, sink.rejects + bad, sink.records, layout, sink.sends)


# Files up to SMALL_FILE bytes are parsed many to a unit of work, up to BATCH_BYTES
# and BATCH_FILES a batch: one sink and one set of Arrow tables per batch, not per
# file.  A folder of one-webhook files (object-store dumps) cost ~3 ms and 140 KB a
# file when every file built every frame's tables.
SMALL_FILE = 256 << 10
BATCH_BYTES = 4 << 20
BATCH_FILES = 4096


def batches(todo, size_of) -> Iterator[list]:
    """Consecutive runs of ``todo`` ((file index, file) pairs) that are one unit of
    work each: runs of small files up to the batch limits, every other file alone."""
    batch: list = []
    nbytes = 0
    for item in todo:
        size = size_of(item[1])
        if size > SMALL_FILE:
            if batch:
                yield batch
                batch, nbytes = [], 0
            yield [item]
            continue
        batch.append(item)
        nbytes += size
        if nbytes >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            yield batch
            batch, nbytes = [], 0
    if batch:
        yield batch


def run_files(items: list[tuple[int, str]]) -> Part:
    """Parse whole files (``(file index, path)`` pairs, in file order) as one unit of
    work: one sink, tables built once, each row labelled with its own file.

    The part carries every file's layout (``Part.layouts``); its rows and rejects
    are those of :func:`run_file` on each file, concatenated.
    """
    if len(items) == 1:
        return run_file(*items[0])
    with gc_paused():
        sink = Sink()
        layouts: dict[int, Layout] = {}
        for fidx, path in items:
            with open(path, "rb") as fh:
                data = fh.read()
            layouts[fidx] = walk_file_bytes(data, fidx, sink)
        tables, bad = block_tables(sink)
        paths = dict(items)
        for frame, table in tables.items():
            if table.num_rows:
                labels = batch_sources(paths, layouts, table["_file"], table["_loc"])
                tables[frame] = table.append_column("source", labels)
    first = items[0][0]
    return Part(
        first, 0, 0, tables, sink.rejects + bad, sink.records, layouts[first], sink.sends, layouts
    )


def batch_sources(
    paths: dict[int, str], layouts: dict[int, Layout], files: pa.ChunkedArray, locs: pa.ChunkedArray
) -> pa.Array:
    """The ``source`` of each row of a batch of files: what :func:`file_sources` gives
    for each row's own file (``file:line``, ``file#index`` or ``file#name``)."""
    out = []
    for f, loc in zip(files.to_pylist(), locs.to_pylist(), strict=True):
        layout = layouts[f]
        if layout.kind in ("lines", "single"):
            out.append(f"{paths[f]}:{loc}")
        elif layout.kind == "named" and layout.names is not None:
            out.append(f"{paths[f]}#{layout.names[loc]}")
        else:
            out.append(f"{paths[f]}#{loc}")
    return pa.array(out, pa.large_string())


def run_range(fidx: int, seq: int, path: str, start: int, end: int, first_line: int) -> Part:
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    return run_block(fidx, seq, data, path, first_line)


def run_block(
    fidx: int, seq: int, data: bytes | memoryview, path: str | None = None, first_line: int = 1
) -> Part:
    """Parse one NDJSON block. Given the file's path and the block's first line, the
    worker also writes the ``source`` column, so the main process need not.

    Without the C lane, the block is walked in pieces of ``WALK_BYTES``, each
    turned into Arrow before the next is decoded: the Python objects of a piece
    stay in the CPU's caches, which measured 20-25% faster than walking 8 MB at
    once. With it, few objects are made, and one piece is faster (23 against 29 ms).
    """
    pieces: dict[str, list[pa.Table]] = {}
    rejects: list[tuple[int, int, str, str]] = []
    lines = records = sends = 0
    with gc_paused():
        # The C lane makes few Python objects: it reads the whole block at once.
        size = len(data) if lane.available() else WALK_BYTES
        for piece in sources.iter_line_blocks(data, size):
            sink = Sink()
            lines += walk_lines(piece, fidx, sink, 1 + lines)
            tables, bad = block_tables(sink)
            rejects += sink.rejects + bad
            records += sink.records
            sends += sink.sends
            for frame, table in tables.items():
                pieces.setdefault(frame, []).append(table)
        tables = {frame: pa.concat_tables(ts) for frame, ts in pieces.items()}
        if path is not None:
            add_sources(tables, path, Layout("lines"), first_line - 1)
    return Part(fidx, seq, lines, tables, RejectRows(rejects), records, Layout("lines"), sends)


def head_is_lines(path: str) -> bool | None:
    """True for a plain NDJSON file that can be cut into ranges, None when unsure."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if head[:2] == sources.GZIP_MAGIC:
        return None
    if head[:3] == b"\xef\xbb\xbf":
        return None
    if sources.not_text(head[: 1 << 16]) is not None:
        return False  # one reject for the whole file: read whole
    first = head.lstrip()[:1]
    if first == b"[":
        return False
    if first != b"{":
        return True
    # Judge on the complete lines of the head: one line alone reads as a document.
    complete = head[: head.rfind(b"\n") + 1]
    if complete.strip().count(b"\n") < 1:
        return None
    return sources.is_line_mode(complete)


def work_size(f: sources.SourceFile) -> int:
    """Bytes to parse: for gzip, the uncompressed size its trailer records."""
    if f.size < 18:
        return f.size
    with open(f.path, "rb") as fh:
        if fh.read(2) != sources.GZIP_MAGIC:
            return f.size
        fh.seek(-4, os.SEEK_END)
        return max(f.size, int.from_bytes(fh.read(4), "little"))


# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def worker_started(parent: int | None = None) -> None:
    """Set up a worker process: end with ``parent``, keep freed memory for the next block.

    A worker must not outlive the load: killed with SIGKILL, the main process
    cannot stop its pool, and forked workers, which hold both ends of the pool's
    pipes, would wait on them for good.  On Linux the kernel kills the worker when
    its parent ends (``PR_SET_PDEATHSIG``); elsewhere a thread watches the parent.

    Each block allocates and frees the same few large buffers (the block's bytes,
    the lane's columns, Arrow's copies).  By default glibc serves those with fresh
    ``mmap`` pages and hands them back on free, so every block faulted its memory
    in again: 290,000 page faults and a third of the workers' time on the
    500,000-line benchmark, against 90,000 with the heap kept.  A worker lives
    for one load, so keeping its heap at its peak costs nothing after; the
    caller's own process is left alone.
    """
    if parent is not None:
        _end_with(parent)
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(_M_MMAP_THRESHOLD, 256 << 20)
            libc.mallopt(_M_TRIM_THRESHOLD, 512 << 20)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_PARENT_POLL_S = 0.5


def _end_with(parent: int) -> None:
    """Make this process end when ``parent`` does."""
    armed = False
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    if os.getppid() != parent:  # the parent ended before the signal was armed
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_S)
    os._exit(1)


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool whose workers end with this process and with the load.

    On normal exit the pool is shut down as usual.  On an exception (a
    ``KeyboardInterrupt`` above all) the queued work is cancelled and the workers
    are killed rather than left to finish blocks nobody will read.
    """
    ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=worker_started, initargs=(os.getpid(),)
    )
    try:
        yield pool
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what ``pool`` has queued and kill its workers, then wait for them."""
    # ProcessPoolExecutor has no public way to kill its workers before Python 3.14.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.kill()
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            process.join(5)
    with contextlib.suppress(Exception):
        pool.shutdown(wait=True)


def give_back_memory() -> None:
    """Return what the parse freed to the operating system.

    Arrow's allocator keeps freed pages for reuse and glibc keeps a fragmented
    heap; after a large load that is hundreds of MB the process no longer uses
    (on the 1M-line benchmark, resident memory drops from ~1.2 GB to ~0.6 GB), and
    whatever runs next (analytics, a report) would otherwise stack on top of it.
    """
    pa.default_memory_pool().release_unused()
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


spill_dir = handover.scratch_dir


def spilled(spill: str, fn, *args) -> Part:
    """Run ``fn`` in a worker and hand its tables back through shared memory
    (:mod:`groupkit.load.handover`); what cannot go that way takes the pipe."""
    part = fn(*args)
    if part.tables:
        stem = f"{os.getpid()}-{part.fidx}-{part.seq}"
        part.spilled = handover.spill(part.tables, spill, stem)
        if part.spilled is not None:
            part.tables = {k: t for k, t in part.tables.items() if k not in part.spilled.tables}
    return part


def unspill(part: Part) -> Part:
    if part.spilled is not None:
        part.tables.update(handover.unspill(part.spilled))
        part.spilled = None
    return part


def parallel(
    submit: Callable[..., Future], todo, workers: int, bar, spool: str, batch_small: bool = True
) -> Iterator[Part]:
    """Submit every unit of work of ``todo`` ((file index, file) pairs) through
    ``submit`` (the pool's, or one that spills to shared memory), bounding what is in
    flight, and yield the parts. Decompressed gzip blocks wait in ``spool``.
    Small files go many to a unit (:func:`run_files`) unless ``batch_small`` is false
    (the cache keeps a part per file)."""
    pending: list[tuple[Future, int]] = []
    limit = workers * 3

    def drain(keep: int) -> Iterator[Part]:
        while len(pending) > keep:
            fut, size = pending.pop(0)
            part = fut.result()
            if part is not None:
                yield unspill(part)
            bar.update(size)

    batch: list[tuple[int, str]] = []
    batch_bytes = 0

    def flush() -> None:
        nonlocal batch, batch_bytes
        if batch:
            pending.append((submit(run_files, batch), batch_bytes))
            batch, batch_bytes = [], 0

    # Cut into blocks or streamed a file may not be: only such files go in batches.
    small = min(SMALL_FILE, sources.BLOCK_BYTES) if batch_small else -1
    for fidx, f in todo:
        if f.size <= small and work_size(f) <= sources.BLOCK_BYTES:
            batch.append((fidx, f.path))
            batch_bytes += f.size
            if batch_bytes >= BATCH_BYTES or len(batch) >= BATCH_FILES:
                flush()
                yield from drain(limit)
            continue
        mode = head_is_lines(f.path) if f.size > sources.BLOCK_BYTES else None
        if mode:
            ranges = sources.file_ranges(f.path, f.size)
            for seq, ((start, end), first) in enumerate(first_lines(f.path, ranges)):
                job = submit(run_range, fidx, seq, f.path, start, end, first)
                pending.append((job, end - start))
                yield from drain(limit)
        elif work_size(f) > sources.BLOCK_BYTES and is_gzip(f.path):
            yield from _parallel_gzip(submit, fidx, f, pending, drain, limit, spool)
        else:
            pending.append((submit(run_file, fidx, f.path), f.size))
            yield from drain(limit)
    flush()
    yield from drain(0)


def first_lines(path: str, ranges: list[tuple[int, int]]) -> Iterator[tuple[tuple[int, int], int]]:
    """Each newline-aligned range with the number of its first line (counted here,
    ahead of the workers, so each can label its rows with their final line).

    Each range is mapped, counted and unmapped in turn: no copy of the bytes, and
    the file never stays resident in this process while the workers parse.
    """
    line = 1
    with open(path, "rb") as fh:
        for start, end in ranges:
            yield (start, end), line
            if end > start:
                line += newlines_in(fh, start, end)


def newlines_in(fh: IO[bytes], start: int, end: int) -> int:
    base = start - start % mmap.ALLOCATIONGRANULARITY
    with mmap.mmap(fh.fileno(), end - base, access=mmap.ACCESS_READ, offset=base) as mm:
        view = memoryview(mm)[start - base :]
        try:
            return sources.newlines(view)
        finally:
            view.release()


def is_gzip(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == sources.GZIP_MAGIC


def run_spooled(fidx: int, seq: int, spooled: str, path: str, first_line: int) -> Part:
    """Parse a block that the main process decompressed into the file ``spooled``
    (removed here); rows are labelled with ``path``, the gzip file."""
    with open(spooled, "rb") as fh:
        data = fh.read()
    os.unlink(spooled)
    return run_block(fidx, seq, data, path, first_line)


def spool_dir(spill: str | None) -> contextlib.AbstractContextManager[str]:
    """Where decompressed gzip blocks wait for a worker: the shared-memory folder,
    else a locked scratch folder in the temporary directory (either outlives every
    job that reads from it, and a killed load's is swept by the next)."""
    if spill is not None:
        return contextlib.nullcontext(spill)
    return _temp_scratch()


@contextlib.contextmanager
def _temp_scratch() -> Iterator[str]:
    with handover.scratch_dir(tempfile.gettempdir()) as where:
        if where is not None:
            yield where
            return
    with tempfile.TemporaryDirectory(prefix="groupkit-") as where:
        yield where


def sweep_scratch() -> None:
    """Remove the scratch folders of loads that were killed: in shared memory, or in
    the temporary directory where there is none (see :func:`spool_dir`)."""
    if os.path.isdir(handover.SHM) and os.access(handover.SHM, os.W_OK):
        handover.sweep_scratch(handover.SHM)
    else:
        handover.sweep_scratch(tempfile.gettempdir())


def _parallel_gzip(submit, fidx, f, pending, drain, limit, spool: str) -> Iterator[Part]:
    """Decompress a large gzip file here, streaming newline-aligned blocks to workers.

    Each block is written to a file in ``spool`` (shared memory where there is any)
    as it is decompressed, and a worker reads it from there: the main process never
    holds a whole block, and nothing is pickled through the pool's pipe. Damage is
    met in the same bytes as a whole-file read (:func:`sources.gzip_pieces`), and
    rejected on the same line with the same reason.
    """
    seq = size = lines = 0
    line = 1
    problem = None
    checked = False
    partial = False  # the block so far ends inside a line
    name = os.path.join(spool, f"in-{fidx}-{seq}")
    block = open(name, "wb")  # noqa: SIM115 (closed below, or by the finally)

    def send() -> None:
        nonlocal seq, name, block, line, size, lines, partial
        block.close()
        pending.append((submit(run_spooled, fidx, seq, name, f.path, line), 0))
        line += lines + partial
        seq += 1
        name = os.path.join(spool, f"in-{fidx}-{seq}")
        block = open(name, "wb")  # noqa: SIM115
        size = lines = 0
        partial = False

    try:
        most = max(4096, min(1 << 20, sources.BLOCK_BYTES // 8))
        with open(f.path, "rb") as fh:
            for out in sources.gzip_pieces(fh.read, 64 << 10, most):
                if isinstance(out, sources.GzipProblem):
                    if out.final:
                        problem = out
                        break
                    # Damage after intact bytes: a part of its own, after them.
                    if size:
                        send()
                    yield from drain(0)
                    sink = Sink()
                    gzip_reject(out, line - 1, line - 1, fidx, sink)
                    yield Part(fidx, seq, 0, {}, sink.rejects, sink.records, Layout("lines"))
                    seq += 1  # the open block keeps its (unique) file name
                    continue
                if not checked:
                    if out[:3] == b"\xef\xbb\xbf":
                        out = out[3:]
                    whole = sources.not_text(out[: 1 << 16]) is not None
                    if whole or not sources.is_line_mode(out[: out.rfind(b"\n") + 1] or out):
                        # Not NDJSON after all: one worker reads the whole file.
                        pending.append((submit(run_file, fidx, f.path), f.size))
                        yield from drain(limit)
                        return
                    checked = True
                if not out:
                    continue
                # Once the block is full, it ends at the last newline of this piece.
                view = memoryview(out)
                cut = out.rfind(b"\n") + 1 if size + len(out) >= sources.BLOCK_BYTES else 0
                head = view[:cut] if cut else view
                block.write(head)
                lines += sources.newlines(head)
                size += len(out)
                partial = out[-1:] != b"\n"
                if cut:
                    rest = view[cut:]  # no newline in it
                    size, partial = len(out) - cut, False
                    send()
                    block.write(rest)
                    size, partial = len(rest), bool(len(rest))
                    yield from drain(limit)
        block.close()
        with open(name, "rb") as fh:
            buf = fh.read()
        os.unlink(name)
    finally:
        block.close()
    sink = Sink()
    if problem is not None and problem.cut:
        buf = cut_tail(buf, problem.reason, fidx, sink, before=line - 1)
    elif problem is not None:
        gzip_reject(problem, line - 1 + lines_before(buf, len(buf)), 0, fidx, sink)
        sink.rejects = [(i, 1, reason, ex) for i, _, reason, ex in sink.rejects]
    if buf:
        pending.append((submit(run_block, fidx, seq, buf, f.path, line), 0))
        seq += 1
    if sink.records:
        # The lost tail sits after every block: address it after the last one.
        yield from drain(0)
        yield Part(fidx, seq, 0, {}, sink.rejects, sink.records, Layout("lines"))
    if bar_total := f.size:
        pending.append((done_future(), bar_total))


def done_future() -> Future:
    fut: Future = Future()
    fut.set_result(None)
    return fut
