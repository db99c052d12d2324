"""A DHT22/DHT11 humidity and temperature sensor on adafruit-circuitpython-dht."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .errors import HardwareError
from .pins import check_pin
from .sensor import DEFAULT_STALE_AFTER, Reading, ReadingTracker, utc_now
from .vendor import import_vendor

log = logging.getLogger(__name__)

DHT_MODELS = ("DHT22", "DHT11")
DEFAULT_DHT_MODEL = "DHT22"
DEFAULT_DHT_PIN = 4
#: The datasheets ask for 2 s between measurements; sooner reads fail or repeat old data.
MIN_READ_INTERVAL = 2.0
#: Attempts per ``read`` call; with the 2 s spacing one read blocks for at most about 2 s more.
DEFAULT_ATTEMPTS = 2
#: The DHT22's range; a value outside it is a corrupted frame that passed the checksum.
PLAUSIBLE_TEMPERATURE_C = (-40.0, 80.0)
PLAUSIBLE_HUMIDITY_PCT = (0.0, 100.0)


def check_model(model: str) -> str:
    """Return the canonical model name ("DHT22" or "DHT11"), else raise ``ValueError``."""
    canonical = model.strip().upper()
    if canonical not in DHT_MODELS:
        raise ValueError(f"sensor model must be one of {', '.join(DHT_MODELS)}, got {model!r}")
    return canonical


class DhtSensor:
    """A DHT22 or DHT11 on one GPIO pin (BCM number), read by bit-banging.

    ``read`` is synchronous and blocks (a bit-banged frame, then up to ``attempts - 1``
    waits of 2 s between retries), so async code runs it with ``asyncio.to_thread``. It is
    serialised by a lock, so ``close`` from another thread waits for a read in progress.
    """

    def __init__(
        self,
        model: str = DEFAULT_DHT_MODEL,
        pin: int = DEFAULT_DHT_PIN,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        stale_after: int = DEFAULT_STALE_AFTER,
        min_interval: float = MIN_READ_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.model = check_model(model)
        self.pin = check_pin(pin)
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {attempts!r}")
        if not min_interval >= MIN_READ_INTERVAL:
            raise ValueError(f"min_interval must be at least {MIN_READ_INTERVAL} s")
        self.attempts = attempts
        self.min_interval = float(min_interval)
        self._clock = clock
        self._sleep = sleep
        self._tracker = ReadingTracker(stale_after, now)
        self._last_attempt: float | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._device: Any = self._open()

    def _open(self) -> Any:
        adafruit_dht = import_vendor("adafruit_dht")
        board = import_vendor("board")
        board_pin = getattr(board, f"D{self.pin}", None)
        if board_pin is None:
            raise HardwareError(f"this board has no pin D{self.pin} for the {self.model}")
        try:
            # pulseio needs a helper binary that does not exist for every Pi OS; bit-banging
            # works everywhere, at the price of more failed frames (which read() retries).
            return getattr(adafruit_dht, self.model)(board_pin, use_pulseio=False)
        except Exception as exc:
            raise HardwareError(f"cannot open the {self.model} on GPIO{self.pin}: {exc}") from exc

    @property
    def consecutive_failures(self) -> int:
        """Failed attempts since the last good one."""
        return self._tracker.failures

    def read(self) -> Reading:
        """Measure, retrying bad frames at least 2 s apart; blocks, never raises for a bad frame."""
        with self._lock:
            if self._closed:
                raise HardwareError(f"{self.model} on GPIO{self.pin} is closed")
            reading = self._spaced_attempt()
            for _ in range(self.attempts - 1):
                if reading.error is None:
                    break
                reading = self._spaced_attempt()
            return reading

    def _spaced_attempt(self) -> Reading:
        self._wait_for_interval()
        was_stale = self._tracker.failures >= self._tracker.stale_after
        reading = self._attempt()
        if reading.error is None and was_stale:
            log.info("%s on GPIO%d recovered", self.model, self.pin)
        elif self._tracker.failures == self._tracker.stale_after:
            log.warning(
                "%s on GPIO%d: %d failed attempts in a row, values are stale (%s)",
                self.model,
                self.pin,
                self._tracker.failures,
                reading.error,
            )
        return reading

    def _wait_for_interval(self) -> None:
        if self._last_attempt is None:
            return
        wait = self._last_attempt + self.min_interval - self._clock()
        if wait > 0:
            self._sleep(wait)

    def _attempt(self) -> Reading:
        try:
            temperature = self._device.temperature
            humidity = self._device.humidity
        except (RuntimeError, OSError) as exc:
            # The library's everyday failures: "Checksum did not validate", "A full buffer
            # was not returned", "DHT sensor not found"; all worth another try later.
            return self._failed(str(exc) or type(exc).__name__)
        finally:
            # Measured from the end of the attempt: the library starts its own 2 s window
            # during the call and silently returns cached values to a read inside it.
            self._last_attempt = self._clock()
        problem = _implausible(temperature, humidity)
        if problem is not None:
            return self._failed(problem)
        return self._tracker.succeeded(round(float(temperature), 1), round(float(humidity), 1))

    def _failed(self, error: str) -> Reading:
        log.debug("%s on GPIO%d read failed: %s", self.model, self.pin, error)
        return self._tracker.failed(error)

    def close(self) -> None:
        """Release the pin (``exit()`` on the device); idempotent.

        It waits for a read in progress, so async code calls it with ``asyncio.to_thread`` too.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._device.exit()


def _implausible(temperature: Any, humidity: Any) -> str | None:
    """Say what is wrong with a frame's values, or ``None`` when they look like weather."""
    if temperature is None or humidity is None:
        return "sensor returned no value"
    try:
        t, h = float(temperature), float(humidity)
    except (TypeError, ValueError):
        return f"sensor returned non-numeric values {temperature!r}, {humidity!r}"
    low_t, high_t = PLAUSIBLE_TEMPERATURE_C
    low_h, high_h = PLAUSIBLE_HUMIDITY_PCT
    if not (math.isfinite(t) and low_t <= t <= high_t and low_h <= h <= high_h):
        return f"implausible values {t} C, {h} %RH"
    return None
