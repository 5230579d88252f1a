"""Files or fsspec URLs -> partitions -> the schema's frames as Dask DataFrames.

The graph, per partition: read the bytes (a whole file, or a newline-aligned block
of a large plain NDJSON file) and parse them with the loader's own functions into
Arrow tables; then, once the line count of the blocks before it is known, turn
them into pandas frames with ``file:line`` sources.  Every row is indexed by its
reading order (``partition << 32 | row``), so divisions are known and the archive
keeps the order of the pandas loader.

Redeliveries are found by shuffling a slim copy of each frame (identity columns,
``received_at``, ``source``) on a hash of the identity columns, so all copies of
an event meet in one partition and the loader's rule picks the one to keep; the
positions to drop go back to their partitions by ``set_index`` on the reading
order, where they are filtered out in place.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dask
import dask.dataframe as dd
import fsspec
import numpy as np
import pandas as pd
import pyarrow.compute as pc
from dask.dataframe.utils import clear_known_categories
from fsspec.implementations.local import LocalFileSystem
from fsspec.utils import read_block

from groupkit import schema
from groupkit.load import Part, parse_bytes, part_frames, sources
from groupkit.load.build import drop_error_redeliveries
from groupkit.load.redeliveries import redelivered

__all__ = ["DaskArchive", "read_webhooks"]

# Rows of one partition are indexed partition << _SHIFT | row.
_SHIFT = 32
DEFAULT_BLOCKSIZE = 64 << 20
_REJECT_COLUMNS = {
    "source": "str",
    "path": "str",
    "line": "Int64",
    "reason": "str",
    "excerpt": "str",
}


class DaskArchive:
    """The frames of an archive as Dask DataFrames, plus the rejected records.

    Attributes are the frames of :mod:`groupkit.schema` (``statuses``, ``messages``,
    ...), each with the schema's columns and dtypes and indexed by reading order,
    and ``rejects`` (``source, path, line, reason, excerpt``).  ``files`` lists the
    files read, as they appear in ``source``.

    Examples
    --------
    >>> import groupkit.dask, tempfile
    >>> archive = groupkit.dask.read_webhooks([tempfile.mkstemp(suffix=".ndjson")[1]])
    >>> sorted(archive.frames())[:2], len(archive.files)
    (['errors', 'group_events'], 1)
    """

    def __init__(
        self, frames: dict[str, dd.DataFrame], rejects: dd.DataFrame, files: Sequence[str]
    ) -> None:
        self._frames = dict(frames)
        self.rejects = rejects
        self.files = tuple(files)

    def __getattr__(self, name: str) -> dd.DataFrame:
        frames = self.__dict__.get("_frames", {})
        if name in frames:
            return frames[name]
        raise AttributeError(f"DaskArchive has no frame {name!r}; frames: {', '.join(frames)}")

    def frames(self) -> dict[str, dd.DataFrame]:
        """Every frame by name."""
        return dict(self._frames)

    def persist(self) -> DaskArchive:
        """The same archive with every frame parsed and kept in (cluster) memory.

        Analytics read the statuses several times; persisting first parses once.
        """
        names = list(self._frames)
        done = dask.persist(*self._frames.values(), self.rejects)
        return DaskArchive(dict(zip(names, done[:-1], strict=True)), done[-1], self.files)

    def compute(self, **kwargs: Any) -> dict[str, pd.DataFrame]:
        """Every frame as a pandas DataFrame (one pass over the files)."""
        names = list(self._frames)
        return dict(zip(names, dask.compute(*self._frames.values(), **kwargs), strict=True))

    def __repr__(self) -> str:
        return f"<DaskArchive {len(self.files):,} files, {self.statuses.npartitions:,} partitions>"


@dataclass(frozen=True)
class _Unit:
    """One partition's bytes: a whole file, or one newline-aligned block of it."""

    pidx: int
    shown: str  # the path as ``source`` shows it
    fs: Any
    path: str  # the path the filesystem opens
    offset: int = 0
    length: int | None = None  # None: the whole file


