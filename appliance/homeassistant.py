"""Home Assistant finds the appliance by itself: MQTT discovery for the lamp and the sensor.

One Home Assistant device per appliance holds four entities: the lamp as a ``light`` (on/off
and brightness on the lamp's own 0-100 scale), humidity and temperature ``sensor``\\ s, and
the sensor's ``stale`` flag as a ``binary_sensor`` of class ``problem``. Each config points
at the bridge's own topics: Home Assistant reads the retained values the bridge keeps
current, and writes the lamp's ``.../set`` topics, so its commands take the path of an
HTTP write and whatever else moves the lamp (the page, a gateway, a fade) shows there too.

Configs are retained at ``<prefix>/<component>/<node id>/<object id>/config`` and published
again when Home Assistant announces itself (``<prefix>/status`` = ``online``). The config
topics ever published are remembered in the state directory, so a config that no longer
has them (discovery turned off, a thing gone, another node id) clears them with an empty
retained message, and forgets them once the broker has taken it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

from thingtalk.descriptions.mqtt import ThingTopics
from thingtalk.mqtt import MqttBridge
from thingtalk.mqtt.bridge import OFFLINE, ONLINE

from .state import write_atomically

log = logging.getLogger(__name__)

MEMORY_FILE = "homeassistant.json"
#: What Home Assistant publishes on ``<prefix>/status`` when it (re)starts.
BIRTH = b"online"


@dataclass(frozen=True)
class Entity:
    """One discovered entity: its component (``light``, ``sensor``, ...), object id and config."""

    component: str
    object_id: str
    config: dict[str, Any]

    def topic(self, prefix: str, node_id: str) -> str:
        """Where its config is retained."""
        return f"{prefix}/{self.component}/{node_id}/{self.object_id}/config"


def device_info(
    *, node_id: str, name: str, model: str, sw_version: str, configuration_url: str
) -> dict[str, Any]:
    """The Home Assistant device all of the appliance's entities belong to."""
    return {
        "identifiers": [node_id],
        "name": name,
        "manufacturer": "webthing-appliance",
        "model": model,
        "sw_version": sw_version,
        "configuration_url": configuration_url,
    }


def _common(
    node_id: str, object_id: str, name: str, device: dict[str, Any], bridge: MqttBridge
) -> dict[str, Any]:
    return {
        "name": name,
        "unique_id": f"{node_id}_{object_id}",
        "device": device,
        "origin": {"name": "webthing-appliance", "sw_version": device["sw_version"]},
        "availability_topic": bridge.availability_topic,
        "payload_available": ONLINE.decode(),
        "payload_not_available": OFFLINE.decode(),
        "qos": bridge.settings.qos,
    }


def lamp_entities(
    lamp: ThingTopics, *, node_id: str, device: dict[str, Any], bridge: MqttBridge
) -> list[Entity]:
    """The lamp as a light: the bridge's JSON ``true``/``false`` are its on/off payloads, and
    ``brightness_scale: 100`` makes Home Assistant speak the lamp's percent."""
    return [
        Entity(
            "light",
            "lamp",
            {
                **_common(node_id, "lamp", "Lamp", device, bridge),
                "command_topic": lamp.property_set("on"),
                "state_topic": lamp.property_value("on"),
                "payload_on": "true",
                "payload_off": "false",
                "brightness_command_topic": lamp.property_set("brightness"),
                "brightness_state_topic": lamp.property_value("brightness"),
                "brightness_scale": 100,
            },
        )
    ]


def sensor_entities(
    sensor: ThingTopics, *, node_id: str, device: dict[str, Any], bridge: MqttBridge
) -> list[Entity]:
    """Humidity and temperature (``null`` before the first reading renders as ``None``,
    which Home Assistant shows as unknown), and the stale flag as a problem."""
    measurements = [
        ("humidity", "Humidity", "humidity", "%"),
        ("temperature", "Temperature", "temperature", "°C"),
    ]
    entities = [
        Entity(
            "sensor",
            name,
            {
                **_common(node_id, name, title, device, bridge),
                "state_topic": sensor.property_value(name),
                "value_template": "{{ value_json }}",
                "device_class": device_class,
                "state_class": "measurement",
                "unit_of_measurement": unit,
                "suggested_display_precision": 1,
            },
        )
        for name, title, device_class, unit in measurements
    ]
    entities.append(
        Entity(
            "binary_sensor",
            "sensor_stale",
            {
                **_common(node_id, "sensor_stale", "Sensor readings stale", device, bridge),
                "state_topic": sensor.property_value("stale"),
                "payload_on": "true",
                "payload_off": "false",
                "device_class": "problem",
                "entity_category": "diagnostic",
            },
        )
    )
    return entities


class HomeAssistantDiscovery:
    """Announces ``entities`` through ``bridge`` (empty: only clears what was announced).

    :meth:`start` before the bridge starts: it subscribes to Home Assistant's status.
    """

    def __init__(
        self,
        bridge: MqttBridge,
        entities: Iterable[Entity],
        *,
        prefix: str,
        node_id: str,
        state_dir: Path | str,
    ) -> None:
        self.bridge = bridge
        self.prefix = prefix
        self.configs = {e.topic(prefix, node_id): msgspec.json.encode(e.config) for e in entities}
        self.memory = Path(state_dir) / MEMORY_FILE
        self.remembered: set[str] = set()
        self._save_lock = asyncio.Lock()
        self._saving: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Queue the configs and the removals, and listen for Home Assistant's birth."""
        previous = await asyncio.to_thread(self._load)
        stale = sorted(previous - self.configs.keys())
        # Remembered before anything is published, so a crash never loses track of a topic.
        self.remembered = previous | self.configs.keys()
        await self._save()
        self._announce()
        for topic in stale:
            self.bridge.retain(topic, b"", on_sent=partial(self._removed, topic))
        if stale:
            log.info("Home Assistant: removing %d entities no longer configured", len(stale))
        self.bridge.subscribe(f"{self.prefix}/status", self._status)

    async def stop(self) -> None:
        """Wait for pending saves of the memory file."""
        await asyncio.gather(*self._saving, return_exceptions=True)

    def _announce(self) -> None:
        for topic, payload in self.configs.items():
            self.bridge.retain(topic, payload)

    def _status(self, payload: bytes) -> None:
        if payload.strip() == BIRTH and self.configs:
            log.info("Home Assistant is online: announcing %d entities", len(self.configs))
            self._announce()

    def _removed(self, topic: str) -> None:
        # The broker has the empty config: Home Assistant dropped the entity.
        self.bridge.forget(topic)
        self.remembered.discard(topic)
        task = asyncio.get_running_loop().create_task(self._save())
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    def _load(self) -> set[str]:
        try:
            data = msgspec.json.decode(self.memory.read_bytes(), type=dict[str, list[str]])
        except FileNotFoundError:
            return set()
        except (OSError, msgspec.DecodeError) as exc:
            log.warning("cannot read %s (%s); no old entities to remove", self.memory, exc)
            return set()
        return set(data.get("config_topics", []))

    async def _save(self) -> None:
        async with self._save_lock:
            data = msgspec.json.encode({"config_topics": sorted(self.remembered)}) + b"\n"
            try:
                await asyncio.to_thread(write_atomically, self.memory, data)
            except OSError as exc:
                log.warning(
                    "cannot save %s (%s): old entities may stay in Home Assistant", self.memory, exc
                )
