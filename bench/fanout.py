"""Websocket fan-out: N subscribers on the lamp's websocket; PUT brightness, time each arrival.

The subscribers are a minimal websocket client on ``asyncio.Protocol`` (server frames are small
and unmasked) that stamps each frame the moment its bytes arrive, so the client adds as little
as possible to the delay it measures. The PUT goes over a keep-alive HTTP connection from the
same process; the delay is from just before the PUT is written to each subscriber's frame.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from dataclasses import dataclass, field
from typing import cast

from .servers import PATH

ROUND_TIMEOUT = 2.0  # a propertyStatus later than this counts as lost
CONNECT_TIMEOUT = 10.0
CLIENT_ADDRESSES = 50  # subscribers connect from 127.0.0.2 to 127.0.0.51


def read_frames(buffer: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """The complete (unmasked, server-sent) websocket frames at the start of ``buffer``, as
    ``(opcode, payload)``, and what is left of it."""
    frames: list[tuple[int, bytes]] = []
    while len(buffer) >= 2:
        opcode, length, offset = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
        if length == 126:
            if len(buffer) < 4:
                break
            length, offset = int.from_bytes(buffer[2:4], "big"), 4
        elif length == 127:
            if len(buffer) < 10:
                break
            length, offset = int.from_bytes(buffer[2:10], "big"), 10
        if len(buffer) < offset + length:
            break
        frames.append((opcode, buffer[offset : offset + length]))
        buffer = buffer[offset + length :]
    return frames, buffer


@dataclass
class FanoutResult:
    """Delays and losses of one fan-out run."""

    subscribers: int
    rounds: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    lost: int
    closed: int


class Subscriber(asyncio.Protocol):
    """One websocket client that records when each brightness propertyStatus arrived."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.open = asyncio.get_running_loop().create_future()
        self.handshaken = False
        self.closed = False
        self.arrivals: dict[int, float] = {}  # brightness -> perf_counter when it arrived
        self.waiter: asyncio.Future[None] | None = None
        self.expected: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            (
                f"GET / HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if not self.handshaken:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            if not head.startswith(b"HTTP/1.1 101"):
                self.open.set_exception(ConnectionError(head.decode(errors="replace")))
                return
            self.handshaken = True
            self.buffer = rest
            self.open.set_result(None)
        self._frames(now)

    def _frames(self, now: float) -> None:
        frames, self.buffer = read_frames(self.buffer)
        for opcode, payload in frames:
            if opcode == 1 and b"propertyStatus" in payload:
                value = json.loads(payload)["data"].get("brightness")
                if isinstance(value, int):
                    self.arrivals.setdefault(value, now)
                    if value == self.expected and self.waiter and not self.waiter.done():
                        self.waiter.set_result(None)
            elif opcode == 8:
                self.closed = True

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.open.done():
            self.open.set_exception(exc or ConnectionError("closed during the handshake"))
        if self.waiter and not self.waiter.done():
            self.waiter.set_result(None)

    def expect(self, value: int) -> asyncio.Future[None]:
        """A future done when ``value`` has arrived (or the socket closed)."""
        self.expected = value
        self.waiter = asyncio.get_running_loop().create_future()
        self.arrivals.pop(value, None)
        if self.closed:
            self.waiter.set_result(None)
        return self.waiter

    def close(self) -> None:
        """Drop the connection."""
        if self.transport is not None:
            self.transport.close()


@dataclass
class Writer:
    """A keep-alive HTTP connection that PUTs brightness values (the fan-out's and the soak's)."""

    port: int
    path: str
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    async def put(self, value: int) -> float:
        """PUT ``value``; when it was sent (perf_counter)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        body = json.dumps({"brightness": value}).encode()
        request = (
            f"PUT {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        sent = time.perf_counter()
        self.writer.write(request)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            self.statuses[0] = self.statuses.get(0, 0) + 1  # 0: no answer
            self.close()
            return sent
        status = int(head.split(b" ", 2)[1])
        self.statuses[status] = self.statuses.get(status, 0) + 1
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                await self.reader.readexactly(int(value))
            elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
                self.close()  # the server's keep-alive limit (1,000 requests): connect again
        self.latencies.append(time.perf_counter() - sent)
        return sent

    def close(self) -> None:
        """Drop the connection (the next PUT opens another)."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def connect(port: int, count: int, subscribers: list[Subscriber], batch: int = 50) -> None:
    """Open ``count`` websockets into ``subscribers``, ``batch`` at a time (finite backlog)."""
    loop = asyncio.get_running_loop()
    host = f"127.0.0.1:{port}"
    for start in range(0, count, batch):
        made = await asyncio.gather(
            *(
                loop.create_connection(
                    lambda: Subscriber(host),
                    "127.0.0.1",
                    port,
                    # From many addresses, as subscribers in a home would be: the server caps
                    # the websockets of each client address (32 by default).
                    local_addr=(f"127.0.0.{2 + (start + i) % CLIENT_ADDRESSES}", 0),
                )
                for i in range(min(batch, count - start))
            )
        )
        group = [protocol for _, protocol in made]
        subscribers.extend(group)
        await asyncio.wait_for(asyncio.gather(*(s.open for s in group)), CONNECT_TIMEOUT)


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values`` (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def fanout(port: int, subscribers: int, rounds: int) -> FanoutResult:
    """Connect ``subscribers`` websockets, PUT ``rounds`` new brightness values, collect delays."""
    clients: list[Subscriber] = []
    putter = Writer(port, PATH)
    delays: list[float] = []
    lost = 0
    try:
        await connect(port, subscribers, clients)
        await asyncio.sleep(0.2)  # let every session join the hub before the first PUT
        for index in range(rounds):
            value = (index * 37 + 1) % 101  # every round differs from the one before
            waiters = [c.expect(value) for c in clients]
            started = await putter.put(value)
            _, pending = await asyncio.wait(waiters, timeout=ROUND_TIMEOUT)
            for waiter in pending:
                waiter.cancel()
            for client in clients:
                arrived = client.arrivals.get(value)
                if arrived is None:
                    lost += 1
                else:
                    delays.append(arrived - started)
    finally:
        closed = sum(1 for c in clients if c.closed)  # closed by the server (e.g. too slow)
        putter.close()
        for client in clients:
            client.close()
    bad_puts = sum(n for status, n in putter.statuses.items() if status != 200)
    if bad_puts:
        raise RuntimeError(f"{bad_puts} PUTs did not answer 200")
    return FanoutResult(
        subscribers=subscribers,
        rounds=rounds,
        p50_ms=percentile(delays, 50) * 1000,
        p99_ms=percentile(delays, 99) * 1000,
        max_ms=max(delays, default=float("nan")) * 1000,
        lost=lost,
        closed=closed,
    )
