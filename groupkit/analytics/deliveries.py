"""One row per (group message, participant): the delivery lifecycle of each receipt.

Rules (reference 1.1 and 5.1):

* ``sent`` and ``failed`` are group-level (no participant); ``delivered`` and
  ``read`` are per participant.  A participant is ``participant_id`` (phone); a
  status with only ``participant_user_id`` (BSUID) is matched to the phone that
  other statuses or membership rows pair with that BSUID, else keyed by the BSUID.
* Webhooks arrive at least once and in any order, so every time is the earliest
  trigger ``timestamp`` seen for that status; a later copy with another timestamp
  is a *duplicate* and is ignored.  States only move forward
  (``pending`` -> ``delivered`` -> ``read``; ``failed`` is final), judged on the
  statuses' own meaning, never on arrival order.
* A ``read`` with no ``delivered`` means both happened at once (Meta then sends
  only the ``read``): ``delivered_at`` is the read time and ``delivered_implied``
  is ``True``.
* A ``failed`` message is failed for every recipient; ``delivered``/``read`` for
  it are ignored (counted in ``attrs["ignored_after_failed"]``).
* Where the archive has membership webhooks for the group, every member at send
  time is a row, so a member with no receipt is ``pending``; where it has none,
  the rows are the participants that reported, and a message nobody reported on
  is one row with a missing ``participant_id``.

Examples
--------
>>> import pandas as pd
>>> from groupkit.analytics.deliveries import deliveries, DELIVERIES
>>> list(DELIVERIES)[:4]
['group_id', 'message_id', 'participant_id', 'sent_at']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from groupkit.analytics._backend import implementation
from groupkit.analytics.names import SUBJECTS_ATTR, _subjects
from groupkit.schema import BOOL, CAT, INT, STR, TS, Column

__all__ = ["DELIVERIES", "STATES", "deliveries", "empty_deliveries"]

TD = "timedelta64[s]"

# Order matters: it is the order in which a receipt moves (failed is final).
STATES = ("pending", "sent", "delivered", "read", "failed")

DELIVERIES: dict[str, Column] = {
    name: Column(dtype, doc)
    for name, (dtype, doc) in {
        "group_id": (STR, "The group the message was sent to."),
        "message_id": (STR, "The business message (`wamid.`)."),
        "participant_id": (
            STR,
            "The participant (phone, else BSUID); missing on the one row of a message "
            "whose recipients are unknown (no membership, no receipts).",
        ),
        "sent_at": (TS, "Earliest group-level `sent` of the message."),
        "delivered_at": (
            TS,
            "Earliest `delivered` for this participant; the `read` time when only a read came.",
        ),
        "read_at": (TS, "Earliest `read` for this participant."),
        "failed_at": (TS, "Earliest `failed` of the message (or of this participant)."),
        "state": (CAT, "Furthest state reached: pending, sent, delivered, read or failed."),
        "delivery_latency": (TD, "`delivered_at - sent_at`."),
        "read_latency": (TD, "`read_at - sent_at` (read after send)."),
        "read_after_delivery": (TD, "`read_at - delivered_at` (0 when delivery is implied)."),
        "delivered_implied": ("bool", "A `read` came with no `delivered` for this participant."),
        "member_at_send": (
            BOOL,
            "Member of the group at send time per membership webhooks; missing when the "
            "archive has no membership for the group.",
        ),
        "error_code": (INT, "Code of the first error of the `failed` status."),
        "error_title": (STR, "Title of that error."),
        "pricing_category": (CAT, "Pricing category reported on delivered/read (or missing)."),
        "biz_opaque_callback_data": (STR, "Tracking data the business attached when sending."),
    }.items()
}

_RANK = {"delivered": 1, "read": 2, "failed": 3}


def empty_deliveries() -> pd.DataFrame:
    """An empty frame with the columns and dtypes of :func:`deliveries`.

    Examples
    --------
    >>> empty_deliveries().shape
    (0, 17)
    """
    return _typed(pd.DataFrame({name: [] for name in DELIVERIES}))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    out = {}
    for name, col in DELIVERIES.items():
        values = frame[name]
        if name != "pricing_category" and str(values.dtype) == str(_dtype(name, col)):
            out[name] = values  # already typed (the pandas path builds it so): no copy
        elif name == "state":
            out[name] = pd.Categorical(values, categories=list(STATES))
        elif isinstance(values.dtype, pd.CategoricalDtype):
            # Categories in sorted order, as from plain values (the loader's are by arrival).
            out[name] = values.cat.set_categories(sorted(values.cat.categories))
        elif col.dtype == "bool":
            out[name] = values.astype("bool")
        elif col.dtype == TS:
            values = pd.to_datetime(pd.Series(values), utc=True)
            out[name] = values.astype(TS)
        else:
            out[name] = values.astype(col.dtype)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _dtype(name: str, col: Column) -> Any:
    return pd.CategoricalDtype(list(STATES)) if name == "state" else col.dtype


def _min_by(keys: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Smallest of ``values`` per integer key ``0..size-1``, as float (NaN for a key with none).

    A scatter-minimum: no hashing or sorting, unlike a pandas groupby.
    """
    out = np.full(size, np.inf)
    np.minimum.at(out, keys, values)
    out[out == np.inf] = np.nan  # the values are finite (whole seconds or positions)
    return out


