"""What changed: two time windows compared, per group, with how sure the change is.

In a group of at most eight people a "+12 %" is usually noise.  :func:`compare` puts
a 95 % interval and a p-value on every change, from well-kept statistics libraries:

* rates (``delivered_rate``, ``read_rate``, ``read_within_rate``, ``failed_rate``)
  -- the two-proportion *score* test (statsmodels ``test_proportions_2indep``,
  ``method="score"``, ``correction=False``: the textbook pooled z-test
  ``z = (p2 - p1) / sqrt(p (1 - p) (1/n1 + 1/n2))``) for the p-value, and Newcombe's
  hybrid score interval (``confint_proportions_2indep``, ``method="newcomb"``:
  Wilson intervals of each share combined, Newcombe 1998) for the difference;
* percentiles (``delivery_p50``, ``delivery_p90``, ``read_p50``, ``read_p90``, in
  seconds) -- a percentile bootstrap of the difference (``scipy.stats.bootstrap``,
  each window's receipts resampled on their own) for the interval and a permutation
  test of the same difference (``scipy.stats.permutation_test``) for the p-value,
  both with a fixed seed, so a run is reproducible.

Both treat receipts as independent draws; receipts of one message (one moment, one
group) are not quite, so read a borderline p-value with care.  The interval and the
p-value come from two procedures and can, rarely, disagree at the border;
``significant`` follows the p-value.

Examples
--------
>>> from groupkit.analytics.change import METRICS
>>> METRICS[:2]
('delivered_rate', 'read_rate')
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from groupkit.analytics._backend import refuse_dask
from groupkit.analytics._common import as_list, deliveries_of, require_columns
from groupkit.analytics.coverage import _within
from groupkit.analytics.names import name_groups
from groupkit.exceptions import GroupkitError

__all__ = ["METRICS", "RATES", "compare", "last_windows", "spans"]

RATES = ("delivered_rate", "read_rate", "read_within_rate", "failed_rate")
PERCENTILES = {
    "delivery_p50": ("delivery_latency", 0.5),
    "delivery_p90": ("delivery_latency", 0.9),
    "read_p50": ("read_latency", 0.5),
    "read_p90": ("read_latency", 0.9),
}
METRICS = (*RATES, *PERCENTILES)
ALPHA = 0.05
_COLUMNS = [
    "metric", "unit", "before", "after", "change", "ci_low", "ci_high", "p_value",
    "n_before", "n_after", "significant", "note",
]  # fmt: skip


def _when(frame: pd.DataFrame) -> pd.Series:
    """A receipt's time: its message's ``sent``, else its ``failed`` (never sent)."""
    return frame["sent_at"].fillna(frame["failed_at"])


def spans(data: Any) -> pd.Timedelta:
    """Whole UTC days from the first to the last business message, both days included.

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(2))
    >>> frame["sent_at"] = pd.to_datetime(["2026-03-01 23:00", "2026-03-14 01:00"], utc=True)
    >>> spans(frame)
    Timedelta('14 days 00:00:00')
    """
    when = _when(deliveries_of(data)).dropna()
    if when.empty:
        return pd.Timedelta(0)
    return when.max().floor("D") + pd.Timedelta(days=1) - when.min().floor("D")


def last_windows(data: Any, last: str | pd.Timedelta) -> tuple[tuple, tuple]:
    """``(before, after)`` for "the last ``last`` against the ``last`` before it".

    The windows end with the UTC day of the archive's latest business message: with
    ``last="7D"``, ``after`` is that day and the six before it, and ``before`` the seven
    days before those.  Each window is ``(start, end)``, ``end`` excluded.

    Examples
    --------
    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(1))
    >>> frame["sent_at"] = pd.to_datetime(["2026-03-15 10:00"], utc=True)
    >>> before, after = last_windows(frame, "7D")
    >>> [f"{t:%m-%d}" for t in (*before, *after)]
    ['03-02', '03-09', '03-09', '03-16']
    """
    length = pd.Timedelta(last)
    when = _when(deliveries_of(data)).dropna()
    if when.empty:
        raise GroupkitError("the archive holds no business message to compare windows of")
    end = when.max().floor("D") + pd.Timedelta(days=1)
    return (end - 2 * length, end - length), (end - length, end)


def _window(pair: Sequence[Any], name: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        start, end = pair
    except (TypeError, ValueError):
        raise GroupkitError(f"{name} must be a (start, end) pair, not {pair!r}") from None
    out = []
    for value in (start, end):
        ts = pd.Timestamp(value)
        out.append(ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC"))
    if out[1] <= out[0]:
        raise GroupkitError(f"{name} ends ({out[1]}) before it starts ({out[0]})")
    return out[0], out[1]


def _rate_test(c_before: int, n_before: int, c_after: int, n_after: int) -> tuple:
    """``(ci_low, ci_high, p_value)`` of ``after - before`` for two shares."""
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        test_proportions_2indep,
    )

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # Every receipt alike in both windows (pooled share 0 or 1): no variance, and
        # statsmodels divides by zero; there is no difference to test (p = 1).
        warnings.simplefilter("ignore", RuntimeWarning)
        result = test_proportions_2indep(
            c_after, n_after, c_before, n_before, method="score", correction=False
        )
        low, high = confint_proportions_2indep(
            c_after, n_after, c_before, n_before, method="newcomb"
        )
    p_value = float(result.pvalue)
    pooled = (c_after + c_before) / (n_after + n_before)
    if np.isnan(p_value) and pooled in (0.0, 1.0):
        p_value = 1.0
    return float(low), float(high), p_value


def _percentile_test(before: np.ndarray, after: np.ndarray, q: float, resamples: int, seed: int):
    """``(ci_low, ci_high, p_value)`` of the change in quantile ``q`` (seconds)."""
    from scipy import stats

    def difference(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.quantile(a, q, axis=axis) - np.quantile(b, q, axis=axis)

    if np.ptp(np.concatenate([before, after])) == 0:
        return 0.0, 0.0, 1.0  # every latency alike: nothing can have changed
    batch = max(1, 2_000_000 // (len(before) + len(after)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        boot = stats.bootstrap(
            (after, before),
            difference,
            n_resamples=resamples,
            method="percentile",
            vectorized=True,
            batch=batch,
            rng=np.random.default_rng(seed),
        )
    perm = stats.permutation_test(
        (after, before),
        difference,
        n_resamples=resamples,
        vectorized=True,
        batch=batch,
        rng=np.random.default_rng(seed),
    )
    low, high = boot.confidence_interval
    return float(low), float(high), float(perm.pvalue)


def _rate_counts(frame: pd.DataFrame, limit: pd.Timedelta) -> pd.DataFrame:
    state = frame["state"].astype("str")
    return pd.DataFrame(
        {
            "delivered_rate": state.isin(["delivered", "read"]).to_numpy(),
            "read_rate": (state == "read").to_numpy(),
            "read_within_rate": (
                frame["read_latency"].notna() & (frame["read_latency"] <= limit)
            ).to_numpy(),
            "failed_rate": (state == "failed").to_numpy(),
        },
        index=frame.index,
    )


def compare(
    archive: Any,
    *,
    before: Sequence[Any] | None = None,
    after: Sequence[Any] | None = None,
    last: str | pd.Timedelta | None = None,
    by: str | Sequence[str] | None = "group_id",
    within: str | float | pd.Timedelta = "1h",
    min_receipts: int = 10,
    resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Compare two time windows, per group (or any key), with a 95 % interval per change.

    A receipt (a row of :func:`groupkit.deliveries`) belongs to the window its
    message was sent in (its ``failed`` time when it was never sent).  Rates are over
    every receipt of the window, as :func:`groupkit.funnel` counts them; percentiles
    over the receipts with the latency measured, in seconds.

    Methods (named so a reader can check them): for rates, the two-proportion score
    test -- the textbook pooled z-test -- for the p-value (statsmodels
    ``test_proportions_2indep(method="score", correction=False)``) and Newcombe's
    hybrid score interval for the difference (``confint_proportions_2indep(
    method="newcomb")``); for percentiles, a percentile bootstrap of the difference
    (``scipy.stats.bootstrap``, ``resamples`` resamples, seed ``seed``) for the
    interval and a permutation test of the same difference
    (``scipy.stats.permutation_test``, same resamples and seed) for the p-value.
    Receipts are treated as independent.  See :mod:`groupkit.analytics.change`.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive` or its :func:`groupkit.deliveries` frame (a Dask
        archive is refused).
    before, after
        ``(start, end)`` pairs of anything pandas parses (naive times are UTC); a
        window holds ``start`` and not ``end``.
    last
        Instead of ``before``/``after``: e.g. ``"7D"`` compares the last seven days
        (ending with the day of the latest message) with the seven before
        (:func:`last_windows`).
    by
        Column(s) of :func:`groupkit.deliveries` to compare within, e.g.
        ``"group_id"`` or ``"biz_opaque_callback_data"``; ``None`` for the whole
        archive.
    within
        ``read_within_rate`` counts a read at most this long after the send
        (``"1h"``, ``"30min"``, seconds).
    min_receipts
        Below this many receipts (measured latencies, for percentiles) in either
        window no test is run: the row says ``"too few receipts"`` and is not
        significant.
    resamples, seed
        Bootstrap and permutation resamples, and the seed that makes them
        reproducible.

    Returns
    -------
    pandas.DataFrame
        One row per (``by`` value, metric): the ``by`` columns, ``metric``
        (:data:`METRICS`), ``unit`` (``share`` or ``seconds``), ``before``,
        ``after``, ``change`` (``after - before``), ``ci_low``, ``ci_high`` (the 95 %
        interval of the change), ``p_value``, ``n_before``, ``n_after`` (receipts, or
        measured latencies), ``significant`` (``p_value < 0.05``) and ``note``
        (empty, or why no test was run).  Per group, a readable ``group`` comes first
        and the full ``group_id`` last.  ``attrs`` holds the windows (``before``,
        ``after``), ``within_s``, ``min_receipts``, ``resamples`` and ``seed``.

    Examples
    --------
    Eight members, three messages in each week: 18 of 24 receipts read, then 12 of 24.
    Twenty-five points down, and still within what chance gives:

    >>> from groupkit.analytics.deliveries import empty_deliveries
    >>> frame = empty_deliveries().reindex(range(48))
    >>> frame["group_id"], frame["message_id"] = "G", "wamid.1"
    >>> frame["sent_at"] = pd.to_datetime(["2026-03-02"] * 24 + ["2026-03-09"] * 24, utc=True)
    >>> frame["state"] = ["read"] * 18 + ["delivered"] * 6 + ["read"] * 12 + ["delivered"] * 12
    >>> out = compare(frame, before=("2026-03-01", "2026-03-08"),
    ...               after=("2026-03-08", "2026-03-15"), by=None)
    >>> row = out.set_index("metric").loc["read_rate"]
    >>> float(row["before"]), float(row["after"]), round(float(row["p_value"]), 4)
    (0.75, 0.5, 0.0736)
    >>> bool(row["significant"])
    False
    """
    refuse_dask(archive, "groupkit.compare")
    frame = deliveries_of(archive)
    if last is not None:
        if before is not None or after is not None:
            raise GroupkitError("give either last= or before= and after=, not both")
        before, after = last_windows(frame, last)
    if before is None or after is None:
        raise GroupkitError("give before=(start, end) and after=(start, end), or last='7D'")
    windows = {"before": _window(before, "before"), "after": _window(after, "after")}
    limit = _within(within)
    keys = as_list(by)
    require_columns(frame, keys, "compare", "groupkit.deliveries")
    when = _when(frame)
    parts = {
        name: frame[(when >= start) & (when < end)].reset_index(drop=True)
        for name, (start, end) in windows.items()
    }
    if keys:
        values = pd.concat([parts["before"][keys], parts["after"][keys]]).drop_duplicates()
        values = values.sort_values(keys).itertuples(index=False, name=None)
        values = list(values)
    else:
        values = [()]
    rows = []
    for value in values:
        picked = {}
        for name, part in parts.items():
            mask = np.ones(len(part), dtype=bool)
            for key, v in zip(keys, value, strict=True):
                mask &= (part[key] == v).fillna(False).to_numpy()
            picked[name] = part[mask]
        for row in _compare_one(picked, limit, min_receipts, resamples, seed):
            rows.append({**dict(zip(keys, value, strict=True)), **row})
    out = pd.DataFrame(rows, columns=[*keys, *_COLUMNS])
    for name in ("before", "after", "change", "ci_low", "ci_high", "p_value"):
        out[name] = out[name].astype("float64")
    for name in ("n_before", "n_after"):
        out[name] = out[name].astype("int64")
    out["significant"] = out["significant"].astype("bool")
    out["metric"] = pd.Categorical(out["metric"], categories=list(METRICS))
    for name in ("unit", "note"):
        out[name] = out[name].astype("str")
    out.attrs.update(
        before=windows["before"],
        after=windows["after"],
        within_s=limit.total_seconds(),
        min_receipts=min_receipts,
        resamples=resamples,
        seed=seed,
    )
    return name_groups(out, archive) if "group_id" in keys else out


