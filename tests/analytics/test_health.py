"""webhook_health(): redeliveries, out-of-order statuses, lag, orphans and gaps, by hand.

The last tests check the totals against the simulator's own count of the POSTs it wrote.
"""

from __future__ import annotations

import pandas as pd
import pytest

import groupkit
from groupkit.simulate import simulate_archive
from tests.analytics.hooks import at, post, send_line, status

A, B = "16505551234", "16505551235"


def _iso(seconds: float) -> str:
    return at(seconds).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_a_redelivered_status_is_one_redelivery_among_the_webhooks():
    delivered = post(status("wamid.A", "delivered", 5, A))
    archive = groupkit.parse_webhooks([post(status("wamid.A", "sent", 0)), delivered, delivered])
    health = groupkit.webhook_health(archive)
    assert health[["webhooks", "redeliveries"]].values.tolist() == [[3, 1]]
    assert health["redelivery_rate"].iloc[0] == pytest.approx(1 / 3)


def test_a_delivered_after_read_is_out_of_order_by_reading_order():
    archive = groupkit.parse_webhooks(
        [
            post(status("wamid.A", "sent", 0)),
            post(status("wamid.A", "read", 60, A)),
            post(status("wamid.A", "delivered", 5, A)),  # arrives after the read
            post(status("wamid.A", "delivered", 6, B)),  # another receipt: in order
        ]
    )
    health = groupkit.webhook_health(archive)
    assert health["out_of_order"].tolist() == [1]
    assert health.attrs["arrival_order"] == "reading order"


def test_a_sent_after_a_participants_delivered_is_out_of_order():
    archive = groupkit.parse_webhooks(
        [
            post(status("wamid.A", "delivered", 5, A)),
            post(status("wamid.A", "sent", 0)),
        ]
    )
    assert groupkit.webhook_health(archive)["out_of_order"].tolist() == [1]


def test_arrival_is_by_received_at_when_every_status_has_it():
    # Read first in the file, but received after the delivered: in order.
    archive = groupkit.parse_webhooks(
        [
            post(status("wamid.A", "read", 60, A), received_at=_iso(61)),
            post(status("wamid.A", "delivered", 5, A), received_at=_iso(6)),
            post(status("wamid.A", "sent", 0), received_at=_iso(1)),
        ]
    )
    health = groupkit.webhook_health(archive)
    assert health["out_of_order"].tolist() == [0]
    assert health.attrs["arrival_order"] == "received_at"


def test_statuses_of_one_post_arrive_together():
    # An aggregated POST (one participant, two messages) is not out of order with itself.
    archive = groupkit.parse_webhooks(
        [post(status("wamid.A", "read", 60, A), status("wamid.B", "read", 61, A))]
    )
    assert groupkit.webhook_health(archive)["out_of_order"].tolist() == [0]


def test_lag_quantiles_are_received_at_minus_timestamp():
    # Lags 1 s, 2 s and 10 s.  Linear interpolation over the sorted lags [1, 2, 10]:
    # p50 = 2; p90 at position 1.8 = 2 + 0.8 * 8 = 8.4; p99 at 1.98 = 2 + 0.98 * 8 = 9.84.
    archive = groupkit.parse_webhooks(
        [
            post(status("wamid.A", "sent", 0), received_at=_iso(1)),
            post(status("wamid.A", "delivered", 5, A), received_at=_iso(7)),
            post(status("wamid.A", "read", 60, A), received_at=_iso(70)),
        ]
    )
    health = groupkit.webhook_health(archive)
    assert health["lag_p50"].iloc[0] == pd.Timedelta(seconds=2)
    assert health["lag_p90"].iloc[0] == pd.Timedelta(seconds=8.4)
    assert health["lag_p99"].iloc[0] == pd.Timedelta(seconds=9.84)


def test_without_received_at_the_lag_is_null():
    archive = groupkit.parse_webhooks([post(status("wamid.A", "sent", 0))])
    health = groupkit.webhook_health(archive)
    assert health[["lag_p50", "lag_p90", "lag_p99"]].isna().all(axis=None)


def test_receipts_of_a_message_with_no_sent_are_orphans_unless_the_send_log_has_it():
    hooks = [
        post(status("wamid.X", "delivered", 5, A), status("wamid.X", "delivered", 5, B)),
        post(status("wamid.X", "read", 9, A)),  # same receipt as A's delivered
        post(status("wamid.Y", "sent", 0)),
        post(status("wamid.Y", "delivered", 5, A)),
    ]
    assert groupkit.webhook_health(groupkit.parse_webhooks(hooks))["orphan_receipts"].tolist() == [
        2
    ]
    logged = [*hooks, send_line("send_text", -1, message="wamid.X")]
    health = groupkit.webhook_health(groupkit.parse_webhooks(logged))
    assert health["orphan_receipts"].tolist() == [0]


def test_a_day_without_any_webhook_inside_the_span_is_a_gap():
    day = 86_400
    archive = groupkit.parse_webhooks(
        [post(status("wamid.A", "sent", 0)), post(status("wamid.B", "sent", 2 * day))]
    )
    health = groupkit.webhook_health(archive, freq="day")
    assert health["bucket"].dt.strftime("%m-%d").tolist() == ["03-01", "03-02", "03-03"]
    assert health["webhooks"].tolist() == [1, 0, 1]
    assert health["gaps"].tolist() == [False, True, False]


def test_an_empty_archive_has_no_periods():
    health = groupkit.webhook_health(groupkit.parse_webhooks([]))
    assert health.empty and "gaps" in health.columns


def test_a_deliveries_frame_is_refused():
    frame = groupkit.deliveries(groupkit.parse_webhooks([]))
    with pytest.raises(groupkit.GroupkitError, match="needs an Archive"):
        groupkit.webhook_health(frame)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    sim = simulate_archive(tmp_path_factory.mktemp("health"), groups=4, days=2, seed=11)
    return sim


def test_the_totals_are_the_posts_and_redeliveries_the_simulator_wrote(simulated):
    archive = groupkit.read_webhooks(simulated.out, progress=False)
    health = groupkit.webhook_health(archive)
    assert health["webhooks"].sum() == simulated.stats["posts"]
    assert health["redeliveries"].sum() == simulated.stats["redeliveries"] > 0


def test_the_cache_carries_the_redeliveries(simulated, tmp_path):
    fresh = groupkit.webhook_health(groupkit.read_webhooks(simulated.out, progress=False))
    cache = tmp_path / "cache"
    groupkit.read_webhooks(simulated.out, cache=cache, progress=False)
    again = groupkit.read_webhooks(simulated.out, cache=cache, progress=False)
    pd.testing.assert_frame_equal(groupkit.webhook_health(again), fresh)
