"""simulate_archive: deterministic files in several formats, with truth built from the model."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from groupkit.cli import main
from groupkit.simulate import simulate_archive


def records(path) -> list[dict]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    if path.name.endswith(".json") or path.name.endswith(".json.gz"):
        return json.loads(data)
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def hooks(path) -> list[dict]:
    out = []
    for record in records(path):
        if "received_at" in record:
            body = record.get("body", record.get("payload"))
            record = json.loads(body) if isinstance(body, str) else body
        out.append(record)
    return out


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = simulate_archive(tmp_path / "a", groups=3, days=1, seed=11)
    b = simulate_archive(tmp_path / "b", groups=3, days=1, seed=11)
    c = simulate_archive(tmp_path / "c", groups=3, days=1, seed=12)
    assert [f.read_bytes() for f in a.files] == [f.read_bytes() for f in b.files]
    assert [f.read_bytes() for f in a.files] != [f.read_bytes() for f in c.files]
    pd.testing.assert_frame_equal(a.truth.deliveries, b.truth.deliveries)


def test_mixed_format_writes_daily_ndjson_gzip_and_json_array(tmp_path):
    sim = simulate_archive(tmp_path, groups=3, days=3, seed=2, fmt="mixed")
    names = [f.name for f in sim.files]
    assert any(n.endswith(".ndjson") for n in names)
    assert any(n.endswith(".ndjson.gz") for n in names)
    assert any(n.endswith(".json") for n in names)
    assert all(n.startswith("webhooks-2026-03-") for n in names)
    assert sum(len(records(f)) for f in sim.files) == sim.stats["posts"]


def test_envelopes_in_all_three_styles_on_part_of_the_archive(tmp_path):
    sim = simulate_archive(tmp_path, groups=4, days=1, seed=3, envelope=0.5)
    recs = [r for f in sim.files for r in records(f)]
    wrapped = [r for r in recs if "received_at" in r]
    assert 0 < len(wrapped) < len(recs) and len(wrapped) == sim.stats["enveloped"]
    assert any(isinstance(r.get("body"), dict) for r in wrapped)
    assert any(isinstance(r.get("body"), str) for r in wrapped)
    assert any("payload" in r for r in wrapped)
    assert all(r["received_at"].endswith("Z") for r in wrapped)


def test_archive_carries_membership_inbound_types_and_batched_posts(tmp_path):
    sim = simulate_archive(tmp_path, groups=6, days=2, seed=4, batch=0.3)
    all_hooks = [h for f in sim.files for h in hooks(f)]
    fields = {c["field"] for h in all_hooks for e in h["entry"] for c in e["changes"]}
    assert {"messages", "group_participants_update", "group_lifecycle_update"} <= fields
    assert any(len(h["entry"]) > 1 for h in all_hooks)
    kinds = set(sim.truth.inbound["type"])
    assert {"text", "image", "reaction", "unsupported"} <= kinds
    changes = set(sim.truth.membership["change"])
    assert changes == {"join", "leave"}


def test_truth_is_consistent_with_the_outcomes(tmp_path):
    sim = simulate_archive(tmp_path, groups=6, days=2, seed=5)
    truth = sim.truth.deliveries
    assert truth["message_id"].nunique() == len(sim.truth.outcomes)
    read = truth[truth["state"] == "read"]
    assert (read["read_at"] >= read["delivered_at"]).all()
    assert (truth.loc[truth["state"] == "failed", "delivered_at"].isna()).all()
    assert truth["delivered_implied"].any()
    sizes = truth.groupby("message_id")["participant_id"].count()
    assert sizes.max() <= 8


def test_unknown_knob_and_format_are_refused(tmp_path):
    with pytest.raises(TypeError, match="unknown simulator knob"):
        simulate_archive(tmp_path, groups=1, days=1, dupes=0.3)
    with pytest.raises(ValueError, match="fmt"):
        simulate_archive(tmp_path, groups=1, days=1, fmt="csv")


def test_cli_writes_the_archive_with_knobs(tmp_path):
    result = CliRunner().invoke(
        main,
        ["simulate", str(tmp_path), "--groups", "2", "--days", "1", "--knob", "gzip=True"],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".gz"] * len(list(tmp_path.iterdir()))
    bad = CliRunner().invoke(main, ["simulate", str(tmp_path), "--knob", "nope=1"])
    assert bad.exit_code != 0 and "NAME=VALUE" in bad.output
