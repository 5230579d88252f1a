"""Rows -> typed frames: column lists to Arrow, validation, and exact-redelivery removal.

Work is split in two so it can run in parallel: :func:`block_tables` turns one
block's column lists into Arrow tables (in a worker process when the archive is
large), validating timestamps and error codes a column at a time;
:func:`finish` concatenates every block, converts to pandas with the schema's
dtypes and drops exact redeliveries.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from groupkit import schema
from groupkit.load.arrays import nulls
from groupkit.load.redeliveries import redelivered
from groupkit.load.walk import RAW_COLUMNS, OutOfRange, Sink, canonical, columns, kind_of, shown

_ARROW = {
    schema.STR: pa.large_string(),
    schema.CAT: pa.large_string(),
    schema.BOOL: pa.bool_(),
    schema.INT: pa.int64(),
    schema.TS: pa.int64(),
    schema.TS_MS: pa.int64(),
}


_DECIMAL = r"^[0-9]{1,18}$"
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _number(value: object) -> int:
    """An integer from an int, an integral float or a numeric string; ValueError if none."""
    if value.__class__ is int:
        return value  # type: ignore[return-value]
    if value.__class__ is OutOfRange:
        raise OverflowError
    if isinstance(value, float):
        if math.isfinite(value):
            return int(value)
        raise ValueError
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            number = float(text)
            if math.isfinite(number):
                return int(number)
    raise ValueError


def _to_int64(values: list) -> tuple[pa.Array, list[int]]:
    """Arrow int64 from numbers or numeric strings, and the positions that are neither."""
    try:
        return pa.array(values, type=pa.int64()), []
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        pass
    try:
        text = pa.array(values, type=pa.large_string())
        # Arrow's cast also reads "0x10" as 16: take it only for plain decimal
        # digits, so what a value means never depends on its neighbours.
        if pc.all(pc.match_substring_regex(text, _DECIMAL)).as_py() is not False:
            return pc.cast(text, pa.int64()), []
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        pass
    out: list[int | None] = []
    bad: list[int] = []
    for i, value in enumerate(values):
        if value is None:
            out.append(None)
            continue
        try:
            number = _number(value)
            if not _INT64_MIN <= number <= _INT64_MAX:
                raise OverflowError
            out.append(number)
        except (ValueError, OverflowError):
            out.append(None)
            bad.append(i)
    return pa.array(out, type=pa.int64()), bad


# How a frame's items are named in a reason: "statuses[].timestamp '...' is not a number".
_ITEM = {
    "statuses": "statuses[]",
    "messages": "messages[]",
    "errors": "errors[]",
    "group_events": "groups[]",
    "membership": "participants[]",
    "other_changes": "changes[]",
    "sends": "send log",
}


def _what(frame: str, name: str) -> str:
    col = schema.FRAMES[frame][name]
    path = col.paths[0] if col.paths else name
    return path[1:] if path.startswith("@") else f"{_ITEM[frame]}.{path}"


def _number_text(value: object) -> str | None:
    """A JSON scalar where text belongs, as its text (None for objects and lists)."""
    if value.__class__ is bool:
        return "true" if value else "false"
    if value.__class__ in (int, float):
        return canonical(value)
    return None


def _to_text(values: list) -> tuple[pa.Array, list[int]]:
    """Arrow text from strings; numbers and flags become their JSON text; the positions of
    objects and lists, which are not text, come back apart."""
    try:
        return pa.array(values, type=pa.large_string()), []
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        pass
    out: list[str | None] = []
    bad: list[int] = []
    for i, value in enumerate(values):
        if value is None or value.__class__ is str:
            out.append(value)  # type: ignore[arg-type]
            continue
        text = _number_text(value)
        if text is None:
            bad.append(i)
        out.append(text)
    return pa.array(out, type=pa.large_string()), bad


def _to_bool(values: list) -> tuple[pa.Array, list[int]]:
    """Arrow booleans from true/false (or their text); the other positions apart."""
    if {v.__class__ for v in values} <= {bool, type(None)}:
        return pa.array(values, type=pa.bool_()), []
    out: list[bool | None] = []
    bad: list[int] = []
    for i, value in enumerate(values):
        if value is None or value.__class__ is bool:
            out.append(value)  # type: ignore[arg-type]
            continue
        low = value.strip().lower() if value.__class__ is str else None  # type: ignore[union-attr]
        out.append(True if low == "true" else False if low == "false" else None)
        if low not in ("true", "false"):
            bad.append(i)
    return pa.array(out, type=pa.bool_()), bad


def _problem(dtype: str, value: object) -> str:
    if dtype in (schema.STR, schema.CAT):
        return f"is {kind_of(value)}, not text"
    if dtype == schema.BOOL:
        return f"{value!r} is not true or false"
    if value.__class__ is OutOfRange:
        return f"{shown(value.given)} is out of range"  # type: ignore[attr-defined]
    if value.__class__ in (int, float):
        return f"{shown(value)} is out of range"
    if value.__class__ is str:
        try:
            _number(value)
            return f"{shown(value)} is out of range"
        except (ValueError, OverflowError):
            pass
    return f"{shown(value)} is not a number"


def block_tables(sink: Sink) -> tuple[dict[str, pa.Table], list[tuple[int, int, str, str]]]:
    """Arrow tables of one block's rows, and the records rejected for bad values.

    A record with a value that cannot be read as its column's type (a timestamp that
    is not a number, an object where text belongs) is rejected whole: its rows are
    removed from every frame.
    """
    tables: dict[str, pa.Table] = {}
    bad_records: dict[tuple[int, int], str] = {}
    for frame, rows in sink.rows.items():
        # Most blocks leave some frames empty (sends, other changes): those tables
        # are built once per process, not a column at a time per block.
        tables[frame] = _frame_table(frame, rows, bad_records) if rows else _empty_table(frame)
    for frame, lane in sink.lane.items():
        if lane:
            tables[frame] = _with_lane(frame, tables[frame], lane)
    # Errors of statuses are added after the walk: put every error back in reading
    # order (a stable sort), so the frame does not depend on how the file was cut.
    errors = tables["errors"]
    if errors.num_rows > 1:
        files, locs = errors["_file"].to_numpy(), errors["_loc"].to_numpy()
        if not _in_order(files, locs):
            order = np.lexsort((locs, files))  # stable, as reading order needs
            tables["errors"] = take_rows(errors, order)
    rejects = []
    if bad_records:
        files = pa.array([k[0] for k in bad_records], type=pa.int64())
        locs = pa.array([k[1] for k in bad_records], type=pa.int64())
        for frame, table in tables.items():
            hit = _member(table["_file"], table["_loc"], files, locs)
            tables[frame] = table.filter(pc.invert(hit))
        rejects = [(f, loc, reason, "") for (f, loc), reason in bad_records.items()]
    return {frame: _encode_categories(frame, table) for frame, table in tables.items()}, rejects


def _frame_table(frame: str, rows: list, bad_records: dict[tuple[int, int], str]) -> pa.Table:
    """One frame's rows as an Arrow table; records with unreadable values go to
    ``bad_records`` (first reason kept)."""
    cols = columns(frame, rows)
    dtypes = schema.dtypes(frame)
    arrays = {}
    empty: dict[pa.DataType, pa.Array] = {}
    for name in RAW_COLUMNS[frame]:
        values = cols[name]
        if name in ("_file", "_loc"):
            arrays[name] = pa.array(values, type=pa.int64())
            continue
        dtype = dtypes[name]
        if values and values.count(None) == len(values):
            kind = _ARROW[dtype]
            if kind not in empty:
                empty[kind] = nulls(len(values), kind)
            arrays[name] = empty[kind]
            continue
        if dtype in (schema.STR, schema.CAT):
            arr, bad = _to_text(values)
        elif dtype == schema.BOOL:
            arr, bad = _to_bool(values)
        else:
            arr, bad = _to_int64(values)
        for i in bad:
            key = (cols["_file"][i], cols["_loc"][i])
            reason = f"{_what(frame, name)} {_problem(dtype, values[i])}"
            bad_records.setdefault(key, reason)
        arrays[name] = arr
    return pa.table(arrays)


@functools.cache
def _empty_table(frame: str) -> pa.Table:
    """A frame's table with no rows, exactly as :func:`_frame_table` builds it."""
    return _encode_categories(frame, _frame_table(frame, [], {}))


