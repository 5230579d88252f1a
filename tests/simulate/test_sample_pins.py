"""sample_data/sends/pins.jsonl is simulate_pins' output for the sample archive, byte for byte,
and sample_data/rates-illustrative.csv says on every row that it is illustrative."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import groupkit
from groupkit.simulate import simulate_archive
from groupkit.simulate.pins import simulate_pins

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"

pytestmark = pytest.mark.skipif(not (SAMPLE / "sends").exists(), reason="no sample_data")


def test_committed_pins_are_what_the_documented_snippet_writes(tmp_path):
    # Keep in step with sample_data/README.md.
    sim = simulate_archive(
        tmp_path / "webhooks",
        groups=6,
        days=3,
        seed=2026,
        fmt="mixed",
        duplicate=0.08,
        unknown_membership=0.2,
    )
    fresh = simulate_pins(sim, tmp_path / "sends" / "pins.jsonl", seed=2026)
    assert fresh.read_bytes() == (SAMPLE / "sends" / "pins.jsonl").read_bytes()
    readme = (SAMPLE / "README.md").read_text()
    assert 'simulate_pins(sim, "sample_data/sends/pins.jsonl", seed=2026)' in readme


def test_the_sample_pins_include_a_replacement_an_unpin_and_an_expiry():
    archive = groupkit.read_webhooks(
        [str(SAMPLE / "webhooks"), str(SAMPLE / "sends")], progress=False
    )
    ended = set(groupkit.pins(archive)["ended_by"].dropna())
    assert {"replaced", "unpin", "expiry"} <= ended


def test_the_rate_card_is_marked_illustrative():
    card = pd.read_csv(SAMPLE / "rates-illustrative.csv")
    assert card["note"].str.contains("illustrative only").all()
