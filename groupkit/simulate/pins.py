"""Pins for a simulated archive: the send-log lines an admin's pins and unpins leave.

:func:`simulate_pins` picks business messages a simulated archive sent and writes the
``pin`` and ``unpin`` records :class:`groupkit.GroupClient` would log for them (same
fields, ``kind: groupkit.send``), so :func:`groupkit.pins`, the report's "Pins"
section and the notebooks have pins to show.  Some groups get more than three pins,
so the platform's "a 4th pin unpins the oldest" rule comes into play; some pins are
unpinned, the others run out or outlast the archive.

Examples
--------
>>> import tempfile, pathlib, groupkit
>>> from groupkit.simulate import simulate_archive
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> sim = simulate_archive(folder, groups=3, days=1, seed=4)
>>> path = simulate_pins(sim, folder / "sends.jsonl", seed=4)
>>> sends = groupkit.read_webhooks(folder, progress=False).sends
>>> sorted(sends["operation"].astype(str).unique())
['pin', 'unpin']
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson

from groupkit.client.sendlog import SEND_RECORD_KIND

__all__ = ["simulate_pins"]

_DAYS = (1, 3, 7)


def _line(operation: str, group_id: str, message_id: str, at: float, n: int, days=None) -> dict:
    return {
        "kind": SEND_RECORD_KIND,
        "version": 1,
        "message_id": f"wamid.pin{n:05d}",
        "group_id": group_id,
        "type": "pin",
        "operation": operation,
        "requested_at": round(at, 3),
        "accepted_at": round(at + 0.3, 3),
        "ok": True,
        "attempts": 1,
        "http_status": 200,
        "error_code": None,
        "error_title": None,
        "provider": "360dialog",
        "pinned_message_id": message_id,
        "expiration_days": days,
    }


def simulate_pins(
    sim: Any, path: str | Path, *, seed: int = 0, share: float = 0.6, unpin: float = 0.25
) -> Path:
    """Write a send log of pins and unpins on the business messages of ``sim``.

    Parameters
    ----------
    sim
        A :class:`groupkit.simulate.Simulation` (its ``truth.outcomes`` say which
        messages were sent, when, to which group).
    path
        The JSONL file to write (parent folders are created); put it beside the
        webhooks so :func:`groupkit.read_webhooks` reads both.
    seed
        Seed of the choices: the same arguments write the same file.
    share
        Share of groups whose admin pins anything; such a group gets 1 to 5 pins.
    unpin
        Chance that a pin is unpinned by hand 1 to 20 hours later.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    rng = random.Random(seed)
    by_group: dict[str, list] = {}
    for outcome in sim.truth.outcomes:
        if outcome.sent_at is not None and outcome.failed_at is None:
            by_group.setdefault(outcome.group_id, []).append(outcome)
    events: list[tuple[float, str, str, str, int | None]] = []
    for group_id in sorted(by_group):
        sent = sorted(by_group[group_id], key=lambda o: (o.sent_at, o.message_id))
        if rng.random() >= share or not sent:
            continue
        chosen = sorted(
            rng.sample(sent, min(len(sent), rng.randint(1, 5))), key=lambda o: o.sent_at
        )
        for outcome in chosen:
            at = outcome.sent_at + rng.uniform(600, 7200)
            days = rng.choice(_DAYS)
            events.append((at, "pin", group_id, outcome.message_id, days))
            if rng.random() < unpin:
                later = at + rng.uniform(3600, 20 * 3600)
                events.append((later, "unpin", group_id, outcome.message_id, None))
    events.sort(key=lambda e: (e[0], e[2], e[3]))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        orjson.dumps(_line(op, group_id, message_id, at, n, days))
        for n, (at, op, group_id, message_id, days) in enumerate(events)
    ]
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path
