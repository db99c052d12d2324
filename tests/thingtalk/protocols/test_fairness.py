"""One client must not hurt the others: bursts are paced, subscribers that fall behind get the
latest value of each property (never dropped for it, never out of order), only a subscriber
that stops reading entirely is closed (1013), and what one stuck client costs is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from tests.support import TIMEOUT, eventually, free_port, serving
from thingtalk import Limits, Property, Thing, Value, WebThingServer
from thingtalk.protocols.state import ServedThing, app_state

from .raw import CLOSE, PING, raw_socket

SET = '{{"messageType": "setProperty", "data": {{"count": {}}}}}'


class Counter(Thing):
    """A counter (any integer, so every write is a new value), a note, and a big event."""

    title = "Counter"
    id = "urn:dev:ops:counter"

    async def build(self) -> Counter:
        await self.add_property(Property("count", Value(0), {"type": "integer"}))
        await self.add_property(Property("note", Value(""), {"type": "string"}))
        await self.add_property(Property("other", Value(0), {"type": "integer"}))
        self.add_available_event("blob", {"type": "string"})
        return self


@contextlib.asynccontextmanager
async def counter_served(**limits: Any) -> AsyncIterator[tuple[Counter, ServedThing, str]]:
    thing = Counter()
    server = WebThingServer(
        thing, host="127.0.0.1", port=free_port(), discovery=False, limits=Limits(**limits)
    )
    async with serving(server) as base:
        yield thing, app_state(server.create()).served[0], base


def ws_url(base: str) -> str:
    return "ws" + base.removeprefix("http") + "/"


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


class Listener:
    """A websocket subscriber that reads everything and keeps the counts it heard."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.counts: list[int] = []
        self.closed: int | None = None
        self.task = asyncio.ensure_future(self._listen())

    async def _listen(self) -> None:
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                if message.get("messageType") == "propertyStatus" and "count" in message["data"]:
                    self.counts.append(message["data"]["count"])
        except websockets.ConnectionClosed as closed:
            self.closed = closed.rcvd.code if closed.rcvd else 1006
        else:
            self.closed = self.ws.close_code


def in_order(values: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


async def test_a_burst_from_one_client_drops_no_other_subscriber() -> None:
    # What once closed every other subscriber with 1013 after 255 messages.
    async with counter_served(message_rate=20_000, message_burst=1_000) as (thing, served, base):
        sockets = [await websockets.connect(ws_url(base)) for _ in range(10)]
        listeners = [Listener(ws) for ws in sockets]
        await eventually(lambda: len(served.hub.sessions) == 10)
        # A writer that reads nothing back (its library buffers it: max_queue=None).
        async with websockets.connect(ws_url(base), max_queue=None) as writer:
            for count in range(1, 3_001):
                await writer.send(SET.format(count))
            await eventually(lambda: all(lis.counts[-1:] == [3_000] for lis in listeners), 30)
        assert thing.get_property("count") == 3_000
        for listener in listeners:
            assert listener.closed is None
            assert in_order(listener.counts)  # conflated, never out of order
        for ws in sockets:
            await ws.close()


async def test_a_flood_is_paced_and_other_clients_get_their_turn() -> None:
    async with (
        counter_served(message_rate=40, message_burst=10) as (thing, _, base),
        websockets.connect(ws_url(base), max_queue=None) as flooder,
        httpx.AsyncClient(base_url=base) as http,
    ):
        for count in range(1, 121):
            await flooder.send(SET.format(count))
        # The flood is handled 40 a second (3 s at least); another client is answered meanwhile.
        response = await http.put("/properties/other", json={"other": 7})
        assert response.json() == {"other": 7}
        assert thing.get_property("count") < 120
        # And the flooder was slowed, not refused: every message is handled.
        await eventually(lambda: thing.get_property("count") == 120, 30)


async def test_a_subscriber_that_stops_reading_is_closed_with_1013() -> None:
    limits = {"subscriber_deadline": 0.5, "max_queued": 16, "max_queued_bytes": 128 * 1024}
    subscribe = '{"messageType": "addEventSubscription", "data": {"blob": {}}}'
    async with (
        counter_served(**limits) as (thing, served, base),
        raw_socket(port_of(base), receive_buffer=4096) as stuck,
    ):
        stuck.send(subscribe)
        await eventually(lambda: any(s.subscriptions for s in served.hub.sessions))
        [stuck_session] = served.hub.sessions
        async with websockets.connect(ws_url(base)) as reading:
            await reading.send(subscribe)
            await eventually(lambda: all(s.subscriptions for s in served.hub.sessions))
            stuck.pause()
            heard = 0
            blob = "x" * 16_384
            while stuck_session in served.hub.sessions:
                thing.raise_event("blob", blob)
                # What a stuck client holds stays bounded: its queue, never the history.
                assert len(stuck_session.outbox) <= 16
                message = json.loads(await asyncio.wait_for(reading.recv(), TIMEOUT))
                heard += message["messageType"] == "event"  # the other one hears them all
            assert heard > 16  # the stuck one was behind for a while before the deadline
            assert stuck_session.outbox.closed and len(stuck_session.outbox) == 0
            await reading.send(SET.format(5))  # the reading client was never dropped
            assert await _next_count(reading) == 5
        # The stuck client finds out why when it reads again: 1013, try again later.
        stuck.resume()
        assert await stuck.close_code() == 1013


async def _next_count(ws: Any) -> int:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if message["messageType"] == "propertyStatus" and "count" in message["data"]:
            count: int = message["data"]["count"]
            return count


async def test_a_slow_subscriber_gets_the_latest_values_and_stays() -> None:
    async with (
        # A deadline far longer than the test pauses the reader: it is slow, not stuck.
        counter_served(subscriber_deadline=60.0) as (thing, served, base),
        raw_socket(port_of(base), receive_buffer=8192) as slow,
    ):
        await eventually(lambda: len(served.hub.sessions) == 1)
        slow.pause()
        note = "n" * 16_000
        for count in range(1, 2_001):  # far more than it can take: ~32 MB of updates
            await thing.sync_property("note", f"{count:05d}{note}")
            await thing.sync_property("count", count)
            if count % 50 == 0:
                await asyncio.sleep(0)
        slow.resume()
        counts: list[int] = []
        notes: list[int] = []
        while counts[-1:] != [2_000] or notes[-1:] != [2_000]:
            opcode, payload = await slow.receive()
            assert opcode != CLOSE, "the slow subscriber was dropped"
            data = json.loads(payload)["data"]
            if "count" in data:
                counts.append(data["count"])
            else:
                notes.append(int(data["note"][:5]))
            if len(counts) % 20 == 0:
                await asyncio.sleep(0.01)  # slowly: the server must wait, not drop it
        assert in_order(counts) and in_order(notes)
        assert len(notes) < 2_000  # it got the latest, not every value
        assert len(served.hub.sessions) == 1


def read_request(correlation: int) -> str:
    request = {"messageType": "request", "operation": "readproperty", "name": "count"}
    return json.dumps({**request, "correlationID": str(correlation)})


async def test_pipelined_wtp_reads_all_get_their_answers() -> None:
    async with (
        counter_served(message_rate=50_000, message_burst=1_000) as (_, _, base),
        websockets.connect(ws_url(base), subprotocols=[Subprotocol("webthingprotocol")]) as ws,
    ):

        async def send_all() -> None:
            for i in range(2_000):
                await ws.send(read_request(i))

        sending = asyncio.ensure_future(send_all())
        answers = [json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)) for _ in range(2_000)]
        await sending
        assert [a["correlationID"] for a in answers] == [str(i) for i in range(2_000)]
        assert all(a["messageType"] == "response" and a["value"] == 0 for a in answers)


