"""Readable names for groups, and wide frames that lead with them.

A group id is 56 characters that share a long prefix: as a frame's first column it
fills an 80-column terminal and a notebook cell before any number shows.  The
per-group frames (:func:`groupkit.latency_summary`, :func:`groupkit.funnel`,
:func:`groupkit.read_coverage`, :func:`groupkit.group_summary`) therefore start
with ``group``, the group's subject or the end of its id, and end with the full
``group_id``.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"group_id": ["AAAAAAAA111111"], "count": [3]})
>>> list(name_groups(frame, None).columns)
['group', 'count', 'group_id']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from groupkit.analytics._backend import is_dask

# deliveries(archive) keeps the archive's subjects here, so a summary of the
# deliveries frame names groups as a summary of the archive does.
SUBJECTS_ATTR = "group_subjects"


class GroupSubjects(dict):
    """``group_id -> subject``, kept in a deliveries frame's ``attrs``; it prints
    as its size, so ``print(frame.attrs)`` stays a line of counts.

    Examples
    --------
    >>> GroupSubjects({"G1": "Runners", "G2": "Walkers"})
    GroupSubjects(2 groups)
    """

    def __repr__(self) -> str:
        return f"GroupSubjects({len(self)} groups)"


def short_ids(ids: Iterable[str]) -> dict[str, str]:
    """The shortest distinguishing suffix of each id, after an ellipsis.

    Group ids are 56 characters that share a long prefix; their ends tell them apart.

    Examples
    --------
    >>> short_ids(["AAAAAAAA111111", "AAAAAAAA222222"])
    {'AAAAAAAA111111': '…111111', 'AAAAAAAA222222': '…222222'}
    """
    ids = list(dict.fromkeys(ids))
    for width in (6, 8, 10, 14, 20):
        labels = {gid: "…" + gid[-width:] for gid in ids}
        if len(set(labels.values())) == len(labels):
            return labels
    return {gid: gid for gid in ids}


def _subjects(archive: Any) -> GroupSubjects:
    """Each group's latest subject, from ``group_create`` and settings updates."""
    if isinstance(archive, pd.DataFrame):
        return GroupSubjects(archive.attrs.get(SUBJECTS_ATTR, {}))
    events = getattr(archive, "group_events", None)
    if events is not None and is_dask(events):
        events = events[["group_id", "subject", "timestamp"]].compute()
    if events is None or events.empty:
        return GroupSubjects()
    named = events[events["subject"].notna() & events["group_id"].notna()]
    named = named.sort_values("timestamp", kind="stable").drop_duplicates("group_id", keep="last")
    pairs = zip(named["group_id"], named["subject"], strict=True)
    return GroupSubjects({str(g): str(s) for g, s in pairs})


def group_names(data: Any, group_ids: Iterable[str] | None = None) -> dict[str, str]:
    """A short, unique, readable name per group: its subject, else the end of its id.

    Parameters
    ----------
    data
        A :class:`groupkit.Archive` (subjects from its ``group_events``) or anything
        else (ids only).
    group_ids
        The groups to name (default: every group ``data`` mentions).

    Returns
    -------
    dict
        ``group_id -> name``.  Two groups with one subject are told apart by the end
        of their ids (``"Runners (…Q1MDAw)"``).

    Examples
    --------
    >>> group_names(None, ["AAAAAAAA111111", "AAAAAAAA222222"])
    {'AAAAAAAA111111': '…111111', 'AAAAAAAA222222': '…222222'}
    """
    if group_ids is None:
        group_ids = _all_group_ids(data)
    ids = [str(g) for g in group_ids]
    return _named(ids, _subjects(data) if data is not None else {})


def _named(ids: list[str], subjects: dict[str, str]) -> dict[str, str]:
    shorts = short_ids(ids)
    seen = pd.Series([subjects.get(g) for g in ids], dtype="object").value_counts()
    names = {}
    for gid in ids:
        subject = subjects.get(gid)
        if not subject:
            names[gid] = shorts[gid]
        elif seen[subject] > 1:
            names[gid] = f"{subject} ({shorts[gid]})"
        else:
            names[gid] = subject
    return names


def _all_group_ids(data: Any) -> list[str]:
    """Every group id an archive (or a deliveries frame) mentions, sorted."""
    frames = [data] if isinstance(data, pd.DataFrame) else []
    for name in ("statuses", "messages", "errors", "group_events", "membership"):
        frame = getattr(data, name, None)
        if frame is not None:
            frames.append(frame)
    ids: set[str] = set()
    for frame in frames:
        if "group_id" in frame.columns:
            ids.update(str(g) for g in frame["group_id"].dropna().unique())
    return sorted(ids)


def name_groups(out: pd.DataFrame, data: Any) -> pd.DataFrame:
    """``out`` with a readable ``group`` column first and the full ``group_id`` last.

    Names come from :func:`group_names` over the ids ``out`` holds, with the
    subjects of ``data`` (an archive, a Dask archive, or a deliveries frame that
    kept its archive's subjects).  A frame without ``group_id`` is returned as is.

    Parameters
    ----------
    out
        A per-key summary.
    data
        What it summarises.

    Returns
    -------
    pandas.DataFrame
        ``group``, the other columns in their order, then ``group_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"group_id": ["AAAAAAAA111111", None], "count": [3, 1]})
    >>> name_groups(frame, None)["group"].tolist()
    ['…111111', nan]
    """
    if "group_id" not in out.columns or "group" in out.columns:
        return out
    ids = out["group_id"]
    present = [str(g) for g in ids.dropna().unique()]
    names = _named(present, _subjects(data) if data is not None else {})
    group = pd.array([None if pd.isna(g) else names[str(g)] for g in ids], dtype="str")
    out = out.copy()
    out.insert(0, "group", group)
    return out[[c for c in out.columns if c != "group_id"] + ["group_id"]]
