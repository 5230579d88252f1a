"""Acceptance: on simulated archives, every analytic equals the simulator's ground truth.

The truth comes from the model's records (``Simulation.truth``), never from reading the
archive back; the archives are read with the real loader.  Settings cover several seeds,
heavy redelivery, heavy reordering, groups whose membership the archive lacks, and the
JSON-array / gzip formats.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import groupkit
from groupkit.analytics import (
    deliveries,
    error_summary,
    funnel,
    latency_summary,
    read_coverage,
)
from groupkit.simulate import simulate_archive

SETTINGS = {
    "seed0": {"seed": 0},
    "seed1": {"seed": 1, "fmt": "mixed"},
    "seed2": {"seed": 2, "fmt": "json"},
    "seed3": {"seed": 3, "gzip": True},
    "seed4": {"seed": 4, "unknown_membership": 0.5},
    "heavy_duplicates": {"seed": 5, "duplicate": 0.6},
    "heavy_reordering": {"seed": 6, "reorder": 0.7, "aggregate": 0.8, "batch": 0.3},
}


@pytest.fixture(scope="module", params=list(SETTINGS))
def case(request, tmp_path_factory):
    settings = dict(SETTINGS[request.param])
    out = tmp_path_factory.mktemp(request.param)
    sim = simulate_archive(out, groups=8, days=2, **settings)
    archive = groupkit.read_webhooks(str(out))
    return sim, archive, deliveries(archive)


def test_deliveries_equal_the_truth_row_for_row(case):
    sim, _, frame = case
    pd.testing.assert_frame_equal(frame, sim.truth.deliveries)


def test_ignored_statuses_are_counted_as_injected(case):
    sim, _, frame = case
    assert frame.attrs["duplicates_ignored"] == sim.truth.counts["read_duplicates"]
    assert frame.attrs["ignored_after_failed"] == sim.truth.counts["stray_delivered"]


def test_heavy_settings_really_are_heavy(case):
    sim, _, frame = case
    if sim.knobs["duplicate"] >= 0.5:
        assert sim.stats["redeliveries"] > 0.3 * sim.stats["posts"]
    if sim.knobs["reorder"] >= 0.5:
        assert frame.attrs["regressions_ignored"] > 50


def _truth_quantiles(truth: pd.DataFrame, column: str, by: list[str], qs) -> pd.DataFrame:
    rows = []
    measured = truth[truth[column].notna()]
    groups = measured.groupby(by, dropna=False, sort=True) if by else [((), measured)]
    for key, part in groups:
        seconds = part[column].to_numpy().astype("timedelta64[s]").astype(np.int64)
        key = key if isinstance(key, tuple) else (key,)
        rows.append((*key, len(seconds), *np.quantile(seconds, qs), seconds.mean()))
    return pd.DataFrame(rows, columns=[*by, "count", *[f"q{q}" for q in qs], "mean"])


@pytest.mark.parametrize("metric", ["delivery", "read", "read_after_delivery"])
@pytest.mark.parametrize("by", [["group_id"], [], ["biz_opaque_callback_data"]])
def test_latency_quantiles_equal_those_of_the_truth(case, metric, by):
    sim, _, frame = case
    qs = (0.5, 0.9, 0.99)
    column = {"delivery": "delivery_latency", "read": "read_latency"}.get(metric, metric)
    expected = _truth_quantiles(sim.truth.deliveries, column, by, qs)
    got = latency_summary(frame, metric=metric, by=by or None, quantiles=qs)
    assert len(got) == len(expected)
    assert got["count"].tolist() == expected["count"].tolist()
    for q, name in zip(qs, ["p50_s", "p90_s", "p99_s"], strict=True):
        np.testing.assert_allclose(got[name], expected[f"q{q}"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["mean_s"], expected["mean"], rtol=1e-12)


def test_latency_from_the_archive_equals_latency_from_its_deliveries(case):
    _, archive, frame = case
    pd.testing.assert_frame_equal(latency_summary(archive), latency_summary(frame))


def test_funnel_counts_equal_the_truth_outcomes(case):
    sim, _, frame = case
    got = funnel(frame, by=None).iloc[0]
    known = {o.group_id for o in sim.truth.outcomes}
    truth = sim.truth.deliveries
    assert got["messages"] == len(sim.truth.outcomes) == truth["message_id"].nunique()
    assert got["messages_failed"] == sum(o.failed_at is not None for o in sim.truth.outcomes)
    # Every truth row is a receipt: a participant, or the unknown recipients of a message.
    assert got["recipients"] == len(truth)
    assert got["recipients_unknown"] == truth["participant_id"].isna().sum()
    assert got["read"] == sum(
        1
        for o in sim.truth.outcomes
        if o.failed_at is None
        for r in o.receipts
        if r.read_at is not None
    )
    assert got["recipients"] >= got["delivered"] >= got["read"]
    assert got["failed"] == (truth["state"] == "failed").sum()
    assert got["pending"] == truth["state"].isin(["pending", "sent"]).sum()
    assert got["delivered"] + got["failed"] + got["pending"] == got["recipients"]
    assert known  # the simulation sent something


def test_error_counts_equal_the_injected_failures(case):
    sim, archive, _ = case
    got = error_summary(archive).set_index("code")["count"].to_dict()
    expected: dict[int, int] = {}
    for o in sim.truth.outcomes:
        if o.error_code is not None:
            expected[o.error_code] = expected.get(o.error_code, 0) + 1
    unsupported = int((sim.truth.inbound["type"] == "unsupported").sum())
    if unsupported:
        expected[130501] = unsupported
    assert got == expected


def test_read_coverage_equals_members_who_read_in_time(case):
    sim, _, frame = case
    within = pd.Timedelta("30min")
    got = read_coverage(frame, within=within).set_index("message_id")
    groups_known = {o.group_id for o in sim.truth.outcomes} - set(
        sim.truth.deliveries.loc[sim.truth.deliveries["member_at_send"].isna(), "group_id"]
    )
    checked = 0
    for o in sim.truth.outcomes:
        if o.group_id not in groups_known or not o.participants:
            continue
        readers = sum(
            1
            for r in o.receipts
            if o.failed_at is None
            and r.read_at is not None
            and r.read_at - o.sent_at <= within.total_seconds()
        )
        row = got.loc[o.message_id]
        assert row["members"] == len(o.participants)
        assert row["readers_within"] == readers
        checked += 1
    assert checked > 0


def test_membership_frame_equals_the_truth(case):
    sim, archive, _ = case
    cols = ["group_id", "participant_id", "change", "timestamp"]
    got = archive.membership[cols].astype({"change": "str"})
    got = got.sort_values(cols).reset_index(drop=True)
    expected = sim.truth.membership
    expected = expected[expected["group_id"].isin(set(got["group_id"]))]
    expected = expected.sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
