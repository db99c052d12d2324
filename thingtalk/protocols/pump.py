"""The run loop both websocket protocols share: a paced receive loop and a send loop with a
deadline, so that no client can take more than its share or hold the server's memory.

- **In**: each message is handled only when the client's :class:`Pace` allows (a token
  bucket: ``message_rate`` a second, ``message_burst`` at once) and when its answers have
  room in its :class:`~.outbox.Outbox`; meanwhile nothing more is read from it. Quart's own
  inbox is bounded (:class:`BoundedWebsocketConnection`), so a client that sends faster is
  held back by TCP instead of filling the server's memory, and the other clients still get
  their turn.
- **Out**: the outbox is drained to the client, everything found in one run, each message
  straight to the server's ASGI ``send`` (:class:`PumpedWebsocket`). A send that makes no
  progress for ``subscriber_deadline`` seconds means the client stopped reading: it is
  closed with 1013 (:class:`~.deadline.SendDeadline`: one timer per socket, not per message).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

from hypercorn.typing import ASGISendCallable
from quart import websocket
from quart.asgi import ASGIWebsocketConnection
from quart.signals import websocket_received, websocket_sent
from quart.wrappers import Websocket
from werkzeug.local import LocalProxy

from ..limits import Limits
from .deadline import SendDeadline
from .outbox import Outbox

log = logging.getLogger(__name__)

# Close codes (RFC 6455): 1001 going away (the server stops), 1013 try again later (the
# client stopped reading).
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_SLOW = 1013
#: Messages Quart may hold for a socket before it stops reading from the server.
INBOX_SIZE = 4
#: How long a close frame may take to leave before the socket is given up on.
CLOSE_TIMEOUT = 1.0


class BoundedWebsocketConnection(ASGIWebsocketConnection):
    """Quart's websocket connection with a bounded inbox (Quart's own is unbounded).

    With room for a few messages only, a client that sends faster than its messages are
    handled fills this, then the server's queue, then its TCP window: the backpressure
    reaches the client instead of the server's memory.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = asyncio.Queue(INBOX_SIZE)

    async def handle_messages(self, receive: Any) -> None:
        # Quart's own takes `bytes or text`: an empty binary frame then becomes None (or a
        # KeyError), which ends the socket. An empty frame is just an empty message.
        while True:
            event = await receive()
            if event["type"] == "websocket.receive":
                data = event.get("bytes")
                message = data if data is not None else event.get("text") or ""
                await websocket_received.send_async(message)
                await self.queue.put(message)
            elif event["type"] == "websocket.disconnect":
                return

    def _create_websocket_from_scope(self, send: ASGISendCallable) -> Websocket:
        websocket = super()._create_websocket_from_scope(send)
        if isinstance(websocket, PumpedWebsocket):
            websocket.asgi_send = send
        return websocket


class PumpedWebsocket(Websocket):
    """Quart's websocket with a send for the pump's send loop.

    Quart's ``send`` first yields to the loop (so that a loop of sends cannot starve the
    others), accepts the socket again (building a header set), then goes through two more
    coroutines to the server's ASGI ``send`` (the second to tell the ``websocket_sent``
    signal, awaited even when nobody listens): for a fan-out, one more task step and a few
    more objects per subscriber per change. The pump sends only on an accepted socket and
    yields whenever its (bounded) outbox is empty, so it needs none of it.
    """

    #: The server's ASGI ``send`` (set by :class:`BoundedWebsocketConnection`).
    asgi_send: ASGISendCallable | None = None

    async def send_accepted(self, text: str) -> None:
        """Send ``text`` on this accepted socket at once."""
        assert self.asgi_send is not None, "made by BoundedWebsocketConnection"
        await self.asgi_send({"type": "websocket.send", "bytes": None, "text": text})
        if websocket_sent.receivers:
            await websocket_sent.send_async(text)


class Pace:
    """A token bucket: ``rate`` messages a second on average, up to ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.last = asyncio.get_running_loop().time()

    async def wait(self) -> None:
        """Take one token, sleeping until there is one; always lets the loop run others."""
        now = asyncio.get_running_loop().time()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            await asyncio.sleep(0)  # one message, then the other clients' turn
            return
        await asyncio.sleep((1 - self.tokens) / self.rate)
        self.last = asyncio.get_running_loop().time()
        self.tokens = 0.0


async def pump(
    handle: Callable[[str | bytes], Awaitable[None]],
    outbox: Outbox[str],
    limits: Limits,
    stopping: asyncio.Event,
    sending: Callable[[bool], None] | None = None,
) -> None:
    """Run a socket until the client leaves, stops reading (then close it, 1013), the server
    drops it (``outbox.close()``), or the server is ``stopping`` (close it at once, 1001,
    rather than be cancelled later). ``sending(True)`` is told as each message is taken from
    the outbox, ``sending(False)`` when the outbox is empty and all taken was sent."""
    pace = Pace(limits.message_rate, limits.message_burst)

    async def receive() -> None:
        while True:
            raw = await websocket.receive()
            await pace.wait()
            await outbox.room()
            if outbox.closed:
                return
            await handle(raw)

    async def send() -> None:
        # Resolved once: Quart's proxy is looked up through the context on every use.
        socket = cast("LocalProxy[Websocket]", websocket)._get_current_object()
        # (Quart's own send when a program swapped the app's websocket class.)
        send_message = socket.send_accepted if isinstance(socket, PumpedWebsocket) else socket.send
        with SendDeadline(limits.subscriber_deadline) as deadline:
            # Everything queued goes in one run, without yielding between messages: the
            # outbox is bounded, and only grows while this waits. The loop turns to the
            # others when the outbox is empty or the client's connection is full.
            while True:
                message = outbox.take()
                if message is None:
                    if sending is not None:
                        sending(False)
                    if outbox.closed:
                        return
                    await outbox.wait()
                    continue
                if sending is not None:
                    sending(True)
                deadline.start()
                await send_message(message)
                deadline.stop()

    receiving = asyncio.ensure_future(receive())
    sender = asyncio.ensure_future(send())
    stopped = asyncio.ensure_future(stopping.wait())
    try:
        done, _ = await asyncio.wait(
            [receiving, sender, stopped], return_when=asyncio.FIRST_COMPLETED
        )
        if stopped in done:
            await _close(CLOSE_GOING_AWAY, "the server is stopping")
        elif sender in done:
            error = sender.exception()
            if isinstance(error, TimeoutError):
                log.info(
                    "closed a websocket of %s: nothing it was sent left for %.0f s",
                    websocket.remote_addr,
                    limits.subscriber_deadline,
                )
            elif error is not None:
                raise error
            await _close(CLOSE_TOO_SLOW, "too slow to keep up")
        elif receiving.exception() is not None:
            raise receiving.exception()  # type: ignore[misc]
    finally:
        if outbox.dropped:
            log.info("a websocket of %s missed %d events", websocket.remote_addr, outbox.dropped)
        outbox.close()
        for task in (receiving, sender, stopped):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(receiving, sender, stopped, return_exceptions=True)


async def _close(code: int, reason: str) -> None:
    # A client that reads nothing cannot take a close frame either; don't wait on it forever
    # (the kernel ends the connection, see WebThingServer's TCP_USER_TIMEOUT).
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await websocket.close(code, reason)
