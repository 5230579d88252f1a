"""Write a realistic archive of group webhooks together with the truth behind it.

:func:`simulate_archive` runs the behavioural model of :mod:`groupkit.simulate.model`
over a set of groups for a few days: groups are created, participants join by
invite link and some leave, the business sends messages, participants post their
own.  Every webhook gets an emit time; the webhooks are then written to daily
files in the order they were emitted, which is not the order things happened.

The truth (:class:`Truth`) is built from the model's own records while it runs,
never by reading the archive back.

Examples
--------
>>> import tempfile
>>> sim = simulate_archive(tempfile.mkdtemp(), groups=2, days=1, seed=1)
>>> list(sim.truth.deliveries.columns)[:3]
['group_id', 'message_id', 'participant_id']
>>> len(sim.files) >= 1
True
"""

from __future__ import annotations

import base64
import gzip
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pandas as pd

from groupkit import webhooks
from groupkit.simulate.model import (
    MessageOutcome,
    draw_profile,
    message_outcome,
    status_webhooks,
)
from groupkit.simulate.truth import Truth, build_truth

__all__ = ["DEFAULT_KNOBS", "Simulation", "simulate_archive"]

WABA_ID = webhooks.WABA_ID
PHONE_NUMBER_ID = webhooks.PHONE_NUMBER_ID
DISPLAY_NUMBER = webhooks.DISPLAY_PHONE_NUMBER

DEFAULT_KNOBS: dict[str, object] = {
    "start": "2026-03-01",  # first day of the archive (UTC)
    "aggregate": 0.3,  # chance that near-simultaneous statuses share one POST
    "duplicate": 0.05,  # chance that a POST is redelivered
    "reorder": 0.1,  # chance that a POST is held back (arrives out of order)
    "batch": 0.03,  # chance that two POSTs are batched into one (two entries)
    "envelope": 0.3,  # share of records wrapped in a received_at envelope
    "slow_groups": 0.15,  # share of slow groups
    "single_participant": 0.1,  # share of groups that start with one participant
    "leave": 0.15,  # chance that a participant leaves during the archive
    "late_join": 0.3,  # chance per group that someone joins later
    "unknown_membership": 0.0,  # share of groups created before the archive began
    "messages_per_day": (4, 30),  # business messages per group and day (uniform range)
    "inbound_per_day": (1, 12),  # participant messages per group and day
    "gzip": False,  # gzip every file
}

_FORMATS = ("ndjson", "json", "mixed")
_INBOUND_TYPES = (
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "reaction",
    "location",
    "unsupported",
)
_INBOUND_WEIGHTS = (50, 10, 4, 6, 4, 6, 10, 3, 7)
_NAMES = ("Tiago", "Sheena", "Amara", "Jun", "Priya", "Lena", "Omar", "Noa", "Ravi", "Ines")
_QUIET_S = 120  # no sends this close to a membership change, so "members at send" is exact


@dataclass
class Simulation:
    """A simulated archive: where it was written, with what settings, and its truth.

    Attributes
    ----------
    out
        The directory holding the archive.
    files
        The files written, in name order.
    seed, knobs
        The settings that reproduce it.
    truth
        The ground truth (:class:`groupkit.simulate.truth.Truth`).
    stats
        What was written: ``posts`` (webhook POSTs), ``redeliveries`` (exact copies
        of an earlier POST), ``enveloped`` (records wrapped with ``received_at``).
    """

    out: Path
    files: list[Path]
    seed: int
    knobs: dict[str, object]
    truth: Truth = field(repr=False)
    stats: dict[str, int] = field(default_factory=dict)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode().rstrip("=")


@dataclass
class _Group:
    group_id: str
    created_at: int
    known: bool
    events: list[tuple[int, str, str]] = field(default_factory=list)  # (ts, pid, join|leave)

    def members_at(self, ts: int) -> list[str]:
        state: dict[str, bool] = {}
        for when, pid, change in sorted(self.events):
            if when > ts:
                break
            state[pid] = change == "join"
        return [pid for pid, member in state.items() if member]


