from __future__ import annotations

import logging

import pytest

from hardware import HardwareError, Led, SimulatedLed


def test_records_gamma_corrected_duty_cycles() -> None:
    led: Led = SimulatedLed()
    for level in (100, 50, 0):
        led.set_level(level)
    assert isinstance(led, SimulatedLed)
    assert list(led.history) == pytest.approx([100.0, 100 * 0.5**2.2, 0.0])
    assert led.level == 0
    assert led.duty_cycle == 0.0


def test_custom_gamma_and_debug_log(caplog: pytest.LogCaptureFixture) -> None:
    led = SimulatedLed(pin=12, gamma=1.0)
    with caplog.at_level(logging.DEBUG, logger="hardware"):
        led.set_level(30)
    assert led.duty_cycle == pytest.approx(30.0)
    assert "GPIO12" in caplog.text and "30.0" in caplog.text


def test_checks_settings_like_the_real_led() -> None:
    with pytest.raises(ValueError, match="BCM"):
        SimulatedLed(pin=40)
    with pytest.raises(ValueError, match="frequency"):
        SimulatedLed(frequency=-5)
    with pytest.raises(ValueError, match="between 0 and 100"):
        SimulatedLed().set_level(-1)


def test_close_turns_off_and_refuses_levels() -> None:
    led = SimulatedLed()
    led.set_level(80)
    led.close()
    led.close()
    assert led.closed and led.duty_cycle == 0.0
    with pytest.raises(HardwareError):
        led.set_level(10)


def test_history_is_bounded() -> None:
    led = SimulatedLed()
    for step in range(5000):
        led.set_level(step % 101)
    assert len(led.history) == 1000
    assert led.history[-1] == pytest.approx(led.duty_cycle)
