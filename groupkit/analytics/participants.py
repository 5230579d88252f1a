"""Who is reading: one row per (group, participant), and every recipient of one message.

:func:`participants` answers "who reads what I send to this group, and who has gone
quiet"; :func:`message_receipts` answers "who has not read this message".  Both
stand on :func:`groupkit.deliveries`, so their counts are the funnel's: a
participant's ``messages`` are their receipts (a member at send time, per membership
webhooks, or a participant that reported where the archive lacks the group's
membership), and the sum over a group's participants of ``read`` is the group's
``read`` in :func:`groupkit.funnel` (less the receipts of messages whose recipients
are unknown).  A person seen by phone number in one webhook and by business-scoped
user id in another is one participant: see :mod:`groupkit.analytics.people`.

Examples
--------
>>> from groupkit.analytics.participants import RECEIPT_STATES
>>> RECEIPT_STATES
('pending', 'delivered', 'left', 'failed', 'read')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from groupkit.analytics._backend import refuse_dask
from groupkit.analytics.deliveries import deliveries
from groupkit.analytics.names import name_groups
from groupkit.analytics.people import People, identities
from groupkit.exceptions import GroupkitError

__all__ = ["RECEIPT_STATES", "message_receipts", "participants", "receipt_table"]

# Who has not read comes first: the order message_receipts sorts in.
RECEIPT_STATES = ("pending", "delivered", "left", "failed", "read")
_RANK = {"pending": 0, "sent": 0, "delivered": 1, "read": 2, "failed": 3}
_TS = "datetime64[s, UTC]"


def _by_person(frame: pd.DataFrame, people: People) -> pd.DataFrame:
    """Receipts with ``participant_id`` replaced by the person's key, one row per
    (message, person): two ids of one person on one message merge into the furthest
    state and the earliest times."""
    frame = frame[frame["participant_id"].notna()]
    frame = frame.assign(participant_id=people.keys(frame["participant_id"]))
    keys = ["group_id", "message_id", "participant_id"]
    twice = frame.duplicated(keys, keep=False)
    if not twice.any():
        return frame.reset_index(drop=True)
    dup = frame[twice].copy()
    dup["rank"] = dup["state"].astype("str").map(_RANK)
    dup = dup.sort_values("rank", ascending=False, kind="stable")
    firsts = ["delivered_at", "read_at", "failed_at", "delivery_latency", "read_latency"]
    merged = dup.groupby(keys, sort=False, observed=True).agg(
        {
            **{c: "first" for c in frame.columns if c not in keys and c not in firsts},
            **dict.fromkeys(firsts, "min"),
        }
    )
    merged["member_at_send"] = (
        dup.groupby(keys, sort=False)["member_at_send"].max().reindex(merged.index)
    )
    merged = merged.reset_index()[list(frame.columns)]
    out = pd.concat([frame[~twice], merged.astype(frame.dtypes.to_dict())], ignore_index=True)
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def _membership(archive: Any, people: People) -> pd.DataFrame:
    """Joins and leaves keyed by person, in time order (later rows win at one second)."""
    membership = archive.membership
    membership = membership[
        membership["change"].isin(["join", "leave"])
        & membership["group_id"].notna()
        & membership["timestamp"].notna()
    ]
    who = membership["participant_id"].fillna(membership["participant_user_id"])
    out = pd.DataFrame(
        {
            "group_id": membership["group_id"].astype("str"),
            "participant_id": who.astype("str"),
            "change": membership["change"].astype("str"),
            "timestamp": membership["timestamp"],
        }
    ).dropna(subset=["participant_id"])
    out["participant_id"] = people.keys(out["participant_id"])
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _inbound(archive: Any, people: People) -> pd.DataFrame:
    messages = archive.messages
    kind = messages["type"].astype("str")
    messages = messages[messages["group_id"].notna() & (kind != "system")]
    who = messages["from_id"].fillna(messages["from_user_id"])
    kind = messages["type"].astype("str")
    emoji = messages["reaction_emoji"].fillna("")
    out = pd.DataFrame(
        {
            "group_id": messages["group_id"].astype("str"),
            "participant_id": who.astype("str"),
            "reaction": (kind == "reaction").to_numpy(),
            "counted_reaction": ((kind == "reaction") & (emoji != "")).to_numpy(),
        }
    ).dropna(subset=["participant_id"])
    out["participant_id"] = people.keys(out["participant_id"])
    return out


def participants(archive: Any, *, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (group, participant) the archive knows of: what they got, read and said.

    A participant is anyone a group's membership webhooks, receipts or inbound
    messages name.  A person seen by phone number in one webhook and by
    business-scoped user id (BSUID) in another is one row where the archive links the
    two: a status that carries both ids, a ``contacts[]`` entry (``wa_id`` with
    ``user_id``), a message's ``from`` with ``from_user_id``, a membership change or
    join request with both, or a system message (``user_changed_number`` links the
    old number to ``new_wa_id``; ``user_changed_user_id`` and
    ``user_identity_changed`` link ``user_id``).  The row is keyed by the person's
    current phone number, else their BSUID (rules in
    :mod:`groupkit.analytics.people`).

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive` (a Dask archive is refused: compute it first).
    frame
        Its :func:`groupkit.deliveries`, when already computed.

    Returns
    -------
    pandas.DataFrame
        ``group`` (the group's name) first and the full ``group_id`` last; between them
        ``participant_id`` (phone, else BSUID), ``name`` (the latest contact name any
        webhook gave), ``user_id`` (their BSUID, when known), ``member`` (a member at
        the archive's end per membership webhooks; missing without them),
        ``joined_at`` (first join the archive saw; missing when they were a member
        before it began), ``left_at`` (their last leave, when they have not joined
        again since), ``messages`` (their receipts: business messages sent to the
        group while they were a member), ``delivered`` (read included), ``read``,
        ``failed``, ``pending``, ``read_rate`` (``read / messages``, as the funnel's),
        ``read_p50`` (median time from send to their read, a Timedelta),
        ``last_read_at``, ``replies`` (messages they posted in the group, reactions
        and system messages aside), ``reactions`` (reactions they posted; a removal,
        with no emoji, is not counted), ``silent_streak`` (how many of the latest
        business messages they got, counted back from the newest, they have not
        read; failed messages are skipped) and ``ids`` (every id linked to them).
        Sorted by group, then participant.

    Examples
    --------
    >>> import groupkit
    >>> def status(kind, at, who=None):
    ...     row = {"id": "wamid.A", "status": kind, "timestamp": str(1760000000 + at),
    ...            "recipient_id": "G", "recipient_type": "group"}
    ...     return {**row, "recipient_participant_id": who} if who else row
    >>> hook = {"entry": [{"changes": [{"field": "messages", "value": {"statuses": [
    ...     status("sent", 0), status("read", 60, "1650"), status("delivered", 5, "1651")]}}]}]}
    >>> out = participants(groupkit.parse_webhooks([hook]))
    >>> out[["participant_id", "messages", "read", "silent_streak"]].values.tolist()
    [['1650', 1, 1, 0], ['1651', 1, 0, 1]]
    >>> out["read_p50"].iloc[0]
    Timedelta('0 days 00:01:00')
    """
    refuse_dask(archive, "groupkit.participants")
    people = identities(archive)
    frame = deliveries(archive) if frame is None else frame
    receipts = _by_person(frame, people)
    keys = ["group_id", "participant_id"]
    state = receipts["state"].astype("str")
    table = receipts[keys].assign(
        messages=1,
        delivered=state.isin(["delivered", "read"]).to_numpy(),
        read=(state == "read").to_numpy(),
        failed=(state == "failed").to_numpy(),
        pending=state.isin(["pending", "sent"]).to_numpy(),
        read_s=receipts["read_latency"].dt.total_seconds(),
        read_at=receipts["read_at"],
    )
    counts = table.groupby(keys, sort=True).agg(
        messages=("messages", "sum"),
        delivered=("delivered", "sum"),
        read=("read", "sum"),
        failed=("failed", "sum"),
        pending=("pending", "sum"),
        read_p50_s=("read_s", "median"),
        last_read_at=("read_at", "max"),
    )
    counts["silent_streak"] = _silent_streaks(receipts)

    changes = _membership(archive, people)
    joins = changes[changes["change"] == "join"].groupby(keys)["timestamp"].min()
    last = changes.drop_duplicates(keys, keep="last").set_index(keys)
    left = last["timestamp"].where(last["change"] == "leave")
    member = last["change"] == "join"
    groups_known = set(changes["group_id"])

    inbound = _inbound(archive, people)
    said = inbound.groupby(keys).agg(
        replies=("reaction", lambda s: int((~s).sum())),
        reactions=("counted_reaction", "sum"),
    )

    index = counts.index.union(last.index).union(said.index)
    index = index.sortlevel()[0] if len(index) else pd.MultiIndex.from_tuples([], names=keys)
    out = pd.DataFrame(index=index)
    for name in ("messages", "delivered", "read", "failed", "pending", "silent_streak"):
        out[name] = counts[name].reindex(index).fillna(0).astype("int64")
    out["read_rate"] = (out["read"] / out["messages"].where(out["messages"] > 0)).astype("float64")
    # Milliseconds: the median of an even count of whole seconds may end in a half.
    read_p50 = pd.to_timedelta(counts["read_p50_s"].reindex(index), unit="s")
    out["read_p50"] = read_p50.astype("timedelta64[ms]")
    out["last_read_at"] = counts["last_read_at"].reindex(index).astype(_TS)
    out["joined_at"] = joins.reindex(index).astype(_TS)
    out["left_at"] = left.reindex(index).astype(_TS)
    group_of = index.get_level_values("group_id")
    known = np.asarray([g in groups_known for g in group_of], dtype=bool)
    is_member = member.reindex(index).fillna(False).astype("bool").to_numpy()
    out["member"] = pd.arrays.BooleanArray(is_member, ~known)
    out["replies"] = said["replies"].reindex(index).fillna(0).astype("int64")
    out["reactions"] = said["reactions"].reindex(index).fillna(0).astype("int64")
    out = out.reset_index()
    pid = out["participant_id"]
    out["name"] = pid.map(people.name).astype("str")
    out["user_id"] = pid.map(people.user_id).astype("str")
    out["ids"] = pid.map(lambda k: ", ".join(people.ids.get(k, [k]))).astype("str")
    out["group_id"] = out["group_id"].astype("str")
    out["participant_id"] = pid.astype("str")
    columns = [
        "group_id", "participant_id", "name", "user_id", "member", "joined_at", "left_at",
        "messages", "delivered", "read", "failed", "pending", "read_rate", "read_p50",
        "last_read_at", "replies", "reactions", "silent_streak", "ids",
    ]  # fmt: skip
    return name_groups(out[columns].reset_index(drop=True), archive)


