"""How a bridge reaches its broker: :class:`MqttSettings`."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from ..descriptions.mqtt import check_topic

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class MqttSettings:
    """The broker and the bridge's behaviour towards it.

    ``url`` is ``mqtt://host[:1883]`` or ``mqtts://host[:8883]`` (TLS: the broker's
    certificate is checked against ``ca_file``, or the system's CAs without one; a client
    certificate is ``cert_file`` + ``key_file``). A username and password may also ride in
    the URL (``mqtt://user:pass@host``). ``base_topic`` is where the things live (see
    :class:`~thingtalk.mqtt.MqttBridge`); ``client_id`` defaults to one derived from it, so
    a restarted bridge takes over its own session.
    """

    url: str = "mqtt://localhost"
    _: KW_ONLY
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    base_topic: str | None = None
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    #: Seconds between keepalive pings; the broker declares the bridge dead after 1.5x.
    keepalive: int = 60
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    #: Of every publication and subscription (1: the broker acknowledges each message).
    qos: Literal[0, 1, 2] = 1
    #: Events, action statuses and errors held while the broker is slow or away; beyond
    #: it the oldest go (counted and logged). Property values are never queued: the latest
    #: value of each is kept, however many changes happened.
    queue_size: int = 1000
    #: Reconnect backoff: the first retry after about ``reconnect_min`` seconds, doubling
    #: up to ``reconnect_max``, each delay jittered so a fleet does not reconnect in step.
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    #: Seconds a connect, publish or subscribe may take before the connection counts as lost.
    timeout: float = 10.0
    #: Seconds ``stop()`` waits to flush and say ``offline`` before it just disconnects.
    stop_timeout: float = 2.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in DEFAULT_PORTS:
            raise ValueError(f"MQTT url {self.url!r} must start with mqtt:// or mqtts://")
        try:
            port = parts.port  # raises on a port above 65535
        except ValueError:
            port = 0
        if port == 0:
            raise ValueError(f"MQTT url {self.url!r} has an invalid port")
        if not parts.hostname:
            raise ValueError(f"MQTT url {self.url!r} names no broker host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"MQTT url {self.url!r} must be only mqtt[s]://host[:port]")
        if self.base_topic is not None:
            check_topic(self.base_topic, "base topic")
        if self.keepalive < 1 or self.queue_size < 1:
            raise ValueError("keepalive and queue_size must be at least 1")
        if not 0 < self.reconnect_min <= self.reconnect_max:
            raise ValueError("reconnect delays must satisfy 0 < reconnect_min <= reconnect_max")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("a client certificate needs both cert_file and key_file")

    @property
    def tls(self) -> bool:
        """True for ``mqtts://``."""
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def host(self) -> str:
        """The broker's host name or address."""
        host = urlsplit(self.url).hostname
        assert host is not None  # checked in __post_init__
        return host

    @property
    def port(self) -> int:
        """The broker's port (1883, or 8883 with TLS, unless the URL says)."""
        parts = urlsplit(self.url)
        return parts.port or DEFAULT_PORTS[parts.scheme]

    @property
    def credentials(self) -> tuple[str | None, str | None]:
        """``(username, password)``: the settings', else the URL's."""
        parts = urlsplit(self.url)
        if self.username is not None:
            return self.username, self.password
        if parts.username is not None:
            password = unquote(parts.password) if parts.password is not None else None
            return unquote(parts.username), password
        return None, None

    @property
    def broker_url(self) -> str:
        """``scheme://host:port`` without credentials: what a Thing Description may show."""
        parts = urlsplit(self.url)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{parts.scheme}://{host}:{self.port}"
