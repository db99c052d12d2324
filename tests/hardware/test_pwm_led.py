"""PwmLed through the fake RPi.GPIO: what the pin showed over time, and that it was released."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pytest_mock import MockerFixture

from hardware import HardwareError, PwmLed, duty_for_level

from .fakes import FakeTime, FakeVendor, LgpioError


def test_setup_uses_bcm_numbering_the_pin_and_the_frequency(vendor: FakeVendor) -> None:
    gpio = vendor.gpio
    led = PwmLed(pin=13, frequency=500)
    assert gpio.getmode() == gpio.BCM
    # rpi-lgpio keeps PWM objects weakly, so the LED must be alive for its PWM to be.
    pwm = gpio.pwm(13)
    assert pwm is not None and pwm.running and pwm.frequency == 500.0
    assert led.frequency == 500.0
    # Starts dark, so nothing flashes before the saved brightness is restored.
    assert gpio.duties(13) == [0.0]


def test_starts_dark_even_where_the_line_reads_high(vendor: FakeVendor) -> None:
    # An output set up without an initial level keeps what the line reads: here HIGH.
    vendor.gpio.line_levels[18] = vendor.gpio.HIGH
    PwmLed()
    assert vendor.gpio.duties(18) == [0.0]


def test_defaults_are_gpio18_at_200_hz(vendor: FakeVendor) -> None:
    led = PwmLed()
    pwm = vendor.gpio.pwm(18)
    assert pwm is not None and pwm.frequency == 200.0
    assert (led.pin, led.frequency, led.gamma) == (18, 200.0, 2.2)


def test_each_level_becomes_a_gamma_corrected_duty_cycle(vendor: FakeVendor) -> None:
    led = PwmLed(pin=18)
    for level in (0, 25, 50, 100, 0):
        led.set_level(level)
    expected = [0.0, 100 * 0.25**2.2, 100 * 0.5**2.2, 100.0, 0.0]
    assert vendor.gpio.duties(18) == pytest.approx(expected)
    assert led.level == 0


def test_the_pin_holds_each_duty_until_the_next_and_is_released_at_the_end(
    vendor: FakeVendor, fake_time: FakeTime
) -> None:
    gpio = vendor.gpio
    began = fake_time.now
    led = PwmLed(gamma=1.0)
    for level in (40, 60):
        fake_time.advance(1.0)
        led.set_level(level)
    fake_time.advance(1.0)
    led.close()
    assert gpio.duty_at(18, began + 0.5) == 0.0
    assert gpio.duty_at(18, began + 1.5) == pytest.approx(40.0)
    assert gpio.duty_at(18, began + 2.5) == pytest.approx(60.0)
    assert gpio.duty_at(18, began + 3.0) is None
    assert gpio.released(18)


def test_gamma_is_configurable(vendor: FakeVendor) -> None:
    led = PwmLed(gamma=1.0)
    led.set_level(40)
    assert vendor.gpio.duty(18) == pytest.approx(40.0)
    assert led.duty_cycle == pytest.approx(40.0)
    assert led.level == 40


def test_a_refused_level_changes_nothing(vendor: FakeVendor) -> None:
    led = PwmLed()
    led.set_level(30)
    with pytest.raises(ValueError):
        led.set_level(101)
    assert vendor.gpio.duties(18) == pytest.approx([0.0, duty_for_level(30)])
    assert led.level == 30


def test_close_goes_dark_then_releases_only_its_pin(vendor: FakeVendor) -> None:
    gpio = vendor.gpio
    # Another part of the process holds a pin of its own.
    gpio.setmode(gpio.BCM)
    gpio.setup(5, gpio.OUT, initial=gpio.HIGH)
    led = PwmLed(pin=12)
    led.set_level(50)
    led.close()
    # LOW, then released: the fake refuses a stop() after cleanup(), so the order holds too
    # (on rpi-lgpio that stop() would claim the released pin again as an output).
    assert gpio.duties(12) == pytest.approx([0.0, duty_for_level(50), 0.0, None])
    assert gpio.released(12)
    pwm = gpio.pwm(12)
    assert pwm is not None and not pwm.running
    # Only its pin: the other stays driven and the numbering mode stays set.
    assert not gpio.released(5) and gpio.duty(5) == 100.0
    assert gpio.getmode() == gpio.BCM


def test_close_is_idempotent_and_then_refuses_levels(vendor: FakeVendor) -> None:
    gpio = vendor.gpio
    led = PwmLed()
    led.set_level(20)
    led.close()
    # A second stop() would raise in the fake (its pin is released), so this proves close()
    # touched nothing the second time.
    led.close()
    with pytest.raises(HardwareError, match="closed"):
        led.set_level(10)
    assert gpio.duties(18) == pytest.approx([0.0, duty_for_level(20), 0.0, None])
    assert gpio.released(18)


def test_cleanup_runs_even_if_stop_fails(vendor: FakeVendor) -> None:
    led = PwmLed(pin=19)
    led.set_level(100)
    vendor.gpio.fail_next("stop", LgpioError("bad write"))
    with pytest.raises(LgpioError):
        led.close()
    assert vendor.gpio.released(19)
    assert vendor.gpio.duty(19) is None


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
    vendor: FakeVendor, kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PwmLed(**kwargs)  # type: ignore[arg-type]
    assert vendor.gpio.getmode() is None
    assert vendor.gpio.timeline == []


def test_gpio_failure_is_a_hardware_error(vendor: FakeVendor) -> None:
    vendor.gpio.fail_next("setup", LgpioError("GPIO busy"))
    with pytest.raises(HardwareError, match=r"GPIO18.*GPIO busy"):
        PwmLed()
    assert vendor.gpio.released(18)


def test_a_frequency_lgpio_cannot_time_is_a_hardware_error(vendor: FakeVendor) -> None:
    # rpi-lgpio's PWM() takes any positive frequency; lgpio refuses above 10 kHz at start().
    with pytest.raises(HardwareError, match=r"GPIO18.*bad PWM frequency"):
        PwmLed(frequency=20_000)
    assert vendor.gpio.duties(18) == [0.0]


def test_missing_rpi_gpio_says_what_to_install(mocker: MockerFixture) -> None:
    # A None entry in sys.modules makes the import fail, as on a laptop.
    mocker.patch.dict(sys.modules, {"RPi": None, "RPi.GPIO": None})
    with pytest.raises(
        HardwareError,
        match=r"RPi\.GPIO.*pip install rpi-lgpio adafruit-circuitpython-dht.*simulated",
    ):
        PwmLed()


def test_package_imports_without_vendor_modules() -> None:
    code = (
        "import sys, hardware\n"
        "hardware.select_backend('simulated').make_led().set_level(50)\n"
        "bad = {'RPi', 'RPi.GPIO', 'adafruit_dht', 'board'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
