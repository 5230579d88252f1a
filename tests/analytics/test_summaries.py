"""latency_summary, funnel, read_coverage and the time buckets on small hand-built archives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from groupkit.analytics import bucket, deliveries, funnel, latency_summary, read_coverage
from groupkit.exceptions import GroupkitError
from tests.analytics.tiny import GROUP, T0, make_archive, member, status

A, B, C, D = "16505550001", "16505550002", "16505550003", "16505550004"
OTHER = "Y2FwaV9ncm91cDoxNTU1MDc4Mzg4MToxMjAzNjM0OTk5OTk5OQZD"


@pytest.fixture
def archive():
    """Two groups: one with membership (A-D, D never reports), one without (one reader)."""
    return make_archive(
        [
            status("wamid.1", "sent", 0, biz_opaque_callback_data="spring"),
            status("wamid.1", "delivered", 2, A),
            status("wamid.1", "delivered", 4, B),
            status("wamid.1", "delivered", 30, C),
            status("wamid.1", "read", 62, A),
            status("wamid.1", "read", 7204, B),
            status("wamid.2", "sent", 3600),
            status(
                "wamid.2", "failed", 3610, error_code=131026, error_title="Message Undeliverable"
            ),
            status("wamid.3", "sent", 100, group_id=OTHER),
            status("wamid.3", "read", 110, A, group_id=OTHER),
        ],
        membership=[member(p, "join", -600) for p in (A, B, C, D)],
    )


def test_latency_summary_per_group_matches_numpy(archive):
    out = latency_summary(archive, metric="delivery").set_index("group_id")
    row = out.loc[GROUP]
    assert row["count"] == 3
    assert row["p50_s"] == np.quantile([2, 4, 30], 0.5)
    assert row["p90_s"] == pytest.approx(np.quantile([2, 4, 30], 0.9))
    assert row["mean_s"] == pytest.approx(12.0)
    assert row["share_within"] == pytest.approx(2 / 3) and row["within_s"] == 5
    assert out.loc[OTHER, "count"] == 1  # the implied delivery of a read counts


def test_latency_summary_overall_custom_quantiles_and_threshold(archive):
    out = latency_summary(archive, metric="read", by=None, quantiles=(0.25, 0.999), within_s=120)
    assert list(out.columns) == ["count", "mean_s", "p25_s", "p99.9_s", "share_within", "within_s"]
    assert out["count"].item() == 3
    assert out["p25_s"].item() == np.quantile([62, 7204, 10], 0.25)
    assert out["share_within"].item() == pytest.approx(2 / 3)


def test_latency_by_tracking_data_hour_and_half_hour_bucket(archive):
    by_biz = latency_summary(archive, by="biz_opaque_callback_data")
    assert by_biz["biz_opaque_callback_data"].isna().sum() == 1  # untagged messages kept
    by_hour = latency_summary(archive, by="hour")
    assert by_hour["hour"].tolist() == [10]
    bucketed = latency_summary(archive, by=None, freq="HALF_HOUR")
    assert bucketed["bucket"].dt.minute.tolist() == [0]


def test_latency_rejects_unknown_metric_and_key(archive):
    with pytest.raises(GroupkitError, match="metric"):
        latency_summary(archive, metric="speed")
    with pytest.raises(GroupkitError, match="cannot group by"):
        latency_summary(archive, by="colour")


def test_funnel_nests_and_counts_pending_members(archive):
    out = funnel(archive).set_index("group_id")
    g = out.loc[GROUP]
    assert (g["recipients"], g["delivered"], g["read"], g["pending"], g["failed"]) == (
        8,
        3,
        2,
        1,
        4,
    )
    assert g["messages"] == 2 and g["messages_failed"] == 1
    assert g["read_rate"] == pytest.approx(2 / 8)
    assert g["read_of_delivered"] == pytest.approx(2 / 3)
    overall = funnel(archive, by=None).iloc[0]
    assert overall["recipients"] >= overall["delivered"] >= overall["read"]
    assert overall["recipients"] == 9


def test_funnel_accepts_a_deliveries_frame_and_a_day_bucket(archive):
    frame = deliveries(archive)
    pd.testing.assert_frame_equal(funnel(frame), funnel(archive))
    by_day = funnel(frame, by="group_id", freq="day")
    assert by_day["bucket"].dt.hour.unique().tolist() == [0]


def test_read_coverage_counts_silent_members_in_the_denominator(archive):
    out = read_coverage(archive, within="1h").set_index("message_id")
    first = out.loc["wamid.1"]
    assert (first["members"], first["readers"], first["readers_within"]) == (4, 2, 1)
    assert first["coverage"] == 0.25 and first["coverage_any"] == 0.5
    assert first["members_known"]
    assert out.loc["wamid.2", "failed"] and out.loc["wamid.2", "coverage"] == 0
    unknown = out.loc["wamid.3"]
    assert not unknown["members_known"] and unknown["members"] == 1


def test_read_coverage_per_group_and_day_is_a_ratio_of_sums(archive):
    out = read_coverage(archive, within=3 * 3600, freq="day").set_index("group_id")
    g = out.loc[GROUP]
    assert g["messages"] == 2 and g["members"] == 8 and g["readers_within"] == 2
    assert g["coverage"] == 0.25
    assert g["mean_message_coverage"] == pytest.approx((0.5 + 0.0) / 2)


def test_buckets_follow_meta_granularities():
    ts = pd.Series(
        pd.to_datetime([T0 + 29 * 60, T0 + 31 * 60, T0 + 40 * 86400], unit="s", utc=True)
    )
    assert bucket(ts, "half_hour").dt.minute.tolist() == [0, 30, 0]
    assert bucket(ts, "DAILY").dt.day.tolist() == [1, 1, 10]
    assert bucket(ts, "month").dt.strftime("%Y-%m-%d").tolist() == [
        "2026-03-01",
        "2026-03-01",
        "2026-04-01",
    ]
    assert str(bucket(ts, "month").dtype) == str(ts.dtype)
    with pytest.raises(GroupkitError, match="granularities"):
        bucket(ts, "hour")


def test_empty_archive_gives_empty_but_well_formed_summaries():
    empty = make_archive()
    assert latency_summary(empty).empty and "p99_s" in latency_summary(empty).columns
    overall = latency_summary(empty, by=None).iloc[0]
    assert overall["count"] == 0 and np.isnan(overall["p50_s"])
    assert funnel(empty, by=None).iloc[0]["recipients"] == 0
    assert read_coverage(empty).empty and read_coverage(empty, freq="day").empty
