"""The one error class the hardware package raises."""

from __future__ import annotations


class HardwareError(Exception):
    """A hardware part is missing, misconfigured or closed."""
