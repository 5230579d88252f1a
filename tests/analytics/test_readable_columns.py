"""Per-group frames lead with a name a person reads and end with the full group id."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import groupkit
from groupkit.analytics import deliveries, funnel, group_summary, latency_summary, read_coverage

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "webhooks"


def test_per_group_frames_lead_with_the_names_every_view_uses():
    archive = groupkit.read_webhooks(SAMPLE, progress=False)
    names = group_summary(archive).set_index("group_id")["group"]
    assert names.str.startswith("…").any() and not names.str.startswith("…").all()
    frame = deliveries(archive)
    outputs = {
        "latency_summary": latency_summary(archive),
        "latency_summary(deliveries)": latency_summary(frame, metric="read"),
        "funnel": funnel(archive),
        "funnel(deliveries)": funnel(frame),
        "read_coverage": read_coverage(archive),
        "read_coverage(day)": read_coverage(archive, freq="day"),
    }
    for what, out in outputs.items():
        assert len(out), what
        assert (out.columns[0], out.columns[-1]) == ("group", "group_id"), what
        expected = out["group_id"].map(names)
        assert out["group"].tolist() == expected.tolist(), what


def test_an_80_column_terminal_shows_the_group_and_its_numbers():
    archive = groupkit.read_webhooks(SAMPLE, progress=False)
    with pd.option_context("display.width", 80, "display.max_columns", None):
        header = repr(latency_summary(archive)).splitlines()[0]
    assert header.split()[:3] == ["group", "count", "mean_s"]


def test_frames_not_keyed_by_group_are_left_as_they_are():
    archive = groupkit.read_webhooks(SAMPLE, progress=False)
    assert "group" not in funnel(archive, by=None).columns
    assert latency_summary(archive, by="pricing_category").columns[0] == "pricing_category"