def _with_lane(frame: str, walked: pa.Table, lane: list[dict[str, pa.Array]]) -> pa.Table:
    """The walker's rows and the Arrow lane's, merged back into reading order.

    Each part is in reading order, and a stable sort on the line interleaves them.
    Half the columns are empty on every part (no errors, contacts or envelope on a
    lane line, and few on the walker's failed statuses), so a column is built only
    where some part holds a value: taking every column by index cost twice as much.
    """
    dtypes = schema.dtypes(frame)
    names = walked.column_names
    types = {name: _ARROW.get(dtypes.get(name), pa.int64()) for name in names}
    parts = [{k: v.cast(types[k]) for k, v in cols.items()} for cols in lane]
    if walked.num_rows:
        parts.append({name: walked[name].combine_chunks() for name in names})
    if len(parts) == 1:
        return pa.table(parts[0])
    files = np.concatenate([p["_file"].to_numpy() for p in parts])
    locs = np.concatenate([p["_loc"].to_numpy() for p in parts])
    order = np.lexsort((locs, files))
    indices = None if (np.diff(order) > 0).all() else pa.array(order)
    total = len(order)
    merged = []
    for name in names:
        columns = [p[name] for p in parts]
        if all(c.null_count == len(c) for c in columns):
            merged.append(nulls(total, types[name]))
            continue
        column = pa.concat_arrays(columns)
        merged.append(column if indices is None else column.take(indices))
    return pa.Table.from_arrays(merged, names=names)


