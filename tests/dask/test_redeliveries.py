"""Dask drops exactly the redeliveries the pandas loader drops, across partitions."""

from __future__ import annotations

import dask.dataframe as dd
import pytest

from groupkit.dask._reader import _drop_redeliveries
from groupkit.load.build import drop_redeliveries
from tests.load.redelivery_cases import CASES, statuses

WITHOUT_RECEIVE_TIMES = [case for case in CASES if all(row[4] is None for row in case[1])]


@pytest.mark.parametrize("npartitions", [1, 3, 7])
@pytest.mark.parametrize("with_received_at", [True, False])
def test_dask_and_pandas_drop_the_rows_marked_by_hand(npartitions, with_received_at):
    cases = CASES if with_received_at else WITHOUT_RECEIVE_TIMES
    frame, drops = statuses(cases, with_received_at=with_received_at)
    marked = [i for i, drop in enumerate(drops) if drop]
    _, pandas_dropped = drop_redeliveries("statuses", frame)
    collection = dd.from_pandas(frame, npartitions=npartitions)
    kept, dask_dropped = _drop_redeliveries("statuses", collection)
    assert pandas_dropped.index.tolist() == marked
    assert sorted(dask_dropped.compute(scheduler="sync").index) == marked
    kept_rows = kept.compute(scheduler="sync").index.tolist()
    assert kept_rows == [i for i, drop in enumerate(drops) if not drop]