def _compare_one(
    picked: dict[str, pd.DataFrame],
    limit: pd.Timedelta,
    min_receipts: int,
    resamples: int,
    seed: int,
) -> list[dict]:
    rows = []
    flags = {name: _rate_counts(part, limit) for name, part in picked.items()}
    for metric in RATES:
        n_b, n_a = len(flags["before"]), len(flags["after"])
        c_b, c_a = int(flags["before"][metric].sum()), int(flags["after"][metric].sum())
        rows.append(
            _row(
                metric,
                "share",
                c_b / n_b if n_b else np.nan,
                c_a / n_a if n_a else np.nan,
                n_b,
                n_a,
                min_receipts,
                lambda c_b=c_b, n_b=n_b, c_a=c_a, n_a=n_a: _rate_test(c_b, n_b, c_a, n_a),
            )
        )
    for metric, (column, q) in PERCENTILES.items():
        samples = {
            name: part[column].dropna().dt.total_seconds().to_numpy(dtype="float64")
            for name, part in picked.items()
        }
        b, a = samples["before"], samples["after"]
        rows.append(
            _row(
                metric,
                "seconds",
                float(np.quantile(b, q)) if len(b) else np.nan,
                float(np.quantile(a, q)) if len(a) else np.nan,
                len(b),
                len(a),
                min_receipts,
                lambda b=b, a=a, q=q: _percentile_test(b, a, q, resamples, seed),
            )
        )
    return rows


def _row(metric, unit, before, after, n_b, n_a, min_receipts, test) -> dict:
    row = {
        "metric": metric,
        "unit": unit,
        "before": before,
        "after": after,
        "change": after - before,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "p_value": np.nan,
        "n_before": n_b,
        "n_after": n_a,
        "significant": False,
        "note": "",
    }
    if min(n_b, n_a) < min_receipts:
        what = "receipts" if unit == "share" else "measured latencies"
        row["note"] = f"too few {what} (fewer than {min_receipts} in a window)"
        return row
    row["ci_low"], row["ci_high"], row["p_value"] = test()
    row["significant"] = bool(row["p_value"] < ALPHA)
    return row
