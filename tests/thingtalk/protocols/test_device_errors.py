"""A device that fails a write: every protocol answers with its message, not a generic 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart.testing import QuartClient

from tests.support import started
from thingtalk import Property, Thing, Value, WebThingServer


class Dimmer(Thing):
    title = "Dimmer"

    async def build(self) -> Dimmer:
        def jammed(value: Any) -> None:
            raise OSError("the dimmer does not answer")

        await self.add_property(Property("level", Value(10, jammed), {"type": "integer"}))
        return self


@pytest.fixture
async def client() -> AsyncIterator[QuartClient]:
    async with started(WebThingServer(Dimmer(), discovery=False).create()) as test_client:
        yield test_client


async def test_rest_write_is_502_with_the_device_message(client: QuartClient) -> None:
    response = await client.put("/properties/level", json={"level": 20})
    assert response.status_code == 502
    body = await response.get_json()
    assert body["error"] == "device-error"
    assert "the dimmer does not answer" in body["message"]
    assert await (await client.get("/properties/level")).get_json() == {"level": 10}


async def test_w3c_write_is_a_502_problem(client: QuartClient) -> None:
    response = await client.put("/wot/properties/level", json=20)
    assert response.status_code == 502
    assert response.content_type == "application/problem+json"
    assert "the dimmer does not answer" in (await response.get_json())["detail"]


async def test_websocket_write_gets_an_error_message(client: QuartClient) -> None:
    async with client.websocket("/") as socket:
        await socket.send(json.dumps({"messageType": "setProperty", "data": {"level": 20}}))
        reply = json.loads(await socket.receive())
    assert reply["messageType"] == "error"
    assert reply["data"]["status"] == "502 Bad Gateway"
    assert "the dimmer does not answer" in reply["data"]["message"]
