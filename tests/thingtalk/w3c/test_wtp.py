"""The Web Thing Protocol websocket, with our own client (no third-party client speaks it yet)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import websockets
from websockets.typing import Subprotocol

from tests.support import TIMEOUT, free_port, lamp_server, serving
from thingtalk import WebThingServer

from .conftest import gadget_server, pair_server

LAMP = "urn:dev:ops:my-lamp-1234"
GADGET = "urn:dev:ops:gadget-1"


class Client:
    """A ``webthingprotocol`` connection: send requests, read what comes back."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def request(self, thing: str | None, operation: str, **members: Any) -> str:
        correlation = str(uuid.uuid4())
        message: dict[str, Any] = {
            "messageID": str(uuid.uuid4()),
            "messageType": "request",
            "operation": operation,
            "correlationID": correlation,
            **members,
        }
        if thing is not None:
            message["thingID"] = thing
        await self.ws.send(json.dumps(message))
        return correlation

    async def receive(self, within: float = TIMEOUT) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), within))
        assert uuid.UUID(message["messageID"]).version == 4
        assert message["timestamp"]
        return message

    async def ask(self, thing: str | None, operation: str, **members: Any) -> dict[str, Any]:
        """Send a request and return its response (skipping notifications)."""
        correlation = await self.request(thing, operation, **members)
        while True:
            message = await self.receive()
            if message["messageType"] == "response":
                assert message["correlationID"] == correlation
                assert message["operation"] == operation
                return message

    async def nothing_within(self, seconds: float = 0.2) -> bool:
        try:
            await asyncio.wait_for(self.ws.recv(), seconds)
        except TimeoutError:
            return True
        return False


@contextlib.asynccontextmanager
async def connected(server: WebThingServer, path: str = "/") -> AsyncIterator[tuple[Client, str]]:
    async with serving(server) as base:
        url = "ws" + base.removeprefix("http") + path
        async with websockets.connect(url, subprotocols=[Subprotocol("webthingprotocol")]) as ws:
            assert ws.subprotocol == "webthingprotocol"
            yield Client(ws), base


def served_lamp() -> WebThingServer:
    return lamp_server(host="127.0.0.1", port=free_port())


def assert_error(message: dict[str, Any], status: int) -> None:
    error = message["error"]
    assert error["status"] == status
    assert error["type"] == f"https://w3c.github.io/web-thing-protocol/errors#{status}"
    assert error["title"] and error["detail"]


async def test_properties_read_write_all_multiple() -> None:
    async with connected(served_lamp()) as (client, _):
        read = await client.ask(LAMP, "readproperty", name="brightness")
        assert (read["thingID"], read["name"], read["value"]) == (LAMP, "brightness", 50)
        written = await client.ask(LAMP, "writeproperty", name="brightness", value=60)
        assert (written["name"], written["value"]) == ("brightness", 60)
        every = await client.ask(LAMP, "readallproperties")
        assert every["values"] == {"on": True, "brightness": 60}
        some = await client.ask(LAMP, "readmultipleproperties", names=["on"])
        assert some["values"] == {"on": True}
        many = await client.ask(LAMP, "writemultipleproperties", values={"on": False})
        assert many["values"] == {"on": False}
        whole = await client.ask(LAMP, "writeallproperties", values={"on": True, "brightness": 1})
        assert whole["values"] == {"on": True, "brightness": 1}


async def test_errors_are_problem_details_and_change_nothing() -> None:
    async with connected(served_lamp()) as (client, _):
        bad = await client.ask(LAMP, "writeproperty", name="brightness", value=101)
        assert_error(bad, 400)
        assert bad["name"] == "brightness"
        assert_error(await client.ask(LAMP, "readproperty", name="volume"), 404)
        assert_error(await client.ask(LAMP, "readmultipleproperties", names=["volume"]), 400)
        partial = await client.ask(LAMP, "writeallproperties", values={"on": False})
        assert_error(partial, 400)
        mixed = await client.ask(
            LAMP, "writemultipleproperties", values={"on": False, "brightness": -1}
        )
        assert_error(mixed, 400)
        assert_error(await client.ask(LAMP, "dance"), 400)
        assert_error(await client.ask("urn:nobody", "readallproperties"), 404)
        values = (await client.ask(LAMP, "readallproperties"))["values"]
        assert values == {"on": True, "brightness": 50}
        # A broken frame gets an error response and the socket stays usable.
        await client.ws.send("{not json")
        broken = await client.receive()
        assert broken["messageType"] == "response"
        assert_error(broken, 400)
        assert (await client.ask(None, "readproperty", name="on"))["value"] is True