def _first_positions(keys: np.ndarray, size: int) -> np.ndarray:
    """Position of the first occurrence of each key ``0..size-1`` (``len(keys)`` if none)."""
    out = np.full(size, len(keys), dtype=np.int64)
    np.minimum.at(out, keys, np.arange(len(keys)))
    return out


def _run_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Mask of the entries of a sorted array that differ from the one before."""
    starts = np.ones(len(sorted_keys), dtype=bool)
    starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return starts


def _lookup(
    sorted_keys: np.ndarray, values: np.ndarray, queries: np.ndarray, missing: Any
) -> np.ndarray:
    """The value of each query's key in ``sorted_keys`` (unique), ``missing`` if absent."""
    if len(sorted_keys) == 0:
        return np.full(len(queries), missing, dtype=values.dtype)
    at = np.searchsorted(sorted_keys, queries).clip(max=len(sorted_keys) - 1)
    return np.where(sorted_keys[at] == queries, values[at], missing)


def _inverse(permutation: np.ndarray) -> np.ndarray:
    """``inverse[permutation[i]] == i``: the new code of each old code after reordering."""
    inverse = np.empty(len(permutation), dtype=np.int64)
    inverse[permutation] = np.arange(len(permutation))
    return inverse


def _seconds(values: pd.Series) -> np.ndarray:
    """UTC timestamps as float unix seconds (NaN for missing): exact for whole seconds."""
    naive = values.to_numpy(dtype="datetime64[s]", na_value=np.datetime64("NaT"))
    out = naive.astype(np.int64).astype(np.float64)
    out[np.isnat(naive)] = np.nan
    return out


def _timestamps(seconds: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(seconds, unit="s", utc=True)).astype(TS)


def _durations(seconds: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_timedelta(seconds, unit="s")).astype(TD)