def _membership(rng: random.Random, group: _Group, knobs: dict, end: int, index: int) -> None:
    size = 1 if rng.random() < knobs["single_participant"] else rng.randint(2, 8)
    people = [f"1650555{index:04d}{n}" for n in range(10)]
    rng.shuffle(people)
    joined = people[:size]
    for pid in joined:
        group.events.append((group.created_at + rng.randint(60, 3 * 3600), pid, "join"))
    if size < 8 and rng.random() < knobs["late_join"]:
        pid = people[size]
        group.events.append((rng.randint(group.created_at + 4 * 3600, end - 3600), pid, "join"))
        joined.append(pid)
    for pid in joined:
        if rng.random() < knobs["leave"]:
            first_join = min(t for t, p, c in group.events if p == pid and c == "join")
            if first_join + 3600 < end - 600:
                group.events.append((rng.randint(first_join + 3600, end - 600), pid, "leave"))


def _membership_webhooks(
    rng: random.Random, group: _Group, subject: str
) -> list[tuple[float, dict]]:
    hooks: list[tuple[float, dict]] = []
    request_id = _b64(f"req:{group.group_id}")
    create = webhooks.group_event(
        "group_create",
        group.group_id,
        group.created_at,
        request_id=request_id,
        subject=subject,
        invite_link=f"https://chat.whatsapp.com/{_b64(group.group_id)[:22]}",
        join_approval_mode="auto_approve",
    )
    hooks.append(
        (
            group.created_at + rng.uniform(0.1, 2),
            webhooks.envelope("group_lifecycle_update", {"groups": [create]}),
        )
    )
    for ts, pid, change in sorted(group.events):
        if change == "join":
            item = webhooks.group_event(
                "group_participants_add",
                group.group_id,
                ts,
                reason="invite_link",
                added_participants=[{"wa_id": pid}],
            )
        else:
            item = webhooks.group_event(
                "group_participants_remove",
                group.group_id,
                ts,
                initiated_by="participant",
                removed_participants=[{"wa_id": pid}],
            )
        hook = webhooks.envelope("group_participants_update", {"groups": [item]})
        hooks.append((ts + rng.uniform(0.1, 3), hook))
    return hooks


def _media(rng: random.Random, mime: str) -> dict:
    return {
        "mime_type": mime,
        "sha256": _b64(f"{rng.getrandbits(64):016x}"),
        "id": str(rng.randint(10**15, 10**16 - 1)),
    }


def _inbound(
    rng: random.Random, group_id: str, pid: str, ts: int, mid: str, reply_to: str | None
) -> tuple[dict, str]:
    kind = rng.choices(_INBOUND_TYPES, weights=_INBOUND_WEIGHTS)[0]
    # The type's object is added after "type" below (the archives' order since the start).
    msg = webhooks.inbound_message(pid, group_id, mid, ts, kind)
    if kind == "text":
        msg["text"] = {
            "body": rng.choice(("Thanks!", "What does everyone think?", "See you there"))
        }
    elif kind == "image":
        msg["image"] = {**_media(rng, "image/jpeg"), "caption": "look"}
    elif kind == "video":
        msg["video"] = _media(rng, "video/mp4")
    elif kind == "audio":
        msg["audio"] = {**_media(rng, "audio/ogg; codecs=opus"), "voice": True}
    elif kind == "document":
        msg["document"] = {**_media(rng, "application/pdf"), "filename": "agenda.pdf"}
    elif kind == "sticker":
        msg["sticker"] = {**_media(rng, "image/webp"), "animated": False}
    elif kind == "reaction":
        msg["reaction"] = {"message_id": reply_to or mid, "emoji": "\U0001f44d"}
    elif kind == "location":
        msg["location"] = {"latitude": 52.52, "longitude": 13.405, "name": "Office"}
    else:
        msg["errors"] = [
            {
                "code": 130501,
                "message": "Message type is not currently supported",
                "title": "Unsupported message type",
                "error_data": {"details": "Message type is not currently supported"},
            }
        ]
    if reply_to is not None and kind in ("text", "image") and rng.random() < 0.3:
        msg["context"] = {"from": DISPLAY_NUMBER, "id": reply_to}
    name = _NAMES[int(pid[-1])] + " " + pid[-4:-1]
    value = {"contacts": [webhooks.contact(pid, name)], "messages": [msg]}
    return webhooks.envelope("messages", value), kind


