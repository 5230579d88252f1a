"""Records -> rows: walk every entry, change and item of each webhook POST.

The walker decodes a record into plain Python objects (msgspec, in C), checks
its shape, and files each item it finds (a status, a message, an error, a group
event, a participant) as a *row*: the item, and the scopes around it (entry,
change, value, matched contact, group).  Nothing is extracted yet: at the end of
a block, :func:`columns` reads every frame's columns from its rows with getters
compiled from the paths declared in :mod:`groupkit.schema`, and puts the keys of
each item that no column declares in the row's ``extra``.  The keys around the
items that no column declares (and whole changes of fields groupkit does not
model) become ``other_changes`` rows.  So every value of a webhook lands in a
frame, and adding a field is one declaration.

Values are converted and validated a whole column at a time in
:mod:`groupkit.load.build`; a record with a value that cannot be read as its
column's type is rejected there as a whole.  Everything that can fail while
walking happens before the record's first row is filed: a record is all or
nothing.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat

import msgspec

from groupkit import schema
from groupkit.load import model

LOC = ("_file", "_loc")
RAW_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(c for c in cols if c != "source") + LOC for name, cols in schema.FRAMES.items()
}
_BSUID = re.compile(r"^[A-Z]{2}\.")
_GROUP_FIELDS = frozenset(schema.GROUP_FIELDS)
_KNOWN = frozenset(schema.KNOWN_FIELDS)
_OBJECT = schema.IMPLIED["object"]
_PRODUCT = schema.IMPLIED["entry[].changes[].value.messaging_product"]

# Positions in a row's scope tuple.
ENVELOPE, ENTRY, CHANGE, VALUE, CONTACT, GROUP, FILE, LINE, DERIVED = range(9)
_SCOPES = {"envelope": ENVELOPE, "entry": ENTRY, "change": CHANGE, "value": VALUE,
           "contact": CONTACT, "group": GROUP}  # fmt: skip


class BadRecord(ValueError):
    """A record that cannot be read; the message is the reason for the load report."""


@dataclass
class Sink:
    """Rows of every frame, plus what was rejected on the way."""

    rows: dict[str, list[tuple[dict, tuple]]] = field(
        default_factory=lambda: {f: [] for f in schema.FRAMES}
    )
    records: int = 0
    sends: int = 0
    # (file index, loc, reason, excerpt)
    rejects: list[tuple[int, int, str, str]] = field(default_factory=list)
    # Statuses and messages read by the C lane (groupkit.load.lane), as columns.
    lane: dict[str, list] = field(default_factory=lambda: {"statuses": [], "messages": []})


# --------------------------------------------------------------------------- nesting

# Deeper than any webhook Meta sends (about ten levels), shallow enough for every
# recursive step after decoding (canonical JSON, msgspec's own encoder) on any path.
MAX_DEPTH = 64
TOO_DEEP = f"nested too deeply: more than {MAX_DEPTH} levels of objects and lists"
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def nesting(raw: bytes) -> int:
    """How deep the objects and lists of JSON text nest (brackets inside strings aside).

    Examples
    --------
    >>> nesting(b'{"a": [1, {"b": "[[["}]}')
    3
    """
    depth = deepest = 0
    for byte in _STRING.sub(b"", raw):
        if byte == 123 or byte == 91:  # { [
            depth += 1
            deepest = max(deepest, depth)
        elif byte == 125 or byte == 93:  # } ]
            depth -= 1
    return deepest


def too_deep(raw: bytes | memoryview) -> bool:
    """True for a record nested deeper than :data:`MAX_DEPTH`.

    Decided from the bytes, before decoding, so that the answer does not depend on
    how much of the interpreter's stack the path reading the record has used.
    Counting brackets first keeps it cheap: few records hold more than 64.
    """
    data = raw if raw.__class__ is bytes else bytes(raw)
    return _brackets(data) > MAX_DEPTH and nesting(data) > MAX_DEPTH


try:  # memchr in C: a tenth of bytes.count's cost on the walker's every line
    from groupkit.load._scan import brackets as _brackets
except ImportError:  # pragma: no cover - installed without a C compiler

    def _brackets(data: bytes) -> int:
        return data.count(b"{") + data.count(b"[")


# --------------------------------------------------------------------------- reasons


_KIND = {dict: "an object", list: "a list", str: "text", bool: "true or false",
         int: "a number", float: "a number", type(None): "null"}  # fmt: skip


def kind_of(value: object) -> str:
    """How a JSON value reads in a reason: ``an object``, ``a list``, ``text``, ..."""
    return _KIND.get(value.__class__, value.__class__.__name__)


def reason_of(exc: Exception, raw: bytes | memoryview | None = None) -> str:
    """A load-report reason for a decoding error, in groupkit's words.

    With the record's ``raw`` bytes, text that is not UTF-8 is named by its first
    bad byte and where it is (msgspec says only that the text is not UTF-8).

    Examples
    --------
    >>> import msgspec
    >>> raw = b'{"value": {"x": "caf\\xe9"}}'
    >>> try:
    ...     msgspec.json.decode(raw)
    ... except msgspec.DecodeError as exc:
    ...     reason_of(exc, raw)
    "not UTF-8 text: byte b'\\\\xe9' is not valid UTF-8 (byte 20)"
    """
    text = str(exc)
    if raw is not None and "utf-8" in text.lower():
        try:
            bytes(raw).decode("utf-8")
        except UnicodeDecodeError as bad:
            return f"{reason_of(bad)} (byte {bad.start})"
    if isinstance(exc, RecursionError):
        return TOO_DEEP
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text: byte {exc.object[exc.start : exc.start + 1]!r} is not valid UTF-8"
    if text.startswith("Integer value out of range"):  # msgspec's limit, a ValidationError
        return "a number out of range (an integer of thousands of digits)"
    if isinstance(exc, msgspec.ValidationError):
        return f"not a valid webhook: {text}"
    if "utf-8" in text.lower():
        return f"not UTF-8 text: {text.removeprefix('JSON is malformed: ')}"
    if text.startswith("Input data was truncated"):
        return "truncated JSON (the record ends too early)"
    if text.startswith("Number out of range"):
        return "a number too large for JSON floats (" + text.split(" - ")[-1] + ")"
    return f"malformed JSON: {text.removeprefix('JSON is malformed: ')}"


def excerpt(raw: bytes | memoryview, limit: int = 120) -> str:
    """The start of a raw record, printable, for the load report."""
    if isinstance(raw, msgspec.Raw):
        raw = bytes(raw)
    head = bytes(raw[: limit + 1])
    text = head.decode("utf-8", errors="replace").replace("\n", " ")
    return text if len(head) <= limit else text[:limit] + "..."


class OutOfRange(float):
    """A number that cannot be held as its column's 64-bit integer; rejected in
    :mod:`groupkit.load.build` with the value as the record spelled it."""

    given: object = None


def shown(value: object, limit: int = 40) -> str:
    """A value as a reason shows it: its repr, cut to ``limit`` characters.

    Examples
    --------
    >>> shown(10**60)
    '1000000000000000000000000000000000000000...'
    >>> shown(1e300)
    '1e+300'
    """
    try:
        text = repr(value)
    except ValueError:  # an int of more digits than Python converts to text
        text = f"a {value.bit_length():,}-bit number"  # type: ignore[attr-defined]
    return text if len(text) <= limit else text[:limit] + "..."


def received_ms(value: object) -> int:
    """Milliseconds since the epoch from unix seconds (or ms) or an ISO 8601 string."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            return received_ms(number)
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise BadRecord(f"received_at {value!r} is neither ISO 8601 nor unix seconds") from None
        if dt.tzinfo is None:
            raise BadRecord(f"received_at {value!r} has no time zone")
        return int(dt.timestamp() * 1000)
    if value.__class__ is int and not -(2**63) <= value < 2**63:  # type: ignore[operator]
        # Checked before math.isfinite, which cannot take an int beyond a float.
        raise BadRecord(f"received_at {shown(value)} is out of range (not a time)")
    if value.__class__ not in (int, float) or not math.isfinite(value):  # type: ignore[arg-type]
        raise BadRecord(f"received_at {value!r} is not a time")
    # A unix time in milliseconds is > 1e11 for any date after 1973.
    ms = int(value) if value > 1e11 else int(value * 1000)  # type: ignore[operator]
    if not -(2**63) <= ms < 2**63:
        raise BadRecord(f"received_at {shown(value)} is out of range (not a time)")
    return ms


