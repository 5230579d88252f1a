"""Formats are recognised by content; every source kind reads the same webhooks."""

from __future__ import annotations

import gzip
import io
import json

import pandas as pd
import pytest

import groupkit
from tests.load.webhooks import GROUP, ndjson, status, statuses, text_message

HOOKS = [
    statuses(status("wamid.A", "sent")),
    statuses(
        status("wamid.A", "delivered", 1750000005, "111"),
        status("wamid.A", "delivered", 1750000006, "222"),
    ),
    text_message("wamid.IN1"),
]


def _summary(archive: groupkit.Archive) -> tuple:
    return (
        sorted(
            zip(
                archive.statuses["message_id"],
                archive.statuses["status"].astype(str),
                archive.statuses["participant_id"].fillna(""),
                strict=True,
            )
        ),
        archive.messages["message_id"].tolist(),
        archive.report.records_read,
        len(archive.report.rejects),
    )


EXPECTED = (
    [("wamid.A", "delivered", "111"), ("wamid.A", "delivered", "222"), ("wamid.A", "sent", "")],
    ["wamid.IN1"],
    3,
    0,
)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(
    "layout",
    ["ndjson", "ndjson-blank-lines", "ndjson-crlf", "json-array", "json-array-pretty", "bom"],
)
def test_every_layout_reads_the_same_webhooks(write, layout, gz):
    if layout == "ndjson":
        data = ndjson(*HOOKS)
    elif layout == "ndjson-blank-lines":
        data = b"\n\n" + ndjson(HOOKS[0]) + b"   \n\n" + ndjson(*HOOKS[1:]) + b"\n"
    elif layout == "ndjson-crlf":
        data = ndjson(*HOOKS).replace(b"\n", b"\r\n")
    elif layout == "json-array":
        data = json.dumps(HOOKS).encode()
    elif layout == "json-array-pretty":
        data = json.dumps(HOOKS, indent=2).encode()
    else:
        data = b"\xef\xbb\xbf" + ndjson(*HOOKS)
    # The file name says nothing about the format on purpose.
    archive = groupkit.read_webhooks(write("archive.dat", data, gz=gz))
    assert _summary(archive) == EXPECTED


def test_one_pretty_printed_webhook_per_file(write, tmp_path):
    for i, h in enumerate(HOOKS):
        write(f"hooks/{i}.json", json.dumps(h, indent=4))
    archive = groupkit.read_webhooks(tmp_path / "hooks")
    assert _summary(archive) == EXPECTED
    assert set(archive.statuses["source"].str.rsplit(":", n=1).str[1]) == {"1"}


def test_multi_member_gzip(write):
    data = gzip.compress(ndjson(HOOKS[0])) + gzip.compress(ndjson(*HOOKS[1:]))
    archive = groupkit.read_webhooks(write("multi.gz", data))
    assert _summary(archive) == EXPECTED


def test_named_collection_of_webhooks(write):
    """A mapping of names to webhooks (how peers keep fixtures); sources carry the names."""
    path = write(
        "named.json", json.dumps({"sent": HOOKS[0], "delivered": HOOKS[1], "inbound": HOOKS[2]})
    )
    archive = groupkit.read_webhooks(path)
    assert _summary(archive) == EXPECTED
    assert archive.messages["source"].tolist() == [f"{path}#inbound"]


def test_directory_glob_and_list_sources(write, tmp_path):
    write("a/day1.ndjson", ndjson(HOOKS[0]))
    write("a/deeper/day2.ndjson.gz", ndjson(HOOKS[1]), gz=True)
    write("a/day3.json", json.dumps([HOOKS[2]]))
    write("a/.hidden/ignored.ndjson", ndjson(statuses(status("wamid.HIDDEN", "sent"))))
    assert _summary(groupkit.read_webhooks(tmp_path / "a")) == EXPECTED
    glob = str(tmp_path / "a" / "**" / "day*")
    assert _summary(groupkit.read_webhooks(glob)) == EXPECTED
    listed = [
        tmp_path / "a" / "day1.ndjson",
        str(tmp_path / "a" / "deeper"),
        tmp_path / "a" / "day3.json",
    ]
    archive = groupkit.read_webhooks(listed)
    assert _summary(archive) == EXPECTED
    assert archive.report.files_read == 3


def test_folder_files_that_are_not_archives_are_skipped_and_reported(write, tmp_path):
    write("d/webhooks.ndjson", ndjson(*HOOKS))
    write("d/README.md", "# Notes\n\nSome text about {things}.\n")
    write("d/truth.parquet", b"PAR1" + b"\x00" * 20 + b"PAR1")
    archive = groupkit.read_webhooks(tmp_path / "d")
    assert _summary(archive) == EXPECTED
    skipped = dict(archive.report.skipped_files)
    assert set(skipped) == {
        str(tmp_path / "d" / "README.md"),
        str(tmp_path / "d" / "truth.parquet"),
    }
    assert "Parquet" in skipped[str(tmp_path / "d" / "truth.parquet")]
    assert "files skipped" in str(archive.report)


