"""The WebThings conformance sequence (what webthing-tester's client checks), with short fades.

One sequence, run against the single-thing lamp, against the lamp inside a MultipleThings
server, under a base path, over Quart's test client and over a real Hypercorn socket.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support import eventually, lamp_server, serving, started

from .conftest import (
    TIMESTAMP,
    HttpxHttp,
    QuartHttp,
    Socket,
    multiple_server,
    quart_socket,
    real_socket,
)

# Every test here runs through the lean router and through Quart alone.
pytestmark = pytest.mark.usefixtures("entrance")

Http = Callable[..., Any]
OpenSocket = Callable[[str], contextlib.AbstractAsyncContextManager[Socket]]


def check_description(body: dict[str, Any], prefix: str, ws_scheme: str = "ws") -> str:
    """Check the lamp's TD; return its websocket URL."""
    assert body["id"] == "urn:dev:ops:my-lamp-1234"
    assert body["title"] == "My Lamp"
    assert body["security"] == "nosec_sc"
    assert body["securityDefinitions"]["nosec_sc"]["scheme"] == "nosec"
    assert body["@context"] == "https://webthings.io/schemas"
    assert sorted(body["@type"]) == ["Light", "OnOffSwitch"]
    assert body["description"] == "A web connected lamp"

    on = body["properties"]["on"]
    assert on["@type"] == "OnOffProperty"
    assert on["title"] == "On/Off"
    assert on["type"] == "boolean"
    assert on["description"] == "Whether the lamp is turned on"
    assert on["links"] == [{"rel": "property", "href": f"{prefix}/properties/on"}]

    brightness = body["properties"]["brightness"]
    assert brightness["@type"] == "BrightnessProperty"
    assert brightness["title"] == "Brightness"
    assert brightness["type"] == "integer"
    assert brightness["description"] == "The level of light from 0-100"
    assert (brightness["minimum"], brightness["maximum"], brightness["unit"]) == (0, 100, "percent")
    assert brightness["links"] == [{"rel": "property", "href": f"{prefix}/properties/brightness"}]

    fade = body["actions"]["fade"]
    assert fade["title"] == "Fade"
    assert fade["description"] == "Fade the lamp to a given level"
    assert fade["input"]["type"] == "object"
    level = fade["input"]["properties"]["brightness"]
    assert (level["type"], level["minimum"], level["maximum"], level["unit"]) == (
        "integer",
        0,
        100,
        "percent",
    )
    duration = fade["input"]["properties"]["duration"]
    assert (duration["type"], duration["minimum"], duration["unit"]) == (
        "integer",
        1,
        "milliseconds",
    )
    assert fade["links"] == [{"rel": "action", "href": f"{prefix}/actions/fade"}]

    overheated = body["events"]["overheated"]
    assert overheated["type"] == "number"
    assert overheated["unit"] == "degree celsius"
    assert overheated["description"] == "The lamp has exceeded its safe operating temperature"
    assert overheated["links"] == [{"rel": "event", "href": f"{prefix}/events/overheated"}]

    links = body["links"]
    assert links[:3] == [
        {"rel": "properties", "href": f"{prefix}/properties"},
        {"rel": "actions", "href": f"{prefix}/actions"},
        {"rel": "events", "href": f"{prefix}/events"},
    ]
    ws_href = None
    for link in links[3:]:
        assert link["rel"] == "alternate"
        if "mediaType" in link:
            assert link["mediaType"] == "text/html"
            assert link["href"] == prefix
        else:
            assert re.match(rf"{ws_scheme}://[^/]+{prefix}/?$", link["href"])
            ws_href = link["href"]
    assert ws_href is not None
    assert [link.get("mediaType") for link in links[3:]] == [None, "text/html"]
    return ws_href


def check_request(description: dict[str, Any], prefix: str, input_: dict[str, Any], status: str):
    """Check one action request's description; return its id."""
    assert list(description) == ["fade"]
    fade = description["fade"]
    assert fade["input"] == input_
    assert fade["href"].startswith(f"{prefix}/actions/fade/")
    assert fade["status"] == status
    assert TIMESTAMP.match(fade["timeRequested"])
    if status == "completed":
        assert TIMESTAMP.match(fade["timeCompleted"])
    return fade["href"].rsplit("/", 1)[-1]


