"""Deliver the sandbox's webhooks on time: append to the archive, POST them signed.

Webhooks are scheduled on the *simulated* timeline (unix seconds as the model draws
them) and released on the wall clock ``time_scale`` times faster, so a read an hour
after sending arrives 3.6 s later at ``time_scale=0.001``. The archive keeps the
simulated time as ``received_at`` so it agrees with the statuses' timestamps.

With a webhook URL, each webhook is also POSTed there, signed as Meta signs
(``X-Hub-Signature-256``), and retried a few times when the answer is not 200, as
Meta retries (so a receiver may see one twice: delivery is at least once). Point it
at ``groupkit receive`` to test the sandbox, the receiver and the loader end to end.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import json
import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from groupkit.signatures import META_HEADER, sign

_log = logging.getLogger("groupkit.sandbox")

ARCHIVE_FILE = "sandbox-webhooks.ndjson"
# A webhook POST that is not answered 200 is tried again after these pauses, then dropped.
RETRY_PAUSES = (0.05, 0.2)


class Emitter:
    """A background thread that releases scheduled webhooks when they fall due.

    Parameters
    ----------
    archive
        Directory to append every webhook to (``sandbox-webhooks.ndjson``), or None.
    webhook_url
        Where to POST each webhook too (for example a ``groupkit receive``), or None.
    app_secret
        Signs the POSTs with ``X-Hub-Signature-256`` when given.
    time_scale
        Wall seconds per simulated second (0: release at once).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> emitter = Emitter(archive=folder, webhook_url=None, app_secret=None, time_scale=0.0)
    >>> emitter.schedule(0.0, [(0.0, {"object": "whatsapp_business_account", "entry": []})])
    >>> emitter.wait_idle(), emitter.pending()
    (True, 0)
    >>> emitter.archive_path.read_text().count("\\n")
    1
    >>> emitter.close()
    """

    def __init__(
        self,
        *,
        archive: Path | None,
        webhook_url: str | None,
        app_secret: str | None,
        time_scale: float,
    ) -> None:
        self.archive_path = archive / ARCHIVE_FILE if archive is not None else None
        if archive is not None:
            archive.mkdir(parents=True, exist_ok=True)
        self._webhook_url = webhook_url
        self._app_secret = app_secret
        self.time_scale = time_scale
        self._queue: list[tuple[float, int, float, dict[str, Any]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0
        self._stopping = False
        # The most recent webhooks, for tests and notebooks; bounded for long CLI runs.
        self.emitted: collections.deque[dict[str, Any]] = collections.deque(maxlen=10_000)
        self.delivered = 0  # POSTs answered 200
        self.delivery_failures = 0  # webhooks no attempt delivered
        self._http = httpx.Client(timeout=5.0) if webhook_url else None
        self._thread = threading.Thread(target=self._run, name="groupkit-sandbox-emitter")
        self._thread.daemon = True
        self._thread.start()

    def __repr__(self) -> str:
        return f"Emitter(pending={len(self._queue)}, emitted={len(self.emitted)})"

    def schedule(self, now_sim: float, events: list[tuple[float, dict[str, Any]]]) -> None:
        """Queue ``(simulated_emit_time, webhook)`` pairs relative to ``now_sim``."""
        wall = time.monotonic()
        with self._cond:
            for sim_time, hook in events:
                due = wall + max(0.0, sim_time - now_sim) * self.time_scale
                heapq.heappush(self._queue, (due, next(self._seq), sim_time, hook))
            self._cond.notify_all()

    def pending(self) -> int:
        """Webhooks queued or being delivered now."""
        with self._cond:
            return len(self._queue) + self._busy

    def flush(self, timeout: float = 10.0) -> bool:
        """Release everything queued now; return once it is written (``False`` on timeout)."""
        with self._cond:
            self._queue = [(0.0, seq, sim, hook) for _, seq, sim, hook in self._queue]
            heapq.heapify(self._queue)
            self._cond.notify_all()
        return self.wait_idle(timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or in flight."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self) -> None:
        """Stop the thread (dropping what is still queued) and close the HTTP client."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=10)
        if self._http is not None:
            self._http.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._queue and self._queue[0][0] <= time.monotonic():
                        break
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(wait)
                if self._stopping:
                    return
                _, _, sim_time, hook = heapq.heappop(self._queue)
                self._busy += 1
            try:
                self._deliver(sim_time, hook)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _deliver(self, sim_time: float, hook: dict[str, Any]) -> None:
        body = json.dumps(hook, separators=(",", ":")).encode()
        if self.archive_path is not None:
            received = datetime.fromtimestamp(sim_time, tz=UTC).isoformat()
            line = '{"received_at":"%s","body":%s}\n' % (received, body.decode())  # noqa: UP031
            with self.archive_path.open("a", encoding="utf-8") as handle:
                handle.write(line)
        self.emitted.append(hook)
        if self._http is None or self._webhook_url is None:
            return
        headers = {"Content-Type": "application/json"}
        if self._app_secret:
            headers[META_HEADER] = sign(body, self._app_secret)
        why = ""
        for pause in (*RETRY_PAUSES, None):
            try:
                response = self._http.post(self._webhook_url, content=body, headers=headers)
                if response.status_code == 200:
                    self.delivered += 1
                    return
                why = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                why = type(exc).__name__
            if pause is not None:
                time.sleep(pause)
        _log.info("webhook POST failed after %d attempts: %s", len(RETRY_PAUSES) + 1, why)
        self.delivery_failures += 1
