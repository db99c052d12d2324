"""Home Assistant finds the appliance: discovery configs as Home Assistant documents them, its
commands move the real lamp, every change shows, and stale entities are removed."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

import thingtalk
from appliance.config import Config, parse_config
from appliance.homeassistant import MEMORY_FILE, HomeAssistantDiscovery, lamp_entities
from appliance.mqtt import mqtt_settings, page_origin, short_hostname
from appliance.service import Appliance, build_appliance
from hardware import SimulatedBackend, SimulatedLed
from tests.broker import Mosquitto, Recorder, recording
from tests.support import eventually, started

from .homeassistant_schema import problems

PREFIX = "homeassistant"


def make_config(tmp_path: Path, broker_url: str = "mqtt://127.0.0.1:1883", **mqtt: Any) -> Config:
    return parse_config(
        {
            "server": {"port": 8123},
            "discovery": {"enabled": False, "name": "Kitchen appliance"},
            "state": {"dir": str(tmp_path / "state")},
            "mqtt": {"enabled": True, "url": broker_url, "client_id": "appliance-kitchen", **mqtt},
        }
    )


def configs(appliance: Appliance) -> dict[str, dict[str, Any]]:
    assert appliance.mqtt is not None
    return {t: json.loads(p) for t, p in appliance.mqtt.discovery.configs.items()}


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path / "broker")
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@contextlib.asynccontextmanager
async def running(config: Config) -> AsyncIterator[tuple[Appliance, Any]]:
    """The appliance on simulated parts, served in-process; yields it and an HTTP client."""
    appliance = build_appliance(config, SimulatedBackend(seed=4))
    async with started(appliance.server.create()) as http:
        yield appliance, http


def test_the_discovery_configs_follow_home_assistants_schema(tmp_path: Path) -> None:
    appliance = build_appliance(make_config(tmp_path), SimulatedBackend())
    found = configs(appliance)
    node = "appliance-kitchen"
    assert sorted(found) == [
        f"{PREFIX}/binary_sensor/{node}/sensor_stale/config",
        f"{PREFIX}/light/{node}/lamp/config",
        f"{PREFIX}/sensor/{node}/humidity/config",
        f"{PREFIX}/sensor/{node}/temperature/config",
    ]
    for topic, config in found.items():
        component = topic.split("/")[1]
        assert problems(component, config) == [], topic

    base = f"thingtalk/{thingtalk.mqtt.topic_slug(short_hostname())}"
    device = {
        "identifiers": [node],
        "name": "Kitchen appliance",
        "manufacturer": "webthing-appliance",
        "model": "Lamp and DHT22 sensor",
        "sw_version": thingtalk.__version__,
        "configuration_url": f"http://{short_hostname()}.local:8123/",
    }
    common = {
        "device": device,
        "origin": {"name": "webthing-appliance", "sw_version": thingtalk.__version__},
        "availability_topic": f"{base}/availability",
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
    }
    assert found[f"{PREFIX}/light/{node}/lamp/config"] == {
        **common,
        "name": "Lamp",
        "unique_id": f"{node}_lamp",
        "command_topic": f"{base}/lamp/properties/on/set",
        "state_topic": f"{base}/lamp/properties/on",
        "payload_on": "true",
        "payload_off": "false",
        "brightness_command_topic": f"{base}/lamp/properties/brightness/set",
        "brightness_state_topic": f"{base}/lamp/properties/brightness",
        "brightness_scale": 100,
    }
    humidity = found[f"{PREFIX}/sensor/{node}/humidity/config"]
    temperature = found[f"{PREFIX}/sensor/{node}/temperature/config"]
    assert (humidity["device_class"], humidity["unit_of_measurement"]) == ("humidity", "%")
    assert (temperature["device_class"], temperature["unit_of_measurement"]) == (
        "temperature",
        "°C",
    )
    for sensor, name in ((humidity, "humidity"), (temperature, "temperature")):
        assert sensor["state_class"] == "measurement"
        assert sensor["state_topic"] == f"{base}/sensor/properties/{name}"
        assert sensor["value_template"] == "{{ value_json }}"
        assert {k: sensor[k] for k in common} == common
    stale = found[f"{PREFIX}/binary_sensor/{node}/sensor_stale/config"]
    assert stale["device_class"] == "problem"
    assert stale["state_topic"] == f"{base}/sensor/properties/stale"
    assert (stale["payload_on"], stale["payload_off"]) == ("true", "false")
    # One device, distinct entities.
    assert len({c["unique_id"] for c in found.values()}) == 4
    assert all(c["device"] == device for c in found.values())


class HomeAssistant:
    """What Home Assistant does with the appliance's discovery configs (the default light
    schema with ``on_command_type: last``), over a recording client."""

    def __init__(self, mqtt: Recorder, discovered: dict[str, dict[str, Any]]) -> None:
        self.mqtt = mqtt
        self.light = next(c for t, c in discovered.items() if "/light/" in t)
        self.sensors = {c["device_class"]: c for t, c in discovered.items() if "/sensor/" in t}
        self.problem = next(c for t, c in discovered.items() if "/binary_sensor/" in t)

    async def turn_on(self, brightness_pct: int | None = None) -> None:
        if brightness_pct is not None:
            scale = self.light["brightness_scale"]
            await self.mqtt.publish(
                self.light["brightness_command_topic"],
                str(round(brightness_pct / 100 * scale)).encode(),
                raw=True,
            )
        await self.mqtt.publish(
            self.light["command_topic"], self.light["payload_on"].encode(), raw=True
        )

    async def turn_off(self) -> None:
        await self.mqtt.publish(
            self.light["command_topic"], self.light["payload_off"].encode(), raw=True
        )

    def available(self) -> bool:
        return self.mqtt.latest.get(self.light["availability_topic"]) == b"online"

    def light_is_on(self) -> bool | None:
        payload = self.mqtt.latest.get(self.light["state_topic"], b"").decode()
        return {self.light["payload_on"]: True, self.light["payload_off"]: False}.get(payload)

    def brightness_pct(self) -> float | None:
        payload = self.mqtt.latest.get(self.light["brightness_state_topic"])
        return None if payload is None else float(payload) / self.light["brightness_scale"] * 100

    def sensor(self, device_class: str) -> str | None:
        # value_template "{{ value_json }}": Jinja renders the decoded JSON.
        payload = self.mqtt.latest.get(self.sensors[device_class]["state_topic"])
        return None if payload is None else str(msgspec.json.decode(payload))

    def problem_on(self) -> bool | None:
        payload = self.mqtt.latest.get(self.problem["state_topic"], b"").decode()
        return {self.problem["payload_on"]: True, self.problem["payload_off"]: False}.get(payload)


async def test_home_assistant_drives_the_lamp_and_sees_every_change(
    tmp_path: Path, broker: Mosquitto
) -> None:
    config = make_config(tmp_path, broker.url)
    async with running(config) as (appliance, http), recording(broker) as mqtt:
        await eventually(lambda: len([t for t in mqtt.latest if t.startswith(PREFIX)]) == 4)
        # What Home Assistant reads from the broker is what the appliance announced.
        discovered = {t: json.loads(p) for t, p in mqtt.latest.items() if t.startswith(PREFIX)}
        assert discovered == configs(appliance)
        assert set(await retained(broker, PREFIX)) == set(discovered)
        ha = HomeAssistant(mqtt, discovered)
        led = appliance.led
        assert isinstance(led, SimulatedLed)
        await eventually(ha.available)
        assert ha.light_is_on() is False and ha.brightness_pct() == 50
        await eventually(lambda: ha.sensor("humidity") not in (None, "None"))
        assert float(ha.sensor("temperature") or "nan") == appliance.sensor.get_property(
            "temperature"
        )
        assert ha.problem_on() is False

        # Home Assistant turns the lamp on at 42 %: the real LED follows, HTTP agrees.
        await ha.turn_on(42)
        await eventually(lambda: ha.light_is_on() is True and ha.brightness_pct() == 42)
        assert led.level == 42
        assert await (await http.get("/0/properties")).get_json() == {"on": True, "brightness": 42}

        # Changes made elsewhere show in Home Assistant: a page or gateway write, a fade.
        await http.put("/0/properties/brightness", json={"brightness": 10})
        await eventually(lambda: ha.brightness_pct() == 10)
        fade = {"fade": {"input": {"brightness": 80, "duration": 50}}}
        assert (await http.post("/0/actions", json=fade)).status_code == 201
        await eventually(lambda: ha.brightness_pct() == 80)
        assert led.level == 80

        await ha.turn_off()
        await eventually(lambda: ha.light_is_on() is False)
        assert led.level == 0 and appliance.lamp.get_property("brightness") == 80
        # A value the lamp refuses changes nothing and is answered on the errors topic.
        await mqtt.publish(ha.light["brightness_command_topic"], b"250", raw=True)
        errors = f"{ha.light['command_topic'].rsplit('/properties/', 1)[0]}/errors"
        await eventually(lambda: errors in mqtt.latest)
        assert mqtt.json(errors)["error"] == "invalid-value"
        assert appliance.lamp.get_property("brightness") == 80


async def test_home_assistants_birth_message_brings_the_configs_back(
    tmp_path: Path, broker: Mosquitto
) -> None:
    async with (
        running(make_config(tmp_path, broker.url)) as (appliance, _),
        recording(broker) as mqtt,
    ):
        announced = configs(appliance)
        await eventually(lambda: all(t in mqtt.latest for t in announced))
        # A broker that lost its retained messages (or an operator who cleared them) ...
        for topic in announced:
            await mqtt.publish(topic, b"", raw=True, retain=True)
        await eventually(lambda: all(mqtt.latest[t] == b"" for t in announced))
        # ... and Home Assistant restarting: it says so, the appliance announces again.
        await mqtt.publish(f"{PREFIX}/status", b"online", raw=True)
        await eventually(lambda: all(mqtt.latest[t] != b"" for t in announced))
        assert {t: json.loads(mqtt.latest[t]) for t in announced} == announced


async def retained(broker: Mosquitto, prefix: str) -> dict[str, bytes]:
    """The retained messages under ``prefix`` now (a fresh subscription gets exactly those)."""
    async with recording(broker, f"{prefix}/#") as mqtt:
        # The bridge's availability is retained for as long as the test has a bridge at all;
        # wait for one marker message rather than for silence.
        await mqtt.publish(f"{prefix}/zz-marker", b"x", raw=True)
        await eventually(lambda: f"{prefix}/zz-marker" in mqtt.latest)
        return {t: p for t, p in mqtt.latest.items() if p and not t.endswith("zz-marker")}


async def test_a_changed_config_removes_stale_entities(tmp_path: Path, broker: Mosquitto) -> None:
    memory = tmp_path / "state" / MEMORY_FILE
    first = make_config(tmp_path, broker.url)
    async with running(first) as (appliance, _):
        old = configs(appliance)
        await eventually(lambda: appliance.mqtt is not None and appliance.mqtt.bridge.idle)
    assert set(await retained(broker, PREFIX)) == set(old)
    assert set(json.loads(memory.read_text())["config_topics"]) == set(old)

    # Another node id (a new client_id or hostname): the old device's entities go.
    renamed = make_config(tmp_path, broker.url, client_id="appliance-porch")
    async with running(renamed) as (appliance, _):
        new = configs(appliance)
        await eventually(lambda: json.loads(memory.read_text())["config_topics"] == sorted(new))
    assert set(await retained(broker, PREFIX)) == set(new)

    # Discovery turned off: nothing of the appliance stays in Home Assistant.
    off = make_config(tmp_path, broker.url, client_id="appliance-porch", discovery=False)
    async with running(off) as (appliance, _):
        assert configs(appliance) == {}
        await eventually(lambda: json.loads(memory.read_text())["config_topics"] == [])
    assert await retained(broker, PREFIX) == {}


async def test_a_thing_no_longer_announced_is_removed(tmp_path: Path, broker: Mosquitto) -> None:
    config = make_config(tmp_path, broker.url)
    async with running(config) as (appliance, _):
        everything = configs(appliance)
        await eventually(lambda: appliance.mqtt is not None and appliance.mqtt.bridge.idle)
    # The same appliance announcing only its lamp (as a build without the sensor would).
    appliance = build_appliance(config, SimulatedBackend())
    assert appliance.mqtt is not None
    bridge = appliance.mqtt.bridge
    light = next(c for t, c in everything.items() if "/light/" in t)
    entities = lamp_entities(
        bridge.things[0].topics, node_id="appliance-kitchen", device=light["device"], bridge=bridge
    )
    appliance.mqtt.discovery = HomeAssistantDiscovery(
        bridge, entities, prefix=PREFIX, node_id="appliance-kitchen", state_dir=config.state.dir
    )
    lamp_only = appliance.mqtt.discovery.configs
    assert list(lamp_only) == [t for t in everything if "/light/" in t]
    async with started(appliance.server.create()):
        await eventually(
            lambda: (
                set(json.loads((tmp_path / "state" / MEMORY_FILE).read_text())["config_topics"])
                == set(lamp_only)
            )
        )
    assert set(await retained(broker, PREFIX)) == set(lamp_only)
    assert set(everything) > set(lamp_only)


def test_the_schema_check_catches_what_home_assistant_would_refuse() -> None:
    assert problems("sensor", {"device_class": "temperature", "unit_of_measurement": "%"}) == [
        "missing required `state_topic`",
        "unit '%' is wrong for temperature",
    ]
    assert problems("light", {"command_topic": "a/#", "colour": "red"}) == [
        "`command_topic` = 'a/#' is not valid",
        "`colour` is not an option of an MQTT light",
    ]
    assert problems("binary_sensor", {"state_topic": "a", "device": {"name": "x"}}) == [
        "a device needs identifiers or connections"
    ]


def test_mqtt_settings_from_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("appliance.mqtt.socket.gethostname", lambda: "Kitchen.lan")
    password = tmp_path / "password"
    password.write_text("s3cret\n")
    config = parse_config(
        {"mqtt": {"enabled": True, "username": "me", "password_file": str(password)}}
    )
    settings = mqtt_settings(config)
    assert (settings.host, settings.port) == ("homeassistant.local", 1883)
    assert settings.credentials == ("me", "s3cret")  # the file's line, without its newline
    assert (settings.client_id, settings.base_topic) == ("appliance-kitchen", "thingtalk/kitchen")
    assert page_origin(config) == "http://kitchen.local:8888"
    assert page_origin(parse_config({"server": {"port": 80}})) == "http://kitchen.local"
