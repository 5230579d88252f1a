"""sample_data/ is the simulator's output, regenerable byte for byte, and its truth holds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import groupkit
from groupkit.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
# Keep in step with sample_data/README.md.
COMMAND = [
    "simulate",
    "--groups",
    "6",
    "--days",
    "3",
    "--seed",
    "2026",
    "--fmt",
    "mixed",
    "--knob",
    "duplicate=0.08",
    "--knob",
    "unknown_membership=0.2",
]

pytestmark = pytest.mark.skipif(not (SAMPLE / "webhooks").exists(), reason="no sample_data")


def test_committed_sample_data_is_what_the_documented_command_writes(tmp_path):
    result = CliRunner().invoke(main, [COMMAND[0], str(tmp_path), *COMMAND[1:]])
    assert result.exit_code == 0, result.output
    committed = sorted((SAMPLE / "webhooks").iterdir())
    fresh = sorted(tmp_path.iterdir())
    assert [p.name for p in fresh] == [p.name for p in committed]
    for new, old in zip(fresh, committed, strict=True):
        assert new.read_bytes() == old.read_bytes(), f"{old.name}: rerun the README command"


def test_documented_command_is_the_one_in_the_readme():
    readme = (SAMPLE / "README.md").read_text()
    assert " ".join(COMMAND[1:]).replace(" --knob duplicate", " \\\n    --knob duplicate") in readme


def test_sample_archive_is_small_and_mixes_formats():
    files = list((SAMPLE / "webhooks").iterdir())
    assert sum(f.stat().st_size for f in SAMPLE.rglob("*") if f.is_file()) <= 3_000_000
    suffixes = {"".join(f.suffixes) for f in files}
    assert {".ndjson", ".ndjson.gz", ".json"} <= suffixes


def test_deliveries_of_the_sample_equal_its_committed_truth():
    frame = groupkit.deliveries(groupkit.read_webhooks(str(SAMPLE / "webhooks")))
    truth = pd.read_parquet(SAMPLE / "truth" / "deliveries.parquet")
    truth = truth.astype(frame.dtypes.to_dict())  # Parquet keeps timestamps in ms
    pd.testing.assert_frame_equal(frame, truth)
    assert frame.attrs["duplicates_ignored"] > 0
    assert (frame["state"] == "failed").any()
