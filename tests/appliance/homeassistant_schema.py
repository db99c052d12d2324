"""Home Assistant's documented MQTT discovery options for the three components the appliance
announces, as a checker: every key must be a documented option of its component, of the
documented type, with the required ones present.

From the Home Assistant docs (integrations/light.mqtt "default schema", sensor.mqtt,
binary_sensor.mqtt, and the MQTT discovery page's device and origin options) and the
voluptuous schemas they describe (homeassistant/components/mqtt: schemas, light/schema_basic,
sensor, binary_sensor). Deprecated options (object_id) are left out on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

Check = Callable[[Any], bool]

_TOPIC_LEVEL_OK = re.compile(r"^[^+#\0]+$")


def string(value: Any) -> bool:
    return isinstance(value, str)


def boolean(value: Any) -> bool:
    return isinstance(value, bool)


def positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def publish_topic(value: Any) -> bool:
    """HA's valid_publish_topic: a non-empty topic without wildcards."""
    return isinstance(value, str) and bool(_TOPIC_LEVEL_OK.match(value))


def subscribe_topic(value: Any) -> bool:
    """HA's valid_subscribe_topic (the appliance never needs a wildcard; none is allowed)."""
    return publish_topic(value)


def template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def one_of(*allowed: Any) -> Check:
    return lambda value: value in allowed


def configuration_url(value: Any) -> bool:
    """HA's cv.configuration_url: an http(s) URL (or homeassistant://)."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https", "homeassistant") and bool(parts.netloc)


DEVICE: dict[str, Check] = {
    "identifiers": lambda v: isinstance(v, list) and bool(v) and all(isinstance(i, str) for i in v),
    "connections": lambda v: isinstance(v, list),
    "manufacturer": string,
    "model": string,
    "model_id": string,
    "name": string,
    "hw_version": string,
    "serial_number": string,
    "sw_version": string,
    "via_device": string,
    "suggested_area": string,
    "configuration_url": configuration_url,
}

ORIGIN: dict[str, Check] = {"name": string, "sw_version": string, "support_url": configuration_url}

COMMON: dict[str, Check] = {
    "availability_topic": subscribe_topic,
    "availability_template": template,
    "availability_mode": one_of("all", "any", "latest"),
    "payload_available": string,
    "payload_not_available": string,
    "device": lambda v: isinstance(v, dict),
    "origin": lambda v: isinstance(v, dict),
    "enabled_by_default": boolean,
    "entity_category": one_of("config", "diagnostic"),
    "icon": lambda v: isinstance(v, str) and ":" in v,
    "json_attributes_topic": subscribe_topic,
    "json_attributes_template": template,
    "default_entity_id": string,
    "unique_id": string,
    "name": lambda v: v is None or isinstance(v, str),
    "encoding": string,
    "qos": one_of(0, 1, 2),
}

COMPONENTS: dict[str, tuple[dict[str, Check], set[str]]] = {
    "light": (
        {
            "schema": one_of("basic"),
            "command_topic": publish_topic,
            "state_topic": subscribe_topic,
            "state_value_template": template,
            "payload_on": string,
            "payload_off": string,
            "brightness_command_topic": publish_topic,
            "brightness_command_template": template,
            "brightness_state_topic": subscribe_topic,
            "brightness_value_template": template,
            "brightness_scale": positive_int,
            "on_command_type": one_of("first", "last", "brightness"),
            "optimistic": boolean,
            "retain": boolean,
        },
        {"command_topic"},
    ),
    "sensor": (
        {
            "state_topic": subscribe_topic,
            "value_template": template,
            "device_class": string,
            "state_class": one_of("measurement", "measurement_angle", "total", "total_increasing"),
            "unit_of_measurement": string,
            "suggested_display_precision": lambda v: isinstance(v, int) and v >= 0,
            "expire_after": positive_int,
            "force_update": boolean,
            "last_reset_value_template": template,
        },
        {"state_topic"},
    ),
    "binary_sensor": (
        {
            "state_topic": subscribe_topic,
            "value_template": template,
            "device_class": string,
            "payload_on": string,
            "payload_off": string,
            "expire_after": positive_int,
            "force_update": boolean,
            "off_delay": positive_int,
        },
        {"state_topic"},
    ),
}

#: The units Home Assistant accepts for the device classes used here.
SENSOR_UNITS = {"humidity": {"%"}, "temperature": {"°C", "°F", "K"}}
BINARY_SENSOR_CLASSES = {"problem", "connectivity", "moisture", "running", "safety"}


def problems(component: str, config: dict[str, Any]) -> list[str]:
    """What is wrong with ``config`` as Home Assistant discovery for ``component``."""
    options, required = COMPONENTS[component]
    allowed = {**COMMON, **options}
    found = [f"missing required `{key}`" for key in sorted(required - config.keys())]
    for key, value in config.items():
        check = allowed.get(key)
        if check is None:
            found.append(f"`{key}` is not an option of an MQTT {component}")
        elif not check(value):
            found.append(f"`{key}` = {value!r} is not valid")
    for name, schema, value in (
        ("device", DEVICE, config.get("device")),
        ("origin", ORIGIN, config.get("origin")),
    ):
        if not isinstance(value, dict):
            continue
        for key, item in value.items():
            check = schema.get(key)
            if check is None or not check(item):
                found.append(f"`{name}.{key}` = {item!r} is not valid")
    if "origin" in config and "name" not in config["origin"]:
        found.append("`origin.name` is required")
    if "device" in config and not (
        config["device"].get("identifiers") or config["device"].get("connections")
    ):
        found.append("a device needs identifiers or connections")
    device_class = config.get("device_class")
    unit = config.get("unit_of_measurement")
    if (
        component == "sensor"
        and device_class in SENSOR_UNITS
        and unit not in SENSOR_UNITS[device_class]
    ):
        found.append(f"unit {unit!r} is wrong for {device_class}")
    if (
        component == "binary_sensor"
        and "device_class" in config
        and device_class not in BINARY_SENSOR_CLASSES
    ):
        found.append(f"unknown binary_sensor device class {device_class!r}")
    return found