def read_webhooks(
    urlpath: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    blocksize: int | str | None = DEFAULT_BLOCKSIZE,
    storage_options: dict | None = None,
) -> DaskArchive:
    """Read archived webhooks into a :class:`DaskArchive` (lazy; nothing is read yet).

    Parameters
    ----------
    urlpath
        A local file, directory or glob (named exactly as :func:`groupkit.read_webhooks`
        names them in ``source``), an fsspec URL (``file://``, ``memory://``,
        ``s3://bucket/day=*/``... with the filesystem's package installed), or a list.
    blocksize
        Plain NDJSON files larger than this are cut into newline-aligned blocks of
        about this size, one partition each (bytes, or a string such as ``"128MiB"``);
        ``None`` keeps one partition per file.  Gzipped files and JSON documents are
        always one partition.
    storage_options
        Passed to fsspec (credentials, endpoint...).

    Returns
    -------
    DaskArchive
        Frames with ``meta`` from :mod:`groupkit.schema`; redeliveries are removed
        across partitions, exactly as the pandas loader does.

    Examples
    --------
    >>> import fsspec, json
    >>> import groupkit.dask
    >>> hook = {"entry": [{"id": "1", "changes": [{"field": "messages", "value": {"statuses": [
    ...     {"id": "wamid.A", "status": "read", "timestamp": "1750000009",
    ...      "recipient_id": "G1", "recipient_type": "group"}]}}]}]}
    >>> with fsspec.open("memory://doc/day1.ndjson", "w") as fh:
    ...     _ = fh.write(json.dumps(hook) + "\\n")
    >>> archive = groupkit.dask.read_webhooks("memory://doc/*.ndjson")
    >>> archive.statuses["source"].compute(scheduler="sync").tolist()
    ['memory:///doc/day1.ndjson:1']
    """
    if isinstance(blocksize, str):
        blocksize = dask.utils.parse_bytes(blocksize)
    files = _list_files(urlpath, storage_options or {})
    units: list[_Unit] = []
    for shown, fs, path, size in files:
        for offset, length in _blocks(fs, path, size, blocksize):
            units.append(_Unit(len(units), shown, fs, path, offset, length))

    parsed = [dask.delayed(_parse, pure=True)(unit) for unit in units]
    # Categories as the pandas loader has them: every value, in order of first
    # appearance over the whole archive, identical in every partition.
    categories = dask.delayed(_all_categories, pure=True)(
        *[dask.delayed(_categories_of, pure=True)(part) for part in parsed]
    )
    finished = []
    previous: _Unit | None = None
    line_offset: Any = 0
    for unit, part in zip(units, parsed, strict=True):
        if previous is None or previous.path != unit.path or previous.fs is not unit.fs:
            line_offset = 0
        finished.append(dask.delayed(_finish, pure=True)(part, line_offset, unit, categories))
        # Blocks of one file: each one's first line follows every line before it.
        line_offset = dask.delayed(operator.add, pure=True)(
            line_offset, dask.delayed(operator.attrgetter("lines"), pure=True)(part)
        )
        previous = unit
    divisions = _divisions(len(units))

    def collection(name: str, meta: pd.DataFrame) -> dd.DataFrame:
        if not finished:
            return dd.from_pandas(meta, npartitions=1)
        parts = [dask.delayed(operator.getitem, pure=True)(f, name) for f in finished]
        return dd.from_delayed(parts, meta=meta, divisions=divisions, verify_meta=False)

    raw = {name: collection(name, _meta(name)) for name in schema.FRAMES}
    rejects = collection("_rejects", _rejects_frame([], 0))
    frames: dict[str, dd.DataFrame] = {}
    drops: dict[str, dd.DataFrame] = {}
    for name, frame in raw.items():
        if name != "errors":
            frames[name], drops[name] = _drop_redeliveries(name, frame)
    errors = dd.map_partitions(
        _drop_errors_of_redeliveries,
        raw["errors"],
        *[item for parent in _PARENTS for item in (raw[parent], drops[parent])],
        meta=raw["errors"]._meta,
        align_dataframes=False,
        enforce_metadata=False,
    )
    frames["errors"], _ = _drop_redeliveries("errors", errors, webhook_only=True)
    ordered = {name: frames[name] for name in schema.FRAMES}
    return DaskArchive(ordered, rejects, [f[0] for f in files])


