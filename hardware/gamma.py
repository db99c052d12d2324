"""Gamma correction between perceived brightness and PWM duty cycle."""

from __future__ import annotations

import math

#: The eye responds to light roughly as a power law; 2.2 is the usual sRGB-like exponent.
DEFAULT_GAMMA = 2.2


def check_gamma(gamma: float) -> float:
    """Return ``gamma`` if it is a usable exponent, else raise ``ValueError``."""
    if not math.isfinite(gamma) or gamma <= 0:
        raise ValueError(f"gamma must be a positive number, got {gamma!r}")
    return gamma


def duty_for_level(percent: float, gamma: float = DEFAULT_GAMMA) -> float:
    """Map a brightness of 0-100 % to a duty cycle of 0-100 % through a gamma curve."""
    check_gamma(gamma)
    # NaN fails both comparisons, so it is rejected here too.
    if not 0.0 <= percent <= 100.0:
        raise ValueError(f"brightness must be between 0 and 100 %, got {percent!r}")
    # Pin the ends exactly: float pow could give 99.99999 for "full on".
    if percent == 0.0:
        return 0.0
    if percent == 100.0:
        return 100.0
    return 100.0 * math.pow(percent / 100.0, gamma)