async def rest_fade(http: Http, prefix: str, path: str, input_: dict[str, Any]) -> None:
    """POST a fade to ``path``, wait for it to complete, check the lists, then DELETE it."""
    code, body = await http("POST", prefix + path, {"fade": {"input": input_}})
    assert code == 201
    action_id = check_request(body, prefix, input_, "created")
    href = f"{prefix}/actions/fade/{action_id}"

    async def completed() -> bool:
        code, body = await http("GET", href)
        assert code == 200
        return bool(body["fade"]["status"] == "completed")

    await eventually(completed)
    for listing in ("/actions", "/actions/fade"):
        code, body = await http("GET", prefix + listing)
        assert code == 200
        assert len(body) == 1
        assert check_request(body[0], prefix, input_, "completed") == action_id
        assert body[0]["fade"]["href"] == href
    code, body = await http("DELETE", href)
    assert (code, body) == (204, None)
    code, body = await http("GET", href)
    assert code == 404


async def run_conformance(http: Http, open_socket: OpenSocket, prefix: str) -> None:
    """The whole sequence against the lamp at ``prefix`` ("" for a single thing at the root)."""
    code, body = await http("GET", prefix or "/")
    assert code == 200
    ws_href = check_description(body, prefix)

    # Properties.
    assert await http("GET", f"{prefix}/properties") == (200, {"on": True, "brightness": 50})
    assert await http("GET", f"{prefix}/properties/brightness") == (200, {"brightness": 50})
    put = await http("PUT", f"{prefix}/properties/brightness", {"brightness": 25})
    assert put == (200, {"brightness": 25})
    assert await http("GET", f"{prefix}/properties/brightness") == (200, {"brightness": 25})

    # Actions and events over REST.
    assert await http("GET", f"{prefix}/events") == (200, [])
    assert await http("GET", f"{prefix}/actions") == (200, [])
    await rest_fade(http, prefix, "/actions", {"brightness": 50, "duration": 20})
    code, body = await http("GET", f"{prefix}/events")
    assert code == 200 and len(body) == 1
    assert list(body[0]) == ["overheated"]
    assert body[0]["overheated"]["data"] == 102
    assert TIMESTAMP.match(body[0]["overheated"]["timestamp"])
    code, named = await http("GET", f"{prefix}/events/overheated")
    assert (code, named) == (200, body)
    await rest_fade(http, prefix, "/actions/fade", {"brightness": 50, "duration": 20})

    # The websocket.
    async with open_socket(ws_href) as ws:
        await ws.send({"messageType": "setProperty", "data": {"brightness": 10}})
        assert await ws.receive() == {"messageType": "propertyStatus", "data": {"brightness": 10}}
        assert await http("GET", f"{prefix}/properties/brightness") == (200, {"brightness": 10})

        input_ = {"brightness": 90, "duration": 20}
        await ws.send({"messageType": "requestAction", "data": {"fade": {"input": input_}}})
        message = await ws.receive()
        assert message["messageType"] == "actionStatus"
        action_id = check_request(message["data"], prefix, input_, "created")
        message = await ws.receive()
        assert message["messageType"] == "actionStatus"
        assert check_request(message["data"], prefix, input_, "pending") == action_id
        seen = set()
        for _ in range(2):
            message = await ws.receive()
            if message["messageType"] == "propertyStatus":
                assert message["data"] == {"brightness": 90}
            else:
                assert message["messageType"] == "actionStatus"
                assert check_request(message["data"], prefix, input_, "completed") == action_id
            seen.add(message["messageType"])
        assert seen == {"propertyStatus", "actionStatus"}  # no event: not subscribed

        code, body = await http("GET", f"{prefix}/actions")
        assert code == 200 and len(body) == 1
        assert check_request(body[0], prefix, input_, "completed") == action_id
        code, body = await http("GET", f"{prefix}/actions/fade/{action_id}")
        assert code == 200
        assert check_request(body, prefix, input_, "completed") == action_id
        code, body = await http("GET", f"{prefix}/events")
        assert code == 200 and len(body) == 3
        assert body[2]["overheated"]["data"] == 102

        # Event subscription.
        input_ = {"brightness": 100, "duration": 10}
        await ws.send({"messageType": "addEventSubscription", "data": {"overheated": {}}})
        await ws.send({"messageType": "requestAction", "data": {"fade": {"input": input_}}})
        message = await ws.receive()
        assert message["messageType"] == "actionStatus"
        action_id = check_request(message["data"], prefix, input_, "created")
        message = await ws.receive()
        assert check_request(message["data"], prefix, input_, "pending") == action_id
        seen = set()
        for _ in range(3):
            message = await ws.receive()
            kind = message["messageType"]
            if kind == "propertyStatus":
                assert message["data"] == {"brightness": 100}
            elif kind == "event":
                assert message["data"]["overheated"]["data"] == 102
                assert TIMESTAMP.match(message["data"]["overheated"]["timestamp"])
            else:
                assert kind == "actionStatus"
                assert check_request(message["data"], prefix, input_, "completed") == action_id
            seen.add(kind)
        assert seen == {"propertyStatus", "event", "actionStatus"}