# --------------------------------------------------------------------------- canonical JSON


def _plain(value: object) -> object:
    """``value`` with integral floats as ints, so one number has one spelling."""
    cls = value.__class__
    if cls is float:
        if value.is_integer() and abs(value) < 2**63:  # type: ignore[union-attr]
            return int(value)  # type: ignore[arg-type]
        return value
    if cls is dict:
        return {k: _plain(v) for k, v in value.items()}  # type: ignore[union-attr]
    if cls is list:
        return [_plain(v) for v in value]  # type: ignore[union-attr]
    return value


def canonical(value: object) -> str:
    """Canonical JSON text: sorted keys, no spaces, integral numbers without a fraction.

    Two copies of a webhook that differ only in whitespace, key order or the
    spelling of a number have the same canonical text.

    Examples
    --------
    >>> canonical({"b": 1.0, "a": {"d": [2e0], "c": "x"}})
    '{"a":{"c":"x","d":[2]},"b":1}'
    """
    return msgspec.json.encode(_plain(value), order="sorted").decode()


# --------------------------------------------------------------------------- getters


def _parse_path(path: str) -> tuple[int | None, tuple[str | int, ...]]:
    scope = None
    if path.startswith("@"):
        name, _, path = path[1:].partition(".")
        scope = _SCOPES[name]
    keys: list[str | int] = []
    for part in path.split("."):
        name, _, index = part.partition("[")
        keys.append(name)
        if index:
            keys.append(int(index.rstrip("]")))
    return scope, tuple(keys)


def _follow(obj: object, keys: tuple[str | int, ...]) -> object:
    for key in keys:
        if key.__class__ is int:
            if obj.__class__ is not list or len(obj) <= key:  # type: ignore[arg-type]
                return None
        elif obj.__class__ is not dict:
            return None
        obj = obj[key] if key.__class__ is int else obj.get(key)  # type: ignore[index,union-attr]
        if obj is None:
            return None
    return obj


