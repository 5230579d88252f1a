"""The receiver's archive on disk: durable appends with group commit, rotation, gzip, quarantine.

A request hands its line to :meth:`Journal.commit` and is answered only once the
line is written and ``fdatasync``-ed. One writer thread owns the files: it takes
every line queued since its last sync, writes them with one call and syncs once,
so while one sync runs the next batch gathers (group commit: the number of syncs
per second stays bounded whatever the request rate).

Layout of the output directory::

    webhooks-20261201T13Z-0001.ndjson.gz         closed (compressed) files
    webhooks-20261201T14Z-0001.receiving.ndjson  the file being written now
    .quarantine/quarantine-20261201.ndjson       bodies that are not JSON, torn tails
    .groupkit-receive.lock                       one receiver per directory

A file is closed when the hour (UTC) of the webhooks changes or when it reaches
``rotate_bytes``; a background thread compresses it, and only then does the
``.receiving.ndjson`` name go away. :func:`groupkit.read_webhooks` reads the
directory at any moment: it skips the hidden quarantine and reads the
``.receiving`` file up to its last newline (an unterminated line there is one
the receiver is still writing, and has not acknowledged).

If the receiver is killed, the next one to open the directory finishes the job:
an unterminated last line (never acknowledged) is moved to the quarantine with
its reason, and every leftover ``.receiving`` file is closed and compressed.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import dataclasses
import errno
import fcntl
import logging
import os
import queue
import re
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from groupkit.load.sources import CLOSED_SUFFIX, RECEIVING_SUFFIX
from groupkit.receiver.metrics import Metrics
from groupkit.receiver.secrets import ReceiverError

__all__ = ["Journal", "envelope", "utc_text"]

_log = logging.getLogger("groupkit.receiver")

LOCK_NAME = ".groupkit-receive.lock"
QUARANTINE_DIR = ".quarantine"
_NAME = re.compile(r"^webhooks-(\d{8}T\d{2}Z)-(\d{4,})(?:\.receiving\.ndjson|\.ndjson\.gz)$")


def utc_text(seconds: float) -> str:
    """ISO 8601 UTC with milliseconds, as the archive's ``received_at``.

    Examples
    --------
    >>> utc_text(1764597912.1239)
    '2025-12-01T14:05:12.123Z'
    """
    t = time.gmtime(seconds)
    millis = int(seconds * 1000) % 1000
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (*t[:6], millis)  # noqa: UP031


def envelope(received_at: float, body: bytes) -> bytes:
    """One archive line: ``{"received_at": ..., "body": "<the raw body>"}`` and a newline.

    The body is kept as a JSON string holding the exact text that arrived, so the
    bytes that were signed can always be recovered (and re-verified); the loader
    unwraps it. ``body`` must be UTF-8 (JSON always is).

    Examples
    --------
    >>> envelope(0, b'{"entry": []}')
    b'{"received_at":"1970-01-01T00:00:00.000Z","body":"{\\\\"entry\\\\": []}"}\\n'
    """
    text = orjson.dumps(body.decode("utf-8"))
    return b'{"received_at":"' + utc_text(received_at).encode() + b'","body":' + text + b"}\n"


def _hour_key(seconds: float) -> str:
    return time.strftime("%Y%m%dT%HZ", time.gmtime(seconds))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclasses.dataclass
class _Item:
    line: bytes
    hour: str | None  # None: a quarantine line
    loop: asyncio.AbstractEventLoop | None
    future: Any  # asyncio.Future on ``loop``, else a concurrent.futures.Future


@dataclasses.dataclass
class _Open:
    path: Path
    fd: int
    hour: str
    size: int


class Journal:
    """Durable, group-committed NDJSON files in one directory (see the module docstring).

    Parameters
    ----------
    out
        The directory (created if missing). One journal per directory: a second one
        raises :class:`~groupkit.receiver.ReceiverError`.
    rotate_bytes
        Close the current file once it holds this many bytes.
    clock
        Unix seconds now; the hour of each line's ``received_at`` picks its file.
    metrics
        Counters to update (fsyncs, their latency, bytes, files).

    Examples
    --------
    >>> import tempfile, groupkit
    >>> folder = tempfile.mkdtemp()
    >>> with Journal(folder) as journal:
    ...     journal.commit_wait(envelope(0, b'{"entry": []}'), 0)
    >>> groupkit.read_webhooks(folder).report.webhooks_parsed
    1
    """

    def __init__(
        self,
        out: str | os.PathLike[str],
        *,
        rotate_bytes: int = 64 << 20,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
    ) -> None:
        if rotate_bytes <= 0:
            raise ReceiverError("rotate_bytes must be positive")
        self.out = Path(out)
        self.rotate_bytes = rotate_bytes
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.last_error: str | None = None
        self._cond = threading.Condition()
        self._queue: list[_Item] = []
        self._stopping = False
        self._current: _Open | None = None
        self._quarantine: tuple[str, int, Path] | None = None  # (day, fd, path)
        self._lock_fd: int | None = None
        self._writer: threading.Thread | None = None
        self._compress_queue: queue.Queue[Path | None] = queue.Queue()
        self._compressor: threading.Thread | None = None

    def __repr__(self) -> str:
        state = "open" if self.running else "closed"
        return f"Journal({str(self.out)!r}, {state})"

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        """Whether the writer thread is alive."""
        return self._writer is not None and self._writer.is_alive()

    def open(self) -> Journal:
        """Lock the directory, recover what a killed receiver left, start the threads."""
        if self._writer is not None:
            return self
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / QUARANTINE_DIR).mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise ReceiverError(f"cannot create {self.out}: {exc.strerror}") from None
        self._lock()
        self._compressor = threading.Thread(
            target=self._compress_loop, name="groupkit-receive-gzip", daemon=True
        )
        self._compressor.start()
        self._recover()
        self._writer = threading.Thread(
            target=self._write_loop, name="groupkit-receive-writer", daemon=True
        )
        self._writer.start()
        return self

    def close(self) -> None:
        """Write and sync everything queued, close and compress the current file, unlock."""
        if self._writer is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._writer.join()
        self._writer = None
        self._compress_queue.put(None)
        if self._compressor is not None:
            self._compressor.join()
            self._compressor = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Journal:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _lock(self) -> None:
        path = self.out / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise ReceiverError(
                    f"{self.out} is being written by another groupkit receive (pid {holder}); "
                    "run one receiver per directory"
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    # ------------------------------------------------------------------ committing

    async def commit(self, line: bytes, received_at: float) -> None:
        """Append ``line`` (an :func:`envelope`) and return once it is on disk.

        Raises ``OSError`` when the write or the sync failed: the line may or may
        not be on disk, and the request must not be acknowledged.
        """
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._put(_Item(line, _hour_key(received_at), loop, future))
        await future

    async def quarantine(self, received_at: float, reason: str, body: bytes) -> None:
        """Keep a body that cannot be archived as a webhook, with the reason; durable on return."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._put(_Item(_quarantine_line(received_at, reason, body), None, loop, future))
        await future

    def commit_wait(self, line: bytes, received_at: float, timeout: float = 30.0) -> None:
        """:meth:`commit` for code without an event loop: block until the line is on disk."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._put(_Item(line, _hour_key(received_at), None, future))
        future.result(timeout)

    def _put(self, item: _Item) -> None:
        with self._cond:
            if self._stopping or self._writer is None:
                raise OSError(errno.ESHUTDOWN, "the journal is closed")
            self._queue.append(item)
            self._cond.notify()

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    # Wake at the next hour too, to close a file nothing is added to.
                    self._cond.wait(self._seconds_to_next_hour())
                    if not self._queue:
                        self._close_stale_hour()
                batch, self._queue = self._queue, []
                stopping = self._stopping
            if batch:
                self._write(batch)
            elif stopping:
                break
        self._close_current()
        if self._quarantine is not None:
            os.close(self._quarantine[1])
            self._quarantine = None

    def _seconds_to_next_hour(self) -> float:
        now = self.clock()
        return max(0.05, 3600 - now % 3600 + 0.01)

    def _close_stale_hour(self) -> None:
        current = self._current
        if current is not None and current.hour < _hour_key(self.clock()):
            self._close_current()

    def _write(self, batch: list[_Item]) -> None:
        run: list[_Item] = []
        quarantined = [item for item in batch if item.hour is None]
        for item in batch:
            if item.hour is None:
                continue
            if self._needs_new_file(item):
                self._sync(run)
                run = []
                self._close_current()
                self._open_new(item.hour)
            run.append(item)
            if self._current is not None:
                self._current.size += len(item.line)
        self._sync(run)
        self._sync_quarantine(quarantined)

    def _needs_new_file(self, item: _Item) -> bool:
        current = self._current
        if current is None:
            return True
        # A late line of the previous hour joins the newer file rather than reopen the old.
        newer_hour = item.hour is not None and item.hour > current.hour
        full = current.size > 0 and current.size + len(item.line) > self.rotate_bytes
        return newer_hour or full

    def _sync(self, run: list[_Item]) -> None:
        if not run:
            return
        current = self._current
        error: BaseException | None = None
        if current is None:
            error = OSError(errno.EIO, self.last_error or "no file to write to")
        else:
            data = b"".join(item.line for item in run)
            good = current.size - len(data)
            try:
                _write_all(current.fd, data)
                started = time.perf_counter()
                os.fdatasync(current.fd)
                self.metrics.observe_fsync(time.perf_counter() - started, len(run))
                self.metrics.add("bytes_written", len(data))
            except OSError as exc:
                error = exc
                self._abandon(current, good, exc)
        _settle(run, error)

    def _sync_quarantine(self, items: list[_Item]) -> None:
        if not items:
            return
        error: BaseException | None = None
        try:
            fd = self._quarantine_fd()
            _write_all(fd, b"".join(item.line for item in items))
            os.fdatasync(fd)
        except OSError as exc:
            error = exc
            self.last_error = f"quarantine write failed: {exc.strerror or exc}"
            _log.error("groupkit receive: %s", self.last_error)
        _settle(items, error)

    def _quarantine_fd(self) -> int:
        day = time.strftime("%Y%m%d", time.gmtime(self.clock()))
        if self._quarantine is not None and self._quarantine[0] == day:
            return self._quarantine[1]
        if self._quarantine is not None:
            os.close(self._quarantine[1])
        path = self.out / QUARANTINE_DIR / f"quarantine-{day}.ndjson"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        _fsync_dir(path.parent)
        self._quarantine = (day, fd, path)
        return fd

    # ------------------------------------------------------------------ files

    @property
    def current_path(self) -> Path | None:
        """The file being written now, if any."""
        current = self._current
        return current.path if current is not None else None

    def _open_new(self, hour: str) -> None:
        taken = [
            int(m.group(2))
            for p in self.out.iterdir()
            if (m := _NAME.match(p.name)) and m.group(1) == hour
        ]
        seq = max(taken, default=0) + 1
        path = self.out / f"webhooks-{hour}-{seq:04d}{RECEIVING_SUFFIX}"
        try:
            fd = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o600
            )
            # The new name must be durable before any line in it is acknowledged.
            _fsync_dir(self.out)
        except OSError as exc:
            self.last_error = f"cannot create {path.name}: {exc.strerror or exc}"
            _log.error("groupkit receive: %s", self.last_error)
            self._current = None
            return
        self._current = _Open(path, fd, hour, 0)
        self.metrics.add("files_opened")

    def _close_current(self) -> None:
        current, self._current = self._current, None
        if current is None:
            return
        os.close(current.fd)
        self._compress_queue.put(current.path)

    def _abandon(self, current: _Open, good: int, exc: OSError) -> None:
        """After a failed write or sync, cut the file back to what was synced and move on."""
        self.last_error = f"write to {current.path.name} failed: {exc.strerror or exc}"
        _log.error("groupkit receive: %s", self.last_error)
        self.metrics.add("write_errors")
        self._current = None
        try:
            os.ftruncate(current.fd, good)
            os.fsync(current.fd)
        except OSError:
            # Leave it as it is: its unterminated tail reads as in progress, and the next
            # receiver to open the directory moves it to the quarantine.
            os.close(current.fd)
            return
        os.close(current.fd)
        self._compress_queue.put(current.path)

    # ------------------------------------------------------------------ compression

    def _compress_loop(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            # Compression must not slow the answers: a lower priority for this thread only.
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while (path := self._compress_queue.get()) is not None:
            try:
                compress(path)
                self.metrics.add("files_closed")
            except OSError as exc:
                # The file stays, complete, under its .receiving name: it still loads, and
                # the next receiver to open the directory compresses it.
                self.last_error = f"cannot compress {path.name}: {exc.strerror or exc}"
                _log.error("groupkit receive: %s", self.last_error)

    # ------------------------------------------------------------------ recovery

    def _recover(self) -> None:
        """Finish what a receiver that was killed left behind (see the module docstring)."""
        for stale in self.out.glob(".webhooks-*.gz.tmp"):
            stale.unlink()
        for path in sorted(self.out.glob(f"webhooks-*{RECEIVING_SUFFIX}")):
            closed = _closed_name(path)
            if closed.exists():
                # Killed after the compressed copy was complete, before the original went.
                path.unlink()
                _fsync_dir(self.out)
                continue
            with open(path, "rb+") as fh:
                data = fh.read()
                complete = data.rfind(b"\n") + 1
                if complete < len(data):
                    reason = (
                        "torn write: groupkit receive stopped while writing this line to "
                        f"{path.name}; it was never acknowledged, so the sender retries it"
                    )
                    line = _quarantine_line(self.clock(), reason, data[complete:])
                    self._write_quarantine_now(line)
                    fh.truncate(complete)
                    fh.flush()
                    os.fsync(fh.fileno())
                    self.metrics.add("torn_tails_recovered")
                    _log.warning("groupkit receive: %s (moved to the quarantine)", reason)
            self._compress_queue.put(path)

    def _write_quarantine_now(self, line: bytes) -> None:
        fd = self._quarantine_fd()
        _write_all(fd, line)
        os.fdatasync(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _settle(items: list[_Item], error: BaseException | None) -> None:
    """Resolve each item's future from this (writer) thread: one wake-up per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for item in items:
        if item.loop is None:
            if error is None:
                item.future.set_result(None)
            else:
                item.future.set_exception(error)
        else:
            by_loop.setdefault(item.loop, []).append(item.future)
    for loop, futures in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits
            loop.call_soon_threadsafe(_resolve, futures, error)


