"""What a load returns: an :class:`Archive` of frames, its :class:`LoadReport` and rejects.

The loader that builds them is :mod:`groupkit.load`; this module only holds the
results, so the cache, the loader and the analytics can all import it.
"""

from __future__ import annotations

import html
from dataclasses import FrozenInstanceError, dataclass, field

import pandas as pd

from groupkit import schema


class Reject:
    """A record that could not be read, and why: ``source``, ``path``, ``line``,
    ``reason`` and ``excerpt``, compared, hashed and immutable like a frozen dataclass.

    A file of millions of garbage lines keeps millions of rejects, so each is kept
    small: no ``__dict__``, and the ``source`` of a rejected line (``file:line``) is
    made from its path and line when read, not stored.

    Examples
    --------
    >>> r = Reject("a.ndjson:2", "a.ndjson", 2, "malformed JSON", "not json")
    >>> r.source, r == Reject("a.ndjson:2", "a.ndjson", 2, "malformed JSON", "not json")
    ('a.ndjson:2', True)
    """

    __slots__ = ("_source", "excerpt", "line", "path", "reason")
    FIELDS = ("source", "path", "line", "reason", "excerpt")

    def __init__(
        self, source: str, path: str, line: int | None, reason: str, excerpt: str = ""
    ) -> None:
        kept = None if line is not None and source == f"{path}:{line}" else source
        self._fill(kept, path, line, reason, excerpt)

    def _fill(self, source: str | None, path: str, line: int | None, reason: str, excerpt: str):
        setter = object.__setattr__  # the class is immutable: its own writes go around it
        setter(self, "_source", source)
        setter(self, "path", path)
        setter(self, "line", line)
        setter(self, "reason", reason)
        setter(self, "excerpt", excerpt)

    @classmethod
    def at_line(cls, path: str, line: int, reason: str, excerpt: str = "") -> Reject:
        """The reject of line ``line`` of ``path`` (its source is ``path:line``).

        Examples
        --------
        >>> Reject.at_line("a.ndjson", 3, "malformed JSON").source
        'a.ndjson:3'
        """
        self = object.__new__(cls)
        self._fill(None, path, line, reason, excerpt)
        return self

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}" if self._source is None else self._source

    def as_tuple(self) -> tuple:
        """``(source, path, line, reason, excerpt)``.

        Examples
        --------
        >>> Reject.at_line("a.ndjson", 3, "malformed JSON").as_tuple()
        ('a.ndjson:3', 'a.ndjson', 3, 'malformed JSON', '')
        """
        return (self.source, self.path, self.line, self.reason, self.excerpt)

    def as_dict(self) -> dict:
        """The fields by name, as ``dataclasses.asdict`` gave them.

        Examples
        --------
        >>> Reject.at_line("a.ndjson", 3, "malformed JSON").as_dict()["source"]
        'a.ndjson:3'
        """
        return dict(zip(self.FIELDS, self.as_tuple(), strict=True))

    def __setattr__(self, name: str, value) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.as_tuple() == other.as_tuple()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self.as_tuple())

    def __repr__(self) -> str:
        fields_ = ", ".join(f"{k}={v!r}" for k, v in zip(self.FIELDS, self.as_tuple(), strict=True))
        return f"Reject({fields_})"

    def __reduce__(self):
        return (Reject, self.as_tuple())


