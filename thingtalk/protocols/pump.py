"""The run loop both websocket protocols share: receive, send a bounded queue, close the slow."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from quart import websocket

# Close codes (RFC 6455): 1013 try again later (the client was too slow).
CLOSE_TOO_SLOW = 1013


async def pump(
    receive: Coroutine[Any, Any, None],
    queue: asyncio.Queue[str],
    overflowed: asyncio.Event,
    sent: Callable[[], None] | None = None,
) -> None:
    """Run a socket: its receive loop, and its send queue drained to the client, until the
    client leaves or falls so far behind that its queue overflowed (then close it, 1013).
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
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if tasks[2] in done:
            await websocket.close(CLOSE_TOO_SLOW, "too slow to keep up")
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
