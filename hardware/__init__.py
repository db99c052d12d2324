"""Drivers for the appliance's physical parts: a PWM LED and a DHT sensor, real or simulated.

Nothing here imports the vendor modules (RPi.GPIO, adafruit_dht, board) until a real
driver is made, so the package imports on any machine.
"""

from __future__ import annotations

from .backend import (
    BACKEND_CHOICES,
    BackendChoice,
    HardwareBackend,
    PiBackend,
    Platform,
    SimulatedBackend,
    probe_platform,
    read_board_model,
    select_backend,
)
from .dht import DEFAULT_DHT_MODEL, DEFAULT_DHT_PIN, DHT_MODELS, MIN_READ_INTERVAL, DhtSensor
from .errors import HardwareError
from .gamma import DEFAULT_GAMMA, duty_for_level
from .led import Led, SimulatedLed
from .pins import DEFAULT_LED_PIN, DEFAULT_PWM_FREQUENCY, HARDWARE_PWM_PINS
from .pwm_led import PwmLed
from .sensor import DEFAULT_STALE_AFTER, Reading, ReadingTracker, Sensor
from .simulated_sensor import SimulatedSensor

__all__ = [
    "BACKEND_CHOICES",
    "DEFAULT_DHT_MODEL",
    "DEFAULT_DHT_PIN",
    "DEFAULT_GAMMA",
    "DEFAULT_LED_PIN",
    "DEFAULT_PWM_FREQUENCY",
    "DEFAULT_STALE_AFTER",
    "DHT_MODELS",
    "HARDWARE_PWM_PINS",
    "MIN_READ_INTERVAL",
    "BackendChoice",
    "DhtSensor",
    "HardwareBackend",
    "HardwareError",
    "Led",
    "PiBackend",
    "Platform",
    "PwmLed",
    "Reading",
    "ReadingTracker",
    "Sensor",
    "SimulatedBackend",
    "SimulatedLed",
    "SimulatedSensor",
    "duty_for_level",
    "probe_platform",
    "read_board_model",
    "select_backend",
]
