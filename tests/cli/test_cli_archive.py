"""groupkit summary and groupkit export, run as a user would."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

import groupkit
from groupkit import webhooks
from groupkit._cli_archive import group_table
from groupkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"


def _hook(statuses=(), messages=()):
    value = {"statuses": list(statuses), "messages": list(messages)}
    return webhooks.envelope(
        "messages", value, waba_id="1", messaging_product=None, with_metadata=False
    )


def _st(mid, state, group, participant=None):
    return webhooks.status(mid, state, 1750000000, group_id=group, participant=participant)


def test_group_table_counts():
    hooks = [
        _hook([_st("m1", "sent", "G1"), _st("m2", "sent", "G1"), _st("m3", "failed", "G2")]),
        _hook([_st("m1", "delivered", "G1", "a"), _st("m1", "delivered", "G1", "b")]),
        _hook([_st("m1", "read", "G1", "a")]),
        _hook(
            messages=[
                {
                    "id": "in1",
                    "from": "a",
                    "group_id": "G1",
                    "timestamp": "1750000001",
                    "type": "text",
                    "text": {"body": "hi"},
                }
            ]
        ),
    ]
    table = group_table(groupkit.parse_webhooks(hooks)).set_index("group")
    # m2 has no receipt and G1 no membership: one receipt of unknown recipients, pending.
    assert table.loc["…G1"].to_dict() == {
        "messages": 2,
        "failed msgs": 0,
        "receipts": 3,
        "delivered": 2,
        "read": 1,
        "failed": 0,
        "pending": 1,
        "inbound": 1,
    }
    # A message that failed outright counts as a failed receipt, never 0 failed.
    assert table.loc["…G2", ["failed msgs", "receipts", "failed"]].tolist() == [1, 1, 1]
    assert table.loc["all groups", "receipts"] == 4


def test_summary_of_the_sample_data():
    result = CliRunner().invoke(main, ["summary", str(SAMPLE), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "records read" in result.output and "rejects                     0" in result.output
    truth = pd.read_parquet(SAMPLE / "truth" / "deliveries.parquet")
    assert f"per group ({truth['group_id'].nunique()} groups, busiest first)" in result.output
    assert "README.md: not a webhook archive" in result.output


def test_summary_of_a_missing_path_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["summary", str(tmp_path / "nope")])
    assert result.exit_code == 3
    assert "no such file or directory" in result.stderr


def test_summary_raise_on_bad_record(tmp_path):
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"entry": []}\n{nope\n')
    result = CliRunner().invoke(main, ["summary", str(bad), "--on-error", "raise"])
    assert result.exit_code == 3
    assert f"{bad}:2: malformed JSON" in result.stderr


def test_export_writes_every_frame_as_parquet(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["export", str(SAMPLE / "webhooks"), "--to", str(out)])
    assert result.exit_code == 0, result.output
    archive = groupkit.read_webhooks(SAMPLE / "webhooks")
    for name, frame in archive.frames().items():
        back = pd.read_parquet(out / f"{name}.parquet")
        pd.testing.assert_frame_equal(back, frame, check_dtype=False, check_categorical=False)

        # Parquet has no second unit (seconds come back as ms); the rest round-trips.
        def kinds(df):
            return {
                c: str(t)
                for c, t in df.dtypes.items()
                if not str(t).startswith(("str", "datetime"))
            }

        if len(frame):  # an empty categorical column comes back as object
            assert kinds(back) == kinds(frame)
    assert (out / "load_report.txt").read_text().startswith("files read")
    assert len(pd.read_parquet(out / "rejects.parquet")) == 0


def test_export_writes_participants_and_receipts_as_csv(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["export", str(SAMPLE / "webhooks"), "--to", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{out / 'participants.csv'}:" in result.output
    truth = pd.read_parquet(SAMPLE / "truth" / "deliveries.parquet")
    receipts = pd.read_csv(out / "receipts.csv", dtype={"participant_id": str})
    known = truth[truth["participant_id"].notna()]
    assert len(receipts) == len(known)
    reads = receipts[receipts["state"] == "read"]
    assert len(reads) == (known["state"] == "read").sum()
    people = pd.read_csv(out / "participants.csv", dtype={"participant_id": str})
    per_person = known.groupby(["group_id", "participant_id"]).size()
    got = people.set_index(["group_id", "participant_id"])["messages"]
    assert got.loc[per_person.index].tolist() == per_person.tolist()
    assert {"name", "silent_streak", "read_rate", "replies"} <= set(people.columns)
