"""The run loop both websocket protocols share: receive, send a bounded queue, close the slow."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from quart import websocket

# Close codes (RFC 6455): 1001 going away (the server stops), 1013 try again later (the
# client was too slow).
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_SLOW = 1013


async def pump(
    receive: Coroutine[Any, Any, None],
    queue: asyncio.Queue[str],
    overflowed: asyncio.Event,
    stopping: asyncio.Event,
    sent: Callable[[], None] | None = None,
) -> None:
    """Run a socket: its receive loop, and its send queue drained to the client, until the
    client leaves, falls so far behind that its queue overflowed (then close it, 1013), or
    the server is ``stopping`` (close it at once, 1001, rather than be cancelled later).
    ``sent`` is called after each message went out."""

    async def send() -> None:
        while True:
            await websocket.send(await queue.get())
            if sent is not None:
                sent()

    tasks = [
        asyncio.ensure_future(receive),
        asyncio.ensure_future(send()),
        asyncio.ensure_future(overflowed.wait()),
        asyncio.ensure_future(stopping.wait()),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if tasks[3] in done:
            await websocket.close(CLOSE_GOING_AWAY, "the server is stopping")
        elif tasks[2] in done:
            await websocket.close(CLOSE_TOO_SLOW, "too slow to keep up")
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
