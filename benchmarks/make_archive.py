"""Generate a large NDJSON archive of group webhooks for the benchmarks.

The shape mix follows real group traffic: a group-level ``sent`` per message,
per-participant ``delivered`` and ``read`` (sometimes aggregated), some
``failed``, inbound participant messages and a few membership events.  It is
built for speed (a million lines in seconds), not realism of timing; the
simulator in ``groupkit.simulate`` is the realistic one.

Usage::

    python benchmarks/make_archive.py OUT.ndjson --lines 1000000 [--gzip]
"""

from __future__ import annotations

import argparse
import gzip
import random
from pathlib import Path

import orjson

from groupkit import webhooks

_INBOUND_TEXT = "What does everyone think about this?"


def _wrap(field: str, value: dict) -> dict:
    return webhooks.envelope(field, value)


def _status(mid: str, gid: str, status: str, ts: int, participant: str | None) -> dict:
    if participant is None:
        return webhooks.status(mid, status, ts, group_id=gid)
    return webhooks.status(
        mid,
        status,
        ts,
        group_id=gid,
        participant=participant,
        recipient_participant_user_id="US." + participant[::-1] + "0000",
        pricing={
            "billable": True,
            "pricing_model": "PMP",
            "type": "regular",
            "category": "group_marketing",
        },
    )


def generate(lines: int, seed: int = 0):
    """Yield ``lines`` webhook dicts."""
    rnd = random.Random(seed)
    groups = [
        (f"Y2FwaV9ncm91cDoxNzA1NTU1MDEzOTox{g:011d}ZD", [f"1650555{g:04d}{p}" for p in range(8)])
        for g in range(500)
    ]
    ts = 1_760_000_000
    n = 0
    msg = 0
    while n < lines:
        gid, members = rnd.choice(groups)
        members = members[: rnd.randint(2, 8)]
        msg += 1
        mid = f"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdF{msg:012d}AA="
        ts += rnd.randint(0, 3)
        kind = rnd.random()
        if kind < 0.04:
            err = {
                "code": 131026,
                "title": "Message undeliverable",
                "message": "Message undeliverable",
                "error_data": {"details": "Unable to deliver message."},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
            st = _status(mid, gid, "failed", ts, None)
            st["errors"] = [err]
            yield _wrap("messages", {"statuses": [st]})
            n += 1
            continue
        if kind < 0.20:
            who = rnd.choice(members)
            yield _wrap(
                "messages",
                {
                    "contacts": [webhooks.contact(who, f"Member {who[-3:]}")],
                    "messages": [
                        webhooks.inbound_message(
                            who, gid, mid, ts, "text", text={"body": _INBOUND_TEXT}
                        )
                    ],
                },
            )
            n += 1
            continue
        if kind < 0.22:
            who = rnd.choice(members)
            yield _wrap(
                "group_participants_update",
                {
                    "groups": [
                        webhooks.group_event(
                            "group_participants_add",
                            gid,
                            ts,
                            reason="invite_link",
                            added_participants=[{"wa_id": who}],
                        )
                    ]
                },
            )
            n += 1
            continue
        yield _wrap("messages", {"statuses": [_status(mid, gid, "sent", ts, None)]})
        n += 1
        for status in ("delivered", "read"):
            pending = list(members)
            while pending and n < lines:
                take = rnd.choice((1, 1, 2, 3))
                batch, pending = pending[:take], pending[take:]
                ts_s = ts + rnd.randint(1, 30)
                yield _wrap(
                    "messages", {"statuses": [_status(mid, gid, status, ts_s, p) for p in batch]}
                )
                n += 1
                if rnd.random() < 0.3:
                    break


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gzip", action="store_true", help="write a gzip file")
    args = ap.parse_args()
    opener = gzip.open if args.gzip else open
    with opener(args.out, "wb") as fh:
        buf = []
        for hook in generate(args.lines, args.seed):
            buf.append(orjson.dumps(hook))
            if len(buf) >= 10_000:
                fh.write(b"\n".join(buf) + b"\n")
                buf.clear()
        if buf:
            fh.write(b"\n".join(buf) + b"\n")


if __name__ == "__main__":
    main()
