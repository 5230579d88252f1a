"""The redelivery rule, in one place for the pandas loader and :mod:`groupkit.dask`.

WhatsApp redelivers a webhook it thinks was not acknowledged, so an archive can hold
the same status, message or group event several times.  A row is a *redelivery*
when it equals, on every identity column of its frame
(:func:`groupkit.schema.identity_columns`), a row of *another* record (``source``)
that was received earlier.  Identical items within one record (a POST may list the
same thing twice) are told apart by their order: the n-th copy in one record is
compared with the n-th copy in another.  "Earlier" is by ``received_at`` where the
archive has it (missing times last), then by reading order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

try:
    from groupkit.load import _scan
except ImportError:  # pragma: no cover - installed without a C compiler
    _scan = None

__all__ = ["candidate_duplicates", "redelivered", "rows_at"]

# Columns that tell most rows apart: a cheap first pass over all rows, so only the
# candidates are compared on every identity column.
_CANDIDATE_KEYS = ("message_id", "status", "participant_id", "timestamp")


def _arrow(col: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow data behind a pandas column backed by Arrow, else None."""
    if not isinstance(col.dtype, (pd.StringDtype, pd.ArrowDtype)):
        return None
    try:
        data = col.array.__arrow_array__()
    except (AttributeError, TypeError, pa.ArrowException):
        return None  # strings not backed by Arrow (pandas' python storage)
    return data if isinstance(data, pa.ChunkedArray) else pa.chunked_array([data])


def _column_hash(col: pd.Series) -> np.ndarray:
    """A uint64 per value: equal values hash alike (nulls too)."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return col.array.asi8.view(np.uint64)
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy().astype(np.uint64)
    arrow = _arrow(col) if _scan is not None else None
    if arrow is not None and (
        pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)
    ):
        out = np.empty(len(col), dtype=np.uint64)
        at = 0
        for chunk in arrow.chunks:
            large = pa.types.is_large_string(chunk.type)
            _, offsets, data = chunk.buffers()
            data = data if data is not None else b""
            _scan.hash_text(offsets, data, chunk.offset, len(chunk), large, out[at:])
            at += len(chunk)
        return out
    return pd.util.hash_pandas_object(col, index=False).to_numpy()


def candidate_duplicates(df: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Rows that may be equal to another row on ``key``: a superset of
    ``df.duplicated(subset=key, keep=False)``, for a full comparison after.

    Each column is hashed to 64 bits (strings in C) and the rows' combined hashes
    are compared: ``duplicated`` on the text itself spent 0.35 s of the main
    process on 200,000 message ids (pandas 3 factorizes Arrow strings one chunk at
    a time), against 0.02 s here.

    Examples
    --------
    >>> df = pd.DataFrame({"a": ["x", "y", "x"], "b": [1, 2, 1]})
    >>> candidate_duplicates(df, ["a", "b"]).tolist()
    [True, False, True]
    """
    combined = np.zeros(len(df), dtype=np.uint64)
    for name in key:
        combined = combined * np.uint64(0x100000001B3) ^ _column_hash(df[name])
    return pd.Series(combined, copy=False).duplicated(keep=False).to_numpy()


def rows_at(df: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """The rows of ``df`` at ``positions``, without joining Arrow chunks.

    A loaded frame's text columns hold one Arrow chunk per block read, and
    ``df.iloc`` joins them into one before it takes anything: 0.25 s to pick 74
    candidate rows out of 1.4 million statuses. Each chunk is taken from here.

    Examples
    --------
    >>> df = pd.concat([pd.DataFrame({"a": ["x", "y"]}), pd.DataFrame({"a": ["z"]})],
    ...                ignore_index=True).astype({"a": "str"})
    >>> rows_at(df, np.array([0, 2]))["a"].tolist()
    ['x', 'z']
    """
    index = df.index[positions]
    out = {}
    for name, col in df.items():
        arrow = _arrow(col)
        if arrow is None or arrow.num_chunks < 2:
            out[name] = col.array.take(positions)
            continue
        sizes = np.array([len(c) for c in arrow.chunks])
        ends = np.cumsum(sizes)
        which = np.searchsorted(ends, positions, side="right")
        parts = [
            arrow.chunks[k].take(pa.array(positions[which == k] - (ends[k] - sizes[k])))
            for k in np.unique(which)
        ]
        try:  # pandas 3: the array type takes Arrow data and its own dtype
            out[name] = type(col.array)(pa.chunked_array(parts, type=arrow.type), dtype=col.dtype)
        except TypeError:
            out[name] = col.array.take(positions)
    return pd.DataFrame(out, index=index, copy=False)


def redelivered(
    df: pd.DataFrame,
    identity: Sequence[str],
    candidates: Callable[[pd.DataFrame, list[str]], np.ndarray] | None = None,
) -> np.ndarray:
    """Which rows of ``df`` redeliver an earlier-received row (a boolean mask).

    Parameters
    ----------
    df
        Rows in reading order, with the ``identity`` columns and ``source`` (the
        record a row came from), and ``received_at`` where the archive has it.
    identity
        The columns that make two rows the same event.
    candidates
        The first pass: rows that may equal another on a few key columns (any
        superset of ``df.duplicated(subset=key, keep=False)``; by default the hashing
        :func:`candidate_duplicates`, for the pandas loader and Dask alike).

    Returns
    -------
    numpy.ndarray
        ``True`` for each row to drop, in the order of ``df``.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({
    ...     "message_id": ["wamid.A", "wamid.A", "wamid.A", "wamid.B"],
    ...     "source": ["day1:1", "day1:1", "day2:7", "day2:7"],
    ...     "received_at": pd.to_datetime([None, None, "2026-03-01", None], utc=True),
    ... })
    >>> redelivered(rows, ["message_id"]).tolist()  # day2:7 came first: day1:1's 1st copy goes
    [True, False, False, False]
    """
    drop = np.zeros(len(df), dtype=bool)
    if len(df) < 2:
        return drop
    cols = list(identity)
    key = [c for c in _CANDIDATE_KEYS if c in cols] or cols
    maybe = (candidates or candidate_duplicates)(df, key)
    if not maybe.any():
        return drop
    wanted = [*cols, "source", *(["received_at"] if "received_at" in df.columns else [])]
    sub = rows_at(df[wanted], np.flatnonzero(maybe))
    # A column empty on every candidate tells none apart: most of a frame's columns
    # are (contacts, envelope, extra on statuses), and grouping on them is the cost.
    cols = [c for c in cols if sub[c].notna().any()]
    nth = sub.groupby([*cols, "source"], dropna=False, observed=True, sort=False).cumcount()
    sub = sub.assign(_nth=nth.to_numpy())
    received = sub["received_at"] if "received_at" in sub.columns else None
    if received is not None and received.notna().any():
        # NaT sorts last: lexsort's last key is primary, so (missing?, time, position).
        order = np.lexsort((np.arange(len(sub)), received.array.asi8, received.isna().to_numpy()))
        dup_sorted = sub.iloc[order].duplicated(subset=[*cols, "_nth"], keep="first").to_numpy()
        dup = np.empty(len(sub), dtype=bool)
        dup[order] = dup_sorted
    else:
        dup = sub.duplicated(subset=[*cols, "_nth"], keep="first").to_numpy()
    drop[np.flatnonzero(maybe)[dup]] = True
    return drop
