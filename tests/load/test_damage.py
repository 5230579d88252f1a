"""Damaged input costs only the damaged record, with the same reject on every path (issue 14)."""

from __future__ import annotations

import gzip
import re

import pandas as pd
import pytest

import groupkit
from groupkit.load import lane
from tests.load.webhooks import ndjson, status, statuses

GOOD = [ndjson(statuses(status(f"wamid.{i}", "sent"))) for i in range(300)]
DEEP = b'{"x":' + b"[" * 1000 + b"\n"
TOO_DEEP = "nested too deeply: more than 64 levels of objects and lists"


def every_path(tmp_path, data: bytes, monkeypatch) -> list[groupkit.Archive]:
    """``data`` loaded in memory, from a file (one and two workers) and gzipped, lane on and off."""
    plain, gz = tmp_path / "a.ndjson", tmp_path / "a.ndjson.gz"
    plain.write_bytes(data)
    gz.write_bytes(gzip.compress(data))
    out = []
    for enabled in (True, False):
        monkeypatch.setattr(lane, "ENABLED", enabled)
        out.append(groupkit.parse_webhooks(data))
        for path in (plain, gz):
            out.append(groupkit.read_webhooks(path, workers=1))
            out.append(groupkit.read_webhooks(path, workers=2))
    return out


def check(archives, statuses_expected: int, rejects: list[tuple[int, str]]) -> None:
    """Every archive holds the same statuses and exactly the ``rejects`` (line, reason)."""
    first = archives[0]
    assert len(first.statuses) == statuses_expected
    for archive in archives:
        report = archive.report
        assert [(r.line, r.reason) for r in report.rejects] == rejects
        assert report.records_read == (
            report.webhooks_parsed + report.send_records + len(report.rejects)
        )
        for name, frame in first.frames().items():
            got = archive.frames()[name]
            pd.testing.assert_frame_equal(frame.drop(columns="source"), got.drop(columns="source"))


def test_deep_nesting_is_one_reject_on_every_path(tmp_path, small_blocks, monkeypatch):
    data = b"".join(GOOD[:150]) + DEEP + b"".join(GOOD[150:])
    check(every_path(tmp_path, data, monkeypatch), 300, [(151, TOO_DEEP)])


@pytest.mark.parametrize("depth", [65, 500, 990, 1000, 5000])
def test_nesting_deeper_than_the_limit_never_depends_on_the_stack(depth):
    # Closed properly, inside a change groupkit keeps as canonical JSON: decodable by
    # msgspec below its own limit, too deep for what comes after it.
    nested = b"[" * depth + b"]" * depth
    rec = b'{"entry":[{"changes":[{"field":"calls","value":{"x":' + nested + b"}}]}]}\n"
    archive = groupkit.parse_webhooks(b"".join(GOOD[:3]) + rec + GOOD[3])
    assert [(r.line, r.reason) for r in archive.report.rejects] == [(4, TOO_DEEP)]
    assert len(archive.statuses) == 4
    with pytest.raises(groupkit.ArchiveError, match=f"<memory>:1: {TOO_DEEP}"):
        groupkit.parse_webhooks(rec, on_error="raise")


def test_nesting_within_the_limit_loads():
    nested = b"[" * 50 + b"]" * 50  # 56 levels with the webhook around it
    rec = b'{"entry":[{"changes":[{"field":"calls","value":{"x":' + nested + b"}}]}]}\n"
    archive = groupkit.parse_webhooks(rec)
    assert archive.report.rejects == []
    assert archive.other_changes["raw"].tolist() == ['{"x":' + "[" * 50 + "]" * 50 + "}"]


def test_a_deep_body_string_is_a_reject():
    inner = '{"entry":' + "[" * 100 + "]" * 100 + "}"
    archive = groupkit.parse_webhooks(ndjson({"received_at": 1, "body": inner}) + GOOD[0])
    assert [(r.line, r.reason) for r in archive.report.rejects] == [(1, f"body: {TOO_DEEP}")]
    assert len(archive.statuses) == 1


@pytest.mark.parametrize("first", [b"{", b"[", b"[]", b'["x"]', b"[{"])
def test_a_bad_first_line_costs_one_line(tmp_path, small_blocks, monkeypatch, first):
    data = first + b"\n" + b"".join(GOOD)
    archives = every_path(tmp_path, data, monkeypatch)
    reason = {
        b"{": "truncated JSON (the record ends too early)",
        b"[": "truncated JSON (the record ends too early)",
        b"[{": "truncated JSON (the record ends too early)",
        b"[]": "not a webhook: a record must be a JSON object, not a list",
        b'["x"]': "not a webhook: a record must be a JSON object, not a list",
    }[first]
    check(archives, 300, [(1, reason)])
    assert archives[0].report.records_read == 301


