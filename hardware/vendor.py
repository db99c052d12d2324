"""Lazy imports of the Raspberry Pi vendor modules, so this package imports anywhere."""

from __future__ import annotations

import importlib
from typing import Any

from .errors import HardwareError

#: What the ``pi`` extra brings (rpi-lgpio provides ``RPi.GPIO``).
PI_MODULES = ("RPi.GPIO", "adafruit_dht", "board")

INSTALL_HINT = (
    "install them into the appliance's environment with `pip install rpi-lgpio "
    "adafruit-circuitpython-dht` (the `pi` extra; rpi-lgpio provides RPi.GPIO on Raspberry Pi OS "
    "bookworm and Pi 5), or use `--hardware simulated`"
)


def import_vendor(name: str) -> Any:
    """Import a vendor module by name, turning any failure into a ``HardwareError``."""
    try:
        # import_module returns the sys.modules entry itself, which is also what tests patch.
        return importlib.import_module(name)
    except Exception as exc:  # RPi.GPIO raises RuntimeError off a Pi, blinka NotImplementedError
        raise HardwareError(f"cannot import {name} ({exc}); {INSTALL_HINT}") from exc
