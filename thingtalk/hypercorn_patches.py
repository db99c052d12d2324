"""Three changes to Hypercorn's websocket stream, made once per process by :func:`apply`.

Each fixes one behaviour of Hypercorn 0.17 and 0.18 (the range pyproject.toml allows) that a
server with many websocket clients cannot live with; each checks a marker so applying twice
changes nothing. They apply only when :class:`~thingtalk.server.WebThingServer` runs Hypercorn
itself (not under the ``hypercorn`` command).
"""

from __future__ import annotations

import asyncio
from typing import Any


def apply() -> None:
    """Make all three changes (idempotent)."""
    _keep_no_more_of_oversized_messages()
    _stop_pinging_closed_websockets()
    _frame_plain_text_messages()


def _keep_no_more_of_oversized_messages() -> None:
    """Make Hypercorn keep nothing of a websocket message once it refused it as too big.

    Hypercorn (0.17, 0.18) answers a message over ``websocket_max_message_size`` with 1009
    but goes on appending the rest of it to its buffer while it waits for the client's close:
    twenty clients each sending 10 MB still cost 200 MB. Its buffer is swapped (once, for the
    process) for one that refuses a part that would go over the limit without keeping it.
    """
    from hypercorn.protocol import ws_stream

    buffer: Any = ws_stream.WebsocketBuffer
    if getattr(buffer, "keeps_no_more", False):
        return

    class CappedBuffer(buffer):  # type: ignore[misc]
        keeps_no_more = True

        def extend(self, event: Any) -> None:
            if self.length + len(event.data) > self.max_length:
                raise ws_stream.FrameTooLargeError()
            super().extend(event)

    ws_stream.WebsocketBuffer = CappedBuffer  # type: ignore[misc]


def _stop_pinging_closed_websockets() -> None:
    """Make Hypercorn stop pinging a websocket as soon as it closes.

    Hypercorn (0.17, 0.18) pings in a loop that looks at the stream only after each
    ``websocket_ping_interval`` sleep, so a closed websocket's connection (and its file
    descriptor) lingers for up to the interval, and a server that stops waits for that until
    its graceful timeout cancels it (with a traceback). The pinging task is cancelled (once,
    for the process) when the stream is marked closed.
    """
    from hypercorn.protocol import ws_stream

    stream: Any = ws_stream.WSStream
    if getattr(stream, "stops_pinging_when_closed", False):
        return
    pings = stream._send_pings

    async def send_pings(self: Any) -> None:
        self.__dict__["_pinging"] = asyncio.current_task()
        try:
            await pings(self)
        except asyncio.CancelledError:
            if not self.closed:
                raise

    def is_closed(self: Any) -> bool:
        return bool(self.__dict__.get("_closed", False))

    def set_closed(self: Any, closed: bool) -> None:
        self.__dict__["_closed"] = closed
        pinging = self.__dict__.get("_pinging")
        if closed and pinging is not None and pinging is not asyncio.current_task():
            pinging.cancel()

    stream._send_pings = send_pings
    stream.closed = property(is_closed, set_closed)
    stream.stops_pinging_when_closed = True


def _frame_plain_text_messages() -> None:
    """Make Hypercorn frame a websocket text message itself when no extension is in use.

    Hypercorn (0.17, 0.18) hands every message to wsproto's general framing: event objects,
    enum arithmetic, extension hooks and three copies of the payload. A fan-out sends the same
    short text to every subscriber, and this was a fifth of its cost per subscriber. With no
    extension (the client offered none, so no permessage-deflate) a server's frame of a whole
    text message is just a header (FIN and opcode, then the length in 1, 3 or 9 bytes; no
    mask) and the UTF-8 payload: these bytes, the same wsproto makes, go straight to the
    stream's send. Anything else (bytes, a closing socket, a client with extensions, the
    handshake, close) takes Hypercorn's own way. Swapped once, for the process.
    """
    from hypercorn.protocol import ws_stream
    from hypercorn.protocol.events import Data
    from wsproto.connection import ConnectionState

    stream: Any = ws_stream.WSStream
    if getattr(stream, "frames_plain_text", False):
        return
    app_send = stream.app_send
    connected = ws_stream.ASGIWebsocketState.CONNECTED

    async def send(self: Any, message: Any) -> None:
        if (
            message is not None
            and message["type"] == "websocket.send"
            and message.get("bytes") is None
            and isinstance(text := message.get("text"), str)
            and self.state == connected
            and self.handshake.extensions is None
            and not self.closed
            and self.connection.state is ConnectionState.OPEN
        ):
            payload = text.encode()
            await self.send(
                Data(stream_id=self.stream_id, data=text_frame_head(len(payload)) + payload)
            )
        else:
            await app_send(self, message)

    stream.app_send = send
    stream.frames_plain_text = True


def text_frame_head(size: int) -> bytes:
    """The header of a server's (unmasked) websocket frame of a whole text message of
    ``size`` bytes (RFC 6455 section 5.2)."""
    if size < 126:
        return bytes((0x81, size))
    if size < 1 << 16:
        return bytes((0x81, 126)) + size.to_bytes(2, "big")
    return bytes((0x81, 127)) + size.to_bytes(8, "big")
