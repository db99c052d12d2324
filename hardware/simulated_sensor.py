"""A simulated humidity/temperature sensor that drifts like a quiet room."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime

from .errors import HardwareError
from .sensor import DEFAULT_STALE_AFTER, Reading, ReadingTracker, utc_now

log = logging.getLogger(__name__)

ROOM_TEMPERATURE_C = 21.0
ROOM_HUMIDITY_PCT = 45.0
#: The walk never leaves these, whatever the RNG does.
TEMPERATURE_BOUNDS_C = (16.0, 26.0)
HUMIDITY_BOUNDS_PCT = (30.0, 60.0)
SIMULATED_FAILURE = "simulated failure: Checksum did not validate. Try again."


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


class SimulatedSensor:
    """A bounded random walk around 21 C and 45 % RH; ``fail`` makes reads fail like a DHT."""

    def __init__(
        self,
        rng: random.Random | None = None,
        *,
        stale_after: int = DEFAULT_STALE_AFTER,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._rng = rng if rng is not None else random.Random()
        self._tracker = ReadingTracker(stale_after, now)
        self.temperature_c = ROOM_TEMPERATURE_C
        self.humidity_pct = ROOM_HUMIDITY_PCT
        self._failures_left = 0
        self.reads = 0
        self.closed = False

    def fail(self, times: int | None = 1) -> None:
        """Make the next ``times`` reads fail; ``None`` fails until ``fail(0)``."""
        if times is not None and times < 0:
            raise ValueError(f"times must not be negative, got {times!r}")
        self._failures_left = -1 if times is None else times

    def read(self) -> Reading:
        """Take one step of the walk and report it, or fail if told to; never blocks."""
        if self.closed:
            raise HardwareError("simulated sensor is closed")
        self.reads += 1
        if self._failures_left != 0:
            if self._failures_left > 0:
                self._failures_left -= 1
            return self._tracker.failed(SIMULATED_FAILURE)
        self._step()
        reading = self._tracker.succeeded(round(self.temperature_c, 1), round(self.humidity_pct, 1))
        log.debug(
            "simulated sensor: %.1f C, %.1f %%RH", reading.temperature_c, reading.humidity_pct
        )
        return reading

    def _step(self) -> None:
        # Pulled back towards the room's mean so the walk wanders but never runs away.
        self.temperature_c = _clamp(
            self.temperature_c
            + 0.1 * (ROOM_TEMPERATURE_C - self.temperature_c)
            + self._rng.gauss(0.0, 0.1),
            TEMPERATURE_BOUNDS_C,
        )
        self.humidity_pct = _clamp(
            self.humidity_pct
            + 0.1 * (ROOM_HUMIDITY_PCT - self.humidity_pct)
            + self._rng.gauss(0.0, 0.4),
            HUMIDITY_BOUNDS_PCT,
        )

    def close(self) -> None:
        """Refuse further reads; idempotent."""
        self.closed = True
