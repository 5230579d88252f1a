"""What the sandbox's old hand-written http.server got wrong, each pinned on uvicorn + starlette.

Reproduced on the old server: 23-52% of 200 concurrent sends failed (listen backlog
5); every keep-alive request took ~44 ms (headers and body written apart, Nagle);
``Content-Length: abc`` or ``-1`` and deeply nested JSON got no answer or held a
thread for 30 s; the body was read before the key was checked.
"""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from groupkit import payloads
from groupkit.sandbox import serve

KEY = "sbx-robust-key-1"


@pytest.fixture
def box():
    with serve(seed=5, api_key=KEY, failure_rate=0.0, time_scale=0.0) as sandbox:
        yield sandbox


def raw_exchange(box, request: bytes, timeout: float = 10.0) -> bytes:
    """Send raw bytes on a fresh connection; return the head of the answer (the socket
    timeout only bounds a server that never answers: the test then fails)."""
    host, port = box.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        return sock.recv(65536)


def test_200_concurrent_sends_all_succeed(box):
    group = box.group_ids[0]

    async def send_all():
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=box.url, limits=limits, timeout=30) as http:
            body = payloads.text_message(group, "all at once")
            return await asyncio.gather(
                *(
                    http.post("/messages", json=body, headers={"D360-API-KEY": KEY})
                    for _ in range(200)
                )
            )

    answers = asyncio.run(send_all())
    assert [a.status_code for a in answers] == [200] * 200
    ids = {a.json()["messages"][0]["id"] for a in answers}
    assert len(ids) == 200 and set(box.outcomes) == ids


def test_keep_alive_connections_set_tcp_nodelay(box):
    # The 44 ms stall was Nagle holding the body behind the headers until the client's
    # delayed ACK; with TCP_NODELAY on the server's side of the connection it cannot happen.
    with httpx.Client(base_url=box.url, headers={"D360-API-KEY": KEY}) as http:
        for _ in range(3):
            assert http.get("/groups").status_code == 200
        connections = list(box._server.server.server_state.connections)
        assert len(connections) == 1  # the three requests shared one connection
        sock = connections[0].transport.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1e3", b"99999999999999999999999"])
def test_a_malformed_content_length_is_answered_400_at_once(box, length):
    head = raw_exchange(
        box,
        b"POST /messages HTTP/1.1\r\nHost: x\r\nD360-API-KEY: " + KEY.encode()
        + b"\r\nContent-Length: " + length + b"\r\n\r\n{}",
    )  # fmt: skip
    assert head.startswith(b"HTTP/1.1 400")
    with httpx.Client(base_url=box.url) as http:  # and the server is still fine
        assert http.get("/groups", headers={"D360-API-KEY": KEY}).status_code == 200


@pytest.mark.parametrize("depth", [100_000, 65], ids=["100k", "65"])
def test_deeply_nested_json_is_a_400_with_code_100(box, depth):
    body = b'{"a":' * depth + b"1" + b"}" * depth
    with httpx.Client(base_url=box.url, headers={"D360-API-KEY": KEY}, timeout=10) as http:
        answer = http.post("/messages", content=body, headers={"Content-Type": "application/json"})
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, 100)
        assert http.get("/groups").status_code == 200
    assert box.outcomes == {}


def test_the_key_is_checked_before_the_body_is_read(box):
    before = box.requests
    # A million bytes announced and none sent: a server that read the body first would
    # wait for it; this one answers from the headers.
    head = raw_exchange(
        box,
        b"POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000\r\n\r\n",
    )
    assert head.startswith(b"HTTP/1.1 401")
    assert b"Invalid or missing D360-API-KEY" in head
    assert box.requests == before + 1 and box.outcomes == {}


def test_a_body_over_the_limit_is_refused_from_its_declared_length(box):
    head = raw_exchange(
        box,
        b"POST /messages HTTP/1.1\r\nHost: x\r\nD360-API-KEY: " + KEY.encode()
        + b"\r\nContent-Length: 50000000\r\n\r\n",
    )  # fmt: skip
    assert head.startswith(b"HTTP/1.1 413")


def test_stop_closes_idle_keep_alive_connections():
    with serve(groups=1, api_key=KEY) as box:
        host, port = box.url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(
            b"GET /groups HTTP/1.1\r\nHost: x\r\nD360-API-KEY: " + KEY.encode() + b"\r\n\r\n"
        )
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")  # the connection stays open ...
    # ... until stop, which closes it (EOF) rather than leave it to a timeout.
    with sock:
        assert sock.recv(1) == b""
    assert box.url == ""
