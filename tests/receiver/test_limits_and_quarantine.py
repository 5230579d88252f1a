"""The body size limit, and bodies that are signed but are not webhooks: kept in the quarantine."""

from __future__ import annotations

import base64
import json
import socket

import httpx
import pytest

import groupkit
from groupkit.receiver import serve
from groupkit.signatures import sign
from tests.receiver.conftest import APP_SECRET, signed, webhook


def quarantine_records(receiver):
    files = sorted((receiver.out / ".quarantine").glob("quarantine-*.ndjson"))
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(tmp_path, secrets):
    with serve(tmp_path, secrets=secrets, max_body=1000) as receiver:
        host, port = receiver.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            # Announce 10 MB and send none of it: the answer must come anyway.
            sock.sendall(
                b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n"
                b"X-Hub-Signature-256: sha256=" + b"0" * 64 + b"\r\n\r\n"
            )
            head = sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 413")
        assert receiver.metrics.snapshot()["too_large"] == 1


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1e3", b"99999999999999999999999"])
def test_a_malformed_content_length_is_answered_400_at_once(receiver, http, length):
    host, port = receiver.url.removeprefix("http://").split(":")
    body = webhook(1)
    signature = signed(body)["X-Hub-Signature-256"].encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: " + length
            + b"\r\nX-Hub-Signature-256: " + signature + b"\r\n\r\n" + body
        )  # fmt: skip
        assert sock.recv(4096).startswith(b"HTTP/1.1 400")
    assert http.get("/healthz").status_code == 200
    assert receiver.metrics.snapshot()["accepted"] == 0


def test_a_streamed_body_over_the_limit_is_refused_and_not_archived(tmp_path, secrets):
    body = webhook(1) + b" " * 2000
    with (
        serve(tmp_path, secrets=secrets, max_body=1000) as receiver,
        httpx.Client(base_url=receiver.url) as http,
    ):
        # Chunked: no Content-Length to refuse early; the limit applies while reading.
        answer = http.post("/", content=iter([body[:500], body[500:]]), headers=signed(body))
        small = http.post("/", content=webhook(2), headers=signed(webhook(2)))
    assert (answer.status_code, small.status_code) == (413, 200)
    archive = groupkit.read_webhooks(tmp_path, workers=1)
    assert list(archive.statuses["message_id"]) == ["wamid.T2"]


def test_a_body_that_is_not_json_is_quarantined_with_its_reason(receiver, http):
    bodies = {
        b"name=value&other=1": "not JSON",
        b'{"entry": [1, 2': "not JSON",
        b"\xff\xfe{}": "not JSON",
        b"[1, 2, 3]": "not an object (a list)",
        b'"a string"': "not an object (a str)",
    }
    for body in bodies:
        answer = http.post("/webhook", content=body, headers=signed(body))
        assert answer.status_code == 400
        assert "quarantine" in answer.json()["error"]
    records = quarantine_records(receiver)
    assert [base64.b64decode(r["body_base64"]) for r in records] == list(bodies)
    for record, expected in zip(records, bodies.values(), strict=True):
        assert expected in record["reason"]
        assert record["received_at"].endswith("Z")
    assert receiver.metrics.snapshot()["quarantined"] == len(bodies)
    # Quarantined bodies are private as the archive is: the receiver's user only.
    quarantine = receiver.out / ".quarantine"
    assert quarantine.stat().st_mode & 0o777 == 0o700
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in quarantine.iterdir())
    # The quarantine is hidden from the loader: the archive loads clean, and empty.
    archive = groupkit.read_webhooks(receiver.out, workers=1)
    assert archive.report.rejects == [] and archive.report.webhooks_parsed == 0


def test_an_unsigned_non_json_body_is_refused_not_quarantined(receiver, http):
    answer = http.post("/", content=b"junk", headers={"X-Hub-Signature-256": sign(b"x", "no")})
    assert answer.status_code == 401
    assert quarantine_records(receiver) == []


def test_deeply_nested_json_is_quarantined_not_a_crash(receiver, http):
    body = b"[" * 100_000 + b"]" * 100_000
    answer = http.post("/", content=body, headers=signed(body, APP_SECRET))
    assert answer.status_code == 400
    (record,) = quarantine_records(receiver)
    assert "not JSON" in record["reason"]
    assert http.get("/healthz").json()["status"] == "ok"