def sockets_of(client: Any) -> OpenSocket:
    """Open websockets through ``client`` (Quart's test client) by the TD's URL."""

    def open_socket(href: str) -> contextlib.AbstractAsyncContextManager[Socket]:
        return quart_socket(client, urlsplit(href).path or "/")

    return open_socket


async def test_single_thing() -> None:
    async with started(lamp_server().create()) as client:
        await run_conformance(QuartHttp(client), sockets_of(client), "")


@pytest.mark.parametrize("base_path", ["/lamp", "/things/lamp/", "things"])
async def test_single_thing_under_base_path(base_path: str) -> None:
    async with started(lamp_server(base_path=base_path).create()) as client:
        prefix = "/" + base_path.strip("/")
        await run_conformance(QuartHttp(client), sockets_of(client), prefix)
        code, _ = await QuartHttp(client)("GET", "/properties")
        assert code == 404


@pytest.mark.parametrize("base_path", ["", "/things"])
async def test_multiple_things(base_path: str) -> None:
    async with started(multiple_server(base_path=base_path).create()) as client:
        http = QuartHttp(client)
        code, listing = await http("GET", base_path or "/")
        assert code == 200
        assert [td["title"] for td in listing] == ["My Lamp", "My Humidity Sensor"]
        check_description(listing[0], f"{base_path}/0")
        sensor = listing[1]
        assert sensor["properties"]["level"]["links"] == [
            {"rel": "property", "href": f"{base_path}/1/properties/level"}
        ]
        assert sensor["links"][0] == {"rel": "properties", "href": f"{base_path}/1/properties"}
        assert await http("GET", f"{base_path}/1") == (200, sensor)
        assert await http("GET", f"{base_path}/1/properties") == (200, {"level": 40.0})

        await run_conformance(http, sockets_of(client), f"{base_path}/0")
        # The sensor saw none of it.
        assert await http("GET", f"{base_path}/1/actions") == (200, [])
        assert await http("GET", f"{base_path}/1/events") == (200, [])


@contextlib.asynccontextmanager
async def _httpx(base_url: str) -> AsyncIterator[HttpxHttp]:
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        yield HttpxHttp(client)


async def test_single_thing_served_by_hypercorn(port: int) -> None:
    server = lamp_server(host="127.0.0.1", port=port)
    async with serving(server) as url, _httpx(url) as http:
        code, body = await http("GET", "/")
        assert code == 200
        assert body["base"] == f"{url}/"
        assert body["links"][3]["href"] == f"ws://127.0.0.1:{port}/"
        await run_conformance(http, real_socket, "")


async def test_multiple_things_served_by_hypercorn(port: int) -> None:
    server = multiple_server(host="127.0.0.1", port=port, base_path="/things")
    async with serving(server) as url, _httpx(url) as http:
        code, body = await http("GET", "/things/1")
        assert code == 200
        assert body["links"][3]["href"] == f"ws://127.0.0.1:{port}/things/1"
        await run_conformance(http, real_socket, "/things/0")