@dataclass
class LoadReport:
    """What a load read, built, dropped and rejected.

    ``records_read == webhooks_parsed + send_records + len(rejects)`` always holds:
    nothing vanishes (``send_records`` counts lines of groupkit's own send log).

    Examples
    --------
    >>> import groupkit
    >>> report = groupkit.parse_webhooks(b'{"entry": []}\\nnot json\\n').report
    >>> report.records_read, report.webhooks_parsed, len(report.rejects)
    (2, 1, 1)
    """

    files_read: int = 0
    bytes_read: int = 0
    records_read: int = 0
    webhooks_parsed: int = 0
    send_records: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    unknown_fields: dict[str, int] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    skipped_files: list[tuple[str, str]] = field(default_factory=list)
    # What an analyst must know to read the frames right (a value whose meaning changed).
    notes: list[str] = field(default_factory=list)
    # The rows dropped as redeliveries (frame, source, times, ids) as plain columns, so
    # the feed's health can be measured after they are gone; see redelivered_frame().
    redelivered: dict[str, list] = field(default_factory=dict, repr=False)
    seconds: float = 0.0

    def rejects_frame(self) -> pd.DataFrame:
        """The rejects as a DataFrame (source, path, line, reason, excerpt).

        Examples
        --------
        >>> LoadReport().rejects_frame().columns.tolist()
        ['source', 'path', 'line', 'reason', 'excerpt']
        """
        cols = ["source", "path", "line", "reason", "excerpt"]
        frame = pd.DataFrame([r.as_tuple() for r in self.rejects], columns=cols)
        return frame.astype({"line": "Int64", "source": "str", "path": "str", "reason": "str"})

    def redelivered_frame(self) -> pd.DataFrame:
        """The rows the load dropped as redeliveries of an earlier-received row.

        One row per dropped item (a status, a message, a group event, a membership
        change or an envelope row): ``frame``, ``source`` (the record, ``file:line``),
        ``received_at`` (when the archive got the copy; null without an envelope),
        ``entry_time`` (``entry[].time``, when Meta sent it), ``timestamp`` (the
        item's own time), ``message_id`` and ``status`` (where the frame has them).
        :func:`groupkit.webhook_health` counts them.

        Examples
        --------
        >>> import groupkit
        >>> hook = {"entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        ...     "statuses": [{"id": "wamid.A", "status": "sent", "timestamp": "1750000000",
        ...                   "recipient_id": "G", "recipient_type": "group"}]}}]}]}
        >>> report = groupkit.parse_webhooks([hook, hook]).report
        >>> report.redelivered_frame()[["frame", "source", "status"]].values.tolist()
        [['statuses', '<memory>#1', 'sent']]
        """
        cols = {
            "frame": "str",
            "source": "str",
            "received_at": "datetime64[ms, UTC]",
            "entry_time": "datetime64[s, UTC]",
            "timestamp": "datetime64[s, UTC]",
            "message_id": "str",
            "status": "str",
        }
        data = self.redelivered or {}
        n = len(data.get("frame", []))
        out = {}
        for name, dtype in cols.items():
            values = data.get(name) or [None] * n
            if dtype.startswith("datetime"):
                unit = "ms" if "ms" in dtype else "s"
                out[name] = pd.to_datetime(pd.Series(values, dtype="Float64"), unit=unit, utc=True)
            else:
                out[name] = pd.Series(values, dtype="object")
        return pd.DataFrame(out, columns=list(cols)).astype(cols)

    def __str__(self) -> str:
        lines = [
            f"files read       {self.files_read:>12,}  ({self.bytes_read / 1e6:,.1f} MB)",
            f"records read     {self.records_read:>12,}",
            f"webhooks parsed  {self.webhooks_parsed:>12,}",
            *([f"send records     {self.send_records:>12,}"] if self.send_records else []),
            f"rejects          {len(self.rejects):>12,}",
            f"seconds          {self.seconds:>12,.2f}",
            "",
            f"{'frame':<16} {'rows':>12} {'duplicates dropped':>20}",
        ]
        for name in schema.FRAMES:
            lines.append(
                f"{name:<16} {self.rows.get(name, 0):>12,} {self.duplicates.get(name, 0):>20,}"
            )
        if self.skipped_files:
            lines += ["", "files skipped:"]
            lines += [f"  {path}: {why}" for path, why in self.skipped_files]
        if self.notes:
            lines += ["", "notes:"]
            lines += [f"  {note}" for note in self.notes]
        if self.unknown_fields:
            lines += ["", "fields kept raw in other_changes:"]
            lines += [f"  {k}: {v:,}" for k, v in sorted(self.unknown_fields.items())]
        if self.rejects:
            lines += ["", "rejects:"]
            lines += [f"  {r.source}: {r.reason}" for r in self.rejects[:20]]
            if len(self.rejects) > 20:
                lines.append(f"  ... and {len(self.rejects) - 20:,} more (see .rejects)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        """The readable table that ``print`` and ``groupkit summary`` show.

        Examples
        --------
        >>> import groupkit
        >>> repr(groupkit.parse_webhooks([]).report).splitlines()[1]
        'records read                0'
        """
        return str(self)

    def _repr_html_(self, heading: bool = True) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(n)}</td><td>{self.rows.get(n, 0):,}</td>"
            f"<td>{self.duplicates.get(n, 0):,}</td></tr>"
            for n in schema.FRAMES
        )
        parts = [
            "<div><b>Load report</b>" if heading else "<div>",
            f"<p>{self.files_read:,} files ({self.bytes_read / 1e6:,.1f} MB), "
            f"{self.records_read:,} records, {self.webhooks_parsed:,} webhooks parsed, "
            f"<b>{len(self.rejects):,} rejects</b>, {self.seconds:,.2f} s</p>",
            "<table><tr><th>frame</th><th>rows</th><th>duplicates dropped</th></tr>",
            rows,
            "</table>",
        ]
        if self.skipped_files:
            items = "".join(
                f"<li><code>{esc(p)}</code>: {esc(why)}</li>" for p, why in self.skipped_files
            )
            parts.append(f"<p>Files skipped:</p><ul>{items}</ul>")
        if self.notes:
            parts.append("".join(f"<p><b>Note:</b> {esc(n)}</p>" for n in self.notes))
        if self.unknown_fields:
            kept = ", ".join(f"{esc(k)} ({v:,})" for k, v in sorted(self.unknown_fields.items()))
            parts.append(f"<p>Fields kept raw in <code>other_changes</code>: {kept}</p>")
        if self.rejects:
            items = "".join(
                f"<tr><td><code>{esc(r.source)}</code></td><td>{esc(r.reason)}</td>"
                f"<td><code>{esc(r.excerpt)}</code></td></tr>"
                for r in self.rejects[:20]
            )
            parts.append(
                f"<table><tr><th>source</th><th>reason</th><th>excerpt</th></tr>{items}</table>"
            )
        parts.append("</div>")
        return "".join(parts)


@dataclass
class Archive:
    """Frames read from webhook archives, and the report of the load.

    Attributes are the frames described in :mod:`groupkit.schema`: ``statuses``,
    ``messages``, ``errors``, ``group_events``, ``membership``, ``other_changes`` and
    ``sends`` (lines of groupkit's own send log, when one is read beside the webhooks).

    Examples
    --------
    >>> import groupkit
    >>> archive = groupkit.parse_webhooks([])
    >>> sorted(archive.frames())[:2]
    ['errors', 'group_events']
    """

    statuses: pd.DataFrame
    messages: pd.DataFrame
    errors: pd.DataFrame
    group_events: pd.DataFrame
    membership: pd.DataFrame
    other_changes: pd.DataFrame
    sends: pd.DataFrame
    report: LoadReport

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every frame by name.

        Examples
        --------
        >>> import groupkit
        >>> list(groupkit.parse_webhooks([]).frames())[0]
        'statuses'
        """
        return {name: getattr(self, name) for name in schema.FRAMES}

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.frames().items())
        return f"<Archive {sizes}; {len(self.report.rejects):,} rejects>"

    def _repr_html_(self) -> str:
        return self.report._repr_html_()
