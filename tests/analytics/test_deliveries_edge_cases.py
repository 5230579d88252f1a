"""Named edge cases of the delivery lifecycle (issue 3), each on a tiny hand-built archive."""

from __future__ import annotations

import pandas as pd

from groupkit.analytics import DELIVERIES, deliveries
from tests.analytics.tiny import at, make_archive, member, status

A, B, C = "16505550001", "16505550002", "16505550003"


def row(frame: pd.DataFrame, participant: str | None) -> pd.Series:
    if participant is None:
        match = frame[frame["participant_id"].isna()]
    else:
        match = frame[frame["participant_id"] == participant]
    assert len(match) == 1
    return match.iloc[0]


def test_columns_and_dtypes_follow_the_documented_spec():
    out = deliveries(make_archive([status("wamid.1", "sent", 0)]))
    assert list(out.columns) == list(DELIVERIES)
    for name, col in DELIVERIES.items():
        assert str(out[name].dtype) == col.dtype, name


def test_read_before_delivered_arrives_keeps_both_times_and_counts_a_regression():
    archive = make_archive(
        [
            status("wamid.1", "sent", 0),
            status("wamid.1", "read", 30, A),
            status("wamid.1", "delivered", 4, A),  # arrives after the read
        ]
    )
    out = deliveries(archive)
    r = row(out, A)
    assert r["state"] == "read"
    assert r["delivered_at"] == at(4) and r["read_at"] == at(30)
    assert r["delivery_latency"] == pd.Timedelta(seconds=4)
    assert r["read_after_delivery"] == pd.Timedelta(seconds=26)
    assert not r["delivered_implied"]
    assert out.attrs["regressions_ignored"] == 1
    assert out.attrs["duplicates_ignored"] == 0


def test_read_without_delivered_implies_delivery_at_the_read_time():
    out = deliveries(make_archive([status("wamid.1", "sent", 0), status("wamid.1", "read", 9, A)]))
    r = row(out, A)
    assert r["state"] == "read" and r["delivered_implied"]
    assert r["delivered_at"] == r["read_at"] == at(9)
    assert r["read_after_delivery"] == pd.Timedelta(0)
    assert r["read_latency"] == pd.Timedelta(seconds=9)


def test_duplicate_read_with_a_later_timestamp_keeps_the_first_and_is_counted():
    archive = make_archive(
        [
            status("wamid.1", "sent", 0),
            status("wamid.1", "delivered", 2, A),
            status("wamid.1", "read", 50, A),
            status("wamid.1", "read", 95, A),
        ]
    )
    out = deliveries(archive)
    assert row(out, A)["read_at"] == at(50)
    assert out.attrs["duplicates_ignored"] == 1
    assert out.attrs["regressions_ignored"] == 0


def test_duplicate_that_arrives_first_still_loses_to_the_earlier_timestamp():
    archive = make_archive([status("wamid.1", "read", 95, A), status("wamid.1", "read", 50, A)])
    assert row(deliveries(archive), A)["read_at"] == at(50)


def test_failed_then_a_late_delivered_stays_failed():
    archive = make_archive(
        [
            status("wamid.1", "sent", 0),
            status(
                "wamid.1", "failed", 20, error_code=131049, error_title="Meta chose not to deliver"
            ),
            status("wamid.1", "delivered", 70, A),
        ]
    )
    out = deliveries(archive)
    r = row(out, A)
    assert r["state"] == "failed"
    assert r["failed_at"] == at(20) and pd.isna(r["delivered_at"]) and pd.isna(r["read_at"])
    assert r["error_code"] == 131049 and r["error_title"] == "Meta chose not to deliver"
    assert out.attrs["ignored_after_failed"] == 1
    assert out.attrs["regressions_ignored"] == 1


def test_participant_who_left_before_the_send_is_not_a_recipient():
    archive = make_archive(
        [status("wamid.1", "sent", 1000), status("wamid.1", "delivered", 1003, A)],
        membership=[member(A, "join", 0), member(B, "join", 0), member(B, "leave", 500)],
    )
    out = deliveries(archive)
    assert out["participant_id"].tolist() == [A]
    assert row(out, A)["member_at_send"]