def getter(path: str) -> Callable[[tuple[dict, tuple]], object]:
    """A function reading ``path`` (as :mod:`groupkit.schema` declares it) from a row.

    The reference reading of one path; :func:`columns` reads all of a frame's paths
    at once, and a test holds the two to the same answers.
    """
    scope, keys = _parse_path(path)
    if scope is None:
        return lambda row: _follow(row[0], keys)
    return lambda row: _follow(row[1][scope], keys)


@dataclass(frozen=True)
class _Plan:
    """How to read a frame's path-declared columns from rows in one pass per item.

    ``trie`` maps an item's keys, level by level, to ``[child trie or None,
    [(column, rank), ...]]``; ``scoped`` lists ``(column, rank, keys)`` per scope.
    A column's value is that of its lowest-ranked (first declared) path that holds
    one, as :func:`getter` would find trying the paths in order.
    """

    names: tuple[str, ...]
    trie: dict
    scoped: dict[int, tuple[tuple[int, int, tuple], ...]]


@functools.cache
def _compile(declared: tuple[tuple[str, tuple[str, ...]], ...]) -> _Plan:
    trie: dict = {}
    scoped: dict[int, list] = {}
    for ci, (_, paths) in enumerate(declared):
        for rank, path in enumerate(paths):
            scope, keys = _parse_path(path)
            if scope is not None:
                scoped.setdefault(scope, []).append((ci, rank, keys))
                continue
            node = trie
            for key in keys[:-1]:
                entry = node.setdefault(key, [None, []])
                if entry[0] is None:
                    entry[0] = {}
                node = entry[0]
            node.setdefault(keys[-1], [None, []])[1].append((ci, rank))
    names = tuple(name for name, _ in declared)
    return _Plan(names, trie, {k: tuple(v) for k, v in scoped.items()})


