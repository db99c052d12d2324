"""The bridge against a real broker: state out, writes and invocations in, errors answered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.broker import Mosquitto, recording
from tests.support import eventually
from thingtalk.mqtt import MqttBridge

from .conftest import Bulb, bridged, served, settings

BASE = "thingtalk/urn-dev-ops-test-bulb"


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
async def test_state_is_retained_and_writes_round_trip_both_ways(
    broker: Mosquitto, protocol: Any
) -> None:
    bulb = Bulb()
    bridge = MqttBridge(bulb, settings(broker, protocol=protocol))
    async with served(bulb, bridge) as http:
        await eventually(lambda: bridge.idle)
        # A client that subscribes later reads every value: they are retained.
        async with recording(broker, f"{BASE}/#") as mqtt:
            await eventually(lambda: mqtt.latest.get(f"{BASE}/availability") == b"online")
            assert mqtt.json(f"{BASE}/properties/on") is False
            assert mqtt.json(f"{BASE}/properties/level") == 50
            assert mqtt.json(f"{BASE}/properties/temperature") == 21.5
            assert all(m.retain for m in mqtt.messages)

            # HTTP -> MQTT: a PUT shows on the broker.
            response = await http.put("/properties/level", json={"level": 30})
            assert response.status_code == 200
            await mqtt.wait_for(f"{BASE}/properties/level", 30)

            # MQTT -> HTTP: a write on the set topic drives the device and shows over HTTP.
            await mqtt.publish(f"{BASE}/properties/level/set", 75)
            await mqtt.wait_for(f"{BASE}/properties/level", 75)
            assert bulb.driven == [30, 75]  # the forwarder ran, as for the HTTP write
            assert await (await http.get("/properties/level")).get_json() == {"level": 75}
            await mqtt.publish(f"{BASE}/properties/on/set", True)
            await mqtt.wait_for(f"{BASE}/properties/on", True)
            assert await (await http.get("/properties")).get_json() == {
                "on": True,
                "level": 75,
                "temperature": 21.5,
            }


async def test_a_bad_write_changes_nothing_and_is_answered_like_http(broker: Mosquitto) -> None:
    bulb = Bulb()
    bridge = MqttBridge(bulb, settings(broker))
    async with served(bulb, bridge) as http, recording(broker, f"{BASE}/#") as mqtt:
        await eventually(lambda: f"{BASE}/availability" in mqtt.latest)
        errors = f"{BASE}/errors"
        cases: list[tuple[str, bytes, str]] = [
            ("level", b"300", "invalid-value"),
            ("level", b'"bright"', "invalid-value"),
            ("level", b"{nope", "bad-request"),
            ("temperature", b"30", "read-only"),
            ("colour", b'"red"', "not-found"),
        ]
        for number, (name, payload, code) in enumerate(cases, 1):
            await mqtt.publish(f"{BASE}/properties/{name}/set", payload, raw=True)
            await eventually(lambda n=number: len(mqtt.payloads(errors)) == n)  # type: ignore[misc]
            assert mqtt.json(errors)["error"] == code
        # The same body as the HTTP answer to the same write.
        response = await http.put("/properties/level", json={"level": 300})
        assert response.status_code == 400
        assert mqtt.json_messages(errors)[0] == await response.get_json()
        # Nothing changed: no forwarder call, the values and the broker's copies as they were.
        assert bulb.driven == []
        assert bulb.get_properties() == {"on": False, "level": 50, "temperature": 21.5}
        assert mqtt.payloads(f"{BASE}/properties/level") == [b"50"]
        assert bridge.stats.refused == len(cases)


async def test_actions_run_and_report_their_status_and_events(broker: Mosquitto) -> None:
    bulb = Bulb()
    async with (
        bridged(MqttBridge(bulb, settings(broker))) as bridge,
        recording(broker, f"{BASE}/#") as mqtt,
    ):
        await eventually(lambda: bridge.connected and f"{BASE}/availability" in mqtt.latest)
        await mqtt.publish(f"{BASE}/actions/blink", {"times": 3})
        status = f"{BASE}/actions/blink/status"
        await eventually(
            lambda: mqtt.payloads(status) and mqtt.json(status)["state"] == "completed"
        )
        states = [s["state"] for s in mqtt.json_messages(status)]
        assert states == ["pending", "running", "completed"]
        final = mqtt.json(status)
        assert final["output"] == {"blinked": 3}
        assert {s["actionID"] for s in mqtt.json_messages(status)} == {final["actionID"]}
        assert [a.id for a in bulb.get_actions("blink")] == [final["actionID"]]
        # The action's event, and one raised by the thing itself.
        await mqtt.wait_for(f"{BASE}/events/blinked", 3)
        bulb.raise_event("blinked", 7)
        await mqtt.wait_for(f"{BASE}/events/blinked", 7)
        assert not any(m.retain for m in mqtt.messages if "/events/" in m.topic.value)

        # Bad input: nothing runs, the reason comes back.
        await mqtt.publish(f"{BASE}/actions/blink", {"times": 99})
        await mqtt.publish(f"{BASE}/actions/explode", None)
        await eventually(lambda: len(mqtt.payloads(f"{BASE}/errors")) == 2)
        bad, unknown = mqtt.json_messages(f"{BASE}/errors")
        assert bad["error"] == "invalid-value" and "99" in bad["message"]
        assert unknown["error"] == "not-found"
        assert len(list(bulb.get_actions())) == 1


async def test_retained_commands_are_ignored(broker: Mosquitto) -> None:
    """A retained write would be replayed on every reconnect: it is refused."""
    bulb = Bulb()
    async with recording(broker) as mqtt:
        await mqtt.publish(f"{BASE}/properties/level/set", 10, retain=True)
        async with bridged(MqttBridge(bulb, settings(broker))) as bridge:
            await eventually(lambda: bridge.connected and f"{BASE}/availability" in mqtt.latest)
            await mqtt.publish(f"{BASE}/properties/level/set", 20)
            await mqtt.wait_for(f"{BASE}/properties/level", 20)
        assert bulb.driven == [20]
        await mqtt.publish(f"{BASE}/properties/level/set", b"", raw=True, retain=True)


async def test_a_clean_stop_says_offline(broker: Mosquitto) -> None:
    bulb = Bulb()
    bridge = MqttBridge(bulb, settings(broker))
    async with recording(broker, f"{BASE}/availability") as mqtt:
        async with bridged(bridge):
            await eventually(lambda: mqtt.latest.get(f"{BASE}/availability") == b"online")
        await eventually(lambda: mqtt.latest.get(f"{BASE}/availability") == b"offline")
    assert not bridge.connected
    # Stopped means stopped: changes no longer reach the broker.
    await bulb.set_property("level", 1)
    async with recording(broker, f"{BASE}/#") as later:
        await eventually(lambda: f"{BASE}/properties/level" in later.latest)
        assert later.json(f"{BASE}/properties/level") == 50
        assert later.latest[f"{BASE}/availability"] == b"offline"


async def test_several_things_share_one_connection_and_availability(broker: Mosquitto) -> None:
    one, two = (
        Bulb(id_="urn:dev:ops:one", title="Kitchen"),
        Bulb(id_="urn:dev:ops:two", title="Hall"),
    )
    bridge = MqttBridge([one, two], settings(broker, base_topic="home/lights"))
    assert [b.topics.base for b in bridge.things] == ["home/lights/kitchen", "home/lights/hall"]
    async with bridged(bridge), recording(broker, "home/#") as mqtt:
        await eventually(lambda: mqtt.latest.get("home/lights/availability") == b"online")
        await mqtt.publish("home/lights/hall/properties/level/set", 5)
        await mqtt.wait_for("home/lights/hall/properties/level", 5)
        assert one.get_property("level") == 50 and two.get_property("level") == 5
        td = json.loads(mqtt.latest["home/lights/kitchen/td"])
        assert td["id"] == "urn:dev:ops:one"


async def test_a_device_that_fails_a_write_is_answered_like_http(broker: Mosquitto) -> None:
    bulb = Bulb()
    await bulb.ensure_built()

    def refuse(level: int) -> None:
        raise OSError(f"the dimmer is unplugged (asked for {level})")

    bulb.find_property("level").value.value_forwarder = refuse
    bridge = MqttBridge(bulb, settings(broker))
    async with served(bulb, bridge) as http, recording(broker, f"{BASE}/#") as mqtt:
        await eventually(lambda: bridge.idle and f"{BASE}/availability" in mqtt.latest)
        await mqtt.publish(f"{BASE}/properties/level/set", 10)
        await eventually(lambda: f"{BASE}/errors" in mqtt.latest)
        response = await http.put("/properties/level", json={"level": 10})
        assert mqtt.json(f"{BASE}/errors") == await response.get_json()
        assert mqtt.json(f"{BASE}/errors")["error"] == "device-error"
        assert bulb.get_property("level") == 50
        assert mqtt.payloads(f"{BASE}/properties/level") == [b"50"]