def _participant_batches(
    rng: random.Random, posts: list[tuple[float, dict]], aggregate: float
) -> list[tuple[float, dict]]:
    """Merge single-status POSTs of one participant about several messages (reference 1.1.3 b)."""
    seen: dict[int, int] = {}
    for _, hook in posts:
        seen[id(hook)] = seen.get(id(hook), 0) + 1
    singles: dict[tuple[str, str], list[int]] = {}
    for i, (_, hook) in enumerate(posts):
        statuses = hook["entry"][0]["changes"][0]["value"].get("statuses", [])
        if seen[id(hook)] != 1 or len(statuses) != 1 or statuses[0]["status"] == "sent":
            continue
        who = statuses[0].get("recipient_participant_id") or statuses[0].get(
            "participant_recipient_id"
        )
        if who is None:
            continue
        singles.setdefault((who, statuses[0]["status"]), []).append(i)
    drop: set[int] = set()
    for indices in singles.values():
        indices.sort(key=lambda i: posts[i][0])
        head = None
        for i in indices:
            if head is not None and posts[i][0] - posts[head][0] <= 3 and rng.random() < aggregate:
                head_statuses = posts[head][1]["entry"][0]["changes"][0]["value"]["statuses"]
                head_statuses.extend(posts[i][1]["entry"][0]["changes"][0]["value"]["statuses"])
                posts[head] = (posts[i][0], posts[head][1])
                drop.add(i)
            else:
                head = i
    return [post for i, post in enumerate(posts) if i not in drop]


def _batch_entries(
    rng: random.Random, posts: list[tuple[float, dict]], batch: float
) -> list[tuple[float, dict]]:
    """Batch consecutive POSTs into one body with several ``entry`` items."""
    counts: dict[int, int] = {}
    for _, hook in posts:
        counts[id(hook)] = counts.get(id(hook), 0) + 1
    out: list[tuple[float, dict]] = []
    for emit_time, hook in posts:
        if (
            out
            and rng.random() < batch
            and counts[id(hook)] == 1
            and counts.get(id(out[-1][1]), 0) == 1
            and emit_time - out[-1][0] < 2
        ):
            prev = out[-1][1]
            out[-1] = (emit_time, {**prev, "entry": prev["entry"] + hook["entry"]})
            counts[id(out[-1][1])] = 1
            continue
        out.append((emit_time, hook))
    return out


def _record(rng: random.Random, emit_time: float, hook: dict, envelope: float) -> object:
    if rng.random() >= envelope:
        return hook
    received = datetime.fromtimestamp(emit_time, tz=UTC).isoformat(timespec="milliseconds")
    received = received.replace("+00:00", "Z")
    style = rng.random()
    if style < 0.5:
        return {"received_at": received, "body": hook}
    if style < 0.8:
        return {"received_at": received, "body": orjson.dumps(hook).decode()}
    return {"received_at": received, "payload": hook}


def _write(
    out: Path,
    posts: list[tuple[float, dict]],
    fmt: str,
    rng: random.Random,
    knobs: dict,
    stats: dict[str, int],
) -> list[Path]:
    days: dict[str, list[object]] = {}
    for emit_time, hook in posts:
        day = datetime.fromtimestamp(emit_time, tz=UTC).strftime("%Y-%m-%d")
        record = _record(rng, emit_time, hook, knobs["envelope"])
        stats["enveloped"] += record is not hook
        days.setdefault(day, []).append(record)
    files = []
    for n, (day, records) in enumerate(sorted(days.items())):
        style = fmt if fmt != "mixed" else ("ndjson", "ndjson.gz", "json")[n % 3]
        zipped = bool(knobs["gzip"]) or style.endswith(".gz")
        if style.startswith("ndjson"):
            data = b"".join(orjson.dumps(r) + b"\n" for r in records)
            name = f"webhooks-{day}.ndjson"
        else:
            data = orjson.dumps(records, option=orjson.OPT_INDENT_2)
            name = f"webhooks-{day}.json"
        path = out / (name + ".gz" if zipped else name)
        path.write_bytes(gzip.compress(data, mtime=0) if zipped else data)
        files.append(path)
    return files


