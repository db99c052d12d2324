from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace
from unittest.mock import call

import pytest
from pytest_mock import MockerFixture

from hardware import HardwareError, PwmLed, duty_for_level


def test_setup_uses_bcm_numbering_the_pin_and_the_frequency(vendor: SimpleNamespace) -> None:
    gpio = vendor.gpio
    PwmLed(pin=13, frequency=500)
    assert gpio.mock_calls[:3] == [
        call.setmode(gpio.BCM),
        call.setup(13, gpio.OUT),
        call.PWM(13, 500.0),
    ]
    # Starts dark, so nothing flashes before the saved brightness is restored.
    gpio.PWM.return_value.start.assert_called_once_with(0)


def test_defaults_are_gpio18_at_200_hz(vendor: SimpleNamespace) -> None:
    led = PwmLed()
    vendor.gpio.PWM.assert_called_once_with(18, 200.0)
    assert (led.pin, led.frequency, led.gamma) == (18, 200.0, 2.2)


def test_each_level_becomes_a_gamma_corrected_duty_cycle(vendor: SimpleNamespace) -> None:
    pwm = vendor.gpio.PWM.return_value
    led = PwmLed(pin=18)
    for level in (0, 25, 50, 100, 0):
        led.set_level(level)
    duties = [c.args[0] for c in pwm.ChangeDutyCycle.call_args_list]
    assert duties == pytest.approx([0.0, 100 * 0.25**2.2, 100 * 0.5**2.2, 100.0, 0.0])
    assert led.level == 0


def test_gamma_is_configurable(vendor: SimpleNamespace) -> None:
    pwm = vendor.gpio.PWM.return_value
    led = PwmLed(gamma=1.0)
    led.set_level(40)
    pwm.ChangeDutyCycle.assert_called_once_with(pytest.approx(40.0))
    assert led.duty_cycle == pytest.approx(40.0)
    assert led.level == 40


def test_a_refused_level_changes_nothing(vendor: SimpleNamespace) -> None:
    pwm = vendor.gpio.PWM.return_value
    led = PwmLed()
    led.set_level(30)
    with pytest.raises(ValueError):
        led.set_level(101)
    pwm.ChangeDutyCycle.assert_called_once_with(pytest.approx(duty_for_level(30)))
    assert led.level == 30


def test_close_stops_pwm_then_cleans_up_only_its_pin(vendor: SimpleNamespace) -> None:
    gpio = vendor.gpio
    pwm = gpio.PWM.return_value
    led = PwmLed(pin=12)
    led.close()
    pwm.stop.assert_called_once_with()
    gpio.cleanup.assert_called_once_with(12)
    # stop before cleanup: stopping a PWM on a released pin errors on rpi-lgpio.
    names = [c[0] for c in gpio.mock_calls if c[0] in ("PWM().stop", "cleanup")]
    assert names == ["PWM().stop", "cleanup"]


def test_close_is_idempotent_and_then_refuses_levels(vendor: SimpleNamespace) -> None:
    led = PwmLed()
    led.close()
    led.close()
    vendor.gpio.cleanup.assert_called_once_with(18)
    with pytest.raises(HardwareError, match="closed"):
        led.set_level(10)
    vendor.gpio.PWM.return_value.ChangeDutyCycle.assert_not_called()


def test_cleanup_runs_even_if_stop_fails(vendor: SimpleNamespace) -> None:
    vendor.gpio.PWM.return_value.stop.side_effect = RuntimeError("boom")
    led = PwmLed(pin=19)
    with pytest.raises(RuntimeError):
        led.close()
    vendor.gpio.cleanup.assert_called_once_with(19)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pin": 28}, "BCM"),
        ({"pin": -1}, "BCM"),
        ({"pin": True}, "BCM"),
        ({"frequency": 0}, "frequency"),
        ({"frequency": float("nan")}, "frequency"),
        ({"gamma": 0}, "gamma"),
    ],
)
def test_bad_settings_fail_before_touching_gpio(
    vendor: SimpleNamespace, kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PwmLed(**kwargs)  # type: ignore[arg-type]
    assert vendor.gpio.mock_calls == []


def test_gpio_failure_is_a_hardware_error(vendor: SimpleNamespace) -> None:
    vendor.gpio.setup.side_effect = RuntimeError("Not running on a RPi!")
    with pytest.raises(HardwareError, match=r"GPIO18.*Not running on a RPi"):
        PwmLed()


def test_missing_rpi_gpio_says_what_to_install(mocker: MockerFixture) -> None:
    # A None entry in sys.modules makes the import fail, as on a laptop.
    mocker.patch.dict(sys.modules, {"RPi": None, "RPi.GPIO": None})
    with pytest.raises(HardwareError, match=r"RPi\.GPIO.*webthing-appliance\[pi\].*simulated"):
        PwmLed()


def test_package_imports_without_vendor_modules() -> None:
    code = (
        "import sys, hardware\n"
        "hardware.select_backend('simulated').make_led().set_level(50)\n"
        "bad = {'RPi', 'RPi.GPIO', 'adafruit_dht', 'board'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
