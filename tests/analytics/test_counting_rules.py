"""One set of counting rules: a message that failed outright is failed in every rate.

Hand-built archives whose counts can be worked out on paper; each test says the rule
it pins and fails if the rule breaks.
"""

from __future__ import annotations

import pytest

from groupkit.analytics import deliveries, funnel, group_summary, groups_to_watch
from tests.analytics.tiny import GROUP, make_archive, member, status

A, B, C = "16505550001", "16505550002", "16505550003"
NO_MEMBERS = "Y2FwaV9ncm91cDoxNTU1MDc4Mzg4MToxMjAzNjM0OTk5OTk5OQZD"


@pytest.fixture
def archive():
    """GROUP: membership A-C, one message read by A, one failed outright (131026).
    NO_MEMBERS: no membership webhooks; one message delivered to A and B, two that
    failed at group level (131041), whose recipients nobody can tell."""
    failed = {"error_code": 131041, "error_title": "Group unknown"}
    return make_archive(
        [
            status("wamid.1", "sent", 0),
            status("wamid.1", "read", 30, A),
            status("wamid.2", "sent", 60),
            status("wamid.2", "failed", 61, error_code=131026, error_title="Undeliverable"),
            status("wamid.3", "sent", 0, group_id=NO_MEMBERS),
            status("wamid.3", "delivered", 5, A, group_id=NO_MEMBERS),
            status("wamid.3", "delivered", 9, B, group_id=NO_MEMBERS),
            status("wamid.4", "failed", 100, group_id=NO_MEMBERS, **failed),
            status("wamid.5", "failed", 200, group_id=NO_MEMBERS, **failed),
        ],
        membership=[member(p, "join", -600) for p in (A, B, C)],
        errors=[
            {"code": 131041, "origin": "status", "group_id": NO_MEMBERS, "timestamp": 1e9},
            {"code": 131041, "origin": "status", "group_id": NO_MEMBERS, "timestamp": 1e9},
            {"code": 130501, "origin": "message", "group_id": NO_MEMBERS, "timestamp": 1e9},
        ],
    )


def test_a_failure_with_unknown_recipients_is_one_failed_receipt(archive):
    out = funnel(archive).set_index("group_id").loc[NO_MEMBERS]
    # wamid.3: A and B delivered; wamid.4 and wamid.5: one unknown-recipients row each.
    assert (out["recipients"], out["recipients_unknown"]) == (4, 2)
    assert (out["delivered"], out["failed"], out["pending"]) == (2, 2, 0)
    assert out["failed_rate"] == pytest.approx(2 / 4)
    assert out["delivered_rate"] == pytest.approx(2 / 4)  # never "100 % delivered"
    assert (out["messages"], out["messages_failed"]) == (3, 2)
    assert out["messages_failed_rate"] == pytest.approx(2 / 3)


def test_a_failure_with_known_members_fails_every_member(archive):
    out = funnel(archive).set_index("group_id").loc[GROUP]
    # wamid.1: A read, B and C pending; wamid.2: A, B, C failed.
    assert (out["recipients"], out["read"], out["pending"], out["failed"]) == (6, 1, 2, 3)
    assert out["recipients_unknown"] == 0


def test_the_funnel_counts_the_states_of_deliveries_exactly(archive):
    frame = deliveries(archive)
    total = funnel(frame, by=None).iloc[0]
    states = frame["state"].astype("str")
    assert total["recipients"] == len(frame)
    assert total["failed"] == (states == "failed").sum()
    assert total["delivered"] + total["failed"] + total["pending"] == total["recipients"]
    rates = total[["delivered_rate", "failed_rate", "pending_rate"]].sum()
    assert rates == pytest.approx(1.0)


def test_group_summary_keeps_inbound_errors_apart_from_delivery_failures(archive):
    summary = group_summary(archive).set_index("group_id")
    row = summary.loc[NO_MEMBERS]
    assert (row["delivery_errors"], row["inbound_errors"]) == (2, 1)
    assert row["top_error_code"] == 131041 and row["top_error_title"] == "Group unknown"
    assert not row["members_known"] and summary.loc[GROUP, "members_known"]
    # The summary's counts are the funnel's, column for column.
    counts = funnel(archive).set_index("group_id")
    for column in ("messages", "recipients", "delivered", "read", "failed", "pending"):
        assert summary[column].loc[counts.index].tolist() == counts[column].tolist()


def test_the_most_failing_group_is_named_first_with_its_error(archive):
    watch = groups_to_watch(group_summary(archive), min_receipts=1)
    failing = watch[watch["concern"] == "most failing"]
    assert failing["group_id"].tolist() == [NO_MEMBERS, GROUP]  # 2/3 of messages vs 1/2
    assert failing["value"].tolist() == pytest.approx([2 / 3, 1 / 2])
    first = failing.iloc[0]
    assert first["top_error_code"] == 131041 and "group" in first["advice"].lower()