# --------------------------------------------------------------------------- planning


def _list_files(urlpath, storage_options: dict) -> list[tuple[str, Any, str, int]]:
    """(shown, filesystem, path, size) of every file, in reading order."""
    items = list(urlpath) if isinstance(urlpath, list | tuple) else [urlpath]
    texts = [os.fspath(item) for item in items]
    if not any("://" in text for text in texts):
        # Plain local paths: the loader's own expansion, so ``source`` strings match.
        local = LocalFileSystem()
        return [
            (f.path, local, os.path.abspath(f.path), f.size)
            for f in sources.expand(texts, skipped=[])
        ]
    out = []
    for text in texts:
        fs, _, paths = fsspec.get_fs_token_paths(text, storage_options=storage_options)
        if not paths:
            raise FileNotFoundError(f"no file matches {text!r}")
        for path in paths:
            found = sorted(fs.find(path)) if fs.isdir(path) else [path]
            for p in found:
                if any(part.startswith(".") for part in p[len(path) :].split("/")):
                    continue
                out.append((fs.unstrip_protocol(p), fs, p, int(fs.size(p))))
    return out


def _blocks(fs, path: str, size: int, blocksize: int | None) -> list[tuple[int, int | None]]:
    if not blocksize or size <= blocksize:
        return [(0, None)]
    with fs.open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if not _splittable(head):
        return [(0, None)]
    return [(offset, min(blocksize, size - offset)) for offset in range(0, size, blocksize)]


def _splittable(head: bytes) -> bool:
    """Plain NDJSON of several lines, which may be cut at newlines."""
    if head[:2] == sources.GZIP_MAGIC or head[:3] == b"\xef\xbb\xbf":
        return False
    stripped = head.lstrip()
    first = stripped[:1]
    if first == b"[":
        return False
    if first != b"{":
        return True
    if b"\n" not in stripped.rstrip():
        return False
    return sources.is_line_mode(head)


def _divisions(n: int) -> tuple[int, ...]:
    if n == 0:
        return (None, None)
    return (*(i << _SHIFT for i in range(n)), ((n) << _SHIFT) - 1)


def _meta(name: str) -> pd.DataFrame:
    frame = schema.empty_frame(name)
    frame.index = pd.Index([], dtype="int64")
    return clear_known_categories(frame)


# --------------------------------------------------------------------------- tasks


def _parse(unit: _Unit) -> Part:
    with unit.fs.open(unit.path, "rb") as fh:
        if unit.length is None:
            data = fh.read()
        else:
            data = read_block(fh, unit.offset, unit.length, delimiter=b"\n")
    return parse_bytes(data, block=unit.length is not None)


def _categorical(name: str) -> list[str]:
    return [c for c, dtype in schema.dtypes(name).items() if dtype == schema.CAT]


def _categories_of(part: Part) -> dict[tuple[str, str], list[str]]:
    out = {}
    for name, table in part.tables.items():
        if table.num_rows:
            for col in _categorical(name):
                out[(name, col)] = pc.unique(table[col]).drop_null().to_pylist()
    return out


def _all_categories(*parts: dict) -> dict[tuple[str, str], pd.Index]:
    merged: dict[tuple[str, str], dict] = {}
    for found in parts:
        for key, values in found.items():
            merged.setdefault(key, {}).update(dict.fromkeys(values))
    # As the loader builds them: text categories, also for an all-null column.
    return {key: pd.Index(list(values), dtype="str") for key, values in merged.items()}


def _with_categories(frame: pd.DataFrame, name: str, categories: dict) -> pd.DataFrame:
    for col in _categorical(name):
        cats = categories.get((name, col), pd.Index([], dtype="str"))
        frame[col] = pd.Categorical(frame[col].array, categories=cats)
    return frame


