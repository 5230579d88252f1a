"""``SendPanel``: a form that sends a text, media or template message to a group."""

from __future__ import annotations

import json
from typing import Any

import ipywidgets as widgets

from groupkit import payloads
from groupkit.client import GroupClient, SentMessage
from groupkit.exceptions import GroupkitError
from groupkit.widgets._common import (
    describe_failure,
    describe_sent,
    error_label,
    group_options,
    json_preview,
    set_error,
    shown,
)

__all__ = ["MESSAGE_TYPES", "SendPanel"]

MESSAGE_TYPES = ("text", "image", "video", "audio", "document", "template")
_MEDIA = ("image", "video", "audio", "document")
_CAPTIONED = ("image", "video", "document")
# Used only to find body errors while the group itself is invalid, so that every
# wrong field is explained at once; never sent.
_PLACEHOLDER_GROUP = "Y2FwaV9ncm91cDpwbGFjZWhvbGRlcg"
_SEND_LABEL = "Send"
_SENDING_LABEL = "Sending…"


class SendPanel(widgets.VBox):
    """Send a message to a group from a form, with a live preview of the exact JSON.

    The body is built by :mod:`groupkit.payloads` (the same builders the client uses),
    so the preview is what goes over the wire, and invalid input is explained next to
    its field before anything is sent.

    Parameters
    ----------
    client
        A :class:`groupkit.GroupClient` (its credential never reaches the widget).
    groups
        Where the group picker's choices come from: ``None`` asks
        ``client.list_groups()``; an :class:`groupkit.Archive` offers the groups its
        webhooks mention, named where a ``group_create`` or settings webhook named
        them; a mapping of ID to name, or a list of IDs or
        :class:`~groupkit.client.GroupSummary`, is used as given.

    Attributes
    ----------
    payload : dict or None
        The body Send would post now, or ``None`` while some field is invalid.
    errors : dict
        Field name (``"group"``, ``"text"``, ``"media"``, ``"caption"``, ``"filename"``,
        ``"template_name"``, ``"language"``, ``"components"``) -> what is wrong.
    last_result : SentMessage, GroupkitError or None
        What the last Send returned or raised.
    sent : list of SentMessage
        Every message this panel sent, oldest first.
    sending : bool
        Whether a send is in flight.

    Examples
    --------
    >>> from groupkit import GroupClient
    >>> from groupkit.sandbox import serve
    >>> with serve(seed=3, groups=2) as box, GroupClient(
    ...     api_key=box.api_key, base_url=box.url
    ... ) as client:
    ...     panel = SendPanel(client)
    ...     panel.text.value = "Hello from the panel"
    ...     panel.send_button.click()
    >>> panel.payload["text"]
    {'body': 'Hello from the panel', 'preview_url': False}
    >>> panel.last_result.message_id.startswith("wamid."), panel.send_button.disabled
    (True, False)
    """

    def __init__(self, client: GroupClient, groups: Any = None) -> None:
        self._client = client
        options = group_options(client.list_groups() if groups is None else groups)
        self.payload: dict[str, Any] | None = None
        self.errors: dict[str, str] = {}
        self.last_result: SentMessage | GroupkitError | None = None
        self.sent: list[SentMessage] = []
        self.sending = False

        wide = widgets.Layout(width="420px")
        self.group = widgets.Dropdown(
            options=options, value=options[0][1] if options else None, description="Group"
        )
        self.message_type = widgets.ToggleButtons(
            options=MESSAGE_TYPES, value="text", description="Type"
        )
        self.text = widgets.Textarea(
            description="Text", placeholder="1 to 4096 characters", layout=wide
        )
        self.preview_url = widgets.Checkbox(value=False, description="Preview the first URL")
        self.media_source = widgets.ToggleButtons(
            options=[("Public link", "link"), ("Uploaded media ID", "id")],
            value="link",
            description="Media",
        )
        self.media = widgets.Text(description="", placeholder="https://…", layout=wide)
        self.caption = widgets.Text(description="Caption", placeholder="optional", layout=wide)
        self.filename = widgets.Text(description="File name", placeholder="optional", layout=wide)
        self.template_name = widgets.Text(description="Template", placeholder="weekly_update")
        self.language = widgets.Text(value="en_US", description="Language")
        self.components = widgets.Textarea(
            description="Components",
            placeholder='optional JSON list, e.g. [{"type": "body", "parameters": '
            '[{"type": "text", "text": "Ada"}]}]',
            layout=wide,
        )
        self.preview = widgets.HTML(description="")
        self.send_button = widgets.Button(
            description=_SEND_LABEL, button_style="primary", icon="paper-plane"
        )
        self.result = widgets.HTML(value="")

        fields = {
            "group": self.group,
            "message_type": self.message_type,
            "text": self.text,
            "preview_url": self.preview_url,
            "media_source": self.media_source,
            "media": self.media,
            "caption": self.caption,
            "filename": self.filename,
            "template_name": self.template_name,
            "language": self.language,
            "components": self.components,
        }
        self.error_labels = {name: error_label() for name in fields}
        self._rows = {
            name: widgets.HBox([field, self.error_labels[name]]) for name, field in fields.items()
        }
        super().__init__(
            [
                widgets.HTML("<b>Send a message to a group</b>"),
                *self._rows.values(),
                widgets.HTML("<small>Request body (exactly what Send posts):</small>"),
                self.preview,
                widgets.HBox([self.send_button]),
                self.result,
            ]
        )
        for field in fields.values():
            field.observe(self._refresh, names="value")
        self.send_button.on_click(self._on_send)
        self._refresh()

    def __repr__(self) -> str:
        return f"SendPanel(type={self.message_type.value!r}, valid={self.payload is not None})"

    @property
    def selection(self) -> dict[str, Any]:
        """The chosen group and message type.

        Examples
        --------
        >>> from groupkit import GroupClient
        >>> client = GroupClient(api_key="k", base_url="http://127.0.0.1:9")
        >>> SendPanel(client, groups=["Y2FwaV9ncm91cDox"]).selection
        {'group_id': 'Y2FwaV9ncm91cDox', 'message_type': 'text'}
        >>> client.close()
        """
        return {"group_id": self.group.value, "message_type": self.message_type.value}

    # -- validation ------------------------------------------------------------------------

    def _build(self, group_id: str) -> dict[str, Any]:
        kind = self.message_type.value
        if kind == "text":
            return payloads.text_message(
                group_id, self.text.value, preview_url=self.preview_url.value
            )
        if kind == "template":
            return payloads.template_message(
                group_id,
                self.template_name.value.strip(),
                self.language.value.strip(),
                _parse_components(self.components.value),
            )
        source = self.media.value.strip() or None
        return payloads.media_message(
            group_id,
            kind,
            media_id=source if self.media_source.value == "id" else None,
            link=source if self.media_source.value == "link" else None,
            caption=(self.caption.value or None) if kind in _CAPTIONED else None,
            filename=(self.filename.value or None) if kind == "document" else None,
        )

    def _refresh(self, change: Any = None) -> None:
        kind = self.message_type.value
        visible = {
            "text": kind == "text",
            "preview_url": kind == "text",
            "media_source": kind in _MEDIA,
            "media": kind in _MEDIA,
            "caption": kind in _CAPTIONED,
            "filename": kind == "document",
            "template_name": kind == "template",
            "language": kind == "template",
            "components": kind == "template",
        }
        for name, show in visible.items():
            shown(self._rows[name], show)
        self.media.placeholder = "https://…" if self.media_source.value == "link" else "media ID"

        errors: dict[str, str] = {}
        group_id = self.group.value
        try:
            payloads.check_group_id(group_id)
        except payloads.PayloadError as err:
            errors["group"] = "choose a group" if group_id is None else err.reason
        payload: dict[str, Any] | None = None
        try:
            payload = self._build(_PLACEHOLDER_GROUP if errors else group_id)
        except payloads.PayloadError as err:
            errors[_field_of(err.field, kind)] = err.reason
        self.errors = errors
        self.payload = None if errors else payload
        for name, label in self.error_labels.items():
            set_error(label, errors.get(name))
        self.preview.value = json_preview(self.payload)
        if not self.sending:
            self.send_button.disabled = self.payload is None

    # -- sending ---------------------------------------------------------------------------

    def _on_send(self, button: widgets.Button | None = None) -> None:
        self.send()

    def send(self) -> SentMessage | GroupkitError | None:
        """Send the current payload (what the Send button does).

        Returns
        -------
        SentMessage, GroupkitError or None
            The accepted message, the error that stopped it, or ``None`` when the form
            is invalid (nothing is sent).
        """
        payload = self.payload
        if payload is None or self.sending:
            return None
        self.sending = True
        self.send_button.disabled = True
        self.send_button.description = _SENDING_LABEL
        self.send_button.icon = "spinner"
        self.result.value = "<i>Sending…</i>"
        try:
            sent = self._post(payload)
        except GroupkitError as exc:
            self.last_result = exc
            self.result.value = describe_failure(exc)
        else:
            self.last_result = sent
            self.sent.append(sent)
            self.result.value = describe_sent(sent)
        finally:
            self.sending = False
            self.send_button.description = _SEND_LABEL
            self.send_button.icon = "paper-plane"
            self._refresh()
        return self.last_result

    def _post(self, payload: dict[str, Any]) -> SentMessage:
        # The client's public methods rebuild the body with the same builders, so what
        # they post equals ``payload``; going through them keeps the send log right.
        group_id, kind = payload["to"], payload["type"]
        content = payload[kind]
        if kind == "text":
            return self._client.send_text(
                group_id, content["body"], preview_url=content["preview_url"]
            )
        if kind == "template":
            return self._client.send_template(
                group_id,
                content["name"],
                content["language"]["code"],
                content.get("components"),
            )
        return self._client.send_media(
            group_id,
            kind,
            media_id=content.get("id"),
            link=content.get("link"),
            caption=content.get("caption"),
            filename=content.get("filename"),
        )


def _parse_components(text: str) -> list[dict[str, Any]] | None:
    if not text.strip():
        return None
    try:
        components = json.loads(text)
    except ValueError as exc:
        raise payloads.PayloadError("template.components", f"is not valid JSON: {exc}") from None
    if not isinstance(components, list):
        raise payloads.PayloadError("template.components", "must be a JSON list of components")
    return components


def _field_of(body_field: str, kind: str) -> str:
    """The form field that a payload error's dotted body field belongs to."""
    if body_field == "to":
        return "group"
    if body_field == "text.body":
        return "text"
    if body_field in (kind, f"{kind}.id", f"{kind}.link"):
        return "media"
    if body_field == f"{kind}.caption":
        return "caption"
    if body_field == "document.filename":
        return "filename"
    if body_field == "template.name":
        return "template_name"
    if body_field == "template.language.code":
        return "language"
    if body_field.startswith("template.components"):
        return "components"
    return "message_type"