async def test_observe_and_unobserve_properties() -> None:
    async with connected(served_lamp()) as (client, _):
        correlation = await client.request(LAMP, "observeproperty", name="brightness")
        response = await client.receive()
        assert (response["messageType"], response["correlationID"]) == ("response", correlation)
        await client.ask(LAMP, "writeproperty", name="on", value=False)  # not observed
        await client.request(LAMP, "writeproperty", name="brightness", value=7)
        got = [await client.receive(), await client.receive()]
        assert {m["messageType"] for m in got} == {"notification", "response"}
        note = next(m for m in got if m["messageType"] == "notification")
        assert (note["operation"], note["name"], note["value"]) == (
            "observeproperty",
            "brightness",
            7,
        )
        assert note["correlationID"] == correlation
        assert await client.nothing_within()

        everything = await client.request(LAMP, "observeallproperties")
        assert (await client.receive())["correlationID"] == everything
        await client.request(LAMP, "writeproperty", name="on", value=True)
        got = [await client.receive(), await client.receive()]
        note = next(m for m in got if m["messageType"] == "notification")
        assert (note["operation"], note["name"], note["correlationID"]) == (
            "observeallproperties",
            "on",
            everything,
        )
        await client.ask(LAMP, "unobserveallproperties")
        await client.ask(LAMP, "writeproperty", name="on", value=False)
        assert await client.nothing_within()


async def test_events_subscribe_and_actions_async() -> None:
    async with connected(served_lamp()) as (client, _):
        subscribed = await client.request(LAMP, "subscribeevent", name="overheated")
        await client.receive()
        invoked = await client.ask(
            LAMP, "invokeaction", name="fade", input={"brightness": 90, "duration": 1}
        )
        status = invoked["status"]
        assert invoked["name"] == "fade"
        assert status["state"] in ("pending", "running") and status["timeRequested"]
        assert uuid.UUID(status["actionID"])
        event = await client.receive()
        assert (event["messageType"], event["operation"]) == ("notification", "subscribeevent")
        assert (event["name"], event["data"], event["correlationID"]) == (
            "overheated",
            102,
            subscribed,
        )
        query = await client.ask(LAMP, "queryaction", actionID=status["actionID"])
        assert query["name"] == "fade"
        assert query["status"]["state"] == "completed" and query["status"]["timeEnded"]
        listing = await client.ask(LAMP, "queryallactions")
        assert [s["actionID"] for s in listing["statuses"]["fade"]] == [status["actionID"]]
        await client.ask(LAMP, "unsubscribeevent", name="overheated")
        await client.request(
            LAMP, "invokeaction", name="fade", input={"brightness": 10, "duration": 1}
        )
        await client.receive()
        assert await client.nothing_within()
        assert_error(await client.ask(LAMP, "queryaction", actionID="nope"), 404)
        assert_error(await client.ask(LAMP, "invokeaction", name="fade", input={}), 400)


async def test_sync_actions_cancel_and_several_things_on_one_socket() -> None:
    async with connected(pair_server(host="127.0.0.1", port=free_port()), "/0") as (client, _):
        # The socket opened on the lamp's URL also drives the gadget, by thingID.
        blink = await client.ask(GADGET, "invokeaction", name="blink", input={"times": 2})
        assert blink["thingID"] == GADGET and blink["output"] == {"blinks": 2}
        failed = await client.ask(GADGET, "invokeaction", name="explode")
        assert failed["error"]["status"] == 500 and failed["error"]["detail"] == "the fuse blew"
        waiting = await client.ask(GADGET, "invokeaction", name="wait", input=60)
        action_id = waiting["status"]["actionID"]
        # A synchronous action that takes a while does not hold up other requests.
        assert (await client.ask(LAMP, "readproperty", name="on"))["thingID"] == LAMP
        cancelled = await client.ask(GADGET, "cancelaction", actionID=action_id)
        assert cancelled["actionID"] == action_id
        assert_error(await client.ask(GADGET, "queryaction", actionID=action_id), 404)
        await client.ask(GADGET, "subscribeallevents")
        await client.ask(LAMP, "subscribeallevents")
        await client.ask(LAMP, "invokeaction", name="fade", input={"brightness": 3, "duration": 1})
        event = await client.receive()
        assert (event["thingID"], event["operation"], event["name"]) == (
            LAMP,
            "subscribeallevents",
            "overheated",
        )


async def test_webthings_websocket_is_unchanged_without_the_subprotocol() -> None:
    server = gadget_server(host="127.0.0.1", port=free_port())
    async with serving(server) as base:
        url = "ws" + base.removeprefix("http") + "/"
        async with websockets.connect(url) as ws:
            assert ws.subprotocol is None
            await ws.send(json.dumps({"messageType": "setProperty", "data": {"on": True}}))
            message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            assert message == {"messageType": "propertyStatus", "data": {"on": True}}
