"""The appliance assembled: hardware from the config, the lamp and sensor things, the server."""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import signal
import socket
from dataclasses import dataclass, field
from pathlib import Path

from hardware import HardwareBackend, Led, select_backend
from hardware import Sensor as SensorDevice
from thingtalk.mqtt import MqttSettings
from thingtalk.server import WebThingServer
from thingtalk.things import MultipleThings

from .config import Config, all_tokens
from .lamp import Lamp
from .mqtt import ApplianceMqtt, build_mqtt, mqtt_settings
from .sensor import Sensor
from .state import StateStore

log = logging.getLogger(__name__)
#: What the appliance logs once it serves: the image's guide quotes it and its boot test waits
#: for it in the journal.
READY_LINE = "appliance %r on %s hardware: lamp at %s%s, sensor at %s%s (also %s://%s.local:%d/)%s"

#: Where each thing is served; gateways remember these, so they never move.
LAMP_PATH = "/0"
SENSOR_PATH = "/1"


def ipv6_available() -> bool:
    """True if this kernel can open an IPv6 socket (Pi images sometimes boot without IPv6)."""
    if not socket.has_ipv6:
        return False
    try:
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()
    except OSError:
        return False
    return True


def listen_host(host: str) -> str:
    """The address to bind: ``::`` (IPv6 and IPv4) falls back to ``0.0.0.0`` without IPv6."""
    if host == "::" and not ipv6_available():
        log.warning("IPv6 is not available; listening on IPv4 only")
        return "0.0.0.0"
    return host


def advertised_name(config: Config) -> str:
    """The mDNS name: the configured one, or "Appliance on <hostname>"."""
    if config.discovery.name:
        return config.discovery.name
    short = socket.gethostname().split(".", 1)[0] or "localhost"
    return f"Appliance on {short}"


def browse_host(host: str) -> str:
    """The host part of a URL a person on this machine can open."""
    if host in ("::", "0.0.0.0", ""):
        return "localhost"
    return f"[{host}]" if ":" in host else host


@dataclass(eq=False)
class Appliance:
    """The running parts: hardware, things, the state store and the server."""

    config: Config
    backend: HardwareBackend
    led: Led
    device: SensorDevice
    store: StateStore
    lamp: Lamp
    sensor: Sensor
    #: The broker's settings when ``[mqtt]`` is enabled.
    mqtt_settings: MqttSettings | None = None
    server: WebThingServer = field(init=False)
    mqtt: ApplianceMqtt | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        cfg = self.config
        security = cfg.security
        things = MultipleThings([self.lamp, self.sensor], advertised_name(cfg))
        if self.mqtt_settings is not None:
            self.mqtt = build_mqtt(cfg, self.mqtt_settings, things, name=things.name)
        self.server = WebThingServer(
            things,
            host=listen_host(cfg.server.host),
            port=cfg.server.port,
            discovery=cfg.discovery.enabled,
            discovery_interfaces=cfg.discovery.interfaces or None,
            publish_addresses=cfg.discovery.publish_addresses,
            certfile=cfg.server.certfile or None,
            keyfile=cfg.server.keyfile or None,
            allowed_origins=security.allowed_origins,
            tokens=all_tokens(cfg),
            trusted_proxies=security.trusted_proxies,
            allowed_hosts=security.allowed_hosts,
            additional_on_startup=[self._started],
            additional_on_shutdown=[self._stopping],
            freeze_gc=True,  # the appliance owns its process: GC pauses off the hot path
            # What the WebThings gateway needs to invoke `fade` (its Ajv refuses `unit` in
            # action input) and to tell two events of one second apart.
            strict_input_schemas=True,
            precise_event_times=True,
            limits=cfg.limits.limits(),
        )

    @property
    def url(self) -> str:
        """The base URL a person on this machine opens."""
        scheme = "https" if self.server.tls else "http"
        return f"{scheme}://{browse_host(self.server.host)}:{self.server.port}"

    async def _started(self) -> None:
        if self.mqtt is not None:
            # Returns at once: the bridge connects (and reconnects) in the background, so
            # a broker that is down never keeps the lamp and the sensor from being served.
            await self.mqtt.start()
        log.info(
            READY_LINE,
            self.server.name,
            self.backend.name,
            self.url,
            LAMP_PATH,
            self.url,
            SENSOR_PATH,
            "https" if self.server.tls else "http",
            socket.gethostname().split(".", 1)[0],
            self.server.port,
            "; bearer tokens required" if self.server.security.needs_token else "",
        )

    async def _stopping(self) -> None:
        # The things are closed by now (pollers stopped, fades cancelled), so the lamp's
        # state is final: publish it and say offline, save it, then let go of the pins.
        # mDNS is withdrawn after this.
        if self.mqtt is not None:
            try:
                await self.mqtt.stop()
            except Exception:
                log.exception("stopping the MQTT bridge failed")
        try:
            await self.store.save(self.lamp.state)
            log.info("saved the lamp state %s to %s", self.lamp.state, self.store.path)
        except OSError:
            log.exception("cannot save the lamp state to %s", self.store.path)
        finally:
            self.close_hardware()

    def close_hardware(self) -> None:
        """Turn the LED off and release both parts; safe to call twice."""
        for part in (self.led, self.device):
            try:
                part.close()
            except Exception:
                log.exception("closing %r failed", part)


class StateDirError(Exception):
    """The state directory cannot be written, so no change could be kept."""


def check_state_dir(directory: Path) -> None:
    """Make sure the lamp's state can be saved in ``directory`` (creating it), or say why not.

    Checked at start by writing and removing a file: a service that could not save would
    acknowledge writes and lose them at the next restart.
    """
    probe = directory / ".write-test"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with probe.open("wb") as file:
            file.write(b"ok")
            os.fsync(file.fileno())
        probe.unlink()
    except OSError as exc:
        user = pwd.getpwuid(os.geteuid()).pw_name
        raise StateDirError(
            f"cannot write the state directory {directory} as user {user!r}: "
            f"{exc.strerror or exc}; make it writable by {user!r} or choose another "
            "with --state-dir ([state] dir)"
        ) from None


def build_appliance(config: Config, backend: HardwareBackend | None = None) -> Appliance:
    """Make the hardware (raising ``HardwareError`` or ``ValueError``) and the things
    (``ConfigError`` if ``[mqtt]`` cannot be set up: checked before any pin is taken)."""
    check_state_dir(Path(config.state.dir))
    settings = mqtt_settings(config) if config.mqtt.enabled else None
    backend = backend or select_backend(config.hardware.backend)
    led = backend.make_led(config.lamp.pin, config.lamp.frequency, config.lamp.gamma)
    try:
        device = backend.make_sensor(config.sensor.model, config.sensor.pin)
    except BaseException:
        led.close()
        raise
    store = StateStore(config.state.dir)
    lamp = Lamp(led, store.load(), store.save)
    sensor = Sensor(device, interval=config.sensor.interval)
    return Appliance(config, backend, led, device, store, lamp, sensor, settings)


async def serve(appliance: Appliance, shutdown: asyncio.Event | None = None) -> None:
    """Serve until ``shutdown`` is set, or SIGTERM / SIGINT arrives; then stop cleanly."""
    shutdown = shutdown or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, _request_stop, shutdown, sig)
    try:
        await appliance.server.serve(shutdown)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        # Hypercorn skips the shutdown handlers if it never got going (a port in use).
        appliance.close_hardware()


def _request_stop(shutdown: asyncio.Event, sig: signal.Signals) -> None:
    log.info("%s: shutting down", sig.name)
    shutdown.set()
