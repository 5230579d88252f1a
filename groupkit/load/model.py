"""The shape of a record around the webhook, for telling formats apart.

The items of a webhook (statuses, messages, group events, ...) are not modelled
here: the walker reads them with getters compiled from the paths that
:mod:`groupkit.schema` declares, so a field has one declaration.  What this module
keeps is the outer shape a record may have (a POST with ``entry``, an archive
envelope with ``body``/``payload``, or a line of groupkit's own send log), which
:mod:`groupkit.load.sources` uses to tell NDJSON from a pretty-printed document
and an archive from an unrelated file.
"""

from __future__ import annotations

import msgspec

SEND_KIND = "groupkit.send"


class Record(msgspec.Struct, gc=False):
    """A webhook POST, an archive envelope around one, or a send-log line."""

    kind: str | None = None
    entry: msgspec.Raw = msgspec.Raw(b"")
    body: msgspec.Raw = msgspec.Raw(b"")
    payload: msgspec.Raw = msgspec.Raw(b"")


RECORD = msgspec.json.Decoder(Record)
RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
RAW_DICT = msgspec.json.Decoder(dict[str, msgspec.Raw])
