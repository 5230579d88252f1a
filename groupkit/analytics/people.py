"""Who is who: phone numbers and business-scoped user ids (BSUIDs) linked into people.

A participant reaches an archive under two kinds of id: a phone number (``wa_id``,
``recipient_participant_id``, ``from``) and, since April 2026, a business-scoped user
id (``US.1349...``, reference 1.1.5).  One webhook may name someone by one, another
webhook by the other.  :func:`identities` links every id the archive pairs with
another into one person:

* a status's ``recipient_participant_id`` with its ``recipient_participant_user_id``;
* a ``contacts[]`` entry's ``wa_id`` with its ``user_id`` (on messages and, in the
  BSUID era, on statuses);
* an inbound message's ``from`` with its ``from_user_id``;
* a membership change's ``wa_id`` with its ``user_id`` (added and removed
  participants), and a join request's ``wa_id`` with its ``user_id``;
* a system message (``user_changed_number``, ``user_changed_user_id``,
  ``user_identity_changed``): its ``from`` / ``from_user_id`` with ``system.wa_id``,
  ``system.new_wa_id`` and ``system.user_id``, so an old and a new number are one
  person.

Ids are never linked by a name, and a contact whose ``wa_id`` differs from the
message's ``from`` is not linked to it (Meta documents that they can differ).  A
person is then named by one id, the *key*: their current phone number (a number
replaced by a ``user_changed_number`` is not current; among several, the one seen
last), else their BSUID.  :func:`groupkit.deliveries` already keys a BSUID-only
status by the phone that statuses or membership pair it with; the key agrees with it
and adds the links only contacts and system messages make.

Examples
--------
>>> from groupkit.analytics.people import is_user_id
>>> is_user_id("US.13491208655302741918"), is_user_id("16505551234")
(True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["STATUS_COLUMNS", "People", "identities", "is_user_id"]

# A BSUID is an ISO 3166 alpha-2 country code and a dot (the loader's test too).
_BSUID = re.compile(r"^[A-Z]{2}\.")
_CHANGE_TYPES = ("user_changed_number", "user_changed_user_id", "user_identity_changed")


def is_user_id(value: str) -> bool:
    """Whether ``value`` is a business-scoped user id rather than a phone number.

    Examples
    --------
    >>> is_user_id("US.ENT.11815799212886844830")
    True
    """
    return bool(_BSUID.match(str(value)))


@dataclass
class People:
    """Every id of an archive mapped to the person's key, with their name and BSUID.

    Attributes
    ----------
    key
        id -> key of the person (every id the archive links, keys included).
    name
        key -> latest contact name (``contacts[].profile.name``) of any of their ids.
    user_id
        key -> their business-scoped user id (the one seen last), when known.
    ids
        key -> every id linked to them, sorted.
    """

    key: dict[str, str] = field(default_factory=dict)
    name: dict[str, str] = field(default_factory=dict)
    user_id: dict[str, str] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)

    def keys(self, values: pd.Series) -> pd.Series:
        """The key of each id in ``values`` (an id the archive never links is its own)."""
        values = values.astype("str")
        mapped = values.map(self.key)
        return mapped.fillna(values).astype("str")


class _Links:
    """Union-find over ids."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        parent = self.parent.setdefault(item, item)
        if parent == item:
            return item
        root = self.find(parent)
        self.parent[item] = root
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


# The statuses columns identities() reads (the report keeps them beside the lifecycle's).
STATUS_COLUMNS = (
    "participant_id", "participant_user_id", "contact_wa_id", "contact_user_id",
    "contact_name", "timestamp",
)  # fmt: skip


def _pairs(frame: pd.DataFrame, a: str, b: str) -> list[tuple[str, str]]:
    if a not in frame.columns or b not in frame.columns:
        return []  # a trimmed frame (the report's statuses) may lack a column
    both = frame[[a, b]].dropna()
    if both.empty:
        return []
    both = both.drop_duplicates()
    return list(zip(both[a].astype("str"), both[b].astype("str"), strict=True))


def _singles(frame: pd.DataFrame, column: str) -> set[str]:
    if column not in frame.columns:
        return set()
    return set(frame[column].dropna().astype("str").unique())


def _last_seen(archive: Any, wanted: set[str]) -> dict[str, pd.Timestamp]:
    """When each of ``wanted`` was last seen anywhere in the archive."""
    seen: dict[str, pd.Timestamp] = {}
    sources = (
        (archive.statuses, ("participant_id", "participant_user_id", "contact_wa_id")),
        (archive.messages, ("from_id", "from_user_id", "contact_wa_id", "system_new_wa_id")),
        (archive.membership, ("participant_id", "participant_user_id")),
    )
    for frame, columns in sources:
        for column in columns:
            if column not in frame.columns:
                continue
            rows = frame[frame[column].isin(wanted) & frame["timestamp"].notna()]
            if rows.empty:
                continue
            latest = rows.groupby(rows[column].astype("str"))["timestamp"].max()
            for key, ts in latest.items():
                if key not in seen or ts > seen[key]:
                    seen[key] = ts
    return seen


