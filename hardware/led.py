"""The LED interface and a simulated LED for machines without GPIO."""

from __future__ import annotations

import logging
from collections import deque
from typing import Protocol

from .errors import HardwareError
from .gamma import DEFAULT_GAMMA, check_gamma, duty_for_level
from .pins import DEFAULT_LED_PIN, DEFAULT_PWM_FREQUENCY, check_frequency, check_pin

log = logging.getLogger(__name__)

HISTORY_LENGTH = 1000


class Led(Protocol):
    """A dimmable LED; ``set_level`` is fast and non-blocking, so the event loop may call it."""

    @property
    def level(self) -> float:
        """The brightness last set, 0-100 %."""
        ...

    def set_level(self, percent: float) -> None:
        """Set the perceived brightness, 0-100 %."""
        ...

    def close(self) -> None:
        """Turn the LED off and release its pin; calling it again does nothing."""
        ...


class SimulatedLed:
    """An LED that only records its duty cycle, for laptops and tests."""

    def __init__(
        self,
        pin: int = DEFAULT_LED_PIN,
        frequency: float = DEFAULT_PWM_FREQUENCY,
        gamma: float = DEFAULT_GAMMA,
    ) -> None:
        # Checked like the real LED's so a bad config fails on a laptop too.
        self.pin = check_pin(pin)
        self.frequency = check_frequency(frequency)
        self.gamma = check_gamma(gamma)
        self._level = 0.0
        self.duty_cycle = 0.0
        #: Recent duty cycles in order, so tests can check ramps; bounded because a
        #: simulated appliance may run for months.
        self.history: deque[float] = deque(maxlen=HISTORY_LENGTH)
        self.closed = False

    @property
    def level(self) -> float:
        """The brightness last set, 0-100 %."""
        return self._level

    def set_level(self, percent: float) -> None:
        """Record the duty cycle the real LED would get."""
        if self.closed:
            raise HardwareError(f"LED on GPIO{self.pin} is closed")
        duty = duty_for_level(percent, self.gamma)
        self._level = float(percent)
        self.duty_cycle = duty
        self.history.append(duty)
        log.debug("simulated LED on GPIO%d: level %.1f %% -> duty %.2f %%", self.pin, percent, duty)

    def close(self) -> None:
        """Turn off and refuse further levels."""
        if not self.closed:
            self.duty_cycle = 0.0
            self.closed = True
