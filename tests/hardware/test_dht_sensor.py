from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from hardware import DhtSensor, HardwareError, Reading, Sensor

if TYPE_CHECKING:
    from .conftest import FakeDht, FakeTime


CHECKSUM = RuntimeError("Checksum did not validate. Try again.")
BUFFER = RuntimeError("A full buffer was not returned. Try again.")


SensorMaker = Callable[..., tuple[DhtSensor, "FakeDht"]]


@pytest.fixture
def make_sensor(fake_dht: Callable[[list[Any]], FakeDht], fake_time: FakeTime) -> SensorMaker:
    """Make a DhtSensor on a scripted device, with the fake clock and sleep injected."""

    def make(script: list[Any], **kwargs: Any) -> tuple[DhtSensor, FakeDht]:
        device = fake_dht(script)
        sensor = DhtSensor(
            clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.wall, **kwargs
        )
        return sensor, device

    return make


def assert_spaced(device: FakeDht, interval: float = 2.0) -> None:
    """Every attempt starts at least ``interval`` after the previous one ended."""
    for (_, end), (start, _) in itertools.pairwise(device.attempts):
        assert start - end >= interval - 1e-9, device.attempts


def test_dht22_on_bcm4_by_default_without_pulseio(vendor: SimpleNamespace) -> None:
    DhtSensor()
    vendor.adafruit_dht.DHT22.assert_called_once_with("board.D4", use_pulseio=False)
    vendor.adafruit_dht.DHT11.assert_not_called()


def test_dht11_is_selected_by_model_and_pin_maps_to_board(vendor: SimpleNamespace) -> None:
    sensor = DhtSensor(model="dht11", pin=17)
    vendor.adafruit_dht.DHT11.assert_called_once_with("board.D17", use_pulseio=False)
    vendor.adafruit_dht.DHT22.assert_not_called()
    assert sensor.model == "DHT11"


def test_unknown_model_or_pin_is_refused_before_opening(vendor: SimpleNamespace) -> None:
    with pytest.raises(ValueError, match="DHT22, DHT11"):
        DhtSensor(model="DHT33")
    with pytest.raises(ValueError, match="BCM"):
        DhtSensor(pin=40)
    assert vendor.adafruit_dht.mock_calls == []


def test_min_interval_cannot_go_below_two_seconds(vendor: SimpleNamespace) -> None:
    with pytest.raises(ValueError, match=r"2\.0 s"):
        DhtSensor(min_interval=1.0)


def test_open_failure_is_a_hardware_error(vendor: SimpleNamespace) -> None:
    vendor.adafruit_dht.DHT22.side_effect = RuntimeError("Unable to set line 4 to input")
    with pytest.raises(HardwareError, match=r"GPIO4.*Unable to set line"):
        DhtSensor()


def test_a_good_read_is_fresh_and_rounded(make_sensor: SensorMaker, fake_time: FakeTime) -> None:
    sensor, _ = make_sensor([(21.34, 44.96)])
    reading = sensor.read()
    assert reading == Reading(21.3, 45.0, fake_time.wall(), stale=False, error=None)
    assert reading.ok
    assert fake_time.sleeps == []


def test_failed_frames_are_retried_no_sooner_than_two_seconds(
    make_sensor: SensorMaker, fake_time: FakeTime
) -> None:
    sensor, device = make_sensor([CHECKSUM, BUFFER, (22.5, 40.0)], attempts=3)
    reading = sensor.read()
    assert (reading.temperature_c, reading.humidity_pct, reading.error) == (22.5, 40.0, None)
    assert len(device.attempts) == 3
    assert_spaced(device)
    assert fake_time.sleeps == pytest.approx([2.0, 2.0])


def test_read_stops_after_its_attempts(make_sensor: SensorMaker, fake_time: FakeTime) -> None:
    sensor, device = make_sensor([CHECKSUM, BUFFER, (22.5, 40.0)])
    reading = sensor.read()  # two attempts by default
    assert len(device.attempts) == 2
    assert reading.error == "A full buffer was not returned. Try again."
    assert device.script == [(22.5, 40.0)]


def test_back_to_back_reads_wait_out_the_interval(
    make_sensor: SensorMaker, fake_time: FakeTime
) -> None:
    sensor, device = make_sensor([(20.0, 50.0), (20.1, 50.0), (20.2, 50.0)])
    sensor.read()
    fake_time.advance(0.5)
    sensor.read()  # called too soon: must sleep the rest of the 2 s
    assert fake_time.sleeps == pytest.approx([1.5])
    fake_time.advance(7.0)
    sensor.read()  # a poll interval later: no sleep at all
    assert fake_time.sleeps == pytest.approx([1.5])
    assert_spaced(device)


