"""A stand-in for the WebThings gateway's ``/proxy/<thing>/`` route, for the page tests.

What the real one does (gateway src/controllers/proxy_controller.ts and src/router.ts): it
serves ``/proxy/<thing id>/<path>`` only to requests that carry the gateway's own token
(``Authorization: Bearer`` or ``?jwt=``), and forwards them with http-proxy and
``changeOrigin: true``: the Host becomes the thing's, every other header (the browser's
``Origin`` among them) and the query go through unchanged. It proxies no websockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from typing import Any
from urllib.parse import parse_qs

import httpx

TOKEN = "gateway-user-token"
_ROUTE = re.compile(r"^/proxy/([^/]+)(/.*)$")
_HOP = {b"host", b"connection", b"content-length", b"transfer-encoding", b"keep-alive"}


class GatewayProxy:
    """The proxy on its own loopback port and thread, forwarding ``/proxy/<id>/`` to
    ``target`` (the appliance's origin)."""

    def __init__(self, port: int, target: str, thing_id: str = "lamp") -> None:
        self.port = port
        self.target = target
        self.thing_id = thing_id
        self.url = f"http://127.0.0.1:{port}"
        self.origins_seen: list[str | None] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.shutdown: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, name="gateway-proxy", daemon=True)

    def page_url(self, path: str) -> str:
        """What the gateway's UI links to: the proxied page with the user's token."""
        return f"{self.url}/proxy/{self.thing_id}{path}?jwt={TOKEN}"

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1008})  # not proxied
            return
        match = _ROUTE.match(scope["path"])
        query = scope["query_string"].decode()
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode()
        token = authorization.removeprefix("Bearer ") or (parse_qs(query).get("jwt") or [""])[0]
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if match is None or match.group(1) != self.thing_id:
            await _answer(send, 404, [], b"")
            return
        if token != TOKEN:
            await _answer(send, 401, [(b"www-authenticate", b"Bearer")], b"")
            return
        origin = headers.get(b"origin")
        self.origins_seen.append(origin.decode() if origin is not None else None)
        forwarded = [(k, v) for k, v in scope["headers"] if k not in _HOP]
        url = f"{self.target}{match.group(2)}" + (f"?{query}" if query else "")
        async with httpx.AsyncClient() as client:
            # httpx sets Host from the URL: what changeOrigin does.
            response = await client.request(scope["method"], url, headers=forwarded, content=body)
        kept = [
            (k.encode(), v.encode())
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")
        ]
        await _answer(send, response.status_code, kept, response.content)

    def _run(self) -> None:
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.shutdown = asyncio.Event()
            config = Config()
            config.bind = [f"127.0.0.1:{self.port}"]
            config.accesslog = None
            await serve(self.app, config, shutdown_trigger=self.shutdown.wait)

        asyncio.run(main())

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(self.url, timeout=1)
                return
            time.sleep(0.05)
        raise RuntimeError("the gateway stand-in did not start")

    def stop(self) -> None:
        if self.loop is not None and self.shutdown is not None:
            self.loop.call_soon_threadsafe(self.shutdown.set)
        self.thread.join(timeout=15)


async def _answer(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