def _in_order(files: np.ndarray, locs: np.ndarray) -> bool:
    """Rows already sorted by (file, line): most blocks' errors are."""
    step_file, step_loc = np.diff(files), np.diff(locs)
    return bool(((step_file > 0) | ((step_file == 0) & (step_loc >= 0))).all())


def take_rows(table: pa.Table, indices: pa.Array | np.ndarray) -> pa.Table:
    """The rows of ``table`` at ``indices``, a column at a time.

    ``Table.take`` over a table of many chunks is an order of magnitude slower
    than taking from each column (pyarrow 26: 0.7 s against 0.07 s for 300,000
    statuses in 20 chunks), so the loader takes column by column.

    Examples
    --------
    >>> t = pa.concat_tables([pa.table({"a": [1, 2]}), pa.table({"a": [3]})])
    >>> take_rows(t, np.array([2, 0]))["a"].to_pylist()
    [3, 1]
    """
    return pa.Table.from_arrays(
        [column.take(indices) for column in table.columns], schema=table.schema
    )


def _encode_categories(frame: str, table: pa.Table) -> pa.Table:
    """Low-cardinality columns dictionary-encoded here, a block at a time: workers then
    hand back small integer codes instead of the same few strings over and over."""
    dtypes = schema.dtypes(frame)
    for i, name in enumerate(table.column_names):
        if dtypes.get(name) == schema.CAT:
            table = table.set_column(i, name, text_categories(table[name]))
    return table


