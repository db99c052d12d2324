"""The fan-out's send path: whole frames of any length whether Hypercorn or thingtalk frames
them, everything queued sent in order, the outbox's waiting, and the send deadline's timer."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from wsproto.frame_protocol import FrameProtocol

from tests.support import TIMEOUT, eventually, free_port, serving
from thingtalk import Property, Thing, Value, WebThingServer
from thingtalk.hypercorn_patches import text_frame_head
from thingtalk.protocols.deadline import SendDeadline
from thingtalk.protocols.outbox import Outbox
from thingtalk.protocols.state import ServedThing, app_state

from .raw import TEXT, RawSocket, raw_socket

SUBSCRIBE = '{"messageType": "addEventSubscription", "data": {"tick": {}}}'


class Notes(Thing):
    """A note of any length and a counting event."""

    title = "Notes"
    id = "urn:dev:ops:notes"

    async def build(self) -> Notes:
        await self.add_property(Property("note", Value("-"), {"type": "string"}))
        await self.add_property(Property("count", Value(0), {"type": "integer"}))
        self.add_available_event("tick", {"type": "integer"})
        return self


@contextlib.asynccontextmanager
async def notes_served() -> AsyncIterator[tuple[Notes, ServedThing, int]]:
    thing = Notes()
    port = free_port()
    server = WebThingServer(thing, host="127.0.0.1", port=port, discovery=False)
    async with serving(server):
        yield thing, app_state(server.create()).served[0], port


async def raw_message(raw: RawSocket) -> dict[str, Any]:
    opcode, payload = await raw.receive()
    assert opcode == TEXT, f"opcode {opcode}: the socket ended"
    message: dict[str, Any] = json.loads(payload)
    return message


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65_535, 65_536, 100_000])
def test_the_text_frame_head_is_the_one_wsproto_makes(size: int) -> None:
    payload = "x" * size
    made = FrameProtocol(client=False, extensions=[]).send_data(payload)
    assert text_frame_head(size) + payload.encode() == made


async def test_every_length_arrives_whole_framed_either_way() -> None:
    async with (
        notes_served() as (thing, served, port),
        raw_socket(port) as raw,  # offers no extension: thingtalk frames its messages
        websockets.connect(f"ws://127.0.0.1:{port}/") as deflating,  # Hypercorn frames them
    ):
        await eventually(lambda: len(served.hub.sessions) == 2)
        assert b"sec-websocket-extensions" not in raw.headers.lower()
        assert deflating.protocol.extensions  # permessage-deflate
        await thing.sync_property("note", "")
        opcode, payload = await raw.receive()
        assert opcode == TEXT
        overhead = len(payload)  # the message around an empty note
        assert json.loads(await deflating.recv())["data"] == {"note": ""}
        # Whole payloads at each length encoding's limits (RFC 6455: up to 125 bytes, up to
        # 65,535, more), in one-byte and two-byte characters: a length in characters (not
        # UTF-8 bytes) would be wrong.
        for total in (125, 126, 127, 65_535, 65_536, 70_000):
            for wide in (False, True):
                room = total - overhead
                note = "é" * (room // 2) + "x" * (room % 2) if wide else "x" * room
                await thing.sync_property("note", note)
                opcode, payload = await raw.receive()
                assert (opcode, len(payload)) == (TEXT, total)
                assert json.loads(payload)["data"] == {"note": note}
                assert json.loads(await deflating.recv())["data"] == {"note": note}


async def test_everything_queued_at_once_arrives_in_order() -> None:
    async with notes_served() as (thing, served, port), raw_socket(port) as raw:
        raw.send(SUBSCRIBE)
        await eventually(lambda: any(s.subscriptions for s in served.hub.sessions))
        # A burst: the socket's sender takes whatever it finds queued in one run.
        for tick in range(1, 101):
            thing.raise_event("tick", tick)
            await thing.sync_property("count", tick)
        ticks: list[int] = []
        counts: list[int] = []
        while ticks[-1:] != [100] or counts[-1:] != [100]:
            message = await raw_message(raw)
            if message["messageType"] == "event":
                ticks.append(message["data"]["tick"]["data"])
            else:
                counts.append(message["data"]["count"])
        assert ticks == list(range(1, 101))  # every event, in order
        assert counts == sorted(set(counts))  # the latest value, never out of order


async def test_the_outbox_wakes_its_reader_and_ends_it_when_closed() -> None:
    outbox: Outbox[str] = Outbox(max_queued=4, max_queued_bytes=1024, max_replies=4)
    assert outbox.take() is None
    reader = asyncio.ensure_future(outbox.get())
    await asyncio.sleep(0)  # the reader waits
    outbox.put("one")
    outbox.put_state("count", "two")
    assert await asyncio.wait_for(reader, TIMEOUT) == "one"
    assert outbox.take() == "two"
    assert outbox.take() is None
    ending = asyncio.ensure_future(outbox.get())
    await asyncio.sleep(0)
    outbox.close()
    assert await asyncio.wait_for(ending, TIMEOUT) is None


async def test_a_reader_cancelled_while_waiting_leaves_the_outbox_usable() -> None:
    outbox: Outbox[str] = Outbox(max_queued=4, max_queued_bytes=1024, max_replies=4)
    cancelled = asyncio.ensure_future(outbox.wait())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    reader = asyncio.ensure_future(outbox.get())
    await asyncio.sleep(0)
    outbox.put("after")
    assert await asyncio.wait_for(reader, TIMEOUT) == "after"


async def test_a_send_that_never_ends_times_out() -> None:
    async def hung_send() -> None:
        with SendDeadline(0.05) as deadline:
            deadline.start()
            await asyncio.get_running_loop().create_future()  # the client reads nothing

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(hung_send(), TIMEOUT)


async def test_the_deadline_is_each_sends_own() -> None:
    # The timer's firings are made by hand (_check), so no test waits on the clock.
    with pytest.raises(TimeoutError), SendDeadline(60) as deadline:
        deadline.start()
        deadline.stop()  # the first send is over: the timer armed for it finds nothing
        deadline._check()
        assert deadline._timer is None  # an idle socket's timer sleeps
        deadline.start()
        deadline.stop()
        deadline.start()  # a later send is going on when the timer armed at the first fires
        deadline._check()
        await asyncio.sleep(0)
        assert deadline._timer is not None  # not cancelled: armed again for this send
        deadline._check()  # this send is still going on when its own time is up
        await asyncio.sleep(0)


async def test_a_cancellation_besides_the_deadline_stays_a_cancellation() -> None:
    async def send() -> None:
        with SendDeadline(60) as deadline:
            deadline.start()
            deadline._check()  # the send is still going on: the task is cancelled
            current = asyncio.current_task()
            assert current is not None
            current.cancel()  # and by someone else as well
            await asyncio.sleep(0)

    task = asyncio.ensure_future(send())
    with pytest.raises(asyncio.CancelledError):
        await task
