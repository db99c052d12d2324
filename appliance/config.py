"""The appliance's settings: a TOML file with defaults, checked key by key.

A missing file at the default path means every default. Anything the file gets wrong (bad
TOML, an unknown key, a wrong type, a value out of range) is a :class:`ConfigError` that
names the key, e.g. ``sensor.interval``.
"""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from hardware import (
    DEFAULT_DHT_PIN,
    DEFAULT_GAMMA,
    DEFAULT_LED_PIN,
    DEFAULT_PWM_FREQUENCY,
    MIN_READ_INTERVAL,
)
from thingtalk.limits import Limits

DEFAULT_CONFIG_PATH = Path("/etc/appliance/appliance.toml")
DEFAULT_STATE_DIR = "/var/lib/appliance"
#: Off the image; the image's own config file sets 80.
DEFAULT_PORT = 8888
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Pin = Annotated[int, msgspec.Meta(ge=0, le=27)]


class ConfigError(Exception):
    """The config file cannot be read or has an invalid key; the message names the key."""


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A TOML table: unknown keys are errors, every key has a default."""


class ServerConfig(_Section):
    """``[server]``: where to listen."""

    #: "::" listens on IPv6 and IPv4 where the kernel has IPv6, else it falls back to 0.0.0.0.
    host: str = "::"
    port: Port = DEFAULT_PORT


class HardwareConfig(_Section):
    """``[hardware]``: real GPIO, simulated parts, or whichever this machine has."""

    backend: Literal["auto", "pi", "simulated"] = "auto"


class LampConfig(_Section):
    """``[lamp]``: the PWM LED."""

    pin: Pin = DEFAULT_LED_PIN
    frequency: Annotated[float, msgspec.Meta(gt=0, le=100_000)] = DEFAULT_PWM_FREQUENCY
    gamma: Annotated[float, msgspec.Meta(gt=0, le=10)] = DEFAULT_GAMMA


class SensorConfig(_Section):
    """``[sensor]``: the DHT humidity/temperature sensor and how often it is read."""

    model: Literal["DHT22", "DHT11"] = "DHT22"
    pin: Pin = DEFAULT_DHT_PIN
    #: Seconds between reads; the DHT needs at least 2 s.
    interval: Annotated[float, msgspec.Meta(ge=MIN_READ_INTERVAL, le=86_400)] = 10.0


class DiscoveryConfig(_Section):
    """``[discovery]``: the mDNS adverts."""

    enabled: bool = True
    #: Interface names or addresses; empty means every non-loopback interface.
    interfaces: list[str] = msgspec.field(default_factory=list)
    #: The advertised name; empty means "Appliance on <hostname>".
    name: Annotated[str, msgspec.Meta(max_length=63)] = ""
    #: Whether the records carry this host's addresses; false where Avahi (or another mDNS
    #: responder) already publishes the host name, as on the SD-card image.
    publish_addresses: bool = True


class StateConfig(_Section):
    """``[state]``: where the lamp's state survives restarts."""

    dir: Annotated[str, msgspec.Meta(min_length=1)] = DEFAULT_STATE_DIR


_LIMITS = Limits()  # the library's defaults, stated there once
Count = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
Seconds = Annotated[float, msgspec.Meta(gt=0, le=86_400)]


class LimitsConfig(_Section):
    """``[limits]``: what one client may use (the README's "Limits" says what each means)."""

    max_websockets: Count = _LIMITS.max_websockets
    max_websockets_per_client: Count = _LIMITS.max_websockets_per_client
    max_streams: Count = _LIMITS.max_streams
    max_streams_per_client: Count = _LIMITS.max_streams_per_client
    reserve_files: Count = _LIMITS.reserve_files
    max_json_depth: Annotated[int, msgspec.Meta(ge=1, le=256)] = _LIMITS.max_json_depth
    message_rate: Annotated[float, msgspec.Meta(gt=0, le=1_000_000)] = _LIMITS.message_rate
    message_burst: Count = _LIMITS.message_burst
    max_queued: Count = _LIMITS.max_queued
    max_queued_bytes: Annotated[int, msgspec.Meta(ge=1024, le=1 << 30)] = _LIMITS.max_queued_bytes
    max_replies: Count = _LIMITS.max_replies
    subscriber_deadline: Seconds = _LIMITS.subscriber_deadline
    ping_interval: Seconds = _LIMITS.ping_interval

    def limits(self) -> Limits:
        """The library's :class:`~thingtalk.limits.Limits` with these values."""
        return Limits(**msgspec.structs.asdict(self))


