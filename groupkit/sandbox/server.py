"""A local stand-in for the Groups API: real HTTP on loopback, real rules, realistic webhooks.

The server speaks both dialects: 360dialog's (``POST /messages``, ``GET /groups``,
``GET /groups/{id}``, header ``D360-API-KEY``) and Meta's Graph API
(``POST /<version>/<phone_number_id>/messages``, ``GET /<version>/<group_id>``,
``Authorization: Bearer``). One key opens both. Every accepted send is handed to
the simulator's model (:mod:`groupkit.simulate.model`), whose status webhooks are
appended to the archive and optionally POSTed to a webhook URL, signed.

Three parts: the rules and state (:mod:`groupkit.sandbox.state`), the HTTP routes
(:mod:`groupkit.sandbox.routes`, starlette) and the webhook emitter
(:mod:`groupkit.sandbox.emitter`); this module runs them on uvicorn.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from groupkit._asgi import BackgroundServer, require_server_stack
from groupkit._secrets import check_secret
from groupkit.sandbox.emitter import Emitter
from groupkit.sandbox.state import SandboxState

__all__ = ["Sandbox", "serve"]


class Sandbox(SandboxState):
    """The running sandbox: its address, credentials, groups and webhook emitter.

    Create it with :func:`serve` (a context manager) or call :meth:`start` and
    :meth:`stop` yourself. See :func:`serve` for the parameters.

    Attributes
    ----------
    url
        Base URL, e.g. ``http://127.0.0.1:50123`` (use as the client's ``base_url``).
    api_key
        The key the sandbox accepts (as ``D360-API-KEY`` or a bearer token).
    phone_number_id, waba_id
        The business number and account in Meta-style paths and webhooks.
    archive
        Directory the webhooks are appended to, or ``None``.

    Examples
    --------
    >>> with serve(groups=2, seed=4) as box:
    ...     len(box.group_ids), box.url.startswith("http://127.0.0.1:")
    (2, True)
    """

    def __init__(
        self,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        archive: str | os.PathLike[str] | None = None,
        webhook_url: str | None = None,
        app_secret: str | None = None,
        time_scale: float = 0.001,
        **rules: Any,
    ) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must not be negative")
        super().__init__(**rules)
        self._host = host
        self._port = port
        self.archive = Path(archive) if archive is not None else None
        self._webhook_url = webhook_url
        self._app_secret = (
            None if app_secret is None else check_secret(app_secret, "the sandbox app secret")
        )
        self.time_scale = time_scale
        self._server: BackgroundServer | None = None

    def __repr__(self) -> str:
        state = "running" if self._server else "stopped"
        return f"Sandbox({state}, url={self.url!r}, groups={len(self.group_ids)}, api_key=<secret>)"

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL of the running server (empty before :meth:`start`)."""
        return self._server.url if self._server is not None else ""

    def start(self) -> Sandbox:
        """Start serving on a background thread; returns ``self``."""
        if self._server is not None:
            return self
        require_server_stack("the groupkit sandbox")
        from groupkit.sandbox.routes import build_app

        self.emitter = Emitter(
            archive=self.archive,
            webhook_url=self._webhook_url,
            app_secret=self._app_secret,
            time_scale=self.time_scale,
        )
        server = BackgroundServer(build_app(self), host=self._host, port=self._port)
        try:
            server.start()
        except BaseException:
            self.emitter.close()
            raise
        self._server = server
        return self

    def stop(self) -> None:
        """Stop the server (idle keep-alive connections close at once), stop emitting
        (pending webhooks drop)."""
        if self._server is None:
            return
        self._server.stop()
        self._server = None
        if self.emitter is not None:
            self.emitter.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def flush(self, timeout: float = 10.0) -> bool:
        """Emit every pending webhook now and wait until they are written.

        Examples
        --------
        >>> with serve(seed=1) as box:
        ...     box.flush()
        True
        """
        return self.emitter.flush(timeout) if self.emitter is not None else True

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait (up to ``timeout`` s) until every scheduled webhook has been emitted on time.

        Examples
        --------
        >>> with serve(seed=1) as box:
        ...     box.wait_idle(1.0)
        True
        """
        return self.emitter.wait_idle(timeout) if self.emitter is not None else True


@contextlib.contextmanager
def serve(
    *,
    port: int = 0,
    archive: str | os.PathLike[str] | None = None,
    webhook_url: str | None = None,
    app_secret: str | None = None,
    api_key: str | None = None,
    groups: int = 3,
    seed: int | None = None,
    time_scale: float = 0.001,
    failure_rate: float | None = None,
    rate_limit: int | None = None,
    rate_window: float = 1.0,
    retry_after: float = 1.0,
    aggregate: float = 0.3,
    duplicate: float = 0.05,
    reorder: float = 0.1,
) -> Iterator[Sandbox]:
    """Run a local Groups API on loopback for the duration of a ``with`` block.

    Parameters
    ----------
    port
        Port to listen on (0 picks a free one; read ``sandbox.url``).
    archive
        Directory to append the emitted webhooks to (``sandbox-webhooks.ndjson``),
        readable with :func:`groupkit.read_webhooks`.
    webhook_url
        Also POST every webhook here.
    app_secret
        Sign the POSTs with ``X-Hub-Signature-256`` using this secret.
    api_key
        The key to accept (default: a random one, in ``sandbox.api_key``).
    groups
        How many groups (2 to 8 participants each) to start with.
    seed
        Seed for groups, participants and the delivery model.
    time_scale
        Wall-clock seconds per simulated second for webhook emission.
    failure_rate
        Override the model's per-group probability that a send fails.
    rate_limit, rate_window
        Answer 429 beyond ``rate_limit`` requests per ``rate_window`` seconds.
    retry_after
        The ``Retry-After`` seconds sent with a 429.
    aggregate, duplicate, reorder
        Webhook noise passed to :func:`groupkit.simulate.model.status_webhooks`.

    Yields
    ------
    Sandbox

    Examples
    --------
    >>> import httpx
    >>> with serve(seed=0) as box:
    ...     r = httpx.get(box.url + "/groups", headers={"D360-API-KEY": box.api_key})
    ...     len(r.json()["data"]["groups"])
    3
    """
    if not math.isfinite(time_scale):
        raise ValueError("time_scale must be finite")
    sandbox = Sandbox(
        port=port,
        archive=archive,
        webhook_url=webhook_url,
        app_secret=app_secret,
        api_key=api_key,
        groups=groups,
        seed=seed,
        time_scale=time_scale,
        failure_rate=failure_rate,
        rate_limit=rate_limit,
        rate_window=rate_window,
        retry_after=retry_after,
        aggregate=aggregate,
        duplicate=duplicate,
        reorder=reorder,
    )
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
