"""The Explorer's "who has read" panel: pick a business message, see every recipient.

The table is :func:`groupkit.message_receipts` of the chosen message (every member at
send time: read, delivered, pending, left or failed, with names and times), and the
participants table beside it is :func:`groupkit.participants` of the chosen groups,
longest silent streak first.  Two buttons write them as CSV files and show where.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from groupkit.analytics import message_receipts, participants, read_coverage
from groupkit.widgets._common import frame_html, short_id

__all__ = ["ReceiptsPanel", "message_options"]

_SHOWN = ["name", "participant_id", "state", "delivered_at", "read_at", "left_at", "read_latency"]
_PEOPLE = [
    "group", "name", "participant_id", "member", "messages", "read", "read_rate",
    "silent_streak", "replies", "reactions", "last_read_at",
]  # fmt: skip
_MAX_OPTIONS = 500  # newest first; a dropdown of thousands helps nobody


def message_options(
    coverage: pd.DataFrame, names: dict[str, str], limit: int = _MAX_OPTIONS
) -> list[tuple[str, str]]:
    """``(label, message_id)`` per business message, newest first, for a dropdown.

    Parameters
    ----------
    coverage
        :func:`groupkit.read_coverage` per message (``message_id, group_id, sent_at,
        members, readers``).
    names
        ``group_id`` -> readable name.
    limit
        At most this many messages.

    Examples
    --------
    >>> coverage = pd.DataFrame({"message_id": ["wamid.A"], "group_id": ["G"],
    ...     "sent_at": pd.to_datetime(["2026-03-01 10:00"], utc=True),
    ...     "members": [8], "readers": [5]})
    >>> message_options(coverage, {"G": "Runners"})
    [('03-01 10:00 · Runners · 5/8 read · wamid.A', 'wamid.A')]
    """
    ordered = coverage.sort_values(["sent_at", "message_id"], ascending=False, na_position="last")
    out = []
    for row in ordered.head(limit).itertuples(index=False):
        when = f"{row.sent_at:%m-%d %H:%M}" if pd.notna(row.sent_at) else "not sent"
        group = names.get(row.group_id, row.group_id)
        label = f"{when} · {group} · {row.readers}/{row.members} read · {short_id(row.message_id)}"
        out.append((label, row.message_id))
    return out


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[-40:]


class ReceiptsPanel(widgets.VBox):
    """Every recipient of one business message, and the participants, with CSV export.

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.
    frame
        Its :func:`groupkit.deliveries` (computed once by the Explorer).
    names
        ``group_id`` -> readable name.
    export_dir
        Where the CSV buttons write (created when missing).

    Attributes
    ----------
    message : ipywidgets.Dropdown
        The business messages of the current selection, newest first.
    receipts : pandas.DataFrame
        :func:`groupkit.message_receipts` of the chosen message.
    participants : pandas.DataFrame
        :func:`groupkit.participants` of the chosen groups, longest silent streak first.
    export_receipts_button, export_participants_button : ipywidgets.Button
        Write ``receipts-<message>.csv`` and ``participants.csv`` into ``export_dir``.
    exported : ipywidgets.HTML
        The path of the file last written.
    last_export : pathlib.Path or None
        The same path.
    """

    def __init__(
        self,
        archive: Any,
        frame: pd.DataFrame,
        names: dict[str, str],
        export_dir: str | Path = ".",
    ) -> None:
        self._archive = archive
        self._frame = frame
        self._names = names
        self.export_dir = Path(export_dir)
        self._coverage = read_coverage(frame)
        self._people = participants(archive, frame=frame)
        self.receipts = pd.DataFrame()
        self.participants = self._people.iloc[:0]
        self.last_export: Path | None = None
        self.message = widgets.Dropdown(
            options=[], description="Message", layout=widgets.Layout(width="640px")
        )
        self.receipts_summary = widgets.HTML()
        self.receipts_table = widgets.HTML()
        self.participants_table = widgets.HTML()
        self.export_receipts_button = widgets.Button(
            description="Export receipts CSV", icon="download"
        )
        self.export_participants_button = widgets.Button(
            description="Export participants CSV", icon="download"
        )
        self.exported = widgets.HTML()
        super().__init__(
            [
                widgets.HTML("<b>Who has read a message</b>"),
                self.message,
                self.receipts_summary,
                self.receipts_table,
                widgets.HTML("<b>Participants</b> (longest silent streak first)"),
                self.participants_table,
                widgets.HBox(
                    [self.export_receipts_button, self.export_participants_button, self.exported]
                ),
            ]
        )
        self.add_class("groupkit-receipts")
        self.message.observe(self._show_message, names="value")
        self.export_receipts_button.on_click(lambda _: self.export_receipts())
        self.export_participants_button.on_click(lambda _: self.export_participants())

    def select(
        self, groups: Sequence[str], start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> None:
        """Show the messages and participants of ``groups`` sent between ``start`` and ``end``."""
        coverage = self._coverage[self._coverage["group_id"].isin(list(groups))]
        if start is not None and end is not None:
            coverage = coverage[coverage["sent_at"].between(start, end)]
        options = message_options(coverage, self._names)
        current = self.message.value
        self.message.options = options
        ids = [mid for _, mid in options]
        self.message.value = current if current in ids else (ids[0] if ids else None)
        self._show_message()
        people = self._people[self._people["group_id"].isin(list(groups))]
        self.participants = people.sort_values(
            ["silent_streak", "read_rate", "group", "participant_id"],
            ascending=[False, True, True, True],
            kind="stable",
        ).reset_index(drop=True)
        shown = self.participants[_PEOPLE].assign(
            read_rate=self.participants["read_rate"].map(lambda v: "" if pd.isna(v) else f"{v:.0%}")
        )
        self.participants_table.value = frame_html(shown.head(50), "no participants known")

    def _show_message(self, change: Any = None) -> None:
        mid = self.message.value
        if mid is None:
            self.receipts = pd.DataFrame()
            self.receipts_summary.value = "<i>no business message in this selection</i>"
            self.receipts_table.value = ""
            return
        self.receipts = message_receipts(self._archive, mid, frame=self._frame)
        counts = self.receipts["state"].value_counts()
        parts = [
            f"{int(counts[s])} {s}" for s in self.receipts["state"].cat.categories if counts[s]
        ]
        unread = int((self.receipts["state"].astype("str") != "read").sum())
        note = " · recipients unknown" if self.receipts.attrs.get("recipients_unknown") else ""
        self.receipts_summary.value = (
            f"<span class='groupkit-receipts-summary'>{len(self.receipts)} recipients · "
            f"{unread} have not read · {html.escape(' · '.join(parts))}{note}</span>"
        )
        self.receipts_table.value = frame_html(
            self.receipts[_SHOWN], "nobody is known to have received this message"
        )

    def export_receipts(self) -> Path | None:
        """Write the chosen message's receipts as CSV; return the path (``None``: no message)."""
        if self.message.value is None:
            self.exported.value = "<i>no message to export</i>"
            return None
        path = self.export_dir / f"receipts-{_file_name(self.message.value)}.csv"
        return self._write(self.receipts, path)

    def export_participants(self) -> Path:
        """Write the participants of the chosen groups as CSV; return the path."""
        return self._write(self.participants, self.export_dir / "participants.csv")

    def _write(self, frame: pd.DataFrame, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)
        self.last_export = path.resolve()
        self.exported.value = (
            f"<span class='groupkit-exported'>wrote {len(frame):,} rows to "
            f"<code>{html.escape(str(self.last_export))}</code></span>"
        )
        return self.last_export
