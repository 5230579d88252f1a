"""pins(): the platform's pin rules replayed on hand-made send logs, and reading around a pin.

Reference 1.2: at most 3 messages stay pinned; a pin while 3 are pinned unpins the
oldest; a pin lasts 1 to 30 days.
"""

from __future__ import annotations

import pandas as pd
import pytest

import groupkit
from tests.analytics.hooks import GROUP, at, post, send_line, status

HOUR, DAY = 3600, 86_400


def _pins(*lines) -> pd.DataFrame:
    return groupkit.pins(groupkit.parse_webhooks(list(lines)))


def _ends(out: pd.DataFrame) -> list[tuple]:
    return [
        (r.message_id, None if pd.isna(r.ended_by) else r.ended_by, r.ended_at)
        for r in out.itertuples()
    ]


def test_a_fourth_pin_unpins_the_oldest():
    out = _pins(*(send_line("pin", i * HOUR, f"wamid.{m}", days=7) for i, m in enumerate("ABCD")))
    assert _ends(out) == [
        ("wamid.A", "replaced", at(3 * HOUR)),
        ("wamid.B", None, pd.NaT),
        ("wamid.C", None, pd.NaT),
        ("wamid.D", None, pd.NaT),
    ]
    assert out["pinned_at"].tolist() == [at(i * HOUR) for i in range(4)]
    assert out["expires_at"].iloc[0] == at(7 * DAY)


def test_the_oldest_is_the_earliest_pin_not_the_earliest_message():
    # C was pinned first although B (the message) may be older: C goes.
    out = _pins(
        send_line("pin", 0, "wamid.C", days=7),
        send_line("pin", HOUR, "wamid.A", days=7),
        send_line("pin", 2 * HOUR, "wamid.B", days=7),
        send_line("pin", 3 * HOUR, "wamid.D", days=7),
        send_line("pin", 4 * HOUR, "wamid.E", days=7),
    )
    assert [(m, why) for m, why, _ in _ends(out)] == [
        ("wamid.C", "replaced"),
        ("wamid.A", "replaced"),
        ("wamid.B", None),
        ("wamid.D", None),
        ("wamid.E", None),
    ]


def test_a_pin_then_an_unpin():
    out = _pins(send_line("pin", 0, "wamid.A", days=7), send_line("unpin", 2 * HOUR, "wamid.A"))
    assert _ends(out) == [("wamid.A", "unpin", at(2 * HOUR))]
    assert out.attrs["unpins_ignored"] == 0


def test_a_pin_expires_after_its_days_when_the_archive_goes_on():
    out = _pins(
        send_line("pin", 0, "wamid.A", days=1),
        send_line("send_text", 3 * DAY, message="wamid.later"),  # the archive goes on
    )
    assert _ends(out) == [("wamid.A", "expiry", at(DAY))]


def test_an_expired_pin_frees_its_slot_before_a_later_pin():
    out = _pins(
        send_line("pin", 0, "wamid.A", days=1),
        send_line("pin", HOUR, "wamid.B", days=7),
        send_line("pin", 2 * HOUR, "wamid.C", days=7),
        send_line("pin", 2 * DAY, "wamid.D", days=7),  # A expired a day ago: nothing replaced
    )
    assert [(m, why) for m, why, _ in _ends(out)] == [
        ("wamid.A", "expiry"),
        ("wamid.B", None),
        ("wamid.C", None),
        ("wamid.D", None),
    ]


def test_an_unpin_after_expiry_changes_nothing():
    out = _pins(send_line("pin", 0, "wamid.A", days=1), send_line("unpin", 2 * DAY, "wamid.A"))
    assert _ends(out) == [("wamid.A", "expiry", at(DAY))]
    assert out.attrs["unpins_ignored"] == 1


def test_a_repin_of_the_same_message_restarts_it_and_takes_no_slot():
    out = _pins(
        send_line("pin", 0, "wamid.A", days=1),
        send_line("pin", HOUR, "wamid.B", days=7),
        send_line("pin", 2 * HOUR, "wamid.C", days=7),
        send_line("pin", 20 * HOUR, "wamid.A", days=3),  # re-pin: A runs 3 days from now
        send_line("send_text", 2 * DAY, message="wamid.later"),
    )
    assert _ends(out) == [  # in pin order
        ("wamid.A", "repinned", at(20 * HOUR)),
        ("wamid.B", None, pd.NaT),
        ("wamid.C", None, pd.NaT),
        ("wamid.A", None, pd.NaT),
    ]
    assert out["days"].tolist() == [1, 7, 7, 3]
    assert out["expires_at"].iloc[3] == at(20 * HOUR + 3 * DAY)


def test_a_failed_pin_is_no_pin():
    out = _pins(send_line("pin", 0, "wamid.A", days=7, ok=False))
    assert out.empty


def test_groups_are_replayed_apart():
    other = "OTHERGROUPZD"
    out = _pins(
        *(send_line("pin", i, f"wamid.{m}", days=7) for i, m in enumerate("ABC")),
        send_line("pin", 10, "wamid.X", days=7, group=other),
    )
    assert out["ended_by"].isna().all()
    assert set(out["group_id"]) == {GROUP, other}


def test_read_rate_and_time_to_read_before_and_during_the_pin():
    # Four recipients of wamid.M, sent at 0 and pinned at 1 h, unpinned at 3 h:
    # P1 read at 10 min (before), P2 at 2 h (during), P3 at 5 h (after), P4 never.
    p1, p2, p3, p4 = "16505550001", "16505550002", "16505550003", "16505550004"
    hooks = [
        post(status("wamid.M", "sent", 0)),
        post(*(status("wamid.M", "delivered", 5, p) for p in (p1, p2, p3, p4))),
        post(status("wamid.M", "read", 600, p1)),
        post(status("wamid.M", "read", 2 * HOUR, p2)),
        post(status("wamid.M", "read", 5 * HOUR, p3)),
    ]
    out = _pins(
        *hooks,
        send_line("send_text", -1, message="wamid.M"),
        send_line("pin", HOUR, "wamid.M", days=7),
        send_line("unpin", 3 * HOUR, "wamid.M"),
    )
    row = out.iloc[0]
    assert (row["recipients"], row["unread_at_pin"]) == (4, 3)
    assert row["read_rate_before"] == pytest.approx(1 / 4)
    assert row["read_rate_during"] == pytest.approx(1 / 3)
    assert row["time_to_read_before"] == pd.Timedelta(minutes=10)
    assert row["time_to_read_during"] == pd.Timedelta(hours=1)


def test_a_pin_of_a_message_the_archive_has_no_receipts_for_has_no_rates():
    out = _pins(send_line("pin", 0, "wamid.unknown", days=7))
    assert out[["recipients", "read_rate_before", "read_rate_during"]].isna().all(axis=None)


def test_without_pins_the_frame_is_empty_with_its_columns():
    out = groupkit.pins(groupkit.parse_webhooks([]))
    assert out.empty
    assert out.columns[0] == "group" and out.columns[-1] == "group_id"