LogLevel = Literal[
    "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "debug", "info", "warning", "error", "critical"
]


class LoggingConfig(_Section):
    """``[logging]``: how much goes to the journal (either case)."""

    level: LogLevel = "INFO"

    @property
    def level_name(self) -> str:
        """The level as the logging module names it ("INFO")."""
        return self.level.upper()


class Config(_Section):
    """Every setting of the appliance."""

    server: ServerConfig = msgspec.field(default_factory=ServerConfig)
    hardware: HardwareConfig = msgspec.field(default_factory=HardwareConfig)
    lamp: LampConfig = msgspec.field(default_factory=LampConfig)
    sensor: SensorConfig = msgspec.field(default_factory=SensorConfig)
    discovery: DiscoveryConfig = msgspec.field(default_factory=DiscoveryConfig)
    state: StateConfig = msgspec.field(default_factory=StateConfig)
    limits: LimitsConfig = msgspec.field(default_factory=LimitsConfig)
    logging: LoggingConfig = msgspec.field(default_factory=LoggingConfig)


_TOO_DEEP = "not a config file: arrays or inline tables nested far too deeply"
_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`$")


def _key(path: str) -> str:
    """msgspec's ``$.sensor.interval`` path as the TOML key ``sensor.interval``."""
    return path.lstrip(".")


def _explain(error: msgspec.ValidationError) -> str:
    """msgspec's message, reworded to lead with the key it is about."""
    match = _AT.match(str(error))
    assert match is not None  # the pattern matches any text
    message, path = match["message"], _key(match["path"] or "")
    unknown = _UNKNOWN.match(message)
    if unknown:
        key = f"{path}.{unknown['name']}" if path else unknown["name"]
        return f"unknown key `{key}`"
    if not path:
        return message
    return f"invalid `{path}`: {message}"


def parse_config(data: dict[str, Any], source: str = "config") -> Config:
    """Check a parsed TOML document against :class:`Config`."""
    try:
        return msgspec.convert(data, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {_explain(exc)}") from None
    except RecursionError:
        raise ConfigError(f"{source}: {_TOO_DEEP}") from None


def loads_config(text: str, source: str = "config") -> Config:
    """Parse and check a TOML document."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        # tomllib recurses once per nested array or inline table: Python's own limit is the
        # bound, and a file that reaches it is no config of ours.
        raise ConfigError(f"{source}: {_TOO_DEEP}") from None
    return parse_config(data, source)


def load_config(path: Path | str | None = None) -> Config:
    """Read the config file; ``None`` means the default path, where a missing file means defaults.

    A path given explicitly must exist.
    """
    explicit = path is not None
    file = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{file}: no such config file") from None
        logging.getLogger(__name__).info("no config file at %s; using the defaults", file)
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    return loads_config(text, str(file))


def override(config: Config, **values: Any) -> Config:
    """A copy of ``config`` with ``section_key=value`` settings replaced (``None`` = keep)."""
    sections: dict[str, dict[str, Any]] = {}
    for dotted, value in values.items():
        if value is None:
            continue
        section, _, key = dotted.partition("_")
        sections.setdefault(section, {})[key] = value
    data = msgspec.to_builtins(config)
    for section, changes in sections.items():
        if section not in data:
            raise ValueError(f"no config section {section!r}")
        data[section].update(changes)
    try:
        return msgspec.convert(data, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"command line: {_explain(exc)}") from None
