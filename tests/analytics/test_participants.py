"""participants() and message_receipts(): hand-computed cases and the simulator's truth.

The hand-built archive can be worked out on paper (the fixture's docstring does it);
the simulated archives are checked against ``Simulation.truth``, which comes from the
model's records, never from reading the archive back.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import groupkit
from groupkit.analytics.people import identities
from groupkit.exceptions import GroupkitError
from groupkit.simulate import simulate_archive
from tests.analytics.tiny import GROUP, T0, at, frame, make_archive, member, status

A, B, C, D = "16505550001", "16505550002", "16505550003", "16505550004"
B_BSUID = "US.22222222222222222222"


def inbound(mid: str, who: str, ts: int, kind: str = "text", **extra) -> dict:
    return {
        "message_id": mid,
        "group_id": GROUP,
        "from_id": who,
        "type": kind,
        "timestamp": T0 + ts,
        **extra,
    }


@pytest.fixture
def archive():
    """One group, four members, five business messages.

    Membership: A, B, D join at -1000; C joins at 150 (after m1 and m2); D leaves at
    250 (after m1 and m2).  Sends: m1 at 0, m2 at 100, m3 at 300, m4 at 400, and m5
    at 500, which fails for the whole group.

    =====  ===========  ===========  ===========  ==========================
    who    m1 (0)       m2 (100)     m3 (300)     m4 (400)
    =====  ===========  ===========  ===========  ==========================
    A      read at 60   read at 220  delivered    delivered
    B      delivered    read at 130  (nothing)    read at 460, by BSUID only
    C      (not yet)    (not yet)    read at 320  (nothing)
    D      read at 10   (nothing)    (left)       (left)
    =====  ===========  ===========  ===========  ==========================

    B's BSUID is linked to B's phone only by the ``contacts[]`` of B's inbound message.
    Inbound: A posts two texts and a system message; B a text and a reaction; C
    removes a reaction (no emoji).
    """
    statuses = [status(f"wamid.m{n}", "sent", t) for n, t in enumerate([0, 100, 300, 400], 1)]
    statuses += [
        status("wamid.m1", "read", 60, A),
        status("wamid.m2", "read", 220, A),
        status("wamid.m3", "delivered", 305, A),
        status("wamid.m4", "delivered", 405, A),
        status("wamid.m1", "delivered", 3, B),
        status("wamid.m2", "read", 130, B),
        status("wamid.m4", "read", 460, None, participant_user_id=B_BSUID),
        status("wamid.m3", "read", 320, C),
        status("wamid.m1", "read", 10, D),
        status("wamid.m5", "sent", 500),
        status("wamid.m5", "failed", 501, error_code=131026, error_title="Undeliverable"),
    ]
    membership = [member(p, "join", -1000) for p in (A, B, D)]
    membership += [member(C, "join", 150), member(D, "leave", 250)]
    messages = [
        inbound("wamid.i1", A, 20, contact_wa_id=A, contact_name="Ana"),
        inbound("wamid.i2", A, 320),
        inbound("wamid.i3", B, 140, contact_wa_id=B, contact_user_id=B_BSUID, contact_name="Bea"),
        inbound("wamid.i4", B, 150, "reaction", reaction_emoji="\U0001f44d"),
        inbound("wamid.i5", C, 330, "reaction", reaction_emoji=""),
        inbound("wamid.i6", A, 340, "system", system_type="user_identity_changed"),
    ]
    return make_archive(statuses, membership, messages=messages)


def test_a_hand_computed_group_of_joins_leaves_replies_and_silence(archive):
    out = groupkit.participants(archive).set_index("participant_id")
    assert list(out.index) == [A, B, C, D]
    expected = pd.DataFrame(
        {
            #               A      B      C      D
            "messages": [5, 5, 3, 2],  # m1-m5; m1-m5 (m4 via BSUID); m3-m5; m1-m2
            "delivered": [4, 3, 1, 1],
            "read": [2, 2, 1, 1],
            "failed": [1, 1, 1, 0],  # m5 failed for every member at its send
            "pending": [0, 1, 1, 1],  # B m3; C m4; D m2
            "silent_streak": [2, 0, 1, 1],  # A m4, m3 unread (m5 failed, skipped)
            "replies": [2, 1, 0, 0],  # the system message is no reply
            "reactions": [0, 1, 0, 0],  # a removed reaction is not counted
        },
        index=pd.Index([A, B, C, D], name="participant_id"),
    )
    pd.testing.assert_frame_equal(out[expected.columns], expected)
    assert out["read_rate"].tolist() == [2 / 5, 2 / 5, 1 / 3, 1 / 2]
    # Read latency from send: A 60 s and 120 s; B 30 s and 60 s; C 20 s; D 10 s.
    assert out["read_p50"].tolist() == pd.to_timedelta([90, 45, 20, 10], unit="s").tolist()
    assert out["last_read_at"].tolist() == [at(220), at(460), at(320), at(10)]
    assert out["joined_at"].tolist() == [at(-1000), at(-1000), at(150), at(-1000)]
    assert out["left_at"].isna().tolist() == [True, True, True, False]
    assert out.loc[D, "left_at"] == at(250)
    assert out["member"].tolist() == [True, True, True, False]
    assert out.loc[A, "name"] == "Ana" and out.loc[B, "name"] == "Bea"
    assert pd.isna(out.loc[C, "name"])
    assert out.loc[B, "user_id"] == B_BSUID
    assert out.loc[B, "ids"] == f"{B}, {B_BSUID}"
    assert out["group_id"].unique().tolist() == [GROUP]
    assert out.dtypes["read_p50"] == "timedelta64[ms]"


def test_without_the_contact_the_bsuid_is_someone_else(archive):
    """The link comes from the contacts entry: drop it and the BSUID read is a stranger."""
    archive.messages.loc[archive.messages["message_id"] == "wamid.i3", "contact_user_id"] = None
    out = groupkit.participants(archive).set_index("participant_id")
    assert out.loc[B, "read"] == 1 and out.loc[B, "pending"] == 2
    assert out.loc[B_BSUID, "read"] == 1 and out.loc[B_BSUID, "messages"] == 1


def test_group_counts_add_up_to_the_funnel_but_for_the_contact_link(archive):
    out = groupkit.participants(archive)
    funnel = groupkit.funnel(archive).iloc[0]
    assert out["read"].sum() == funnel["read"]
    assert out["failed"].sum() == funnel["failed"]
    # deliveries() pairs a BSUID with a phone from statuses and membership only, so it
    # keeps B's pending member row for m4 beside the BSUID read; participants() merges
    # them through the contacts entry: one receipt fewer, one pending fewer.
    assert out["messages"].sum() == funnel["recipients"] - 1
    assert out["pending"].sum() == funnel["pending"] - 1


def test_who_has_not_read_a_message(archive):
    out = groupkit.message_receipts(archive, "wamid.m2").set_index("participant_id")
    # m2 at 100: A, B, D were members (C joined at 150); D left at 250 without reading.
    assert out["state"].astype(str).to_dict() == {D: "left", A: "read", B: "read"}
    assert out.loc[D, "left_at"] == at(250)
    assert out.loc[A, "read_at"] == at(220) and out.loc[B, "read_at"] == at(130)
    assert out.loc[A, "name"] == "Ana"

    m4 = groupkit.message_receipts(archive, "wamid.m4")
    # Not read first: C pending, A delivered; then B, who read by BSUID only.
    assert m4[["participant_id", "state"]].astype(str).values.tolist() == [
        [C, "pending"],
        [A, "delivered"],
        [B, "read"],
    ]
    m5 = groupkit.message_receipts(archive, "wamid.m5")
    assert set(m5["state"].astype(str)) == {"failed"} and set(m5["participant_id"]) == {A, B, C}
    assert m5["error_code"].tolist() == [131026] * 3


def test_an_unknown_message_says_where_to_find_one(archive):
    with pytest.raises(GroupkitError, match="read_coverage"):
        groupkit.message_receipts(archive, "wamid.nope")


def test_a_number_change_makes_one_participant_under_the_new_number():
    old, new = "16505550100", "16505550199"
    archive = make_archive(
        [
            status("wamid.m1", "sent", 0),
            status("wamid.m1", "read", 10, old),
            status("wamid.m2", "sent", 200),
            status("wamid.m2", "read", 230, new),
        ],
        messages=[
            {
                "message_id": "wamid.s",
                "from_id": old,
                "type": "system",
                "timestamp": T0 + 100,
                "system_type": "user_changed_number",
                "system_wa_id": old,
                "system_new_wa_id": new,
            }
        ],
    )
    people = identities(archive)
    assert people.key[old] == people.key[new] == new
    out = groupkit.participants(archive)
    assert out["participant_id"].tolist() == [new]
    assert (out["messages"].iloc[0], out["read"].iloc[0]) == (2, 2)


def test_a_dask_archive_is_refused_with_what_to_do():
    fake = type("LazyFrame", (), {"__dask_graph__": lambda self: {}})()
    with pytest.raises(GroupkitError, match="read_webhooks"):
        groupkit.participants(fake)


# --- the simulator's truth ------------------------------------------------------------


def _truth_participants(truth) -> pd.DataFrame:
    """Per (group, participant), from the truth frames with plain Python."""
    rows = {}
    receipts = truth.deliveries[truth.deliveries["participant_id"].notna()]
    for (gid, pid), part in receipts.groupby(["group_id", "participant_id"]):
        live = part[part["state"] != "failed"].sort_values(
            ["sent_at", "message_id"], ascending=False
        )
        streak = 0
        for state in live["state"]:
            if state == "read":
                break
            streak += 1
        reads = part["read_latency"].dropna().dt.total_seconds()
        rows[(gid, pid)] = {
            "messages": len(part),
            "read": int((part["state"] == "read").sum()),
            "failed": int((part["state"] == "failed").sum()),
            "silent_streak": streak,
            "read_p50_s": float(np.median(reads)) if len(reads) else np.nan,
        }
    for (gid, pid), part in truth.inbound.groupby(["group_id", "from_id"]):
        row = rows.setdefault((gid, pid), {"messages": 0, "read": 0, "failed": 0})
        row["replies"] = int((part["type"] != "reaction").sum())
        row["reactions"] = int((part["type"] == "reaction").sum())
    # The truth lists every group's joins; the archive holds those of the known groups.
    known = set(truth.deliveries.loc[truth.deliveries["member_at_send"].notna(), "group_id"])
    membership = truth.membership[truth.membership["group_id"].isin(known)]
    for (gid, pid), part in membership.groupby(["group_id", "participant_id"]):
        row = rows.setdefault((gid, pid), {"messages": 0, "read": 0, "failed": 0})
        part = part.sort_values("timestamp")
        row["joined_at"] = part.loc[part["change"] == "join", "timestamp"].min()
        row["left_at"] = part["timestamp"].iloc[-1] if part["change"].iloc[-1] == "leave" else None
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = out.index.set_names(["group_id", "participant_id"])
    return out.sort_index()


@pytest.mark.parametrize("seed", [11, 12])
def test_participants_equal_the_simulators_truth(tmp_path, seed):
    sim = simulate_archive(tmp_path, groups=6, days=3, seed=seed, unknown_membership=0.3)
    archive = groupkit.read_webhooks(tmp_path)
    got = groupkit.participants(archive).set_index(["group_id", "participant_id"]).sort_index()
    want = _truth_participants(sim.truth)
    assert list(got.index) == list(want.index)
    for name in ("messages", "read", "failed", "silent_streak", "replies", "reactions"):
        assert got[name].tolist() == want[name].fillna(0).astype(int).tolist(), name
    np.testing.assert_array_equal(
        got["read_p50"].dt.total_seconds().to_numpy(), want["read_p50_s"].to_numpy()
    )
    joined = want["joined_at"].astype("datetime64[s, UTC]")
    assert got["joined_at"].tolist() == joined.tolist()
    assert got["left_at"].tolist() == pd.to_datetime(want["left_at"], utc=True).tolist()
    assert (got["silent_streak"] > 0).any() and got["left_at"].notna().any()
    funnel = groupkit.funnel(archive, by=None).iloc[0]
    assert got["messages"].sum() == funnel["recipients"] - funnel["recipients_unknown"]
    assert got["read"].sum() == funnel["read"]


def test_message_receipts_of_the_sample_equal_the_truth():
    archive = groupkit.read_webhooks("sample_data/webhooks", workers=1)
    truth = pd.read_parquet("sample_data/truth/deliveries.parquet")
    membership = pd.read_parquet("sample_data/truth/membership.parquet")
    known = set(truth.loc[truth["member_at_send"].notna(), "group_id"])
    leavers = membership[(membership["change"] == "leave") & membership["group_id"].isin(known)]
    # A message sent before somebody left: its receipts name the leaver.
    left = leavers.iloc[0]
    sent = truth[(truth["group_id"] == left["group_id"]) & (truth["sent_at"] < left["timestamp"])]
    mid = sent.sort_values("sent_at")["message_id"].iloc[-1]
    got = groupkit.message_receipts(archive, mid).set_index("participant_id")
    want = truth[truth["message_id"] == mid].set_index("participant_id")
    assert set(got.index) == set(want.index)
    sent_at = want["sent_at"].iloc[0]
    later = leavers[(leavers["group_id"] == left["group_id"]) & (leavers["timestamp"] > sent_at)]
    for pid, row in want.iterrows():
        expected = row["state"]
        if pid in set(later["participant_id"]) and expected in ("pending", "delivered"):
            expected = "left"
        assert got.loc[pid, "state"] == expected, pid
    assert got.loc[list(want.index), "read_at"].tolist() == want["read_at"].tolist()
    assert got.loc[left["participant_id"], "left_at"] == left["timestamp"]


def test_it_takes_a_plain_namespace_with_the_frames():
    empty = SimpleNamespace(
        **{name: frame(name, []) for name in ("statuses", "messages", "membership")},
        group_events=groupkit.schema.empty_frame("group_events"),
    )
    assert groupkit.participants(empty).empty
