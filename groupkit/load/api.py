"""The loader's public entry points: ``read_webhooks``, ``parse_webhooks`` and ``read_record``.

``read_*`` takes paths, ``parse_*`` takes what is already in memory (the pvlib
naming).  Large archives are cut into newline-aligned blocks that worker
processes parse in parallel (:mod:`groupkit.load.engine`); every block goes
through the same record-by-record decoder, so a bad record costs only itself:
it becomes a reject with its file, line and reason, and everything around it
still loads.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterable, Sequence
from functools import partial
from typing import IO, Any, Literal

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from groupkit import progress as _progress
from groupkit import schema
from groupkit.archive import Archive, LoadReport, Reject
from groupkit.exceptions import ArchiveError
from groupkit.load import cache as _cache
from groupkit.load import engine, sources
from groupkit.load.build import (
    block_tables,
    drop_error_redeliveries,
    drop_redeliveries,
    meaning_notes,
    redelivered_rows,
    to_frame,
)
from groupkit.load.parts import Layout, Part, RejectRows, file_sources, source_of
from groupkit.load.records import walk_file_bytes
from groupkit.load.walk import Sink, walk_record

MEMORY = "<memory>"


OnError = Literal["collect", "raise"]


def read_webhooks(
    source: str | os.PathLike | list | tuple,
    *,
    on_error: OnError = "collect",
    progress: bool | None = None,
    workers: int | None = None,
    cache: str | os.PathLike | bool | None = None,
) -> Archive:
    """Read archived webhooks from files into an :class:`Archive`.

    Parameters
    ----------
    source
        A file, a directory (read recursively, hidden files skipped), a glob, or a
        list of these. Each file may be NDJSON/JSONL, one webhook, a JSON array of
        webhooks, or a mapping of named webhooks, optionally gzipped; records may
        wrap the webhook in ``body``/``payload`` with a ``received_at``.
    on_error
        ``"collect"`` keeps bad records in ``archive.report.rejects``;
        ``"raise"`` raises :class:`groupkit.ArchiveError` for the first one.
    progress
        Show a progress bar (files and bytes done); ``None`` shows one only for
        large archives read from a terminal or a notebook (see :mod:`groupkit.progress`).
    workers
        Processes to parse with (default: the number of CPUs; ``1`` stays in process).
    cache
        A directory to keep parsed files in as Parquet, so the next load of the same
        (unchanged) files is fast; ``None`` uses the ``GROUPKIT_CACHE`` environment
        variable when it is set, ``False`` never caches. See :mod:`groupkit.cache`.

    Examples
    --------
    >>> import groupkit, json, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> status = {"id": "wamid.A", "status": "sent", "timestamp": "1750000000",
    ...           "recipient_id": "G1", "recipient_type": "group"}
    >>> hook = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
    ...     {"field": "messages", "value": {"statuses": [status]}}]}]}
    >>> _ = (folder / "day1.ndjson").write_text(json.dumps(hook) + "\\n")
    >>> archive = groupkit.read_webhooks(folder)
    >>> archive.statuses[["message_id", "status", "group_id"]].values.tolist()
    [['wamid.A', 'sent', 'G1']]
    """
    check_on_error(on_error)
    started = time.perf_counter()
    for attempt in range(_LISTINGS):
        skipped: list[tuple[str, str]] = []
        live: dict[int, bytes] = {}
        try:
            files = sources.expand(source, skipped)
            # Files groupkit receive is still writing: read now, up to their last newline.
            for fidx, f in enumerate(files):
                if f.path.endswith(sources.RECEIVING_SUFFIX):
                    live[fidx], note = sources.read_receiving(f.path)
                    skipped += [note] if note else []
            if not live or attempt == _LISTINGS - 1 or not _closed_since(source, files):
                break
        except FileNotFoundError as exc:
            # The receiver closed (and compressed) that file since the listing: list again.
            if attempt == _LISTINGS - 1 or not str(exc.filename).endswith(sources.RECEIVING_SUFFIX):
                raise
    # A directory being written changes under the cache's keys: such a load is not cached.
    cache = False if live else cache
    return _load(files, on_error, progress, workers, started, skipped, cache, live)


# How often a load lists a directory groupkit receive is writing before it settles.
_LISTINGS = 5


def _closed_since(source, files: list) -> bool:
    """True when a file closed (compressed) by groupkit receive is listed now whose
    name the first listing had in neither form.

    Listing a directory is not a snapshot: a file renamed while it is being listed
    can be missed under both its old and its new name, and with it lines that were
    acknowledged before the load began. Such a load lists again.
    """
    stems = {sources.receiver_stem(f.path) for f in files}
    again = sources.expand(source, [])
    return any(
        f.path.endswith(sources.CLOSED_SUFFIX) and sources.receiver_stem(f.path) not in stems
        for f in again
    )


def parse_webhooks(
    data: bytes | str | IO[bytes] | dict | Iterable[dict],
    *,
    on_error: OnError = "collect",
) -> Archive:
    """Parse webhooks already in memory into an :class:`Archive`.

    Parameters
    ----------
    data
        Bytes or text in any format :func:`read_webhooks` reads (gzip included), a
        binary file object, one webhook dict, or an iterable of webhook dicts.
    on_error
        As for :func:`read_webhooks`.

    Examples
    --------
    >>> import groupkit
    >>> hook = {"entry": [{"id": "1", "changes": [{"field": "messages", "value": {
    ...     "messages": [{"id": "wamid.B", "from": "16505551234", "group_id": "G1",
    ...     "timestamp": "1750000000", "type": "text", "text": {"body": "hi"}}]}}]}]}
    >>> groupkit.parse_webhooks([hook]).messages[["from_id", "text"]].values.tolist()
    [['16505551234', 'hi']]
    """
    check_on_error(on_error)
    started = time.perf_counter()
    sink = Sink()
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif hasattr(data, "read"):
        data = data.read()  # type: ignore[union-attr]
        if isinstance(data, str):
            data = data.encode("utf-8")
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        result = walk_file_bytes(raw, 0, sink)
        layouts = [result]
        nbytes = len(raw)
    else:
        items = [data] if isinstance(data, dict) else data
        nbytes = 0
        for i, item in enumerate(items):  # type: ignore[union-attr]
            try:
                raw = orjson.dumps(item)
            except TypeError as exc:
                sink.records += 1
                sink.rejects.append((0, i, f"not JSON-serialisable: {exc}", repr(item)[:120]))
                continue
            nbytes += len(raw)
            walk_record(raw, 0, i, sink)
        layouts = [Layout("array")]
    tables, bad = block_tables(sink)
    sink.rejects.extend(bad)
    part = Part(0, 0, 0, tables, sink.rejects, sink.records, sends=sink.sends)
    return _assemble([MEMORY], layouts, [part], nbytes, 0, on_error, started)


def check_on_error(on_error: str) -> None:
    if on_error not in ("collect", "raise"):
        raise ValueError(f"on_error must be 'collect' or 'raise', not {on_error!r}")


def _load(
    files, on_error, progress, workers, started, skipped=None, cache=None, live=None
) -> Archive:
    total = sum(f.size for f in files)
    engine.sweep_scratch()  # what loads killed before this one left in shared memory
    store = keys = archive_key = None
    cached: dict[int, Part] = {}
    if (where := _cache.resolve(cache)) is not None:
        store = _cache.open_store(where)
    if store is not None:
        keys = store.file_keys(files)
        archive_key = store.archive_key(files, keys)
        if (hit := store.get_archive(archive_key)) is not None:
            return _cached_archive(*hit, on_error, started, skipped)
        cached = store.get_parts(keys)
    live = live or {}
    todo = [(fidx, f) for fidx, f in enumerate(files) if fidx not in cached and fidx not in live]
    work = sum(engine.work_size(f) for _, f in todo)
    workers = workers or os.cpu_count() or 1
    parallel = workers > 1 and work >= engine.PARALLEL_MIN_BYTES
    # Files from the cache first: they are done before parsing starts.
    sizes = [files[i].size for i in cached] + [f.size for _, f in todo]
    bar = _progress.bar(sizes, progress=progress)
    bar.update(sum(files[i].size for i in cached))
    layouts: list[Layout] = [Layout("lines") for _ in files]
    parts: list[Part] = []
    with bar:
        if parallel:
            # The pool ends (its workers killed, on an interrupt) before the
            # scratch folders its workers write into are removed.
            with (
                engine.spill_dir() as spill,
                engine.spool_dir(spill) as spool,
                engine.worker_pool(workers) as pool,
            ):
                submit = (
                    pool.submit if spill is None else partial(pool.submit, engine.spilled, spill)
                )
                parts = list(engine.parallel(submit, todo, workers, bar, spool, store is None))
        else:
            # The cache stores a part per file: with it, each file is its own unit.
            units = ([item] for item in todo) if store is not None else None
            for batch in units or engine.batches(todo, lambda f: f.size):
                parts.append(engine.run_files([(fidx, f.path) for fidx, f in batch]))
                bar.update(sum(f.size for _, f in batch))
        if store is not None:
            bar.describe("caching webhooks")
            parts = _cache.merge_parts(parts)
            store.put_parts(keys, parts)
        parts += cached.values()
        parts += [engine.run_block(i, 0, data, files[i].path) for i, data in live.items()]
        for part in parts:
            for fidx, layout in (part.layouts or {part.fidx: part.layout}).items():
                if layout is not None and layout.kind != "lines":
                    layouts[fidx] = layout
        with engine.gc_paused():
            archive = _assemble(
                [f.path for f in files],
                layouts,
                parts,
                total,
                len(files),
                on_error,
                started,
                skipped,
            )
        if store is not None:
            store.put_archive(archive_key, archive)
    engine.give_back_memory()
    return archive


def _cached_archive(frames, report, on_error, started, skipped) -> Archive:
    """An archive from the cache, raising for its first reject as a fresh load would."""
    if report.rejects and on_error == "raise":
        first = report.rejects[0]
        raise ArchiveError(first.path, first.line, first.reason)
    report.skipped_files = skipped or []
    report.seconds = time.perf_counter() - started
    return Archive(report=report, **frames)


def _assemble(
    paths, layouts, parts: list[Part], nbytes, nfiles, on_error, started, skipped=None
) -> Archive:
    parts = sorted(parts, key=lambda p: (p.fidx, p.seq))
    offsets: dict[tuple[int, int], int] = {}
    running: dict[int, int] = {}
    for part in parts:
        offsets[(part.fidx, part.seq)] = running.get(part.fidx, 0)
        running[part.fidx] = running.get(part.fidx, 0) + part.lines
    pieces: dict[str, list[pa.Table]] = {name: [] for name in schema.FRAMES}
    rejects: list = []
    chunks: list = []
    reasons: dict[str, str] = {}  # one string per distinct reason
    records = sends = 0
    for part in parts:
        shift = offsets[(part.fidx, part.seq)]
        records += part.records
        sends += part.sends
        for frame, table in part.tables.items():
            if not table.num_rows:
                continue
            if shift:
                table = table.set_column(
                    table.schema.get_field_index("_loc"), "_loc", pc.add(table["_loc"], shift)
                )
            if "source" not in table.column_names:
                # Parts from the cache or from memory; workers label their own rows.
                layout = layouts[part.fidx]
                table = table.append_column(
                    "source", file_sources(paths[part.fidx], layout, table["_loc"])
                )
            pieces[frame].append(table)
        chunks += _reject_chunks(part, shift)
        part.rejects = []  # held by the chunks now, and freed as they are read
    # Each chunk is one file's rejects in line order: in (file, part) order, all are.
    chunks.sort(key=lambda c: (c[0], c[1]))
    for i, (_, _, shift, raw) in enumerate(chunks):
        chunks[i] = None  # a file of garbage lines must not be held twice
        rejects += _rejects_of(raw, shift, paths, layouts, reasons)
    if rejects and on_error == "raise":
        first = rejects[0]
        raise ArchiveError(first.path, first.line if first.line is not None else None, first.reason)
    report = LoadReport(
        files_read=nfiles,
        bytes_read=nbytes,
        records_read=records,
        webhooks_parsed=records - sends - len(rejects),
        send_records=sends,
        rejects=rejects,
        skipped_files=skipped or [],
    )
    frames: dict[str, pd.DataFrame] = {}
    dropped: dict[str, pd.DataFrame] = {}
    for frame in schema.FRAMES:
        tables = [t for t in pieces[frame] if t.num_rows]
        if not tables:
            frames[frame] = schema.empty_frame(frame)
            continue
        table = pa.concat_tables(tables)
        if frame == "other_changes":
            whole = table.filter(pc.equal(table["kind"].cast(pa.large_string()), "change"))
            counts = pc.value_counts(whole["field"].combine_chunks()).to_pylist()
            report.unknown_fields = {
                "<missing>" if c["values"] is None else c["values"]: c["counts"] for c in counts
            }
        df = to_frame(frame, table.drop_columns(["_file", "_loc", "source"]), table["source"])
        if frame != "errors":
            df, dropped[frame] = drop_redeliveries(frame, df)
        frames[frame] = df
    frames["errors"], errors_dropped = drop_error_redeliveries(frames["errors"], dropped)
    for frame, df in frames.items():
        report.rows[frame] = len(df)
        gone = dropped.get(frame)
        report.duplicates[frame] = (
            errors_dropped if frame == "errors" else (0 if gone is None else len(gone))
        )
    report.notes = meaning_notes(frames)
    report.redelivered = redelivered_rows(dropped)
    report.seconds = time.perf_counter() - started
    return Archive(report=report, **frames)


def _reject_chunks(part: Part, shift: int) -> list[tuple[int, int, int, Sequence]]:
    """The part's raw rejects as ``(file index, seq, shift, rejects)``, one chunk per
    file (a batch holds many), each in line order."""
    raw = part.rejects
    if isinstance(raw, RejectRows):  # a block: one file, checked in order by arrays
        locs = raw.locs
        if all(locs[i] <= locs[i + 1] for i in range(len(locs) - 1)):
            return [(raw.files[0], part.seq, shift, raw)] if len(raw) else []
        raw = list(raw)
    if any(raw[i][:2] > raw[i + 1][:2] for i in range(len(raw) - 1)):
        raw = sorted(raw, key=lambda r: (r[0], r[1]))
    if not raw or raw[0][0] == raw[-1][0]:
        return [(raw[0][0], part.seq, shift, raw)] if raw else []
    chunks, start = [], 0
    for i in range(1, len(raw) + 1):
        if i == len(raw) or raw[i][0] != raw[start][0]:
            chunks.append((raw[start][0], part.seq, shift, raw[start:i]))
            start = i
    return chunks


def _rejects_of(raw: list, shift: int, paths, layouts, reasons: dict[str, str]) -> list[Reject]:
    """Rejects of raw ``(file, loc, reason, excerpt)``, kept small: a rejected line
    stores no source, and equal reasons are one string."""
    out = []
    for fidx, loc, reason, ex in raw:
        reason = reasons.setdefault(reason, reason)
        if layouts[fidx].kind in ("lines", "single"):
            out.append(Reject.at_line(paths[fidx], loc + shift, reason, ex))
        else:
            src, line = source_of(paths, layouts, fidx, loc + shift)
            out.append(Reject(src, paths[fidx], line, reason, ex))
    return out


def _read_source(path: str) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:2] == sources.GZIP_MAGIC:
        data, _ = sources.gunzip(data)
    return data


def read_record(source: str) -> Any:
    """The raw JSON record behind a ``source`` string (``file:line`` or ``file#index``).

    Every row keeps its ``source``, so the full payload is always one call away.

    Examples
    --------
    >>> import groupkit, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.ndjson"
    >>> _ = path.write_text('{"entry": []}\\n{"entry": [], "object": "x"}\\n')
    >>> read_record(f"{path}:2")["object"]
    'x'
    """
    if "#" in source and not os.path.exists(source):
        path, _, key = source.rpartition("#")
        doc = orjson.loads(_read_source(path))
        return doc[int(key)] if isinstance(doc, list) else doc[key]
    path, _, line = source.rpartition(":")
    data = _read_source(path)
    if not sources.is_line_mode(data):
        return orjson.loads(data)
    return orjson.loads(io.BytesIO(data).readlines()[int(line) - 1])


def parse_bytes(data: bytes, *, block: bool = False) -> Part:
    """Parse one file's bytes, or one newline-aligned NDJSON ``block`` of a file.

    The loader's unit of work, for other schedulers (``groupkit.dask``): the rows
    come back as Arrow tables, addressed by line (or index) within ``data``, with
    the rejects and record counts; :func:`part_frames` makes frames of them.

    Examples
    --------
    >>> part = parse_bytes(b'{"entry": []}\\nnot json\\n', block=True)
    >>> part.records, [reason for _, _, reason, _ in part.rejects]
    (2, ['malformed JSON: invalid character (byte 4)'])
    """
    if block:
        return engine.run_block(0, 0, data)
    sink = Sink()
    with engine.gc_paused():
        layout = walk_file_bytes(data, 0, sink)
        tables, bad = block_tables(sink)
    return Part(0, 0, 0, tables, sink.rejects + bad, sink.records, layout, sink.sends)


def part_frames(
    part: Part, path: str, line_offset: int = 0
) -> tuple[dict[str, pd.DataFrame], list[Reject]]:
    """Typed frames (with ``source``) and rejects of a :func:`parse_bytes` part read from ``path``.

    ``line_offset`` is the number of lines of the file before the part's block.
    Redeliveries are not dropped here: that needs every part of the archive.

    Examples
    --------
    >>> frames, rejects = part_frames(parse_bytes(b'{"entry": []}\\nnot json\\n'), "a.ndjson")
    >>> len(frames["statuses"]), rejects[0].source
    (0, 'a.ndjson:2')
    """
    paths, layouts = [path], [part.layout or Layout("lines")]
    frames = {}
    for name in schema.FRAMES:
        table = part.tables.get(name)
        if table is None or table.num_rows == 0:
            frames[name] = schema.empty_frame(name)
            continue
        if line_offset:
            index = table.schema.get_field_index("_loc")
            table = table.set_column(index, "_loc", pc.add(table["_loc"], line_offset))
        sources_ = file_sources(path, layouts[0], table["_loc"])
        frames[name] = to_frame(name, table.drop_columns(["_file", "_loc"]), sources_)
    rejects = []
    for _, loc, reason, excerpt in sorted(part.rejects, key=lambda r: r[1]):
        source, line = source_of(paths, layouts, 0, loc + line_offset)
        rejects.append(Reject(source, path, line, reason, excerpt))
    return frames, rejects
