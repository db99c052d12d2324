from __future__ import annotations

from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from hardware import (
    BACKEND_CHOICES,
    HardwareBackend,
    HardwareError,
    PiBackend,
    Platform,
    PwmLed,
    SimulatedBackend,
    SimulatedLed,
    SimulatedSensor,
    probe_platform,
    read_board_model,
    select_backend,
)
from hardware.dht import DhtSensor

from .fakes import FakeVendor

PI = Platform("Raspberry Pi 4 Model B Rev 1.4")
PI_WITHOUT_MODULES = Platform(
    "Raspberry Pi 5 Model B Rev 1.0",
    {"RPi.GPIO": "ModuleNotFoundError: No module named 'RPi'"},
)
LAPTOP = Platform(None)
OTHER_BOARD = Platform("Pine64 RockPro64")


def probe_returning(platform: Platform) -> SimpleNamespace:
    calls: list[None] = []

    def probe() -> Platform:
        calls.append(None)
        return platform

    return SimpleNamespace(probe=probe, calls=calls)


def test_choices() -> None:
    assert BACKEND_CHOICES == ("auto", "pi", "simulated")


def test_simulated_never_probes() -> None:
    fake = probe_returning(PI)
    backend = select_backend("simulated", probe=fake.probe)
    assert isinstance(backend, SimulatedBackend) and backend.name == "simulated"
    assert fake.calls == []


@pytest.mark.parametrize("platform", [LAPTOP, OTHER_BOARD, PI_WITHOUT_MODULES])
def test_auto_falls_back_to_simulated_without_pi_gpio(platform: Platform) -> None:
    backend = select_backend("auto", probe=probe_returning(platform).probe)
    assert isinstance(backend, SimulatedBackend)


@pytest.mark.parametrize("choice", ["auto", "pi"])
def test_a_pi_with_its_modules_gets_real_hardware(choice: str) -> None:
    backend = select_backend(choice, probe=probe_returning(PI).probe)
    assert isinstance(backend, PiBackend) and backend.name == "pi"


@pytest.mark.parametrize("platform", [LAPTOP, OTHER_BOARD])
def test_pi_without_a_pi_is_a_clear_error(platform: Platform) -> None:
    with pytest.raises(HardwareError, match="needs a Raspberry Pi") as raised:
        select_backend("pi", probe=probe_returning(platform).probe)
    assert "--hardware simulated" in str(raised.value)


def test_pi_on_a_pi_without_modules_says_what_to_install() -> None:
    with pytest.raises(HardwareError) as raised:
        select_backend("pi", probe=probe_returning(PI_WITHOUT_MODULES).probe)
    message = str(raised.value)
    assert "RPi.GPIO" in message and "No module named 'RPi'" in message
    assert "pip install rpi-lgpio adafruit-circuitpython-dht" in message and "rpi-lgpio" in message
    assert "--hardware simulated" in message


def test_unknown_choice_is_refused() -> None:
    with pytest.raises(HardwareError, match="auto, pi, simulated"):
        select_backend("gpio", probe=probe_returning(PI).probe)


def test_read_board_model_strips_the_firmware_nul(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi Zero 2 W Rev 1.0\x00")
    assert read_board_model(model) == "Raspberry Pi Zero 2 W Rev 1.0"
    assert read_board_model(tmp_path / "missing") is None


def test_probe_on_a_pi_tries_each_vendor_module(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    imported: list[str] = []

    def importer(name: str) -> ModuleType:
        imported.append(name)
        if name == "board":
            raise NotImplementedError("Board not supported")
        return ModuleType(name)

    platform = probe_platform(model, importer)
    assert imported == ["RPi.GPIO", "adafruit_dht", "board"]
    assert platform.is_raspberry_pi and not platform.has_vendor_modules
    assert platform.import_errors == {"board": "NotImplementedError: Board not supported"}


def test_probe_off_a_pi_imports_nothing(tmp_path: Path) -> None:
    imported: list[str] = []

    def importer(name: str) -> ModuleType:
        imported.append(name)
        return ModuleType(name)

    assert probe_platform(tmp_path / "missing", importer) == Platform(None)
    (tmp_path / "model").write_bytes(b"Pine64 RockPro64\x00")
    platform = probe_platform(tmp_path / "model", importer)
    assert not platform.is_raspberry_pi
    assert imported == []


def test_default_probe_on_this_machine_picks_something() -> None:
    # Whatever this machine is, auto must not raise.
    assert select_backend("auto").name in ("pi", "simulated")


def test_pi_backend_makes_real_drivers(vendor: FakeVendor) -> None:
    backend = PiBackend()
    led = backend.make_led(pin=12, frequency=800, gamma=1.8)
    assert isinstance(led, PwmLed) and led.gamma == 1.8
    pwm = vendor.gpio.pwm(12)
    assert pwm is not None and pwm.running and pwm.frequency == 800.0
    sensor = backend.make_sensor(model="DHT11", pin=17)
    assert isinstance(sensor, DhtSensor)
    [device] = vendor.dht.devices
    assert (device.model, device.pin, device.use_pulseio) == ("DHT11", vendor.board.D17, False)


def test_pi_backend_defaults(vendor: FakeVendor) -> None:
    led = PiBackend().make_led()
    assert (led.pin, led.frequency, led.gamma) == (18, 200.0, 2.2)  # type: ignore[attr-defined]
    pwm = vendor.gpio.pwm(18)
    assert pwm is not None and pwm.frequency == 200.0
    sensor = PiBackend().make_sensor()
    assert isinstance(sensor, DhtSensor) and sensor.model == "DHT22" and sensor.pin == 4
    [device] = vendor.dht.devices
    assert device.pin == vendor.board.D4


@pytest.mark.parametrize("backend", [PiBackend(), SimulatedBackend(seed=1)], ids=lambda b: b.name)
def test_backends_share_one_signature_and_its_defaults(
    vendor: FakeVendor, backend: HardwareBackend
) -> None:
    assert isinstance(backend, HardwareBackend)
    # Defaults are stated once, on the base; a backend only says which parts it makes.
    for method in ("make_led", "make_sensor"):
        assert method not in type(backend).__dict__
    led = backend.make_led()
    assert (led.pin, led.frequency, led.gamma) == (18, 200.0, 2.2)  # type: ignore[attr-defined]
    backend.make_sensor()


def test_the_base_backend_cannot_be_made() -> None:
    with pytest.raises(TypeError, match="abstract"):
        HardwareBackend()  # type: ignore[abstract]


def test_simulated_backend_makes_simulated_parts_with_checked_settings() -> None:
    backend = SimulatedBackend(seed=5)
    led = backend.make_led(pin=13, gamma=1.0)
    assert isinstance(led, SimulatedLed)
    led.set_level(50)
    assert led.duty_cycle == pytest.approx(50.0)
    first, second = backend.make_sensor(), backend.make_sensor()
    assert isinstance(first, SimulatedSensor)
    assert first.read().temperature_c == second.read().temperature_c  # same seed
    with pytest.raises(ValueError, match="BCM"):
        backend.make_led(pin=99)
    with pytest.raises(ValueError, match="DHT22, DHT11"):
        backend.make_sensor(model="BME280")
