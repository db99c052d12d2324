"""An LED dimmed by PWM through the RPi.GPIO API."""

from __future__ import annotations

import logging
from typing import Any

from .errors import HardwareError
from .gamma import DEFAULT_GAMMA, check_gamma, duty_for_level
from .pins import (
    DEFAULT_LED_PIN,
    DEFAULT_PWM_FREQUENCY,
    HARDWARE_PWM_PINS,
    check_frequency,
    check_pin,
)
from .vendor import import_vendor

log = logging.getLogger(__name__)


class PwmLed:
    """A dimmable LED on a GPIO pin, driven by ``RPi.GPIO.PWM`` (BCM numbering).

    RPi.GPIO (and rpi-lgpio, which provides the same API on Pi 5 and bookworm) times PWM
    in software on any pin, so it can jitter under load; GPIO12/13/18/19 also have a
    hardware PWM channel, which is why the default pin is 18: wiring stays the same if a
    hardware PWM driver replaces this one.
    """

    def __init__(
        self,
        pin: int = DEFAULT_LED_PIN,
        frequency: float = DEFAULT_PWM_FREQUENCY,
        gamma: float = DEFAULT_GAMMA,
    ) -> None:
        self.pin = check_pin(pin)
        self.frequency = check_frequency(frequency)
        self.gamma = check_gamma(gamma)
        self._level = 0.0
        self.duty_cycle = 0.0
        self._closed = False
        gpio = import_vendor("RPi.GPIO")
        try:
            gpio.setmode(gpio.BCM)
            # Without ``initial`` the pin keeps the level it had (rpi-lgpio reads the line
            # first), which may be high: LOW keeps the LED dark from the first instant.
            gpio.setup(self.pin, gpio.OUT, initial=gpio.LOW)
            pwm = gpio.PWM(self.pin, self.frequency)
            # Start dark: the runtime restores the saved brightness right after.
            pwm.start(0)
        except Exception as exc:
            raise HardwareError(f"cannot drive PWM on GPIO{self.pin}: {exc}") from exc
        self._gpio: Any = gpio
        self._pwm: Any = pwm
        if self.pin not in HARDWARE_PWM_PINS:
            log.info("GPIO%d has no hardware PWM channel; 12, 13, 18 or 19 can", self.pin)

    @property
    def level(self) -> float:
        """The brightness last set, 0-100 %."""
        return self._level

    def set_level(self, percent: float) -> None:
        """Set the perceived brightness, 0-100 %, as a gamma-corrected duty cycle."""
        if self._closed:
            raise HardwareError(f"LED on GPIO{self.pin} is closed")
        duty = duty_for_level(percent, self.gamma)
        self._pwm.ChangeDutyCycle(duty)
        self._level = float(percent)
        self.duty_cycle = duty

    def close(self) -> None:
        """Stop PWM and release the pin (leaving the LED off); idempotent."""
        if self._closed:
            return
        self._closed = True
        # Stop before cleanup: on rpi-lgpio, stop() on a released pin claims it again as an
        # output. The PWM object is kept for the same reason: rpi-lgpio's PWM.__del__ calls
        # stop(), so dropping it here would undo the release at once.
        try:
            self._pwm.stop()
        finally:
            # Only this pin: other parts of the process may still use GPIO.
            self._gpio.cleanup(self.pin)
        self.duty_cycle = 0.0
