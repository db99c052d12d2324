"""The appliance on an MQTT broker: the bridge as ``[mqtt]`` says, with Home Assistant discovery."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from pathlib import Path

import thingtalk
from thingtalk.mqtt import MqttBridge, MqttSettings, topic_slug
from thingtalk.mqtt.bridge import require_aiomqtt
from thingtalk.things import MultipleThings

from .config import Config, ConfigError
from .homeassistant import (
    Entity,
    HomeAssistantDiscovery,
    device_info,
    lamp_entities,
    sensor_entities,
)

log = logging.getLogger(__name__)


def short_hostname() -> str:
    """This machine's name without its domain, in lower case (as mDNS answers it)."""
    return socket.gethostname().split(".", 1)[0].lower() or "localhost"


def page_origin(config: Config) -> str:
    """Where other machines reach the appliance's page: ``http://<hostname>.local[:port]``."""
    port = config.server.port
    return f"http://{short_hostname()}.local{'' if port == 80 else f':{port}'}"


def mqtt_settings(config: Config) -> MqttSettings:
    """The bridge's settings from ``[mqtt]``; reads ``password_file`` (a ConfigError if it
    cannot be read)."""
    mqtt = config.mqtt
    try:
        require_aiomqtt()
    except RuntimeError as exc:
        raise ConfigError(f"`mqtt.enabled`: {exc}") from None
    password = mqtt.password or None
    if mqtt.password_file:
        try:
            password = Path(mqtt.password_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"`mqtt.password_file`: cannot read it: {exc}") from None
    host = topic_slug(short_hostname())
    return MqttSettings(
        mqtt.url,
        username=mqtt.username or None,
        password=password,
        client_id=mqtt.client_id or f"appliance-{host}",
        base_topic=mqtt.base_topic or f"thingtalk/{host}",
        protocol=mqtt.protocol,
        keepalive=mqtt.keepalive,
        ca_file=mqtt.ca_file or None,
        cert_file=mqtt.cert_file or None,
        key_file=mqtt.key_file or None,
    )


@dataclass(eq=False)
class ApplianceMqtt:
    """The bridge of the lamp and the sensor, and what it tells Home Assistant."""

    bridge: MqttBridge
    discovery: HomeAssistantDiscovery

    async def start(self) -> None:
        """Discovery first: it subscribes to Home Assistant's status before the bridge connects."""
        await self.discovery.start()
        await self.bridge.start()

    async def stop(self) -> None:
        """Say offline and disconnect."""
        await self.bridge.stop()
        await self.discovery.stop()


def build_mqtt(
    config: Config, settings: MqttSettings, things: MultipleThings, *, name: str
) -> ApplianceMqtt:
    """The bridge of ``things`` (the lamp, then the sensor) and its Home Assistant discovery."""
    origin = page_origin(config)
    bridge = MqttBridge(things, settings, http_base=origin)
    lamp, sensor = bridge.things
    node_id = topic_slug(bridge.client_id)
    entities: list[Entity] = []
    if config.mqtt.discovery:
        device = device_info(
            node_id=node_id,
            name=name,
            model=f"Lamp and {config.sensor.model} sensor",
            sw_version=thingtalk.__version__,
            configuration_url=f"{origin}/",
        )
        entities += lamp_entities(lamp.topics, node_id=node_id, device=device, bridge=bridge)
        entities += sensor_entities(sensor.topics, node_id=node_id, device=device, bridge=bridge)
    discovery = HomeAssistantDiscovery(
        bridge,
        entities,
        prefix=config.mqtt.discovery_prefix,
        node_id=node_id,
        state_dir=config.state.dir,
    )
    return ApplianceMqtt(bridge, discovery)
