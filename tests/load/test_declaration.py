"""One declaration per frame: every reader is generated from or checked against it."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groupkit
from groupkit import schema
from groupkit.load import lane, walk
from groupkit.simulate import simulate_archive
from tests.load.test_lane import _both, assert_same

README = (schema.__file__.rsplit("/", 2)[0]) + "/README.md"


def test_every_column_says_where_it_comes_from():
    for frame, cols in schema.FRAMES.items():
        for name, col in cols.items():
            if name == "source":
                continue  # where the record was read, not a JSON value
            assert col.paths or col.rule, f"{frame}.{name} declares neither paths nor a rule"
            assert col.doc.strip(), f"{frame}.{name} has no meaning"


def test_every_rule_is_implemented_and_every_implementation_is_declared():
    declared = {
        (frame, name)
        for frame, cols in schema.FRAMES.items()
        for name, col in cols.items()
        if col.rule and name != "extra"  # extra: walk.extras, from every declared path
    }
    assert declared == set(walk.RULES)


def test_every_path_parses_and_names_a_known_scope():
    for cols in schema.FRAMES.values():
        for col in cols.values():
            for path in col.paths:
                assert re.fullmatch(
                    r"(@(envelope|entry|change|value|contact|group)\.)?"
                    r"[a-z_]+(\[\d+\])?(\.[a-z_0-9]+(\[\d+\])?)*",
                    path,
                ), path
                walk.getter(path)  # compiles


def test_one_edit_adds_a_field(monkeypatch):
    """A new Meta field declared once reaches its column, and leaves the extra column."""
    line = {
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"statuses": [
            {"id": "wamid.N", "status": "sent", "timestamp": "1", "new_thing": {"a": "b"}}]}}]}],
    }  # fmt: skip
    before = groupkit.parse_webhooks([line]).statuses
    assert before["extra"].tolist() == ['{"new_thing":{"a":"b"}}']
    column = schema.Column(schema.STR, "A field Meta added.", ("new_thing.a",))
    monkeypatch.setitem(schema.STATUSES, "new_thing_a", column)
    monkeypatch.setitem(
        walk.RAW_COLUMNS, "statuses", (*walk.RAW_COLUMNS["statuses"], "new_thing_a")
    )
    monkeypatch.setitem(walk.CONSUMED, "statuses", walk._consumed("statuses") | {
        k: v for k, v in walk.CONSUMED["statuses"].items() if v is True
    })  # fmt: skip
    after = groupkit.parse_webhooks([line]).statuses
    assert after["new_thing_a"].tolist() == ["b"]
    assert after["extra"].isna().all()


# ------------------------------------------------------------------ the C lane


def _status_paths() -> set[str]:
    """The declared paths of a status POST that the lane must read itself."""
    paths = set()
    for col in schema.STATUSES.values():
        for path in col.paths:
            if path.startswith("@contact.") or path.startswith("@envelope."):
                continue  # a line with contacts or an envelope goes to the walker
            paths.add("errors" if path.startswith("errors[") else path)
    implied = {p.replace("entry[].changes[].", "") for p in schema.IMPLIED}
    return (paths | implied | {"@change.field"}) - {"field"}


@pytest.mark.skipif(lane._scan is None, reason="the C lane is not built")
def test_the_lane_reads_exactly_the_declared_status_paths():
    assert set(lane._scan.PATHS) == _status_paths()


@pytest.mark.skipif(lane._scan is None, reason="the C lane is not built")
def test_the_lane_fills_declared_columns():
    raw = set(walk.RAW_COLUMNS["statuses"]) | {
        "recipient_participant_id",
        "participant_recipient_id",
    }
    assert set(lane._scan.TEXT_COLUMNS) <= raw
    assert len(set(lane._scan.TEXT_COLUMNS)) == len(lane._scan.TEXT_COLUMNS)


# Keys of a message object the lane reads (the rest send the line to the walker),
# and the own objects of the types it reads whole, as `payload`.
_LANE_MESSAGE_KEYS = {"id", "group_id", "from", "from_user_id", "from_parent_user_id",
                      "timestamp", "type", "context", "text", "image", "video", "audio",
                      "document", "sticker", "reaction"}  # fmt: skip


def _message_paths() -> set[str]:
    """Declared paths of a message line under the keys the lane reads."""
    paths = set()
    for name, col in schema.FRAMES["messages"].items():
        if name == "payload":
            continue  # the own object, read whole
        for path in col.paths:
            head = path.split(".")[0]
            if path.startswith("@contact.") or head in _LANE_MESSAGE_KEYS:
                paths.add(path)
    # The lane hands a reply about a product to the walker (see test_message_lane).
    return {p for p in paths if not p.startswith("context.referred_product.")}


@pytest.mark.skipif(lane._scan is None, reason="the C lane is not built")
def test_the_message_lane_reads_exactly_the_declared_message_paths():
    """A field Meta adds under a key the lane reads (say `image.width`) is declared
    once, and this test fails until the lane reads it too."""
    assert set(lane._scan.MESSAGE_PATHS) == _message_paths()
    raw = set(walk.RAW_COLUMNS["messages"])
    assert set(lane._scan.MESSAGE_COLUMNS) <= raw
    assert len(set(lane._scan.MESSAGE_COLUMNS)) == len(lane._scan.MESSAGE_COLUMNS)


def test_the_readme_tables_come_from_the_declaration():
    with open(README, encoding="utf-8") as fh:
        text = fh.read()
    block = text.split("<!-- schema:start -->")[1].split("<!-- schema:end -->")[0]
    assert block.strip() == schema.markdown_table().strip()
    assert "`pricing.subtype`" in block and "`referral.ctwa_clid`" in block


# Values a declared status path may hold, in the shapes the wire has.
_TEXT = st.one_of(st.none(), st.text("abcXYZ019._-+ ", min_size=0, max_size=8))
_DIGITS = st.one_of(st.none(), st.integers(0, 10**12).map(str))
_FLAG = st.one_of(st.none(), st.booleans(), st.sampled_from(["true", "false"]))


def _value_for(path: str):
    if path.endswith("timestamp"):
        return _DIGITS
    if path.endswith("billable"):
        return _FLAG
    return _TEXT


def _put(obj: dict, path: str, value) -> None:
    keys = path.split(".")
    for key in keys[:-1]:
        obj = obj.setdefault(key, {})
    obj[keys[-1]] = value


@st.composite
def status_posts(draw):
    """A status POST using any subset of the declared paths, sometimes with a key no
    column declares, an entry time, a display number, numbers where text belongs."""
    declared = sorted(p for p in _status_paths() if (not p.startswith("@") and "." in p) or (
        not p.startswith("@") and p not in ("object", "errors")))  # fmt: skip
    statuses = []
    for i in range(draw(st.integers(1, 3))):
        item: dict = {"id": f"wamid.{i}"}
        for path in draw(st.lists(st.sampled_from(declared), max_size=12, unique=True)):
            if path in ("id", "value.messaging_product"):
                continue
            _put(item, path, draw(_value_for(path)))
        if draw(st.booleans()):
            item["errors"] = draw(st.sampled_from([[], None, [{"code": 131000, "title": "t"}]]))
        if draw(st.integers(0, 5)) == 0:
            item[draw(st.sampled_from(["brand_new", "type"]))] = draw(_TEXT)
        if draw(st.integers(0, 5)) == 0:
            item["timestamp"] = draw(st.integers(0, 10**10))  # a number: the walker's
        statuses.append(item)
    value: dict = {"messaging_product": draw(st.sampled_from(["whatsapp", "whatsapp", "other"])),
                   "statuses": statuses}  # fmt: skip
    if draw(st.booleans()):
        value["metadata"] = {"phone_number_id": "1", "display_phone_number": draw(_TEXT)}
    entry: dict = {"id": "102", "changes": [{"field": "messages", "value": value}]}
    if draw(st.booleans()):
        entry["time"] = draw(st.one_of(st.integers(0, 10**12), st.integers(0, 10**12).map(str)))
    return {"object": "whatsapp_business_account", "entry": [entry]}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(status_posts(), min_size=1, max_size=4))
def test_lane_and_walker_agree_on_every_declared_status_path(posts):
    data = "".join(json.dumps(p, separators=(",", ":")) + "\n" for p in posts).encode()
    a, b = _both(lambda: groupkit.parse_webhooks(data))
    assert_same(a, b)


# ------------------------------------------------------------------ the one-pass reader


def _payloads(tmp_path) -> list[dict]:
    from tests.load.test_nothing_lost import PYWA, REALWORLD, _fixture_records

    simulate_archive(tmp_path, groups=3, days=1, seed=5)
    lines = [ln for p in sorted(tmp_path.glob("*.ndjson")) for ln in p.read_text().splitlines()]
    return _fixture_records(REALWORLD + PYWA) + [json.loads(ln) for ln in lines if ln.strip()]


def test_the_one_pass_reader_agrees_with_each_path_read_alone(tmp_path):
    """Every path-declared column, read in one pass over each item's keys, holds what
    reading its paths one by one (the first that holds a value) gives."""
    sink = walk.Sink()
    for n, record in enumerate(_payloads(tmp_path)):
        walk.walk_record(json.dumps(record).encode(), 0, n + 1, sink)
    checked = 0
    for frame, rows in sink.rows.items():
        got = walk._read_declared(frame, rows)
        for name in got:
            gets = [walk.getter(p) for p in schema.FRAMES[frame][name].paths]
            want = [next((v for g in gets if (v := g(r)) is not None), None) for r in rows]
            assert got[name] == want, (frame, name)
            checked += sum(v is not None for v in want)
    assert checked > 5_000


def _item_paths(frame: str) -> list[tuple]:
    declared = [p for c in schema.FRAMES[frame].values() for p in c.paths]
    return sorted({walk._parse_path(p)[1] for p in declared if not p.startswith("@")})


def _set_path(item: dict, keys: tuple, value: str) -> None:
    """Set ``keys`` in ``item`` unless a shorter path already holds a value there."""
    node: object = item
    for key, nxt in zip(keys, (*keys[1:], None), strict=True):
        if nxt is None:
            if isinstance(node, dict) and key not in node:
                node[key] = value
            elif isinstance(node, list) and isinstance(key, int):
                node.extend([None] * (key + 1 - len(node)))
                node[key] = node[key] if node[key] is not None else value
            return
        fresh: object = [] if isinstance(nxt, int) else {}
        if isinstance(node, dict):
            node = node.setdefault(key, fresh)
        elif isinstance(node, list) and isinstance(key, int):
            node.extend([None] * (key + 1 - len(node)))
            node[key] = fresh if node[key] is None else node[key]
            node = node[key]
        if not isinstance(node, dict | list) or isinstance(node, list) != isinstance(nxt, int):
            return


@settings(max_examples=60, deadline=None)
@given(frame=st.sampled_from([f for f in sorted(schema.FRAMES) if _item_paths(f)]), data=st.data())
def test_the_one_pass_reader_takes_the_first_declared_path_that_holds_a_value(frame, data):
    """Items that set many declared paths at once, the alternative spellings of one
    column included: the one-pass reader and the paths read in order agree."""
    paths = _item_paths(frame)
    chosen = data.draw(st.lists(st.sampled_from(paths), unique=True, max_size=len(paths)))
    item: dict = {}
    for n, keys in enumerate(chosen):
        _set_path(item, keys, f"v{n}")
    rows = [(item, (None,) * 16)]
    got = walk._read_declared(frame, rows)
    for name in got:
        gets = [walk.getter(p) for p in schema.FRAMES[frame][name].paths]
        assert got[name] == [next((v for g in gets if (v := g(rows[0])) is not None), None)]