def text_categories(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """``col`` dictionary-encoded with text values, also when every value is null.

    An all-null column has Arrow type ``null``; encoded as is, it would become a
    category of no type, which pandas and Parquet treat differently from text.

    Examples
    --------
    >>> text_categories(pa.array([None, None])).type
    DictionaryType(dictionary<values=large_string, indices=int32, ordered=0>)
    """
    kind = col.type
    if pa.types.is_dictionary(kind) and not pa.types.is_null(kind.value_type):
        return col
    if pa.types.is_dictionary(kind) or pa.types.is_null(kind):
        col = col.cast(pa.large_string())
    return pc.dictionary_encode(col)


def _member(files: pa.ChunkedArray, locs: pa.ChunkedArray, bad_files, bad_locs) -> pa.Array:
    key = pc.add(pc.multiply(files, 1 << 40), locs)
    bad = pc.add(pc.multiply(bad_files, 1 << 40), bad_locs)
    return pc.is_in(key, value_set=bad)


def _mapper(arrow_type: pa.DataType):
    if arrow_type == pa.int64():
        return pd.Int64Dtype()
    if arrow_type == pa.bool_():
        return pd.BooleanDtype()
    return None


def to_frame(frame: str, table: pa.Table, sources: pa.Array) -> pd.DataFrame:
    """A pandas frame with the schema's dtypes from one frame's concatenated Arrow table."""
    dtypes = schema.dtypes(frame)
    arrays = {}
    empty: dict[str, object] = {}  # all-null number and time columns, built in pandas
    for name, dtype in dtypes.items():
        if name == "source":
            arrays[name] = sources
            continue
        col = table[name]
        if dtype in _EMPTY_IN_PANDAS and col.null_count == len(col):
            empty[name] = _EMPTY_IN_PANDAS[dtype](len(col))
            continue
        if dtype == schema.STR and pa.types.is_null(col.type):
            col = col.cast(pa.large_string())
        if dtype == schema.TS:
            col = col.cast(pa.timestamp("s", tz="UTC"))
        elif dtype == schema.TS_MS:
            col = col.cast(pa.timestamp("ms", tz="UTC"))
        elif dtype == schema.CAT:
            col = text_categories(col)
        arrays[name] = col
    df = arrow_to_pandas(pa.table(arrays))
    if empty:
        # Arrow converts a null integer or time column value by value; these are
        # made whole, then put back in the schema's order.
        df = df.assign(**empty)[list(dtypes)]
    return df


def _no_ints(n: int) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))


def _no_times(unit: str):
    def build(n: int) -> pd.arrays.DatetimeArray:
        return pd.array(np.full(n, np.datetime64("NaT", unit)), dtype=f"datetime64[{unit}, UTC]")

    return build


_EMPTY_IN_PANDAS = {schema.INT: _no_ints, schema.TS: _no_times("s"), schema.TS_MS: _no_times("ms")}


_NO_CATEGORIES = pd.CategoricalDtype(pd.Index([], dtype="str"))


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """``table`` as pandas with the schema's nullable dtypes.

    A categorical column with no values at all gets text categories, as one with
    values has: pandas would otherwise type its empty categories ``object``, and a
    Parquet export would read back as a column of ``None``.

    Examples
    --------
    >>> arrow_to_pandas(pa.table({"n": pa.array([1, None])}))["n"].dtype
    Int64Dtype()
    """
    df = table.to_pandas(types_mapper=_mapper, split_blocks=True)
    for name in df.columns:
        col = df[name]
        if isinstance(col.dtype, pd.CategoricalDtype) and len(col.cat.categories) == 0:
            df[name] = col.astype(_NO_CATEGORIES)
    return df