def _declared(frame: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(
        (name, col.paths)
        for name, col in schema.FRAMES[frame].items()
        if name not in ("source", "extra") and (frame, name) not in RULES
    )


def _plan(frame: str) -> _Plan:
    return _compile(_declared(frame))


def _source(plan: _Plan) -> str:
    """Python source of a function reading ``plan``'s columns from a list of rows.

    Straight-line code per declared path (``.get`` and class checks, no loops over
    keys and no tables at run time), generated from the declaration: what the
    reference :func:`getter` reads path by path, in one pass. A column's value is
    that of its first declared path that holds one.
    """
    out = ["def read(rows):", "    table = []", "    append = table.append",
           "    for item, scopes in rows:"]  # fmt: skip
    ranks: dict[int, int] = {}
    for ci, _ in enumerate(plan.names):
        ranks[ci] = 0
    slots: list[str] = []
    always: set[str] = set()  # slots assigned on every row, without a condition
    root = " " * 8
    count = [0]

    def slot(ci: int, rank: int) -> str:
        name = f"c{ci}_{rank}"
        if name not in slots:
            slots.append(name)
        ranks[ci] = max(ranks[ci], rank + 1)
        return name

    def fresh() -> str:
        count[0] += 1
        return f"v{count[0]}"

    def value(var: str, entry: list, pad: str) -> None:
        child, targets = entry
        out.extend(f"{pad}{slot(ci, rank)} = {var}" for ci, rank in targets)
        if not child:
            return
        named = {k: e for k, e in child.items() if k.__class__ is str}
        indexed = {k: e for k, e in child.items() if k.__class__ is int}
        if named:
            out.append(f"{pad}if {var}.__class__ is dict:")
            members(var, named, pad + "    ")
        if indexed:
            out.append(f"{pad}{'elif' if named else 'if'} {var}.__class__ is list:")
            for index, sub in indexed.items():
                element = fresh()
                out.append(f"{pad}    if len({var}) > {index}:")
                out.append(f"{pad}        {element} = {var}[{index}]")
                out.append(f"{pad}        if {element} is not None:")
                value(element, sub, pad + "            ")

    def members(var: str, trie: dict, pad: str) -> None:
        for key, entry in trie.items():
            child, targets = entry
            if not child:  # a leaf: null and absent both read as None
                names = [slot(ci, rank) for ci, rank in targets]
                if pad == root:
                    always.update(names)
                out.append(f"{pad}{' = '.join(names)} = {var}.get({key!r})")
                continue
            got = fresh()
            out.append(f"{pad}{got} = {var}.get({key!r})")
            if targets:
                out.append(f"{pad}if {got} is not None:")
                value(got, entry, pad + "    ")
            else:
                value(got, entry, pad)

    body_at = len(out)
    members("item", plan.trie, root)
    for scope, paths in plan.scoped.items():
        trie: dict = {}
        for ci, rank, keys in paths:
            node = trie
            for key in keys[:-1]:
                node = node.setdefault(key, [None, []])
                node[0] = node[0] if node[0] is not None else {}
                node = node[0]
            node.setdefault(keys[-1], [None, []])[1].append((ci, rank))
        var = fresh()
        out.append(f"        {var} = scopes[{scope}]")
        out.append(f"        if {var} is not None:")
        value(var, [trie, []], " " * 12)
    if maybe := [name for name in slots if name not in always]:
        out.insert(body_at, root + " = ".join(maybe) + " = None")
    columns = []
    for ci in range(len(plan.names)):
        names = [f"c{ci}_{rank}" for rank in range(ranks[ci]) if f"c{ci}_{rank}" in slots]
        expr = names[-1] if names else "None"
        for name in reversed(names[:-1]):
            expr = f"({name} if {name} is not None else {expr})"
        columns.append(expr)
    out.append(f"        append(({', '.join(columns)},))")
    out.append("    return table")
    return "\n".join(out) + "\n"


@functools.cache
def _compiled(declared: tuple[tuple[str, tuple[str, ...]], ...]) -> Callable[[list], list[tuple]]:
    space: dict = {}
    code = compile(_source(_compile(declared)), "<groupkit reader>", "exec")
    exec(code, space)  # the source is generated from groupkit.schema, never from input
    return space["read"]


def _reader(frame: str) -> Callable[[list], list[tuple]]:
    """The compiled one-pass reader of ``frame``'s path-declared columns."""
    return _compiled(_declared(frame))


def _read_declared(frame: str, rows: list) -> dict[str, list]:
    """Every path-declared column of ``frame``: one pass over each row."""
    names = _plan(frame).names
    if not rows:  # no reader to compile (the main process often has no rows)
        return {name: [] for name in names}
    table = _reader(frame)(rows)
    return dict(zip(names, map(list, zip(*table, strict=True)), strict=True))


# What each frame's item consumes: a tree of keys, True where the whole value is taken.
def _consumed(frame: str) -> dict:
    tree: dict = {}
    for name, col in schema.FRAMES[frame].items():
        if (frame, name) == ("messages", "payload"):
            continue  # only the message's own type key: see extras()
        for path in col.paths:
            if path.startswith("@"):
                continue
            _, keys = _parse_path(path)
            node = tree
            for i, key in enumerate(keys):
                last = i == len(keys) - 1 or keys[i + 1].__class__ is int
                if key.__class__ is int:
                    break
                if last:
                    node[key] = True
                    break
                child = node.get(key)
                if child is True:
                    break
                node = node.setdefault(key, {})
    return tree


CONSUMED = {frame: _consumed(frame) for frame in schema.FRAMES}
# Lists an item hands to another frame whole (each element is a row there).
for _frame, _lists in {
    "statuses": ("errors",),
    "messages": ("errors",),
    "group_events": (
        "errors",
        "added_participants",
        "removed_participants",
        "failed_participants",
    ),
    "membership": ("errors",),
}.items():
    for _key in _lists:
        CONSUMED[_frame][_key] = True
for _setting in ("group_subject", "group_description", "profile_picture"):
    CONSUMED["group_events"].setdefault(_setting, {})["errors"] = True
CONSUMED["sends"]["kind"] = True


def residue(obj: dict, tree: dict) -> dict | None:
    """The keys of ``obj`` that ``tree`` does not consume (None when there are none)."""
    out = None
    for key, value in obj.items():
        sub = tree.get(key)
        if sub is True:
            continue
        if sub is not None:
            if value.__class__ is dict:
                value = residue(value, sub)
                if value is None:
                    continue
            elif value is None:
                continue
        if out is None:
            out = {}
        out[key] = value
    return out


# The messages tree plus a message's own object, per known type (built once).
_WITH_OWN: dict[str, dict] = {}
_KNOWN_TYPES = frozenset(schema.MESSAGE_TYPES)


def extras(rows: list, frame: str) -> list:
    """The ``extra`` column: canonical JSON of each row's undeclared keys, or None."""
    tree = CONSUMED[frame]
    out = []
    for item, _ in rows:
        if frame == "messages" and (key := type_key(item)) is not None:
            own = _WITH_OWN.get(key) if key in _KNOWN_TYPES else None
            if own is None:
                own = {**tree, key: True}
                if key in _KNOWN_TYPES:
                    _WITH_OWN[key] = own
            rest = residue(item, own)
        else:
            rest = residue(item, tree)
        out.append(None if rest is None else canonical(rest))
    return out


# --------------------------------------------------------------------------- records


def _as_object(value: object, *where: object) -> dict:
    if value.__class__ is not dict:
        at = "".join(map(str, where))
        raise BadRecord(f"not a valid webhook: `{at}` is {kind_of(value)}, not an object")
    return value  # type: ignore[return-value]


def _objects(value: object, *where: object) -> list[dict]:
    """A list of objects at ``where`` (null reads as empty); raises for anything else.

    ``where`` comes in parts, joined only for a reason: most lists are fine, and the
    walker reads a few per record.
    """
    if value is None:
        return []
    if value.__class__ is not list:
        at = "".join(map(str, where))
        raise BadRecord(f"not a valid webhook: `{at}` is {kind_of(value)}, not a list")
    for i, item in enumerate(value):  # type: ignore[arg-type]
        if item.__class__ is not dict:
            at = "".join(map(str, where))
            raise BadRecord(f"not a valid webhook: `{at}[{i}]` is {kind_of(item)}, not an object")
    return value  # type: ignore[return-value]


def _unwrap(rec: dict) -> tuple[dict, dict]:
    """(the webhook, the envelope around it) of a decoded record."""
    if "entry" in rec:
        envelope = {"received_at": rec["received_at"]} if "received_at" in rec else {}
        return rec, envelope
    key = "body" if rec.get("body") is not None else "payload"
    inner = rec.get(key)
    if inner is None:
        raise BadRecord("not a webhook: no 'entry' list, and no 'body' or 'payload' around one")
    if inner.__class__ is str:
        if inner.count("{") + inner.count("[") > MAX_DEPTH and too_deep(inner.encode()):
            raise BadRecord(f"{key}: {TOO_DEEP}")
        try:
            inner = msgspec.json.decode(inner)
        except (msgspec.DecodeError, RecursionError) as exc:
            raise BadRecord(f"{key}: {reason_of(exc)}") from None
    if inner.__class__ is not dict:
        raise BadRecord(f"{key} is {kind_of(inner)}, not a webhook object")
    if "entry" not in inner:
        raise BadRecord(f"{key} is not a webhook: it has no 'entry' list")
    envelope = {k: v for k, v in rec.items() if k != key}
    return inner, envelope


def walk_record(raw: bytes | memoryview, fidx: int, loc: int, sink: Sink) -> None:
    """Decode one record and file its rows in ``sink`` (or a reject)."""
    sink.records += 1
    if too_deep(raw):
        sink.rejects.append((fidx, loc, TOO_DEEP, excerpt(raw)))
        return
    try:
        rec = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        sink.rejects.append((fidx, loc, reason_of(exc, raw), excerpt(raw)))
        return
    walk_decoded(rec, raw, fidx, loc, sink)


def walk_decoded(rec: object, raw, fidx: int, loc: int, sink: Sink) -> None:
    """File the rows of a record already decoded (``raw`` is its text, for a reject)."""
    try:
        if rec.__class__ is not dict:
            raise BadRecord(f"not a webhook: a record must be a JSON object, not {kind_of(rec)}")
        if rec.get("kind") == model.SEND_KIND and "entry" not in rec:  # type: ignore[union-attr]
            sink.rows["sends"].append((rec, (None,) * FILE + (fidx, loc, None)))
            sink.sends += 1
        else:
            # Filed straight into the sink; a bad record takes its rows back out.
            filed = [(found, len(found)) for found in sink.rows.values()]
            try:
                _rows_of_webhook(sink.rows, rec, fidx, loc)  # type: ignore[arg-type]
            except BadRecord:
                for found, n in filed:
                    del found[n:]
                raise
    except BadRecord as exc:
        sink.rejects.append((fidx, loc, str(exc), excerpt(raw)))


def walk_block(data: bytes, fidx: int, sink: Sink, first_line: int = 1) -> int:
    """Walk every non-blank line of an NDJSON block; returns its number of lines.

    The lines of a block are decoded in one comprehension; a block with a blank or
    undecodable line is walked line by line instead, which finds the precise reason.
    """
    lines = data.split(b"\n")
    count = len(lines)
    if lines[-1] == b"":
        lines.pop()
        count -= 1
    try:
        # A line with more brackets than MAX_DEPTH may nest too deeply: the slow way.
        opens = map(operator.add, map(bytes.count, lines, repeat(b"{")),
                    map(bytes.count, lines, repeat(b"[")))  # fmt: skip
        if max(opens, default=0) > MAX_DEPTH:
            raise RecursionError
        recs = list(map(msgspec.json.decode, lines))
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        for i, line in enumerate(lines):
            if line and not line.isspace():
                walk_record(line, fidx, first_line + i, sink)
        return count
    sink.records += len(recs)
    for loc, rec in enumerate(recs, first_line):
        walk_decoded(rec, lines[loc - first_line], fidx, loc, sink)
    return count


def _rows_of_webhook(rows: dict[str, list], rec: dict, fidx: int, loc: int) -> None:
    hook, envelope = _unwrap(rec)
    if "received_at" in envelope:
        envelope["received_at"] = received_ms(envelope["received_at"])
    # What no column declares around the changes, kept with the first change.  Most
    # records hold nothing else: a key-set test finds that without copying.
    if hook.keys() <= _HOOK_KEYS and hook.get("object", _OBJECT) == _OBJECT:
        record_rest = {}
    else:
        record_rest = {k: v for k, v in hook.items() if k != "entry"}
        if record_rest.get("object") == _OBJECT:
            del record_rest["object"]
    if envelope and not envelope.keys() <= _ENVELOPE_KEYS:
        record_rest["envelope"] = {k: v for k, v in envelope.items() if k != "received_at"}
    for i, entry in enumerate(_objects(hook.get("entry"), "$.entry")):
        if entry.keys() <= _ENTRY_KEYS:
            entry_rest = {}
        else:
            entry_rest = {k: v for k, v in entry.items() if k not in _ENTRY_KEYS}
        changes = _objects(entry.get("changes"), "$.entry[", i, "].changes")
        if not changes and (entry_rest or record_rest):
            scope = (envelope, entry, None, None, None, None, fidx, loc, None)
            _envelope_row(rows, scope, {"record": record_rest, "entry": entry_rest})
            record_rest = {}
        for j, change in enumerate(changes):
            where = f"$.entry[{i}].changes[{j}]"
            rest = {"record": record_rest, "entry": entry_rest}
            record_rest, entry_rest = {}, {}
            _change_rows(rows, change, envelope, entry, where, rest, fidx, loc)


_VALUE_KEYS = frozenset(("metadata", "contacts", "messages", "statuses", "groups", "errors"))
_HOOK_KEYS = frozenset(("object", "entry"))
_ENVELOPE_KEYS = frozenset(("received_at",))
_ENTRY_KEYS = frozenset(("id", "time", "changes"))
_CHANGE_KEYS = frozenset(("field", "value"))
_PLAIN_VALUE_KEYS = _VALUE_KEYS | {"messaging_product"}
_METADATA_KEYS = frozenset(("phone_number_id", "display_phone_number"))


def _change_rows(rows, change: dict, envelope, entry, where: str, rest: dict, fidx, loc) -> None:
    fld = change.get("field")
    value = change.get("value")
    rest["change"] = (
        {}
        if change.keys() <= _CHANGE_KEYS
        else {k: v for k, v in change.items() if k not in _CHANGE_KEYS}
    )
    if fld.__class__ is not str or fld not in _KNOWN:  # an object here is not hashable
        meta = value.get("metadata") if value.__class__ is dict else None
        scope = (envelope, entry, change, {"metadata": meta}, None, None, fidx, loc, None)
        rows["other_changes"].append(({}, (*scope[:DERIVED], "change")))
        if value.__class__ is dict and value.get("errors") is not None:
            for error in _objects(value["errors"], where, ".value.errors"):
                rows["errors"].append((error, (*scope[:DERIVED], ("webhook",) + (None,) * 6)))
        _envelope_row(rows, scope, rest)
        return
    if value is None:
        scope = (envelope, entry, change, None, None, None, fidx, loc, None)
        _envelope_row(rows, scope, rest)
        return
    value = _as_object(value, where, ".value")
    scope = (envelope, entry, change, value, None, None, fidx, loc, None)
    if value.keys() <= _PLAIN_VALUE_KEYS and value.get("messaging_product", _PRODUCT) == _PRODUCT:
        value_rest = {}
    else:
        value_rest = {k: v for k, v in value.items() if k not in _VALUE_KEYS}
        if value_rest.get("messaging_product") == _PRODUCT:
            del value_rest["messaging_product"]
    meta = value.get("metadata")
    if meta is not None:
        if meta.__class__ is not dict:
            value_rest["metadata"] = meta
        elif not meta.keys() <= _METADATA_KEYS:
            value_rest["metadata"] = {k: v for k, v in meta.items() if k not in _METADATA_KEYS}
    contacts = _objects(value.get("contacts"), where, ".value.contacts")
    used: set[int] = set()
    if fld == "messages":
        _statuses(rows, value, contacts, used, scope, where)
        _messages(rows, value, contacts, used, scope, where)
    else:
        _groups(rows, value, scope, where)
    for error in _objects(value.get("errors"), where, ".value.errors"):
        rows["errors"].append((error, (*scope[:DERIVED], ("webhook",) + (None,) * 6)))
    kept = []
    for k, contact in enumerate(contacts):
        if k not in used:
            kept.append(contact)
        elif (left := residue(contact, _CONTACT_TREE)) is not None:
            kept.append(left)
    if kept:
        value_rest["contacts"] = kept
    rest["value"] = value_rest
    _envelope_row(rows, scope, rest)


def _envelope_row(rows, scope: tuple, rest: dict) -> None:
    rest = {k: v for k, v in rest.items() if v}
    if rest:
        rows["other_changes"].append((rest, (*scope[:DERIVED], "envelope")))


_CONTACT_TREE = {
    "wa_id": True, "user_id": True, "parent_user_id": True, "username": True,
    "country_code": True, "profile": {"name": True, "username": True, "country_code": True},
}  # fmt: skip


def _contact_index(contacts: list[dict]) -> dict[str, int]:
    index: dict[str, int] = {}
    for k, contact in enumerate(contacts):
        for key in ("wa_id", "user_id"):
            who = contact.get(key)
            if who is not None and who.__class__ is not dict and who.__class__ is not list:
                index.setdefault(str(who), k)
    return index


def _match(index: dict[str, int], keys: list) -> int | None:
    for key in keys:
        if key is not None and key.__class__ is not dict and key.__class__ is not list:
            found = index.get(str(key))
            if found is not None:
                return found
    return None


_STATUS_WHO = ("recipient_participant_id", "participant_recipient_id",
               "recipient_participant_user_id", "recipient_id", "recipient_user_id")  # fmt: skip


def _with_contacts(items: list, contacts, used, scope, who, key: str, what: str, where: str):
    """(n, item, row scope) of each status or message, with the contact that names it.

    An item names its contact by one of the ids in ``who``; one item with one
    contact is that contact's. ``used`` collects the contacts matched.
    """
    if not items:
        return ()
    out = []
    head, tail = scope[:CONTACT], scope[GROUP:]
    if not contacts:
        for n, item in enumerate(items):
            if item.get("id") is None:
                _no_id(what, where, key, n)
            out.append((n, item, (*head, None, *tail)))
        return out
    if len(contacts) == 1 and len(items) == 1:
        # One item with one contact: that contact's, whatever ids it names.
        if items[0].get("id") is None:
            _no_id(what, where, key, 0)
        used.add(0)
        return [(0, items[0], (*head, contacts[0], *tail))]
    index = _contact_index(contacts)
    for n, item in enumerate(items):
        if item.get("id") is None:
            _no_id(what, where, key, n)
        k = _match(index, [item.get(key) for key in who])
        if k is not None:
            used.add(k)
        out.append((n, item, (*head, None if k is None else contacts[k], *tail)))
    return out


def _no_id(what: str, where: str, key: str, n: int) -> None:
    raise BadRecord(
        f"not a valid webhook: a {what} has no `id` - at "
        f"`{where.removeprefix('$.')}.value.{key}[{n}]`"
    )


def _statuses(rows, value: dict, contacts, used: set, scope: tuple, where: str) -> None:
    statuses = _objects(value.get("statuses"), where, ".value.statuses")
    for n, st, row_scope in _with_contacts(statuses, contacts, used, scope, _STATUS_WHO,
                                           "statuses", "status", where):  # fmt: skip
        rows["statuses"].append((st, row_scope))
        errors = _objects(st.get("errors"), where, ".value.statuses[", n, "].errors")
        if errors:
            gid = st.get("group_id")
            if gid is None and st.get("recipient_type") == "group":
                gid = st.get("recipient_id")
            pid = st.get("recipient_participant_id")
            if pid is None:
                pid = st.get("participant_recipient_id")
            derived = (
                "status",
                None,
                st.get("id"),
                gid,
                pid,
                st.get("status"),
                st.get("timestamp"),
            )
            for error in errors:
                rows["errors"].append((error, (*scope[:DERIVED], derived)))


_MESSAGE_WHO = ("from", "from_user_id")


def _messages(rows, value: dict, contacts, used: set, scope: tuple, where: str) -> None:
    messages = _objects(value.get("messages"), where, ".value.messages")
    for n, m, row_scope in _with_contacts(messages, contacts, used, scope, _MESSAGE_WHO,
                                          "messages", "message", where):  # fmt: skip
        rows["messages"].append((m, row_scope))
        for error in _objects(m.get("errors"), where, ".value.messages[", n, "].errors"):
            derived = ("message", None, m.get("id"), m.get("group_id"), m.get("from"), None,
                       m.get("timestamp"))  # fmt: skip
            rows["errors"].append((error, (*scope[:DERIVED], derived)))


def _who(p: dict) -> tuple[object, object]:
    """(phone / wa_id, business-scoped user id) of a participant entry."""
    pid = p.get("wa_id")
    uid = p.get("user_id")
    given = p.get("input")
    if given is not None and given.__class__ is not dict and given.__class__ is not list:
        if _BSUID.match(str(given)):
            uid = given if uid is None else uid
        else:
            pid = given if pid is None else pid
    return pid, uid


_LISTS = (("added_participants", "join"), ("removed_participants", "leave"),
          ("failed_participants", None))  # fmt: skip


def _groups(rows, value: dict, scope: tuple, where: str) -> None:
    for n, g in enumerate(_objects(value.get("groups"), where, ".value.groups")):
        at = f"{where}.value.groups[{n}]"
        gid, ts = g.get("group_id"), g.get("timestamp")
        rows["group_events"].append((g, scope))
        for error in _objects(g.get("errors"), at, ".errors"):
            derived = ("group_event", None, None, gid, None, None, ts)
            rows["errors"].append((error, (*scope[:DERIVED], derived)))
        for key, change in _LISTS:
            if change is None:
                removing = str(g.get("type") or "").endswith("remove")
                change = "remove_failed" if removing else "add_failed"
            for p in _objects(g.get(key), at, ".", key):
                pid, uid = _who(p)
                member_scope = (*scope[:GROUP], g, *scope[FILE:DERIVED], (change, pid, uid))
                rows["membership"].append((p, member_scope))
                for error in _objects(p.get("errors"), at, ".", key, "[].errors"):
                    who = pid if pid is not None else uid
                    derived = ("group_event", None, None, gid, who, None, ts)
                    rows["errors"].append((error, (*scope[:DERIVED], derived)))
        for setting in ("group_subject", "group_description", "profile_picture"):
            obj = g.get(setting)
            if obj is None:
                continue
            obj = _as_object(obj, f"{at}.{setting}")
            for error in _objects(obj.get("errors"), at, ".", setting, ".errors"):
                derived = ("group_event", setting, None, gid, None, None, ts)
                rows["errors"].append((error, (*scope[:DERIVED], derived)))


# --------------------------------------------------------------------------- columns


def _derived(rows: list, i: int) -> list:
    return [row[1][DERIVED][i] for row in rows]


def _flag(value: object) -> bool | None:
    if value is None or value.__class__ is bool:
        return value  # type: ignore[return-value]
    low = str(value).strip().lower()
    return True if low == "true" else False if low == "false" else None


def _statuses_group(rows: list, cols: dict) -> list:
    explicit = [st.get("group_id") for st, _ in rows]
    return [
        g if g is not None else (rid if rtype == "group" else None)
        for g, rid, rtype in zip(
            explicit, cols["recipient_id"], cols["recipient_type"], strict=True
        )
    ]


def _forwarded(rows: list, cols: dict) -> list:
    out = []
    for m, _ in rows:
        context = m.get("context")
        if context.__class__ is not dict:
            out.append(None)
            continue
        a, b = context.get("forwarded"), context.get("frequently_forwarded")
        out.append(None if a is None and b is None else bool(_flag(a) or _flag(b)))
    return out


def type_key(m: dict) -> str | None:
    """The key of a message's own object: its ``type``, else the one type key it has."""
    kind = m.get("type")
    if kind.__class__ is str and kind in m:
        return kind
    if kind is None:
        present = [k for k in schema.MESSAGE_TYPES if m.get(k) is not None]
        if len(present) == 1:
            return present[0]
    return None


def _payload(rows: list, cols: dict) -> list:
    out = []
    for m, _ in rows:
        key = type_key(m)
        out.append(None if key is None or m[key] is None else canonical(m[key]))
    return out


def _subject(text_key: str, setting: str) -> Callable[[list, dict], list]:
    def rule(rows: list, cols: dict) -> list:
        out = []
        for g, _ in rows:
            value = g.get(text_key)
            obj = g.get(setting)
            if (
                value is None
                and obj.__class__ is dict
                and _flag(obj.get("update_successful")) is not False
            ):
                value = obj.get("text")
            out.append(value)
        return out

    return rule


def _all_updated(rows: list, cols: dict) -> list:
    out = []
    for g, _ in rows:
        flags = []
        for setting in ("group_subject", "group_description", "profile_picture"):
            obj = g.get(setting)
            if obj.__class__ is dict and obj.get("update_successful") is not None:
                flags.append(_flag(obj["update_successful"]))
        out.append(all(flags) if flags else None)
    return out


def _count(key: str) -> Callable[[list, dict], list]:
    def rule(rows: list, cols: dict) -> list:
        return [None if g.get(key) is None else len(g[key]) for g, _ in rows]

    return rule


def _member(i: int) -> Callable[[list, dict], list]:
    return lambda rows, cols: _derived(rows, i)


def _error_part(i: int) -> Callable[[list, dict], list]:
    return lambda rows, cols: [
        None if row[1][DERIVED] is None else row[1][DERIVED][i] for row in rows
    ]


def _kind(rows: list, cols: dict) -> list:
    return [row[1][DERIVED] for row in rows]


def _raw(rows: list, cols: dict) -> list:
    out = []
    for item, scope in rows:
        if scope[DERIVED] == "change":
            value = scope[CHANGE].get("value")
            out.append(None if value is None else canonical(value))
        else:
            out.append(canonical(item))
    return out


def _millis(key: str) -> Callable[[list, dict], list]:
    def rule(rows: list, cols: dict) -> list:
        out = []
        for rec, _ in rows:
            value = rec.get(key)
            if value.__class__ in (int, float) and math.isfinite(value):
                if abs(value) < 9e15:
                    value = int(value * 1000)
                else:  # milliseconds beyond 64 bits: rejected, naming the value given
                    out_of_range = OutOfRange(math.inf)  # no int64 cast takes it
                    out_of_range.given = value
                    value = out_of_range
            out.append(value)  # anything else is rejected as not a number
        return out

    return rule


# Columns computed by their declared rule (see groupkit.schema), by frame.
RULES: dict[tuple[str, str], Callable[[list, dict], list]] = {
    ("statuses", "group_id"): _statuses_group,
    ("messages", "forwarded"): _forwarded,
    ("messages", "payload"): _payload,
    ("errors", "origin"): _error_part(0),
    ("errors", "setting"): _error_part(1),
    ("errors", "message_id"): _error_part(2),
    ("errors", "group_id"): _error_part(3),
    ("errors", "participant_id"): _error_part(4),
    ("errors", "status"): _error_part(5),
    ("errors", "timestamp"): _error_part(6),
    ("group_events", "subject"): _subject("subject", "group_subject"),
    ("group_events", "description"): _subject("description", "group_description"),
    ("group_events", "update_successful"): _all_updated,
    ("group_events", "participants_added"): _count("added_participants"),
    ("group_events", "participants_removed"): _count("removed_participants"),
    ("group_events", "participants_failed"): _count("failed_participants"),
    ("membership", "change"): _member(0),
    ("membership", "participant_id"): _member(1),
    ("membership", "participant_user_id"): _member(2),
    ("other_changes", "kind"): _kind,
    ("other_changes", "raw"): _raw,
    ("sends", "requested_at"): _millis("requested_at"),
    ("sends", "accepted_at"): _millis("accepted_at"),
}


def columns(frame: str, rows: list) -> dict[str, list]:
    """Every raw column of ``frame`` (plus ``_file`` and ``_loc``) from its rows."""
    cols: dict[str, list] = _read_declared(frame, rows)
    later = []
    for name in schema.FRAMES[frame]:
        if name == "extra":
            cols[name] = extras(rows, frame) if rows else []
        elif (frame, name) in RULES:
            later.append(name)
    for name in later:
        cols[name] = RULES[(frame, name)](rows, cols) if rows else []
    cols["_file"] = [row[1][FILE] for row in rows]
    cols["_loc"] = [row[1][LINE] for row in rows]
    return {name: cols[name] for name in RAW_COLUMNS[frame]}
