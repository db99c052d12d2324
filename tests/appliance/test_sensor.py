"""The sensor thing on a simulated DHT: the poller keeps values current and survives failures."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import pytest

from appliance.sensor import Sensor
from hardware import Reading, SimulatedSensor

from .conftest import until


@pytest.fixture
def device() -> SimulatedSensor:
    return SimulatedSensor(stale_after=2)


@pytest.fixture
async def sensor(device: SimulatedSensor) -> AsyncIterator[Sensor]:
    thing = await Sensor(device, interval=0.01).ensure_built()
    yield thing
    await thing.close()


async def test_poller_updates_the_properties(sensor: Sensor, device: SimulatedSensor) -> None:
    notified: list[str] = []
    for name in ("humidity", "temperature"):
        sensor.find_property(name).value.on("sync", lambda _v, n=name: notified.append(n))
    await until(lambda: sensor.get_property("temperature") is not None, what="a first reading")
    start = sensor.polls
    await until(lambda: sensor.polls >= start + 5, what="more polls")
    assert 30 <= sensor.get_property("humidity") <= 60
    assert 16 <= sensor.get_property("temperature") <= 26
    assert sensor.get_property("stale") is False
    assert "humidity" in notified and "temperature" in notified


async def test_failing_sensor_keeps_values_marks_stale_keeps_polling_and_recovers(
    sensor: Sensor, device: SimulatedSensor
) -> None:
    await until(lambda: sensor.get_property("humidity") is not None, what="a first reading")
    device.fail(None)
    await until(lambda: sensor.get_property("stale") is True, what="stale")
    kept = sensor.get_properties()
    assert kept["humidity"] is not None and kept["temperature"] is not None
    events = list(sensor.get_events("stale"))
    assert len(events) == 1 and "Checksum" in events[0].data

    polls = sensor.polls
    await until(lambda: sensor.polls >= polls + 5, what="polling on while failing")
    assert sensor.get_property("humidity") == kept["humidity"]
    assert len(list(sensor.get_events("stale"))) == 1  # raised once per outage

    device.fail(0)
    await until(lambda: sensor.get_property("stale") is False, what="recovery")
    assert sensor.last_error is None


class Exploding:
    """A sensor whose read raises (a vanished device), until told to work."""

    def __init__(self) -> None:
        self.broken = threading.Event()
        self.broken.set()
        self.reads = 0

    def read(self) -> Reading:
        self.reads += 1
        if self.broken.is_set():
            raise OSError("no such device")
        return Reading(20.5, 40.0, None, stale=False)

    def close(self) -> None:
        pass


async def test_a_raising_read_is_stale_not_fatal() -> None:
    device = Exploding()
    sensor = await Sensor(device, interval=0.01).ensure_built()
    try:
        await until(lambda: device.reads >= 3, what="several failed reads")
        assert sensor.get_property("stale") is True
        assert sensor.last_error is not None and "no such device" in sensor.last_error
        assert sensor.tasks  # the poller is still there
        device.broken.clear()
        await until(lambda: sensor.get_property("temperature") == 20.5, what="recovery")
        assert sensor.get_property("stale") is False
    finally:
        await sensor.close()


async def test_close_stops_the_poller(device: SimulatedSensor) -> None:
    sensor = await Sensor(device, interval=0.01).ensure_built()
    await until(lambda: device.reads >= 2)
    poller = next(iter(sensor.tasks))
    await sensor.close()
    assert poller.cancelled()
    assert not sensor.tasks


async def test_properties_are_read_only(sensor: Sensor) -> None:
    for name in ("humidity", "temperature", "stale"):
        assert sensor.find_property(name).read_only
        with pytest.raises(Exception, match="read-only"):
            await sensor.set_property(name, 1)


def test_description() -> None:
    import asyncio

    async def build() -> Sensor:
        thing = await Sensor(SimulatedSensor(), interval=60).ensure_built()
        await thing.close()
        return thing

    sensor = asyncio.run(build())
    assert "TemperatureSensor" in sensor.type and "MultiLevelSensor" in sensor.type
    assert sensor.find_property("temperature").metadata["@type"] == "TemperatureProperty"
    assert sensor.find_property("temperature").metadata["unit"] == "degree celsius"
    assert sensor.find_property("humidity").metadata["@type"] == "LevelProperty"
    assert sensor.find_property("humidity").metadata["unit"] == "percent"


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        Sensor(SimulatedSensor(), interval=0)
