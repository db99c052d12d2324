"""Fixtures that stand in for the Raspberry Pi vendor modules and for time."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from pytest_mock import MockerFixture


@pytest.fixture
def vendor(mocker: MockerFixture) -> SimpleNamespace:
    """Mocked RPi.GPIO, adafruit_dht and board, installed in sys.modules for one test."""
    gpio = mocker.MagicMock(name="RPi.GPIO")
    gpio.BCM, gpio.BOARD, gpio.OUT = 11, 10, 0
    rpi = mocker.MagicMock(name="RPi")
    rpi.GPIO = gpio
    adafruit_dht = mocker.MagicMock(name="adafruit_dht")
    # Only header pins exist on the board module, like blinka's.
    board = SimpleNamespace(**{f"D{n}": f"board.D{n}" for n in range(28)})
    mocker.patch.dict(
        sys.modules,
        {"RPi": rpi, "RPi.GPIO": gpio, "adafruit_dht": adafruit_dht, "board": board},
    )
    return SimpleNamespace(gpio=gpio, adafruit_dht=adafruit_dht, board=board)


class FakeTime:
    """A monotonic clock that only moves when slept on or advanced, recording each sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "sleeping for nothing is a bug"
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def wall(self) -> datetime:
        """Wall time that follows the monotonic clock, for ``Reading.taken_at``."""
        return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=self.now)


@pytest.fixture
def fake_time() -> FakeTime:
    """An injected clock and sleep, so retry timing is tested without waiting."""
    return FakeTime()


class FakeDht:
    """Plays a script of frames like adafruit_dht.DHT22: (t, h) tuples or exceptions.

    Reading ``temperature`` measures (consuming one frame and taking ``duration`` of
    fake time); ``humidity`` returns the same frame's value, as the library's cache does.
    """

    def __init__(self, fake_time: FakeTime, script: list[Any], duration: float = 0.05) -> None:
        self.time = fake_time
        self.script = list(script)
        self.duration = duration
        self.attempts: list[tuple[float, float]] = []  # (start, end) of each measurement
        self._humidity: Any = None
        self.exit_calls = 0

    @property
    def temperature(self) -> Any:
        start = self.time.now
        self.time.advance(self.duration)
        self.attempts.append((start, self.time.now))
        frame = self.script.pop(0)
        if isinstance(frame, BaseException):
            raise frame
        temperature, self._humidity = frame
        return temperature

    @property
    def humidity(self) -> Any:
        return self._humidity

    def exit(self) -> None:
        self.exit_calls += 1


@pytest.fixture
def fake_dht(vendor: SimpleNamespace, fake_time: FakeTime) -> Callable[[list[Any]], FakeDht]:
    """Make a scripted DHT device that both adafruit_dht.DHT22 and DHT11 will return."""

    def make(script: list[Any]) -> FakeDht:
        device = FakeDht(fake_time, script)
        vendor.adafruit_dht.DHT22.return_value = device
        vendor.adafruit_dht.DHT11.return_value = device
        return device

    return make