def test_a_file_named_explicitly_is_always_read(write):
    path = write("notes.txt", "hello\n")
    archive = groupkit.read_webhooks(path)
    assert archive.report.records_read == 1 and len(archive.report.rejects) == 1


def test_archive_with_a_damaged_first_line_in_a_folder_is_still_read(write, tmp_path):
    write("d/cut.ndjson", b'ssage":"x"}]}}]}]}\n' + ndjson(*HOOKS))
    archive = groupkit.read_webhooks(tmp_path / "d")
    assert archive.report.records_read == 4
    assert [r.line for r in archive.report.rejects] == [1]


def test_missing_path_and_empty_glob_are_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        groupkit.read_webhooks(tmp_path / "nope.ndjson")
    with pytest.raises(FileNotFoundError, match="no file matches"):
        groupkit.read_webhooks(str(tmp_path / "*.ndjson"))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(ndjson(*HOOKS), id="bytes"),
        pytest.param(ndjson(*HOOKS).decode(), id="str"),
        pytest.param(io.BytesIO(ndjson(*HOOKS)), id="binary-file"),
        pytest.param(gzip.compress(ndjson(*HOOKS)), id="gzip-bytes"),
        pytest.param(HOOKS, id="list-of-dicts"),
        pytest.param(iter(HOOKS), id="iterator-of-dicts"),
    ],
)
def test_parse_webhooks_takes_what_is_in_memory(data):
    assert _summary(groupkit.parse_webhooks(data)) == EXPECTED


def test_parse_one_dict_and_memory_sources():
    archive = groupkit.parse_webhooks(HOOKS[1])
    assert archive.statuses["source"].tolist() == ["<memory>#0", "<memory>#0"]
    archive = groupkit.parse_webhooks(HOOKS)
    assert archive.messages["source"].tolist() == ["<memory>#2"]


@pytest.mark.parametrize(
    "envelope",
    [
        lambda h: {"received_at": "2026-03-01T12:00:03.120Z", "body": h},
        lambda h: {"received_at": "2026-03-01T12:00:03.120+00:00", "body": json.dumps(h)},
        lambda h: {"received_at": 1772366403.12, "payload": h},
        lambda h: {"received_at": "1772366403.12", "payload": json.dumps(h)},
        lambda h: {"received_at": 1772366403120, "body": h},
    ],
    ids=[
        "iso-z-body",
        "iso-offset-body-string",
        "unix-payload",
        "unix-string-payload-string",
        "unix-ms",
    ],
)
def test_envelopes_are_unwrapped_and_received_at_kept(envelope, write):
    path = write("env.ndjson", ndjson(*(envelope(h) for h in HOOKS)))
    archive = groupkit.read_webhooks(path)
    assert _summary(archive) == EXPECTED
    expected = pd.Timestamp("2026-03-01T12:00:03.120Z")
    for frame in (archive.statuses, archive.messages):
        assert (frame["received_at"] == expected).all()
        assert str(frame["received_at"].dtype) == "datetime64[ms, UTC]"


def test_received_at_gives_the_lag_from_meta(write):
    h = {
        "received_at": "2025-06-15T15:06:43Z",
        "body": statuses(status("wamid.L", "sent", 1750000000)),
    }
    archive = groupkit.read_webhooks(write("lag.ndjson", ndjson(h)))
    lag = archive.statuses["received_at"] - archive.statuses["timestamp"]
    assert lag.dt.total_seconds().tolist() == [3.0]


def test_every_entry_change_and_status_of_a_post_is_read():
    post = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "metadata": {"phone_number_id": "P1"},
                            "statuses": [
                                status("wamid.1", "read", 1, "a"),
                                status("wamid.1", "read", 2, "b"),
                                status("wamid.1", "read", 3, "c"),
                            ],
                        },
                    },
                    {
                        "field": "messages",
                        "value": {
                            "metadata": {"phone_number_id": "P1"},
                            "statuses": [
                                status("wamid.2", "delivered", 4, "a"),
                                status("wamid.3", "delivered", 5, "a"),
                            ],
                        },
                    },
                ],
            },
            {
                "id": "WABA2",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "metadata": {"phone_number_id": "P2"},
                            "statuses": [status("wamid.9", "sent", 6)],
                        },
                    },
                ],
            },
        ],
    }
    st = groupkit.parse_webhooks([post]).statuses
    assert len(st) == 6
    assert st.groupby("waba_id").size().to_dict() == {"WABA1": 5, "WABA2": 1}
    assert st.loc[st["waba_id"] == "WABA2", "phone_number_id"].tolist() == ["P2"]
    assert sorted(st["participant_id"].dropna()) == ["a", "a", "a", "b", "c"]
    assert (st["group_id"] == GROUP).all()
