"""An append-only JSONL log of what the client sent and how the API answered.

Each line is one send attempt's outcome, recognisable by ``"kind": "groupkit.send"``,
so the loader can read it beside the webhooks and measure the time from API
acceptance to the ``sent`` status. Message text and credentials are never written:
only IDs, the type, timings and the error code.

Record fields (version 1):

``kind``           always ``"groupkit.send"``
``version``        ``1``
``message_id``     wamid returned by the API, ``null`` when the send failed
``group_id``       the group sent to
``type``           ``text``, ``image``, ``video``, ``audio``, ``document``, ``sticker``,
                   ``template`` or ``pin``
``operation``      ``send_text``, ``send_media``, ``send_template``, ``pin`` or ``unpin``
``requested_at``   unix seconds (float) of the first attempt
``accepted_at``    unix seconds (float) of the success answer, ``null`` on failure
``ok``             whether the API accepted the send
``attempts``       requests made
``http_status``    status of the last answer, ``null`` if none came
``error_code``     Cloud API code on failure (``null`` if none)
``error_title``    its title, or the failure reason (e.g. ``"SendUncertainError"``)
``pinned_message_id`` / ``expiration_days``   for pin and unpin only
``provider``       ``"360dialog"`` or ``"meta"``

Examples
--------
>>> import json, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "sends.jsonl"
>>> log = SendLog(path)
>>> log.write({"kind": "groupkit.send", "message_id": "wamid.A", "ok": True})
>>> json.loads(path.read_text())["message_id"]
'wamid.A'
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

__all__ = ["SEND_RECORD_KIND", "SendLog"]

SEND_RECORD_KIND = "groupkit.send"


class SendLog:
    """Append send records to a JSONL file, one line per record, safely across threads.

    Parameters
    ----------
    path
        The file to append to; parent directories are created.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> log = SendLog(pathlib.Path(tempfile.mkdtemp()) / "a" / "sends.jsonl")
    >>> log.path.name
    'sends.jsonl'
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SendLog({str(self.path)!r})"

    def write(self, record: dict[str, Any]) -> None:
        """Append one record as a JSON line.

        Parameters
        ----------
        record
            A JSON-serialisable dict (the client passes its send records).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> log = SendLog(pathlib.Path(tempfile.mkdtemp()) / "s.jsonl")
        >>> log.write({"kind": "groupkit.send", "ok": False})
        >>> log.path.read_text().count("\\n")
        1
        """
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
