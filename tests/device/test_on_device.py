"""On-device checks: the real LED and DHT through the real vendor libraries, on a Raspberry Pi.

For a person with a Pi and the parts wired up: `make test-device` (which is
``pytest -m device tests/device``; plain ``make test`` and ``pytest`` leave these out).
It needs the ``pi`` extra (``.venv/bin/pip install -e '.[dev,pi]'``: rpi-lgpio and
adafruit-circuitpython-dht). Off a Pi, or without those modules, every test here is skipped
with the reason.

The LED ramps up and down once (watch it breathe), then its pin must be released. The DHT
must give a plausible reading within a few attempts, 2 s apart as the part needs.

Environment variables (BCM numbering, defaults as the appliance's):

- ``APPLIANCE_LED_PIN``: the LED's pin (default 18)
- ``APPLIANCE_DHT_PIN``: the DHT's data pin (default 4)
- ``APPLIANCE_DHT_MODEL``: ``DHT22`` or ``DHT11`` (default DHT22)
- ``APPLIANCE_DHT_ATTEMPTS``: attempts for one good frame (default 10, about 20 s at most)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import pytest

from hardware import (
    DEFAULT_DHT_MODEL,
    DEFAULT_DHT_PIN,
    DEFAULT_LED_PIN,
    MIN_READ_INTERVAL,
    DhtSensor,
    PiBackend,
    PwmLed,
    duty_for_level,
    probe_platform,
    select_backend,
)
from hardware.backend import DEVICE_TREE_MODEL
from hardware.dht import PLAUSIBLE_HUMIDITY_PCT, PLAUSIBLE_TEMPERATURE_C, check_model
from hardware.pins import check_pin
from hardware.vendor import INSTALL_HINT, import_vendor

pytestmark = pytest.mark.device


@dataclass(frozen=True)
class Wiring:
    """Where the parts are, from the environment."""

    led_pin: int
    dht_pin: int
    dht_model: str
    dht_attempts: int


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        pytest.fail(f"{name}={raw!r} is not a whole number")


@pytest.fixture(scope="module", autouse=True)
def raspberry_pi() -> None:
    """Skip, saying why, anywhere but on a Raspberry Pi with the vendor modules."""
    platform = probe_platform()
    if not platform.is_raspberry_pi:
        found = platform.board_model or f"no {DEVICE_TREE_MODEL}"
        pytest.skip(
            "ON-DEVICE TESTS NOT RUN: they drive real GPIO and need a Raspberry Pi, "
            f"but this machine is not one ({found})"
        )
    if not platform.has_vendor_modules:
        failed = "; ".join(f"{name}: {error}" for name, error in platform.import_errors.items())
        pytest.skip(
            f"ON-DEVICE TESTS NOT RUN on {platform.board_model}: cannot import {failed}; "
            f"{INSTALL_HINT}"
        )


@pytest.fixture(scope="module")
def wiring() -> Wiring:
    """The pins and model from the environment, checked like the appliance's config."""
    try:
        return Wiring(
            led_pin=check_pin(_env_int("APPLIANCE_LED_PIN", DEFAULT_LED_PIN)),
            dht_pin=check_pin(_env_int("APPLIANCE_DHT_PIN", DEFAULT_DHT_PIN)),
            dht_model=check_model(os.environ.get("APPLIANCE_DHT_MODEL", DEFAULT_DHT_MODEL)),
            dht_attempts=max(1, _env_int("APPLIANCE_DHT_ATTEMPTS", 10)),
        )
    except ValueError as exc:
        pytest.fail(f"bad on-device setting: {exc}")


def test_auto_picks_the_real_hardware() -> None:
    assert isinstance(select_backend("auto"), PiBackend)


def test_the_led_ramps_and_releases_its_pin(wiring: Wiring) -> None:
    gpio = import_vendor("RPi.GPIO")
    led = PwmLed(wiring.led_pin)
    try:
        # Up and down in 2 % steps, 10 ms apart: a two-second breath a person can see.
        for level in [*range(0, 101, 2), *range(100, -1, -2)]:
            led.set_level(level)
            assert led.duty_cycle == pytest.approx(duty_for_level(level))
            time.sleep(0.01)
        assert led.level == 0
    finally:
        led.close()
    # Released: cleanup() hands the line back as an input, with the numbering mode kept.
    assert gpio.getmode() == gpio.BCM
    assert gpio.gpio_function(wiring.led_pin) == gpio.IN


def test_the_dht_gives_a_plausible_reading(wiring: Wiring) -> None:
    where = f"the {wiring.dht_model} on GPIO{wiring.dht_pin}"
    sensor = DhtSensor(wiring.dht_model, wiring.dht_pin, attempts=wiring.dht_attempts)
    try:
        first = sensor.read()
        assert first.ok, (
            f"no good frame from {where} in {wiring.dht_attempts} attempts "
            f"{MIN_READ_INTERVAL} s apart; last error: {first.error} (check the wiring, "
            "the pull-up and APPLIANCE_DHT_MODEL)"
        )
        assert first.temperature_c is not None and first.humidity_pct is not None
        low_t, high_t = PLAUSIBLE_TEMPERATURE_C
        low_h, high_h = PLAUSIBLE_HUMIDITY_PCT
        assert low_t <= first.temperature_c <= high_t
        assert low_h <= first.humidity_pct <= high_h
        # Asked again at once, it waits out the part's 2 s and measures a new frame (the
        # library would otherwise hand back its cached one).
        asked = time.monotonic()
        second = sensor.read()
        assert time.monotonic() - asked >= MIN_READ_INTERVAL - 0.05
        assert second.ok, f"{where} failed a second read: {second.error}"
        assert second.taken_at is not None and first.taken_at is not None
        assert second.taken_at > first.taken_at
        print(f"\n    {where}: {second.temperature_c} C, {second.humidity_pct} %RH")
    finally:
        sensor.close()
