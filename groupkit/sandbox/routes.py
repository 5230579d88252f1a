"""The sandbox over HTTP (starlette on uvicorn): what the old hand-written server got wrong, right.

* The key, the rate limit and injected faults are decided from the headers,
  **before** any body is read: a request without the key is answered 401 at once,
  whatever body it announces.
* Bodies are bounded (:data:`MAX_BODY`, 413 beyond) and decoded by orjson, which
  refuses nesting deeper than 1,024 levels without recursing in Python; more than
  :data:`MAX_DEPTH` levels is refused too (400, code 100), so nothing later walks
  a pathological document.
* A malformed ``Content-Length`` (``abc``, ``-1``) is answered 400 by uvicorn's
  parser; no thread waits for a body that never comes.
* uvicorn listens with a backlog of 2,048 (200 clients connecting at once all get
  in) and its connections set ``TCP_NODELAY`` (no 40 ms Nagle/delayed-ACK stall
  between a response's headers and its body on keep-alive connections).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from groupkit.sandbox.state import ApiError, SandboxState, meta_error

__all__ = ["MAX_BODY", "MAX_DEPTH", "build_app"]

MAX_BODY = 1 << 20
MAX_DEPTH = 64
_DROP_HEADER = b"x-groupkit-sandbox-drop"


def _json_response(status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    return Response(
        json.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )


def _too_deep(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if children and depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


async def _read_json(request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise meta_error(413, 100, f"The request body is larger than {MAX_BODY:,} bytes.")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise meta_error(413, 100, f"The request body is larger than {MAX_BODY:,} bytes.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        value = orjson.loads(raw or b"null")
    except orjson.JSONDecodeError:
        raise meta_error(400, 100, "The request body is not valid JSON.") from None
    if _too_deep(value, MAX_DEPTH):
        raise meta_error(400, 100, f"The request body is nested more than {MAX_DEPTH} levels deep.")
    return value


def _announces_body(request: Request) -> bool:
    headers = request.headers
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


def build_app(state: SandboxState) -> Any:
    """The sandbox's ASGI app over ``state``.

    Examples
    --------
    >>> from groupkit.sandbox.state import SandboxState
    >>> callable(build_app(SandboxState(groups=1)))
    True
    """

    async def endpoint(request: Request) -> Response:
        body_read = False
        try:
            parts, meta_style, fault = state.admit(request.url.path, request.headers)
            body = None
            if request.method == "POST":
                body = await _read_json(request)
                body_read = True
            query = {key: value for key, value in request.query_params.items() if value}
            status, answer = state.route(request.method, parts, meta_style, query, body)
        except ApiError as err:
            headers = dict(err.headers)
            if not body_read and _announces_body(request):
                headers["Connection"] = "close"  # its body was never read: start afresh
            return _json_response(err.status, err.body, headers)
        if fault == "drop":
            # Accepted (the webhooks are on their way), but the caller never hears so.
            return Response(b"", headers={_DROP_HEADER.decode(): "1"})
        return _json_response(status, answer, {})

    routes = [Route("/{path:path}", endpoint, methods=["GET", "POST", "DELETE"])]
    return _DropConnections(Starlette(routes=routes))


class _DropConnections:
    """Outermost layer: a response marked for dropping closes the connection instead.

    What ``fail_next("drop")`` needs: the client sees the connection close with no
    answer at all. ASGI has no message for that, so this closes uvicorn's transport
    (reached through its ``send``) before anything is written.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        dropped = False

        async def guarded(message: dict) -> None:
            nonlocal dropped
            if message["type"] == "http.response.start" and any(
                name == _DROP_HEADER for name, _ in message.get("headers", [])
            ):
                dropped = True
                await _close_without_answer(send)
                return
            if not dropped:
                await send(message)

        await self.app(scope, receive, guarded)


async def _close_without_answer(send: Any) -> None:
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:  # not uvicorn: the nearest thing is an error mid-response
        raise ConnectionAbortedError("sandbox fault 'drop'")
    transport.close()
    for _ in range(100):  # until uvicorn has seen the connection go (one loop turn)
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0)
