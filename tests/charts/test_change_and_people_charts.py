"""The compare chart and the silence chart embed exactly the analytics' numbers."""

from __future__ import annotations

import pandas as pd
import pytest

import groupkit
from groupkit import charts
from groupkit.charts.change import VERDICTS
from tests.charts.chartdata import embedded

BEFORE = ("2026-03-01", "2026-03-02 12:00")
AFTER = ("2026-03-02 12:00", "2026-03-05")


@pytest.fixture(scope="module")
def table(archive):
    return groupkit.compare(archive, before=BEFORE, after=AFTER)


def test_the_compare_chart_draws_before_after_and_the_interval(table):
    chart = charts.compare_chart(table)
    data = embedded(chart)
    spec = chart.to_dict()
    assert len(spec["vconcat"]) == table["metric"].nunique()
    merged = data.merge(
        table.assign(metric=table["metric"].astype(str)),
        left_on=["label", "metric"],
        right_on=["group", "metric"],
        suffixes=("", "_t"),
    )
    assert len(merged) == len(data) == len(table)
    for column in ("before", "after", "change", "ci_low", "ci_high", "p_value"):
        pd.testing.assert_series_equal(
            merged[column], merged[f"{column}_t"], check_names=False, check_dtype=False
        )
    expected = merged["significant_t"].map({True: "significant"})
    assert (merged["verdict"] == "significant").tolist() == expected.notna().tolist()
    assert (merged["verdict"] == "too few receipts").tolist() == merged["p_value"].isna().tolist()
    values, change = spec["vconcat"][0]["hconcat"]
    rule, before, after = values["layer"]
    assert (rule["encoding"]["x"]["field"], rule["encoding"]["x2"]["field"]) == ("before", "after")
    assert before["mark"]["filled"] is False and after["mark"]["filled"] is True
    zero, interval, point = change["layer"]
    assert zero["encoding"]["x"]["datum"] == 0
    assert (interval["encoding"]["x"]["field"], interval["encoding"]["x2"]["field"]) == (
        "ci_low",
        "ci_high",
    )
    scale = point["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == VERDICTS


def test_the_compare_chart_keeps_the_significant_rows_first(table):
    rows = charts.compare_chart(table, metrics=["read_rate"], max_rows=2)
    data = embedded(rows)
    ranked = table[table["metric"] == "read_rate"].sort_values(
        ["significant", "p_value"], ascending=[False, True], na_position="last"
    )
    assert data["label"].tolist() == ranked["group"].head(2).tolist()


def test_the_silence_chart_has_one_point_per_participant_with_messages(archive):
    people = groupkit.participants(archive)
    chart = charts.silence_chart(people, data=archive)
    data = embedded(chart)
    got = people[people["messages"] > 0]
    assert len(data) == len(got)
    merged = data.merge(got, on="participant_id", suffixes=("", "_p"))
    assert (merged["read_rate"] == merged["read_rate_p"]).all()
    assert (merged["silent_streak"] == merged["silent_streak_p"]).all()
    enc = chart.to_dict()["encoding"]
    assert (enc["x"]["field"], enc["y"]["field"]) == ("silent_streak", "read_rate")
