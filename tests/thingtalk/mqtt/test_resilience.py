"""A broker that restarts, freezes or is not there yet never stalls the things, and nothing
that matters is lost: after a reconnect the broker has the latest values."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.broker import Mosquitto, recording
from tests.support import eventually, free_port
from thingtalk.mqtt import MqttBridge

from .conftest import Bulb, bridged, served, settings

BASE = "thingtalk/urn-dev-ops-test-bulb"


async def test_broker_restarted_mid_run_gets_the_latest_values(broker: Mosquitto) -> None:
    bulb = Bulb()
    # Retries every 0.25-0.5 s: the test's recorder subscribes well before the bridge is back.
    bridge = MqttBridge(bulb, settings(broker, reconnect_min=0.5, reconnect_max=0.5))
    async with bridged(bridge):
        await eventually(lambda: bridge.connected)
        broker.stop()  # no persistence: the restarted broker has forgotten every retained value
        await eventually(lambda: not bridge.connected)
        for level in range(11, 41):  # changes while the broker is away
            await bulb.set_property("level", level)
        await bulb.set_property("on", True)
        for n in (1, 2, 3):
            bulb.raise_event("blinked", n)
        broker.start()
        async with recording(broker, f"{BASE}/#") as mqtt:
            assert bridge.stats.connects == 1, "the bridge came back before the test subscribed"
            await eventually(lambda: mqtt.latest.get(f"{BASE}/availability") == b"online")
            assert mqtt.json(f"{BASE}/properties/level") == 40
            assert mqtt.json(f"{BASE}/properties/on") is True
            assert f"{BASE}/td" in mqtt.latest
            # Conflated: one value per property, not the thirty changes.
            assert mqtt.payloads(f"{BASE}/properties/level") == [b"40"]
            # Events are queued, not conflated: all three arrive, in order.
            await eventually(lambda: len(mqtt.payloads(f"{BASE}/events/blinked")) == 3)
            assert mqtt.json_messages(f"{BASE}/events/blinked") == [1, 2, 3]
            # And the session works both ways again.
            await mqtt.publish(f"{BASE}/properties/level/set", 99)
            await mqtt.wait_for(f"{BASE}/properties/level", 99)
        assert bridge.stats.connects == 2


async def test_a_frozen_broker_stalls_neither_http_nor_the_thing(broker: Mosquitto) -> None:
    bulb = Bulb()
    bridge = MqttBridge(bulb, settings(broker, queue_size=20, timeout=30.0))
    async with served(bulb, bridge) as http, recording(broker, f"{BASE}/#") as mqtt:
        await eventually(lambda: mqtt.latest.get(f"{BASE}/availability") == b"online")
        broker.pause()  # up, connected, but reads and acknowledges nothing
        try:
            for n in range(1000):
                await bulb.set_property("level", n % 101)
            for n in range(50):
                bulb.raise_event("blinked", n)
            # HTTP answers too, while the broker is frozen.
            response = await http.put("/properties/level", json={"level": 64})
            assert response.status_code == 200
            assert await (await http.get("/properties/level")).get_json() == {"level": 64}
            # What waits is bounded: one pending value per property, the newest events.
            assert len(bridge.outbox) <= len(bulb.properties) + 20 + 2
            assert bridge.outbox.dropped >= 29
        finally:
            broker.resume()
        await mqtt.wait_for(f"{BASE}/properties/level", 64)
        await eventually(lambda: mqtt.json_messages(f"{BASE}/events/blinked")[-1:] == [49])
        events = mqtt.json_messages(f"{BASE}/events/blinked")
        assert events == sorted(events) and len(events) <= 21  # the oldest were dropped


async def test_a_broker_that_is_not_there_yet(tmp_path: Path) -> None:
    port = free_port()
    bulb = Bulb()
    bridge = MqttBridge(bulb, settings(f"mqtt://127.0.0.1:{port}"))
    async with served(bulb, bridge) as http:
        # The server serves and the thing takes writes while no broker answers.
        response = await http.put("/properties/level", json={"level": 12})
        assert response.status_code == 200
        await eventually(lambda: bridge._failures >= 2)
        assert not bridge.connected
        broker = Mosquitto(tmp_path / "late", port=port)
        broker.start()
        try:
            async with recording(broker, f"{BASE}/#") as mqtt:
                await eventually(lambda: mqtt.latest.get(f"{BASE}/availability") == b"online")
                assert mqtt.json(f"{BASE}/properties/level") == 12
        finally:
            broker.stop()


async def test_an_unreachable_broker_is_logged_once_then_quietly_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, "thingtalk.mqtt")
    bridge = MqttBridge(Bulb(), settings(f"mqtt://127.0.0.1:{free_port()}"))
    async with bridged(bridge):
        await eventually(lambda: bridge._failures >= 4)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "retrying with backoff" in warnings[0].getMessage()
