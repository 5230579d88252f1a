"""Each chart's marks, encodings and embedded numbers match the analytics frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import groupkit
from groupkit import charts
from groupkit.analytics.latency import quantile_column
from tests.charts.chartdata import embedded

UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0}


def by_label(table: pd.DataFrame, style: charts.GroupStyle) -> pd.DataFrame:
    """An analytics frame keyed by group_id, re-keyed by the chart's group label."""
    return table.assign(group=style.label(table["group_id"]))


def unit_of(title: str) -> float:
    """Seconds per unit from an axis title like 'latency (min)'."""
    return UNITS[title.rsplit("(", 1)[1].rstrip(")")]


@pytest.mark.parametrize("metric", ["delivery", "read"])
def test_percentile_points_are_the_latency_summary_quantiles(frame, style, metric):
    chart = charts.latency_percentiles(frame, metric=metric, style=style)
    spec = chart.to_dict()
    rule, points = spec["layer"]
    assert (rule["mark"]["type"], points["mark"]["type"]) == ("rule", "point")
    enc = points["encoding"]
    assert (enc["y"]["field"], enc["x"]["field"], enc["shape"]["field"]) == (
        "group",
        "plotted",
        "percentile",
    )
    # p50, p90 and p99 are told apart by three different shapes, said in the legend.
    assert enc["shape"]["scale"]["domain"] == ["p50", "p90", "p99"]
    assert len(set(enc["shape"]["scale"]["range"])) == 3
    assert enc["color"]["scale"]["domain"] == style.domain
    data = embedded(chart)
    expected = by_label(groupkit.latency_summary(frame, metric=metric), style)
    for q in (0.5, 0.9, 0.99):
        name = quantile_column(q)
        got = data[data["percentile"] == name.removesuffix("_s")].set_index("group")["seconds"]
        want = expected.set_index("group")[name]
        np.testing.assert_allclose(got.loc[want.index], want, rtol=1e-9)
    np.testing.assert_allclose(data["plotted"], data["seconds"].clip(lower=1.0))
    assert len(data) == 3 * expected["group_id"].nunique()


def test_latency_axes_are_logarithmic_with_readable_ticks(frame, style):
    """Reads run into hours and deliveries take seconds: a log axis shows both."""
    read = charts.latency_percentiles(frame, metric="read", style=style).to_dict()
    x = read["layer"][1]["encoding"]["x"]
    assert x["scale"]["type"] == "log" and "log scale" in x["title"]
    top = groupkit.latency_summary(frame, metric="read")["p99_s"].max()
    assert max(x["axis"]["values"]) >= top  # the slowest percentile is on the axis
    assert "' h'" in x["axis"]["labelExpr"] and "' min'" in x["axis"]["labelExpr"]
    over_time = charts.latency_over_time(frame, metric="read", style=style).to_dict()
    assert over_time["encoding"]["y"]["scale"]["type"] == "log"


def test_ecdf_passes_through_each_group_median(frame, style):
    chart = charts.latency_ecdf(frame, style=style, points=101, upto=1.0)
    spec = chart.to_dict()
    assert [panel["mark"]["type"] for panel in spec["hconcat"]] == ["line"] * 3
    assert {panel["encoding"]["x"]["scale"]["type"] for panel in spec["hconcat"]} == {"log"}
    filters = [panel["transform"][0]["filter"] for panel in spec["hconcat"]]
    assert filters == [
        "(datum.metric === 'delivery')",
        "(datum.metric === 'read')",
        "(datum.metric === 'read_after_delivery')",
    ]
    data = embedded(chart)
    for metric in ("delivery", "read", "read_after_delivery"):
        rows = data[(data["metric"] == metric) & np.isclose(data["share"], 0.5)]
        want = by_label(groupkit.latency_summary(frame, metric=metric), style)
        got = rows.set_index("group")["seconds"]
        np.testing.assert_allclose(got.loc[want["group"]], want["p50_s"].to_numpy())
        np.testing.assert_allclose(rows["plotted"], rows["seconds"].clip(lower=1.0))
        counts = rows.set_index("group")["count"].loc[want["group"]]
        assert counts.tolist() == want["count"].tolist()
    # A group-pick bound to the legend is defined once and used by every panel.
    assert spec["params"][0]["bind"] == "legend"


def test_latency_over_time_is_the_summary_by_day(frame, style):
    chart = charts.latency_over_time(frame, metric="read", quantile=0.9, freq="day", style=style)
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["timeUnit"]["unit"] == "utcyearmonthdate"
    data = embedded(chart)
    want = by_label(
        groupkit.latency_summary(frame, metric="read", quantiles=[0.9], freq="day"), style
    )
    got = data.set_index(["group", pd.to_datetime(data["bucket"], utc=True)])["seconds"]
    np.testing.assert_allclose(
        got.loc[pd.MultiIndex.from_frame(want[["group", "bucket"]])], want["p90_s"]
    )