def simulate_archive(
    out: str | Path,
    *,
    groups: int = 20,
    days: int = 3,
    seed: int = 0,
    fmt: str = "ndjson",
    **knobs: object,
) -> Simulation:
    """Simulate ``groups`` WhatsApp groups for ``days`` days and write their webhooks.

    Parameters
    ----------
    out
        Directory to write into (created if missing).  Files are named
        ``webhooks-YYYY-MM-DD.<ext>`` after the UTC day the POST was emitted.
    groups, days
        How many groups and days to simulate.
    seed
        Seed of the only source of randomness: the same arguments give the same files
        and truth.
    fmt
        ``"ndjson"`` (one webhook per line), ``"json"`` (a JSON array per file) or
        ``"mixed"`` (days cycle through NDJSON, gzipped NDJSON and JSON array).
    **knobs
        Overrides of :data:`DEFAULT_KNOBS`, e.g. ``duplicate=0.4`` for a heavy
        redelivery archive or ``reorder=0.5`` for heavy reordering.

    Returns
    -------
    Simulation
        The files written and the ground truth.

    Examples
    --------
    >>> import tempfile
    >>> sim = simulate_archive(tempfile.mkdtemp(), groups=3, days=1, seed=2, duplicate=0.3)
    >>> bool(sim.truth.deliveries["state"].isin(["read", "delivered", "pending", "failed"]).all())
    True
    """
    unknown = set(knobs) - set(DEFAULT_KNOBS)
    if unknown:
        raise TypeError(f"unknown simulator knob(s): {sorted(unknown)}; see DEFAULT_KNOBS")
    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be one of {_FORMATS}, not {fmt!r}")
    settings = {**DEFAULT_KNOBS, **knobs}
    rng = random.Random(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = int(pd.Timestamp(str(settings["start"]), tz="UTC").timestamp())
    end = start + days * 86400

    posts: list[tuple[float, dict]] = []
    outcomes: list[MessageOutcome] = []
    group_list: list[_Group] = []
    inbound_rows: list[dict] = []
    for g in range(groups):
        group_id = _b64(f"capi_group:{DISPLAY_NUMBER}:1203634{seed:05d}{g:06d}") + "ZD"
        known = rng.random() >= settings["unknown_membership"]
        created = start + rng.randint(0, 6 * 3600) if known else start - 86400
        group = _Group(group_id, created, known)
        _membership(rng, group, settings, end, g)
        group_list.append(group)
        if known:
            posts += _membership_webhooks(rng, group, f"Group {g}")
        profile = draw_profile(rng, slow=rng.random() < settings["slow_groups"])
        changes = [t for t, _, _ in group.events]
        lo, hi = settings["messages_per_day"]
        first_send = max(created + 1800, start)
        sends = sorted(rng.randint(first_send, end - 1) for _ in range(days * rng.randint(lo, hi)))
        sends = [t for t in sends if all(abs(t - c) > _QUIET_S for c in changes)]
        business_ids: list[str] = []
        for n, sent_at in enumerate(sends):
            message_id = "wamid." + _b64(f"HBgL{seed:04d}{g:04d}{n:06d}{rng.getrandbits(32):08x}")
            campaign = rng.choice((None, "campaign=spring", "campaign=onboarding"))
            outcome = message_outcome(
                rng,
                profile,
                message_id=message_id,
                group_id=group_id,
                participants=group.members_at(sent_at),
                sent_at=sent_at,
                biz_opaque_callback_data=campaign,
            )
            outcomes.append(outcome)
            business_ids.append(message_id)
            posts += status_webhooks(
                rng,
                outcome,
                waba_id=WABA_ID,
                phone_number_id=PHONE_NUMBER_ID,
                aggregate=settings["aggregate"],
                duplicate=settings["duplicate"],
                reorder=settings["reorder"],
            )
        lo, hi = settings["inbound_per_day"]
        for n in range(days * rng.randint(lo, hi)):
            ts = rng.randint(first_send, end - 1)
            members = group.members_at(ts)
            if not members:
                continue
            pid = rng.choice(members)
            mid = "wamid." + _b64(f"HBgM{seed:04d}{g:04d}{n:06d}{rng.getrandbits(32):08x}")
            reply_to = rng.choice(business_ids) if business_ids else None
            hook, kind = _inbound(rng, group_id, pid, ts, mid, reply_to)
            inbound_rows.append(
                {"message_id": mid, "group_id": group_id, "from_id": pid, "type": kind, "ts": ts}
            )
            posts.append((ts + rng.uniform(0.1, 3), hook))
            if rng.random() < settings["duplicate"]:
                posts.append((ts + rng.uniform(5, 3600), hook))

    posts.sort(key=lambda pair: pair[0])
    posts = _participant_batches(rng, posts, float(settings["aggregate"]))
    posts.sort(key=lambda pair: pair[0])
    posts = _batch_entries(rng, posts, float(settings["batch"]))
    stats = {"posts": len(posts), "redeliveries": len(posts) - len({id(h) for _, h in posts})}
    stats["enveloped"] = 0
    files = _write(out, posts, fmt, rng, settings, stats)
    truth = build_truth(
        outcomes,
        {g.group_id: (g.known, g.events) for g in group_list},
        inbound_rows,
    )
    return Simulation(out=out, files=files, seed=seed, knobs=settings, truth=truth, stats=stats)
