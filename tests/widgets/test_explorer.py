"""Explorer: groups, time range and metric drive the latency charts, the funnel and the errors."""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd
import pytest

import groupkit
from groupkit import charts
from groupkit.client import GroupClient
from groupkit.sandbox import serve
from groupkit.widgets import Explorer
from tests.helpers import wait_for

SAMPLE = Path(__file__).parents[2] / "sample_data" / "webhooks"


@pytest.fixture(scope="module")
def archive() -> groupkit.Archive:
    return groupkit.read_webhooks(SAMPLE, workers=1)


@pytest.fixture
def explorer(archive) -> Explorer:
    return Explorer(archive, offline=False)


def chart_groups(chart: alt.TopLevelMixin) -> set[str]:
    """The group labels in a chart's embedded data."""
    spec = chart.to_dict()
    return {
        row["group"] for rows in spec.get("datasets", {}).values() for row in rows if "group" in row
    }


def test_it_starts_with_every_group_and_the_whole_archive(archive, explorer):
    assert set(explorer.groups.value) == set(archive.statuses["group_id"].dropna())
    assert explorer.selection["metric"] == "delivery"
    pd.testing.assert_frame_equal(explorer.funnel, groupkit.funnel(archive))
    pd.testing.assert_frame_equal(explorer.latency, groupkit.latency_summary(archive))
    assert explorer.errors["count"].sum() == archive.errors["group_id"].notna().sum()
    assert set(explorer.chart_widgets) == {
        "latency_percentiles",
        "latency_ecdf",
        "latency_over_time",
        "funnel",
    }
    for name, chart in explorer.charts.items():
        assert explorer.chart_widgets[name].spec == chart.to_dict(), name


def test_choosing_groups_updates_every_chart_and_table_together(archive, explorer):
    style = charts.group_style(archive)
    chosen = explorer.groups.value[:2]
    before = {name: w.spec for name, w in explorer.chart_widgets.items()}
    errors_before = explorer.error_table.value

    explorer.groups.value = chosen

    assert explorer.selection["groups"] == list(chosen)
    assert set(explorer.deliveries["group_id"]) == set(chosen)
    assert list(explorer.funnel["group_id"]) == sorted(chosen)
    assert set(explorer.latency["group_id"]) <= set(chosen)
    assert set(explorer.errors.columns) >= {"code", "count", "title"}
    expected = groupkit.error_summary(
        type("A", (), {"errors": archive.errors[archive.errors["group_id"].isin(chosen)]})
    )
    assert explorer.errors["count"].sum() == expected["count"].sum()
    labels = {style.labels[g] for g in chosen}
    for name, chart_widget in explorer.chart_widgets.items():
        assert chart_widget.spec != before[name], f"{name} did not change"
        assert chart_groups(explorer.charts[name]) <= labels, name
        assert chart_widget.spec == explorer.charts[name].to_dict()
    assert chart_groups(explorer.charts["funnel"]) == labels
    assert explorer.error_table.value != errors_before or expected.empty


def test_a_group_keeps_its_colour_whatever_else_is_chosen(archive, explorer):
    def colours(chart):
        scale = chart.to_dict()["encoding"]["color"]["scale"]
        return dict(zip(scale["domain"], scale["range"], strict=True))

    everything = colours(explorer.charts["funnel"])
    explorer.groups.value = explorer.groups.value[-1:]
    assert colours(explorer.charts["funnel"]) == everything


def test_the_metric_changes_the_latency_charts(archive, explorer):
    explorer.metric.value = "read"
    pd.testing.assert_frame_equal(
        explorer.latency, groupkit.latency_summary(archive, metric="read")
    )
    assert "read" in str(explorer.charts["latency_percentiles"].to_dict()).lower()
    pd.testing.assert_frame_equal(explorer.funnel, groupkit.funnel(archive))


def test_the_time_range_keeps_only_messages_sent_inside_it(archive, explorer):
    steps = len(explorer.time_range.options)
    explorer.time_range.index = (0, steps // 3)
    start, end = explorer.selection["start"], explorer.selection["end"]

    assert start < end
    sent = explorer.deliveries["sent_at"]
    assert sent.notna().all() and sent.between(start, end).all()
    assert 0 < explorer.funnel["messages"].sum() < groupkit.funnel(archive)["messages"].sum()
    assert (
        explorer.errors.empty
        or ((explorer.errors["first_seen"] >= start) & (explorer.errors["last_seen"] <= end)).all()
    )
    explorer.time_range.index = (0, steps - 1)
    pd.testing.assert_frame_equal(explorer.funnel, groupkit.funnel(archive))


def test_no_group_chosen_shows_empty_charts_and_says_so(explorer):
    explorer.groups.value = ()
    assert explorer.deliveries.empty and explorer.funnel.empty and explorer.errors.empty
    assert "no errors in this selection" in explorer.error_table.value
    assert "0 groups" in explorer.summary.value
    assert all(not chart_groups(c) for c in explorer.charts.values())


def test_an_empty_archive_can_be_explored(tmp_path):
    explorer = Explorer(groupkit.parse_webhooks([]), offline=False)
    assert explorer.selection == {"groups": [], "start": None, "end": None, "metric": "delivery"}
    assert explorer.time_range.disabled
    explorer.metric.value = "read"
    assert explorer.latency.empty


def test_it_explores_what_the_sandbox_wrote(tmp_path):
    folder = tmp_path / "archive"
    with (
        serve(seed=5, groups=3, archive=folder, failure_rate=0.5, time_scale=0.0001) as box,
        GroupClient(api_key=box.api_key, base_url=box.url) as client,
    ):
        sent = [client.send_text(gid, f"Hello {n}") for n in range(3) for gid in box.group_ids]
        assert box.wait_idle(timeout=60)
    archive = wait_for(
        lambda: (
            a
            if {s.message_id for s in sent}
            <= set((a := groupkit.read_webhooks(folder)).statuses["message_id"])
            else None
        )
    )

    explorer = Explorer(archive, offline=False)

    assert explorer.funnel["messages"].sum() == len(sent)
    failed = explorer.funnel["messages_failed"].sum()
    assert failed > 0, "failure_rate=0.5 over 9 sends should fail some"
    assert explorer.errors["count"].sum() >= failed
    explorer.groups.value = (box.group_ids[0],)
    assert explorer.funnel["messages"].tolist() == [3]
