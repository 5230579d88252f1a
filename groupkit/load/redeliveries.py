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

__all__ = ["redelivered", "rows_at"]

# Columns that tell most rows apart: a cheap first pass over all rows, so only the
# candidates are compared on every identity column.
_CANDIDATE_KEYS = ("message_id", "status", "participant_id", "timestamp")


def _duplicated(df: pd.DataFrame, key: list[str]) -> np.ndarray:
    return df.duplicated(subset=key, keep=False).to_numpy()


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
        arrow = getattr(col.array, "_pa_array", None)  # pandas' Arrow-backed arrays
        if arrow is None or getattr(arrow, "num_chunks", 1) < 2:
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
    candidates: Callable[[pd.DataFrame, list[str]], np.ndarray] = _duplicated,
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
        superset of ``df.duplicated(subset=key, keep=False)``; the loader passes its
        hashing :func:`groupkit.load.build.candidate_duplicates`).

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
    maybe = candidates(df, key)
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
