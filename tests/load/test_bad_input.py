"""Bad records become rejects with file, line and reason; everything else still loads."""

from __future__ import annotations

import gzip
import json

import pytest

import groupkit
from tests.load.webhooks import hook, ndjson, status, statuses, text_message

GOOD = [statuses(status(f"wamid.G{i}", "sent", 1750000000 + i)) for i in range(4)]


def _with_bad_line(bad: bytes) -> bytes:
    """Good records on lines 1, 2, 4, 5 and the bad one on line 3."""
    return ndjson(*GOOD[:2]) + bad + b"\n" + ndjson(*GOOD[2:])


BAD_LINES = {
    "malformed JSON": (b'{"object": "whatsapp_business_account", "entry": [', "JSON"),
    "JSON that is not an object": (b"[1, 2, 3]", "a record must be a JSON object, not a list"),
    "a string, not an object": (b'"hello"', "a record must be a JSON object, not text"),
    "not a webhook": (b'{"hello": "world"}', "not a webhook"),
    "status without id": (
        json.dumps(statuses({"status": "sent", "timestamp": "1750000000"})).encode(),
        "a status has no `id` - at `entry[0].changes[0].value.statuses[0]`",
    ),
    "status timestamp not a number": (
        json.dumps(statuses(status("wamid.T", "sent", "yesterday"))).encode(),
        "statuses[].timestamp 'yesterday' is not a number",
    ),
    "status timestamp in hex": (
        json.dumps(statuses(status("wamid.X", "sent", "0x10"))).encode(),
        "statuses[].timestamp '0x10' is not a number",
    ),
    "status timestamp beyond int64": (
        json.dumps(statuses(status("wamid.B", "sent", "99999999999999999999"))).encode(),
        "statuses[].timestamp '99999999999999999999' is out of range",
    ),
    "message timestamp not a number": (
        json.dumps(text_message("wamid.M")).replace('"1750000100"', '"soon"').encode(),
        "messages[].timestamp 'soon' is not a number",
    ),
    "error code not a number": (
        json.dumps(statuses(status("wamid.E", "failed", errors=[{"code": "ERROR_CODE"}]))).encode(),
        "code 'ERROR_CODE' is not a number",
    ),
    "entry is not a list": (
        b'{"object": "whatsapp_business_account", "entry": {"id": "1"}}',
        "`$.entry`",
    ),
    "non-UTF-8 bytes": (
        json.dumps(text_message("wamid.U", body="caf\u00e9"))
        .encode()
        .replace(b"caf\\u00e9", b"caf\xe9"),
        "UTF-8",
    ),
    "received_at not a time": (
        json.dumps({"received_at": "last tuesday", "body": GOOD[0]}).encode(),
        "received_at 'last tuesday'",
    ),
    "body that is not JSON": (
        json.dumps({"received_at": 1, "body": "{nope"}).encode(),
        "body: malformed JSON",
    ),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_each_bad_record_is_a_reject_and_the_rest_loads(write, case):
    bad, reason = BAD_LINES[case]
    path = write("day.ndjson", _with_bad_line(bad))
    archive = groupkit.read_webhooks(path)
    report = archive.report
    assert report.records_read == 5
    assert report.webhooks_parsed == 4
    assert [(r.path, r.line, r.source) for r in report.rejects] == [(str(path), 3, f"{path}:3")]
    assert reason in report.rejects[0].reason
    assert sorted(archive.statuses["message_id"]) == [f"wamid.G{i}" for i in range(4)]
    # Nothing of the bad record leaked into any frame.
    for frame in archive.frames().values():
        assert not frame["source"].eq(f"{path}:3").any()


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_on_error_raise_names_file_line_and_reason(write, case):
    bad, reason = BAD_LINES[case]
    path = write("day.ndjson", _with_bad_line(bad))
    with pytest.raises(groupkit.ArchiveError) as info:
        groupkit.read_webhooks(path, on_error="raise")
    err = info.value
    assert (err.path, err.line) == (str(path), 3)
    assert reason in err.reason
    assert str(err).startswith(f"{path}:3: ")


def test_a_record_rejected_for_a_value_loses_all_its_rows(write):
    """A POST whose second status has a bad timestamp is rejected whole, first status too."""
    bad = statuses(
        status("wamid.OK", "read", 1750000000, "111"), status("wamid.OK", "read", "x", "222")
    )
    archive = groupkit.read_webhooks(write("a.ndjson", ndjson(GOOD[0], bad)))
    assert archive.statuses["message_id"].tolist() == ["wamid.G0"]
    assert (
        archive.report.webhooks_parsed + len(archive.report.rejects)
        == archive.report.records_read
        == 2
    )


def test_truncated_last_line(write):
    data = ndjson(*GOOD) + json.dumps(GOOD[0]).encode()[:40]
    archive = groupkit.read_webhooks(write("cut.ndjson", data))
    assert archive.report.records_read == 5
    assert [r.line for r in archive.report.rejects] == [5]
    assert "truncated" in archive.report.rejects[0].reason
    assert len(archive.statuses) == 4


def test_truncated_gzip_stream_keeps_what_came_before(write):
    many = [statuses(status(f"wamid.Z{i}", "sent", 1750000000 + i)) for i in range(200)]
    data = gzip.compress(ndjson(*many))
    path = write("cut.ndjson.gz", data[: len(data) // 2])
    archive = groupkit.read_webhooks(path)
    report = archive.report
    assert len(report.rejects) == 1
    assert "gzip stream is truncated" in report.rejects[0].reason
    assert report.rejects[0].line == report.records_read
    assert report.webhooks_parsed == report.records_read - 1 == len(archive.statuses) > 0


def test_corrupt_gzip_stream(write):
    many = [statuses(status(f"wamid.Z{i}", "sent", 1750000000 + i)) for i in range(200)]
    data = bytearray(gzip.compress(ndjson(*many)))
    data[len(data) // 2 : len(data) // 2 + 8] = b"\xff" * 8
    archive = groupkit.read_webhooks(write("bad.gz", bytes(data)))
    assert any("gzip stream is corrupt" in r.reason for r in archive.report.rejects)
    report = archive.report
    assert report.records_read == report.webhooks_parsed + len(report.rejects)


def test_malformed_json_document(write):
    path = write("doc.json", '{\n  "object": "whatsapp_business_account",\n  "entry": [\n')
    archive = groupkit.read_webhooks(path)
    assert archive.report.records_read == 1
    assert archive.report.rejects[0].source == f"{path}:1"


def test_malformed_json_array(write):
    archive = groupkit.read_webhooks(write("arr.json", "[" + json.dumps(GOOD[0]) + ",\n{"))
    assert archive.report.records_read == 1 and len(archive.report.rejects) == 1
    assert "JSON array" in archive.report.rejects[0].reason


def test_bad_element_of_a_json_array_is_addressed_by_index(write):
    path = write("arr.json", json.dumps([GOOD[0], 7, GOOD[1]]))
    archive = groupkit.read_webhooks(path)
    assert [(r.source, r.line) for r in archive.report.rejects] == [(f"{path}#1", None)]
    assert len(archive.statuses) == 2


def test_numbers_as_ints_or_strings_are_both_normal():
    as_int = statuses(
        status("wamid.N", "failed", 1750000000, errors=[{"code": 131026, "title": "t"}])
    )
    as_str = statuses(
        status("wamid.N", "failed", "1750000000", errors=[{"code": "131026", "title": "t"}])
    )
    as_int["entry"][0]["changes"][0]["value"]["statuses"][0]["timestamp"] = 1750000000
    a, b = groupkit.parse_webhooks([as_int]), groupkit.parse_webhooks([as_str])
    assert a.report.rejects == b.report.rejects == []
    for frame in ("statuses", "errors"):
        left = a.frames()[frame].drop(columns="source")
        right = b.frames()[frame].drop(columns="source")
        assert left.equals(right)
    assert a.statuses["error_code"].tolist() == [131026]


def test_group_event_timestamps_as_bare_numbers():
    item = {"timestamp": 1750000000, "group_id": "G", "type": "group_suspend"}
    archive = groupkit.parse_webhooks([hook("group_status_update", {"groups": [item]})])
    assert archive.group_events["timestamp"].astype("int64").tolist() == [1750000000]


def test_unserialisable_dict_in_memory_is_a_reject():
    archive = groupkit.parse_webhooks([GOOD[0], {"entry": [], "x": object()}])
    assert archive.report.records_read == 2
    assert [r.source for r in archive.report.rejects] == ["<memory>#1"]


def test_unknown_on_error_value():
    with pytest.raises(ValueError, match="on_error"):
        groupkit.parse_webhooks([], on_error="ignore")  # type: ignore[arg-type]


def test_report_lists_rejects_in_text_html_and_frame(write):
    path = write("day.ndjson", _with_bad_line(b"{oops"))
    report = groupkit.read_webhooks(path).report
    assert f"{path}:3: malformed JSON" in str(report)
    assert "{oops" in report._repr_html_() and "1 rejects" in report._repr_html_()
    frame = report.rejects_frame()
    assert frame[["source", "line"]].values.tolist() == [[f"{path}:3", 3]]
    assert frame["excerpt"].tolist() == ["{oops"]


def test_what_a_timestamp_means_does_not_depend_on_its_neighbours():
    # Arrow's string cast alone would read "0x10" as 16 when every timestamp of a
    # block is a string, while a numeric neighbour sent the block the exact way.
    hexed = json.dumps(statuses(status("wamid.H", "sent", "0x10")))
    for neighbour in ("1750000000", 1750000000):
        other = json.dumps(statuses(status("wamid.N", "sent", neighbour)))
        archive = groupkit.parse_webhooks(f"{other}\n{hexed}\n".encode())
        assert [r.line for r in archive.report.rejects] == [2]
        assert list(archive.statuses["message_id"]) == ["wamid.N"]