async def test_a_wtp_client_that_reads_no_answers_is_read_no_further() -> None:
    limits = {"message_rate": 50_000, "message_burst": 1_000, "max_replies": 8}
    async with (
        counter_served(**limits) as (_, _, base),
        raw_socket(port_of(base), subprotocol="webthingprotocol") as client,
    ):
        client.pause()
        for i in range(2_000):
            client.send(read_request(i))
        # The server stops reading once 8 answers wait: the rest stays in the kernel's buffers
        # (and the client's), not in the server's memory.
        answers = 0
        client.resume()
        while answers < 2_000:
            opcode, payload = await client.receive()
            assert opcode != CLOSE, "the client was dropped"
            assert json.loads(payload)["correlationID"] == str(answers)
            answers += 1


async def test_an_sse_stream_behind_gets_the_latest_and_a_stuck_one_ends() -> None:
    async with counter_served(subscriber_deadline=0.5) as (thing, served, base):
        port = port_of(base)
        slow_reader, slow = await open_stream(port, "/wot/sse/properties/count")
        _, stuck = await open_stream(port, "/wot/sse/events/blob", receive_buffer=4096)
        await eventually(lambda: len(served.journal.streams) == 2)
        stuck.transport.pause_reading()  # type: ignore[attr-defined]
        for count in range(1, 3_001):
            await thing.sync_property("count", count)
        blob = "x" * 16_384
        while len(served.journal.streams) == 2:
            thing.raise_event("blob", blob)
            await asyncio.sleep(0)
        body = b""
        while b"data: 3000\n" not in body:
            body += await asyncio.wait_for(slow_reader.read(1 << 16), TIMEOUT)
        seen = [int(value) for value in re.findall(rb"\ndata: (\d+)\n", body)]
        ids = [int(i) for i in re.findall(rb"id: \w+-(\d+)\n", body)]
        assert in_order(seen) and in_order(ids) and len(seen) < 3_000
        assert len(served.journal.streams) == 1  # the stuck one ended, the slow one stays
        for writer in (slow, stuck):
            writer.close()


async def open_stream(
    port: int, path: str, receive_buffer: int | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """An SSE response's reader and writer, past its headers."""
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"HTTP/1.1 200"), head
    return reader, writer


@pytest.mark.parametrize("subprotocol", [None, "webthingprotocol"])
async def test_an_oversized_message_is_refused_before_it_is_buffered(
    subprotocol: str | None,
) -> None:
    async with counter_served() as (_, _, base):
        async with raw_socket(port_of(base), subprotocol=subprotocol) as client:
            client.send("x" * (1 << 20))  # 1 MiB; the app takes 64 KiB
            assert await client.close_code() == 1009
        protocols = [Subprotocol(subprotocol)] if subprotocol else None
        async with websockets.connect(ws_url(base), subprotocols=protocols) as fits:
            await fits.send("x" * 60_000)  # under the limit: an error answer, not a close
            assert "error" in await asyncio.wait_for(fits.recv(), TIMEOUT)


async def test_idle_websockets_are_pinged() -> None:
    async with (
        counter_served(ping_interval=0.1) as (_, _, base),
        raw_socket(port_of(base)) as client,
    ):
        for _ in range(3):  # one as it opens, then one every interval
            opcode, _ = await client.receive(pings=True)
            assert opcode == PING
