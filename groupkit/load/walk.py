"""Records -> rows: walk every entry, change and item of each webhook POST.

The walker appends plain Python values to one list per column (a columnar
"sink"), which is much cheaper than building a dict per row.  Timestamps and
error codes are appended raw (number or numeric string) and converted, with
validation, a whole column at a time in :mod:`groupkit.load.build`; a record whose
value turns out to be bad there is rejected as a whole.

A record is all or nothing: everything that can fail while decoding happens
before the first row of that record is appended.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from groupkit.load import model as S
from groupkit.schema import FRAMES, GROUP_FIELDS, KNOWN_FIELDS

LOC = ("_file", "_loc")
RAW_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(c for c in cols if c != "source") + LOC for name, cols in FRAMES.items()
}
_BSUID = re.compile(r"^[A-Z]{2}\.")
_GROUP_FIELDS = frozenset(GROUP_FIELDS)
_KNOWN = frozenset(KNOWN_FIELDS)


class _ErrorsOnly(msgspec.Struct):
    metadata: S.Metadata | None = None
    errors: list[S.Error] | None = None


_ERRORS_ONLY = msgspec.json.Decoder(_ErrorsOnly)


class BadRecord(ValueError):
    """A record that cannot be read; the message is the reason for the load report."""


@dataclass
class Sink:
    """Column lists for every frame, plus what was rejected on the way."""

    cols: dict[str, dict[str, list]] = field(
        default_factory=lambda: {f: {c: [] for c in cols} for f, cols in RAW_COLUMNS.items()}
    )
    records: int = 0
    sends: int = 0
    # (file index, loc, reason, excerpt)
    rejects: list[tuple[int, int, str, str]] = field(default_factory=list)
    unknown_fields: Counter = field(default_factory=Counter)
    # Status objects are kept whole and turned into columns a block at a time
    # (msgspec.structs.astuple + zip), far cheaper than appending field by field.
    status_objs: list = field(default_factory=list)
    status_ctx: list = field(default_factory=list)
    status_counts: list = field(default_factory=list)
    # Statuses read by the Arrow lane (groupkit.load.lane), as statuses-frame columns.
    lane: list = field(default_factory=list)


def reason_of(exc: Exception) -> str:
    """A load-report reason for a decoding error."""
    text = str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text: byte {exc.object[exc.start : exc.start + 1]!r} is not valid UTF-8"
    if isinstance(exc, msgspec.ValidationError):
        return f"not a valid webhook: {text}"
    if "invalid utf-8" in text.lower() or "utf-8" in text.lower():
        return f"not UTF-8 text: {text}"
    if text.startswith("Input data was truncated"):
        return "truncated JSON (the record ends too early)"
    return f"malformed JSON: {text}"


def excerpt(raw: bytes | memoryview, limit: int = 120) -> str:
    """The start of a raw record, printable, for the load report."""
    if isinstance(raw, msgspec.Raw):
        raw = bytes(raw)
    head = bytes(raw[: limit + 1])
    text = head.decode("utf-8", errors="replace").replace("\n", " ")
    return text if len(head) <= limit else text[:limit] + "..."


def received_ms(value: int | float | str) -> int:
    """Milliseconds since the epoch from unix seconds (or ms) or an ISO 8601 string."""
    if isinstance(value, str):
        try:
            return received_ms(float(value))
        except ValueError:
            pass
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise BadRecord(f"received_at {value!r} is neither ISO 8601 nor unix seconds") from None
        if dt.tzinfo is None:
            raise BadRecord(f"received_at {value!r} has no time zone")
        return int(dt.timestamp() * 1000)
    if value != value or value in (float("inf"), float("-inf")):
        raise BadRecord(f"received_at {value!r} is not a time")
    # A unix time in milliseconds is > 1e11 for any date after 1973.
    return int(value) if value > 1e11 else int(value * 1000)


def _unwrap(rec: S.Record) -> tuple[S.Record, int | None]:
    if rec.entry is not None:
        received = rec.received_at
        return rec, None if received is None else received_ms(received)
    key = "body" if len(rec.body) else "payload"
    data = bytes(rec.body if key == "body" else rec.payload)
    if not data or data == b"null":
        raise BadRecord("not a webhook: no 'entry' list, and no 'body' or 'payload' around one")
    try:
        if data[:1] == b'"':
            data = S.STRING.decode(data).encode()
        hook = S.RECORD.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        raise BadRecord(f"{key}: {reason_of(exc)}") from None
    if hook.entry is None:
        raise BadRecord(f"{key} is not a webhook: it has no 'entry' list")
    received = rec.received_at
    return hook, None if received is None else received_ms(received)


def _decode_changes(hook: S.Record) -> list[tuple[str | None, str | None, object, bytes]]:
    """(waba_id, field, decoded value, raw value) for every change; raises before any row."""
    out = []
    for i, entry in enumerate(hook.entry or ()):
        for j, change in enumerate(entry.changes or ()):
            fld = change.field
            raw = bytes(change.value)
            try:
                if not raw or raw == b"null":
                    value = None
                elif fld in _KNOWN:
                    value = S.VALUE.decode(raw)
                else:
                    try:
                        value = _ERRORS_ONLY.decode(raw)
                    except (msgspec.DecodeError, msgspec.ValidationError):
                        value = None
            except msgspec.ValidationError as exc:
                path = f"entry[{i}].changes[{j}].value"
                raise BadRecord(f"not a valid webhook: {str(exc).replace('$', path, 1)}") from None
            out.append((entry.id, fld, value, raw))
    return out


def walk_record(raw: bytes | memoryview, fidx: int, loc: int, sink: Sink) -> None:
    """Decode one record and append its rows to ``sink`` (or a reject)."""
    sink.records += 1
    try:
        rec = S.FAST_RECORD.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        rec = None  # the exact path says precisely what is wrong
    _walk_decoded(rec, raw, fidx, loc, sink)


def _walk_decoded(rec: S.FastRecord | None, raw, fidx: int, loc: int, sink: Sink) -> None:
    if rec is not None:
        hook = rec if rec.entry is not None else _fast_inner(rec)
        if hook is not None and _only_known_fields(hook):
            received = rec.received_at
            if received is not None:
                try:
                    received = received_ms(received)
                except BadRecord as exc:
                    sink.rejects.append((fidx, loc, str(exc), excerpt(raw)))
                    return
            for entry in hook.entry:
                for change in entry.changes or ():
                    if change.value is not None:
                        _emit(change.field, change.value, entry.id, received, fidx, loc, sink)
            return
    _walk_exact(raw, fidx, loc, sink)


def walk_block(data: bytes, fidx: int, sink: Sink, first_line: int = 1) -> int:
    """Walk every non-blank line of an NDJSON block; returns its number of lines.

    The lines of a block are decoded in one comprehension; a block with a blank or
    undecodable line is walked line by line instead, which finds the precise
    reason. The most common POST, one change carrying only statuses, takes a short
    lane here: its status objects are kept whole for :func:`status_columns`.
    """
    lines = data.split(b"\n")
    count = len(lines)
    if lines[-1] == b"":
        lines.pop()
        count -= 1
    try:
        recs = list(map(S.FAST_RECORD.decode, lines))
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        _walk_lines_one_by_one(lines, fidx, sink, first_line)
        return count
    sink.records += len(recs)
    extend_statuses = sink.status_objs.extend
    append_ctx = sink.status_ctx.append
    append_count = sink.status_counts.append
    for loc, rec in enumerate(recs, first_line):
        entry = rec.entry
        if entry is not None and len(entry) == 1 and rec.received_at is None:
            first = entry[0]
            changes = first.changes
            if changes is not None and len(changes) == 1:
                change = changes[0]
                value = change.value
                if (
                    value is not None
                    and change.field == "messages"
                    and value.messages is None
                    and value.errors is None
                    and (statuses := value.statuses)
                ):
                    meta = value.metadata
                    extend_statuses(statuses)
                    append_ctx(
                        (first.id, None if meta is None else meta.phone_number_id, None, fidx, loc)
                    )
                    append_count(len(statuses))
                    continue
        _walk_decoded(rec, lines[loc - first_line], fidx, loc, sink)
    return count


def _walk_lines_one_by_one(lines: list[bytes], fidx: int, sink: Sink, first_line: int) -> None:
    for i, line in enumerate(lines):
        if not line or line.isspace():
            continue
        walk_record(line, fidx, first_line + i, sink)


def _fast_inner(rec: S.FastRecord) -> S.FastHook | None:
    inner = rec.body if rec.body is not None else rec.payload
    if isinstance(inner, S.FastHook) and inner.entry is not None:
        return inner
    return None


def _only_known_fields(hook) -> bool:
    for entry in hook.entry:
        for change in entry.changes or ():
            if change.field not in _KNOWN:
                return False
    return True


def _walk_exact(raw: bytes | memoryview, fidx: int, loc: int, sink: Sink) -> None:
    """Every record the fast path does not take: envelopes with a JSON-string body,
    fields kept raw, and every malformed record (for a precise reason)."""
    try:
        rec = S.RECORD.decode(raw)
        if rec.kind == S.SEND_KIND and rec.entry is None:
            _send(S.SEND.decode(raw), fidx, loc, sink)
            return
        hook, received = _unwrap(rec)
        changes = _decode_changes(hook)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        sink.rejects.append((fidx, loc, reason_of(exc), excerpt(raw)))
        return
    except BadRecord as exc:
        sink.rejects.append((fidx, loc, str(exc), excerpt(raw)))
        return
    for waba, fld, value, raw_value in changes:
        if fld in _KNOWN:
            if value is not None:
                _emit(fld, value, waba, received, fidx, loc, sink)
        else:
            _other_change(value, fld, raw_value, waba, received, fidx, loc, sink)


def _emit(fld, value: S.Value, waba, received, fidx, loc, sink: Sink) -> None:
    meta = value.metadata
    pn = None if meta is None else meta.phone_number_id
    if fld == "messages":
        if value.statuses:
            sink.status_objs.extend(value.statuses)
            sink.status_ctx.append((waba, pn, received, fidx, loc))
            sink.status_counts.append(len(value.statuses))
        if value.messages:
            _messages(value.messages, value.contacts, (waba, pn, received, fidx, loc), sink)
        if value.errors:
            ctx = (waba, pn, received, fidx, loc)
            _error_rows(value.errors, "webhook", fld, None, None, None, None, None, ctx, sink)
    else:
        _groups_value(value, fld, waba, pn, received, fidx, loc, sink)


def _error_rows(errors, origin, fld, message_id, group_id, participant, status, ts, ctx, sink):
    c = sink.cols["errors"]
    waba, pn, received, fidx, loc = ctx
    for e in errors:
        data = e.error_data
        c["code"].append(e.code)
        c["title"].append(e.title)
        c["message"].append(e.message)
        c["details"].append(None if data is None else data.details)
        c["href"].append(e.href)
        c["origin"].append(origin)
        c["field"].append(fld)
        c["message_id"].append(message_id)
        c["group_id"].append(group_id)
        c["participant_id"].append(participant)
        c["status"].append(status)
        c["timestamp"].append(ts)
        c["waba_id"].append(waba)
        c["phone_number_id"].append(pn)
        c["received_at"].append(received)
        c["_file"].append(fidx)
        c["_loc"].append(loc)


def _bool(value: bool | str | None) -> bool | None:
    if value is None or value.__class__ is bool:
        return value
    low = str(value).strip().lower()
    return True if low == "true" else False if low == "false" else None


_NO_PRICING = S.Pricing()
_NO_CONVERSATION = S.Conversation()
_NO_ORIGIN = S.Origin()
_TEXT = pa.large_string()


def _text(values) -> pa.Array:
    return pa.array(values, _TEXT)


def _fields_of(objs: list, empty) -> tuple[tuple, ...]:
    """Columns of a list of structs or ``None``s (``None`` reads as ``empty``)."""
    return tuple(zip(*map(msgspec.structs.astuple, [o or empty for o in objs]), strict=True))


def _billable(values: tuple) -> pa.Array:
    try:
        return pa.array(values, pa.bool_())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pa.array(list(map(_bool, values)), pa.bool_())


def status_columns(sink: Sink) -> dict[str, list | tuple | pa.Array]:
    """The statuses frame's raw columns from the status objects of a block.

    Struct fields are transposed to columns in C (``msgspec.structs.astuple`` +
    ``zip``) and every text column goes to Arrow in one call; nested objects
    (pricing, conversation) take the same route with an all-``None`` stand-in
    for missing ones. Also appends the error rows of failed statuses to the
    errors frame.
    """
    objs = sink.status_objs
    names = RAW_COLUMNS["statuses"]
    if not objs:
        return {name: [] for name in names}
    columns = zip(*map(msgspec.structs.astuple, objs), strict=True)
    fields = dict(zip(S.STATUS_FIELDS, columns, strict=True))
    n = len(objs)
    counts = sink.status_counts
    # Context (waba, phone number, receipt, origin) is per change: repeat it per status.
    ctx_of = pa.array(np.repeat(np.arange(len(counts)), counts))
    waba, pn, received, fidx, loc = (
        pa.array(col).take(ctx_of) for col in zip(*sink.status_ctx, strict=True)
    )
    rid = _text(fields["recipient_id"])
    rtype = _text(fields["recipient_type"])
    # The group is the recipient of a group status (or an explicit group_id, per OpenAPI).
    gid = pc.if_else(pc.equal(rtype, "group"), rid, pa.scalar(None, _TEXT))
    if fields["group_id"].count(None) != n:
        gid = pc.coalesce(_text(fields["group_id"]), gid)
    pid = _text(fields["recipient_participant_id"])
    alt = fields["participant_recipient_id"]
    if alt.count(None) != n:
        pid = pc.coalesce(pid, _text(alt))
    nulls = pa.nulls(n, _TEXT)
    pricing = fields["pricing"]
    conv_id = conv_cat = nulls
    conv = fields["conversation"]
    has_conv = conv.count(None) != n
    if has_conv:
        conv_id_v, conv_origin, conv_pricing = _fields_of(conv, _NO_CONVERSATION)
        conv_id = _text(conv_id_v)
        conv_cat = _text(_fields_of(conv_origin, _NO_ORIGIN)[0])
    pcols: dict[str, pa.Array] = {}
    if pricing.count(None) != n:
        billable, model, ptype, pcat = _fields_of(pricing, _NO_PRICING)
        pcols = {
            "pricing_category": _text(pcat),
            "pricing_type": _text(ptype),
            "pricing_model": _text(model),
            "billable": _billable(billable),
        }
    if has_conv and conv_pricing.count(None) != n:
        # Pricing may sit inside the conversation; a sibling object wins when both exist.
        billable, model, ptype, pcat = _fields_of(conv_pricing, _NO_PRICING)
        nested = {
            "pricing_category": _text(pcat),
            "pricing_type": _text(ptype),
            "pricing_model": _text(model),
            "billable": _billable(billable),
        }
        if pcols:
            sibling = pa.array([p is not None for p in pricing], pa.bool_())
            pcols = {k: pc.if_else(sibling, pcols[k], nested[k]) for k in nested}
        else:
            pcols = nested
    if not pcols:
        pcols = {
            "pricing_category": nulls,
            "pricing_type": nulls,
            "pricing_model": nulls,
            "billable": pa.nulls(n, pa.bool_()),
        }
    errors = fields["errors"]
    code = title = None
    if errors.count(None) != n:
        failed = [i for i, e in enumerate(errors) if e]
        code = [None] * n
        title = [None] * n
        gid_list = gid.to_pylist()
        pid_list = pid.to_pylist()
        ctx_list = ctx_of.to_numpy()
        for i in failed:
            errs = errors[i]
            code[i] = errs[0].code
            title[i] = errs[0].title
            _error_rows(
                errs, "status", "messages", fields["id"][i], gid_list[i], pid_list[i],
                fields["status"][i], fields["timestamp"][i], sink.status_ctx[ctx_list[i]], sink,
            )  # fmt: skip
    return {
        "message_id": _text(fields["id"]),
        "status": _text(fields["status"]),
        "timestamp": fields["timestamp"],
        "group_id": gid,
        "recipient_id": rid,
        "recipient_type": rtype,
        "participant_id": pid,
        "participant_user_id": _text(fields["recipient_participant_user_id"]),
        "participant_parent_user_id": _text(fields["recipient_participant_parent_user_id"]),
        "error_code": pa.nulls(n, pa.int64()) if code is None else code,
        "error_title": nulls if title is None else _text(title),
        **pcols,
        "conversation_id": conv_id,
        "conversation_category": conv_cat,
        "biz_opaque_callback_data": _text(fields["biz_opaque_callback_data"]),
        "waba_id": waba,
        "phone_number_id": pn,
        "received_at": received,
        "_file": fidx,
        "_loc": loc,
    }


_MEDIA = ("image", "video", "audio", "document", "sticker")


def _messages(messages, contacts, ctx, sink: Sink) -> None:
    names: dict[str, str | None] = {}
    only_name = None
    if contacts:
        for ct in contacts:
            name = None if ct.profile is None else ct.profile.name
            if ct.wa_id is not None:
                names[ct.wa_id] = name
            if ct.user_id is not None:
                names[ct.user_id] = name
        if len(contacts) == 1 and len(messages) == 1:
            only_name = None if contacts[0].profile is None else contacts[0].profile.name
    c = sink.cols["messages"]
    waba, pn, received, fidx, loc = ctx
    for m in messages:
        media = None
        for kind in _MEDIA:
            media = getattr(m, kind)
            if media is not None:
                break
        text = m.text.body if m.text is not None else None
        if text is None:
            if media is not None:
                text = media.caption
            elif m.button is not None:
                text = m.button.text
            elif len(m.interactive):
                try:
                    inter = S.INTERACTIVE.decode(m.interactive)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    inter = None
                reply = None if inter is None else inter.button_reply or inter.list_reply
                text = None if reply is None else reply.title
            elif m.system is not None:
                text = m.system.body
        name = names.get(m.from_) if m.from_ is not None else None
        if name is None and m.from_user_id is not None:
            name = names.get(m.from_user_id)
        if name is None:
            name = only_name
        context = m.context
        errors = m.errors
        c["message_id"].append(m.id)
        c["group_id"].append(m.group_id)
        c["from_id"].append(m.from_)
        c["from_user_id"].append(m.from_user_id)
        c["contact_name"].append(name)
        c["type"].append(m.type)
        c["timestamp"].append(m.timestamp)
        c["text"].append(text)
        c["media_id"].append(None if media is None else media.id)
        c["mime_type"].append(None if media is None else media.mime_type)
        c["media_url"].append(None if media is None else media.url)
        c["filename"].append(None if media is None else media.filename)
        c["reaction_emoji"].append(None if m.reaction is None else m.reaction.emoji)
        c["reaction_message_id"].append(None if m.reaction is None else m.reaction.message_id)
        c["context_message_id"].append(None if context is None else context.id)
        c["context_from"].append(None if context is None else context.from_)
        c["forwarded"].append(
            None if context is None else bool(context.forwarded or context.frequently_forwarded)
        )
        c["unsupported_type"].append(None if m.unsupported is None else m.unsupported.type)
        c["payload"].append(_payload(m))
        c["error_code"].append(errors[0].code if errors else None)
        c["waba_id"].append(waba)
        c["phone_number_id"].append(pn)
        c["received_at"].append(received)
        c["_file"].append(fidx)
        c["_loc"].append(loc)
        if errors:
            _error_rows(
                errors, "message", "messages", m.id, m.group_id, m.from_, None, m.timestamp,
                ctx, sink,
            )  # fmt: skip


_PAYLOAD_TYPES = frozenset(S.Message.__struct_fields__) - {
    "id", "from_", "from_user_id", "group_id", "timestamp", "type", "context", "errors",
}  # fmt: skip


def _payload(m: S.Message) -> str | None:
    """The message type's own object as JSON text (``{"body": ...}`` for text, ...)."""
    if m.type not in _PAYLOAD_TYPES:
        return None
    obj = getattr(m, m.type)
    if isinstance(obj, msgspec.Raw):
        return bytes(obj).decode() if len(obj) else None
    return None if obj is None else S.ENCODE(obj).decode()


