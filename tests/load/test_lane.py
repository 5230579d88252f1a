"""The C status lane reads exactly what the msgspec walker reads, or hands the line back.

Every comparison loads the same bytes twice, once with the lane and once with the
walker alone (``_lane.ENABLED = False``), and requires identical frames, rejects
and counts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groupkit
from groupkit.load import lane as _lane
from tests.load.webhooks import GROUP, PEER_FIXTURES, hook, status, statuses, text_message

ROOT = Path(__file__).resolve().parents[2]


def test_the_c_lane_is_built():
    # pip builds it wherever there is a C compiler; CI must test it, not skip it.
    assert _lane._scan is not None, "groupkit._scan is missing: reinstall with a C compiler"


def _both(load):
    """(with the lane, walker only) results of ``load()``."""
    assert _lane.ENABLED
    with_lane = load()
    _lane.ENABLED = False
    try:
        walker = load()
    finally:
        _lane.ENABLED = True
    return with_lane, walker


def assert_same(a: groupkit.Archive, b: groupkit.Archive) -> None:
    for name, frame in a.frames().items():
        pd.testing.assert_frame_equal(frame, b.frames()[name], check_exact=True, obj=name)
    ra, rb = a.report, b.report
    assert [(r.line, r.reason) for r in ra.rejects] == [(r.line, r.reason) for r in rb.rejects]
    assert (ra.records_read, ra.webhooks_parsed, ra.rows, ra.duplicates) == (
        rb.records_read,
        rb.webhooks_parsed,
        rb.rows,
        rb.duplicates,
    )


def _taken(data: bytes) -> int:
    """How many lines the C lane itself takes."""
    return _lane._scan.read(data, 1)[1]


def test_sample_data_reads_the_same_and_mostly_through_the_lane():
    source = ROOT / "sample_data"
    a, b = _both(lambda: groupkit.read_webhooks(source))
    assert_same(a, b)
    ndjson = [p for p in (source / "webhooks").iterdir() if p.suffix in (".ndjson", ".jsonl")]
    assert ndjson and any(_taken(p.read_bytes()) for p in ndjson)


@pytest.mark.skipif(not PEER_FIXTURES.is_dir(), reason="../shared/peer_fixtures/pywa is absent")
def test_peer_fixtures_read_the_same():
    lines = []
    for path in sorted(PEER_FIXTURES.glob("*.json")):
        for payload in json.loads(path.read_text()).values():
            lines.append(json.dumps(payload, separators=(",", ":")))
    data = ("\n".join(lines) + "\n").encode()
    a, b = _both(lambda: groupkit.parse_webhooks(data))
    assert_same(a, b)
    assert a.report.records_read == len(lines)


def _line(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _rich_statuses() -> list[str]:
    """Status POSTs in every shape the lane reads, plus some it must hand back."""
    pricing = {"billable": False, "pricing_model": "PMP", "category": "utility", "type": "regular"}
    conversation = {
        "id": "c1",
        "origin": {"type": "utility"},
        "pricing": dict(pricing, billable=True),
    }
    return [
        _line(statuses(status("wamid.1", "sent"), status("wamid.1", "delivered", participant="1"))),
        _line(statuses(status("wamid.2", "read", participant_recipient_id="16505550002"))),
        _line(statuses(status("wamid.3", "sent", pricing=pricing, conversation=conversation))),
        _line(statuses(status("wamid.4", "sent", conversation=conversation))),
        _line(statuses(status("wamid.5", "sent", pricing=None, conversation={"origin": None}))),
        _line(statuses(status("wamid.6", "sent", group_id=GROUP, recipient_type="individual"))),
        _line(statuses(status("wamid.7", "sent", ts=None, biz_opaque_callback_data="x y"))),
        _line(statuses(status("wamid.8", "read", recipient_participant_user_id="US.1", errors=[]))),
        _line(statuses(status("wamid.9", "failed", errors=[{"code": 131000, "title": "x"}]))),
        _line(statuses(status("wamid.10", "sent", ts=1750000000))),  # a number: the walker
        _line(statuses(status("wamid.11", "sent", extra={"a": [1, {"b": None}], "c": True}))),
        _line(statuses(status("wamid.15", "sent", extra={"a": [False, {"b": None}], "c": "d"}))),
        _line(text_message("wamid.12")),
        json.dumps(statuses(status("wamid.13", "sent"))),  # spaces after : and ,
        _line(statuses(status("wamid.14", "sent", pricing={"billable": None}))),
        _line(statuses(status("wamid.1", "sent"))),  # a redelivery
    ]


def test_every_shape_reads_the_same():
    lines = _rich_statuses()
    data = ("\n".join(lines) + "\n").encode()
    a, b = _both(lambda: groupkit.parse_webhooks(data))
    assert_same(a, b)
    assert a.report.duplicates["statuses"] == 1
    # The failed status and the numeric timestamp go to the walker, the rest not.
    assert 0 < _taken(data) < len(lines)


HAZARDS = {
    "NaN": '{"x":NaN,',
    "Infinity": '{"x":-Infinity,',
    "duplicate entry": '{"entry":[],',
    "escaped key": '{"\\u0065ntry":[],',
    "non-ASCII": '{"x":"é",',
    "BOM": "\ufeff{",
    "vertical tab": "\x0b{",
    "two objects": '{}{"x":1,',
    "received_at": '{"received_at":"2025-06-15T12:00:00Z",',
    "number received_at": '{"received_at":1750000000,',
    "body": '{"body":"{}",',
    "trailing comma": '{"x":[1,],',
    "leading zero": '{"x":01,',
}


@pytest.mark.parametrize("name", HAZARDS)
def test_a_hazard_at_the_start_of_a_lane_line_reads_the_same(name):
    good = _line(statuses(status("wamid.h", "sent")))
    bad = HAZARDS[name] + good[1:]
    data = f"{good}\n{bad}\n{good.replace('wamid.h', 'wamid.i')}\n".encode()
    a, b = _both(lambda: groupkit.parse_webhooks(data))
    assert_same(a, b)


def _post(value: str, *, change: str = "", entry: str = "") -> str:
    """A POST around a hand-written value, so edge cases stay readable."""
    return (
        f'{{"entry":[{{"id":"1","changes":[{{"field":"messages","value":{value}}}{change}]}}'
        f"{entry}]}}"
    )


ONE = '{"statuses":[{"id":"w"}]}'


@pytest.mark.parametrize(
    "line",
    [
        _post('{"statuses":[]}'),
        _post('{"statuses":[null]}'),
        _post('{"statuses":[{"status":"sent"}]}'),
        _post('{"statuses":[{"id":"w","timestamp":"17x"}]}'),
        _post('{"statuses":[{"id":"w","timestamp":""}]}'),
        _post('{"statuses":[{"id":"w","timestamp":"1234567890123456789"}]}'),
        _post('{"statuses":[{"id":"w","pricing":{"billable":"true"}}]}'),
        _post('{"statuses":[{"id":"w","id":"v"}]}'),
        _post('{"statuses":[{"id":"w"}],"errors":[{"code":1}]}'),
        _post('{"statuses":[{"id":"w"}],"contacts":[{"wa_id":1}]}'),
        _post('{"statuses":[{"id":"w"}],"messages":null,"groups":null}'),
        _post(
            '{"metadata":null,"statuses":[{"id":"w","conversation":{"pricing":{"category":"x"}},'
            '"pricing":null}]}'
        ),
        _post(ONE, change=',{"field":"messages","value":{}}'),
        _post(ONE, entry=",{}"),
        _post(ONE).replace('"id":"1"', '"id":1'),
        _post(ONE).replace('"field":"messages"', '"field":"other"'),
        _post(ONE) + " x",
        _post(ONE)[:-1],
        _post(ONE) + "\r",
        "  " + _post(ONE) + " \t",
        '["entry"]',
        "null",
    ],
)
def test_edge_lines_read_the_same(line):
    good = _line(statuses(status("wamid.g", "sent")))
    data = f"{good}\n{line}\n \n\n{good}".encode()  # blank lines, no final newline
    a, b = _both(lambda: groupkit.parse_webhooks(data))
    assert_same(a, b)


def test_scan_counts_lines_like_the_walker():
    good = _line(statuses(status("wamid.c", "sent")))
    lines, taken, routed, locs, (rows, _), (messages, _) = _lane._scan.read(
        f"{good}\n\n \x0c\n{good}\nnot json\n{good}".encode(), 10
    )
    assert (lines, taken, rows, messages) == (6, 3, 3, 0)
    assert (routed, locs) == ([b"not json"], [14])
    assert _lane._scan.read(b"", 1)[:2] == (0, 0)
    assert _lane._scan.read(f"{good}\n".encode(), 1)[:2] == (1, 1)
    with pytest.raises(ValueError, match="first_line"):
        _lane._scan.read(b"{}", 2**63 - 1)  # line numbers would overflow


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_rich_statuses()),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(['"', "\\", ",", ":", "{", "}", "[", "]", "n", "1", " ", "é", "", "x", "\x00"]),
    st.booleans(),
)
def test_a_damaged_line_reads_the_same(line, where, text, replace):
    """One character inserted, replaced or removed anywhere in a line."""
    i = where % (len(line) + 1)
    damaged = line[:i] + text + line[i + (1 if replace else 0) :]
    data = f"{_rich_statuses()[0]}\n{damaged}\n".encode()
    a, b = _both(lambda: groupkit.parse_webhooks(data))
    assert_same(a, b)


def test_statuses_of_both_paths_come_back_in_reading_order():
    lines = [
        _line(statuses(status("wamid.a", "sent"))),
        _line(statuses(status("wamid.b", "failed", errors=[{"code": 131000}]))),  # walker
        _line(statuses(status("wamid.c", "sent"))),
        _line(hook("messages", {"statuses": [status("wamid.d", "sent")], "contacts": []})),
        _line(statuses(status("wamid.e", "sent"))),
    ]
    data = ("\n".join(lines) + "\n").encode()
    archive = groupkit.parse_webhooks(data)
    assert list(archive.statuses["message_id"]) == [
        "wamid.a",
        "wamid.b",
        "wamid.c",
        "wamid.d",
        "wamid.e",
    ]


@pytest.mark.parametrize("special", ['\\"', "\\\\", "\\n", "\\u0041", "\x01", "\x7f", "é", "😀"])
def test_a_special_character_at_any_offset_of_a_string_reads_the_same(special):
    """The lane reads plain strings eight bytes at a time: a quote, escape, control
    character or non-ASCII byte at any offset, across word boundaries, must still
    send the line to the walker or be read exactly as the walker reads it."""
    lines = []
    for at in range(20):
        text = "w" * at + special + "x" * (19 - at)
        lines.append(_post(f'{{"statuses":[{{"id":"{text}","status":"sent"}}]}}'))
        lines.append(_post(f'{{"statuses":[{{"id":"w","{text}":"sent"}}]}}'))
        lines.append(_post('{"statuses":[{"id":"' + "v" * at + '"}]}'))  # plain, every length
    data = "\n".join(lines).encode()
    a, b = _both(lambda: groupkit.parse_webhooks(data))
    assert_same(a, b)
    assert a.report.rejects == [] or special in ("\x01", "\x7f")


@pytest.mark.parametrize("first", [0, 1, 7, 8, 9, 19])
def test_a_column_whose_first_value_comes_late_in_a_block_reads_the_same(first):
    """The lane writes a text column only from its first value on (the nulls
    before it are filled in then): a first value on any row, across the validity
    bitmap's byte boundaries, reads as the walker reads it."""
    lines = []
    for row in range(20):
        extra = ""
        if row >= first and row % 3 == first % 3:
            extra = f',"biz_opaque_callback_data":"cb{row}","recipient_user_id":"US.{row}"'
        lines.append(_post(f'{{"statuses":[{{"id":"w{row}","status":"sent"{extra}}}]}}'))
    data = "\n".join(lines).encode()
    assert _taken(data) == 20
    a, b = _both(lambda: groupkit.parse_webhooks(data))
    assert_same(a, b)
    got = a.statuses["biz_opaque_callback_data"]
    want = [f"cb{r}" if r >= first and r % 3 == first % 3 else None for r in range(20)]
    assert [None if pd.isna(v) else v for v in got] == want


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_the_bracket_count_in_c_agrees_with_python(data):
    """The walker bounds a line's nesting by its count of '{' and '[' (memchr in C)."""
    assert _lane._scan.brackets(data) == data.count(b"{") + data.count(b"[")
