"""Helpers shared by the analytics functions: Archive or deliveries frame in, group keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from groupkit.analytics._time import bucket
from groupkit.analytics.deliveries import deliveries
from groupkit.exceptions import GroupkitError

# Keys that are derived from ``sent_at`` rather than read from a column.
DERIVED_KEYS = ("hour", "weekday")


def deliveries_of(data: Any) -> pd.DataFrame:
    """``data`` itself when it is already a deliveries frame, else ``deliveries(data)``."""
    if isinstance(data, pd.DataFrame):
        return data
    return deliveries(data)


def as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def require_columns(frame: pd.DataFrame, keys: list[str], doing: str, of: str) -> None:
    """Raise a :class:`GroupkitError` naming the ``keys`` that are not columns of
    ``frame`` (what the caller was ``doing``, and what the frame is ``of``)."""
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise GroupkitError(
            f"cannot {doing} by {', '.join(missing)}: not a column of {of} "
            f"({', '.join(frame.columns)})"
        )


def with_keys(
    frame: pd.DataFrame, by: list[str], freq: str | None, time_column: str
) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with the grouping columns present, and their names.

    ``hour`` (0-23) and ``weekday`` (0 = Monday) of ``time_column`` are derived when
    asked for and not a column already; ``freq`` adds a ``bucket`` column.
    """
    extra = {}
    for key in by:
        if key in frame.columns:
            continue
        if key == "hour":
            extra[key] = frame[time_column].dt.hour.astype("Int64")
        elif key == "weekday":
            extra[key] = frame[time_column].dt.weekday.astype("Int64")
        else:
            raise GroupkitError(
                f"cannot group by {key!r}: it is not a column ({', '.join(frame.columns)}) "
                f"nor one of {DERIVED_KEYS}"
            )
    keys = list(by)
    if freq is not None:
        extra["bucket"] = bucket(frame[time_column], freq)
        keys.append("bucket")
    if extra:
        frame = frame.assign(**extra)
    return frame, keys