def test_spacing_holds_over_a_long_mix_of_failures(
    make_sensor: SensorMaker, fake_time: FakeTime
) -> None:
    frames: list[Any] = [CHECKSUM, BUFFER, (20.0, 50.0), None] * 10
    frames = [(None, 50.0) if f is None else f for f in frames]
    sensor, device = make_sensor(frames, attempts=4)
    for gap in (0.0, 0.3, 1.9, 2.5, 0.0, 10.0, 0.1, 1.0, 0.0, 0.0):
        fake_time.advance(gap)
        sensor.read()
    assert len(device.attempts) >= 20
    assert_spaced(device)


def test_stale_after_consecutive_failures_keeping_last_values(
    make_sensor: SensorMaker, fake_time: FakeTime
) -> None:
    script = [(20.0, 50.0), CHECKSUM, BUFFER, CHECKSUM, CHECKSUM, (23.0, 41.0)]
    sensor, _ = make_sensor(script, attempts=1, stale_after=3)
    good = sensor.read()
    readings = [sensor.read() for _ in range(4)]
    # Failures one and two keep the values and say why, but are not stale yet.
    assert [r.stale for r in readings] == [False, False, True, True]
    for r in readings:
        assert (r.temperature_c, r.humidity_pct, r.taken_at) == (20.0, 50.0, good.taken_at)
        assert r.error is not None and "Try again" in r.error
        assert not r.ok
    assert sensor.consecutive_failures == 4
    recovered = sensor.read()
    assert (recovered.temperature_c, recovered.humidity_pct) == (23.0, 41.0)
    assert not recovered.stale and recovered.error is None
    assert recovered.taken_at is not None and good.taken_at is not None
    assert recovered.taken_at > good.taken_at
    assert sensor.consecutive_failures == 0


def test_failures_count_attempts_within_a_read(
    make_sensor: SensorMaker, fake_time: FakeTime
) -> None:
    script = [(20.0, 50.0), CHECKSUM, CHECKSUM, CHECKSUM, CHECKSUM]
    sensor, _ = make_sensor(script, attempts=2, stale_after=3)
    sensor.read()
    assert not sensor.read().stale  # two failed attempts
    assert sensor.read().stale  # four


def test_stale_and_recovery_are_logged_once(
    make_sensor: SensorMaker, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    script = [(20.0, 50.0), *[CHECKSUM] * 5, (21.0, 50.0)]
    sensor, _ = make_sensor(script, attempts=1)
    with caplog.at_level(logging.INFO, logger="hardware"):
        for _ in range(7):
            sensor.read()
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len(messages) == 2
    assert "stale" in messages[0] and "Checksum" in messages[0]
    assert "recovered" in messages[1]


def test_without_any_good_read_the_reading_has_no_values_and_is_stale(
    make_sensor: SensorMaker, fake_time: FakeTime
) -> None:
    sensor, _ = make_sensor([CHECKSUM, CHECKSUM])
    reading = sensor.read()
    assert reading == Reading(None, None, None, stale=True, error=str(CHECKSUM))


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ((None, 40.0), "no value"),
        ((21.0, None), "no value"),
        ((21.0, 140.0), "implausible"),
        ((-60.0, 40.0), "implausible"),
        ((float("nan"), 40.0), "implausible"),
        (OSError(5, "Input/output error"), "Input/output error"),
    ],
)
def test_bad_frames_count_as_failures(
    make_sensor: SensorMaker, fake_time: FakeTime, frame: Any, message: str
) -> None:
    sensor, _ = make_sensor([(20.0, 50.0), frame], attempts=1)
    sensor.read()
    reading = sensor.read()
    assert reading.error is not None and message in reading.error
    assert (reading.temperature_c, reading.humidity_pct) == (20.0, 50.0)


def test_unexpected_errors_are_not_swallowed(make_sensor: SensorMaker, fake_time: FakeTime) -> None:
    sensor, _ = make_sensor([KeyError("bug")])
    with pytest.raises(KeyError):
        sensor.read()


def test_close_calls_exit_once_and_then_refuses_reads(
    make_sensor: SensorMaker, fake_time: FakeTime
) -> None:
    sensor, device = make_sensor([(20.0, 50.0)])
    sensor.close()
    sensor.close()
    assert device.exit_calls == 1
    with pytest.raises(HardwareError, match="closed"):
        sensor.read()
    assert device.attempts == []


def test_satisfies_the_sensor_protocol(make_sensor: SensorMaker, fake_time: FakeTime) -> None:
    sensor: Sensor = make_sensor([(20.0, 50.0)])[0]
    assert isinstance(sensor.read(), Reading)
