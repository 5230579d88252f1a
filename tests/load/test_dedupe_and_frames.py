"""Redeliveries, dtypes, sources, the send log and the raw record behind a row."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import groupkit
from groupkit import schema
from groupkit.load import read_record
from groupkit.load.redeliveries import candidate_duplicates
from tests.load.webhooks import GROUP, hook, ndjson, status, statuses, text_message

FAILED = statuses(
    status(
        "wamid.F",
        "failed",
        1750000009,
        errors=[
            {
                "code": 131026,
                "title": "Message undeliverable",
                "message": "Message undeliverable",
                "error_data": {"details": "Unable to deliver message."},
                "href": "https://example.invalid/e",
            }
        ],
    )
)
READ_TWO = statuses(
    status("wamid.A", "read", 1750000010, "111"), status("wamid.A", "read", 1750000011, "222")
)


def test_exact_redeliveries_across_files_leave_one_row(write, tmp_path):
    write("d/day1.ndjson", ndjson(READ_TWO, FAILED, text_message("wamid.IN")))
    write("d/day2.ndjson", ndjson(FAILED, READ_TWO, text_message("wamid.IN")))
    archive = groupkit.read_webhooks(tmp_path / "d")
    assert len(archive.statuses) == 3 and len(archive.messages) == 1 and len(archive.errors) == 1
    assert archive.report.duplicates == {
        "statuses": 3,
        "messages": 1,
        "errors": 1,
        "group_events": 0,
        "membership": 0,
        "other_changes": 0,
        "sends": 0,
    }
    # The first read is kept: everything kept comes from day1.
    assert all(
        src.endswith(tuple(f"day1.ndjson:{i}" for i in (1, 2, 3)))
        for src in archive.statuses["source"]
    )


def test_the_same_status_in_another_aggregation_is_a_redelivery():
    single = statuses(status("wamid.A", "read", 1750000011, "222"))
    archive = groupkit.parse_webhooks([READ_TWO, single])
    assert sorted(archive.statuses["participant_id"]) == ["111", "222"]
    assert archive.report.duplicates["statuses"] == 1


def test_first_received_is_kept_when_the_archive_has_receipt_times():
    late = {"received_at": "2025-06-15T15:10:00Z", "body": READ_TWO}
    early = {"received_at": "2025-06-15T15:07:00Z", "body": READ_TWO}
    archive = groupkit.parse_webhooks([late, early])
    assert (archive.statuses["received_at"] == pd.Timestamp("2025-06-15T15:07:00Z")).all()
    assert set(archive.statuses["source"]) == {"<memory>#1"}


def test_statuses_that_differ_are_all_kept():
    again_later = statuses(status("wamid.A", "read", 1750000099, "111"))  # another timestamp
    archive = groupkit.parse_webhooks([READ_TWO, again_later, FAILED])
    assert len(archive.statuses) == 4
    assert archive.report.duplicates["statuses"] == 0


def test_identical_items_inside_one_post_are_not_redeliveries():
    twice = statuses(
        status("wamid.A", "read", 1750000010, "111"), status("wamid.A", "read", 1750000010, "111")
    )
    archive = groupkit.parse_webhooks([twice, twice])
    assert len(archive.statuses) == 2
    assert archive.report.duplicates["statuses"] == 2


def test_error_rows_follow_their_status():
    other_error = statuses(
        status("wamid.F", "failed", 1750000009, errors=[{"code": 131049, "title": "x"}])
    )
    archive = groupkit.parse_webhooks([FAILED, FAILED, other_error])
    assert sorted(archive.errors["code"].tolist()) == [131026, 131049]
    assert archive.report.duplicates["errors"] == 1


@pytest.mark.parametrize("frame", list(schema.FRAMES))
def test_frames_have_the_schema_columns_and_dtypes(frame, write):
    from tests.load.reference_samples import REFERENCE, webhook_samples

    if REFERENCE.exists():
        hooks = [h for _, h in webhook_samples()]
    else:  # without ../shared: one webhook of each kind, so every frame has rows
        joined = {
            "group_id": GROUP,
            "type": "group_participants_update",
            "timestamp": "1750000200",
            "added_participants": [{"wa_id": "16505550000"}],
        }
        hooks = [
            READ_TWO,
            FAILED,
            text_message("wamid.M"),
            hook("group_participants_update", {"groups": [joined]}),
        ]
    send = {
        "kind": "groupkit.send",
        "message_id": "wamid.S",
        "group_id": GROUP,
        "type": "text",
        "operation": "send_text",
        "requested_at": 1750000000.5,
        "accepted_at": 1750000001.25,
        "ok": True,
        "attempts": 1,
        "http_status": 200,
        "provider": "360dialog",
    }
    other = hook("account_update", {"event": "ACCOUNT_DELETED"})
    path = write("all.ndjson", ndjson(*hooks, send, other))
    df = groupkit.read_webhooks(path).frames()[frame]
    assert len(df) > 0
    assert {c: str(t) for c, t in df.dtypes.items()} == {
        c: str(pd.Series([], dtype=t).dtype) for c, t in schema.dtypes(frame).items()
    }


def test_empty_input_gives_empty_frames_with_the_full_schema(write):
    for archive in (
        groupkit.parse_webhooks([]),
        groupkit.read_webhooks(write("empty.ndjson", b"")),
    ):
        for name, df in archive.frames().items():
            assert df.empty
            assert df.dtypes.to_dict() == schema.empty_frame(name).dtypes.to_dict()
        assert archive.report.records_read == 0


def test_timestamps_are_utc_and_exact():
    st = groupkit.parse_webhooks([READ_TWO]).statuses
    assert st["timestamp"].tolist() == [
        pd.Timestamp("2025-06-15 15:06:50", tz="UTC"),
        pd.Timestamp("2025-06-15 15:06:51", tz="UTC"),
    ]


def test_send_log_lines_become_the_sends_frame(write, tmp_path):
    send = {
        "kind": "groupkit.send",
        "version": 1,
        "message_id": "wamid.A",
        "group_id": GROUP,
        "type": "text",
        "operation": "send_text",
        "requested_at": 1750000009.5,
        "accepted_at": 1750000009.75,
        "ok": True,
        "attempts": 2,
        "http_status": 200,
        "error_code": None,
        "error_title": None,
        "provider": "360dialog",
    }
    failed = {
        **send,
        "message_id": None,
        "ok": False,
        "accepted_at": None,
        "error_code": 131041,
        "error_title": "Group unknown",
        "http_status": 400,
    }
    write("d/webhooks.ndjson", ndjson(READ_TWO))
    write("d/sends.jsonl", ndjson(send, failed, send))  # a line written twice is one send
    archive = groupkit.read_webhooks(tmp_path / "d")
    report = archive.report
    assert (report.records_read, report.webhooks_parsed, report.send_records) == (4, 1, 3)
    assert report.duplicates["sends"] == 1
    sends = archive.sends.sort_values("ok")
    assert sends["ok"].tolist() == [False, True]
    assert sends["accepted_at"].iloc[1] == pd.Timestamp("2025-06-15 15:06:49.750", tz="UTC")
    assert sends["error_code"].tolist()[0] == 131041
    assert "send records" in str(report)


def test_other_fields_are_kept_raw():
    value = {"event": "ACCOUNT_VIOLATION", "violation_info": {"violation_type": "SPAM"}}
    archive = groupkit.parse_webhooks([hook("account_update", value)])
    assert archive.other_changes["field"].tolist() == ["account_update"]
    assert json.loads(archive.other_changes["raw"].iloc[0])["violation_info"] == {
        "violation_type": "SPAM"
    }
    assert archive.report.unknown_fields == {"account_update": 1}


def test_read_record_returns_the_raw_payload_behind_a_row(write):
    path = write("a.ndjson", ndjson(FAILED, READ_TWO))
    archive = groupkit.read_webhooks(path)
    source = archive.statuses.loc[archive.statuses["participant_id"] == "222", "source"].item()
    assert read_record(source) == READ_TWO
    arr = write("b.json", json.dumps([FAILED, READ_TWO]))
    src = groupkit.read_webhooks(arr).statuses["source"].iloc[-1]
    assert src == f"{arr}#1" and read_record(src) == READ_TWO


def test_archive_repr_and_html():
    archive = groupkit.parse_webhooks([READ_TWO])
    assert repr(archive).startswith("<Archive statuses=2,")
    assert "<table>" in archive._repr_html_()


_VALUES = st.sampled_from(["a", "b", "", "ab", "é😀", None])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_VALUES, _VALUES, st.sampled_from([0, 1, None])), max_size=30),
    st.integers(0, 3),
)
def test_candidate_duplicates_never_miss_a_duplicate(rows, chunks):
    """The hashed prefilter may flag extra rows (compared in full after), never fewer
    than pandas finds, over Arrow strings in several chunks, categories and times."""
    text = pd.array([r[0] for r in rows], dtype="str")
    if chunks and len(rows) > 1:  # an Arrow column in several chunks, as blocks make it
        cut = len(rows) // 2
        text = pd.concat([pd.Series(text[:cut]), pd.Series(text[cut:])], ignore_index=True)
    df = pd.DataFrame(
        {
            "text": text,
            "kind": pd.Categorical([r[1] for r in rows]),
            "at": pd.to_datetime([r[2] for r in rows], unit="s", utc=True),
        }
    )
    key = ["text", "kind", "at"][: 1 + chunks % 3]
    got = candidate_duplicates(df, key)
    want = df.duplicated(subset=key, keep=False).to_numpy()
    assert (got | ~want).all()
