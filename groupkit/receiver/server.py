"""Serve the receiver app on uvicorn: on a background thread (:func:`serve`) or in the
foreground until SIGTERM (:func:`run_until_signal`, what ``groupkit receive`` calls)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from groupkit._asgi import BackgroundServer, bind, run_foreground
from groupkit.receiver.app import Receiver, app

__all__ = ["serve"]


@contextlib.contextmanager
def serve(
    out: str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    drain_seconds: float = 10.0,
    **options: Any,
) -> Iterator[Receiver]:
    """Run a receiver on a background thread for the duration of a ``with`` block.

    Parameters
    ----------
    out
        The archive directory.
    host, port
        Where to listen (port 0 picks a free one: read ``receiver.url``).
    drain_seconds
        At the end of the block, how long requests in flight may take to finish.
    **options
        Passed to :func:`groupkit.receiver.app` (``secrets``, ``max_body``, ...).

    Yields
    ------
    Receiver
        Its ``url``, ``metrics`` and ``journal``.

    Examples
    --------
    >>> import tempfile, httpx
    >>> from groupkit.receiver import ReceiverSecrets, Secret
    >>> secrets = ReceiverSecrets(app_secret=Secret("x"))
    >>> with serve(tempfile.mkdtemp(), secrets=secrets) as receiver:
    ...     httpx.get(receiver.url + "/healthz").json()["status"]
    'ok'
    """
    asgi = app(out, **options)
    receiver: Receiver = asgi.state.receiver
    server = BackgroundServer(asgi, host=host, port=port, drain_seconds=drain_seconds)
    receiver.url = server.url
    server.start()
    try:
        yield receiver
    finally:
        server.stop()
        receiver.close()


def run_until_signal(
    out: str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    drain_seconds: float = 30.0,
    on_ready: Any = None,
    **options: Any,
) -> Receiver:
    """``groupkit receive``: serve in the main thread until SIGTERM or Ctrl-C, drain, close.

    Not public API (use the command, :func:`groupkit.receiver.app` in your own server,
    or :func:`serve`): it takes over the process's SIGTERM handling. ``on_ready(receiver)``
    is called once the socket listens and the archive is open. Returns the receiver,
    whose metrics hold the run's counts.
    """
    asgi = app(out, **options)
    receiver: Receiver = asgi.state.receiver
    sock = bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    receiver.url = f"http://{bound_host}:{bound_port}"
    try:
        receiver.open()  # fail here, before listening, if the directory is taken
        if on_ready is not None:
            on_ready(receiver)
        run_foreground(asgi, sock, drain_seconds=drain_seconds)
    finally:
        sock.close()
        receiver.close()
    return receiver