def _finish(part: Part, line_offset: int, unit: _Unit, categories: dict) -> dict[str, pd.DataFrame]:
    """The partition's frames with sources, indexed by reading order."""
    base = unit.pidx << _SHIFT
    frames, rejects = part_frames(part, unit.shown, line_offset)
    out = {}
    for name, frame in frames.items():
        frame.index = pd.Index(base + np.arange(len(frame), dtype="int64"))
        out[name] = _with_categories(frame, name, categories)
    rows = [(r.source, r.path, r.line, r.reason, r.excerpt) for r in rejects]
    out["_rejects"] = _rejects_frame(rows, base)
    return out


def _rejects_frame(rows: list, base: int) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(_REJECT_COLUMNS)).astype(_REJECT_COLUMNS)
    frame.index = pd.Index(base + np.arange(len(frame), dtype="int64"))
    return frame


# --------------------------------------------------------------------------- redeliveries

# Frames whose dropped rows take their errors with them (see drop_error_redeliveries).
_PARENTS = ("statuses", "messages", "group_events")


def _drop_redeliveries(
    name: str, frame: dd.DataFrame, webhook_only: bool = False
) -> tuple[dd.DataFrame, dd.DataFrame]:
    """``frame`` without redeliveries, and the dropped positions aligned to its partitions."""
    cols = schema.identity_columns(name)
    slim_meta = _slim(frame._meta, cols, webhook_only)
    slim = frame.map_partitions(_slim, cols, webhook_only, meta=slim_meta)
    # Every copy of an event has the same hash, so they all meet in one partition.
    met = slim.shuffle(on="_hash", npartitions=max(frame.npartitions, 1))
    found_meta = pd.DataFrame({"_order": pd.Series([], dtype="int64"), "drop": []}).astype(
        {"drop": "bool"}
    )
    found = met.map_partitions(_redeliveries, cols, meta=found_meta)
    drops = found.set_index("_order", divisions=frame.divisions)
    kept = dd.map_partitions(
        _without,
        frame,
        drops,
        meta=frame._meta,
        align_dataframes=False,
        transform_divisions=False,
        # Dask would swap an empty result for ``meta``, losing the partition's categories.
        enforce_metadata=False,
    )
    return kept, drops


def _slim(df: pd.DataFrame, cols: list[str], webhook_only: bool) -> pd.DataFrame:
    if webhook_only:
        df = df[df["origin"].astype("str").eq("webhook").to_numpy()]
    extra = [c for c in ("received_at", "source") if c in df.columns and c not in cols]
    out = df[[*cols, *extra]].reset_index(drop=True)
    hashed = pd.util.hash_pandas_object(df[cols], index=False) if len(df) else []
    out["_hash"] = np.asarray(hashed, dtype="uint64")
    out["_order"] = df.index.to_numpy(dtype="int64")
    return out


def _redeliveries(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Positions (``_order``) of the rows that redeliver an earlier-received row, by the
    loader's rule (:func:`groupkit.load.redeliveries.redelivered`)."""
    df = df.sort_values("_order", kind="stable").reset_index(drop=True)
    dropped = df["_order"].to_numpy(dtype="int64")[redelivered(df, cols)]
    return pd.DataFrame({"_order": dropped, "drop": np.ones(len(dropped), dtype=bool)})


def _without(df: pd.DataFrame, drops: pd.DataFrame) -> pd.DataFrame:
    if drops.empty:
        return df
    return df[~df.index.isin(drops.index)]


def _drop_errors_of_redeliveries(errors: pd.DataFrame, *parents: pd.DataFrame) -> pd.DataFrame:
    """Errors of this partition whose parent row was dropped go too (the loader's rule);
    a parent shares the error's ``source``, so it is always in the same partition."""
    dropped = {}
    for name, (frame, drops) in zip(
        _PARENTS, zip(parents[::2], parents[1::2], strict=True), strict=True
    ):
        dropped[name] = frame[frame.index.isin(drops.index)]
    webhook = errors["origin"].astype("str").eq("webhook").to_numpy()
    carried = errors[~webhook].assign(_order=errors.index[~webhook].to_numpy())
    kept, _ = drop_error_redeliveries(carried, dropped)
    kept = kept.set_index("_order")
    kept.index.name = None
    out = pd.concat([kept, errors[webhook]]) if webhook.any() else kept
    return out.sort_index(kind="stable").astype(errors.dtypes.to_dict())
