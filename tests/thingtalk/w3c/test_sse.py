"""The HTTP SSE profile, served: framing, ids, Last-Event-ID resumption, keepalives, cleanup."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tests.support import TIMEOUT, eventually, free_port, lamp_server, serving
from thingtalk import WebThingServer
from thingtalk.protocols.state import app_state


class Events:
    """An open event stream, parsed into messages (dicts of fields) and comments."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()
        self.comments: list[str] = []

    async def next(self, within: float = TIMEOUT) -> dict[str, str]:
        """The next message (comments are collected on the way)."""
        message: dict[str, str] = {}
        async with asyncio.timeout(within):
            async for line in self.lines:
                if line == "":
                    if "data" in message:
                        return message
                    message = {}  # e.g. the opening `retry:`, which dispatches nothing
                elif line.startswith(":"):
                    self.comments.append(line[1:].strip())
                else:
                    field, _, value = line.partition(":")
                    message[field] = value[1:] if value.startswith(" ") else value
        raise AssertionError("the stream ended")


@contextlib.asynccontextmanager
async def events(
    client: httpx.AsyncClient, url: str, last_event_id: str | None = None
) -> AsyncIterator[Events]:
    headers = {"Accept": "text/event-stream"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    async with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        stream = Events(response)
        yield stream


@contextlib.asynccontextmanager
async def served(**options: Any) -> AsyncIterator[tuple[str, httpx.AsyncClient, WebThingServer]]:
    server = lamp_server(host="127.0.0.1", port=free_port(), **options)
    async with serving(server) as base, httpx.AsyncClient(timeout=TIMEOUT) as client:
        yield base, client, server


def stream_count(server: WebThingServer) -> int:
    assert server.app is not None
    return sum(len(s.journal.streams) for s in app_state(server.app).served)


async def test_observeproperty_sends_unnamed_messages_with_ids() -> None:
    async with (
        served() as (base, client, server),
        events(client, f"{base}/wot/sse/properties/brightness") as stream,
    ):
        await eventually(lambda: stream_count(server) == 1)
        await client.put(f"{base}/wot/properties/on", json=False)  # another property: not here
        await client.put(f"{base}/wot/properties/brightness", json=30)
        first = await stream.next()
        assert "event" not in first
        assert first["data"] == "30"
        await client.put(f"{base}/wot/properties/brightness", json=31)
        second = await stream.next()
        assert second["data"] == "31"
        epoch, _, seq = first["id"].partition("-")
        assert second["id"] == f"{epoch}-{int(seq) + 1}"


async def test_observeallproperties_names_each_message() -> None:
    async with (
        served() as (base, client, server),
        events(client, f"{base}/wot/sse/properties") as stream,
    ):
        await eventually(lambda: stream_count(server) == 1)
        await client.put(f"{base}/wot/properties", json={"on": False, "brightness": 5})
        got = [await stream.next(), await stream.next()]
    assert [(m["event"], m["data"]) for m in got] == [("on", "false"), ("brightness", "5")]


async def test_subscribeevent_and_subscribeallevents() -> None:
    async with (
        served() as (base, client, server),
        events(client, f"{base}/wot/sse/events/overheated") as one,
        events(client, f"{base}/wot/sse/events") as every,
    ):
        await eventually(lambda: stream_count(server) == 2)
        response = await client.post(
            f"{base}/wot/actions/fade", json={"brightness": 80, "duration": 1}
        )
        assert response.status_code == 201
        message = await one.next()
        assert "event" not in message and message["data"] == "102"
        named = await every.next()
        assert (named["event"], named["data"]) == ("overheated", "102")


async def test_last_event_id_replays_what_was_missed() -> None:
    async with served() as (base, client, server):
        url = f"{base}/wot/sse/properties/brightness"
        async with events(client, url) as stream:
            await eventually(lambda: stream_count(server) == 1)
            await client.put(f"{base}/wot/properties/brightness", json=1)
            seen = await stream.next()
        await eventually(lambda: stream_count(server) == 0)
        # Away: changes happen meanwhile (one to another property, not for this stream).
        for value in (2, 3):
            await client.put(f"{base}/wot/properties/brightness", json=value)
        await client.put(f"{base}/wot/properties/on", json=False)
        async with events(client, url, last_event_id=seen["id"]) as stream:
            replayed = [await stream.next(), await stream.next()]
            assert [m["data"] for m in replayed] == ["2", "3"]
            await eventually(lambda: stream_count(server) == 1)
            await client.put(f"{base}/wot/properties/brightness", json=4)
            assert (await stream.next())["data"] == "4"
        # An id of another run (or garbage) replays nothing.
        async with events(client, url, last_event_id="deadbeef-1") as stream:
            await eventually(lambda: stream_count(server) == 1)
            await client.put(f"{base}/wot/properties/brightness", json=5)
            assert (await stream.next())["data"] == "5"


async def test_idle_streams_get_keepalive_comments() -> None:
    async with served() as (base, client, server):
        server.options.sse_keepalive = 0.05
        async with events(client, f"{base}/wot/sse/events") as stream:
            await eventually(lambda: stream_count(server) == 1)

            async def keepalive_seen() -> bool:
                with contextlib.suppress(TimeoutError):
                    await stream.next(within=0.2)
                return "keepalive" in stream.comments

            await eventually(keepalive_seen)


async def test_clients_that_leave_are_forgotten() -> None:
    async with served() as (base, client, server):
        for _ in range(3):
            async with events(client, f"{base}/wot/sse/properties"):
                await eventually(lambda: stream_count(server) == 1)
            await eventually(lambda: stream_count(server) == 0)
        # A change after they left goes nowhere and breaks nothing.
        response = await client.put(f"{base}/wot/properties/brightness", json=9)
        assert response.status_code == 204


async def test_unknown_affordances_are_404_problems_not_streams() -> None:
    async with served() as (base, client, _):
        for path in ("wot/sse/properties/volume", "wot/sse/events/exploded"):
            response = await client.get(f"{base}/{path}")
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/problem+json"
