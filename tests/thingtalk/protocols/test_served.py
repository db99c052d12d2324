"""What only a real server shows: clients vanishing mid-stream, chunked bodies, raw sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets

from tests.support import eventually, lamp_server, serving
from thingtalk import WebThingServer
from thingtalk.protocols.state import app_state

from .conftest import real_socket


@pytest.fixture
async def served(port: int) -> AsyncIterator[tuple[WebThingServer, str]]:
    server = lamp_server(host="127.0.0.1", port=port)
    async with serving(server) as url:
        yield server, url


JSON = {"Content-Type": "application/json"}


async def test_client_vanishing_mid_stream_does_not_break_others(
    served: tuple[WebThingServer, str],
) -> None:
    server, url = served
    hub = app_state(server.create()).served[0].hub
    thing = server.things.things[0]
    ws_url = url.replace("http", "ws", 1) + "/"
    async with websockets.connect(ws_url) as stays, websockets.connect(ws_url) as leaves:
        await eventually(lambda: len(hub.sessions) == 2)
        for value in range(0, 20):
            await thing.sync_property("brightness", value)
        # Property status is state: a subscriber behind gets the latest value, not each one.
        assert json.loads(await leaves.recv())["data"] == {"brightness": 19}
        leaves.transport.abort()  # gone without a closing handshake, messages in flight
        for value in range(20, 60):
            await thing.sync_property("brightness", value)
        heard = [json.loads(await asyncio.wait_for(stays.recv(), 5))["data"]["brightness"]]
        while heard[-1] != 59:
            heard.append(json.loads(await asyncio.wait_for(stays.recv(), 5))["data"]["brightness"])
        assert heard == sorted(set(heard))  # in order, none twice
        await eventually(lambda: len(hub.sessions) == 1)

        async with httpx.AsyncClient(base_url=url) as http:
            response = await http.put("/properties/brightness", json={"brightness": 99})
            assert response.status_code == 200
        assert json.loads(await asyncio.wait_for(stays.recv(), 5))["data"] == {"brightness": 99}
    await eventually(lambda: not hub.sessions)
    assert hub not in thing.observers


async def test_client_closing_while_an_action_runs(served: tuple[WebThingServer, str]) -> None:
    server, url = served
    hub = app_state(server.create()).served[0].hub
    ws_url = url.replace("http", "ws", 1)
    fade = {"fade": {"input": {"brightness": 70, "duration": 30}}}
    async with real_socket(ws_url) as stays:
        async with real_socket(ws_url) as leaves:
            await leaves.send({"messageType": "requestAction", "data": fade})
            assert (await leaves.receive())["data"]["fade"]["status"] == "created"
        statuses = []
        while "completed" not in statuses:
            message = await stays.receive()
            if message["messageType"] == "actionStatus":
                statuses.append(message["data"]["fade"]["status"])
        assert statuses == ["created", "pending", "completed"]
        await eventually(lambda: len(hub.sessions) == 1)


async def test_chunked_oversized_body_is_413(served: tuple[WebThingServer, str]) -> None:
    _, url = served

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"brightness": 60, "padding": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.put(
            "/properties/brightness",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["error"] == "payload-too-large"
        assert (await http.get("/properties/brightness")).json() == {"brightness": 50}
        big = b"{" + b" " * (70 * 1024) + b"}"
        response = await http.post("/actions", content=big, headers=JSON)
        assert response.status_code == 413
        assert (await http.get("/actions")).json() == []


async def test_errors_and_options_over_the_wire(served: tuple[WebThingServer, str]) -> None:
    _, url = served
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.put("/properties/brightness", content=b"{nope", headers=JSON)
        assert response.status_code == 400
        assert set(response.json()) == {"error", "message"}
        response = await http.get("/actions/fade/unknown/")
        assert response.status_code == 404
        assert set(response.json()) == {"error", "message"}
        response = await http.options("/properties/brightness")
        assert response.status_code == 204
        assert response.content == b""
        assert "PUT" in response.headers["allow"]
        # A page of another origin is refused at the preflight (tests/security has more).
        preflight = {
            "Origin": "http://gateway.local",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type",
        }
        response = await http.options("/properties/brightness", headers=preflight)
        assert response.status_code == 403
        assert "access-control-allow-origin" not in response.headers


async def test_broken_frames_over_a_real_socket(served: tuple[WebThingServer, str]) -> None:
    _, url = served
    async with websockets.connect(url.replace("http", "ws", 1)) as ws:
        for frame in ("{", b"\x00\xff", json.dumps({"messageType": "nope", "data": {}})):
            await ws.send(frame)
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message["messageType"] == "error"
            assert message["data"]["status"] == "400 Bad Request"
        await ws.send(json.dumps({"messageType": "setProperty", "data": {"on": False}}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert message == {"messageType": "propertyStatus", "data": {"on": False}}