def drop_redeliveries(frame: str, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``df`` into (kept, dropped) by :func:`groupkit.load.redeliveries.redelivered`."""
    drop = redelivered(df, schema.identity_columns(frame))
    if not drop.any():
        return df, df.iloc[:0]
    return df.loc[~drop].reset_index(drop=True), df.loc[drop]


# An error row belongs to the status, message or group event that carried it, and
# is a redelivery exactly when that parent is: these columns find the parent.
_PARENT_KEYS = {
    "status": ("statuses", ["source", "message_id", "participant_id", "status", "timestamp"]),
    "message": ("messages", ["source", "message_id", "timestamp"]),
    "group_event": ("group_events", ["source", "group_id", "timestamp"]),
}


def _merge_keys(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as plain comparable columns: times as integers (any year), the rest text."""
    return pd.DataFrame(
        {
            name: col.array.asi8 if isinstance(col.dtype, pd.DatetimeTZDtype) else col.astype("str")
            for name, col in df.items()
        },
        index=df.index,
    )


def drop_error_redeliveries(
    errors: pd.DataFrame, dropped: dict[str, pd.DataFrame]
) -> tuple[pd.DataFrame, int]:
    """Drop error rows whose parent row was a redelivery, and redelivered webhook errors."""
    drop = np.zeros(len(errors), dtype=bool)
    origin = errors["origin"].astype("str").to_numpy()
    for kind, (frame, keys) in _PARENT_KEYS.items():
        gone = dropped.get(frame)
        mine = origin == kind
        if gone is None or gone.empty or not mine.any():
            continue
        left = _merge_keys(errors.loc[mine, keys])
        right = _merge_keys(gone[keys]).drop_duplicates()
        hit = left.merge(right, how="left", on=keys, indicator=True)["_merge"].eq("both")
        drop[np.flatnonzero(mine)[hit.to_numpy()]] = True
    kept = errors.loc[~drop].reset_index(drop=True)
    webhook = kept["origin"].astype("str").eq("webhook").to_numpy()
    if webhook.sum() > 1:
        rest, gone = drop_redeliveries("errors", kept.loc[webhook])
        kept = pd.concat([kept.loc[~webhook], rest]).sort_index(kind="stable")
        kept = kept.reset_index(drop=True)
        return kept, int(drop.sum()) + len(gone)
    return kept, int(drop.sum())


def meaning_notes(frames: dict[str, pd.DataFrame]) -> list[str]:
    """Notes for columns whose meaning changed on a date that the archive's rows span.

    ``pricing_type`` meant one thing before 1 October 2026 and another from then on
    (see :data:`groupkit.schema.PRICING_CHANGE`): an archive with priced statuses on
    both sides of that date mixes both meanings.
    """
    notes = []
    for frame, cols in schema.FRAMES.items():
        df = frames.get(frame)
        if df is None or df.empty or "timestamp" not in df.columns:
            continue
        for name, col in cols.items():
            changes = [pd.Timestamp(since, tz="UTC") for since, _ in col.meanings[1:]]
            if not changes:
                continue
            times = df.loc[df[name].notna().to_numpy(), "timestamp"].dropna()
            if times.empty:
                continue
            first, last = times.min(), times.max()
            for (since, now), change in zip(col.meanings[1:], changes, strict=True):
                if first < change <= last:
                    before = schema.meaning(frame, name, change - pd.Timedelta(seconds=1))
                    notes.append(
                        f"{frame}.{name} changed meaning on {since}: the archive has values "
                        f"before it ({before}) and after it ({now}); read it with the row's "
                        "timestamp."
                    )
    return notes


# Frames whose rows are items of a webhook POST (not lines of the send log, and not
# errors, which go with their parent row).
_WEBHOOK_FRAMES = ("statuses", "messages", "group_events", "membership", "other_changes")


def redelivered_rows(dropped: dict[str, pd.DataFrame]) -> dict[str, list]:
    """The rows :func:`drop_redeliveries` dropped, as plain JSON-able columns.

    What :func:`groupkit.webhook_health` needs to count redeliveries per period after
    they are gone from the frames: the frame, the record (``source``), when the archive
    received it (``received_at``, unix ms), when Meta sent it (``entry_time``, unix s),
    the item's ``timestamp`` (unix s), ``message_id`` and ``status`` where the frame
    has them.  Kept in
    :attr:`groupkit.LoadReport.redelivered`, so the cache carries it with the report.

    Examples
    --------
    >>> import pandas as pd
    >>> gone = pd.DataFrame({"source": ["a:2"], "received_at": pd.to_datetime([None], utc=True),
    ...                      "timestamp": pd.to_datetime(["2026-03-01"], utc=True),
    ...                      "message_id": ["wamid.A"], "status": ["sent"]})
    >>> rows = redelivered_rows({"statuses": gone})
    >>> rows["frame"], rows["timestamp"], rows["received_at"]
    (['statuses'], [1772323200], [None])
    """
    out: dict[str, list] = {
        "frame": [], "source": [], "received_at": [], "entry_time": [], "timestamp": [],
        "message_id": [], "status": [],
    }  # fmt: skip
    for frame in _WEBHOOK_FRAMES:
        df = dropped.get(frame)
        if df is None or df.empty:
            continue
        n = len(df)
        out["frame"] += [frame] * n
        for name, unit in (("received_at", "ms"), ("entry_time", "s"), ("timestamp", "s")):
            if name in df.columns:
                values = df[name].dt.as_unit(unit)
                ints = values.array.asi8.tolist()
                out[name] += [None if pd.isna(t) else i for t, i in zip(values, ints, strict=True)]
            else:
                out[name] += [None] * n
        for name in ("source", "message_id", "status"):
            if name in df.columns:
                out[name] += [None if pd.isna(v) else str(v) for v in df[name]]
            else:
                out[name] += [None] * n
    return out
