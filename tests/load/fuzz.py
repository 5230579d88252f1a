"""Fuzz the loader's C lane against the exact walker with mutated webhook lines.

The contract of the lane (``groupkit/load/lane.py``, ``_scan.c``): a line it takes
is read exactly as the msgspec walker reads it; every other line is handed to the
walker.  This driver takes real lines (sample data, the simulator, the benchmark
generator, the peer fixtures when they are there), damages them in many small
ways and reads each block twice through :func:`groupkit.parse_webhooks`, with
``lane.ENABLED`` on and off: frames, rejects and counts must be identical.  It
goes through the public entry point only, so it fences whatever line shapes the
lane reads, not one C function's tuple layout.

Mutations are deterministic for a seed.  A difference prints the damaged line as
``repr`` (ready for a regression test) and ends the run with exit code 1.  Under
the sanitizers (``python -m tests.load.sanitize``) the sanitized ``_scan`` is
loaded in place of the installed one (``--scan PATH``), and each block is also fed
to the lane from a buffer that ends exactly where its allocation ends, so that a
read one byte past the end is caught.

Usage::

    python -m tests.load.fuzz --seconds 60 [--seed 0] [--scan PATH/_scan.so]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gzip
import importlib.util
import itertools
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEER_FIXTURES = ROOT.parent / "shared" / "peer_fixtures"
BLOCK = 64  # mutated lines read together, after one intact line

# ---------------------------------------------------------------- seeds


def _compact(obj: object, ascii_only: bool = False) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii_only).encode()


def _ndjson_lines(data: bytes) -> list[bytes]:
    return [line for line in data.split(b"\n") if line.strip()]


def sample_seeds() -> list[bytes]:
    """Every line of ``sample_data/webhooks`` (NDJSON, gzip and JSON arrays)."""
    out: list[bytes] = []
    for path in sorted((ROOT / "sample_data" / "webhooks").iterdir()):
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        if path.name.endswith((".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")):
            out += _ndjson_lines(raw)
        elif path.suffix == ".json":
            out += [_compact(item) for item in json.loads(raw)]
    return out


def simulator_seeds(groups: int = 3, days: int = 1) -> list[bytes]:
    """Lines of a small simulated archive (``groupkit.simulate``)."""
    from groupkit.simulate import simulate_archive

    with tempfile.TemporaryDirectory() as tmp:
        simulate_archive(tmp, groups=groups, days=days, seed=0, fmt="ndjson")
        return [
            line
            for p in sorted(Path(tmp).glob("*.ndjson"))
            for line in _ndjson_lines(p.read_bytes())
        ]


def generator_seeds(lines: int = 400) -> list[bytes]:
    """Lines of ``benchmarks/make_archive.py``'s generator, serialised as it writes them."""
    import orjson

    spec = importlib.util.spec_from_file_location(
        "_groupkit_make_archive", ROOT / "benchmarks" / "make_archive.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    finally:
        del sys.modules[spec.name]
    # Every mix, so that inbound messages in many scripts seed the message lane too.
    each = max(1, lines // len(module.MIXES))
    return [
        orjson.dumps(hook)
        for mix in module.MIXES.values()
        for hook in itertools.islice(module.generate(each, 0, mix), each)
    ]


def peer_seeds() -> list[bytes]:
    """The peer fixtures (``../shared/peer_fixtures``), read in place; none if absent."""
    out: list[bytes] = []
    if not PEER_FIXTURES.is_dir():
        return out
    for path in sorted(PEER_FIXTURES.rglob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(doc, dict) and ("entry" in doc or "object" in doc):
            payloads = [doc]
        elif isinstance(doc, dict):
            payloads = [v for v in doc.values() if isinstance(v, dict)]
        elif isinstance(doc, list):
            payloads = [v for v in doc if isinstance(v, dict)]
        else:
            payloads = []
        out += [_compact(p) for p in payloads]
    return out


def seeds(simulated: bool = True) -> list[bytes]:
    """The whole seed corpus: distinct lines in a fixed order."""
    found = sample_seeds() + generator_seeds() + peer_seeds()
    if simulated:
        found += simulator_seeds()
    return sorted(set(found))


# ---------------------------------------------------------------- mutations

ESCAPES = [
    rb"\u00e9",
    rb"\ud83d\ude00",
    rb"\ud83d",  # lone high surrogate
    rb"\ude00",  # lone low surrogate
    rb"\u0000",
    rb"\u0022",
    rb"\n",
    rb"\/",
    rb"\"",
    rb"\\",
    rb"\x",  # not an escape
    rb"\u12",  # too short
    b"\\",
]
NON_ASCII = [
    "é".encode(),
    "😀".encode(),
    "\u2028".encode(),
    "\ufeff".encode(),
    b"\xc3",  # truncated sequence
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf4\x90\x80\x80",  # above U+10FFFF
    b"\xc0\xaf",  # overlong
    b"\xff",
    b"\x80",
]
CONTROL = [bytes([c]) for c in (*range(0x00, 0x0A), *range(0x0B, 0x20), 0x7F)]
WHITESPACE = [b" ", b"\t", b"\r", b"  \t ", b"\x0c", b"\x0b"]
NUMBERS = [
    b"0",
    b"-0",
    b"01",
    b"1.0",
    b"1e3",
    b"1E400",
    b"-1",
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775809",
    b"18446744073709551616",
    b"1" * 40,
    b"1" * 400,
    b"NaN",
    b"Infinity",
    b"true",
    b"null",
]
DIGIT_STRINGS = [
    b'"' + d + b'"' for d in (b"", b"0", b"1" * 18, b"1" * 19, b"9" * 30, b"-1", b"1.5")
]
STRUCTURE = [b'"', b"\\", b"{", b"}", b"[", b"]", b",", b":", b"n", b"1", b"x", b"\x00"]


def _at(rng: random.Random, line: bytes, chars: bytes | None = None) -> int:
    """A random position; with ``chars``, one just before or after such a byte."""
    if chars:
        spots = [i for i, b in enumerate(line) if b in chars]
        if spots:
            return rng.choice(spots) + rng.choice((0, 1))
    return rng.randrange(len(line) + 1)


def _insert(rng: random.Random, line: bytes, text: bytes, chars: bytes | None = None) -> bytes:
    i = _at(rng, line, chars)
    return line[:i] + text + line[i:]


def _string_inside(rng: random.Random, line: bytes) -> int:
    """A position inside some string (just after an opening or before a closing quote)."""
    return _at(rng, line, b'"')


def _byte_flip(rng: random.Random, line: bytes) -> bytes:
    if not line:
        return line
    i = rng.randrange(len(line))
    return line[:i] + bytes([line[i] ^ (1 << rng.randrange(8))]) + line[i + 1 :]


def _byte_set(rng: random.Random, line: bytes) -> bytes:
    if not line:
        return line
    i = rng.randrange(len(line))
    return line[:i] + rng.choice(STRUCTURE + NON_ASCII + CONTROL) + line[i + 1 :]


def _truncate(rng: random.Random, line: bytes) -> bytes:
    # Classes of positions: after a quote, colon, comma, bracket, digit, backslash, or anywhere.
    chars = rng.choice([b'"', b":", b",", b"{[", b"}]", b"0123456789", b"\\", b"e", None])
    return line[: _at(rng, line, chars)]


def _quote(rng: random.Random, line: bytes) -> bytes:
    if rng.random() < 0.5:
        return _insert(rng, line, b'"', b'":,')
    spots = [i for i, b in enumerate(line) if b == ord('"')]
    if not spots:
        return line
    i = rng.choice(spots)
    return line[:i] + line[i + 1 :]


def _escape(rng: random.Random, line: bytes) -> bytes:
    i = _string_inside(rng, line)
    return line[:i] + rng.choice(ESCAPES) + line[i:]


def _control(rng: random.Random, line: bytes) -> bytes:
    return _insert(rng, line, rng.choice(CONTROL), rng.choice([b'"', b",:", None]))


def _non_ascii(rng: random.Random, line: bytes) -> bytes:
    return _insert(rng, line, rng.choice(NON_ASCII), rng.choice([b'"', None]))


def _whitespace(rng: random.Random, line: bytes) -> bytes:
    return _insert(rng, line, rng.choice(WHITESPACE), rng.choice([b",:{}[]", None]))


def _delete(rng: random.Random, line: bytes) -> bytes:
    i = rng.randrange(len(line) + 1)
    return line[:i] + line[i + rng.randint(1, 8) :]


def _splice(rng: random.Random, line: bytes) -> bytes:
    """A piece of the line repeated elsewhere in it (duplicate keys, values, brackets)."""
    i = rng.randrange(len(line) + 1)
    j = min(len(line), i + rng.randint(1, 40))
    return _insert(rng, line, line[i:j], b",{")


def _number(rng: random.Random, line: bytes) -> bytes:
    """A number or a digit string where a value was."""
    i = _at(rng, line, b":")
    j = i
    while j < len(line) and line[j] not in b",}]":
        j += 1
    return line[:i] + rng.choice(NUMBERS + DIGIT_STRINGS) + line[j:]


def _deep(rng: random.Random, line: bytes) -> bytes:
    """A deeply nested value as a new first key of some object, or a run of open brackets."""
    depth = rng.choice([2, 63, 64, 65, 255, 256, 257, 1000, 5000])
    open_, close = rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
    if rng.random() < 0.7:
        spots = [i + 1 for i, b in enumerate(line) if b == ord("{")]
        if spots:
            i = rng.choice(spots)
            return line[:i] + b'"deep":' + open_ * depth + b"1" + close * depth + b"," + line[i:]
    return _insert(rng, line, open_ * depth, b":[,")


PLAIN = bytes(c for c in range(0x20, 0x7F) if c not in b'"\\')


def _plain_text(rng: random.Random, line: bytes) -> bytes:
    """Plain printable ASCII put into a string, or a stretch of it removed: lines the
    lane still takes, with other lengths and values (word boundaries, long strings)."""
    i = _string_inside(rng, line)
    text = bytes(rng.choice(PLAIN) for _ in range(rng.choice([0, 1, 7, 8, 9, 15, 16, 40, 300])))
    return line[:i] + text + line[i + rng.choice([0, 0, 1, 3, 8]) :]


def _digit(rng: random.Random, line: bytes) -> bytes:
    """A digit changed, added or removed (timestamps, times, ids)."""
    i = _at(rng, line, b"0123456789")
    i = max(0, i - 1)
    new = bytes([rng.choice(b"0123456789")]) if rng.random() < 0.8 else b""
    return line[:i] + new + line[i + rng.choice((0, 1)) :]


def _walk_json(value: object, fn: Callable[[object], object]) -> object:
    value = fn(value)
    if isinstance(value, dict):
        return {k: _walk_json(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk_json(v, fn) for v in value]
    return value


def _json_level(rng: random.Random, line: bytes) -> bytes:
    """Valid-JSON changes: reordered or duplicated keys, numbers for strings and back,
    other values, non-ASCII text, escaped output, spaces."""
    try:
        return _json_change(rng, json.loads(line))
    except (ValueError, UnicodeDecodeError, RecursionError):  # not JSON, or too deep
        return _byte_flip(rng, line)


def _json_change(rng: random.Random, doc: object) -> bytes:
    objects: list[dict] = []

    def collect(v: object) -> object:
        if isinstance(v, dict):
            objects.append(v)
        return v

    _walk_json(doc, collect)
    kind = rng.randrange(8)
    if objects and kind == 0:  # reorder the keys of one object
        obj = rng.choice(objects)
        items = list(obj.items())
        rng.shuffle(items)
        obj.clear()
        obj.update(items)
    elif objects and kind == 1:  # a value of another type
        obj = rng.choice(objects)
        if obj:
            key = rng.choice(list(obj))
            value = obj[key]
            if isinstance(value, str) and value.lstrip("-").isdigit():
                obj[key] = int(value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                obj[key] = str(value)
            else:
                obj[key] = rng.choice([None, True, False, 0, 1.5, "", [], {}, "x", [None], 2**70])
    elif objects and kind == 2:  # drop a key
        obj = rng.choice(objects)
        if obj:
            del obj[rng.choice(list(obj))]
    elif objects and kind == 3:  # add an undeclared key
        rng.choice(objects)[rng.choice(["x", "extra", "id2", "é", "", "status "])] = rng.choice(
            ["v", 1, None, {"a": [1]}]
        )
    elif kind == 4:  # non-ASCII text in the strings
        text = rng.choice(["é", "😀", "Ω≈ç", "\u200b", "\x7f", "a\nb", 'q"q', "b\\s"])
        doc = _walk_json(
            doc, lambda v: v + text if isinstance(v, str) and rng.random() < 0.3 else v
        )
    elif kind == 5:  # the same document, escaped to ASCII
        return _compact(doc, ascii_only=True)
    elif kind == 6:  # spaces after separators
        return json.dumps(doc, ensure_ascii=False).encode()
    elif objects:  # a duplicate key, written by hand (JSON objects cannot hold two)
        text = _compact(doc)
        obj = rng.choice([o for o in objects if o] or [{}])
        if obj:
            key = rng.choice(list(obj))
            pair = _compact({key: rng.choice([obj[key], "dup", None, 7])})[1:-1]
            needle = _compact(key) + b":"
            i = text.find(needle)
            if i >= 0:
                return text[:i] + pair + b"," + text[i:]
        return text
    return _compact(doc)


MUTATIONS: list[Callable[[random.Random, bytes], bytes]] = [
    _byte_flip,
    _byte_set,
    _truncate,
    _quote,
    _escape,
    _control,
    _non_ascii,
    _whitespace,
    _delete,
    _splice,
    _number,
    _deep,
    _json_level,
    _json_level,
    _json_level,
    _plain_text,
    _plain_text,
    _digit,
    _digit,
]


def mutate(rng: random.Random, line: bytes) -> bytes:
    """One to three mutations of ``line``, chosen by ``rng``."""
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        line = rng.choice(MUTATIONS)(rng, line)
    return line


def mutated_lines(corpus: list[bytes], seed: int) -> Iterable[bytes]:
    """An endless, deterministic stream of mutated lines."""
    rng = random.Random(seed)
    while True:
        yield mutate(rng, rng.choice(corpus))


# ---------------------------------------------------------------- comparison


# Faults of the walker itself (both paths raise alike) that this fuzzer may meet,
# skipped so that CI keeps fencing the lane while one is being fixed; pin each with
# a test in tests/load/test_fence.py.  None are known now.
KNOWN_CRASHES: tuple[str, ...] = ()

KNOWN_HITS: dict[str, int] = {}  # known faults met in this run, and how often


def _read(data: bytes, lane_on: bool):
    import groupkit
    from groupkit.load import lane

    saved = lane.ENABLED
    lane.ENABLED = lane_on
    try:
        return groupkit.parse_webhooks(data)
    except Exception as exc:  # both paths must fail alike, too
        return f"raised {type(exc).__name__}: {exc}"
    finally:
        lane.ENABLED = saved


def difference(data: bytes) -> str | None:
    """How reading ``data`` with the lane differs from the walker alone; None if not at all."""
    import pandas as pd

    a, b = _read(data, True), _read(data, False)
    if isinstance(a, str) or isinstance(b, str):
        # parse_webhooks collects bad records: raising at all is a fault, on either path.
        crash = a if isinstance(a, str) else b
        if any(known in crash for known in KNOWN_CRASHES) and a == b:
            KNOWN_HITS[crash] = KNOWN_HITS.get(crash, 0) + 1
            return None
        said = [r if isinstance(r, str) else "read" for r in (a, b)]
        return f"lane: {said[0]}; walker: {said[1]}"
    for name, frame in a.frames().items():
        try:
            pd.testing.assert_frame_equal(frame, b.frames()[name], check_exact=True, obj=name)
        except AssertionError as exc:
            return str(exc)
    ra, rb = a.report, b.report
    if list(ra.rejects) != list(rb.rejects):
        return f"rejects: lane {list(ra.rejects)} walker {list(rb.rejects)}"
    counts = [(r.records_read, r.webhooks_parsed, r.rows, r.duplicates) for r in (ra, rb)]
    if counts[0] != counts[1]:
        return f"counts: lane {counts[0]} walker {counts[1]}"
    return None


def _exact_buffer(data: bytes) -> memoryview:
    """``data`` in an allocation of exactly its size (a bytes object has a NUL after it)."""
    return memoryview((ctypes.c_char * len(data)).from_buffer_copy(data)).cast("B")


def touch_exact(data: bytes) -> None:
    """Feed the lane ``data`` from an exact-size buffer, for the sanitizers' sake."""
    from groupkit.load import lane
    from groupkit.load.walk import Sink

    if len(data) > 16 and lane.available():  # ctypes keeps up to 16 bytes inline
        # What it reads is compared by difference(); here only memory errors count.
        with contextlib.suppress(Exception):
            lane.walk_lines(_exact_buffer(data), 0, Sink(), 1)


def lane_takes(data: bytes) -> int | None:
    """How many lines the C lane itself takes (progress only; None if unknown)."""
    from groupkit.load import lane

    try:
        return int(lane._scan.read(data, 1)[1])
    except Exception:
        return None


def check_lines(lines: list[bytes], anchor: bytes, exact: bool = False) -> list[tuple[bytes, str]]:
    """The lines (with the difference) that read differently through the lane.

    The lines are read as one block after ``anchor`` (an intact line, so the block
    is NDJSON); where the block differs, each line is read alone after ``anchor``
    to name the culprit, or the whole block is named if only the mix differs.
    """
    block = b"\n".join([anchor, *lines]) + b"\n"
    if exact:
        touch_exact(block)
    if difference(block) is None:
        return []
    bad = []
    for line in lines:
        why = difference(anchor + b"\n" + line + b"\n")
        if why is not None:
            bad.append((line, why))
    return bad or [(b"\n".join(lines), "the block differs, no single line does")]


def load_scan(path: str) -> None:
    """Load the extension at ``path`` as ``groupkit.load._scan`` and put it in the lane."""
    spec = importlib.util.spec_from_file_location("groupkit.load._scan", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    sys.modules["groupkit.load._scan"] = module
    from groupkit.load import lane

    lane._scan = module
    assert lane.available() and Path(lane._scan.__file__) == Path(path)


def run(seconds: float, seed: int = 0, max_lines: int | None = None, exact: bool = False) -> int:
    """Fuzz for ``seconds`` (or ``max_lines`` lines); print failures; 1 if any, else 0."""
    started = time.monotonic()
    corpus = seeds()
    anchor = min((s for s in corpus if b'"statuses"' in s), key=len)
    stream = mutated_lines(corpus, seed)
    tried = taken = 0
    failures: list[tuple[bytes, str]] = []
    while time.monotonic() - started < seconds and (max_lines is None or tried < max_lines):
        n = BLOCK if max_lines is None else min(BLOCK, max_lines - tried)
        lines = [line.replace(b"\n", b" ") for line in itertools.islice(stream, n)]
        tried += len(lines)
        taken += lane_takes(b"\n".join(lines)) or 0
        failures += check_lines(lines, anchor, exact=exact)
        if len(failures) >= 20:
            break
    elapsed = time.monotonic() - started
    print(
        f"fuzzed {tried} mutated lines from {len(corpus)} seed lines in {elapsed:.0f} s "
        f"(seed {seed}); the C lane took {taken} of them; {len(failures)} differ"
    )
    if KNOWN_HITS:
        print(f"skipped known walker faults: {KNOWN_HITS}")
    for line, why in failures:
        print(f"DIFFERS: {line!r}\n  {why.splitlines()[0] if why else ''}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lines", type=int, default=None, help="stop after this many lines")
    parser.add_argument("--scan", help="a (sanitized) build of _scan to use instead")
    args = parser.parse_args(argv)
    if args.scan:
        load_scan(args.scan)
    return run(args.seconds, args.seed, args.lines, exact=bool(args.scan))


if __name__ == "__main__":
    sys.exit(main())