def _silent_streaks(receipts: pd.DataFrame) -> pd.Series:
    """Per (group, participant): unread receipts counted back from the newest until a read."""
    state = receipts["state"].astype("str")
    live = receipts[(state != "failed").to_numpy()]
    when = live["sent_at"].fillna(live["failed_at"])
    ordered = live.assign(when=when, is_read=(live["state"].astype("str") == "read").to_numpy())
    ordered = ordered.sort_values(
        ["group_id", "participant_id", "when", "message_id"],
        ascending=[True, True, False, False],
        kind="stable",
    )
    reads_so_far = ordered.groupby(["group_id", "participant_id"])["is_read"].cumsum()
    silent = (reads_so_far == 0).groupby([ordered["group_id"], ordered["participant_id"]]).sum()
    return silent.astype("int64")


_RECEIPT_COLUMNS = [
    "participant_id", "name", "state", "sent_at", "delivered_at", "read_at", "left_at",
    "failed_at", "delivery_latency", "read_latency", "member_at_send", "error_code",
    "error_title", "user_id", "group_id", "message_id",
]  # fmt: skip


def _left_after(receipts: pd.DataFrame, changes: pd.DataFrame) -> pd.Series:
    """Each receipt's first leave of its group at or after the message's time."""
    when = receipts["sent_at"].fillna(receipts["failed_at"])
    left = pd.Series(pd.NaT, index=receipts.index, dtype=_TS)
    leaves = changes[changes["change"] == "leave"]
    known = when.notna()
    if leaves.empty or not known.any():
        return left
    probe = pd.DataFrame(
        {
            "row": receipts.index[known],
            "group_id": receipts.loc[known, "group_id"].astype("str").to_numpy(),
            "participant_id": receipts.loc[known, "participant_id"].astype("str").to_numpy(),
            "at": when[known].astype(_TS).to_numpy(),
        }
    ).sort_values("at", kind="stable")
    leaves = leaves.rename(columns={"timestamp": "left_at"})[
        ["group_id", "participant_id", "left_at"]
    ].astype({"left_at": _TS})
    found = pd.merge_asof(
        probe,
        leaves.sort_values("left_at", kind="stable"),
        left_on="at",
        right_on="left_at",
        by=["group_id", "participant_id"],
        direction="forward",
    )
    # .array keeps the UTC zone: pandas 3.0 refuses naive datetimes in a UTC column.
    left.loc[found["row"].to_numpy()] = found["left_at"].array
    return left