def _members_at_send(
    membership: pd.DataFrame,
    member_codes: np.ndarray,
    msg_group: pd.api.extensions.ExtensionArray,
    ref_time: np.ndarray,
    base: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who was a member of the group when each message was sent, per membership webhooks.

    Returns ``(keys, member, known)``: ``keys`` (sorted, ``m * base + p``) pairs every
    message of a group with membership webhooks with every participant the group ever
    had; ``member`` says whether the participant's last membership change at or before
    the message's reference time was a join (of changes at the same second, the later
    row wins); ``known`` marks the messages that have such pairs.

    All on integer codes with binary searches: the pairs outnumber the statuses on a
    large archive, so pandas merges on them would cost more than the rest together.
    """
    no_pairs = np.zeros(0, dtype=np.int64)
    group = membership["group_id"]
    ts = _seconds(membership["timestamp"])
    usable = np.flatnonzero(group.notna().to_numpy() & (member_codes >= 0) & ~np.isnan(ts))
    group_codes, groups = pd.factorize(group.array.take(usable))
    msg_group_code = pd.Index(groups).get_indexer(msg_group)
    known = (msg_group_code >= 0) & ~np.isnan(ref_time)
    if not known.any():
        return no_pairs, no_pairs.astype(bool), known

    # People: the distinct (group, participant) of the changes, sorted so that each
    # group's people are consecutive and in participant order.
    person_keys = group_codes.astype(np.int64) * base + member_codes[usable]
    by_person = np.argsort(person_keys, kind="stable")
    sorted_person_keys = person_keys[by_person]
    first_of_person = _run_starts(sorted_person_keys)
    people = sorted_person_keys[first_of_person]
    person = np.empty(len(usable), dtype=np.int64)
    person[by_person] = np.cumsum(first_of_person) - 1

    # Changes sorted by (person, time); equal times keep their row order (stable sort),
    # so a binary search for "last change at or before t" finds the later row.
    times = np.sort(ts[usable])
    times = times[_run_starts(times)]
    width = len(times) + 1  # change keys take offsets 1..len(times) within a person
    change_keys = person * width + np.searchsorted(times, ts[usable]) + 1
    by_change = np.argsort(change_keys, kind="stable")
    change_keys = change_keys[by_change]
    change_person = person[by_change]
    change_join = (membership["change"].astype(STR) == "join").to_numpy()[usable][by_change]

    # Pairs: each known message with each person of its group, in (message, participant)
    # order, as the known messages ascend and each group's people are sorted.
    messages = np.flatnonzero(known)
    people_group = people // base
    group_start = np.searchsorted(people_group, np.arange(len(groups)))
    per_message = np.bincount(people_group, minlength=len(groups))[msg_group_code[messages]]
    pair_message = np.repeat(messages, per_message)
    pair_person = np.arange(len(pair_message)) - np.repeat(
        np.cumsum(per_message) - per_message, per_message
    )
    pair_person += np.repeat(group_start[msg_group_code[messages]], per_message)
    # Offset of a message's reference time among the change times: changes at or before
    # it have offsets <= this, so the search stays within the pair's person.
    ref_offset = np.searchsorted(times, ref_time[messages], side="right")
    last = np.searchsorted(
        change_keys, pair_person * width + np.repeat(ref_offset, per_message), side="right"
    )
    last -= 1
    found = last >= 0
    last[~found] = 0
    member = found & (change_person[last] == pair_person) & change_join[last]
    keys = pair_message.astype(np.int64) * base + people[pair_person] % base
    return keys, member, known


def _phone_by_bsuid(statuses: pd.DataFrame, rows: np.ndarray, membership: pd.DataFrame):
    """BSUID -> phone, from rows that carry both, so a BSUID-only status joins its phone.

    The first pair of each BSUID wins: the statuses' ``rows`` in reading order, then
    membership.  Only one row per BSUID is copied out of the (large) statuses.
    """
    users, phones = statuses["participant_user_id"], statuses["participant_id"]
    both = rows[(users.notna() & phones.notna()).to_numpy()[rows]]
    user_codes, user_uniques = pd.factorize(users)
    first = _first_positions(user_codes[both], len(user_uniques))
    first = both[np.sort(first[first < len(both)])]  # reading order: membership pairs follow
    pairs = pd.concat(
        [
            pd.DataFrame(
                {
                    "participant_user_id": users.array.take(first),
                    "participant_id": phones.array.take(first),
                }
            ),
            membership[["participant_user_id", "participant_id"]],
        ],
        ignore_index=True,
    ).dropna()
    pairs = pairs.drop_duplicates("participant_user_id")
    return pd.Series(
        pairs["participant_id"].to_numpy(), index=pairs["participant_user_id"].to_numpy()
    )


# The statuses columns the lifecycle reads.
LIFECYCLE_COLUMNS = _NEEDED = [
    "group_id", "message_id", "participant_id", "participant_user_id", "timestamp", "status",
    "error_code", "error_title", "pricing_category", "biz_opaque_callback_data",
]  # fmt: skip


def _ranks(values) -> np.ndarray:
    """Rank of each value in sorted order (values are unique, as factorize returns them)."""
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[np.argsort(np.asarray(values, dtype=object), kind="stable")] = np.arange(len(values))
    return ranks


def _counters(**counts: int) -> dict[str, int]:
    return {name: int(value) for name, value in counts.items()}


SENT, DELIVERED, READ, FAILED = 0, _RANK["delivered"], _RANK["read"], _RANK["failed"]
_CODES = {"sent": SENT, "delivered": DELIVERED, "read": READ, "failed": FAILED}


def _status_codes(column: pd.Series) -> np.ndarray:
    """Each status as SENT, DELIVERED, READ or FAILED (-1 for anything else), as int8.

    Works on the category codes, so no Python string is made per row.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, names = column.cat.codes.to_numpy(), column.cat.categories
    else:
        codes, names = pd.factorize(column)
    lookup = np.array([_CODES.get(str(name), -1) for name in names] + [-1], dtype=np.int8)
    return lookup[codes]  # code -1 (missing) takes the last entry


