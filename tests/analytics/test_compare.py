"""compare(): two windows, each change with a 95 % interval, against textbook formulas.

The rate tests are worked out here from the formulas in any statistics text (the
pooled two-proportion z-test; Wilson intervals combined as Newcombe 1998 does), with
``math`` only, and must match within 1e-6.  The percentile checks use numpy on the
hand-built samples.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import groupkit
from groupkit.analytics.change import METRICS, last_windows, spans
from groupkit.analytics.deliveries import empty_deliveries
from groupkit.exceptions import GroupkitError
from groupkit.simulate import simulate_archive

Z = 1.959963984540054  # the 97.5 % point of the standard normal
BEFORE = ("2026-03-01", "2026-03-08")
AFTER = ("2026-03-08", "2026-03-15")


def receipts(group: str, day: str, states: list[str], read_s=None, delivery_s=None):
    """Receipts of one group, all sent on ``day``, in the given states."""
    frame = empty_deliveries().reindex(range(len(states)))
    frame["group_id"] = group
    frame["message_id"] = [f"wamid.{group}.{day}.{i // 8}" for i in range(len(states))]
    frame["participant_id"] = [str(1650 + i % 8) for i in range(len(states))]
    frame["sent_at"] = pd.Timestamp(day, tz="UTC")
    frame["state"] = pd.Categorical(states, categories=frame["state"].cat.categories)
    if read_s is not None:
        frame["read_latency"] = pd.to_timedelta(read_s, unit="s")
    if delivery_s is not None:
        frame["delivery_latency"] = pd.to_timedelta(delivery_s, unit="s")
    return frame


def _pooled_z_p(c1: int, n1: int, c2: int, n2: int) -> float:
    p1, p2, pooled = c1 / n1, c2 / n2, (c1 + c2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return math.erfc(abs(z) / math.sqrt(2))  # two-sided normal tail


def _wilson(c: int, n: int) -> tuple[float, float]:
    p = c / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def _newcombe(c1: int, n1: int, c2: int, n2: int) -> tuple[float, float]:
    """Newcombe's hybrid score interval (his method 10) for p1 - p2."""
    p1, p2 = c1 / n1, c2 / n2
    l1, u1 = _wilson(c1, n1)
    l2, u2 = _wilson(c2, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt(
        (u1 - p1) ** 2 + (p2 - l2) ** 2
    )


def test_a_rate_change_matches_the_textbook_formulas_within_1e6():
    # Before: 45 of 60 receipts read; after: 30 of 64.
    frame = pd.concat(
        [
            receipts("G", "2026-03-03", ["read"] * 45 + ["delivered"] * 15),
            receipts("G", "2026-03-10", ["read"] * 30 + ["delivered"] * 34),
        ],
        ignore_index=True,
    )
    row = groupkit.compare(frame, before=BEFORE, after=AFTER, by=None)
    row = row.set_index("metric").loc["read_rate"]
    assert (row["before"], row["after"], row["n_before"], row["n_after"]) == (0.75, 30 / 64, 60, 64)
    assert row["change"] == pytest.approx(30 / 64 - 0.75, abs=1e-12)
    assert row["p_value"] == pytest.approx(_pooled_z_p(30, 64, 45, 60), abs=1e-6)
    low, high = _newcombe(30, 64, 45, 60)
    assert row["ci_low"] == pytest.approx(low, abs=1e-6)
    assert row["ci_high"] == pytest.approx(high, abs=1e-6)
    assert row["significant"] and row["p_value"] < 0.05 and row["note"] == ""


def test_eight_members_a_big_looking_drop_is_not_significant():
    """Eight members, three messages a week: 18 of 24 read, then 12 of 24 -- 25 points
    down.  The pooled z is 1.79 (p = 0.074) and the interval reaches past zero."""
    frame = pd.concat(
        [
            receipts("SMALL", "2026-03-03", ["read"] * 18 + ["delivered"] * 6),
            receipts("SMALL", "2026-03-10", ["read"] * 12 + ["delivered"] * 12),
        ],
        ignore_index=True,
    )
    out = groupkit.compare(frame, before=BEFORE, after=AFTER)
    row = out.set_index("metric").loc["read_rate"]
    assert row["change"] == pytest.approx(-0.25)
    assert row["p_value"] == pytest.approx(_pooled_z_p(12, 24, 18, 24), abs=1e-6)
    assert row["p_value"] == pytest.approx(0.0736, abs=1e-4)
    assert row["ci_low"] < 0 < row["ci_high"]
    assert not row["significant"]
    # The same shares over ten times the receipts are a real drop.
    big = pd.concat(
        [
            receipts("BIG", "2026-03-03", ["read"] * 180 + ["delivered"] * 60),
            receipts("BIG", "2026-03-10", ["read"] * 120 + ["delivered"] * 120),
        ],
        ignore_index=True,
    )
    row = groupkit.compare(big, before=BEFORE, after=AFTER).set_index("metric").loc["read_rate"]
    assert row["change"] == pytest.approx(-0.25) and row["significant"]
    assert row["ci_high"] < 0


def test_one_message_to_eight_is_too_few_receipts_to_test():
    frame = pd.concat(
        [
            receipts("G", "2026-03-03", ["read"] * 8),
            receipts("G", "2026-03-10", ["delivered"] * 8),
        ],
        ignore_index=True,
    )
    row = groupkit.compare(frame, before=BEFORE, after=AFTER).set_index("metric").loc["read_rate"]
    assert (row["before"], row["after"], row["change"]) == (1.0, 0.0, -1.0)
    assert np.isnan(row["p_value"]) and np.isnan(row["ci_low"])
    assert not row["significant"] and row["note"].startswith("too few receipts")
    row = groupkit.compare(frame, before=BEFORE, after=AFTER, min_receipts=8)
    row = row.set_index("metric").loc["read_rate"]
    assert row["significant"] and row["note"] == ""


def test_no_difference_at_all_has_p_value_one():
    frame = pd.concat(
        [
            receipts("G", "2026-03-03", ["read"] * 16),
            receipts("G", "2026-03-10", ["read"] * 16),
        ],
        ignore_index=True,
    )
    out = groupkit.compare(frame, before=BEFORE, after=AFTER).set_index("metric")
    assert out.loc["read_rate", "p_value"] == 1.0
    assert out.loc["failed_rate", "p_value"] == 1.0
    assert not out["significant"].any()


def test_percentiles_are_numpys_and_a_clear_shift_is_significant():
    rng = np.random.default_rng(1)
    slow = rng.exponential(600, 80).round()
    fast = rng.exponential(60, 80).round()
    frame = pd.concat(
        [
            receipts("G", "2026-03-03", ["read"] * 80, read_s=fast, delivery_s=fast / 10),
            receipts("G", "2026-03-10", ["read"] * 80, read_s=slow, delivery_s=fast / 10),
        ],
        ignore_index=True,
    )
    out = groupkit.compare(frame, before=BEFORE, after=AFTER, by=None).set_index("metric")
    for q, name in ((0.5, "read_p50"), (0.9, "read_p90")):
        assert out.loc[name, "before"] == np.quantile(fast, q)
        assert out.loc[name, "after"] == np.quantile(slow, q)
        assert out.loc[name, "ci_low"] <= out.loc[name, "change"] <= out.loc[name, "ci_high"]
        assert out.loc[name, "significant"] and out.loc[name, "ci_low"] > 0
    assert out.loc["read_p50", "unit"] == "seconds"
    # The same delivery latencies in both weeks: no change, nothing significant.
    assert out.loc["delivery_p50", "change"] == 0 and not out.loc["delivery_p50", "significant"]
    again = groupkit.compare(frame, before=BEFORE, after=AFTER, by=None).set_index("metric")
    pd.testing.assert_frame_equal(out, again)  # the seed makes it reproducible
    other = groupkit.compare(frame, before=BEFORE, after=AFTER, by=None, seed=7)
    assert other.set_index("metric").loc["read_p50", "ci_low"] != out.loc["read_p50", "ci_low"]


def test_last_seven_days_against_the_seven_before_on_a_simulated_archive(tmp_path):
    simulate_archive(tmp_path, groups=3, days=15, seed=21, messages_per_day=(2, 4))
    archive = groupkit.read_webhooks(tmp_path)
    frame = groupkit.deliveries(archive)
    assert spans(frame) >= pd.Timedelta(days=14)
    before, after = last_windows(frame, "7D")
    assert after[1] == frame["sent_at"].max().floor("D") + pd.Timedelta(days=1)
    assert after[1] - after[0] == before[1] - before[0] == pd.Timedelta(days=7)
    out = groupkit.compare(archive, last="7D")
    assert set(out["metric"]) == set(METRICS)
    assert out["group_id"].nunique() == 3 and out.columns[0] == "group"
    # Rates are the funnel's over each window's receipts (a message never sent counts
    # at its failure).
    when = frame["sent_at"].fillna(frame["failed_at"])
    assert (frame["sent_at"].isna() & (when >= before[0])).any()  # the rule matters here
    for name, (start, end) in (("before", before), ("after", after)):
        part = frame[(when >= start) & (when < end)]
        funnel = groupkit.funnel(part).set_index("group_id")
        got = out[out["metric"] == "read_rate"].set_index("group_id")
        np.testing.assert_allclose(got[name], funnel.loc[got.index, "read_rate"], rtol=1e-12)
        assert got[f"n_{name}"].tolist() == funnel.loc[got.index, "recipients"].tolist()
    whole = groupkit.compare(archive, last="7D", by=None)
    assert len(whole) == len(METRICS) and "group_id" not in whole


def test_bad_windows_say_what_is_wrong():
    frame = receipts("G", "2026-03-03", ["read"])
    with pytest.raises(GroupkitError, match="before="):
        groupkit.compare(frame)
    with pytest.raises(GroupkitError, match="ends"):
        groupkit.compare(frame, before=("2026-03-08", "2026-03-01"), after=AFTER)
    with pytest.raises(GroupkitError, match="not both"):
        groupkit.compare(frame, before=BEFORE, after=AFTER, last="7D")
    with pytest.raises(GroupkitError, match="not a column"):
        groupkit.compare(frame, before=BEFORE, after=AFTER, by="colour")