def test_within_rate_over_time_is_share_within(frame, style):
    chart = charts.within_rate_over_time(frame, within_s=10, freq="day", style=style)
    spec = chart.to_dict()
    assert spec["encoding"]["y"]["field"] == "share_within"
    assert "within 10 s" in spec["title"]
    data = embedded(chart)
    want = groupkit.latency_summary(frame, within_s=10, freq="day")
    assert sorted(data["share_within"].round(12)) == sorted(want["share_within"].round(12))
    assert data["count"].sum() == want["count"].sum()


def test_funnel_bars_are_the_funnel_rates(frame, style):
    chart = charts.funnel_chart(frame, style=style)
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["y"]["sort"] == list(charts.delivery.FUNNEL_STAGES)
    assert spec["encoding"]["x"]["field"] == "rate"
    assert spec["encoding"]["x"]["scale"]["domain"] == [0, 1]
    data = embedded(chart).set_index(["group", "stage"])
    want = by_label(groupkit.funnel(frame), style).set_index("group")
    for stage in charts.delivery.FUNNEL_STAGES:
        got = data.xs(stage, level="stage").loc[want.index]
        assert got["receipts"].tolist() == want[stage].tolist()
        np.testing.assert_allclose(got["rate"], want[f"{stage}_rate"])


def test_coverage_over_time_is_read_coverage(frame, style):
    chart = charts.coverage_over_time(frame, within="1h", freq="day", style=style)
    data = embedded(chart)
    want = by_label(groupkit.read_coverage(frame, within="1h", freq="day"), style)
    got = data.set_index(["group", pd.to_datetime(data["bucket"], utc=True)])["coverage"]
    np.testing.assert_allclose(
        got.loc[pd.MultiIndex.from_frame(want[["group", "bucket"]])], want["coverage"]
    )


def test_errors_over_time_are_error_summary_with_titles(archive):
    chart = charts.errors_over_time(archive, freq="day")
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["color"]["field"] == "error"
    data = embedded(chart)
    want = groupkit.error_summary(archive, freq="day")
    assert data["count"].sum() == want["count"].sum() == len(archive.errors)
    labels = dict(zip(data["code"], data["error"], strict=False))
    assert labels[131049] == "131049 · Meta chose not to deliver"
    assert data["advice"].str.len().min() > 0
    assert any(t["title"] == "what to do" for t in spec["encoding"]["tooltip"])


def test_errors_by_group_sum_to_error_summary_by_group(archive, style):
    data = embedded(charts.errors_by_group(archive, style=style))
    want = by_label(groupkit.error_summary(archive, by="group_id"), style)
    got = data.groupby(["group", "code"])["count"].sum()
    expected = want.groupby(["group", "code"])["count"].sum()
    assert got.loc[expected.index].tolist() == expected.tolist()


def test_activity_counts_every_inbound_group_message(archive, style):
    chart = charts.activity_heatmap(archive, style=style)
    spec = chart.to_dict()
    heat = spec["hconcat"][1]
    assert heat["mark"]["type"] == "rect"
    assert heat["transform"] == [{"filter": {"param": "heat_group"}}]
    assert heat["encoding"]["y"]["scale"]["domain"][0] == "Mon"
    data = embedded(chart)
    messages = archive.messages.dropna(subset=["group_id"])
    assert data["messages"].sum() == len(messages)
    stamps = messages["timestamp"]
    want = (
        pd.DataFrame({"group": style.label(messages["group_id"]), "hour": stamps.dt.hour})
        .value_counts()
        .sort_index()
    )
    got = data.groupby(["group", "hour"])["messages"].sum()
    assert got.loc[want.index].tolist() == want.tolist()


def test_messages_by_type_counts_types(archive, style):
    data = embedded(charts.messages_by_type(archive, style=style))
    want = archive.messages.dropna(subset=["group_id"])["type"].astype("str").value_counts()
    assert data.groupby("type")["messages"].sum().loc[want.index].tolist() == want.tolist()
    # Shares of each group's inbound messages: the pool is a group like the others.
    assert data.groupby("group")["share"].sum().round(9).eq(1).all()


def test_a_group_has_one_colour_across_charts(archive, frame, style):
    specs = [
        charts.latency_percentiles(frame, style=style).to_dict()["layer"][1],
        charts.funnel_chart(frame, style=style).to_dict(),
        charts.coverage_over_time(frame, style=style).to_dict(),
        charts.latency_ecdf(frame, style=style).to_dict()["hconcat"][1],
    ]
    scales = [
        (s["encoding"]["color"]["scale"]["domain"], s["encoding"]["color"]["scale"]["range"])
        for s in specs
    ]
    assert all(scale == scales[0] for scale in scales)
    assert len(set(scales[0][1])) == len(scales[0][1])  # every group its own colour
    subjects = archive.group_events["subject"].dropna()
    assert set(subjects) <= set(style.order)  # named groups show their subject


def test_tooltips_name_every_field(frame, style):
    spec = charts.latency_over_time(frame, style=style).to_dict()
    titles = [t["title"] for t in spec["encoding"]["tooltip"]]
    assert titles[0] == "group" and "receipts measured" in titles
    assert all(title for title in titles)