def receipt_table(archive: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`message_receipts` of every message of ``frame`` (rows of deliveries), in
    ``group_id, message_id, participant_id`` order: what ``groupkit export`` writes.

    Examples
    --------
    >>> import groupkit
    >>> archive = groupkit.parse_webhooks([])
    >>> list(receipt_table(archive, groupkit.deliveries(archive)).columns)[:3]
    ['participant_id', 'name', 'state']
    """
    people = identities(archive)
    receipts = _by_person(frame, people)
    left = _left_after(receipts, _membership(archive, people))
    state = receipts["state"].astype("str").replace({"sent": "pending"})
    state = state.where(~(left.notna() & state.isin(["pending", "delivered"])), "left")
    out = receipts.assign(
        state=pd.Categorical(state, categories=list(RECEIPT_STATES)),
        left_at=left.array,
        name=receipts["participant_id"].map(people.name).astype("str"),
        user_id=receipts["participant_id"].map(people.user_id).astype("str"),
    )
    return out[_RECEIPT_COLUMNS].reset_index(drop=True)


def message_receipts(archive: Any, message_id: str, *, frame: pd.DataFrame | None = None):
    """Every recipient of one business message, with their state and times.

    The recipients are the members at send time (per membership webhooks) and any
    participant that reported a receipt; where the archive lacks the group's
    membership, only those that reported.  A person seen by phone and by BSUID is one
    row (see :func:`groupkit.participants`).

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive` (a Dask archive is refused).
    message_id
        The business message (``wamid.``), e.g. one of
        ``groupkit.read_coverage(archive)["message_id"]``.
    frame
        The archive's :func:`groupkit.deliveries`, when already computed.

    Returns
    -------
    pandas.DataFrame
        ``participant_id``, ``name``, ``state`` (:data:`RECEIPT_STATES`: ``pending``
        -- nothing reported yet; ``delivered`` -- delivered, not read; ``left`` --
        left the group after the send without reading it; ``failed`` -- the send
        failed; ``read``), ``sent_at``, ``delivered_at``, ``read_at``, ``left_at``,
        ``failed_at``, ``delivery_latency``, ``read_latency``, ``member_at_send``,
        ``error_code``, ``error_title``, ``user_id``, then ``group_id`` and
        ``message_id``.  Who has not read comes first (in the order of
        :data:`RECEIPT_STATES`), then by name.  ``attrs["recipients_unknown"]`` is
        true when the archive cannot tell who the message went to (no membership,
        nobody reported).

    Raises
    ------
    GroupkitError
        When the archive holds no status of ``message_id``.

    Examples
    --------
    >>> import groupkit
    >>> def status(kind, at, who=None):
    ...     row = {"id": "wamid.A", "status": kind, "timestamp": str(1760000000 + at),
    ...            "recipient_id": "G", "recipient_type": "group"}
    ...     return {**row, "recipient_participant_id": who} if who else row
    >>> hook = {"entry": [{"changes": [{"field": "messages", "value": {"statuses": [
    ...     status("sent", 0), status("read", 60, "1650"), status("delivered", 5, "1651")]}}]}]}
    >>> out = message_receipts(groupkit.parse_webhooks([hook]), "wamid.A")
    >>> out[["participant_id", "state"]].values.tolist()
    [['1651', 'delivered'], ['1650', 'read']]
    """
    refuse_dask(archive, "groupkit.message_receipts")
    frame = deliveries(archive) if frame is None else frame
    rows = frame[frame["message_id"] == message_id]
    if rows.empty:
        raise GroupkitError(
            f"the archive holds no status of business message {message_id!r}; pick one of "
            "groupkit.read_coverage(archive)['message_id']"
        )
    out = receipt_table(archive, rows)
    out = out.sort_values(["state", "name", "participant_id"], kind="stable", na_position="last")
    out = out.reset_index(drop=True)
    out.attrs["recipients_unknown"] = bool(rows["participant_id"].isna().all())
    return out
