"""What a unit of the loader's work produces, and how a record's origin is named.

A :class:`Part` is one file or one block's Arrow tables, rejects and counts; a
:class:`Layout` says how a file's records are addressed (``file:line``,
``file#index`` or ``file#name``), which :func:`file_sources` and :func:`source_of`
turn into the ``source`` strings of rows and rejects.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from groupkit.load import handover


@dataclass
class Layout:
    """How a file's records are addressed: by line, array index or name."""

    kind: Literal["lines", "array", "named", "single"]
    names: list[str] | None = None


@dataclass
class Part:
    """What one unit of work produced."""

    fidx: int
    seq: int
    lines: int
    tables: dict[str, pa.Table]
    rejects: list[tuple[int, int, str, str]]
    records: int
    layout: Layout | None = None
    sends: int = 0
    # Where its tables wait in shared memory, while they travel that way.
    spilled: handover.Spilled | None = None
    # A batch of whole files (engine.run_files): each file's layout, by file index.
    layouts: dict[int, Layout] | None = None


def add_sources(tables: dict[str, pa.Table], path: str, layout: Layout, offset: int) -> None:
    """Append the ``source`` column to each non-empty table (``_loc`` + ``offset``)."""
    for frame, table in tables.items():
        if table.num_rows:
            locs = table["_loc"]
            if offset:
                locs = pc.add(locs, offset)
            tables[frame] = table.append_column("source", file_sources(path, layout, locs))


def file_sources(path: str, layout: Layout, locs: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``file:line`` / ``file#index`` / ``file#name`` strings for one file's rows."""
    text = pa.large_string()
    if isinstance(locs, pa.ChunkedArray):
        locs = locs.combine_chunks()
    if layout.kind == "named" and layout.names is not None:
        loc_text = pa.array(layout.names, text).take(locs)
    else:
        loc_text = pc.cast(locs, text)
    sep = ":" if layout.kind in ("lines", "single") else "#"
    return pc.binary_join_element_wise(pa.scalar(path + sep, text), loc_text, pa.scalar("", text))


def source_of(paths, layouts, fidx: int, loc: int) -> tuple[str, int | None]:
    layout = layouts[fidx]
    if layout.kind in ("lines", "single"):
        return f"{paths[fidx]}:{loc}", loc
    if layout.kind == "named" and layout.names is not None and 0 <= loc < len(layout.names):
        return f"{paths[fidx]}#{layout.names[loc]}", None
    return f"{paths[fidx]}#{loc}", None


class RejectRows(Sequence):
    """A unit of work's rejects, ``(file index, loc, reason, excerpt)`` each, held as
    columns: numbers in arrays, each distinct reason once.

    A block of garbage lines has hundreds of thousands of rejects; as tuples they
    cost ~200 bytes each in the main process (on top of the excerpt), and millions
    of them stood beside the finished ``Reject`` objects.

    Examples
    --------
    >>> rows = RejectRows([(0, 2, "bad", "x"), (0, 5, "bad", "y")])
    >>> len(rows), rows[1], list(rows) == [(0, 2, "bad", "x"), (0, 5, "bad", "y")]
    (2, (0, 5, 'bad', 'y'), True)
    """

    __slots__ = ("codes", "excerpts", "files", "locs", "reasons")

    def __init__(self, rows: Sequence[tuple[int, int, str, str]] = ()) -> None:
        self.files, self.locs, self.codes = array("q"), array("q"), array("l")
        self.reasons: list[str] = []
        self.excerpts: list[str] = []
        index: dict[str, int] = {}
        for f, loc, reason, ex in rows:
            self.files.append(f)
            self.locs.append(loc)
            code = index.get(reason)
            if code is None:
                code = index[reason] = len(self.reasons)
                self.reasons.append(reason)
            self.codes.append(code)
            self.excerpts.append(ex)

    def __len__(self) -> int:
        return len(self.locs)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return (self.files[i], self.locs[i], self.reasons[self.codes[i]], self.excerpts[i])

    def __iter__(self) -> Iterator[tuple[int, int, str, str]]:
        reasons = self.reasons
        for f, loc, code, ex in zip(self.files, self.locs, self.codes, self.excerpts, strict=True):
            yield f, loc, reasons[code], ex

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other):
        return list(self) + list(other)

    def __repr__(self) -> str:
        return f"RejectRows({list(self)!r})"
