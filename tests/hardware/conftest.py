"""Fixtures that stand in for the Raspberry Pi vendor modules and for time."""

from __future__ import annotations

import pytest
from pytest_mock import MockerFixture

from .fakes import FakeTime, FakeVendor, install_fakes


@pytest.fixture
def fake_time() -> FakeTime:
    """An injected clock and sleep, so retry timing is tested without waiting."""
    return FakeTime()


@pytest.fixture
def vendor(mocker: MockerFixture, fake_time: FakeTime) -> FakeVendor:
    """Fake RPi.GPIO, adafruit_dht and board in sys.modules for one test, on the fake clock."""
    return install_fakes(mocker, fake_time)
