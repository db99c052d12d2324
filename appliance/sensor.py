"""The humidity/temperature sensor as a web thing, kept current by a polling task."""

from __future__ import annotations

import asyncio
import logging

from hardware import Reading
from hardware import Sensor as SensorDevice
from thingtalk.property import Property
from thingtalk.thing import Thing
from thingtalk.value import Value

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 10.0


class Sensor(Thing):
    """Temperature (degree Celsius) and relative humidity (%), read every ``interval`` seconds.

    The blocking read runs in a thread. A failed read keeps the last values; once the
    device reports them stale, the read-only ``stale`` property turns true and a
    ``stale`` event carries the error, until a good read clears it. The poller never
    stops on a failure; :meth:`close` cancels it.
    """

    title = "Sensor"
    type = ["MultiLevelSensor", "TemperatureSensor"]
    description = "Relative humidity and temperature from a DHT sensor"

    def __init__(
        self,
        device: SensorDevice,
        *,
        interval: float = DEFAULT_INTERVAL,
        id_: str = "urn:dev:ops:appliance-sensor",
    ) -> None:
        super().__init__(id_=id_)
        if not interval > 0:
            raise ValueError(f"interval must be positive, got {interval!r}")
        self.device = device
        self.interval = interval
        self.polls = 0
        self.last_error: str | None = None

    async def build(self) -> Sensor:
        await self.add_property(
            Property(
                "humidity",
                Value(None),
                {
                    "@type": "LevelProperty",
                    "title": "Humidity",
                    "type": "number",
                    "unit": "percent",
                    "minimum": 0,
                    "maximum": 100,
                    "readOnly": True,
                    "description": "Relative humidity",
                },
            )
        )
        await self.add_property(
            Property(
                "temperature",
                Value(None),
                {
                    "@type": "TemperatureProperty",
                    "title": "Temperature",
                    "type": "number",
                    "unit": "degree celsius",
                    "readOnly": True,
                    "description": "Air temperature",
                },
            )
        )
        await self.add_property(
            Property(
                "stale",
                Value(False),
                {
                    "title": "Stale",
                    "type": "boolean",
                    "readOnly": True,
                    "description": "True while the sensor fails to read and the values are old",
                },
            )
        )
        self.add_available_event(
            "stale",
            {
                "title": "Reading stale",
                "description": "The sensor keeps failing; the values shown are the last good ones",
                "type": "string",
            },
        )
        self.spawn(self.poll_forever(), name=f"poll {self.title}")
        return self

    async def poll_forever(self) -> None:
        """Read, publish, wait ``interval``; forever, whatever the sensor does."""
        while True:
            await self.poll()
            await asyncio.sleep(self.interval)

    async def poll(self) -> Reading | None:
        """Take one reading and publish it; a failure is logged and marked, never raised."""
        self.polls += 1
        try:
            reading = await asyncio.to_thread(self.device.read)
        except Exception as exc:
            # Sensor.read reports bad frames in the Reading; anything raised is worse (a
            # closed or vanished device), and is treated as a stale reading all the same.
            log.warning("sensor read failed: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
            await self._mark_stale(True, f"{type(exc).__name__}: {exc}")
            return None
        await self.publish(reading)
        return reading

    async def publish(self, reading: Reading) -> None:
        """Make the properties show ``reading``."""
        if reading.humidity_pct is not None:
            await self.find_property("humidity").value.notify_of_external_update(
                reading.humidity_pct
            )
        if reading.temperature_c is not None:
            await self.find_property("temperature").value.notify_of_external_update(
                reading.temperature_c
            )
        # Nothing read yet counts as stale too: there is no current value to trust.
        await self._mark_stale(reading.stale, reading.error)

    async def _mark_stale(self, stale: bool, error: str | None) -> None:
        self.last_error = error
        prop = self.find_property("stale")
        was = prop.get_value()
        await prop.value.notify_of_external_update(stale)
        if stale and not was:
            log.warning("sensor values are stale: %s", error)
            self.raise_event("stale", error or "unknown error")
        elif was and not stale:
            log.info("sensor recovered")
