"""Checks for GPIO pin numbers and PWM settings, shared by real and simulated parts."""

from __future__ import annotations

import math

#: The BCM numbers on the 40-pin header.
BCM_PINS = range(28)
#: Pins with a hardware PWM channel; software PWM works on any pin but jitters.
HARDWARE_PWM_PINS = frozenset({12, 13, 18, 19})
#: GPIO18 has a hardware PWM channel, so the wiring suits a hardware PWM driver too.
DEFAULT_LED_PIN = 18
#: Above visible flicker, yet cheap for software PWM on a Pi Zero 2 W.
DEFAULT_PWM_FREQUENCY = 200.0


def check_pin(pin: int) -> int:
    """Return ``pin`` if it is a BCM GPIO number on the header, else raise ``ValueError``."""
    # bool is an int subclass; True as a pin number is surely a config mistake.
    if isinstance(pin, bool) or not isinstance(pin, int) or pin not in BCM_PINS:
        raise ValueError(f"pin must be a BCM GPIO number 0-27, got {pin!r}")
    return pin


def check_frequency(frequency: float) -> float:
    """Return ``frequency`` in Hz as a float if positive, else raise ``ValueError``."""
    if isinstance(frequency, bool) or not math.isfinite(frequency) or frequency <= 0:
        raise ValueError(f"PWM frequency must be a positive number of Hz, got {frequency!r}")
    return float(frequency)
