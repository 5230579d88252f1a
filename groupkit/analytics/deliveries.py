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

from groupkit.analytics._backend import is_dask
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


def _first(keys: np.ndarray, ts: np.ndarray) -> pd.Series:
    """Earliest timestamp per integer key (index: key), as float seconds."""
    return pd.Series(ts, dtype="float64").groupby(keys, sort=False).min()


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
    msg_group: np.ndarray,
    ref_time: np.ndarray,
) -> pd.DataFrame:
    """(m, p, member) for every message of a group with membership webhooks.

    ``member`` says whether the participant's last membership change at or before the
    message's reference time was a join.  Pairs are all participants the group ever had.
    """
    mem = pd.DataFrame(
        {
            "group_id": membership["group_id"].to_numpy(),
            "p": member_codes,
            "join": (membership["change"].astype(STR) == "join").to_numpy(),
            "ts": _seconds(membership["timestamp"]),
        }
    )
    mem = mem[mem["group_id"].notna() & (mem["p"] >= 0) & ~np.isnan(mem["ts"])]
    msgs = pd.DataFrame({"m": np.arange(len(msg_group)), "group_id": msg_group, "ref": ref_time})
    msgs = msgs[msgs["group_id"].isin(mem["group_id"].unique()) & msgs["ref"].notna()]
    if msgs.empty:
        return pd.DataFrame({"m": [], "p": [], "member": []}, dtype="int64").astype(
            {"member": "bool"}
        )
    people = mem[["group_id", "p"]].drop_duplicates()
    pairs = msgs.merge(people, on="group_id")
    # One integer per (group, participant), without materialising tuples.
    groups = pd.Index(people["group_id"].unique())
    width = int(people["p"].max()) + 2

    def pair_key(frame: pd.DataFrame) -> np.ndarray:
        code = groups.get_indexer(frame["group_id"]).astype(np.int64)
        return code * width + frame["p"].to_numpy(dtype=np.int64)

    pairs["gp"] = pair_key(pairs)
    mem = mem.assign(gp=pair_key(mem))
    pairs = pairs.sort_values("ref", kind="stable")
    mem = mem.sort_values("ts", kind="stable")
    joined = pd.merge_asof(pairs, mem[["gp", "ts", "join"]], left_on="ref", right_on="ts", by="gp")
    member = joined["join"].fillna(False).astype("bool")
    return pd.DataFrame({"m": joined["m"], "p": joined["p"], "member": member})


