"""Charts embed aggregates: their data stays small however many receipts and groups."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from groupkit import charts, schema
from groupkit.analytics.deliveries import empty_deliveries
from tests.charts.chartdata import embedded, embedded_rows

ROWS = 300_000
GROUPS = 400
ALTAIR_MAX_ROWS = 5_000


@pytest.fixture(scope="module")
def big() -> SimpleNamespace:
    """A synthetic deliveries frame (300k receipts, 400 groups, 60 days) and its archive."""
    rng = np.random.default_rng(7)
    groups = np.array([f"GROUP{g:05d}" for g in range(GROUPS)], dtype=object)
    start = pd.Timestamp("2026-01-01", tz="UTC")
    frame = empty_deliveries().reindex(range(ROWS))
    frame["group_id"] = groups[rng.integers(0, GROUPS, ROWS)]
    frame["message_id"] = [f"wamid.{i // 5}" for i in range(ROWS)]
    frame["participant_id"] = [str(i % 5) for i in range(ROWS)]
    frame["sent_at"] = start + pd.to_timedelta(rng.integers(0, 60 * 86400, ROWS), unit="s")
    delivered = pd.to_timedelta(rng.exponential(4, ROWS).round(), unit="s")
    read = delivered + pd.to_timedelta(rng.exponential(600, ROWS).round(), unit="s")
    frame["delivery_latency"] = delivered
    frame["read_latency"] = read
    frame["read_after_delivery"] = read - delivered
    frame["state"] = pd.Categorical(
        np.where(rng.random(ROWS) < 0.8, "read", "delivered"),
        categories=frame["state"].cat.categories,
    )
    frame["member_at_send"] = pd.array([True] * ROWS, dtype="boolean")
    errors = schema.empty_frame("errors").reindex(range(20_000))
    errors["code"] = pd.array(rng.choice([131049, 131026, 131000], 20_000), dtype="Int64")
    errors["group_id"] = groups[rng.integers(0, GROUPS, 20_000)]
    errors["timestamp"] = start + pd.to_timedelta(rng.integers(0, 60 * 86400, 20_000), unit="s")
    messages = pd.DataFrame(
        {
            "group_id": groups[rng.integers(0, GROUPS, 50_000)],
            "type": rng.choice(["text", "image", "audio"], 50_000),
            "timestamp": start + pd.to_timedelta(rng.integers(0, 60 * 86400, 50_000), unit="s"),
        }
    )
    return SimpleNamespace(frame=frame, archive=SimpleNamespace(errors=errors, messages=messages))


def test_every_chart_stays_under_altairs_row_limit(big):
    style = charts.group_style(big.frame)
    assert style.pooled and len(style.order) == charts._style.MAX_GROUPS
    built = {
        "ecdf": charts.latency_ecdf(big.frame, style=style),
        "percentiles": charts.latency_percentiles(big.frame, style=style),
        "over_time": charts.latency_over_time(big.frame, style=style),
        "within": charts.within_rate_over_time(big.frame, style=style),
        "funnel": charts.funnel_chart(big.frame, style=style),
        "coverage": charts.coverage_over_time(big.frame, style=style),
        "errors_time": charts.errors_over_time(big.archive),
        "errors_group": charts.errors_by_group(big.archive, style=style),
        "activity": charts.activity_heatmap(big.archive, style=style),
        "types": charts.messages_by_type(big.archive, style=style),
    }
    for name, chart in built.items():
        rows = embedded_rows(chart)  # to_dict() raises MaxRowsError past altair's limit
        assert 0 < rows < ALTAIR_MAX_ROWS, (name, rows)


def test_pooled_groups_keep_every_receipt(big):
    """Pooling the quiet groups as 'other groups' loses no receipt from the funnel."""
    data = embedded(charts.funnel_chart(big.frame))
    recipients = data.drop_duplicates("group")["recipients"]
    assert recipients.sum() == ROWS
    assert "other groups" in set(data["group"])
    assert data["group"].nunique() == charts._style.MAX_GROUPS + 1


def test_a_long_span_is_charted_per_day(big):
    spec = charts.latency_over_time(big.frame).to_dict()
    assert spec["encoding"]["x"]["timeUnit"]["unit"] == "utcyearmonthdate"
    buckets = embedded(charts.latency_over_time(big.frame))["bucket"].nunique()
    assert buckets == 60
