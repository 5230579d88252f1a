"""Time buckets at Meta's granularities (half-hour, day, month).

Meta's analytics endpoints aggregate at ``HALF_HOUR``, ``DAY``/``DAILY`` and
``MONTH``/``MONTHLY``; every ``freq`` argument in :mod:`groupkit.analytics` takes
one of those (case-insensitive) and nothing else, so figures line up with what
WhatsApp Manager shows.

Examples
--------
>>> import pandas as pd
>>> ts = pd.Series(pd.to_datetime(["2026-03-01 10:44:59", "2026-03-31 23:59:00"], utc=True))
>>> bucket(ts, "half_hour").dt.strftime("%H:%M").tolist()
['10:30', '23:30']
>>> bucket(ts, "MONTHLY").dt.strftime("%Y-%m-%d").tolist()
['2026-03-01', '2026-03-01']
"""

from __future__ import annotations

import pandas as pd

from groupkit.exceptions import GroupkitError

__all__ = ["FREQS", "bucket", "normalise_freq"]

# Accepted spellings -> canonical granularity.
FREQS = {
    "half_hour": "half_hour",
    "halfhour": "half_hour",
    "30min": "half_hour",
    "day": "day",
    "daily": "day",
    "d": "day",
    "month": "month",
    "monthly": "month",
}


def normalise_freq(freq: str) -> str:
    """The canonical granularity (``half_hour``, ``day``, ``month``) for ``freq``.

    Raises
    ------
    GroupkitError
        For any other granularity.

    Examples
    --------
    >>> normalise_freq("DAILY"), normalise_freq("HALF_HOUR")
    ('day', 'half_hour')
    """
    canonical = FREQS.get(str(freq).strip().lower())
    if canonical is None:
        raise GroupkitError(
            f"freq={freq!r} is not one of Meta's granularities; use 'half_hour', 'day' or 'month'"
        )
    return canonical


def bucket(ts: pd.Series, freq: str) -> pd.Series:
    """Start of the half-hour, day or month bucket of each UTC timestamp.

    Parameters
    ----------
    ts
        tz-aware UTC timestamps (missing values stay missing).
    freq
        ``half_hour``, ``day`` or ``month`` (Meta's ``HALF_HOUR``, ``DAILY``,
        ``MONTHLY`` are accepted too).

    Returns
    -------
    pandas.Series
        Bucket starts, same dtype as ``ts``, named ``bucket``.

    Examples
    --------
    >>> import pandas as pd
    >>> bucket(pd.Series(pd.to_datetime(["2026-03-02 07:00:01"], utc=True)), "day").iloc[0]
    Timestamp('2026-03-02 00:00:00+0000', tz='UTC')
    """
    canonical = normalise_freq(freq)
    if canonical == "half_hour":
        out = ts.dt.floor("30min")
    elif canonical == "day":
        out = ts.dt.floor("D")
    else:
        day = ts.dt.floor("D")
        out = day - pd.to_timedelta(day.dt.day - 1, unit="D")
    return out.astype(ts.dtype).rename("bucket")
