"""The appliance's settings: a TOML file with defaults, checked key by key.

A missing file at the default path means every default. Anything the file gets wrong (bad
TOML, an unknown key, a wrong type, a value out of range) is a :class:`ConfigError` that
names the key, e.g. ``sensor.interval``.
"""

from __future__ import annotations

import logging
import re
import socket
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import msgspec.inspect

from hardware import (
    DEFAULT_DHT_PIN,
    DEFAULT_GAMMA,
    DEFAULT_LED_PIN,
    DEFAULT_PWM_FREQUENCY,
    MIN_READ_INTERVAL,
)
from thingtalk.descriptions.mqtt import check_topic
from thingtalk.limits import Limits
from thingtalk.mqtt.settings import MqttSettings

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
    """``[server]``: where to listen, and TLS."""

    #: "::" listens on IPv6 and IPv4 where the kernel has IPv6, else it falls back to 0.0.0.0.
    host: str = "::"
    port: Port = DEFAULT_PORT
    #: PEM certificate (chain) and private key: both set serves HTTPS and wss://, and the
    #: mDNS records say tls=1; both empty serves plain HTTP.
    certfile: str = ""
    keyfile: str = ""


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


class MqttConfig(_Section):
    """``[mqtt]``: the lamp and the sensor on an MQTT broker, and Home Assistant discovery."""

    enabled: bool = False
    #: ``mqtt://host[:1883]``, or ``mqtts://host[:8883]`` for TLS. Home Assistant OS answers
    #: as homeassistant.local, where its Mosquitto add-on listens.
    url: str = "mqtt://homeassistant.local:1883"
    username: str = ""
    password: str = ""
    #: A file holding the password (read at start; one line), instead of ``password``.
    password_file: str = ""
    #: Empty: "appliance-<hostname>". Also names the Home Assistant device.
    client_id: str = ""
    #: Empty: "thingtalk/<hostname>"; the lamp and sensor live at <base>/lamp and <base>/sensor.
    base_topic: str = ""
    #: mqtts: the CA that signed the broker's certificate (empty: the system's CAs).
    ca_file: str = ""
    #: mqtts: a client certificate and its key, for brokers that ask for one.
    cert_file: str = ""
    key_file: str = ""
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    keepalive: Annotated[int, msgspec.Meta(ge=5, le=3600)] = 60
    #: Home Assistant MQTT discovery; false removes what was announced before.
    discovery: bool = True
    discovery_prefix: str = "homeassistant"

    def __post_init__(self) -> None:
        # Checked here, with the key at fault named, so check-config catches it before a boot.
        try:
            MqttSettings(self.url)
        except ValueError as exc:
            raise ValueError(f"`url`: {exc}") from None
        for key in ("base_topic", "discovery_prefix"):
            value = getattr(self, key)
            if value or key == "discovery_prefix":
                try:
                    check_topic(value, "topic")
                except ValueError as exc:
                    raise ValueError(f"`{key}`: {exc}") from None
        if self.password and self.password_file:
            raise ValueError("`password_file`: set password or password_file, not both")
        if (self.password or self.password_file) and not self.username:
            raise ValueError("`username`: a password needs a username")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("`key_file`: a client certificate needs both cert_file and key_file")


class SecurityConfig(_Section):
    """``[security]``: which web pages and clients may use the things (README: Security)."""

    #: Web origins (``http://gateway.local:8080``) whose pages may read and change things
    #: besides the appliance's own page; ``"*"`` (any) only together with tokens.
    allowed_origins: list[str] = msgspec.field(default_factory=list)
    #: Bearer tokens; with any set (here or in tokens_file) every request but reading the
    #: Thing Descriptions and the page's files needs one.
    tokens: list[str] = msgspec.field(default_factory=list)
    #: A file of tokens, one a line ("#" starts a comment); empty: none.
    tokens_file: str = ""
    #: Reverse proxies (addresses or networks) whose Forwarded / X-Forwarded-Host and
    #: X-Forwarded-Proto headers say which host and scheme the client used.
    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    #: Names the Host header may carry besides this machine's own (a proxy's public name).
    allowed_hosts: list[str] = msgspec.field(default_factory=list)

    def __repr__(self) -> str:
        # Tokens stay out of anything that prints the config.
        return (
            f"SecurityConfig(allowed_origins={self.allowed_origins!r}, "
            f"tokens=<{len(self.tokens)} hidden>, tokens_file={self.tokens_file!r}, "
            f"trusted_proxies={self.trusted_proxies!r}, "
            f"allowed_hosts={self.allowed_hosts!r})"
        )


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
    security: SecurityConfig = msgspec.field(default_factory=SecurityConfig)
    state: StateConfig = msgspec.field(default_factory=StateConfig)
    mqtt: MqttConfig = msgspec.field(default_factory=MqttConfig)
    limits: LimitsConfig = msgspec.field(default_factory=LimitsConfig)
    logging: LoggingConfig = msgspec.field(default_factory=LoggingConfig)


