"""The ASGI layer that caps long-lived connections, and the file limit the caps need.

Websockets and SSE streams stay open for as long as their clients like, and each holds a file
descriptor and some memory. :class:`ConnectionLimits` counts them (in total and per client
address, each kind on its own) and refuses one over a cap before the app sees it: 503 for a
stream, a refused handshake (503 where the server can send one) for a websocket. Plain HTTP
requests are never capped here: they end by themselves, and :attr:`Limits.reserve_files` keeps
descriptors free for them, so the page and the API stay reachable whatever the streams do.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

from ..errors import Unavailable
from ..limits import Limits
from .wire import PROBLEM_JSON, dumps, problem_details

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Kind = Literal["websocket", "stream"]

#: Seconds a refused client is told to wait before trying again.
RETRY_AFTER = 5
#: Seconds between two log lines about refused connections.
LOG_INTERVAL = 10.0


class ConnectionLimits:
    """An ASGI layer that caps websockets and SSE streams, in total and per client address.

    ``is_stream(path)`` tells which GET requests open an SSE stream.
    """

    def __init__(self, app: ASGIApp, limits: Limits, is_stream: Callable[[str], bool]) -> None:
        self.app = app
        self.limits = limits
        self.is_stream = is_stream
        self.open: dict[Kind, int] = {"websocket": 0, "stream": 0}
        self.by_client: dict[Kind, Counter[str]] = {"websocket": Counter(), "stream": Counter()}
        self._logged = -LOG_INTERVAL
        self._refused = 0

    def _kind(self, scope: Scope) -> Kind | None:
        if scope["type"] == "websocket":
            return "websocket"
        if scope["type"] == "http" and scope["method"] == "GET" and self.is_stream(scope["path"]):
            return "stream"
        return None

    def _caps(self, kind: Kind) -> tuple[int, int]:
        if kind == "websocket":
            return self.limits.max_websockets, self.limits.max_websockets_per_client
        return self.limits.max_streams, self.limits.max_streams_per_client

    def refusal(self, kind: Kind, client: str) -> Unavailable | None:
        """Why one more connection of ``kind`` from ``client`` is over a cap, or None."""
        total, per_client = self._caps(kind)
        what = "websockets" if kind == "websocket" else "event streams"
        if self.by_client[kind][client] >= per_client:
            return Unavailable(f"{client} has {per_client} {what} open, the most one client may")
        if self.open[kind] >= total:
            return Unavailable(f"{total} {what} are open, the most this server takes")
        return None

    def _log(self, refused: Unavailable) -> None:
        # A client hammering a cap must not flood the journal: one line per interval.
        now = time.monotonic()
        self._refused += 1
        if now - self._logged >= LOG_INTERVAL:
            log.warning("refused %d connection(s), the last: %s", self._refused, refused.message)
            self._logged, self._refused = now, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = self._kind(scope)
        if kind is None:
            await self.app(scope, receive, send)
            return
        client = str((scope.get("client") or ("local",))[0])
        refused = self.refusal(kind, client)
        if refused is not None:
            self._log(refused)
            await _refuse(scope, receive, send, refused)
            return
        self.open[kind] += 1
        self.by_client[kind][client] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.open[kind] -= 1
            counts = self.by_client[kind]
            counts[client] -= 1
            if counts[client] <= 0:
                del counts[client]  # a client that left costs nothing


async def _refuse(scope: Scope, receive: Receive, send: Send, error: Unavailable) -> None:
    body = dumps(problem_details(error, scope.get("path")))
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER).encode()),
    ]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return
    await receive()  # websocket.connect
    if "websocket.http.response" in (scope.get("extensions") or {}):
        # The handshake answered with a plain 503 (the ASGI denial-response extension).
        start = {"type": "websocket.http.response.start", "status": error.status}
        await send({**start, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body, "more_body": False})
    else:
        await send({"type": "websocket.close", "code": 1013})


def raise_file_limit(needed: int) -> int:
    """Raise this process's soft limit of open files to ``needed`` (up to the hard limit).

    Returns the soft limit now in force. Lowering is never done: whoever set a higher limit
    knew why.
    """
    try:
        import resource
    except ImportError:  # not on Unix: nothing to raise
        return needed
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return soft
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        log.warning(
            "the connection caps need %d open files but the hard limit is %d; "
            "raise it (LimitNOFILE=) or lower the caps",
            needed,
            hard,
        )
    return max(target, soft)