def _pick(candidates: list[str], seen: dict[str, pd.Timestamp]) -> str:
    """The candidate seen last (ties and never-seen: the smallest id)."""
    floor = pd.Timestamp(0, tz="UTC")
    return max(sorted(candidates), key=lambda c: seen.get(c, floor))


def identities(archive: Any) -> People:
    """Link the ids of an archive into people (see the module's docstring for the rules).

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.

    Returns
    -------
    People

    Examples
    --------
    >>> import groupkit
    >>> hook = {"entry": [{"changes": [{"field": "messages", "value": {
    ...     "contacts": [{"profile": {"name": "Ana"}, "wa_id": "1650", "user_id": "US.77"}],
    ...     "statuses": [{"id": "wamid.A", "status": "read", "timestamp": "1760000009",
    ...                   "recipient_id": "G", "recipient_type": "group",
    ...                   "recipient_participant_user_id": "US.77"}]}}]}]}
    >>> people = identities(groupkit.parse_webhooks([hook]))
    >>> people.key["US.77"], people.name["1650"], people.user_id["1650"]
    ('1650', 'Ana', 'US.77')
    """
    statuses, messages = archive.statuses, archive.messages
    membership, events = archive.membership, archive.group_events
    links = _Links()
    every: set[str] = set()
    pairs: list[tuple[str, str]] = []
    pairs += _pairs(statuses, "participant_id", "participant_user_id")
    pairs += _pairs(statuses, "contact_wa_id", "contact_user_id")
    pairs += _pairs(messages, "from_id", "from_user_id")
    pairs += _pairs(messages, "contact_wa_id", "contact_user_id")
    pairs += _pairs(membership, "participant_id", "participant_user_id")
    pairs += _pairs(events, "participant_id", "participant_user_id")
    replaced: set[str] = set()
    system = messages[messages["system_type"].astype("str").isin(_CHANGE_TYPES)]
    for row in system.itertuples(index=False):
        ids = [
            str(v)
            for v in (
                row.from_id,
                row.from_user_id,
                row.system_wa_id,
                row.system_new_wa_id,
                row.system_user_id,
            )
            if pd.notna(v)
        ]
        pairs += [(ids[0], other) for other in ids[1:]]
        if str(row.system_type) == "user_changed_number" and pd.notna(row.system_new_wa_id):
            old = {str(v) for v in (row.from_id, row.system_wa_id) if pd.notna(v)}
            replaced |= old - {str(row.system_new_wa_id)}
    for a, b in pairs:
        links.union(a, b)
    for frame, columns in (
        (statuses, ("participant_id", "participant_user_id", "contact_wa_id", "contact_user_id")),
        (messages, ("from_id", "from_user_id", "contact_wa_id", "contact_user_id")),
        (membership, ("participant_id", "participant_user_id")),
    ):
        for column in columns:
            every |= _singles(frame, column)
    for item in every:
        links.find(item)

    groups: dict[str, list[str]] = {}
    for item in links.parent:
        groups.setdefault(links.find(item), []).append(item)
    crowded = {
        item
        for members in groups.values()
        if sum(not is_user_id(m) for m in members) > 1 or sum(map(is_user_id, members)) > 1
        for item in members
    }
    seen = _last_seen(archive, crowded) if crowded else {}
    people = People()
    for members in groups.values():
        members = sorted(members)
        phones = [m for m in members if not is_user_id(m)]
        users = [m for m in members if is_user_id(m)]
        current = [p for p in phones if p not in replaced] or phones
        key = _pick(current, seen) if current else _pick(users, seen)
        for m in members:
            people.key[m] = key
        people.ids[key] = members
        if users:
            people.user_id[key] = _pick(users, seen)

    named = []
    for frame in (statuses, messages):
        if not {"contact_name", "contact_wa_id", "contact_user_id"} <= set(frame.columns):
            continue
        rows = frame[frame["contact_name"].notna()]
        if rows.empty:
            continue
        who = rows["contact_wa_id"].fillna(rows["contact_user_id"])
        named.append(
            pd.DataFrame(
                {"id": who.astype("str"), "name": rows["contact_name"], "ts": rows["timestamp"]}
            ).dropna(subset=["id"])
        )
    if named:
        names = pd.concat(named, ignore_index=True)
        names["key"] = people.keys(names["id"])
        names = names.sort_values("ts", kind="stable").drop_duplicates("key", keep="last")
        people.name = dict(zip(names["key"], names["name"].astype("str"), strict=True))
    return people