def test_documents_are_still_documents():
    hook = statuses(status("wamid.1", "sent"))
    pretty = groupkit.parse_webhooks(b"[\n" + ndjson(hook) + b"]\n")
    assert len(pretty.statuses) == 1 and pretty.report.rejects == []
    # A damaged pretty-printed document is one reject, as before.
    cut = groupkit.parse_webhooks(b'{\n  "object": "whatsapp_business_account",\n  "entry": [\n')
    assert cut.report.records_read == 1 and len(cut.report.rejects) == 1


def _hook_at(received_at: bytes) -> bytes:
    return (
        b'{"received_at":' + received_at + b',"entry":[{"changes":[{"field":"messages",'
        b'"value":{"statuses":[{"id":"w"}]}}]}]}\n'
    )


# Each record, and the reject it must be (2**63 = 9223372036854775808).
HUGE = [
    (_hook_at(b"1e300"), "received_at 1e+300 is out of range (not a time)"),
    (
        _hook_at(b"9223372036854775808"),
        "received_at 9223372036854775808 is out of range (not a time)",
    ),
    (_hook_at(b'"1e300"'), "received_at 1e+300 is out of range (not a time)"),
    (
        b'{"kind":"groupkit.send","attempts":99999999999999999999}\n',
        "send log.attempts 99999999999999999999 is out of range",
    ),
    (
        b'{"kind":"groupkit.send","http_status":9223372036854775808}\n',
        "send log.http_status 9223372036854775808 is out of range",
    ),
    (
        b'{"kind":"groupkit.send","expiration_days":9223372036854775808}\n',
        "send log.expiration_days 9223372036854775808 is out of range",
    ),
    # 9.3e15 seconds is more milliseconds than 64 bits hold: once kept as 9.3e15 *ms*.
    (
        b'{"kind":"groupkit.send","requested_at":9.3e15}\n',
        "send log.requested_at 9300000000000000.0 is out of range",
    ),
    (
        b'{"kind":"groupkit.send","attempts":' + b"9" * 5000 + b"}\n",
        "a number out of range (an integer of thousands of digits)",
    ),
]


def test_numbers_out_of_range_are_rejects_on_every_path(tmp_path, small_blocks, monkeypatch):
    data = b"".join(GOOD[:100])
    expected = []
    for n, (record, reason) in enumerate(HUGE):
        data += record + GOOD[100 + n]
        expected.append((101 + 2 * n, reason))
    data += b"".join(GOOD[100 + len(HUGE) :])
    check(every_path(tmp_path, data, monkeypatch), 300, expected)


@pytest.mark.parametrize(("record", "reason"), HUGE)
def test_a_number_out_of_range_raises_archive_error(record, reason):
    with pytest.raises(groupkit.ArchiveError) as caught:
        groupkit.parse_webhooks(record, on_error="raise")
    assert str(caught.value) == f"<memory>:1: {reason}"


def test_the_largest_times_that_fit_still_load():
    # 8.9e15 s is 8.9e18 ms, below 2**63 (about 9.22e18).
    sends = groupkit.parse_webhooks(b'{"kind":"groupkit.send","requested_at":8.9e15}\n').sends
    assert sends["requested_at"].astype("int64").tolist() == [8_900_000_000_000_000_000]


def _change(field: bytes, value: bytes, key: bytes = b"changes") -> bytes:
    return b'{"entry":[{"' + key + b'":[{"field":"' + field + b'","value":' + value + b"}]}]}\n"


# Bytes that are not UTF-8 in places groupkit does not model, and the byte each
# reason names (the offset counted by hand from the start of the record).
NOT_UTF8 = [
    (_change(b"messages", b'{"x":"\xff\xfe","statuses":[{"id":"w"}]}'), b"\\xff", 56),
    (_change(b"calls", b'{"x":"caf\xe9"}'), b"\\xe9", 56),
    (_change(b"messages", b'{"statuses":[{"id":"w"}]}', key=b"chang\xecs"), b"\\xec", 17),
]


def test_bytes_that_are_not_utf8_make_a_reject_on_every_path(tmp_path, small_blocks, monkeypatch):
    data = b"".join(GOOD[:100])
    expected = []
    for n, (record, byte, at) in enumerate(NOT_UTF8):
        data += record + GOOD[100 + n]
        reason = f"not UTF-8 text: byte b'{byte.decode()}' is not valid UTF-8 (byte {at})"
        expected.append((101 + 2 * n, reason))
    data += b"".join(GOOD[100 + len(NOT_UTF8) :])
    archives = every_path(tmp_path, data, monkeypatch)
    check(archives, 300, expected)
    # Nothing of those records is kept: no calls change, no `caf\ufffd`.
    assert all(len(archive.other_changes) == 0 for archive in archives)


@pytest.mark.parametrize(("record", "byte", "at"), NOT_UTF8)
def test_a_record_that_is_not_utf8_raises_archive_error(record, byte, at):
    reason = f"not UTF-8 text: byte b'{byte.decode()}' is not valid UTF-8 (byte {at})"
    with pytest.raises(groupkit.ArchiveError, match=re.escape(f"<memory>:1: {reason}")):
        groupkit.parse_webhooks(record, on_error="raise")
