"""The appliance runtime: config, the lamp and sensor things on real or simulated hardware,
the state file, and the ``appliance`` command."""

from __future__ import annotations

from .config import Config, ConfigError, load_config, loads_config
from .lamp import FadeAction, Lamp
from .sensor import Sensor
from .state import LampState, StateStore

__all__ = [
    "Config",
    "ConfigError",
    "FadeAction",
    "Lamp",
    "LampState",
    "Sensor",
    "StateStore",
    "load_config",
    "loads_config",
]
