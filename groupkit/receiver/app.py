"""The receiver as an ASGI app (starlette): handshake, signatures, limits, durable archive.

Routes (the webhook at ``/`` and at ``/webhook``)::

    GET  /            Meta's subscription handshake: the challenge, or 403
    POST /            a webhook: 200 once archived durably, else 401, 413, 400 or 503
    GET  /healthz     liveness: 200 while the archive writer runs
    GET  /metrics     counters, Prometheus text format

A POST is checked in this order, so that a request is refused before its body is
read whenever the headers already decide: a declared length over the limit (413),
no signature header (401); then the body is read, up to the limit (413), its
signature checked in constant time (401), and a body that is not a JSON object is
kept in the quarantine with the reason (400). Everything else is appended to the
archive as ``{"received_at": ..., "body": "<raw body>"}`` and answered 200 only
once it is on disk.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from groupkit import signatures
from groupkit.receiver.journal import QUARANTINE_DIR, Journal, envelope
from groupkit.receiver.metrics import Metrics
from groupkit.receiver.secrets import ReceiverError, ReceiverSecrets, load_secrets

__all__ = ["DEFAULT_MAX_BODY", "Receiver", "app"]

_log = logging.getLogger("groupkit.receiver")

# Meta: "Webhook payloads can be up to 3 MB."; a little room above that.
DEFAULT_MAX_BODY = 4 << 20
_WARN_EVERY = 10.0  # seconds between two log lines about refused signatures
_CLOSE = {"Connection": "close"}


class Receiver:
    """One receiver's state: its secrets, limits, archive journal and counters.

    Made by :func:`app` (``app.state.receiver``) and by :func:`groupkit.receiver.serve`;
    see :func:`app` for the parameters.

    Attributes
    ----------
    out
        The archive directory.
    journal
        The :class:`~groupkit.receiver.journal.Journal` writing it.
    metrics
        The :class:`~groupkit.receiver.metrics.Metrics` served at ``/metrics``.
    url
        Set by :func:`groupkit.receiver.serve` to where it listens.

    Examples
    --------
    >>> import tempfile
    >>> from groupkit.receiver import ReceiverSecrets, Secret
    >>> receiver = Receiver(tempfile.mkdtemp(), secrets=ReceiverSecrets(app_secret=Secret("x")))
    >>> receiver.max_body, receiver.journal.running
    (4194304, False)
    """

    def __init__(
        self,
        out: str | os.PathLike[str],
        *,
        secrets: ReceiverSecrets | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        rotate_bytes: int = 64 << 20,
        allow_unsigned: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secrets = load_secrets() if secrets is None else secrets
        if not self.secrets.signs and not allow_unsigned:
            raise ReceiverError(
                "no signature secret: set GROUPKIT_APP_SECRET (Meta's app secret) or "
                "GROUPKIT_360DIALOG_SECRET, or name a secrets file; allow_unsigned=True "
                "(--allow-unsigned) accepts POSTs nobody signed"
            )
        if max_body <= 0:
            raise ReceiverError("max_body must be positive")
        self.out = Path(out)
        self.max_body = max_body
        self.allow_unsigned = allow_unsigned
        self.clock = clock
        self.metrics = Metrics()
        self.journal = Journal(out, rotate_bytes=rotate_bytes, clock=clock, metrics=self.metrics)
        self.url = ""
        self._open_lock = threading.Lock()
        self._refused_since_log = 0
        self._last_warning = 0.0

    def __repr__(self) -> str:
        return f"Receiver({str(self.out)!r}, {self.metrics!r}, secrets=<secret>)"

    def open(self) -> None:
        """Start the journal (idempotent); the app's lifespan calls it."""
        with self._open_lock:
            self.journal.open()

    def close(self) -> None:
        """Write out everything acknowledged, close and compress the current file."""
        with self._open_lock:
            self.journal.close()

    # ------------------------------------------------------------------ routes

    async def handshake(self, request: Request) -> Response:
        """Meta's ``GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...``."""
        query = request.query_params
        token = query.get("hub.verify_token")
        challenge = query.get("hub.challenge")
        expected = self.secrets.verify_token
        if (
            query.get("hub.mode") == "subscribe"
            and token is not None
            and challenge is not None
            and expected is not None
            and expected.matches(token)
        ):
            self.metrics.add("handshakes_ok")
            return PlainTextResponse(challenge, headers={"X-Content-Type-Options": "nosniff"})
        self.metrics.add("handshakes_refused")
        if expected is None:
            _log.warning("groupkit receive: handshake refused: no GROUPKIT_VERIFY_TOKEN is set")
        return PlainTextResponse("verification failed", status_code=403)

    async def webhook(self, request: Request) -> Response:
        """One webhook POST (see the module docstring for the order of the checks)."""
        self.metrics.add("posts_in_flight")
        try:
            return await self._webhook(request)
        finally:
            self.metrics.add("posts_in_flight", -1)

    async def _webhook(self, request: Request) -> Response:
        headers = request.headers
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return self._too_large()
        meta = headers.get(signatures.META_HEADER) if self.secrets.app_secret else None
        d360 = headers.get(signatures.D360_HEADER) if self.secrets.d360_secret else None
        if meta is None and d360 is None and not self.allow_unsigned:
            return self._refused("rejected_signature_missing", "signature missing")
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                return self._too_large()
            chunks.append(chunk)
        body = b"".join(chunks)
        received_at = self.clock()
        if (meta is not None or d360 is not None) and not self._signed(body, meta, d360):
            return self._refused("rejected_signature_bad", "signature does not match the body")
        if not self.journal.running:
            self.open()  # mounted in a server that did not run this app's lifespan
        problem = _not_a_webhook(body)
        if problem is not None:
            return await self._quarantine(received_at, problem, body)
        try:
            await self.journal.commit(envelope(received_at, body), received_at)
        except OSError:
            self.metrics.add("unavailable")
            return JSONResponse({"error": "the archive cannot be written now"}, status_code=503)
        self.metrics.add("accepted")
        self.metrics.add("bytes_accepted", len(body))
        return Response(b"ok", media_type="text/plain")

    async def healthz(self, request: Request) -> Response:
        """Liveness: 200 while the archive writer runs, 503 otherwise."""
        alive = self.journal.running
        body = {
            "status": "ok" if alive else "stopped",
            "writing": str(self.journal.current_path or ""),
            "last_error": self.journal.last_error,
        }
        return JSONResponse(body, status_code=200 if alive else 503)

    async def metrics_text(self, request: Request) -> Response:
        """The counters in Prometheus' text format."""
        return PlainTextResponse(self.metrics.prometheus(), media_type="text/plain; version=0.0.4")

    # ------------------------------------------------------------------ helpers

    def _signed(self, body: bytes, meta: str | None, d360: str | None) -> bool:
        app_secret, d360_secret = self.secrets.app_secret, self.secrets.d360_secret
        if (
            meta is not None
            and app_secret is not None
            and signatures.verify(body, meta, app_secret.reveal())
        ):
            return True
        if d360 is not None and d360_secret is not None:
            return signatures.verify(body, d360, d360_secret.reveal())
        return False

    def _too_large(self) -> Response:
        self.metrics.add("too_large")
        message = {"error": f"the body is over the limit of {self.max_body:,} bytes"}
        return JSONResponse(message, status_code=413, headers=_CLOSE)

    def _refused(self, counter: str, why: str) -> Response:
        self.metrics.add(counter)
        self._refused_since_log += 1
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY:
            _log.warning(
                "groupkit receive: refused %d POST(s) with 401 (latest: %s)",
                self._refused_since_log,
                why,
            )
            self._refused_since_log = 0
            self._last_warning = now
        return JSONResponse({"error": why}, status_code=401, headers=_CLOSE)

    async def _quarantine(self, received_at: float, problem: str, body: bytes) -> Response:
        try:
            await self.journal.quarantine(received_at, problem, body)
        except OSError:
            self.metrics.add("unavailable")
            return JSONResponse({"error": "the archive cannot be written now"}, status_code=503)
        self.metrics.add("quarantined")
        _log.warning("groupkit receive: quarantined a POST: %s", problem)
        where = f"{QUARANTINE_DIR}/"
        return JSONResponse({"error": f"{problem}; kept in {where}"}, status_code=400)


