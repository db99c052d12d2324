"""The appliance assembled: hardware from the config, the lamp and sensor things, the server."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from dataclasses import dataclass, field
from typing import Any

from hardware import HardwareBackend, Led, select_backend
from hardware import Sensor as SensorDevice
from thingtalk.server import WebThingServer
from thingtalk.things import MultipleThings

from .config import Config
from .lamp import Lamp
from .sensor import Sensor
from .state import StateStore

log = logging.getLogger(__name__)

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


class ApplianceServer(WebThingServer):
    """The server, with Hypercorn's messages in the appliance's own log (one format, one level)."""

    def hypercorn_config(self) -> Any:
        config = super().hypercorn_config()
        config.errorlog = logging.getLogger("hypercorn.error")
        return config


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
    server: WebThingServer = field(init=False)

    def __post_init__(self) -> None:
        cfg = self.config
        self.server = ApplianceServer(
            MultipleThings([self.lamp, self.sensor], advertised_name(cfg)),
            host=listen_host(cfg.server.host),
            port=cfg.server.port,
            discovery=cfg.discovery.enabled,
            discovery_interfaces=cfg.discovery.interfaces or None,
            publish_addresses=cfg.discovery.publish_addresses,
            additional_on_startup=[self._started],
            additional_on_shutdown=[self._stopping],
            freeze_gc=True,  # the appliance owns its process: GC pauses off the hot path
            limits=cfg.limits.limits(),
        )

    @property
    def url(self) -> str:
        """The base URL a person on this machine opens."""
        return f"http://{browse_host(self.server.host)}:{self.server.port}"

    def _started(self) -> None:
        log.info(
            "appliance %r on %s hardware: lamp at %s%s, sensor at %s%s (also http://%s.local:%d/)",
            self.server.name,
            self.backend.name,
            self.url,
            LAMP_PATH,
            self.url,
            SENSOR_PATH,
            socket.gethostname().split(".", 1)[0],
            self.server.port,
        )

    async def _stopping(self) -> None:
        # The things are closed by now (pollers stopped, fades cancelled), so the lamp's
        # state is final: save it, then let go of the pins. mDNS is withdrawn after this.
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


def build_appliance(config: Config, backend: HardwareBackend | None = None) -> Appliance:
    """Make the hardware (raising ``HardwareError`` or ``ValueError``) and the things."""
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
    return Appliance(config, backend, led, device, store, lamp, sensor)


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
