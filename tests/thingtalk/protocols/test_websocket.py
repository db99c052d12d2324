"""The WebThings websocket: messages in and out, errors, subscriptions, fan-out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from quart.testing import QuartClient
from quart.testing.connections import WebsocketDisconnectError, WebsocketResponseError

from tests.support import eventually, lamp_class, lamp_server, serving, started
from thingtalk import WebThingServer
from thingtalk.protocols.state import app_state

from .conftest import TIMESTAMP, Socket, multiple_server, quart_socket, real_socket

FADE = {"fade": {"input": {"brightness": 80, "duration": 1}}}


@pytest.fixture
def server() -> WebThingServer:
    return lamp_server()


@pytest.fixture
async def client(server: WebThingServer) -> AsyncIterator[QuartClient]:
    async with started(server.create()) as client:
        yield client


async def properties(client: QuartClient) -> Any:
    return await (await client.get("/properties")).get_json()


async def assert_still_works(ws: Socket, value: int = 33) -> None:
    await ws.send({"messageType": "setProperty", "data": {"brightness": value}})
    assert await ws.receive() == {"messageType": "propertyStatus", "data": {"brightness": value}}


async def assert_error(ws: Socket, status: str) -> dict[str, Any]:
    message = await ws.receive()
    assert message["messageType"] == "error", message
    data: dict[str, Any] = message["data"]
    assert data["status"] == status
    assert isinstance(data["error"], str) and data["error"]
    assert isinstance(data["message"], str) and data["message"]
    return data


async def drain_action(ws: Socket) -> list[dict[str, Any]]:
    """Messages up to and including the next ``completed`` actionStatus."""
    messages = []
    while True:
        message = await ws.receive()
        messages.append(message)
        if message["messageType"] == "actionStatus":
            (description,) = message["data"].values()
            if description["status"] == "completed":
                return messages


@pytest.mark.parametrize(
    "frame",
    [
        "{",
        "not json",
        "[]",
        "5",
        "null",
        '{"messageType": "setProperty"}',
        '{"messageType": "setProperty", "data": 5}',
        '{"messageType": "setProperty", "data": [1]}',
        '{"data": {"brightness": 10}}',
    ],
)
async def test_broken_frame_gets_an_error_and_socket_stays_usable(
    client: QuartClient, frame: str
) -> None:
    async with quart_socket(client, "/") as ws:
        await ws.send(frame)
        await assert_error(ws, "400 Bad Request")
        await assert_still_works(ws)
    assert (await properties(client))["brightness"] == 33


async def test_binary_frame_gets_an_error(client: QuartClient) -> None:
    async with client.websocket("/") as raw:
        await raw.send(b"\xff\x00garbage")
        ws = Socket(raw.send, raw.receive)
        await assert_error(ws, "400 Bad Request")
        await assert_still_works(ws)


async def test_unknown_message_type(client: QuartClient) -> None:
    async with quart_socket(client, "/") as ws:
        await ws.send({"messageType": "reboot", "data": {}})
        data = await assert_error(ws, "400 Bad Request")
        assert "reboot" in data["message"]
        await assert_still_works(ws)


@pytest.mark.parametrize(
    "data",
    [
        {"brightness": 101},
        {"brightness": "dim"},
        {"on": "yes"},
        {"on": False, "brightness": 500},  # all checked before any is applied
    ],
    ids=repr,
)
async def test_invalid_value_gets_an_error_and_changes_nothing(
    client: QuartClient, data: dict[str, Any]
) -> None:
    async with quart_socket(client, "/") as ws:
        await ws.send({"messageType": "setProperty", "data": data})
        await assert_error(ws, "400 Bad Request")
        assert await properties(client) == {"on": True, "brightness": 50}
        await assert_still_works(ws)


async def test_unknown_property_action_event_are_404(client: QuartClient) -> None:
    async with quart_socket(client, "/") as ws:
        await ws.send({"messageType": "setProperty", "data": {"colour": "red"}})
        await assert_error(ws, "404 Not Found")
        await ws.send({"messageType": "requestAction", "data": {"explode": {}}})
        await assert_error(ws, "404 Not Found")
        await ws.send({"messageType": "addEventSubscription", "data": {"melted": {}}})
        await assert_error(ws, "404 Not Found")
        await assert_still_works(ws)
    assert await (await client.get("/actions")).get_json() == []


@pytest.mark.parametrize(
    "data",
    [
        {"fade": {"input": {"brightness": 101, "duration": 1}}},
        {"fade": {"input": {"brightness": 10}}},
        {"fade": 5},
        {"fade": {"input": {"brightness": 10, "duration": 1}, "priority": "high"}},
        {**FADE, "explode": {}},  # one bad request starts none
    ],
    ids=repr,
)
async def test_bad_action_request_starts_nothing(client: QuartClient, data: Any) -> None:
    async with quart_socket(client, "/") as ws:
        await ws.send({"messageType": "requestAction", "data": data})
        message = await ws.receive()
        assert message["messageType"] == "error"
        await assert_still_works(ws)
    assert await (await client.get("/actions")).get_json() == []


async def test_read_only_property_over_websocket() -> None:
    async with started(multiple_server().create()) as client:
        async with quart_socket(client, "/1") as ws:
            await ws.send({"messageType": "setProperty", "data": {"level": 3}})
            data = await assert_error(ws, "400 Bad Request")
            assert data["error"] == "read-only"
        assert await (await client.get("/1/properties")).get_json() == {"level": 40.0}


async def test_oversized_message_gets_413(client: QuartClient) -> None:
    async with quart_socket(client, "/") as ws:
        padding = "x" * (64 * 1024)
        await ws.send({"messageType": "setProperty", "data": {"brightness": 1}, "pad": padding})
        await assert_error(ws, "413 Request Entity Too Large")
        await assert_still_works(ws)


async def test_events_go_only_to_subscribers(client: QuartClient) -> None:
    async with quart_socket(client, "/") as subscriber, quart_socket(client, "/") as other:
        await subscriber.send({"messageType": "addEventSubscription", "data": {"overheated": {}}})
        await subscriber.send({"messageType": "requestAction", "data": FADE})
        heard = await drain_action(subscriber)
        events = [m for m in heard if m["messageType"] == "event"]
        assert len(events) == 1
        assert events[0]["data"]["overheated"]["data"] == 102
        assert TIMESTAMP.match(events[0]["data"]["overheated"]["timestamp"])
        # The event is raised before the action completes, so it would have come by now.
        assert all(m["messageType"] != "event" for m in await drain_action(other))


async def test_both_sockets_get_property_status(client: QuartClient) -> None:
    async with quart_socket(client, "/") as one, quart_socket(client, "/") as two:
        await one.send({"messageType": "setProperty", "data": {"brightness": 12}})
        expected = {"messageType": "propertyStatus", "data": {"brightness": 12}}
        assert await one.receive() == expected
        assert await two.receive() == expected
        # A REST write reaches every socket too.
        assert (await client.put("/properties/on", json={"on": False})).status_code == 200
        expected = {"messageType": "propertyStatus", "data": {"on": False}}
        assert await one.receive() == expected
        assert await two.receive() == expected


async def test_device_side_sync_reaches_sockets(
    client: QuartClient, server: WebThingServer
) -> None:
    thing = server.things.things[0]
    async with quart_socket(client, "/") as ws:
        await thing.sync_property("brightness", 77)
        assert await ws.receive() == {"messageType": "propertyStatus", "data": {"brightness": 77}}
        await thing.properties["on"].value.notify_of_external_update(False)
        assert await ws.receive() == {"messageType": "propertyStatus", "data": {"on": False}}


async def test_rest_action_reaches_sockets(client: QuartClient) -> None:
    async with quart_socket(client, "/") as ws:
        href = (await (await client.post("/actions", json=FADE)).get_json())["fade"]["href"]
        statuses = [
            m["data"]["fade"]["status"]
            for m in await drain_action(ws)
            if m["messageType"] == "actionStatus"
        ]
        assert statuses == ["created", "pending", "completed"]
        assert (await client.delete(href)).status_code == 204


async def test_sessions_leave_the_hub(client: QuartClient, server: WebThingServer) -> None:
    served = app_state(server.create()).served[0]
    async with quart_socket(client, "/") as ws:
        await assert_still_works(ws)
        assert len(served.hub.sessions) == 1
        assert served.hub in served.thing.observers
    await eventually(lambda: not served.hub.sessions)
    assert served.hub not in served.thing.observers


async def test_reconnecting_socket_hears_changes(client: QuartClient) -> None:
    for value in (21, 22):
        async with quart_socket(client, "/") as ws:
            assert (
                await client.put("/properties/brightness", json={"brightness": value})
            ).status_code == 200
            assert await ws.receive() == {
                "messageType": "propertyStatus",
                "data": {"brightness": value},
            }


async def test_multiple_things_sockets_are_separate() -> None:
    async with (
        started(multiple_server().create()) as client,
        quart_socket(client, "/0/") as lamp,
        quart_socket(client, "/1") as sensor,
    ):
        await lamp.send({"messageType": "setProperty", "data": {"brightness": 5}})
        assert await lamp.receive() == {"messageType": "propertyStatus", "data": {"brightness": 5}}
        await sensor.send({"messageType": "setProperty", "data": {"brightness": 5}})
        await assert_error(sensor, "404 Not Found")  # the sensor has no brightness
        assert await lamp.nothing_within(0.05)


async def test_socket_to_unknown_thing_is_refused() -> None:
    async with started(multiple_server().create()) as client:
        with pytest.raises((WebsocketDisconnectError, WebsocketResponseError)):
            async with client.websocket("/7") as ws:
                await ws.receive()


async def test_created_reaches_the_socket_before_the_post_is_answered(port: int) -> None:
    """The gateway drops an actionStatus for a request whose POST it has not seen answered;
    a `created` handed to the socket after the answer would undo the `pending` it shows.

    What the server hands to Hypercorn is recorded in order by an ASGI middleware, with a
    backlog on the socket (a busy thing) when the POST arrives.
    """
    handed: list[str] = []

    def record(app: Any) -> Any:
        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            async def recording_send(message: Any) -> None:
                if message["type"] == "websocket.send" and '"created"' in message.get("text", ""):
                    handed.append("socket: created")
                elif message["type"] == "http.response.start" and scope["method"] == "POST":
                    handed.append("http: answer")
                await send(message)

            await app(scope, receive, recording_send)

        return middleware

    lamp = lamp_class()()
    server = lamp_server(lamp, host="127.0.0.1", port=port, additional_middlewares=[record])
    async with serving(server) as url, real_socket(f"ws://127.0.0.1:{port}/") as ws:
        await eventually(lambda: lamp.observers)
        for level in range(150):
            await lamp.set_property("brightness", level % 100)
        async with httpx.AsyncClient(base_url=url) as http:
            response = await http.post("/actions", json=FADE)
        assert response.status_code == 201
        assert response.json()["fade"]["status"] == "created"
        while True:  # the socket still gets everything, in order
            message = await ws.receive()
            if message["messageType"] == "actionStatus":
                assert message["data"]["fade"]["status"] == "created"
                break
    assert handed == ["socket: created", "http: answer"]
