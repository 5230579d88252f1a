"""The delivery analytics on a :class:`DaskArchive`, equal to the pandas results.

Each function runs the pandas function of :mod:`groupkit.analytics` on partitions
that hold *every* row of a key, so nothing is approximated:

* :func:`deliveries` shuffles statuses and membership by group (the lifecycle of a
  message needs its group's membership) and passes each partition the archive-wide
  BSUID -> phone map, so a BSUID-only status finds its phone seen in another group;
* :func:`latency_summary` and :func:`funnel` run per group where the deliveries are
  already grouped, else after a shuffle by their keys (exact quantiles and distinct
  counts need all of a key's rows together); ``by=None`` uses one partition;
* :func:`error_summary` reads only the columns it needs of the errors frame (small
  next to the statuses) and summarises it with the pandas function.

The summaries come back as pandas DataFrames, sorted as the pandas functions sort
them; :func:`deliveries` stays lazy (a Dask DataFrame partitioned by group, each
partition in the pandas order).

Examples
--------
>>> import groupkit.dask, tempfile
>>> from groupkit.simulate import simulate_archive
>>> folder = tempfile.mkdtemp()
>>> _ = simulate_archive(folder, groups=2, days=1, seed=3)
>>> archive = groupkit.dask.read_webhooks(folder)
>>> summary = groupkit.funnel(archive, by=None)  # registered: runs this module's funnel
>>> summary.equals(groupkit.funnel(groupkit.read_webhooks(folder), by=None))
True
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd

from groupkit.analytics._backend import register
from groupkit.analytics._common import as_list, with_keys
from groupkit.analytics.deliveries import deliveries as _pandas_deliveries
from groupkit.analytics.deliveries import empty_deliveries, usable_statuses
from groupkit.analytics.errors import error_summary as pandas_error_summary
from groupkit.analytics.funnel import summarise_funnel as pandas_funnel
from groupkit.analytics.latency import summarise_latency as pandas_latency_summary
from groupkit.analytics.names import name_groups
from groupkit.dask._reader import DaskArchive

__all__ = ["deliveries", "error_summary", "funnel", "latency_summary"]


def deliveries(archive: Any) -> dd.DataFrame:
    """:func:`groupkit.deliveries` of a :class:`~groupkit.dask.DaskArchive`, lazily.

    Parameters
    ----------
    archive
        A :class:`groupkit.dask.DaskArchive`.

    Returns
    -------
    dask.dataframe.DataFrame
        The columns and dtypes of :data:`groupkit.analytics.DELIVERIES`, partitioned by
        group; each partition is sorted as the pandas frame is (``group_id,
        message_id, participant_id``), so sorting the computed frame by those columns
        gives the pandas frame exactly.  The ``attrs`` counters of the pandas frame
        are not kept.

    Examples
    --------
    >>> import groupkit.dask, tempfile
    >>> from groupkit.simulate import simulate_archive
    >>> folder = tempfile.mkdtemp()
    >>> _ = simulate_archive(folder, groups=2, days=1, seed=4)
    >>> frame = deliveries(groupkit.dask.read_webhooks(folder)).compute(scheduler="sync")
    >>> keys = ["group_id", "message_id", "participant_id"]
    >>> expected = groupkit.deliveries(groupkit.read_webhooks(folder))
    >>> frame.sort_values(keys).reset_index(drop=True).equals(expected)
    True
    """
    statuses, membership = archive.statuses, archive.membership
    n = max(statuses.npartitions, 1)
    used = statuses.map_partitions(_usable, meta=_with_order(statuses._meta.iloc[:0]))
    members = membership.map_partitions(_with_order, meta=_with_order(membership._meta))
    # The same hash on the same column: a group's statuses and membership meet in
    # partitions of the same number.
    used = used.shuffle(on="group_id", npartitions=n)
    members = members.shuffle(on="group_id", npartitions=n)
    phones = dask.delayed(_first_pairs, pure=True)(
        *used.map_partitions(_pairs, 0, meta=_PAIRS_META).to_delayed(),
        *members.map_partitions(_pairs, 1, meta=_PAIRS_META).to_delayed(),
    )
    return dd.map_partitions(
        _deliveries_of_groups,
        used,
        members,
        phones,
        meta=empty_deliveries(),
        align_dataframes=False,
    )


def latency_summary(
    data: Any,
    *,
    metric: str = "delivery",
    by: str | Sequence[str] | None = "group_id",
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
    within_s: float = 5,
    freq: str | None = None,
) -> pd.DataFrame:
    """:func:`groupkit.latency_summary` of a Dask archive (or Dask deliveries frame).

    Returns exactly the pandas result: quantiles are computed over all of a key's
    latencies, gathered into one partition first.

    Examples
    --------
    >>> import groupkit.dask, tempfile
    >>> from groupkit.simulate import simulate_archive
    >>> folder = tempfile.mkdtemp()
    >>> _ = simulate_archive(folder, groups=2, days=1, seed=5)
    >>> got = latency_summary(groupkit.dask.read_webhooks(folder), metric="read")
    >>> got.equals(groupkit.latency_summary(groupkit.read_webhooks(folder), metric="read"))
    True
    """
    options = {"metric": metric, "quantiles": quantiles, "within_s": within_s}
    return name_groups(_per_key(data, by, freq, pandas_latency_summary, options), data)


def funnel(
    data: Any, *, by: str | Sequence[str] | None = "group_id", freq: str | None = None
) -> pd.DataFrame:
    """:func:`groupkit.funnel` of a Dask archive (or Dask deliveries frame).

    Examples
    --------
    >>> import groupkit.dask, tempfile
    >>> from groupkit.simulate import simulate_archive
    >>> folder = tempfile.mkdtemp()
    >>> _ = simulate_archive(folder, groups=2, days=1, seed=6)
    >>> got = funnel(groupkit.dask.read_webhooks(folder), by="pricing_category")
    >>> got.equals(groupkit.funnel(groupkit.read_webhooks(folder), by="pricing_category"))
    True
    """
    return name_groups(_per_key(data, by, freq, pandas_funnel, {}), data)


def error_summary(
    archive: Any,
    *,
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    origin: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """:func:`groupkit.error_summary` of a :class:`~groupkit.dask.DaskArchive`.

    Only the columns the summary reads are computed; errors are few next to
    statuses (one row per failure), so they are summarised in pandas, in reading
    order, which decides the title a code shows when the catalogue lacks it.

    Examples
    --------
    >>> import groupkit.dask, tempfile
    >>> from groupkit.simulate import simulate_archive
    >>> folder = tempfile.mkdtemp()
    >>> _ = simulate_archive(folder, groups=2, days=1, seed=7)
    >>> got = error_summary(groupkit.dask.read_webhooks(folder), by="group_id")
    >>> got.equals(groupkit.error_summary(groupkit.read_webhooks(folder), by="group_id"))
    True
    """
    needed = [*as_list(by), "code", "timestamp", "title", "message", "details", "href"]
    if origin is not None:
        needed.append("origin")
    columns = list(dict.fromkeys(needed))
    errors = archive.errors[columns].compute().reset_index(drop=True)
    return pandas_error_summary(SimpleNamespace(errors=errors), by=by, freq=freq, origin=origin)


# What groupkit.deliveries, groupkit.funnel... hand to this module (see
# groupkit.analytics._backend): a DaskArchive, and for the summaries that accept a
# deliveries frame, a Dask one.
register("deliveries", DaskArchive, deliveries)
register("error_summary", DaskArchive, error_summary)
for _kind in (DaskArchive, dd.DataFrame):
    register("latency_summary", _kind, latency_summary)
    register("funnel", _kind, funnel)


# --------------------------------------------------------------------------- internals

_PAIRS_META = pd.DataFrame(
    {
        "participant_user_id": pd.Series([], dtype="str"),
        "participant_id": pd.Series([], dtype="str"),
        "_source": pd.Series([], dtype="int64"),
        "_order": pd.Series([], dtype="int64"),
    }
)


def _with_order(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(_order=frame.index.to_numpy(dtype="int64")).reset_index(drop=True)


def _usable(statuses: pd.DataFrame) -> pd.DataFrame:
    return _with_order(statuses[usable_statuses(statuses)])


def _pairs(frame: pd.DataFrame, source: int) -> pd.DataFrame:
    """BSUID/phone pairs of a partition, first of each BSUID (by reading order)."""
    pairs = frame[["participant_user_id", "participant_id", "_order"]].dropna()
    pairs = pairs.sort_values("_order", kind="stable").drop_duplicates("participant_user_id")
    out = pairs.assign(_source=source)
    return out[list(_PAIRS_META.columns)].astype(_PAIRS_META.dtypes.to_dict())


def _first_pairs(*parts: pd.DataFrame) -> pd.Series:
    """The archive's BSUID -> phone map, as the pandas path builds it: the first pair
    of each BSUID among the used statuses in reading order, then membership."""
    pairs = pd.concat(parts, ignore_index=True).sort_values(["_source", "_order"], kind="stable")
    pairs = pairs.drop_duplicates("participant_user_id")
    return pd.Series(
        pairs["participant_id"].to_numpy(), index=pairs["participant_user_id"].to_numpy()
    )


def _in_reading_order(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values("_order", kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def _deliveries_of_groups(
    statuses: pd.DataFrame, membership: pd.DataFrame, phones: pd.Series
) -> pd.DataFrame:
    groups = SimpleNamespace(
        statuses=_in_reading_order(statuses),
        membership=_in_reading_order(membership),
        phone_by_bsuid=phones,
    )
    out = _pandas_deliveries(groups)
    out.attrs = {}
    return out


def _per_key(data: Any, by, freq, summarise, options: dict) -> pd.DataFrame:
    """Run a pandas summary on partitions holding every row of each key; combine."""
    grouped_by_group = not isinstance(data, dd.DataFrame)
    frame = deliveries(data) if grouped_by_group else data
    keys_in = as_list(by)
    meta = with_keys(empty_deliveries(), keys_in, freq, "sent_at")[0]
    frame = frame.map_partitions(_add_keys, keys_in, freq, meta=meta)
    keys = [*keys_in, *(["bucket"] if freq is not None else [])]
    if not keys:
        frame = frame.repartition(npartitions=1)
    elif not (grouped_by_group and "group_id" in keys):
        frame = frame.shuffle(on=keys, npartitions=frame.npartitions)
    kwargs = {**options, "by": keys or None}
    out_meta = summarise(meta, **kwargs)
    parts = dask.compute(*frame.map_partitions(summarise, meta=out_meta, **kwargs).to_delayed())
    return _combine(list(parts), keys, out_meta)


def _add_keys(frame: pd.DataFrame, keys: list[str], freq: str | None) -> pd.DataFrame:
    return with_keys(frame, keys, freq, "sent_at")[0]


def _combine(parts: list[pd.DataFrame], keys: list[str], meta: pd.DataFrame) -> pd.DataFrame:
    """Concatenate per-partition summaries and sort them as one pandas groupby would."""
    if not parts:
        return meta
    if not keys:
        (only,) = [p for p in parts if len(p)] or parts[:1]
        return only.reset_index(drop=True)
    columns = {}
    for name in parts[0].columns:
        pieces = [p[name] for p in parts]
        if isinstance(pieces[0].dtype, pd.CategoricalDtype):
            columns[name] = _union(pieces)
        else:
            columns[name] = pd.concat(pieces, ignore_index=True)
    out = pd.DataFrame(columns)
    out = out.sort_values(keys, kind="stable", na_position="last")
    return out.reset_index(drop=True)


def _union(pieces: list[pd.Series]) -> pd.Series:
    """Categoricals of several partitions as one: shared categories stay as they are
    (e.g. the lifecycle states, in their order); differing ones are united and sorted,
    as ``astype("category")`` over the whole frame would have sorted them."""
    first = pieces[0].cat.categories
    if all(p.cat.categories.equals(first) for p in pieces):
        return pd.concat(pieces, ignore_index=True)
    # A partition where the column is all missing has empty object categories.
    filled = [p for p in pieces if len(p.cat.categories)]
    values = sorted(set().union(*(p.cat.categories for p in filled)))
    kind = (filled or pieces)[0].cat.categories.dtype
    everything = pd.concat([p.astype(object) for p in pieces], ignore_index=True)
    return pd.Series(pd.Categorical(everything, categories=pd.Index(values, dtype=kind)))
