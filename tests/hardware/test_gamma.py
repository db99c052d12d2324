from __future__ import annotations

import itertools
import math

import pytest

from hardware import DEFAULT_GAMMA, duty_for_level


def test_ends_are_exact() -> None:
    assert duty_for_level(0) == 0.0
    assert duty_for_level(100) == 100.0
    assert duty_for_level(100, gamma=3.7) == 100.0


def test_default_gamma_is_2_2_and_dims_the_middle() -> None:
    assert DEFAULT_GAMMA == 2.2
    # Half the perceived brightness needs only about a fifth of the power.
    assert duty_for_level(50) == pytest.approx(21.764, abs=1e-3)
    assert duty_for_level(10) == pytest.approx(100 * 0.1**2.2)


def test_gamma_is_configurable() -> None:
    assert duty_for_level(50, gamma=1.0) == pytest.approx(50.0)
    assert duty_for_level(50, gamma=3.0) == pytest.approx(12.5)


def test_curve_is_strictly_increasing() -> None:
    duties = [duty_for_level(p / 10) for p in range(1001)]
    assert all(a < b for a, b in itertools.pairwise(duties))


@pytest.mark.parametrize("percent", [-0.1, 100.1, math.nan, math.inf])
def test_out_of_range_brightness_is_refused(percent: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        duty_for_level(percent)


@pytest.mark.parametrize("gamma", [0.0, -2.2, math.nan, math.inf])
def test_unusable_gamma_is_refused(gamma: float) -> None:
    with pytest.raises(ValueError, match="gamma"):
        duty_for_level(50, gamma=gamma)