def _not_a_webhook(body: bytes) -> str | None:
    """Why ``body`` cannot be archived as a webhook, or None when it can."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return f"the body is not JSON ({exc})"
    if not isinstance(value, dict):
        return f"the body is JSON but not an object (a {type(value).__name__})"
    return None


def app(
    out: str | os.PathLike[str],
    *,
    secrets: ReceiverSecrets | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    rotate_bytes: int = 64 << 20,
    allow_unsigned: bool = False,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """An ASGI app that archives WhatsApp webhooks durably into ``out``.

    Mount it in your own server or run it with ``groupkit receive``. Its lifespan
    opens the archive and, at shutdown, writes out what was acknowledged and closes
    it; a server that does not run the lifespan of mounted apps opens it at the first
    POST, and should call ``app.state.receiver.close()`` when it stops. Run one
    receiver per directory (a second one refuses to start).

    Parameters
    ----------
    out
        Directory of the archive (created if missing); see :mod:`groupkit.receiver.journal`.
    secrets
        App secret, verify token and 360dialog secret; default: :func:`load_secrets`
        from the environment. Without a signature secret the app refuses to start
        unless ``allow_unsigned``.
    max_body
        Largest body accepted, in bytes (Meta sends up to 3 MB); larger gets 413.
    rotate_bytes
        Start a new file once the current one holds this many bytes (it also changes
        every hour, UTC); closed files are gzipped.
    allow_unsigned
        Accept POSTs without a signature header (a signature that is present is still
        checked, when its secret is configured). For senders that cannot sign.
    clock
        Unix seconds now (``received_at`` and the hourly files); for tests.

    Returns
    -------
    starlette.applications.Starlette
        With ``app.state.receiver``, the :class:`Receiver`.

    Examples
    --------
    >>> import tempfile, httpx
    >>> from groupkit.receiver import ReceiverSecrets, Secret
    >>> from groupkit._asgi import BackgroundServer
    >>> from groupkit.signatures import sign
    >>> secrets = ReceiverSecrets(app_secret=Secret("s3"), verify_token=Secret("tok"))
    >>> server = BackgroundServer(app(tempfile.mkdtemp(), secrets=secrets)).start()
    >>> with httpx.Client(base_url=server.url) as http:
    ...     shake = http.get("/", params={"hub.mode": "subscribe",
    ...                                   "hub.verify_token": "tok", "hub.challenge": "42"})
    ...     body = b'{"object": "whatsapp_business_account", "entry": []}'
    ...     ok = http.post("/", content=body, headers={"X-Hub-Signature-256": sign(body, "s3")})
    ...     bad = http.post("/", content=body, headers={"X-Hub-Signature-256": sign(body, "no")})
    >>> server.stop()
    >>> shake.text, ok.status_code, bad.status_code
    ('42', 200, 401)
    """
    receiver = Receiver(
        out,
        secrets=secrets,
        max_body=max_body,
        rotate_bytes=rotate_bytes,
        allow_unsigned=allow_unsigned,
        clock=clock,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        receiver.open()
        try:
            yield
        finally:
            receiver.close()

    routes = [
        Route("/healthz", receiver.healthz, methods=["GET"]),
        Route("/metrics", receiver.metrics_text, methods=["GET"]),
    ]
    for path in ("/", "/webhook"):
        routes.append(Route(path, receiver.handshake, methods=["GET"]))
        routes.append(Route(path, receiver.webhook, methods=["POST"]))
    asgi = Starlette(routes=routes, lifespan=lifespan)
    asgi.state.receiver = receiver
    return asgi
