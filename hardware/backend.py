"""Choosing real or simulated hardware, and making the parts from the choice."""

from __future__ import annotations

import importlib
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import ClassVar, Literal, get_args

from .dht import DEFAULT_DHT_MODEL, DEFAULT_DHT_PIN, DhtSensor, check_model
from .errors import HardwareError
from .gamma import DEFAULT_GAMMA
from .led import Led, SimulatedLed
from .pins import DEFAULT_LED_PIN, DEFAULT_PWM_FREQUENCY, check_pin
from .pwm_led import PwmLed
from .sensor import DEFAULT_STALE_AFTER, Sensor
from .simulated_sensor import SimulatedSensor
from .vendor import INSTALL_HINT, PI_MODULES

log = logging.getLogger(__name__)

BackendChoice = Literal["auto", "pi", "simulated"]
BACKEND_CHOICES: tuple[str, ...] = get_args(BackendChoice)
#: The firmware writes the board's name here on every Raspberry Pi running Linux.
DEVICE_TREE_MODEL = Path("/proc/device-tree/model")


@dataclass(frozen=True)
class Platform:
    """What a probe found: the board's model string and the vendor modules that failed to import."""

    board_model: str | None
    import_errors: dict[str, str] = field(default_factory=dict)

    @property
    def is_raspberry_pi(self) -> bool:
        """True when the device tree names a Raspberry Pi."""
        return self.board_model is not None and "Raspberry Pi" in self.board_model

    @property
    def has_vendor_modules(self) -> bool:
        """True when RPi.GPIO, adafruit_dht and board all imported."""
        return not self.import_errors


def read_board_model(path: Path = DEVICE_TREE_MODEL) -> str | None:
    """The device tree's model string ("Raspberry Pi 4 Model B Rev 1.4"), or ``None``."""
    try:
        # The firmware NUL-terminates the string.
        return path.read_bytes().rstrip(b"\0").decode("utf-8", "replace").strip() or None
    except OSError:
        return None


def probe_platform(
    model_path: Path = DEVICE_TREE_MODEL,
    importer: Callable[[str], ModuleType] = importlib.import_module,
) -> Platform:
    """Look at this machine: the board model, and whether the Pi vendor modules import."""
    model = read_board_model(model_path)
    errors: dict[str, str] = {}
    if model is not None and "Raspberry Pi" in model:
        # Importing is the honest test (RPi.GPIO and blinka refuse at import on unknown
        # boards), and off a Pi there is no point: the answer is simulated either way.
        for name in PI_MODULES:
            try:
                importer(name)
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"
    return Platform(model, errors)


class HardwareBackend(ABC):
    """A factory for the appliance's parts: real GPIO or simulated.

    ``make_led`` and ``make_sensor`` (and their defaults) live here only; a backend says
    which parts it makes by overriding ``_led`` and ``_sensor``.
    """

    #: The backend's name: "pi" or "simulated".
    name: ClassVar[str]

    def make_led(
        self,
        pin: int = DEFAULT_LED_PIN,
        frequency: float = DEFAULT_PWM_FREQUENCY,
        gamma: float = DEFAULT_GAMMA,
    ) -> Led:
        """Make the dimmable LED."""
        return self._led(pin, frequency, gamma)

    def make_sensor(
        self,
        model: str = DEFAULT_DHT_MODEL,
        pin: int = DEFAULT_DHT_PIN,
        stale_after: int = DEFAULT_STALE_AFTER,
    ) -> Sensor:
        """Make the humidity/temperature sensor."""
        return self._sensor(model, pin, stale_after)

    @abstractmethod
    def _led(self, pin: int, frequency: float, gamma: float) -> Led:
        """This backend's LED."""

    @abstractmethod
    def _sensor(self, model: str, pin: int, stale_after: int) -> Sensor:
        """This backend's sensor."""


class PiBackend(HardwareBackend):
    """Real parts: a PWM LED through RPi.GPIO and a DHT sensor."""

    name = "pi"

    def _led(self, pin: int, frequency: float, gamma: float) -> Led:
        return PwmLed(pin, frequency, gamma)

    def _sensor(self, model: str, pin: int, stale_after: int) -> Sensor:
        return DhtSensor(model, pin, stale_after=stale_after)


class SimulatedBackend(HardwareBackend):
    """Simulated parts, checked against the same settings as the real ones."""

    name = "simulated"

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def _led(self, pin: int, frequency: float, gamma: float) -> Led:
        return SimulatedLed(pin, frequency, gamma)

    def _sensor(self, model: str, pin: int, stale_after: int) -> Sensor:
        # The model and pin are only checked, so a bad config fails on a laptop too.
        check_model(model)
        check_pin(pin)
        return SimulatedSensor(random.Random(self.seed), stale_after=stale_after)


def select_backend(
    choice: str = "auto",
    *,
    probe: Callable[[], Platform] = probe_platform,
    seed: int | None = None,
) -> HardwareBackend:
    """Pick the backend for ``choice``: "auto", "pi" (an error off a Pi) or "simulated"."""
    if choice not in BACKEND_CHOICES:
        raise HardwareError(
            f"unknown hardware backend {choice!r}; choose one of {', '.join(BACKEND_CHOICES)}"
        )
    if choice == "simulated":
        return SimulatedBackend(seed)
    platform = probe()
    if platform.is_raspberry_pi and platform.has_vendor_modules:
        log.info("using GPIO on %s", platform.board_model)
        return PiBackend()
    if choice == "auto":
        log.info("no Raspberry Pi GPIO found (%s); using simulated hardware", _why_not(platform))
        return SimulatedBackend(seed)
    # Asked for real hardware: say exactly what is missing, never fall back silently.
    if not platform.is_raspberry_pi:
        raise HardwareError(
            f"hardware backend 'pi' needs a Raspberry Pi, but {_why_not(platform)}; "
            "use `--hardware simulated` (or `auto`) on this machine"
        )
    raise HardwareError(
        f"hardware backend 'pi' on {platform.board_model}: {_why_not(platform)}; {INSTALL_HINT}"
    )


def _why_not(platform: Platform) -> str:
    if platform.board_model is None:
        return f"this machine has no {DEVICE_TREE_MODEL}, so it is not a Raspberry Pi"
    if not platform.is_raspberry_pi:
        return f"this machine is a {platform.board_model!r}, not a Raspberry Pi"
    failed = "; ".join(f"{name}: {error}" for name, error in platform.import_errors.items())
    return f"cannot import {failed}"
