"""The appliance on its real drivers over the fake vendor modules: what the pins did."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from appliance.config import Config, DiscoveryConfig, StateConfig
from appliance.lamp import Lamp
from appliance.service import build_appliance
from appliance.state import LampState
from hardware import HardwareError, PiBackend, PwmLed, duty_for_level
from tests.hardware.fakes import FakeVendor, install_fakes

GAMMA = 2.2


@pytest.fixture
def vendor(mocker: MockerFixture) -> FakeVendor:
    """The fakes on real time, since fades run on the event loop's clock."""
    return install_fakes(mocker)


def duty(level: float) -> float:
    return duty_for_level(level, GAMMA)


def config(tmp_path: Path) -> Config:
    return Config(state=StateConfig(dir=str(tmp_path)), discovery=DiscoveryConfig(enabled=False))


async def test_a_fade_ramps_the_pin_and_closing_releases_it(vendor: FakeVendor) -> None:
    led = PwmLed(gamma=GAMMA)
    lamp = await Lamp(led, LampState(on=True, brightness=10), fade_step=0.005).ensure_built()
    action = lamp.perform_action("fade", {"brightness": 90, "duration": 200})
    await asyncio.wait_for(action.done.wait(), 10)
    await lamp.close()
    led.close()
    duties = vendor.gpio.duties(18)
    # Dark from setup, the saved brightness, a rising ramp to the target, LOW, released.
    assert duties[0] == 0.0
    assert duties[-2:] == [0.0, None]
    ramp = [d for d in duties[1:-2] if d is not None]
    assert len(ramp) == len(duties) - 3
    assert ramp[0] == pytest.approx(duty(10)) and ramp[-1] == pytest.approx(duty(90))
    assert ramp == sorted(ramp)
    assert len([d for d in ramp if duty(10) < d < duty(90)]) >= 5, ramp
    assert vendor.gpio.released(18)


def test_the_appliance_releases_both_parts_once(vendor: FakeVendor, tmp_path: Path) -> None:
    vendor.dht.script([])
    appliance = build_appliance(config(tmp_path), PiBackend())
    [device] = vendor.dht.devices
    assert (device.model, device.pin) == ("DHT22", vendor.board.D4)
    assert not vendor.gpio.released(18)
    appliance.close_hardware()
    appliance.close_hardware()
    assert vendor.gpio.released(18) and vendor.gpio.duty(18) is None
    assert device.exits == 1


def test_a_sensor_that_cannot_open_releases_the_led(vendor: FakeVendor, tmp_path: Path) -> None:
    vendor.dht.fail_next_open(RuntimeError("Unable to set line 4 to input"))
    with pytest.raises(HardwareError, match="Unable to set line 4"):
        build_appliance(config(tmp_path), PiBackend())
    assert vendor.gpio.duties(18) == [0.0, None]
    assert vendor.gpio.released(18)
