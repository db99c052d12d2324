"""The MQTT bridge's tests: a real Mosquitto per test, and a bulb with every kind of affordance."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.broker import Mosquitto
from tests.support import started
from thingtalk import Action, Property, Thing, Value, WebThingServer
from thingtalk.mqtt import MqttBridge, MqttSettings

#: Quick retries, so a test waits on a reconnect for well under a second.
FAST = {"reconnect_min": 0.05, "reconnect_max": 0.2, "timeout": 3.0, "stop_timeout": 2.0}


class Blink(Action):
    """Blinks ``times`` times (a short sleep each), then says how often it blinked."""

    async def perform_action(self) -> Any:
        for _ in range(self.input["times"]):
            await asyncio.sleep(0.001)
        self.thing.raise_event("blinked", self.input["times"])
        return {"blinked": self.input["times"]}


class Bulb(Thing):
    """Writable ``on`` and ``level`` (whose forwarder records what it drove), a read-only
    ``temperature``, a ``blink`` action and a ``blinked`` event."""

    id = "urn:dev:ops:test-bulb"
    title = "Test Bulb"
    type = ["Light"]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.driven: list[int] = []

    async def build(self) -> Bulb:
        await self.add_property(Property("on", Value(False), {"type": "boolean"}))
        await self.add_property(
            Property(
                "level",
                Value(50, self.driven.append),
                {"type": "integer", "minimum": 0, "maximum": 100, "unit": "percent"},
            )
        )
        await self.add_property(
            Property("temperature", Value(21.5), {"type": "number", "readOnly": True})
        )
        self.add_available_action(
            "blink",
            {
                "title": "Blink",
                "input": {
                    "type": "object",
                    "required": ["times"],
                    "properties": {"times": {"type": "integer", "minimum": 1, "maximum": 10}},
                },
            },
            Blink,
        )
        self.add_available_event("blinked", {"type": "integer"})
        return self


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto of this test's own, on a free loopback port."""
    mosquitto = Mosquitto(tmp_path / "broker")
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


def settings(broker: Mosquitto | str, **options: Any) -> MqttSettings:
    """Settings for ``broker`` (or a URL) with quick retries."""
    url = broker if isinstance(broker, str) else broker.url
    return MqttSettings(url, **{**FAST, **options})


@contextlib.asynccontextmanager
async def bridged(bridge: MqttBridge) -> AsyncIterator[MqttBridge]:
    """The bridge started for the block, stopped after it."""
    await bridge.start()
    try:
        yield bridge
    finally:
        await bridge.stop()


@contextlib.asynccontextmanager
async def served(thing: Thing, bridge: MqttBridge) -> AsyncIterator[Any]:
    """A served app of ``thing`` whose startup starts the bridge; yields its test client."""
    server = WebThingServer(
        thing,
        discovery=False,
        additional_on_startup=[bridge.start],
        additional_on_shutdown=[bridge.stop],
    )
    async with started(server.create()) as client:
        yield client