def _phone_by_bsuid(statuses: pd.DataFrame, rows: np.ndarray, membership: pd.DataFrame):
    """BSUID -> phone, from rows that carry both, so a BSUID-only status joins its phone.

    The first pair of each BSUID wins: the statuses' ``rows`` in reading order, then
    membership.  Only one row per BSUID is copied out of the (large) statuses.
    """
    users, phones = statuses["participant_user_id"], statuses["participant_id"]
    both = rows[(users.notna() & phones.notna()).to_numpy()[rows]]
    user_codes = pd.factorize(users)[0][both]
    first = both[np.unique(user_codes, return_index=True)[1]]
    first.sort()  # reading order, as the membership pairs come after
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
    if is_dask(archive):
        from groupkit.dask.analytics import deliveries as dask_deliveries

        return dask_deliveries(archive)
    statuses = archive.statuses
    membership = archive.membership
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
    arrival = np.arange(n_rows)
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
    # Codes in order of first appearance over statuses then membership, as one
    # factorize of both would give, without concatenating a million strings.
    pid_codes, pid_uniques = pd.factorize(pid)
    del pid
    both_codes, pids = pd.factorize(
        pd.concat([pd.Series(pid_uniques, dtype=STR), mem_pid.astype(STR)], ignore_index=True)
    )
    mem_codes = both_codes[len(pid_uniques) :]
    base = len(pids) + 1
    has_pid = pid_codes >= 0

    # --- message level: group, sent, failed, first error, tracking data ------------------
    first_of_msg = np.unique(mid_codes, return_index=True)[1]  # codes are 0..n_msgs-1
    msg_group = statuses["group_id"].array.take(rows[first_of_msg])
    biz_column = statuses["biz_opaque_callback_data"]
    biz_ok = biz_column.notna().to_numpy()[rows]
    biz_msgs, biz_first = np.unique(mid_codes[biz_ok], return_index=True)
    msg_biz_row = np.full(n_msgs, -1, dtype=np.int64)  # row of each message's first data
    msg_biz_row[biz_msgs] = rows[biz_ok][biz_first]
    is_sent = (status == SENT) & ~has_pid
    msg_fail = (status == FAILED) & ~has_pid
    sent_at = _first(mid_codes[is_sent], ts[is_sent]).reindex(range(n_msgs))
    failed_at = _first(mid_codes[msg_fail], ts[msg_fail]).reindex(range(n_msgs))
    first_any = _first(mid_codes, ts).reindex(range(n_msgs))
    duplicates = int(is_sent.sum()) - int(sent_at.notna().sum())
    duplicates += int(msg_fail.sum()) - int(failed_at.notna().sum())

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

    # --- participant level: earliest delivered / read / failed per receipt ---------------
    part = has_pid & (status != SENT)
    pkey = mid_codes[part].astype(np.int64) * base + pid_codes[part]
    rank = status[part]  # DELIVERED < READ < FAILED, so the code is the rank
    pts = ts[part]
    firsts = {}
    for name, value in (("delivered", DELIVERED), ("read", READ), ("failed", FAILED)):
        mask = rank == value
        firsts[name] = _first(pkey[mask], pts[mask])
        duplicates += int(mask.sum()) - len(firsts[name])

    # Regressions, in arrival order: a status below the furthest already seen for the
    # receipt; a group-level failed counts as seen for every participant of the message.
    seen = pd.Series(rank).groupby(pkey, sort=False).cummax()
    seen_before = seen.groupby(pkey, sort=False).shift(1).to_numpy()
    regressed = rank < np.nan_to_num(seen_before, nan=-1)
    fail_arrival = _first(mid_codes[msg_fail], arrival[msg_fail]).reindex(mid_codes[part])
    regressed |= (rank < FAILED) & (arrival[part] > fail_arrival.fillna(n_rows).to_numpy())
    failed_msgs = failed_at.notna().to_numpy()[mid_codes[part]]
    ignored_after_failed = int(((rank < FAILED) & failed_msgs).sum())
    del seen, seen_before, fail_arrival, failed_msgs

    # Pricing as category codes (-1 = none), named only at the end.
    pricing_column = statuses["pricing_category"]
    pricing_cats = pricing_column.cat.categories
    pricing = pricing_column.cat.codes.to_numpy()[rows][part]
    priced = pricing >= 0
    receipt_pricing = pd.Series(pricing[priced]).groupby(pkey[priced], sort=False).first()

    # --- recipients: members at send time (where known) plus whoever reported ------------
    reported = pd.DataFrame({"key": np.unique(pkey)})
    del pkey, pts, rank, pricing, priced
    reported["m"] = reported["key"] // base
    reported["p"] = reported["key"] % base
    reported["reported"] = True
    ref_time = sent_at.fillna(failed_at).fillna(first_any).to_numpy()
    members = _members_at_send(membership, mem_codes, msg_group, ref_time)
    pairs = reported[["m", "p", "reported"]].merge(members, on=["m", "p"], how="outer")
    del reported
    pairs["reported"] = pairs["reported"].fillna(False).astype("bool")
    known_msgs = np.zeros(n_msgs, dtype=bool)
    known_msgs[members["m"].to_numpy(dtype=np.int64)] = True
    known = known_msgs[pairs["m"].to_numpy(dtype=np.int64)]
    member = pairs["member"].astype(BOOL)
    member = member.where(~known | member.notna(), False).where(known, pd.NA)
    pairs["member_at_send"] = member
    pairs = pairs[pairs["reported"] | member.fillna(False).astype("bool")]
    lonely = np.setdiff1d(np.arange(n_msgs), pairs["m"].to_numpy(dtype=np.int64))
    m = np.concatenate([pairs["m"].to_numpy(dtype=np.int64), lonely])
    p = np.concatenate([pairs["p"].to_numpy(dtype=np.int64), np.full(len(lonely), -1)])
    member_at_send = pd.concat(
        [pairs["member_at_send"], pd.Series(pd.array([pd.NA] * len(lonely), dtype=BOOL))],
        ignore_index=True,
    )
    del pairs, member, known, members

    # --- assemble ---------------------------------------------------------------------
    # Sorted by group, message, participant (missing last) on integer ranks, and the
    # string columns taken from their uniques, so no million-row object arrays are made.
    group_codes, groups = pd.factorize(pd.Series(msg_group), sort=True)
    mid_rank = _ranks(mids)
    pid_rank = np.append(_ranks(pids), len(pids))  # p == -1 (no participant) sorts last
    order = np.lexsort((pid_rank[p], mid_rank[m], group_codes[m]))
    m, p = m[order], p[order]
    member_at_send = member_at_send.array.take(order)
    key = np.where(p >= 0, m * base + p, -1)
    msg_failed_at = failed_at.to_numpy()[m]
    p_failed_at = firsts["failed"].reindex(key).to_numpy()
    failed = np.where(np.isnan(msg_failed_at), p_failed_at, msg_failed_at)
    is_failed = ~np.isnan(failed)
    delivered_at = firsts["delivered"].reindex(key).to_numpy()
    read_at = firsts["read"].reindex(key).to_numpy()
    delivered_at = np.where(is_failed, np.nan, delivered_at)
    read_at = np.where(is_failed, np.nan, read_at)
    implied = np.isnan(delivered_at) & ~np.isnan(read_at)
    delivered_at = np.where(implied, read_at, delivered_at)
    sent = sent_at.to_numpy()[m]
    state = np.select(
        [is_failed, ~np.isnan(read_at), ~np.isnan(delivered_at), p < 0],
        [STATES.index(name) for name in ("failed", "read", "delivered", "sent")],
        STATES.index("pending"),
    )
    err_key = np.where(~np.isnan(msg_failed_at), -1 - m, key)
    pricing_codes = np.where(
        is_failed, -1, receipt_pricing.reindex(key).fillna(-1).to_numpy("int64")
    )
    del firsts, key, p_failed_at, msg_failed_at
    used_pricing = pd.Categorical.from_codes(
        pricing_codes, categories=pricing_cats
    ).remove_unused_categories()
    columns = {
        "group_id": pd.array(groups, dtype=STR).take(group_codes[m]),
        "message_id": pd.array(mids, dtype=STR).take(m),
        "participant_id": pd.array(pids, dtype=STR).take(p, allow_fill=True),
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
            regressions_ignored=int(regressed.sum()),
            ignored_after_failed=ignored_after_failed,
            statuses_used=n_rows,
        )
    )
    return out
