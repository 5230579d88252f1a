"""How fast ``groupkit receive`` archives signed webhooks; a crash loses none it acknowledged.

Loopback only, with loops bounded in count and in time. Starts ``groupkit receive``
in a subprocess and:

1. **load**: N clients (keep-alive connections) POST signed group status webhooks
   (about 1 KB each, each with its own message id) for ``--seconds`` or
   ``--max-requests``, whichever comes first; prints requests per second, p50 and
   p99 latency, and fsyncs per second (from ``/metrics``: group commit makes one
   sync cover many POSTs);
2. **crash**: the same load on a fresh directory, SIGKILL of the receiver in the
   middle of it, then checks that every POST answered 200 is in the archive and
   that the archive loads with no reject (an unterminated last line, never
   acknowledged, is reported in progress); then a new receiver opens the directory
   (moving that line to the quarantine) and the check is made again.

Targets on 2 cores: >= 1,000 POST/s sustained, p99 < 50 ms, zero acknowledged
webhooks lost. The load generator is a minimal HTTP/1.1 client on asyncio streams
(pre-built requests, no parsing beyond the status line and Content-Length) so that
it takes as little of the machine's CPU from the server as it can.

Run: ``python benchmarks/bench_receive.py [--clients 32] [--seconds 10]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

import groupkit
from groupkit import webhooks
from groupkit.signatures import sign

SECRET = "bench-app-secret"
GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"


def webhook(n: int) -> bytes:
    """A realistic aggregated 'delivered' status POST for a group (~1 KB), unique per n."""
    statuses = [
        webhooks.status(
            f"wamid.bench{n:09d}",
            "delivered",
            1764590000 + n % 86400,
            group_id=GROUP,
            participant=f"1650555{p:04d}",
            pricing={"billable": True, "pricing_model": "PMP", "category": "group_utility"},
        )
        for p in range(3)
    ]
    hook = webhooks.envelope("messages", {"statuses": statuses})
    return json.dumps(hook, separators=(",", ":")).encode()


def request_bytes(n: int, port: int) -> bytes:
    body = webhook(n)
    head = (
        f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"X-Hub-Signature-256: {sign(body, SECRET)}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


class Load:
    """N clients POSTing until a deadline or a request budget; records what was acknowledged.

    Without ``rate`` each client sends its next POST as soon as the last is answered
    (the most the server can take). With ``rate``, POSTs are due at a steady rate and
    each latency counts from when it was due, so a server that falls behind shows
    it (no coordinated omission).
    """

    def __init__(
        self, port: int, clients: int, seconds: float, max_requests: int, rate: float | None = None
    ) -> None:
        self.port = port
        self.clients = clients
        self.seconds = seconds
        self.max_requests = max_requests
        self.rate = rate
        self.latencies: list[float] = []
        self.acked: list[int] = []
        self.failed = 0
        self._queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()

    async def _produce(self) -> None:
        started = time.perf_counter()
        limit = min(self.max_requests, int(self.seconds * (self.rate or 0)))
        if self.rate is None:
            limit = self.max_requests
        for n in range(limit):
            due = started + (n / self.rate if self.rate else 0.0)
            if self.rate:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif time.perf_counter() - started >= self.seconds:
                break
            elif n % 256 == 0:
                await asyncio.sleep(0)  # let the clients run
            if self.rate is None:
                while self._queue.qsize() > self.clients * 2:
                    await asyncio.sleep(0.001)
            self._queue.put_nowait((n, due))
        for _ in range(self.clients):
            self._queue.put_nowait(None)

    async def _client(self) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            self.failed += 1
            return
        try:
            while (job := await self._queue.get()) is not None:
                n, due = job
                sent = time.perf_counter()
                writer.write(request_bytes(n, self.port))
                status = await _read_response(reader)
                if status == 200:
                    self.latencies.append(time.perf_counter() - (due if self.rate else sent))
                    self.acked.append(n)
                else:
                    self.failed += 1
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
            self.failed += 1  # the server went away (the crash phase)
        finally:
            writer.close()

    async def run(self) -> float:
        started = time.perf_counter()
        producer = asyncio.ensure_future(self._produce())
        await asyncio.gather(*(self._client() for _ in range(self.clients)))
        producer.cancel()
        return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_receiver(out: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, GROUPKIT_APP_SECRET=SECRET)
    command = [sys.executable, "-c", "from groupkit.cli import main; main()", "receive"]
    proc = subprocess.Popen(
        [*command, "--out", str(out), "--port", str(port), "--drain-seconds", "5"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
        if proc.poll() is not None:
            raise SystemExit("the receiver exited at start")
    proc.kill()
    raise SystemExit("the receiver did not start within 30 s")


def metric(port: int, name: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def check_archive(out: Path, acked: list[int]) -> tuple[int, int, int]:
    """(acknowledged but missing, rejects, lines in progress) of the archive as it is now."""
    archive = groupkit.read_webhooks(out, workers=1)
    found = set(archive.statuses["message_id"])
    missing = sum(1 for n in acked if f"wamid.bench{n:09d}" not in found)
    in_progress = sum(1 for _, why in archive.report.skipped_files if "in progress" in why)
    return missing, len(archive.report.rejects), in_progress


def sync_counters(port: int) -> tuple[float, float, float]:
    """(syncs, lines synced, seconds spent syncing) so far, from ``/metrics``."""
    return (
        metric(port, "groupkit_receiver_fsyncs_total"),
        metric(port, "groupkit_receiver_lines_synced_total"),
        metric(port, "groupkit_receiver_fsync_seconds_sum"),
    )


def load_run(name: str, out: Path, args: argparse.Namespace, rate: float | None) -> tuple:
    port = free_port()
    proc = start_receiver(out, port)
    try:
        before = sync_counters(port)
        clients = args.clients if rate is None else args.paced_clients
        load = Load(port, clients, args.seconds, args.max_requests, rate)
        elapsed = asyncio.run(load.run())
        syncs, lines, sync_seconds = (
            b - a for a, b in zip(before, sync_counters(port), strict=True)
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    missing, rejects, _ = check_archive(out, load.acked)
    return (
        name,
        clients,
        len(load.acked),
        load.failed,
        len(load.acked) / elapsed,
        percentile(load.latencies, 0.50),
        percentile(load.latencies, 0.99),
        syncs / elapsed,
        lines / syncs if syncs else float("nan"),
        sync_seconds / syncs if syncs else float("nan"),
        missing,
        rejects,
    )


def crash_run(out: Path, args: argparse.Namespace) -> tuple[tuple, int]:
    port = free_port()
    proc = start_receiver(out, port)
    crash = Load(port, args.clients, args.seconds, args.max_requests)
    kill_after = min(args.kill_after, args.seconds / 2)

    async def load_then_kill() -> float:
        task = asyncio.ensure_future(crash.run())
        await asyncio.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
        return await task

    elapsed = asyncio.run(load_then_kill())
    proc.wait(30)
    missing, rejects, in_progress = check_archive(out, crash.acked)
    # A new receiver finishes what the killed one left; check again once it has.
    port = free_port()
    proc = start_receiver(out, port)
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    missing_after, rejects_after, _ = check_archive(out, crash.acked)
    row = (
        f"SIGKILL at {kill_after:g} s",
        args.clients,
        len(crash.acked),
        crash.failed,
        len(crash.acked) / elapsed,
        percentile(crash.latencies, 0.5),
        percentile(crash.latencies, 0.99),
        float("nan"),
        float("nan"),
        float("nan"),
        missing + missing_after,
        rejects + rejects_after,
    )
    return row, in_progress


def filesystem(path: Path) -> str:
    """The type of the filesystem ``path`` is on (Linux), since fsync costs depend on it."""
    best, kind = "", "unknown"
    with contextlib.suppress(OSError), open("/proc/mounts") as mounts:
        for line in mounts:
            fields = line.split()
            mount = fields[1]
            inside = str(path) == mount or str(path).startswith(mount.rstrip("/") + "/")
            if inside and len(mount) > len(best):
                best, kind = mount, fields[2]
    return kind


def number(value: float, spec: str) -> str:
    return "-" if value != value else format(value, spec)  # NaN: not measured in that run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32, help="for the flat-out and crash runs")
    parser.add_argument("--paced-clients", type=int, default=64)
    parser.add_argument("--rate", type=float, default=1000.0, help="POST/s of the paced run")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap of each run")
    parser.add_argument("--kill-after", type=float, default=3.0, help="seconds into the crash run")
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to write (default: the temp dir)"
    )
    args = parser.parse_args()
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-receive-", dir=args.dir)).resolve()
    fs = filesystem(work)
    load_before = os.getloadavg()[0]
    try:
        rows = [
            load_run("flat out", work / "flat", args, None),
            load_run(f"paced {args.rate:,.0f}/s", work / "paced", args, args.rate),
        ]
        crash_row, in_progress = crash_run(work / "crash", args)
        rows.append(crash_row)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    cores = len(os.sched_getaffinity(0))
    print(
        f"groupkit receive on loopback, {args.seconds:g} s per run, {cores} cores, archive on "
        f"{fs}, load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after"
    )
    print()
    print(
        "| run              | clients |   200s | not 200 |  POST/s | p50 ms | p99 ms |"
        " fsyncs/s | POSTs/fsync | ms/fsync | lost | rejects |"
    )
    print(
        "|------------------|---------|--------|---------|---------|--------|--------|"
        "----------|-------------|----------|------|---------|"
    )
    for name, clients, ok, bad, rate, p50, p99, syncs, per_sync, sync_ms, lost, rej in rows:
        print(
            f"| {name:<16} | {clients:>7} | {ok:>6,} | {bad:>7,} | {rate:>7,.0f} |"
            f" {p50 * 1e3:>6.1f} | {p99 * 1e3:>6.1f} | {number(syncs, ',.0f'):>8} |"
            f" {number(per_sync, '.1f'):>11} | {number(sync_ms * 1e3, '.2f'):>8} |"
            f" {lost:>4} | {rej:>7} |"
        )
    print()
    print(
        "Latency: from when a POST was due (paced) or sent (flat out) to its 200, which comes "
        "only after the fsync. not 200 in the SIGKILL run: connections cut by the kill. "
        "lost: POSTs answered 200 missing from the archive (checked before and after a new "
        f"receiver recovers the directory); {in_progress} unacknowledged line(s) were in "
        "progress at the kill."
    )
    flat, paced, crash = rows
    met = (
        flat[4] >= 1000
        and paced[4] >= 0.98 * args.rate
        and paced[6] < 0.050
        and crash[2] > 0  # the kill came after some POSTs were acknowledged
        and all(row[10] == 0 and row[11] == 0 for row in rows)
    )
    print(
        "targets (>= 1,000 POST/s sustained, p99 < 50 ms at that rate, none lost, no rejects):",
        "met" if met else "NOT met",
    )


if __name__ == "__main__":
    main()
