"""A raw websocket client that can stop reading: what a stuck or slow client looks like.

Client libraries keep reading the socket into their own buffers whatever the application
does, so a client that "stops reading" must be made at the socket: this one can pause its
transport, and reads frames only when asked.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

from tests.support import TIMEOUT

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def frame(payload: bytes, opcode: int = TEXT) -> bytes:
    """A masked client frame."""
    key = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, 0x80 | size])
    elif size < 1 << 16:
        head = bytes([0x80 | opcode, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + size.to_bytes(8, "big")
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


class RawSocket:
    """One websocket connection, read only when asked to."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.status = 0
        self.headers = b""

    async def handshake(self, path: str, host: str, subprotocol: str | None = None) -> int:
        """Send the upgrade request; the status of the answer (101 when accepted)."""
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if subprotocol:
            lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.headers = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        self.status = int(self.headers.split(b" ", 2)[1])
        return self.status

    def send(self, text: str | bytes, opcode: int = TEXT) -> None:
        """Queue a frame (``bytes`` go as they are, so they may be any bytes at all)."""
        self.writer.write(frame(text.encode() if isinstance(text, str) else text, opcode))

    def pause(self) -> None:
        """Stop reading from the socket: the kernel's buffers fill, then the server waits."""
        transport: Any = self.writer.transport
        transport.pause_reading()

    def resume(self) -> None:
        """Read from the socket again."""
        transport: Any = self.writer.transport
        transport.resume_reading()

    async def receive(self, within: float = TIMEOUT, *, pings: bool = False) -> tuple[int, bytes]:
        """The next frame's ``(opcode, payload)``; ``(CLOSE, b"")`` once the connection ends.

        Pings (the server sends one when the socket opens) are skipped unless ``pings``.
        """
        try:
            async with asyncio.timeout(within):
                while True:
                    head = await self.reader.readexactly(2)
                    size = head[1] & 0x7F
                    if size == 126:
                        size = int.from_bytes(await self.reader.readexactly(2), "big")
                    elif size == 127:
                        size = int.from_bytes(await self.reader.readexactly(8), "big")
                    opcode, payload = head[0] & 0x0F, await self.reader.readexactly(size)
                    if pings or opcode not in (PING, PONG):
                        return opcode, payload
        except (asyncio.IncompleteReadError, ConnectionError):
            return CLOSE, b""

    async def close_code(self, within: float = TIMEOUT) -> int | None:
        """Read up to the close frame and return its code (None if the connection just ended)."""
        while True:
            opcode, payload = await self.receive(within)
            if opcode == CLOSE:
                return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None

    def close(self) -> None:
        """Drop the connection."""
        self.writer.close()


async def open_raw(
    port: int,
    path: str = "/",
    *,
    subprotocol: str | None = None,
    source: str = "127.0.0.1",
    receive_buffer: int | None = None,
) -> RawSocket:
    """A raw websocket to ``127.0.0.1:port`` from ``source`` (any 127.x address), handshake
    sent and answered (its ``status`` says how)."""
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.bind((source, 0))
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 20)
    except BaseException:
        sock.close()
        raise
    raw = RawSocket(reader, writer)
    try:
        await raw.handshake(path, f"127.0.0.1:{port}", subprotocol)
    except BaseException:
        raw.close()
        raise
    return raw


@contextlib.asynccontextmanager
async def raw_socket(port: int, path: str = "/", **options: Any) -> AsyncIterator[RawSocket]:
    """An accepted raw websocket (see :func:`open_raw`), closed at the end."""
    raw = await open_raw(port, path, **options)
    try:
        assert raw.status == 101, raw.headers
        yield raw
    finally:
        raw.close()
