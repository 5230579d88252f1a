"""``PinPanel``: pin or unpin a recent business message in a group."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ipywidgets as widgets
import pandas as pd

from groupkit import payloads
from groupkit.client import GroupClient, SentMessage
from groupkit.exceptions import GroupkitError
from groupkit.widgets._common import (
    archive_group_names,
    describe_failure,
    describe_sent,
    error_label,
    group_label,
    json_preview,
    message_text,
    set_error,
    short_id,
)

__all__ = ["PIN_RULES", "PinPanel", "SessionPin"]

PIN_RULES = (
    "Only a group admin can pin or unpin. "
    f"At most {payloads.MAX_PINS} messages stay pinned in a group: pinning another "
    "unpins the oldest automatically. A pin lasts 1 to 30 days."
)


@dataclass
class SessionPin:
    """A pin this panel made.

    Attributes
    ----------
    group_id, message_id
        Where and what was pinned.
    days
        The pin's duration.
    pinned_at
        When the API accepted the pin.
    action_id
        The ID the API gave the pin action itself.
    state
        ``"pinned"``, ``"unpinned"`` (by this panel) or ``"unpinned automatically"``
        (a later pin in the same group pushed it out).
    """

    group_id: str
    message_id: str
    days: int
    pinned_at: datetime
    action_id: str
    state: str = "pinned"


@dataclass(frozen=True)
class _Candidate:
    group_id: str
    message_id: str
    at: datetime | None
    text: str | None


class PinPanel(widgets.VBox):
    """Pin a recent business message in a group for 1 to 30 days, or unpin it.

    Parameters
    ----------
    client
        A :class:`groupkit.GroupClient`.
    archive
        A :class:`groupkit.Archive`: its statuses give the recent business messages
        (newest first) and its group events the group names.
    sent
        Messages sent in this session (e.g. ``send_panel.sent``, read again on each
        :meth:`refresh`): offered before their statuses reach the archive, and the
        source of each message's text, which statuses do not carry.

    Attributes
    ----------
    payload : dict or None
        The pin body the Pin button would post now (``None`` if nothing to pin).
    unpin_payload : dict or None
        The body the Unpin button would post now.
    errors : dict
        Field name (``"group"``, ``"message"``, ``"days"``) -> what is wrong.
    last_result : SentMessage, GroupkitError or None
        What the last pin or unpin returned or raised.
    pins : list of SessionPin
        Every pin made in this session, oldest first, with its current state.

    Examples
    --------
    >>> from groupkit import GroupClient
    >>> from groupkit.sandbox import serve
    >>> with serve(seed=3, groups=1) as box, GroupClient(
    ...     api_key=box.api_key, base_url=box.url
    ... ) as client:
    ...     sent = [client.send_text(box.group_ids[0], "House rules: be kind")]
    ...     panel = PinPanel(client, sent=sent)
    ...     panel.days.value = 14
    ...     panel.pin_button.click()
    ...     pinned = box.pinned(box.group_ids[0])
    >>> pinned == [sent[0].message_id], panel.pins[0].days, panel.pins[0].state
    (True, 14, 'pinned')
    """

    def __init__(
        self,
        client: GroupClient,
        archive: Any = None,
        *,
        sent: Sequence[SentMessage] = (),
    ) -> None:
        self._client = client
        self._archive = archive
        self._sent = sent
        self._candidates: list[_Candidate] = []
        self.payload: dict[str, Any] | None = None
        self.unpin_payload: dict[str, Any] | None = None
        self.errors: dict[str, str] = {}
        self.last_result: SentMessage | GroupkitError | None = None
        self.pins: list[SessionPin] = []
        self.busy = False

        self.group = widgets.Dropdown(options=[], description="Group")
        self.message = widgets.Dropdown(
            options=[], description="Message", layout=widgets.Layout(width="520px")
        )
        self.days = widgets.IntSlider(
            value=7, min=1, max=30, step=1, description="Days", continuous_update=False
        )
        self.pin_button = widgets.Button(
            description="Pin", button_style="primary", icon="thumb-tack"
        )
        self.unpin_button = widgets.Button(description="Unpin", icon="times")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.rules = widgets.HTML(
            f'<div class="groupkit-rules"><i>{html.escape(PIN_RULES)}</i></div>'
        )
        self.preview = widgets.HTML()
        self.result = widgets.HTML()
        self.session = widgets.HTML()
        self.error_labels = {name: error_label() for name in ("group", "message", "days")}
        super().__init__(
            [
                widgets.HTML("<b>Pin a message in a group</b>"),
                self.rules,
                widgets.HBox([self.group, self.error_labels["group"]]),
                widgets.HBox([self.message, self.error_labels["message"]]),
                widgets.HBox([self.days, self.error_labels["days"]]),
                self.preview,
                widgets.HBox([self.pin_button, self.unpin_button, self.refresh_button]),
                self.result,
                widgets.HTML("<b>Pins made in this session</b>"),
                self.session,
            ]
        )
        self.group.observe(self._on_group, names="value")
        self.message.observe(self._validate, names="value")
        self.days.observe(self._validate, names="value")
        self.pin_button.on_click(lambda _: self.pin())
        self.unpin_button.on_click(lambda _: self.unpin())
        self.refresh_button.on_click(lambda _: self.refresh())
        self.refresh()

    def __repr__(self) -> str:
        return f"PinPanel(pins={len(self.pins)}, valid={self.payload is not None})"

    @property
    def selection(self) -> dict[str, Any]:
        """The chosen group, message and duration.

        Examples
        --------
        >>> from groupkit import GroupClient
        >>> from groupkit.sandbox import serve
        >>> with serve(seed=3, groups=1) as box, GroupClient(
        ...     api_key=box.api_key, base_url=box.url
        ... ) as client:
        ...     selection = PinPanel(client).selection
        >>> selection["group_id"] is not None, selection["message_id"], selection["days"]
        (True, None, 7)
        """
        return {
            "group_id": self.group.value,
            "message_id": self.message.value,
            "days": self.days.value,
        }

    # -- choices -----------------------------------------------------------------------------

    def refresh(self, archive: Any = None) -> None:
        """Reload the groups and recent messages (from a new ``archive``, if given).

        Parameters
        ----------
        archive
            A newer :class:`groupkit.Archive` to read statuses and names from.
        """
        if archive is not None:
            self._archive = archive
        names: dict[str, str | None] = {}
        for group in self._client.list_groups():
            names[group.id] = group.subject
        if self._archive is not None:
            for group_id, name in archive_group_names(self._archive).items():
                if names.get(group_id) is None:
                    names[group_id] = name
        self._candidates = _candidates(self._archive, self._sent, self._action_ids())
        with_messages = {c.group_id for c in self._candidates}
        # Groups with something to pin first: that is what a user came for.
        ordered = sorted(names, key=lambda gid: gid not in with_messages)
        _offer(self.group, [(group_label(gid, names[gid]), gid) for gid in ordered])
        self._on_group()

    def _action_ids(self) -> set[str]:
        return {pin.action_id for pin in self.pins}

    def _on_group(self, change: Any = None) -> None:
        group_id = self.group.value
        options = [
            (_message_label(c), c.message_id) for c in self._candidates if c.group_id == group_id
        ]
        _offer(self.message, options)
        self._validate()

    # -- validation --------------------------------------------------------------------------

    def _validate(self, change: Any = None) -> None:
        errors: dict[str, str] = {}
        group_id, message_id = self.group.value, self.message.value
        if group_id is None:
            errors["group"] = "no group to choose from"
        if message_id is None and group_id is not None:
            errors["message"] = "no recent business message in this group"
        pin = unpin = None
        if not errors:
            try:
                pin = payloads.pin_message(group_id, message_id, days=self.days.value)
                unpin = payloads.unpin_message(group_id, message_id)
            except payloads.PayloadError as err:
                field = {"to": "group", "pin.expiration_days": "days"}.get(err.field, "message")
                errors[field] = err.reason
        self.errors = errors
        self.payload, self.unpin_payload = pin, unpin
        for name, label in self.error_labels.items():
            set_error(label, errors.get(name))
        self.preview.value = json_preview(pin)
        if not self.busy:
            self.pin_button.disabled = pin is None
            self.unpin_button.disabled = unpin is None

    # -- actions -----------------------------------------------------------------------------

    def pin(self) -> SentMessage | GroupkitError | None:
        """Pin the chosen message for the chosen number of days (the Pin button).

        Returns
        -------
        SentMessage, GroupkitError or None
            The accepted pin action, the error, or ``None`` when nothing is chosen.
        """
        payload = self.payload
        if payload is None:
            return None
        group_id, message_id = payload["to"], payload["pin"]["message_id"]
        days = payload["pin"]["expiration_days"]
        result = self._run("Pinning…", lambda: self._client.pin(group_id, message_id, days=days))
        if isinstance(result, SentMessage):
            self._record_pin(group_id, message_id, days, result)
            self.result.value = describe_sent(result, f"Pinned for {days} days by")
        return result

    def unpin(self) -> SentMessage | GroupkitError | None:
        """Unpin the chosen message (the Unpin button).

        Returns
        -------
        SentMessage, GroupkitError or None
            The accepted unpin action, the error, or ``None`` when nothing is chosen.
        """
        payload = self.unpin_payload
        if payload is None:
            return None
        group_id, message_id = payload["to"], payload["pin"]["message_id"]
        result = self._run("Unpinning…", lambda: self._client.unpin(group_id, message_id))
        if isinstance(result, SentMessage):
            self._restate_live_pin(group_id, message_id, "unpinned")
            self.result.value = describe_sent(result, "Unpinned by")
            self._show_session()
        return result

    def _run(self, doing: str, call: Any) -> SentMessage | GroupkitError:
        self.busy = True
        self.pin_button.disabled = self.unpin_button.disabled = True
        self.result.value = f"<i>{html.escape(doing)}</i>"
        try:
            result: SentMessage | GroupkitError = call()
        except GroupkitError as exc:
            result = exc
            self.result.value = describe_failure(exc)
        finally:
            self.busy = False
        self.last_result = result
        self._validate()
        return result

    def _record_pin(self, group_id: str, message_id: str, days: int, sent: SentMessage) -> None:
        # Re-pinning a pinned message renews it rather than adding a second pin.
        self._restate_live_pin(group_id, message_id, "renewed")
        self.pins.append(SessionPin(group_id, message_id, days, sent.accepted_at, sent.message_id))
        # The platform keeps the newest MAX_PINS; mirror that for the pins we know of.
        # (Pins made elsewhere also count, so this can only under-report the rotation.)
        live = [p for p in self.pins if p.group_id == group_id and p.state == "pinned"]
        for pin in live[: max(0, len(live) - payloads.MAX_PINS)]:
            pin.state = "unpinned automatically"
        self._show_session()

    def _restate_live_pin(self, group_id: str, message_id: str, state: str) -> None:
        for pin in self.pins:
            if (pin.group_id, pin.message_id, pin.state) == (group_id, message_id, "pinned"):
                pin.state = state

    def _show_session(self) -> None:
        rows = [
            "<tr>"
            f"<td>{html.escape(group_label(p.group_id, None))}</td>"
            f"<td><code>{html.escape(short_id(p.message_id))}</code></td>"
            f"<td>{p.days}</td><td>{p.pinned_at:%Y-%m-%d %H:%M:%S} UTC</td>"
            f"<td>{html.escape(p.state)}</td></tr>"
            for p in self.pins
        ]
        if not rows:
            self.session.value = "<i>none yet</i>"
            return
        self.session.value = (
            '<table class="groupkit-table"><tr><th>group</th><th>message</th><th>days</th>'
            "<th>pinned at</th><th>state</th></tr>" + "".join(rows) + "</table>"
        )


def _offer(dropdown: widgets.Dropdown, options: list[tuple[str, str]]) -> None:
    """Set ``options``, keeping the current choice if it is still offered, else the first."""
    previous = dropdown.value
    dropdown.options = options
    values = [value for _, value in options]
    if previous in values:
        dropdown.value = previous
    elif values:
        dropdown.value = values[0]


def _message_label(candidate: _Candidate) -> str:
    when = f"{candidate.at:%Y-%m-%d %H:%M:%S}" if candidate.at is not None else "time unknown"
    text = candidate.text or "(text unknown)"
    if len(text) > 60:
        text = text[:57] + "…"
    return f"{when} · {text} · {short_id(candidate.message_id)}"


def _candidates(archive: Any, sent: Sequence[SentMessage], exclude: set[str]) -> list[_Candidate]:
    """Business messages to offer, newest first: the session's sends and the archive's."""
    found: dict[str, _Candidate] = {}
    texts = {s.message_id: message_text(s.payload) for s in sent if s.type != "pin"}
    if archive is not None and not archive.statuses.empty:
        statuses = archive.statuses.dropna(subset=["group_id", "message_id"])
        first = statuses.groupby("message_id", observed=True).agg(
            group_id=("group_id", "first"), at=("timestamp", "min")
        )
        inbound = archive.messages.dropna(subset=["message_id", "text"])
        texts_in_archive = dict(zip(inbound["message_id"], inbound["text"], strict=True))
        for message_id, row in first.iterrows():
            at = row["at"].to_pydatetime() if pd.notna(row["at"]) else None
            text = texts.get(message_id) or texts_in_archive.get(message_id)
            found[message_id] = _Candidate(str(row["group_id"]), str(message_id), at, text)
    for s in sent:
        if s.type != "pin" and s.message_id not in found:
            found[s.message_id] = _Candidate(
                s.group_id, s.message_id, s.accepted_at, texts[s.message_id]
            )
    epoch = datetime.min.replace(tzinfo=UTC)
    ordered = sorted(found.values(), key=lambda c: c.at or epoch, reverse=True)
    return [c for c in ordered if c.message_id not in exclude]