def _who(p: S.Participant) -> tuple[str | None, str | None]:
    """(phone / wa_id, business-scoped user id) of a participant entry."""
    pid = None if p.wa_id is None else str(p.wa_id)
    uid = p.user_id
    if p.input is not None:
        given = str(p.input)
        if _BSUID.match(given):
            uid = uid or given
        else:
            pid = pid or given
    return pid, uid


def _groups_value(value: S.Value, fld, waba, pn, received, fidx, loc, sink: Sink) -> None:
    ctx = (waba, pn, received, fidx, loc)
    ev = sink.cols["group_events"]
    mem = sink.cols["membership"]
    for g in value.groups or ():
        gid, ts = g.group_id, g.timestamp
        settings = [s for s in (g.group_subject, g.group_description, g.profile_picture) if s]
        flags = [s.update_successful for s in settings if s.update_successful is not None]
        ev["field"].append(fld)
        ev["type"].append(g.type)
        ev["group_id"].append(gid)
        ev["timestamp"].append(ts)
        ev["request_id"].append(g.request_id)
        ev["join_request_id"].append(g.join_request_id)
        ev["initiated_by"].append(g.initiated_by)
        ev["reason"].append(g.reason)
        ev["subject"].append(
            g.subject if g.subject is not None or not g.group_subject else g.group_subject.text
        )
        ev["description"].append(
            g.description
            if g.description is not None or not g.group_description
            else g.group_description.text
        )
        ev["invite_link"].append(g.invite_link)
        ev["join_approval_mode"].append(g.join_approval_mode)
        ev["participant_id"].append(g.wa_id)
        ev["participant_user_id"].append(g.user_id)
        ev["participants_added"].append(
            None if g.added_participants is None else len(g.added_participants)
        )
        ev["participants_removed"].append(
            None if g.removed_participants is None else len(g.removed_participants)
        )
        ev["participants_failed"].append(
            None if g.failed_participants is None else len(g.failed_participants)
        )
        ev["update_successful"].append(all(flags) if flags else None)
        ev["error_code"].append(g.errors[0].code if g.errors else None)
        ev["waba_id"].append(waba)
        ev["phone_number_id"].append(pn)
        ev["received_at"].append(received)
        ev["_file"].append(fidx)
        ev["_loc"].append(loc)
        for change, people in (("join", g.added_participants), ("leave", g.removed_participants)):
            for p in people or ():
                pid, uid = _who(p)
                mem["group_id"].append(gid)
                mem["participant_id"].append(pid)
                mem["participant_user_id"].append(uid)
                mem["change"].append(change)
                mem["reason"].append(g.reason)
                mem["initiated_by"].append(g.initiated_by)
                mem["timestamp"].append(ts)
                mem["request_id"].append(g.request_id)
                mem["waba_id"].append(waba)
                mem["phone_number_id"].append(pn)
                mem["received_at"].append(received)
                mem["_file"].append(fidx)
                mem["_loc"].append(loc)
        if g.errors:
            _error_rows(g.errors, "group_event", fld, None, gid, None, None, ts, ctx, sink)
        for p in g.failed_participants or ():
            if p.errors:
                pid, uid = _who(p)
                _error_rows(
                    p.errors, "group_event", fld, None, gid, pid or uid, None, ts, ctx, sink
                )
        for s in settings:
            if s.errors:
                _error_rows(s.errors, "group_event", fld, None, gid, None, None, ts, ctx, sink)
    if value.errors:
        _error_rows(value.errors, "webhook", fld, None, None, None, None, None, ctx, sink)


def _other_change(value, fld, raw_value: bytes, waba, received, fidx, loc, sink: Sink) -> None:
    name = fld if fld is not None else "<missing>"
    sink.unknown_fields[name] += 1
    c = sink.cols["other_changes"]
    c["field"].append(name)
    c["raw"].append(raw_value.decode("utf-8", errors="replace") if raw_value else None)
    meta = None if value is None else value.metadata
    pn = None if meta is None else meta.phone_number_id
    c["waba_id"].append(waba)
    c["phone_number_id"].append(pn)
    c["received_at"].append(received)
    c["_file"].append(fidx)
    c["_loc"].append(loc)
    if value is not None and value.errors:
        ctx = (waba, pn, received, fidx, loc)
        _error_rows(value.errors, "webhook", name, None, None, None, None, None, ctx, sink)


def _send(send: S.Send, fidx: int, loc: int, sink: Sink) -> None:
    sink.sends += 1
    c = sink.cols["sends"]
    for name in S.Send.__struct_fields__:
        value = getattr(send, name)
        if name in ("requested_at", "accepted_at") and value is not None:
            value = int(value * 1000)
        c[name].append(value)
    c["_file"].append(fidx)
    c["_loc"].append(loc)
