"""Native JSON readers on the loader's own blocks: is hand-written C worth it?

When the C lane grew to read inbound messages, the question was whether a
well-kept native reader could do the job instead: pyarrow's JSON reader, given a complete
explicit schema of the webhook (so that it builds typed nested columns in C++),
with any block it refuses handed to the walker.  This script measures, on 8 MB
blocks of each archive mix (``make_archive.MIXES``), single-threaded CPU time:

* ``orjson floor``: ``orjson.loads`` of every line (the benchmarks' floor);
* ``groupkit block``: ``groupkit.load.engine.run_block``, the C lanes plus the
  walker, to the frames' Arrow tables (what a worker does);
* ``pyarrow read_json``: ``pyarrow.json.read_json`` with the explicit schema, and
  the same plus flattening ``entry[].changes[].value.{statuses,messages}[]`` into
  row columns (still short of the frames: no canonical payload, no contacts
  matched, no ``extra``);
* whether pyarrow refused the block (unexpected keys or types anywhere in it).

Usage::

    python benchmarks/bench_readers.py [--lines 1000000] [--mix ...] [--blocks 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_load import ensure_archive  # noqa: E402
from make_archive import MIXES  # noqa: E402

S, B, INT = pa.string(), pa.bool_(), pa.int64()


def _struct(**fields: pa.DataType) -> pa.DataType:
    return pa.struct([pa.field(k, v) for k, v in fields.items()])


_MEDIA = dict(
    mime_type=S, sha256=S, id=S, caption=S, url=S, filename=S, voice=B, animated=B
)  # fmt: skip
_ERROR = _struct(code=INT, title=S, message=S, error_data=_struct(details=S), href=S)
_PRICING = _struct(billable=B, pricing_model=S, type=S, category=S, subtype=S)
STATUS = _struct(
    id=S, status=S, timestamp=S, recipient_id=S, recipient_type=S, recipient_participant_id=S,
    recipient_participant_user_id=S, pricing=_PRICING, errors=pa.list_(_ERROR),
)  # fmt: skip
MESSAGE = _struct(
    **{"from": S}, group_id=S, id=S, timestamp=S, type=S, from_user_id=S,
    text=_struct(body=S), image=_struct(**_MEDIA), video=_struct(**_MEDIA),
    audio=_struct(**_MEDIA), document=_struct(**_MEDIA), sticker=_struct(**_MEDIA),
    reaction=_struct(message_id=S, emoji=S), context=_struct(**{"from": S}, id=S),
)  # fmt: skip
_PEOPLE = pa.list_(_struct(wa_id=S))
GROUP = _struct(
    timestamp=S, group_id=S, type=S, reason=S, request_id=S, added_participants=_PEOPLE,
    removed_participants=_PEOPLE, group_subject=_struct(text=S, update_successful=B),
)  # fmt: skip
VALUE = _struct(
    messaging_product=S, metadata=_struct(display_phone_number=S, phone_number_id=S),
    statuses=pa.list_(STATUS), messages=pa.list_(MESSAGE),
    contacts=pa.list_(_struct(profile=_struct(name=S), wa_id=S, user_id=S)),
    groups=pa.list_(GROUP), event=S, message_template_id=INT, message_template_name=S,
    message_template_language=S, reason=S,
)  # fmt: skip
WEBHOOK = pa.schema(
    [
        pa.field("object", S),
        pa.field(
            "entry",
            pa.list_(_struct(id=S, time=INT, changes=pa.list_(_struct(value=VALUE, field=S)))),
        ),
    ]
)


def _blocks(path: Path, count: int, size: int = 8 << 20) -> list[bytes]:
    out = []
    with open(path, "rb") as fh:
        for _ in range(count):
            data = fh.read(size)
            if not data:
                break
            data += fh.readline()  # whole lines, as the loader cuts them
            out.append(data)
    return out


def _cpu(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best * 1000


def _orjson(block: bytes) -> None:
    for line in block.splitlines():
        orjson.loads(line)


def _read_json(block: bytes) -> pa.Table | None:
    options = pj.ParseOptions(explicit_schema=WEBHOOK, unexpected_field_behavior="error")
    try:
        return pj.read_json(
            pa.BufferReader(block),
            read_options=pj.ReadOptions(use_threads=False, block_size=len(block) + 1),
            parse_options=options,
        )
    except pa.ArrowInvalid:
        return None


def _flatten(table: pa.Table) -> dict[str, pa.Array]:
    entries = pc.list_flatten(table["entry"])
    changes = pc.list_flatten(pc.struct_field(entries, "changes"))
    values = pc.struct_field(changes, "value")
    out = {}
    for key, kind in (("statuses", STATUS), ("messages", MESSAGE)):
        items = pc.list_flatten(pc.struct_field(values, key))
        for f in kind:
            out[f"{key}.{f.name}"] = pc.struct_field(items, f.name)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--mix", nargs="+", choices=list(MIXES), default=list(MIXES))
    ap.add_argument("--blocks", type=int, default=5, help="8 MB blocks per mix")
    args = ap.parse_args()

    from groupkit.load import engine

    print("CPU ms per 8 MB block, one thread, best of 3, mean over the blocks")
    print(
        f"| {'mix':<13} | {'orjson floor':>12} | {'groupkit block':>14} "
        f"| {'pyarrow read_json':>17} | {'+ flatten':>9} | {'refused':>7} |"
    )
    print(f"|{'-' * 15}|{'-' * 14}|{'-' * 16}|{'-' * 19}|{'-' * 11}|{'-' * 9}|")
    for mix in args.mix:
        blocks = _blocks(ensure_archive(args.lines, mix)[0], args.blocks)
        floor = gk = pa_read = pa_flat = 0.0
        refused = 0
        for block in blocks:
            floor += _cpu(lambda b=block: _orjson(b))
            gk += _cpu(lambda b=block: engine.run_block(0, 0, b, None, 1))
            if _read_json(block) is None:
                refused += 1
                continue
            pa_read += _cpu(lambda b=block: _read_json(b))
            pa_flat += _cpu(lambda b=block: _flatten(_read_json(b)))
        n, read = len(blocks), max(1, len(blocks) - refused)
        print(
            f"| {mix:<13} | {floor / n:>12.1f} | {gk / n:>14.1f} | {pa_read / read:>17.1f} "
            f"| {pa_flat / read:>9.1f} | {refused:>3}/{n:<3} |"
        )


if __name__ == "__main__":
    main()
