"""What a unit of the loader's work produces, and how a record's origin is named.

A :class:`Part` is one file or one block's Arrow tables, rejects and counts; a
:class:`Layout` says how a file's records are addressed (``file:line``,
``file#index`` or ``file#name``), which :func:`file_sources` and :func:`source_of`
turn into the ``source`` strings of rows and rejects.
"""

from __future__ import annotations

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
