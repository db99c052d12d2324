"""Inputs that once got a 5xx (or closed a socket with 1011): each is now a 4xx with the usual
JSON error, and changes nothing. Also: values stored in their declared types on every route."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import websockets
from quart.testing import QuartClient
from quart.testing.connections import WebsocketResponseError
from websockets.typing import Subprotocol

from tests.support import eventually, free_port, lamp_server, serving, started
from thingtalk import Thing, WebThingServer
from thingtalk.protocols.state import app_state

from .conftest import multiple_server

JSON = {"Content-Type": "application/json", "Accept": "application/json"}
LAMP = "urn:dev:ops:my-lamp-1234"

# A fragment of a body that is not valid UTF-8, each way it can be broken.
BAD_UTF8 = {
    "in a string": b'"\xff\xfe"',
    "in a key": b'{"\xff": 1}',
    "overlong": b'"\xc0\xaf"',
    "a surrogate": b'"\xed\xa0\x80"',
    "truncated": b'"\xe2\x82"',
}
DEEP = {f"{n:,} deep": b"[" * n + b"]" * n for n in (33, 1_000, 30_000)}
DEEP["1,000 deep objects"] = b'{"a":' * 1_000 + b"1" + b"}" * 1_000

# Where a client's JSON goes in, and how a fragment becomes that route's body.
Route = tuple[str, str, Callable[[bytes], bytes], bool]  # method, path, body, Problem Details
ROUTES: dict[str, Route] = {
    "REST property": (
        "PUT",
        "/properties/brightness",
        lambda v: b'{"brightness":' + v + b"}",
        False,
    ),
    "REST action": ("POST", "/actions", lambda v: b'{"fade":{"input":' + v + b"}}", False),
    "REST named action": (
        "POST",
        "/actions/fade",
        lambda v: b'{"fade":{"input":' + v + b"}}",
        False,
    ),
    "W3C property": ("PUT", "/wot/properties/brightness", lambda v: v, True),
    "W3C properties": ("PUT", "/wot/properties", lambda v: b'{"brightness":' + v + b"}", True),
    "W3C action": ("POST", "/wot/actions/fade", lambda v: v, True),
    "REST body itself": ("PUT", "/properties/brightness", lambda v: v, False),
}


@pytest.fixture
async def client() -> AsyncIterator[QuartClient]:
    async with started(lamp_server().create()) as client:
        yield client


def lamp_of(client: QuartClient) -> Thing:
    return app_state(client.app).served[0].thing


def snapshot(thing: Thing) -> tuple[dict[str, Any], int]:
    return thing.get_properties(), len(list(thing.get_actions()))


async def assert_refused(client: QuartClient, route: Route, fragment: bytes) -> None:
    method, path, body, problem = route
    before = snapshot(lamp_of(client))
    response = await client.open(path, method=method, data=body(fragment), headers=JSON)
    assert response.status_code == 400, await response.get_data()
    payload = await response.get_json()
    if problem:
        assert response.content_type == "application/problem+json"
        assert payload["status"] == 400 and payload["detail"]
    else:
        assert payload["error"] == "bad-request" and payload["message"]
    assert snapshot(lamp_of(client)) == before


@pytest.mark.parametrize("route", ROUTES.values(), ids=ROUTES.keys())
@pytest.mark.parametrize("fragment", BAD_UTF8.values(), ids=BAD_UTF8.keys())
async def test_invalid_utf8_is_400_on_every_route(
    client: QuartClient, route: Route, fragment: bytes
) -> None:
    await assert_refused(client, route, fragment)


@pytest.mark.parametrize("route", ROUTES.values(), ids=ROUTES.keys())
@pytest.mark.parametrize("fragment", DEEP.values(), ids=DEEP.keys())
async def test_deep_nesting_is_400_on_every_route(
    client: QuartClient, route: Route, fragment: bytes
) -> None:
    await assert_refused(client, route, fragment)
    message = (await (await client.put("/properties/brightness", data=fragment)).get_json())[
        "message"
    ]
    assert "nested deeper than 32" in message


async def test_nesting_up_to_the_limit_is_judged_by_the_schema(client: QuartClient) -> None:
    thirty_two = b"[" * 32 + b"]" * 32
    response = await client.put(
        "/properties/brightness", data=b'{"brightness":' + thirty_two[1:-1] + b"}"
    )
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid-value"  # read, then refused


# -- values in their declared types, on every route -----------------------------------


async def test_integral_floats_are_stored_served_and_sent_as_integers() -> None:
    server = lamp_server(host="127.0.0.1", port=free_port())
    async with (
        serving(server) as base,
        httpx.AsyncClient(base_url=base) as http,
        http.stream("GET", "/wot/sse/properties/brightness") as sse,
    ):
        ws_url = "ws" + base.removeprefix("http") + "/"
        sse_lines = sse.aiter_lines()
        async with websockets.connect(ws_url) as subscriber:
            for method, path, body, expected in [
                ("PUT", "/properties/brightness", b'{"brightness": 73.0}', 73),
                ("PUT", "/properties/brightness", b'{"brightness": 1e2}', 100),
                ("PUT", "/wot/properties/brightness", b"1e1", 10),
                ("PUT", "/wot/properties", b'{"brightness": 2.0e1}', 20),
            ]:
                response = await http.request(method, path, content=body, headers=JSON)
                assert response.status_code in (200, 204), response.text
                served = (await http.get("/properties/brightness")).content
                assert served == b'{"brightness":%d}' % expected
                heard = await asyncio.wait_for(subscriber.recv(), 5)
                assert f'"brightness":{expected}}}' in heard
                line = ""
                while not line.startswith("data:"):
                    line = await asyncio.wait_for(anext(sse_lines), 5)
                assert line == f"data: {expected}"
            await subscriber.send('{"messageType":"setProperty","data":{"brightness":30.0}}')
            assert '"brightness":30}' in await asyncio.wait_for(subscriber.recv(), 5)
        async with websockets.connect(
            ws_url, subprotocols=[Subprotocol("webthingprotocol")]
        ) as wtp:
            await wtp.send(
                json.dumps(
                    {
                        "thingID": LAMP,
                        "messageType": "request",
                        "operation": "writeproperty",
                        "name": "brightness",
                        "value": 40.0,
                    }
                )
            )
            assert json.loads(await asyncio.wait_for(wtp.recv(), 5))["value"] == 40
            assert (await http.get("/properties/brightness")).content == b'{"brightness":40}'
        # A fade's target too: it ends as the integer 80.
        fade = b'{"fade": {"input": {"brightness": 80.0, "duration": 1.0}}}'
        created = await http.post("/actions", content=fade, headers=JSON)
        assert created.status_code == 201
        assert created.json()["fade"]["input"] == {"brightness": 80, "duration": 1}
        href = created.json()["fade"]["href"]
        await eventually(lambda: server.things.things[0].get_property("brightness") == 80)
        assert (await http.get("/properties/brightness")).content == b'{"brightness":80}'
        assert (await http.get(href)).json()["fade"]["input"]["brightness"] == 80


# -- websocket handshakes on paths that are no thing -----------------------------------


@pytest.mark.parametrize("path", ["/properties", "/nosuch", "/properties/brightness", "/actions"])
async def test_websocket_handshake_elsewhere_is_404(client: QuartClient, path: str) -> None:
    with pytest.raises(WebsocketResponseError) as refused:
        async with client.websocket(path) as ws:
            await ws.receive()
    assert refused.value.response.status_code == 404
    assert (await refused.value.response.get_json())["error"] == "not-found"


async def test_websocket_handshake_elsewhere_is_404_over_the_wire() -> None:
    server = multiple_server(host="127.0.0.1", port=free_port())
    async with serving(server) as base:
        ws = "ws" + base.removeprefix("http")
        for path in ("/properties", "/nosuch", "/0/properties", "/0/events/overheated"):
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(ws + path):
                    pass
            assert refused.value.response.status_code == 404, path
        async with httpx.AsyncClient(base_url=base) as http:  # the server is fine
            assert (await http.get("/0/properties")).status_code == 200


# -- websocket frames -------------------------------------------------------------------

BAD_FRAMES: dict[str, str | bytes] = {
    "binary, invalid UTF-8": b'{"messageType": "setProperty", "data": {"brightness": "\xff"}}',
    "binary, overlong": b"\xc0\xaf",
    "1,000 deep": '{"messageType": "setProperty", "data": {"brightness": '
    + "[" * 1_000
    + "]" * 1_000
    + "}}",
    "30,000 deep": "[" * 30_000 + "]" * 30_000,
    "empty binary": b"",
    "empty text": "",
}


@pytest.mark.parametrize("frame", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
async def test_bad_frames_get_an_error_and_the_socket_stays_usable(
    frame: str | bytes,
) -> None:
    server = lamp_server(host="127.0.0.1", port=free_port())
    async with serving(server) as base:
        url = "ws" + base.removeprefix("http") + "/"
        async with websockets.connect(url) as ws:
            await ws.send(frame)
            error = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert error["messageType"] == "error"
            assert error["data"]["status"] == "400 Bad Request"
            await ws.send('{"messageType": "setProperty", "data": {"brightness": 9}}')
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["data"] == {"brightness": 9}
        async with websockets.connect(url, subprotocols=[Subprotocol("webthingprotocol")]) as wtp:
            await wtp.send(frame)
            answer = json.loads(await asyncio.wait_for(wtp.recv(), 5))
            assert answer["messageType"] == "response" and answer["error"]["status"] == 400
            request = {"messageType": "request", "operation": "readproperty", "name": "brightness"}
            await wtp.send(json.dumps(request))
            assert json.loads(await asyncio.wait_for(wtp.recv(), 5))["value"] == 9


# -- Last-Event-ID ------------------------------------------------------------------------


async def test_garbage_last_event_id_resumes_from_now() -> None:
    server: WebThingServer = lamp_server(host="127.0.0.1", port=free_port())
    async with serving(server):
        port = server.port
        journal = app_state(server.create()).served[0].journal
        await server.things.things[0].set_property("brightness", 1)  # something to replay
        for garbage in [
            f"{journal.epoch}-{'9' * 5000}".encode(),  # longer than int() takes
            f"{journal.epoch}-99999999999999999999999999".encode(),  # past every sequence
            f"{journal.epoch}-²".encode(),  # a digit to str.isdigit, not to int()
            f"{journal.epoch}--1".encode(),
            b"\xff\xfe-\xc0\xaf",  # not UTF-8
            b"x" * 8000,
        ]:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"GET /wot/sse/properties/brightness HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Accept: text/event-stream\r\nLast-Event-ID: " + garbage + b"\r\n\r\n"
            )
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 200"), head
            first = await asyncio.wait_for(reader.readuntil(b"\n\n"), 5)
            assert b"stream open" in first  # and nothing replayed before the live changes
            await eventually(lambda: len(journal.streams) == 1)
            await server.things.things[0].set_property("brightness", 2)
            live = await asyncio.wait_for(reader.readuntil(b"\n\n"), 5)
            assert b"data: 2" in live, live
            await server.things.things[0].set_property("brightness", 1)
            writer.close()
            await eventually(lambda: not journal.streams)
