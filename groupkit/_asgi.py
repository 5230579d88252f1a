"""Run an ASGI app on uvicorn: on a background thread (the sandbox, tests, notebooks) or in
the foreground, where SIGTERM drains it (``groupkit receive``).

One place for what both servers need: the listening socket bound here (so the port
is known before the server starts, and the backlog is ours: the old hand-written
server's was 5), no access log (a Meta handshake carries the verify token in its
query string), and a clear message when the ``receiver`` extra is missing.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from typing import Any

from groupkit.exceptions import GroupkitError

BACKLOG = 2048


def require_server_stack(feature: str) -> None:
    """Raise a one-line ``ImportError`` naming the extra when uvicorn or starlette is missing.

    Examples
    --------
    >>> require_server_stack("groupkit receive")
    """
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ImportError(
            f"{feature} needs uvicorn and starlette: pip install 'groupkit[receiver]'"
        ) from None


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 picks a free one).

    Examples
    --------
    >>> sock = bind("127.0.0.1", 0)
    >>> sock.getsockname()[1] > 0
    True
    >>> sock.close()
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise GroupkitError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def _config(app: Any, drain_seconds: float, **options: Any) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        log_config=None,  # leave the host program's logging alone
        log_level=options.pop("log_level", "warning"),
        access_log=False,
        lifespan="on",
        backlog=BACKLOG,
        timeout_graceful_shutdown=drain_seconds,
        server_header=False,
        **options,
    )


class BackgroundServer:
    """uvicorn serving ``app`` on a daemon thread until :meth:`stop`.

    Examples
    --------
    >>> from starlette.applications import Starlette
    >>> server = BackgroundServer(Starlette()).start()
    >>> server.url.startswith("http://127.0.0.1:")
    True
    >>> server.stop()
    """

    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", port: int = 0, drain_seconds: float = 5.0
    ) -> None:
        import uvicorn

        self._sock = bind(host, port)
        self.host, self.port = self._sock.getsockname()[:2]
        self.server = uvicorn.Server(_config(app, drain_seconds))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the listening socket."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        """Start serving; returns once the server accepts connections."""
        self._thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self._sock]},
            name=f"groupkit-asgi-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        if not self.server.started:
            self.stop()
            raise GroupkitError(f"the server on {self.url} did not start")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, let in-flight requests finish, run the app's shutdown, and join."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():  # a request outlived the drain: cut it short
                self.server.force_exit = True
                self._thread.join(timeout)
            self._thread = None
        with contextlib.suppress(OSError):
            self._sock.close()


def run_foreground(app: Any, sock: socket.socket, *, drain_seconds: float) -> None:
    """Serve ``app`` on ``sock`` in this (main) thread until SIGTERM or Ctrl-C.

    Either signal stops accepting connections, lets the requests in flight finish
    (up to ``drain_seconds``) and runs the app's shutdown; then this returns.
    """
    import uvicorn

    server = uvicorn.Server(_config(app, drain_seconds, log_level="info"))
    # uvicorn re-raises the signal it caught once it has drained, with the handler that
    # was there before it: a no-op for SIGTERM lets this function return normally.
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not server.started and not server.should_exit:
        raise GroupkitError("the server stopped before it started (see the log above)")
