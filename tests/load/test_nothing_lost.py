"""Nothing is lost: every scalar value of every webhook is found in the frames.

The property is checked independently of how the loader reads: the test walks the
raw JSON of each record for its leaves, and looks for each one in the rows that
record produced (same ``source``), in any frame.  A value is found in a column
cell equal to it (a timestamp as its unix seconds, a number as its text), or, by
its key and value, inside a JSON-text column (``extra``, ``payload``, ``raw``).
Each occurrence must be found: a value that appears twice in a record needs two
places, so one field cannot hide the loss of another with the same value.  The
only values not looked for are those the frames imply (``schema.IMPLIED``: every
webhook is a WhatsApp Business Account's; the statuses and messages frames hold
``messages`` changes), at exactly their path; another test checks that any other
value at those paths is kept.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import groupkit
from groupkit import schema
from groupkit.simulate import simulate_archive
from tests.load.reference_samples import REFERENCE, webhook_samples
from tests.load.webhooks import PEER_FIXTURES

SHARED = PEER_FIXTURES.parent
REALWORLD = sorted((SHARED / "realworld").glob("*.json")) if SHARED.is_dir() else []
PYWA = sorted(PEER_FIXTURES.glob("*.json")) if PEER_FIXTURES.is_dir() else []
ROOT = Path(__file__).resolve().parents[2]
JSON_COLUMNS = ("extra", "payload", "raw")


ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def _text(value: object) -> str:
    """One spelling per value: numbers without a needless fraction, flags as JSON, an
    ISO 8601 time as its unix milliseconds."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, str) and ISO_TIME.match(value):
        with contextlib.suppress(ValueError):
            return str(pd.Timestamp(value).value // 10**6)
    return str(value)


def leaves(obj: object, key: str | None = None, path: str = "", record: bool = False):
    """(key, value text) of every non-null scalar in a JSON value that the frames do
    not imply (``record``: ``obj`` is a whole record, perhaps an archive's envelope)."""
    if isinstance(obj, dict):
        # An archive's envelope: the webhook in it is read as a webhook.
        wrapped = record and "entry" not in obj
        for k, v in obj.items():
            if wrapped and k in ("body", "payload"):
                yield from leaves(json.loads(v) if isinstance(v, str) else v, k, "")
            else:
                yield from leaves(v, k, f"{path}.{k}" if path else k)
    elif isinstance(obj, list):
        for v in obj:
            yield from leaves(v, key, f"{path}[]")
    elif obj is not None and schema.IMPLIED.get(path) != obj:
        yield key, _text(obj)


def _cell_texts(value: object, dtype) -> list[str]:
    if isinstance(value, pd.Timestamp):
        unit = getattr(dtype, "unit", "s")
        whole = int(value.value // {"s": 10**9, "ms": 10**6}.get(unit, 1))
        # received_at is kept in ms and written in seconds (or ms) by an envelope.
        seconds = [str(whole // 1000)] if unit == "ms" and whole % 1000 == 0 else []
        return [str(whole), *seconds]
    return [_text(value)]


def places_by_source(frames: dict[str, pd.DataFrame]) -> dict[str, tuple[Counter, Counter]]:
    """For each ``source``: (JSON leaves by (key, value), scalar cells by value) of its rows."""
    out: dict[str, tuple[Counter, Counter]] = {}
    for frame in frames.values():
        if frame.empty:
            continue
        sources = frame["source"].tolist() if "source" in frame else [None] * len(frame)
        for name in frame.columns:
            if name == "source":
                continue
            col = frame[name]
            for source, value in zip(sources, col.astype(object).tolist(), strict=True):
                if value is None or value is pd.NA or value is pd.NaT or value != value:
                    continue
                keyed, plain = out.setdefault(source, (Counter(), Counter()))
                if name in JSON_COLUMNS:
                    parsed = json.loads(value)
                    keyed.update(leaves(parsed))
                    if not isinstance(parsed, dict | list):
                        plain[_text(parsed)] += 1
                else:
                    plain.update(_cell_texts(value, col.dtype))
    return out


def missing(record: dict, place: tuple[Counter, Counter] | None) -> list[tuple[str | None, str]]:
    """The leaves of ``record`` that its rows' ``place`` does not hold (each occurrence
    counted; the counters are used up)."""
    keyed, plain = place or (Counter(), Counter())
    lost = []
    for key, value in leaves(record, record=True):
        if keyed[(key, value)] > 0:
            keyed[(key, value)] -= 1
        elif plain[value] > 0:
            plain[value] -= 1
        else:
            lost.append((key, value))
    return lost


def check_all(records: list[dict]) -> tuple[int, list]:
    """Load the records together; (leaves seen, leaves lost with the record's index).

    A record whose rows were dropped as a redelivery of another's is checked again
    on its own: its values then live in the copy that was kept.
    """
    archive = groupkit.parse_webhooks(records)
    assert archive.report.rejects == [], archive.report.rejects
    by_source = places_by_source(archive.frames())
    seen, lost = 0, []
    for i, record in enumerate(records):
        seen += sum(1 for _ in leaves(record, record=True))
        gone = missing(record, by_source.get(f"<memory>#{i}"))
        if gone and sum(archive.report.duplicates.values()):
            alone = groupkit.parse_webhooks([record]).frames()
            gone = missing(record, places_by_source(alone).get("<memory>#0"))
        lost += [(i, *leaf) for leaf in gone]
    return seen, lost


def _fixture_records(paths: list[Path]) -> list[dict]:
    records = []
    for path in paths:
        doc = json.loads(path.read_text())
        named = "entry" not in doc and all(isinstance(v, dict) for v in doc.values())
        records += list(doc.values()) if named else [doc]
    return records


@pytest.mark.skipif(not REALWORLD, reason="../shared/peer_fixtures/realworld is absent")
def test_every_leaf_of_the_real_world_payloads_is_in_a_frame():
    records = _fixture_records(REALWORLD)
    assert len(records) == 140
    seen, lost = check_all(records)
    # Every non-null scalar of the 140 payloads but the implied ones (object, ...).
    assert seen == 1798
    assert lost == []


@pytest.mark.skipif(not PYWA, reason="../shared/peer_fixtures/pywa is absent")
def test_every_leaf_of_the_pywa_payloads_is_in_a_frame():
    records = _fixture_records(PYWA)
    seen, lost = check_all(records)
    assert seen == 994
    assert lost == []


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference is absent")
def test_every_leaf_of_the_reference_samples_is_in_a_frame():
    records = [hook for _, hook in webhook_samples()]
    seen, lost = check_all(records)
    assert seen > 500
    assert lost == []


def _check_lines(path: Path, archive: groupkit.Archive) -> int:
    by_source = places_by_source(archive.frames())
    n = 0
    for line_no, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        assert missing(record, by_source.get(f"{path}:{line_no}")) == [], f"{path}:{line_no}"
        n += 1
    return n


def test_every_leaf_of_a_simulated_archive_is_in_a_frame(tmp_path):
    # No redeliveries: a dropped copy's values live on in the copy that was kept.
    simulate_archive(tmp_path, groups=4, days=1, seed=5, duplicate=0.0)
    archive = groupkit.read_webhooks(tmp_path, workers=1)
    assert archive.report.rejects == []
    assert sum(_check_lines(p, archive) for p in sorted(tmp_path.glob("*.ndjson"))) > 300


def test_every_leaf_of_the_benchmark_archive_is_in_a_frame(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import make_archive
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    path = tmp_path / "bench.ndjson"
    lines = [json.dumps(hook) for hook in make_archive.generate(2000, seed=3)]
    path.write_text("\n".join(lines) + "\n")
    archive = groupkit.read_webhooks(path, workers=1)
    assert _check_lines(path, archive) == 2000


# ------------------------------------------------------------------ the test itself


def test_the_check_finds_a_value_no_frame_holds():
    record = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"statuses": [
            {"id": "wamid.A", "status": "sent", "timestamp": "1750000000"}]}}]}],
    }  # fmt: skip

    def lost(frames):
        return missing(record, places_by_source(frames).get("<memory>#0"))

    assert lost(groupkit.parse_webhooks([record]).frames()) == []
    # Drop the extra column, and a new key would have nowhere to be.
    record["entry"][0]["changes"][0]["value"]["statuses"][0]["brand_new_key"] = "kept?"
    frames = groupkit.parse_webhooks([record]).frames()
    assert lost(frames) == []
    frames["statuses"] = frames["statuses"].drop(columns="extra")
    assert lost(frames) == [("brand_new_key", "kept?")]
    # Two leaves with one value need two places.
    twice = {"entry": [], "a": "x", "b": "x"}
    one = places_by_source({"f": pd.DataFrame({"c": ["x"], "source": ["s"]})})["s"]
    assert missing(twice, one) == [("b", "x")]
    assert math.isfinite(float(_text(1.0)))