def _resolve(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():  # its request was cancelled (the client went away)
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _quarantine_line(received_at: float, reason: str, body: bytes) -> bytes:
    record = {
        "received_at": utc_text(received_at),
        "reason": reason,
        "bytes": len(body),
        "body_base64": base64.b64encode(body).decode("ascii"),
    }
    return orjson.dumps(record) + b"\n"


def _closed_name(path: Path) -> Path:
    return path.with_name(path.name[: -len(RECEIVING_SUFFIX)] + CLOSED_SUFFIX)


def compress(path: Path) -> Path:
    """Gzip a closed ``.receiving.ndjson`` file into ``.ndjson.gz``, then remove it.

    The compressed copy is written under a hidden name, synced, and renamed into
    place before the original goes, so at every moment the lines are in a file
    the loader reads (for an instant in both: the loader drops the redelivery).

    Examples
    --------
    >>> import tempfile, gzip, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "webhooks-20261201T13Z-0001.receiving.ndjson"
    >>> _ = path.write_bytes(b'{"entry": []}\\n')
    >>> closed = compress(path)
    >>> closed.name, gzip.decompress(closed.read_bytes()), path.exists()
    ('webhooks-20261201T13Z-0001.ndjson.gz', b'{"entry": []}\\n', False)
    """
    closed = _closed_name(path)
    tmp = closed.with_name("." + closed.name + ".tmp")
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip framing
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        os.fchmod(dst.fileno(), 0o600)
        while chunk := src.read(1 << 20):
            dst.write(packer.compress(chunk))
        dst.write(packer.flush())
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, closed)
    _fsync_dir(path.parent)
    path.unlink()
    _fsync_dir(path.parent)
    return closed
