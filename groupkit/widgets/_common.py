"""What the panels share: group choices, message labels, result and error HTML.

Nothing here talks to the network on its own; the panels pass in what the client
or the archive already gave them.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import ipywidgets as widgets
import pandas as pd

from groupkit.client import GroupSummary, SentMessage

# A message ID is long; show its tail, which is what differs between two of them.
_ID_TAIL = 10


def archive_group_names(archive: Any) -> dict[str, str | None]:
    """Every group an archive mentions, with its latest known subject (or ``None``).

    Parameters
    ----------
    archive
        A :class:`groupkit.Archive`.

    Returns
    -------
    dict
        Group ID -> subject, ordered by group ID.

    Examples
    --------
    >>> import groupkit
    >>> archive_group_names(groupkit.parse_webhooks([]))
    {}
    """
    ids: set[str] = set()
    for frame in (archive.statuses, archive.messages, archive.group_events):
        ids.update(frame["group_id"].dropna().astype(str))
    names: dict[str, str | None] = dict.fromkeys(sorted(ids))
    events = archive.group_events
    named = events.dropna(subset=["group_id", "subject"]).sort_values("timestamp")
    for group_id, subject in zip(named["group_id"], named["subject"], strict=True):
        names[str(group_id)] = str(subject)
    return names


def group_options(groups: Any) -> list[tuple[str, str]]:
    """``(label, group_id)`` pairs for a dropdown from groups in any of the shapes we accept.

    Parameters
    ----------
    groups
        An :class:`~groupkit.Archive`, a mapping of group ID to name, or an iterable of
        :class:`~groupkit.client.GroupSummary` or group ID strings.

    Returns
    -------
    list of (str, str)

    Examples
    --------
    >>> group_options({"Y2FwaV9ncm91cDox": "Book club", "Y2FwaV9ncm91cDoy": None})
    [('Book club (…cDox)', 'Y2FwaV9ncm91cDox'), ('…cDoy', 'Y2FwaV9ncm91cDoy')]
    """
    if hasattr(groups, "statuses") and hasattr(groups, "group_events"):
        groups = archive_group_names(groups)
    if isinstance(groups, Mapping):
        pairs = [(str(gid), name) for gid, name in groups.items()]
    else:
        pairs = []
        for item in groups:
            if isinstance(item, GroupSummary):
                pairs.append((item.id, item.subject))
            else:
                pairs.append((str(item), None))
    return [(group_label(gid, name), gid) for gid, name in pairs]


def group_label(group_id: str, name: str | None) -> str:
    """A short label: the group's name and the tail of its ID (names are not unique).

    Examples
    --------
    >>> group_label("Y2FwaV9ncm91cDoxMjM0", "Runners")
    'Runners (…MjM0)'
    """
    tail = "…" + group_id[-4:]
    return f"{name} ({tail})" if name else tail


def short_id(message_id: str) -> str:
    """The tail of a message ID, for labels.

    Examples
    --------
    >>> short_id("wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA")
    '…Q2RTY3RTcA'
    """
    return message_id if len(message_id) <= _ID_TAIL else "…" + message_id[-_ID_TAIL:]


def message_text(payload: Mapping[str, Any]) -> str | None:
    """What a person would recognise a sent message by: its text, caption or template.

    Examples
    --------
    >>> message_text({"type": "text", "text": {"body": "Hello"}})
    'Hello'
    >>> message_text({"type": "image", "image": {"link": "https://example.com/a.jpg"}})
    '[image] https://example.com/a.jpg'
    """
    kind = payload.get("type")
    content = payload.get(kind) if isinstance(kind, str) else None
    if not isinstance(content, Mapping):
        return None
    if kind == "text":
        return content.get("body")
    if kind == "template":
        return f"[template] {content.get('name')}"
    described = content.get("caption") or content.get("filename") or content.get("link")
    return f"[{kind}] {described}" if described else f"[{kind}]"


def describe_failure(exc: BaseException) -> str:
    """HTML for a failed call: the error's own text, which carries the catalogue's advice.

    Examples
    --------
    >>> from groupkit.payloads import PayloadError
    >>> print(describe_failure(PayloadError("text.body", "must not be empty")))
    <div class="groupkit-error" style="color:#b00020"><b>PayloadError</b>:
    text.body: must not be empty</div>
    """
    # An APIError's text already ends with the catalogue's "What to do: ..." advice.
    return (
        f'<div class="groupkit-error" style="color:#b00020"><b>{type(exc).__name__}</b>:\n'
        f"{html.escape(str(exc))}</div>"
    )


def describe_sent(sent: SentMessage, what: str = "Sent") -> str:
    """HTML for an accepted call: the message ID and how many tries it took.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> print(describe_sent(SentMessage("wamid.A", "G1234567", "text", {}, when)))
    <div class="groupkit-ok" style="color:#1b5e20">Sent <code>wamid.A</code>
    (text) at 00:00:00 UTC</div>
    """
    tries = f" after {sent.attempts} attempts" if sent.attempts > 1 else ""
    return (
        f'<div class="groupkit-ok" style="color:#1b5e20">{html.escape(what)} '
        f"<code>{html.escape(sent.message_id)}</code>\n({html.escape(sent.type)}) at "
        f"{sent.accepted_at:%H:%M:%S} UTC{tries}</div>"
    )


def json_preview(payload: Mapping[str, Any] | None) -> str:
    """HTML showing a request body exactly as it will be sent (or why nothing will be).

    Examples
    --------
    >>> json_preview({"type": "text"})
    '<pre class="groupkit-preview">{\\n  &quot;type&quot;: &quot;text&quot;\\n}</pre>'
    """
    if payload is None:
        return '<pre class="groupkit-preview">(nothing to send: fix the fields marked in red)</pre>'
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    return f'<pre class="groupkit-preview">{html.escape(text)}</pre>'


def error_label() -> widgets.HTML:
    """An empty HTML widget that sits next to a field and explains what is wrong with it."""
    return widgets.HTML(value="", layout=widgets.Layout(margin="0 0 0 8px"))


def set_error(label: widgets.HTML, message: str | None) -> None:
    """Show ``message`` in red in ``label``, or clear it."""
    label.value = (
        "" if not message else f'<span style="color:#b00020">{html.escape(message)}</span>'
    )


def frame_html(frame: pd.DataFrame, empty: str) -> str:
    """A small HTML table of ``frame``, or ``empty`` in italics when it has no rows."""
    if frame.empty:
        return f"<i>{html.escape(empty)}</i>"
    return frame.to_html(index=False, border=0, classes="groupkit-table", na_rep="")


def descendants(widget: widgets.Widget) -> Iterator[widgets.Widget]:
    """``widget`` and every widget inside it (children, recursively).

    Examples
    --------
    >>> box = widgets.VBox([widgets.HTML("a"), widgets.HBox([widgets.Button()])])
    >>> [type(w).__name__ for w in descendants(box)]
    ['VBox', 'HTML', 'HBox', 'Button']
    """
    yield widget
    for child in getattr(widget, "children", ()):
        yield from descendants(child)


def shown(widget: widgets.Widget, visible: bool) -> None:
    """Show or hide a widget without removing it from its box."""
    widget.layout.display = "" if visible else "none"


def unique(items: Iterable[str]) -> list[str]:
    """``items`` without repeats, first occurrence kept.

    Examples
    --------
    >>> unique(["b", "a", "b"])
    ['b', 'a']
    """
    return list(dict.fromkeys(items))
