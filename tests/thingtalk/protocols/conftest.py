"""Shared helpers for the WebThings server tests: the example lamp, clients, a served app."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from quart.testing import QuartClient

from tests.support import TIMEOUT, free_port, lamp_class
from thingtalk import MultipleThings, Property, Thing, Value, WebThingServer

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")
NO_BODY = object()


class Sensor(Thing):
    """A small read-only humidity sensor, the second thing of a MultipleThings server."""

    id = "urn:dev:ops:my-humidity-sensor-1234"
    title = "My Humidity Sensor"
    type = ["MultiLevelSensor"]
    description = "A web connected humidity sensor"

    async def build(self) -> Sensor:
        await self.add_property(
            Property(
                "level",
                Value(40.0),
                {
                    "@type": "LevelProperty",
                    "title": "Humidity",
                    "type": "number",
                    "minimum": 0,
                    "maximum": 100,
                    "unit": "percent",
                    "readOnly": True,
                },
            )
        )
        return self


def multiple_server(**options: Any) -> WebThingServer:
    """A server of the lamp at ``/0`` and a sensor at ``/1``."""
    options.setdefault("discovery", False)
    things = MultipleThings([lamp_class()(), Sensor()], "Lamp and sensor")
    return WebThingServer(things, **options)


# -- transports: one conformance sequence, run over Quart's test client or a real server --


class QuartHttp:
    """``(status, json or None)`` requests through Quart's test client."""

    def __init__(self, client: QuartClient) -> None:
        self.client = client

    async def __call__(self, method: str, path: str, body: Any = NO_BODY) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method, "headers": {"Accept": "application/json"}}
        if body is not NO_BODY:
            kwargs["json"] = body
        response = await self.client.open(path, **kwargs)
        data = await response.get_data()
        return response.status_code, json.loads(data) if data else None


class HttpxHttp:
    """The same over a real socket with httpx."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def __call__(self, method: str, path: str, body: Any = NO_BODY) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"headers": {"Accept": "application/json"}}
        if body is not NO_BODY:
            kwargs["json"] = body
        response = await self.client.request(method, path, **kwargs)
        return response.status_code, response.json() if response.content else None


class Socket:
    """A JSON websocket client over either Quart's test websocket or ``websockets``."""

    def __init__(self, send: Callable[[str], Awaitable[Any]], recv: Callable[[], Awaitable[Any]]):
        self._send = send
        self._recv = recv

    async def send(self, message: Any) -> None:
        """Send ``message`` (JSON-encoded unless it is already a string)."""
        await self._send(message if isinstance(message, str) else json.dumps(message))

    async def receive(self, within: float = TIMEOUT) -> Any:
        """The next message, decoded."""
        raw = await asyncio.wait_for(self._recv(), within)
        return json.loads(raw)

    async def nothing_within(self, seconds: float = 0.1) -> bool:
        """True if no message arrives in ``seconds`` (for "must not be sent" checks)."""
        try:
            await asyncio.wait_for(self._recv(), seconds)
        except TimeoutError:
            return True
        return False


@contextlib.asynccontextmanager
async def quart_socket(client: QuartClient, path: str) -> AsyncIterator[Socket]:
    """A websocket to ``path`` through the test client, once the server has taken it up.

    The test client does not wait for the handshake, so one round trip (a frame that
    only earns this socket an error) makes sure the session hears the thing's changes.
    """
    async with client.websocket(path) as ws:
        socket = Socket(ws.send, ws.receive)
        await socket.send("{}")
        message = await socket.receive()
        assert message["messageType"] == "error", message
        yield socket


@contextlib.asynccontextmanager
async def real_socket(url: str, **kwargs: Any) -> AsyncIterator[Socket]:
    """A websocket to ``url`` with the ``websockets`` client."""
    import websockets

    async with websockets.connect(url, **kwargs) as ws:
        yield Socket(ws.send, ws.recv)


# -- a served app on a free loopback port --


@pytest.fixture
def port() -> int:
    return free_port()


# -- the two entrances of the hot requests: the lean router (the default) and Quart alone --


@pytest.fixture(params=["lean", "quart"])
def entrance(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test through the lean router and again with every request going through Quart."""
    if request.param == "quart":
        from thingtalk.protocols import app

        monkeypatch.setattr(app, "Lean", lambda quart, inner, state: inner)
    return str(request.param)
