"""The redelivery rule on hand-built statuses (tests/dask checks Dask finds the same rows)."""

from __future__ import annotations

import pytest

from groupkit import schema
from groupkit.load.build import drop_redeliveries
from groupkit.load.redeliveries import redelivered
from tests.load.redelivery_cases import CASES, statuses


@pytest.mark.parametrize("case", CASES, ids=[name for name, _, _ in CASES])
def test_each_case_drops_what_was_marked_by_hand(case):
    frame, drops = statuses([case])
    assert redelivered(frame, schema.identity_columns("statuses")).tolist() == drops


def test_all_cases_in_one_frame_and_the_loader_keeps_the_rest_in_order():
    frame, drops = statuses()
    kept, dropped = drop_redeliveries("statuses", frame)
    assert dropped.index.tolist() == [i for i, drop in enumerate(drops) if drop]
    assert kept["source"].tolist() == frame["source"][[not d for d in drops]].tolist()


def test_without_receive_times_reading_order_decides():
    cases = [case for case in CASES if all(row[4] is None for row in case[1])]
    frame, drops = statuses(cases, with_received_at=False)
    assert redelivered(frame, schema.identity_columns("statuses")).tolist() == drops
