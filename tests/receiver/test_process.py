"""groupkit receive as a process: SIGTERM drains in-flight requests; SIGKILL loses no 200."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

import httpx
import pytest

import groupkit
from tests.helpers import wait_for
from tests.receiver.conftest import APP_SECRET, signed, webhook

CLI = [sys.executable, "-c", "from groupkit.cli import main; main()", "receive"]


def start(out, *extra) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, GROUPKIT_APP_SECRET=APP_SECRET)
    proc = subprocess.Popen(
        [*CLI, "--out", str(out), "--port", "0", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()  # "groupkit receive: listening on http://127.0.0.1:PORT ..."
    if "listening on" not in line:
        proc.kill()
        raise AssertionError(f"receiver did not start: {line!r} {proc.stderr.read()!r}")
    url = line.split("listening on ")[1].split()[0]
    wait_for(lambda: _healthy(url), timeout=30)
    return proc, url


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _refuses_connections(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return True
    return False


@pytest.fixture
def stop_later():
    procs: list[subprocess.Popen] = []
    yield procs.append
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        proc.stdout.close()
        proc.stderr.close()


def test_sigterm_drains_a_request_in_flight_then_exits_cleanly(tmp_path, stop_later):
    proc, url = start(tmp_path)
    stop_later(proc)
    host, port = url.removeprefix("http://").split(":")
    body = webhook(1)
    head = (
        f"POST /webhook HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
        f"X-Hub-Signature-256: {signed(body)['X-Hub-Signature-256']}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(head + body[:100])  # the request is in flight: half its body sent
        wait_for(lambda: "groupkit_receiver_posts_in_flight 1" in httpx.get(url + "/metrics").text)
        proc.send_signal(signal.SIGTERM)
        # Draining: no new connection gets in ...
        wait_for(lambda: _refuses_connections(host, int(port)), timeout=20)
        # ... but the request in flight completes, and is answered once it is on disk.
        sock.sendall(body[100:])
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200")
    assert proc.wait(30) == 0
    assert "stopped; 1 accepted" in proc.stdout.read()
    archive = groupkit.read_webhooks(tmp_path, workers=1)
    assert archive.report.rejects == []
    assert list(archive.statuses["message_id"]) == ["wamid.T1"]
    assert [p.name.endswith(".ndjson.gz") for p in tmp_path.glob("webhooks-*")] == [True]


def test_sigkill_mid_load_loses_no_acknowledged_post(tmp_path, stop_later):
    proc, url = start(tmp_path)
    stop_later(proc)
    acknowledged: list[int] = []
    lock = threading.Lock()
    counter = iter(range(5000))  # bounded: at most 5,000 POSTs in all

    def client():
        with httpx.Client(base_url=url, timeout=10) as http:
            for n in counter:
                body = webhook(n)
                try:
                    answer = http.post("/webhook", content=body, headers=signed(body))
                except httpx.HTTPError:
                    return  # the receiver is gone
                if answer.status_code == 200:
                    with lock:
                        acknowledged.append(n)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(acknowledged) >= 300, timeout=60)
    proc.send_signal(signal.SIGKILL)
    for thread in threads:
        thread.join(60)
    assert proc.wait(30) == -signal.SIGKILL
    expected = {f"wamid.T{n}" for n in acknowledged}

    # As the killed receiver left it: everything acknowledged is there, nothing rejected.
    left = groupkit.read_webhooks(tmp_path, workers=1)
    assert left.report.rejects == []
    assert expected <= set(left.statuses["message_id"])

    # A new receiver on the directory finishes the job (quarantines a torn tail, compresses).
    proc, url = start(tmp_path)
    stop_later(proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    after = groupkit.read_webhooks(tmp_path, workers=1)
    assert after.report.rejects == [] and after.report.skipped_files == []
    assert expected <= set(after.statuses["message_id"])
    assert not list(tmp_path.glob("*.receiving.ndjson"))
