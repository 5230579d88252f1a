"""Generate a large NDJSON archive of group webhooks for the benchmarks.

The shapes follow real group traffic: a group-level ``sent`` per message,
per-participant ``delivered`` and ``read`` (sometimes aggregated), ``failed``
with an error, participants' messages (text in several scripts with emoji,
replies, media, reactions, business-scoped ids), group events and template
updates.  A *mix* (:data:`MIXES`) sets the share of lines of each kind, so the
loader is measured on status-heavy archives and on groups that talk.  It is
built for speed (a million lines in seconds), not realism of timing; the
simulator in ``groupkit.simulate`` is the realistic one.

Usage::

    python benchmarks/make_archive.py OUT.ndjson --lines 1000000 [--mix inbound-35] [--gzip]
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import itertools
import random
from dataclasses import dataclass
from pathlib import Path

import orjson

from groupkit import webhooks


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


@dataclass(frozen=True)
class Mix:
    """Shares of an archive's lines by kind; statuses take what the others leave.

    ``inbound``: participants' messages (text, replies, media, reactions);
    ``events``: group management webhooks; ``other``: fields groupkit keeps in
    ``other_changes`` (template and account updates); ``failed``: group-level
    ``failed`` statuses with an error.  ``non_ascii``: the share of inbound text,
    captions and profile names written in other scripts, with emoji.
    """

    inbound: float
    events: float = 0.01
    other: float = 0.005
    failed: float = 0.01
    non_ascii: float = 0.0


MIXES = {
    # What the benchmark always measured: nineteen lines in twenty are statuses.
    "status-heavy": Mix(inbound=0.05, events=0.005, other=0.0, failed=0.01),
    # A group that talks: a third of the lines are members' messages.
    "inbound-35": Mix(inbound=0.35, events=0.02, other=0.01, failed=0.01, non_ascii=0.2),
    # A busy community in many languages.
    "inbound-70": Mix(inbound=0.70, events=0.02, other=0.01, failed=0.005, non_ascii=0.8),
}

_TEXTS = (
    "What does everyone think about this?",
    "Thanks, see you at 9 tomorrow.",
    "Can someone share the invoice for order 1182?",
    "ok",
    'The delivery arrived "damaged" - photos below\n1. box\n2. bottle',
)
_FOREIGN = (
    "Obrigado! Chego às 9h amanhã 🙏",
    "¿Alguien tiene la factura del pedido 1182? 😅",
    "नमस्ते, कल सुबह मिलते हैं 👍",
    "شكراً، سنلتقي غداً الساعة التاسعة",
    "Спасибо, увидимся завтра в 9 🎉",
    "收到，明天上午九点见 😀",
    "Ça marche 👌 on se retrouve à la gare",
)
_NAMES = ("Tiago Mingo", "Priya R", "Sam O'Neil", "Lee")
_FOREIGN_NAMES = ("João Araújo", "Zoë Müller", "अनिता", "محمد", "Ольга", "李娜 🌸")
_EMOJI = ("👍", "❤️", "😂", "🙏", "🎉", "😮")


def _media(rnd: random.Random, kind: str, caption: str | None) -> dict:
    mimes = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/ogg; codecs=opus",
             "document": "application/pdf", "sticker": "image/webp"}  # fmt: skip
    media = {
        "mime_type": mimes[kind],
        "sha256": f"{rnd.getrandbits(256):064x}",
        "id": str(rnd.randrange(10**15, 10**16)),
    }
    if kind == "audio":
        media["voice"] = rnd.random() < 0.7
    if kind == "sticker":
        media["animated"] = rnd.random() < 0.2
    if kind == "document":
        media["filename"] = "invoice-1182.pdf"
    if caption is not None and kind in ("image", "video", "document"):
        media["caption"] = caption
    return media


def _inbound(rnd: random.Random, mix: Mix, gid: str, who: str, mid: str, ts: int, last: list):
    foreign = rnd.random() < mix.non_ascii
    text = rnd.choice(_FOREIGN if foreign else _TEXTS)
    kind = rnd.random()
    if kind < 0.55:
        msg = webhooks.inbound_message(who, gid, mid, ts, "text", text={"body": text})
    elif kind < 0.65 and last:
        reaction = {"message_id": rnd.choice(last), "emoji": rnd.choice(_EMOJI)}
        msg = webhooks.inbound_message(who, gid, mid, ts, "reaction", reaction=reaction)
    else:
        media = rnd.choice(("image", "image", "video", "audio", "document", "sticker"))
        own = _media(rnd, media, text if rnd.random() < 0.5 else None)
        msg = webhooks.inbound_message(who, gid, mid, ts, media, **{media: own})
    if last and msg["type"] != "reaction" and rnd.random() < 0.3:
        msg = {"context": {"from": who[::-1], "id": rnd.choice(last)}, **msg}
    contact = webhooks.contact(who, rnd.choice(_FOREIGN_NAMES if foreign else _NAMES))
    if rnd.random() < 0.3:  # business-scoped user ids (2026)
        contact["user_id"] = f"US.{who[::-1]}0000"
        msg["from_user_id"] = contact["user_id"]
    return _wrap("messages", {"contacts": [contact], "messages": [msg]})


def _event(rnd: random.Random, gid: str, members: list[str], ts: int) -> dict:
    kind = rnd.random()
    if kind < 0.6:
        adding = kind < 0.4
        who = [{"wa_id": rnd.choice(members)}]
        group = webhooks.group_event(
            "group_participants_add" if adding else "group_participants_remove",
            gid,
            ts,
            reason="invite_link",
            **{"added_participants" if adding else "removed_participants": who},
        )
        return _wrap("group_participants_update", {"groups": [group]})
    group = webhooks.group_event(
        "group_settings_update",
        gid,
        ts,
        request_id=f"req-{rnd.getrandbits(64):016x}",
        group_subject={"text": "Orders — week 48", "update_successful": True},
    )
    return _wrap("group_settings_update", {"groups": [group]})


def _other(rnd: random.Random, ts: int) -> dict:
    value = {
        "event": rnd.choice(("APPROVED", "REJECTED", "PAUSED")),
        "message_template_id": rnd.randrange(10**14, 10**15),
        "message_template_name": "order_update",
        "message_template_language": "en_US",
        "reason": None,
    }
    hook = _wrap("message_template_status_update", value)
    hook["entry"][0]["time"] = ts
    del hook["entry"][0]["changes"][0]["value"]["messaging_product"]
    del hook["entry"][0]["changes"][0]["value"]["metadata"]
    return hook


def _statuses(rnd: random.Random, gid: str, members: list[str], mid: str, ts: int):
    """The statuses of one group message: sent, then per-participant delivered and read."""
    yield _wrap("messages", {"statuses": [_status(mid, gid, "sent", ts, None)]})
    for status in ("delivered", "read"):
        pending = list(members)
        while pending:
            take = rnd.choice((1, 1, 2, 3))
            batch, pending = pending[:take], pending[take:]
            ts_s = ts + rnd.randint(1, 30)
            yield _wrap(
                "messages", {"statuses": [_status(mid, gid, status, ts_s, p) for p in batch]}
            )
            if rnd.random() < 0.3:
                break


def generate(lines: int, seed: int = 0, mix: Mix = MIXES["status-heavy"]):
    """Yield ``lines`` webhook dicts, their kinds drawn by the shares of ``mix``."""
    rnd = random.Random(seed)
    groups = [
        (f"Y2FwaV9ncm91cDoxNzA1NTU1MDEzOTox{g:011d}ZD", [f"1650555{g:04d}{p}" for p in range(8)])
        for g in range(500)
    ]
    ts = 1_760_000_000
    msg = 0
    pending: list = []  # status lines of the messages sent so far, not yet written
    recent: dict[str, list[str]] = {}  # a group's last message ids, for replies and reactions
    cuts = list(itertools.accumulate((mix.inbound, mix.events, mix.other, mix.failed)))
    for _ in range(lines):
        gid, members = rnd.choice(groups)
        msg += 1
        mid = f"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdF{msg:012d}AA="
        ts += rnd.randint(0, 3)
        kind = bisect.bisect(cuts, rnd.random())
        last = recent.setdefault(gid, [])
        if kind == 0:
            yield _inbound(rnd, mix, gid, rnd.choice(members), mid, ts, last)
        elif kind == 1:
            yield _event(rnd, gid, members, ts)
        elif kind == 2:
            yield _other(rnd, ts)
        elif kind == 3:
            st = _status(mid, gid, "failed", ts, None)
            st["errors"] = [dict(_ERROR)]
            yield _wrap("messages", {"statuses": [st]})
        else:
            if not pending:
                pending = list(_statuses(rnd, gid, members[: rnd.randint(2, 8)], mid, ts))[::-1]
            yield pending.pop()
            continue
        last.append(mid)
        del last[:-5]


_ERROR = {
    "code": 131026,
    "title": "Message undeliverable",
    "message": "Message undeliverable",
    "error_data": {"details": "Unable to deliver message."},
    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gzip", action="store_true", help="write a gzip file")
    ap.add_argument("--mix", choices=MIXES, default="status-heavy", help="shares of line kinds")
    args = ap.parse_args()
    opener = gzip.open if args.gzip else open
    with opener(args.out, "wb") as fh:
        buf = []
        for hook in generate(args.lines, args.seed, MIXES[args.mix]):
            buf.append(orjson.dumps(hook))
            if len(buf) >= 10_000:
                fh.write(b"\n".join(buf) + b"\n")
                buf.clear()
        if buf:
            fh.write(b"\n".join(buf) + b"\n")


if __name__ == "__main__":
    main()
