"""The C lane reads a participant's message exactly as the walker does, or hands it back.

Inbound lines carry what status lines do not: text in any script, emoji, JSON
escapes (Meta escapes every non-ASCII character as ``\\uXXXX``), media objects,
replies and contacts. Every comparison loads the same bytes with the lane and with
the walker alone, and requires identical frames, rejects and counts; each test
also checks that the lane itself took the lines it should, so that a lane that
routed everything could not pass.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groupkit
from groupkit.load import lane as _lane
from tests.load.test_lane import _both, assert_same
from tests.load.webhooks import GROUP, hook, text_message

pytestmark = pytest.mark.skipif(_lane._scan is None, reason="the C lane is not built")


def _taken(data: bytes) -> tuple[int, int]:
    """(lines the lane took, message rows it read)."""
    got = _lane._scan.read(data, 1)
    return got[1], got[5][0]


def _message(kind: str = "text", **fields) -> dict:
    own = {
        "text": {"body": "hi"},
        "image": {"mime_type": "image/jpeg", "sha256": "ab12", "id": "111", "caption": "look"},
        "reaction": {"message_id": "wamid.x", "emoji": "👍"},
    }[kind]
    return {
        "from": "16505551234",
        "group_id": GROUP,
        "id": "wamid.m1",
        "timestamp": "1750000100",
        "type": kind,
        kind: own,
        **fields,
    }


def _post(message: dict, contact: dict | None = None) -> dict:
    contact = contact or {"profile": {"name": "Tiago"}, "wa_id": "16505551234"}
    return hook("messages", {"contacts": [contact], "messages": [message]})


def _same(*records: dict | str, ensure_ascii: bool = False) -> groupkit.Archive:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=ensure_ascii) for r in records]
    data = ("\n".join(lines) + "\n").encode()
    a, b = _both(lambda: groupkit.parse_webhooks(data))
    assert_same(a, b)
    return a


def test_text_media_and_reactions_are_read_by_the_lane():
    records = [_post(_message(kind)) for kind in ("text", "image", "reaction")]
    data = ("\n".join(json.dumps(r) for r in records) + "\n").encode()
    assert _taken(data) == (3, 3)
    archive = _same(*records)
    m = archive.messages
    assert list(m["type"].astype(str)) == ["text", "image", "reaction"]
    assert m["text"].tolist()[:2] == ["hi", "look"]
    assert m["media_id"].tolist()[1] == "111"
    assert m["reaction_emoji"].tolist()[2] == "👍"
    assert m["contact_name"].tolist() == ["Tiago"] * 3
    # The payload is the own object as canonical JSON: sorted keys, no spaces.
    assert m["payload"].tolist()[1] == (
        '{"caption":"look","id":"111","mime_type":"image/jpeg","sha256":"ab12"}'
    )


def test_escaped_text_reads_as_the_characters_it_stands_for():
    """Meta escapes non-ASCII text; a receiver may store it either way."""
    body = 'Olá "todos" \\ 😀\n\tfim\x01'
    record = _post(_message(text={"body": body}))
    for ensure_ascii in (True, False):
        line = json.dumps(record, ensure_ascii=ensure_ascii)
        assert _taken(line.encode()) == (1, 1)
        archive = _same(line)
        assert archive.messages["text"].tolist() == [body]
        assert json.loads(archive.messages["payload"].iloc[0]) == {"body": body}
        assert archive.messages["payload"].iloc[0] == (
            '{"body":"Olá \\"todos\\" \\\\ 😀\\n\\tfim\\u0001"}'
        )


@pytest.mark.parametrize(
    "damage",
    [
        '"\\ud83d"',  # a lone high surrogate
        '"\\ude00\\ud83d"',  # surrogates the wrong way round
        '"\\u12"',  # a short escape
        '"\\x41"',  # not a JSON escape
        '"\\u00zz"',
        '"tab\there"',  # a raw control character
    ],
)
def test_a_bad_string_is_rejected_exactly_as_the_walker_rejects_it(damage):
    good = json.dumps(text_message("wamid.ok"))
    bad = good.replace('"hi"', damage)
    assert bad != good
    archive = _same(good, bad, good)
    assert len(archive.report.rejects) == 1
    assert len(archive.messages) == 1  # the two good lines are one message, redelivered


@pytest.mark.parametrize(
    "raw",
    [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xe2\x82"],
)
def test_invalid_utf8_is_rejected_exactly_as_the_walker_rejects_it(raw):
    good = json.dumps(text_message("wamid.ok")).encode()
    bad = good.replace(b'"hi"', b'"a' + raw + b'b"')
    data = good + b"\n" + bad + b"\n"
    a, b = _both(lambda: groupkit.parse_webhooks(data))
    assert_same(a, b)
    assert [r.line for r in a.report.rejects] == [2]


def test_what_the_lane_does_not_read_goes_to_the_walker():
    """Shapes outside the lane: each must still read exactly as the walker reads it."""
    records = [
        _post(_message(referral={"source_url": "https://fb.me/x", "ctwa_clid": "c1"})),
        _post(_message(context={"id": "wamid.p", "referred_product": {"catalog_id": "9"}})),
        _post(_message(errors=[{"code": 131051}])),
        _post(_message(kind="text", image={"id": "1"})),  # two own objects
        _post(_message(type="image")),  # type names an object that is not there
        _post({k: v for k, v in _message().items() if k != "type"}),  # no type
        _post(_message(text={"body": 5})),  # a number where text belongs
        _post(_message(text={"body": True})),
        _post(_message(text={"body": "a", "nested": {"b": 1}})),
        _post(_message(), {"profile": {"name": "T"}, "wa_id": "1", "identity_key_hash": "h"}),
        _post(_message(), {"profile": {"name": "T", "pic": "x"}, "wa_id": "1"}),
        hook("messages", {"messages": [_message(), _message(id="wamid.m2")]}),
        hook("messages", {"contacts": [{"wa_id": "1"}, {"wa_id": "2"}], "messages": [_message()]}),
        hook("messages", {"messages": [_message()], "statuses": [{"id": "s", "status": "sent"}]}),
        _post(_message(id=None)),  # a message without an id is a reject
        _post(_message(timestamp=1750000100)),  # a bare number
    ]
    data = ("\n".join(json.dumps(r) for r in records) + "\n").encode()
    assert _taken(data) == (0, 0)
    _same(*records)


def test_replies_forwards_and_contact_ids_are_read_by_the_lane():
    records = [
        _post(
            _message(context={"from": "1650", "id": "wamid.p", "forwarded": True}),
            {"profile": {"name": "Zoë", "username": "@zoe"}, "wa_id": "1", "user_id": "US.1"},
        ),
        _post(
            _message(context={"frequently_forwarded": False, "from": None}),
            {"country_code": "BR", "username": "@u", "parent_user_id": "US.P", "profile": None},
        ),
        _post(_message(from_user_id="US.9", from_parent_user_id="US.8", group_id=None)),
        hook("messages", {"messages": [_message()]}),  # no contacts at all
        hook("messages", {"contacts": [], "messages": [_message()], "statuses": None}),
    ]
    data = ("\n".join(json.dumps(r) for r in records) + "\n").encode()
    assert _taken(data) == (5, 5)
    m = _same(*records).messages
    assert m["context_message_id"].tolist()[0] == "wamid.p"
    assert m["forwarded"].tolist()[:2] == [True, False]
    assert m["contact_username"].tolist()[:2] == ["@zoe", "@u"]
    assert m["contact_country_code"].tolist()[1] == "BR"


# Text that stresses the string reader: every kind of character, any length.
_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24
) | st.sampled_from(["", "a", '"', "\\", "😀", "\n", "\u2028", "\x7f", "é" * 9])
_VALUE = st.one_of(st.none(), st.booleans(), _TEXT)


@st.composite
def _messages(draw) -> dict:
    kind = draw(st.sampled_from(["text", "image", "video", "audio", "document", "sticker",
                                 "reaction"]))  # fmt: skip
    names = {
        "text": ["body", "preview_url"],
        "reaction": ["message_id", "emoji"],
    }.get(kind, ["caption", "id", "mime_type", "sha256", "url", "filename", "voice", "animated"])
    keys = draw(st.lists(st.sampled_from(names), unique=True))
    own = {k: draw(_TEXT if draw(st.booleans()) else _VALUE) for k in keys}
    message = {"id": draw(_TEXT), "type": kind, kind: own}
    for key in ("from", "group_id", "from_user_id"):
        if draw(st.booleans()):
            message[key] = draw(st.none() | _TEXT)
    if draw(st.booleans()):
        message["timestamp"] = str(draw(st.integers(0, 10**12)))
    if draw(st.booleans()):
        message["context"] = {"id": draw(_TEXT), "forwarded": draw(st.none() | st.booleans())}
    order = draw(st.permutations(list(message)))
    return {k: message[k] for k in order}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_messages(), min_size=1, max_size=4), st.booleans(), _TEXT)
def test_any_message_reads_the_same_through_the_lane(messages, ensure_ascii, name):
    records = [_post(m, {"profile": {"name": name}, "wa_id": "1"}) for m in messages]
    _same(*records, ensure_ascii=ensure_ascii)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _messages(),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(
        [
            '"',
            "\\",
            "\\u",
            "\\ud83d",
            ",",
            ":",
            "{",
            "}",
            "]",
            " ",
            "é",
            "\x00",
            "\xff",
            "null",
            "true",
            "1",
        ]
    ),
    st.booleans(),
)
def test_a_damaged_message_line_reads_the_same(message, where, text, replace):
    """One piece inserted, replaced or removed anywhere in a message line."""
    line = json.dumps(_post(message), ensure_ascii=False)
    i = where % (len(line) + 1)
    damaged = line[:i] + text + line[i + (1 if replace else 0) :]
    data = (line + "\n" + damaged + "\n").encode("utf-8", "surrogateescape")
    a, b = _both(lambda: groupkit.parse_webhooks(data))
    assert_same(a, b)
