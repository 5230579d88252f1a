"""Cost, webhook-health and pin charts: what they embed, checked against hand counts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import groupkit
from groupkit import charts
from tests.analytics.hooks import at, post, pricing, send_line, status
from tests.charts.chartdata import embedded, embedded_rows

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
GB, US = "447700900123", "16505551234"
MARKETING = pricing("group_marketing", billable=True)
UTILITY = pricing("group_utility", billable=True)


def _iso(seconds: float) -> str:
    return at(seconds).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_cost_by_group_stacks_each_categorys_cost():
    archive = groupkit.parse_webhooks(
        [
            post(
                status("wamid.A", "delivered", 5, GB, pricing=MARKETING),
                status("wamid.A", "delivered", 6, US, pricing=MARKETING),
            ),
            post(status("wamid.B", "delivered", 9, US, pricing=UTILITY)),
        ]
    )
    card = pd.DataFrame(
        {
            "country": ["*", "*"],
            "category": ["marketing", "utility"],
            "price": [0.10, 0.01],
            "currency": ["EUR", "EUR"],
            "effective_from": ["2026-01-01", "2026-01-01"],
        }
    )
    chart = charts.cost_by_group(archive, card)
    values = dict(zip(chart.data["pricing_category"], chart.data["value"].round(6), strict=True))
    assert values == {"group_marketing": 0.2, "group_utility": 0.01}  # 2 x 0.10, 1 x 0.01
    spec = chart.to_dict()
    assert spec["encoding"]["x"]["stack"] == "zero"
    assert spec["encoding"]["x"]["title"] == "cost (EUR)"


def test_without_a_card_the_bars_count_billable_deliveries(archive):
    chart = charts.cost_by_group(archive)
    assert chart.to_dict()["encoding"]["x"]["title"] == "billable deliveries"
    assert chart.data["value"].sum() == groupkit.costs(archive)["billable_deliveries"].sum()
    assert embedded_rows(chart) < 5000


def test_health_chart_draws_lag_quantiles_and_the_redelivery_rate():
    archive = groupkit.parse_webhooks(
        [
            post(status("wamid.A", "sent", 0), received_at=_iso(1)),
            post(status("wamid.A", "delivered", 5, GB), received_at=_iso(7)),
            post(status("wamid.A", "delivered", 5, GB), received_at=_iso(70)),
        ]
    )
    chart = charts.webhook_health_chart(archive, freq="day")
    lag, rate = chart.vconcat
    # Lags of the two kept statuses: 1 s and 2 s; one webhook of three is a redelivery.
    assert sorted(lag.data["quantile"]) == ["p50", "p90", "p99"]
    assert lag.data["lag_s"].tolist() == pytest.approx([1.5, 1.9, 1.99])
    assert rate.data["redelivery_rate"].tolist() == pytest.approx([1 / 3])
    assert lag.to_dict()["encoding"]["y"]["scale"]["type"] == "log"


def test_without_received_at_only_the_rate_panel_is_drawn():
    archive = groupkit.parse_webhooks([post(status("wamid.A", "sent", 0))])
    chart = charts.webhook_health_chart(archive)
    assert len(chart.vconcat) == 1
    assert embedded(chart)["webhooks"].tolist() == [1]


def test_pin_timeline_draws_the_read_curve_under_the_pin():
    p1, p2 = "16505550001", "16505550002"
    archive = groupkit.parse_webhooks(
        [
            post(status("wamid.M", "sent", 0)),
            post(status("wamid.M", "delivered", 5, p1), status("wamid.M", "delivered", 5, p2)),
            post(status("wamid.M", "read", 600, p1)),
            post(status("wamid.M", "read", 7200, p2)),
            send_line("pin", 3600, "wamid.M", days=1),
            send_line("unpin", 10_800, "wamid.M"),
        ]
    )
    panel = charts.pin_timeline(archive).vconcat[0]
    band, line = panel.layer
    assert band.data[["ended"]].values.tolist() == [["unpinned"]]
    assert band.data["start"].tolist() == [at(3600)]
    assert band.data["end"].tolist() == [at(10_800)]
    # From the send at 0: nobody, then half the recipients at 10 min, all at 2 h.
    assert line.data["share"].tolist() == [0.0, 0.5, 1.0]
    assert line.data["time"].tolist() == [at(0), at(600), at(7200)]


def test_pin_timeline_without_pins_says_so():
    with pytest.raises(groupkit.GroupkitError, match="no pin"):
        charts.pin_timeline(groupkit.parse_webhooks([]))


def test_the_sample_pins_chart_stays_small():
    archive = groupkit.read_webhooks(
        [str(SAMPLE / "webhooks"), str(SAMPLE / "sends")], progress=False
    )
    chart = charts.pin_timeline(archive, max_messages=3)
    assert len(chart.vconcat) == 3
    assert embedded_rows(chart) < 5000