_TOO_DEEP = "not a config file: arrays or inline tables nested far too deeply"
_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`$")
# A section's own check (``__post_init__``) leads its message with the key it is about.
_KEYED = re.compile(r"^`(?P<name>\w+)`: (?P<message>.*)$", re.DOTALL)


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
    keyed = _KEYED.match(message)
    if keyed and path:
        return f"invalid `{path}.{keyed['name']}`: {keyed['message']}"
    if not path:
        return message
    allowed = _choices(path)
    if allowed and message.startswith("Invalid enum value"):
        return f"invalid `{path}`: {message}; expected one of {', '.join(allowed)}"
    return f"invalid `{path}`: {message}"


def _choices(path: str) -> list[str]:
    """The values a ``Literal`` key such as ``sensor.model`` allows (none for other keys)."""
    info: Any = msgspec.inspect.type_info(Config)
    for part in path.split("."):
        fields = {f.name: f.type for f in getattr(info, "fields", ())}
        if part not in fields:
            return []
        info = fields[part]
    values = getattr(info, "values", None) or ()
    # Log levels may be written in either case; list each once.
    return list(
        dict.fromkeys(str(v).upper() if path == "logging.level" else str(v) for v in values)
    )


def check_host(host: str, source: str = "config") -> None:
    """Refuse a ``server.host`` that is neither an address nor a name this machine resolves."""
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ConfigError(
            f"{source}: invalid `server.host`: {host!r} is not an address or a name this "
            f"machine resolves ({exc})"
        ) from None


#: What a token may be made of: URL-safe, so it travels unchanged in a header and in the
#: ``?jwt=`` parameter the WebThings gateway appends without encoding it.
TOKEN = re.compile(r"^[A-Za-z0-9._~-]{16,4096}$")
TOKEN_RULE = (
    "a token needs 16 or more characters from A-Z a-z 0-9 . _ ~ - (`appliance token` makes one)"
)


def read_tokens_file(path: str) -> list[str]:
    """The tokens in ``path``: one a line, blank lines and ``#`` comments skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"invalid `security.tokens_file`: cannot read {path}: {exc}") from None
    tokens = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    tokens = [t for t in tokens if t]
    for number, token in enumerate(tokens, 1):
        if not TOKEN.match(token):
            raise ConfigError(f"invalid `security.tokens_file`: token {number}: {TOKEN_RULE}")
    return tokens


def all_tokens(config: Config) -> list[str]:
    """The tokens of ``[security]``: the listed ones and those of ``tokens_file``."""
    tokens = list(config.security.tokens)
    if config.security.tokens_file:
        tokens += read_tokens_file(config.security.tokens_file)
    return tokens


def _check_security(config: Config) -> None:
    """What the types cannot say; every message names the key."""
    from thingtalk.protocols.forwarded import TrustedProxies
    from thingtalk.protocols.hosts import MalformedHost, canonical_name
    from thingtalk.protocols.origins import parse_allowed

    security = config.security
    for number, token in enumerate(security.tokens, 1):
        if not TOKEN.match(token):  # the token itself never goes into the message
            raise ConfigError(f"invalid `security.tokens`: token {number}: {TOKEN_RULE}")
    try:
        _, any_origin = parse_allowed(security.allowed_origins)
    except ValueError as exc:
        raise ConfigError(f"invalid `security.allowed_origins`: {exc}") from None
    if any_origin and not (security.tokens or security.tokens_file):
        raise ConfigError(
            "invalid `security.allowed_origins`: '*' lets any web page in, so it needs "
            "tokens (set `security.tokens` or `security.tokens_file`), or list the origins"
        )
    try:
        TrustedProxies(security.trusted_proxies)
    except ValueError as exc:
        raise ConfigError(f"invalid `security.trusted_proxies`: {exc}") from None
    for name in security.allowed_hosts:
        try:
            canonical_name(name)
        except MalformedHost:
            raise ConfigError(f"invalid `security.allowed_hosts`: {name!r} is not a host") from None
    if bool(config.server.certfile) != bool(config.server.keyfile):
        raise ConfigError(
            "invalid `server.certfile`: TLS needs both `server.certfile` and `server.keyfile`"
        )


def parse_config(data: dict[str, Any], source: str = "config") -> Config:
    """Check a parsed TOML document against :class:`Config`."""
    try:
        config = msgspec.convert(data, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {_explain(exc)}") from None
    except RecursionError:
        raise ConfigError(f"{source}: {_TOO_DEEP}") from None
    try:
        _check_security(config)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return config


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
    return parse_config(data, "command line")
