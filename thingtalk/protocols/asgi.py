"""ASGI middleware in front of the Quart app: Host check, CORS, and trailing slashes.

Done at the ASGI level, not in Quart hooks, because it runs on every request and costs
far less here than Quart's per-request machinery.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ..errors import Forbidden
from .hosts import HostCheck
from .wire import dumps, error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CORS_HEADERS: list[tuple[bytes, bytes]] = [
    (b"access-control-allow-origin", b"*"),
    (
        b"access-control-allow-headers",
        b"Origin, X-Requested-With, Content-Type, Accept, Authorization, Last-Event-ID",
    ),
    (b"access-control-allow-methods", b"GET, HEAD, PUT, POST, DELETE, OPTIONS"),
    (b"access-control-expose-headers", b"Location"),
]
# Scope key set when the request's path had a trailing slash (removed for routing).
TRAILING_SLASH = "thingtalk.trailing_slash"
# How long a 413 answer waits for the client to finish sending the body it refuses.
DRAIN_SECONDS = 2.0
BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class FrontDoor:
    """Every request passes here first."""

    def __init__(self, app: ASGIApp, host_check: HostCheck | None) -> None:
        self.app = app
        self.host_check = host_check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            # Trailing slashes are optional on every route.
            scope = dict(scope)
            scope["path"] = path.rstrip("/") or "/"
            scope["raw_path"] = scope["path"].encode()
            scope[TRAILING_SLASH] = True  # the page's relative URLs depend on it
        if self.host_check is not None and not self.host_check.allows(_host(scope)):
            await _forbid(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": CORS_HEADERS})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", ()), *CORS_HEADERS]
            await send(message)

        if scope["method"] in BODYLESS_METHODS:
            await self.app(scope, receive, send_with_cors)
            return
        patient_receive, patient_send = _drain_before_413(receive, send_with_cors)
        await self.app(scope, patient_receive, patient_send)


def _drain_before_413(receive: Receive, send: Send) -> tuple[Receive, Send]:
    """Let a 413 answer end only once the client has sent its whole body (or a timeout).

    The server closes the connection after a response to an unread body; closing with
    the client's data still arriving resets it, and a client still sending never reads
    the 413. Quart keeps reading (and discarding) the rest of the body meanwhile.
    """
    body_done = asyncio.Event()
    status = 0

    async def watched_receive() -> Message:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            body_done.set()
        return message

    async def patient_send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif status == 413 and not message.get("more_body", False):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(body_done.wait(), DRAIN_SECONDS)
        await send(message)

    return watched_receive, patient_send


def _host(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"host":
            return bytes(value).decode("latin-1")
    return None


async def _forbid(scope: Scope, receive: Receive, send: Send) -> None:
    error = Forbidden(
        f"host {_host(scope)!r} is not allowed; reach the server by its own name or address"
    )
    if scope["type"] == "websocket":
        # Refuse the handshake (HTTP 403 where the server supports the denial extension).
        await receive()
        await send({"type": "websocket.close", "code": 1008})
        return
    body = dumps(error_body(error))
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *CORS_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