def usable_statuses(statuses: pd.DataFrame, codes: np.ndarray | None = None) -> np.ndarray:
    """Mask of the statuses the lifecycle uses: group, message, time and a known status."""
    if codes is None:
        codes = _status_codes(statuses["status"])
    return (
        statuses["group_id"].notna().to_numpy()
        & statuses["message_id"].notna().to_numpy()
        & statuses["timestamp"].notna().to_numpy()
        & (codes >= 0)
    )


def _factorize_rows(column: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(column.iloc[rows])`` without copying the rows' strings first."""
    codes, uniques = pd.factorize(column)
    sub, used = pd.factorize(codes[rows])
    return sub, uniques.take(used)


def deliveries(archive: Any) -> pd.DataFrame:
    """The lifecycle of every (group message, participant), one row each.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive` (anything with ``statuses`` and ``membership``
        frames in the :mod:`groupkit.schema` layout).

    Returns
    -------
    pandas.DataFrame
        Columns as in :data:`DELIVERIES` (``group_id, message_id, participant_id,
        sent_at, delivered_at, read_at, failed_at, state, delivery_latency,
        read_latency, read_after_delivery, delivered_implied, member_at_send,
        error_code, error_title, pricing_category, biz_opaque_callback_data``),
        sorted by ``group_id, message_id, participant_id``.
        ``attrs`` counts what was ignored: ``duplicates_ignored`` (a status seen
        again with another timestamp; exact redeliveries are already gone in the
        loader), ``regressions_ignored`` (a status that arrived after a further one
        for the same receipt, e.g. ``delivered`` after ``read``),
        ``ignored_after_failed`` (``delivered``/``read`` of a failed message), and
        ``statuses_used``.

    Examples
    --------
    >>> import groupkit
    >>> hook = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
    ...     "field": "messages", "value": {"statuses": [
    ...         {"id": "wamid.A", "status": "read", "timestamp": "1760000009",
    ...          "recipient_id": "G", "recipient_type": "group",
    ...          "recipient_participant_id": "1650"},
    ...         {"id": "wamid.A", "status": "sent", "timestamp": "1760000000",
    ...          "recipient_id": "G", "recipient_type": "group"}]}}]}]}
    >>> frame = deliveries(groupkit.parse_webhooks([hook]))
    >>> frame[["participant_id", "state", "delivered_implied"]].values.tolist()
    [['1650', 'read', True]]
    >>> frame["read_latency"].iloc[0]
    Timedelta('0 days 00:00:09')
    """
    engine = implementation("deliveries", archive)
    if engine is not None:
        return engine(archive)
    out = _deliveries(archive)
    out.attrs[SUBJECTS_ATTR] = _subjects(archive)
    return out


def _deliveries(archive: Any) -> pd.DataFrame:
    statuses = archive.statuses
    membership = archive.membership
    # Participants a request failed to add or remove did not change who is a member.
    changed = membership["change"].isin(["join", "leave"]).to_numpy()
    if not changed.all():
        membership = membership.loc[changed].reset_index(drop=True)
    # The lifecycle works on integer codes and on the positions (`rows`) of the usable
    # statuses, and copies strings out of the archive only for the rows of the result:
    # a million-status archive must not be duplicated in memory on the way.
    code = _status_codes(statuses["status"])
    rows = np.flatnonzero(usable_statuses(statuses, code))
    n_rows = len(rows)
    if n_rows == 0:
        out = empty_deliveries()
        out.attrs.update(
            _counters(
                duplicates_ignored=0, regressions_ignored=0, ignored_after_failed=0, statuses_used=0
            )
        )
        return out

    status = code[rows]
    del code
    ts = _seconds(statuses["timestamp"])[rows]
    mid_codes, mids = _factorize_rows(statuses["message_id"], rows)
    n_msgs = len(mids)
    # groupkit.dask works group by group and passes the archive-wide map.
    phone_of = getattr(archive, "phone_by_bsuid", None)
    if phone_of is None:
        phone_of = _phone_by_bsuid(statuses, rows, membership)
    pid = pd.Series(statuses["participant_id"].array.take(rows))
    bsuid_only = (pid.isna().to_numpy()) & statuses["participant_user_id"].notna().to_numpy()[rows]
    if bsuid_only.any():  # only those rows need the BSUID -> phone lookup
        users = pd.Series(statuses["participant_user_id"].array.take(rows[bsuid_only]))
        pid[bsuid_only] = users.map(phone_of).astype(STR).fillna(users).to_numpy()
    mem_phone = membership["participant_user_id"].map(phone_of).astype(STR)
    mem_pid = (
        membership["participant_id"].fillna(mem_phone).fillna(membership["participant_user_id"])
    )
    # The participants of the statuses and of membership, as one set of codes.
    pid_codes, pid_uniques = pd.factorize(pid)
    del pid
    both_codes, pids = pd.factorize(
        pd.concat([pd.Series(pid_uniques, dtype=STR), mem_pid.astype(STR)], ignore_index=True)
    )
    mem_codes = both_codes[len(pid_uniques) :]

    # --- codes in output order -------------------------------------------------------
    # Messages are renumbered by (group, message id) and participants by id, so the
    # integer key m * base + p of a row sorts as the result does, and the rows come out
    # of sorted integer keys with no lexsort over strings at the end.  The participant
    # code `nobody` (after every real one) marks the one row of a message whose
    # recipients are unknown, so it sorts last.
    first_of_msg = _first_positions(mid_codes, n_msgs)
    msg_group = statuses["group_id"].array.take(rows[first_of_msg])
    group_codes, groups = pd.factorize(pd.Series(msg_group), sort=True)
    msg_order = np.lexsort((_ranks(mids), group_codes))
    mid_codes = _inverse(msg_order)[mid_codes]
    mids, msg_group, group_codes = (
        mids.take(msg_order),
        msg_group.take(msg_order),
        group_codes[msg_order],
    )
    pid_rank = _ranks(pids)  # the new code of each participant
    new_pid_code = np.append(pid_rank, -1)  # -1 (missing) stays -1
    pid_codes, mem_codes = new_pid_code[pid_codes], new_pid_code[mem_codes]
    pids = pids.take(_inverse(pid_rank))
    nobody = len(pids)
    base = nobody + 1
    has_pid = pid_codes >= 0

    # --- message level: sent, failed, first error, tracking data -----------------------
    biz_column = statuses["biz_opaque_callback_data"]
    biz_ok = biz_column.notna().to_numpy()[rows]
    biz_rows = rows[biz_ok]
    biz_first = _first_positions(mid_codes[biz_ok], n_msgs)
    msg_biz_row = np.full(n_msgs, -1, dtype=np.int64)  # row of each message's first data
    has_biz = biz_first < len(biz_rows)
    msg_biz_row[has_biz] = biz_rows[biz_first[has_biz]]
    del biz_ok, biz_rows, biz_first, has_biz
    is_sent = (status == SENT) & ~has_pid
    msg_fail = (status == FAILED) & ~has_pid
    sent_at = _min_by(mid_codes[is_sent], ts[is_sent], n_msgs)
    failed_at = _min_by(mid_codes[msg_fail], ts[msg_fail], n_msgs)
    first_any = _min_by(mid_codes, ts, n_msgs)
    duplicates = int(is_sent.sum()) - int((~np.isnan(sent_at)).sum())
    duplicates += int(msg_fail.sum()) - int((~np.isnan(failed_at)).sum())

    any_fail = status == FAILED
    err = pd.DataFrame(
        {
            "key": np.where(has_pid, mid_codes.astype(np.int64) * base + pid_codes, -1 - mid_codes)[
                any_fail
            ],
            "ts": ts[any_fail],
            "code": statuses["error_code"].array.take(rows[any_fail]),
            "title": statuses["error_title"].array.take(rows[any_fail]),
        }
    )
    err = err.sort_values(["key", "ts"], kind="stable").drop_duplicates("key").set_index("key")

    # --- participant level: one receipt per (message, participant) ----------------------
    part = np.flatnonzero(has_pid & (status != SENT))  # positions in `rows`, arrival order
    part_msg = mid_codes[part]
    part_key = part_msg.astype(np.int64) * base + pid_codes[part]
    rank = status[part]  # DELIVERED < READ < FAILED, so the code is the rank
    # Sorting the statuses by receipt (stably: arrival order within one) numbers the
    # receipts in key order and makes the per-receipt running max a single pass.
    by_receipt = np.argsort(part_key, kind="stable")
    sorted_keys = part_key[by_receipt]
    starts = _run_starts(sorted_keys)
    receipts = sorted_keys[starts]  # sorted, unique
    receipt_sorted = np.cumsum(starts) - 1
    del part_key, sorted_keys
    receipt = np.empty(len(part), dtype=np.int64)
    receipt[by_receipt] = receipt_sorted
    n_receipts = len(receipts)

    pts = ts[part]
    firsts = {}
    for name, value in (("delivered", DELIVERED), ("read", READ), ("failed", FAILED)):
        mask = rank == value
        firsts[name] = _min_by(receipt[mask], pts[mask], n_receipts)
        duplicates += int(mask.sum()) - int((~np.isnan(firsts[name])).sum())
    del receipt, pts

    # Regressions, in arrival order: a status below the furthest already seen for the
    # receipt.  Ranks are below 4 and receipts ascend in the sorted order, so adding
    # 4 * receipt makes one running max restart at each receipt.
    rank_sorted = rank[by_receipt].astype(np.int64)
    offset = receipt_sorted * 4
    seen = np.maximum.accumulate(offset + rank_sorted) - offset
    seen_before = np.empty_like(seen)
    seen_before[1:] = seen[:-1]
    seen_before[starts] = -1
    regressed = rank_sorted < seen_before
    del rank_sorted, offset, seen, seen_before
    # A group-level failed counts as seen for every participant of the message.
    fail_arrival = _min_by(mid_codes[msg_fail], np.flatnonzero(msg_fail), n_msgs)
    after_fail = (rank < FAILED) & (part > np.nan_to_num(fail_arrival, nan=n_rows)[part_msg])
    regressions = int((regressed | after_fail[by_receipt]).sum())
    ignored_after_failed = int(((rank < FAILED) & ~np.isnan(failed_at)[part_msg]).sum())
    del regressed, after_fail, fail_arrival

    # Pricing as category codes (-1 = none), the first reported per receipt in arrival
    # order; named only at the end.
    pricing_column = statuses["pricing_category"]
    pricing_cats = pricing_column.cat.categories
    pricing_sorted = pricing_column.cat.codes.to_numpy()[rows[part[by_receipt]]]
    priced = pricing_sorted >= 0
    priced_receipt = receipt_sorted[priced]
    first_priced = _run_starts(priced_receipt)
    receipt_pricing = np.full(n_receipts, -1, dtype=np.int64)
    receipt_pricing[priced_receipt[first_priced]] = pricing_sorted[priced][first_priced]
    del by_receipt, receipt_sorted, starts, pricing_sorted, priced, priced_receipt, first_priced
    del part, part_msg, rank

    # --- rows: every receipt, every member at send time (where membership is known),
    # and one `nobody` row for each message with neither ---------------------------------
    ref_time = np.where(
        np.isnan(sent_at), np.where(np.isnan(failed_at), first_any, failed_at), sent_at
    )
    pair_keys, pair_member, known_msgs = _members_at_send(
        membership, mem_codes, msg_group, ref_time, base
    )
    members = pair_keys[pair_member]
    has_row = np.zeros(n_msgs, dtype=bool)
    has_row[receipts // base] = True
    has_row[members // base] = True
    lonely = np.flatnonzero(~has_row) * base + nobody
    # Three sorted runs: a stable sort (timsort) merges them in linear time.
    keys = np.sort(np.concatenate([receipts, members, lonely]), kind="stable")
    keys = keys[_run_starts(keys)]  # a receipt may also be a member
    del members, has_row, lonely
    m, p = keys // base, keys % base
    receipt_row = np.searchsorted(keys, receipts)  # where each receipt's row is
    del receipts

    n_out = len(keys)

    def by_row(per_receipt: np.ndarray, missing: float) -> np.ndarray:
        """A per-receipt value on the rows (``missing`` on rows that are no receipt)."""
        out = np.full(n_out, missing, dtype=per_receipt.dtype)
        out[receipt_row] = per_receipt
        return out

    # Member at send: the pair's flag (False for a participant the group never had),
    # missing where the group has no membership webhooks and on `nobody` rows.
    member_known = known_msgs[m] & (p != nobody)
    member_value = _lookup(pair_keys, pair_member, keys, missing=False) & member_known
    member_at_send = pd.arrays.BooleanArray(member_value, ~member_known)
    del pair_keys, pair_member, member_value, member_known

    # --- assemble ---------------------------------------------------------------------
    msg_failed_at = failed_at[m]
    failed = np.where(np.isnan(msg_failed_at), by_row(firsts["failed"], np.nan), msg_failed_at)
    is_failed = ~np.isnan(failed)
    delivered_at = np.where(is_failed, np.nan, by_row(firsts["delivered"], np.nan))
    read_at = np.where(is_failed, np.nan, by_row(firsts["read"], np.nan))
    implied = np.isnan(delivered_at) & ~np.isnan(read_at)
    delivered_at = np.where(implied, read_at, delivered_at)
    sent = sent_at[m]
    state = np.select(
        [is_failed, ~np.isnan(read_at), ~np.isnan(delivered_at), p == nobody],
        [STATES.index(name) for name in ("failed", "read", "delivered", "sent")],
        STATES.index("pending"),
    )
    # A `nobody` row's key is no receipt's, so it only finds a message-level error.
    err_key = np.where(np.isnan(msg_failed_at), keys, -1 - m)
    pricing_codes = np.where(is_failed, -1, by_row(receipt_pricing, -1))
    del firsts, keys, msg_failed_at
    used_pricing = pd.Categorical.from_codes(
        pricing_codes, categories=pricing_cats
    ).remove_unused_categories()
    columns = {
        "group_id": pd.array(groups, dtype=STR).take(group_codes[m]),
        "message_id": pd.array(mids, dtype=STR).take(m),
        "participant_id": pd.array(pids, dtype=STR).take(
            np.where(p == nobody, -1, p), allow_fill=True
        ),
        "sent_at": _timestamps(sent),
        "delivered_at": _timestamps(delivered_at),
        "read_at": _timestamps(read_at),
        "failed_at": _timestamps(failed),
        "state": pd.Categorical.from_codes(state, categories=list(STATES)),
        "delivery_latency": _durations(delivered_at - sent),
        "read_latency": _durations(read_at - sent),
        "read_after_delivery": _durations(read_at - delivered_at),
        "delivered_implied": implied,
        "member_at_send": member_at_send,
        "error_code": err["code"].reindex(err_key).array.astype(INT),
        "error_title": err["title"].reindex(err_key).array.astype(STR),
        # Categories in sorted order, as from plain values.
        "pricing_category": used_pricing.set_categories(sorted(used_pricing.categories)),
        "biz_opaque_callback_data": biz_column.array.take(msg_biz_row[m], allow_fill=True),
    }
    out = _typed(pd.DataFrame({name: columns.pop(name) for name in DELIVERIES}))
    out.attrs.update(
        _counters(
            duplicates_ignored=duplicates,
            regressions_ignored=regressions,
            ignored_after_failed=ignored_after_failed,
            statuses_used=n_rows,
        )
    )
    return out
