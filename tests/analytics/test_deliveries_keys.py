"""Deliveries cases that depend on how rows are keyed: row order, message-level errors,
membership changes at the same second."""

from __future__ import annotations

import pandas as pd

from groupkit.analytics import deliveries
from tests.analytics.tiny import make_archive, member, status

A, B, C, D = "16505550001", "16505550002", "16505550003", "16505550004"
OTHER_GROUP = "Y2FwaV9ncm91cDoxNTU1MDc4Mzg4MToxMjAzNjM0MDAwMDAwMgZD"


def test_error_of_a_failed_message_stays_on_that_message():
    # wamid.A (read first) failed for the group; wamid.B was only sent, with no known
    # recipients: its one row has no participant and must not show wamid.A's error.
    archive = make_archive(
        [
            status("wamid.A", "failed", 0, error_code=131000, error_title="Something failed"),
            status("wamid.B", "sent", 5),
        ]
    )
    out = deliveries(archive).set_index("message_id")
    assert out.loc["wamid.A", "state"] == "failed"
    assert out.loc["wamid.A", "error_code"] == 131000
    assert out.loc["wamid.B", "state"] == "sent"
    assert pd.isna(out.loc["wamid.B", "error_code"])
    assert pd.isna(out.loc["wamid.B", "error_title"])


def test_of_membership_changes_at_the_same_second_the_later_row_wins():
    archive = make_archive(
        [status("wamid.1", "sent", 10)],
        membership=[
            member(A, "leave", 5),
            member(A, "join", 5),  # later row: member
            member(B, "join", 5),
            member(B, "leave", 5),  # later row: not a member
            member(C, "join", 10),
            member(C, "leave", 10),  # at the send time, later row: not a member
            member(D, "leave", 10),
            member(D, "join", 10),  # at the send time, later row: member
        ],
    )
    out = deliveries(archive)
    assert out["participant_id"].tolist() == [A, D]
    assert out["member_at_send"].tolist() == [True, True]
    assert out["state"].tolist() == ["pending", "pending"]


def test_rows_sort_by_group_message_participant_whatever_the_arrival_order():
    archive = make_archive(
        [
            status("wamid.2", "read", 3, C, group_id=OTHER_GROUP),
            status("wamid.9", "delivered", 2, B),
            status("wamid.1", "sent", 0, group_id=OTHER_GROUP),
            status("wamid.9", "read", 4, A),
            status("wamid.3", "sent", 1),
        ],
        membership=[member(D, "join", 0, group_id=OTHER_GROUP)],
    )
    out = deliveries(archive)
    got = list(
        zip(out["group_id"], out["message_id"], out["participant_id"].fillna("-"), strict=True)
    )
    assert got == sorted(got, key=lambda r: (r[0], r[1], r[2] == "-", r[2]))
    # The one group with membership: its member is a row of each of its messages.
    other = out[out["group_id"] == OTHER_GROUP]
    assert other["participant_id"].tolist() == [D, C, D]
    assert other["member_at_send"].tolist() == [True, False, True]
    # The other group has no membership: missing, and a message nobody reported on is
    # one row without participant, after those with one.
    plain = out[out["group_id"] != OTHER_GROUP]
    assert plain["participant_id"].fillna("-").tolist() == ["-", A, B]
    assert plain["member_at_send"].isna().all()