def test_member_with_no_receipt_is_pending_so_coverage_counts_them():
    archive = make_archive(
        [status("wamid.1", "sent", 1000), status("wamid.1", "read", 1010, A)],
        membership=[member(A, "join", 0), member(B, "join", 0), member(C, "join", 2000)],
    )
    out = deliveries(archive)
    assert out.set_index("participant_id")["state"].to_dict() == {A: "read", B: "pending"}
    assert out["member_at_send"].tolist() == [True, True]


def test_message_with_only_a_sent_and_no_known_members_is_one_row_without_participant():
    out = deliveries(make_archive([status("wamid.1", "sent", 0)]))
    assert len(out) == 1
    r = row(out, None)
    assert r["state"] == "sent" and r["sent_at"] == at(0) and pd.isna(r["member_at_send"])


def test_message_with_no_statuses_at_all_has_no_rows():
    archive = make_archive(
        [status("wamid.1", "sent", 0), status("wamid.1", "delivered", 3, A)],
        membership=[member(A, "join", -100)],
    )
    out = deliveries(archive)
    assert set(out["message_id"]) == {"wamid.1"}
    assert deliveries(make_archive()).empty


def test_one_participant_group_has_one_row_per_message():
    archive = make_archive(
        [
            status("wamid.1", "sent", 0),
            status("wamid.1", "delivered", 1, A),
            status("wamid.2", "sent", 60),
        ],
        membership=[member(A, "join", -100)],
    )
    out = deliveries(archive)
    assert out[["message_id", "participant_id", "state"]].values.tolist() == [
        ["wamid.1", A, "delivered"],
        ["wamid.2", A, "pending"],
    ]


def test_group_that_failed_with_no_members_is_one_failed_row():
    archive = make_archive(
        [status("wamid.1", "failed", 0, error_code=131020, error_title="Bad Group")],
        membership=[member(A, "join", -100), member(A, "leave", -50)],
    )
    out = deliveries(archive)
    r = row(out, None)
    assert r["state"] == "failed" and r["error_code"] == 131020 and pd.isna(r["sent_at"])


def test_bsuid_only_status_is_keyed_by_the_bsuid():
    archive = make_archive(
        [
            status("wamid.1", "sent", 0),
            status("wamid.1", "delivered", 3, None, participant_user_id="US.13491208655302741918"),
        ]
    )
    assert deliveries(archive)["participant_id"].tolist() == ["US.13491208655302741918"]


def test_statuses_of_one_to_one_messages_are_left_out():
    one_to_one = status("wamid.9", "delivered", 3, None, group_id=None)
    one_to_one["recipient_type"] = None
    out = deliveries(make_archive([status("wamid.1", "sent", 0), one_to_one]))
    assert out["message_id"].tolist() == ["wamid.1"]


def test_bsuid_only_status_joins_the_phone_another_status_pairs_it_with():
    bsuid = "US.13491208655302741918"
    archive = make_archive(
        [
            status("wamid.1", "sent", 0),
            status("wamid.1", "delivered", 3, A, participant_user_id=bsuid),
            status("wamid.1", "read", 8, None, participant_user_id=bsuid),
        ]
    )
    out = deliveries(archive)
    assert out[["participant_id", "state"]].values.tolist() == [[A, "read"]]
    assert row(out, A)["delivered_at"] == at(3)


def test_message_with_no_receipts_at_all_leaves_every_member_pending():
    archive = make_archive(
        [status("wamid.1", "sent", 0)],
        membership=[member(A, "join", -100), member(B, "join", -100)],
    )
    out = deliveries(archive)
    assert out.set_index("participant_id")["state"].to_dict() == {A: "pending", B: "pending"}
    assert out["delivery_latency"].isna().all()


def test_participant_level_failed_fails_only_that_participant():
    archive = make_archive(
        [
            status("wamid.1", "sent", 0),
            status(
                "wamid.1", "failed", 5, A, error_code=131026, error_title="Message Undeliverable"
            ),
            status("wamid.1", "delivered", 4, B),
        ]
    )
    out = deliveries(archive).set_index("participant_id")
    assert out.loc[A, "state"] == "failed" and out.loc[A, "error_title"] == "Message Undeliverable"
    assert out.loc[B, "state"] == "delivered" and pd.isna(out.loc[B, "error_code"])


def test_played_and_unknown_statuses_are_left_out():
    archive = make_archive(
        [status("wamid.1", "sent", 0), status("wamid.1", "played", 9, A)],
    )
    assert deliveries(archive)["participant_id"].isna().all()
