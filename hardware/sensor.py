"""The humidity/temperature sensor interface and the bookkeeping of stale readings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

#: Consecutive failed attempts after which the last good values are reported as stale.
DEFAULT_STALE_AFTER = 3


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Reading:
    """One result of ``Sensor.read``: the latest good values and whether to trust them.

    ``taken_at`` is when the values were measured, so a stale reading keeps the time of
    its last good measurement. Values are ``None`` only before the first good read.
    ``error`` is the latest attempt's failure, ``None`` when it succeeded.
    """

    temperature_c: float | None
    humidity_pct: float | None
    taken_at: datetime | None
    stale: bool
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the values are fresh from the latest attempt."""
        return self.error is None and not self.stale and self.temperature_c is not None


class Sensor(Protocol):
    """A humidity/temperature sensor.

    ``read`` may block for seconds (the DHT is bit-banged and retried), so async code
    calls it with ``asyncio.to_thread``. It never raises for a failed measurement: it
    returns a ``Reading`` with ``error`` set and, after repeated failures, ``stale``.
    """

    def read(self) -> Reading:
        """Measure, retrying as the part needs, and return the latest values."""
        ...

    def close(self) -> None:
        """Release the sensor's pin; calling it again does nothing."""
        ...


class ReadingTracker:
    """Keeps the last good values and counts failures to decide when they go stale."""

    def __init__(
        self,
        stale_after: int = DEFAULT_STALE_AFTER,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        if stale_after < 1:
            raise ValueError(f"stale_after must be at least 1, got {stale_after!r}")
        self.stale_after = stale_after
        self._now = now
        self.failures = 0
        self.last_good: Reading | None = None

    def succeeded(self, temperature_c: float, humidity_pct: float) -> Reading:
        """Record good values and return them as a fresh reading."""
        self.failures = 0
        self.last_good = Reading(temperature_c, humidity_pct, self._now(), stale=False)
        return self.last_good

    def failed(self, error: str) -> Reading:
        """Record a failed attempt and return the last good values, stale if failures piled up."""
        self.failures += 1
        last = self.last_good
        if last is None:
            # Nothing was ever measured, so there is nothing current to report.
            return Reading(None, None, None, stale=True, error=error)
        stale = self.failures >= self.stale_after
        return Reading(last.temperature_c, last.humidity_pct, last.taken_at, stale, error)
