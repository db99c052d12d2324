"""The fakes refuse what rpi-lgpio and adafruit_dht refuse, and record what the pins did."""

from __future__ import annotations

import gc
import importlib

import pytest

from .fakes import (
    BAD_CHANNEL,
    BAD_DUTY,
    MODE_NOT_SET,
    NOT_AN_OUTPUT,
    PWM_EXISTS,
    FakeGPIO,
    FakeTime,
    FakeVendor,
    LgpioError,
    PinChange,
)


@pytest.fixture
def gpio(vendor: FakeVendor) -> FakeGPIO:
    return vendor.gpio


@pytest.fixture
def bcm(gpio: FakeGPIO) -> FakeGPIO:
    """The fake with BCM numbering chosen."""
    gpio.setmode(gpio.BCM)
    return gpio


# -- RPi.GPIO ---------------------------------------------------------------------------


def test_the_fakes_are_what_imports_find(vendor: FakeVendor) -> None:
    import RPi.GPIO as GPIO

    assert GPIO is vendor.gpio
    assert importlib.import_module("RPi.GPIO") is vendor.gpio
    assert importlib.import_module("adafruit_dht") is vendor.dht
    assert importlib.import_module("board") is vendor.board


def test_unknown_names_do_not_exist(gpio: FakeGPIO) -> None:
    # A MagicMock would answer anything; a misspelt call must fail as with the real module.
    with pytest.raises(AttributeError):
        gpio.setmod(gpio.BCM)
    with pytest.raises(AttributeError):
        gpio.PWM.start  # type: ignore[attr-defined]  # noqa: B018


def test_setup_before_setmode_is_refused(gpio: FakeGPIO) -> None:
    with pytest.raises(RuntimeError) as raised:
        gpio.setup(18, gpio.OUT)
    assert str(raised.value) == MODE_NOT_SET
    with pytest.raises(RuntimeError, match="set pin numbering mode"):
        gpio.PWM(18, 100)


def test_setmode_takes_bcm_or_board_and_never_changes(gpio: FakeGPIO) -> None:
    assert gpio.getmode() is None
    with pytest.raises(ValueError, match="An invalid mode was passed to setmode"):
        gpio.setmode(99)
    gpio.setmode(gpio.BCM)
    gpio.setmode(gpio.BCM)  # the same again is fine
    with pytest.raises(ValueError, match="A different mode has already been set!"):
        gpio.setmode(gpio.BOARD)
    assert gpio.getmode() == gpio.BCM


@pytest.mark.parametrize("channel", [28, -1, 54, "18", 18.0, True, None])
def test_channels_are_header_bcm_numbers(bcm: FakeGPIO, channel: object) -> None:
    with pytest.raises(ValueError):
        bcm.setup(channel, bcm.OUT)  # type: ignore[arg-type]
    assert bcm.timeline == []


def test_setup_checks_direction_pull_and_initial(bcm: FakeGPIO) -> None:
    with pytest.raises(ValueError, match="invalid direction"):
        bcm.setup(18, 5)
    with pytest.raises(ValueError, match="not valid for outputs"):
        bcm.setup(18, bcm.OUT, pull_up_down=bcm.PUD_UP)
    with pytest.raises(ValueError, match="not valid for inputs"):
        bcm.setup(18, bcm.IN, initial=bcm.LOW)
    with pytest.raises(ValueError, match="PUD_OFF, PUD_UP or PUD_DOWN"):
        bcm.setup(18, bcm.IN, pull_up_down=7)
    assert bcm.released(18)


def test_board_numbering_maps_to_bcm_in_the_timeline(gpio: FakeGPIO) -> None:
    gpio.setmode(gpio.BOARD)
    gpio.setup(12, gpio.OUT, initial=gpio.HIGH)  # physical pin 12 is GPIO18
    assert gpio.duties(18) == [100.0]
    with pytest.raises(ValueError, match=BAD_CHANNEL):
        gpio.setup(4, gpio.OUT)  # pin 4 is 5 V


def test_an_output_without_initial_keeps_what_the_line_reads(bcm: FakeGPIO) -> None:
    bcm.line_levels[23] = bcm.HIGH
    bcm.setup(23, bcm.OUT)
    bcm.setup(24, bcm.OUT)
    assert (bcm.duty(23), bcm.duty(24)) == (100.0, 0.0)


def test_output_and_input(bcm: FakeGPIO) -> None:
    with pytest.raises(RuntimeError, match="You must setup"):
        bcm.input(17)
    bcm.setup(17, bcm.IN, pull_up_down=bcm.PUD_UP)
    assert bcm.input(17) == bcm.HIGH
    with pytest.raises(RuntimeError, match="not been set up as an OUTPUT"):
        bcm.output(17, bcm.HIGH)
    bcm.setup([22, 27], bcm.OUT, initial=bcm.LOW)
    bcm.output([22, 27], bcm.HIGH)
    assert bcm.input(22) == bcm.HIGH
    bcm.output([22, 27], [bcm.LOW, bcm.HIGH])
    assert (bcm.duty(22), bcm.duty(27)) == (0.0, 100.0)
    with pytest.raises(RuntimeError, match="Number of channels != number of values"):
        bcm.output([22, 27], [1, 0, 1])


def test_the_timeline_records_changes_on_the_clock(vendor: FakeVendor, fake_time: FakeTime) -> None:
    gpio = vendor.gpio
    gpio.setmode(gpio.BCM)
    start = fake_time.now
    gpio.setup(6, gpio.OUT, initial=gpio.LOW)
    fake_time.advance(1.0)
    gpio.output(6, gpio.LOW)  # no change, no event
    gpio.output(6, gpio.HIGH)
    fake_time.advance(0.5)
    gpio.cleanup(6)
    assert gpio.timeline == [
        PinChange(start, 6, 0.0),
        PinChange(start + 1.0, 6, 100.0),
        PinChange(start + 1.5, 6, None),
    ]
    assert gpio.duty_at(6, start + 1.2) == 100.0


def test_cleanup(gpio: FakeGPIO) -> None:
    gpio.cleanup()  # before setmode: nothing was opened, nothing to do
    gpio.setmode(gpio.BCM)
    with pytest.warns(Warning, match="No channels have been set up yet"):
        gpio.cleanup()
    gpio.setmode(gpio.BCM)
    gpio.setup([5, 6], gpio.OUT, initial=gpio.HIGH)
    gpio.cleanup(5)
    assert gpio.released(5) and not gpio.released(6)
    assert gpio.getmode() == gpio.BCM  # one channel: the mode stays
    assert gpio.gpio_function(5) == gpio.IN and gpio.gpio_function(6) == gpio.OUT
    gpio.cleanup()
    assert gpio.released(6) and gpio.duty(6) is None
    assert gpio.getmode() is None  # everything: the mode is forgotten


# -- PWM --------------------------------------------------------------------------------


def test_pwm_needs_an_output_channel(bcm: FakeGPIO) -> None:
    with pytest.raises(RuntimeError) as raised:
        bcm.PWM(18, 100)
    assert str(raised.value) == NOT_AN_OUTPUT
    bcm.setup(18, bcm.IN)
    with pytest.raises(RuntimeError, match="as an output first"):
        bcm.PWM(18, 100)


@pytest.mark.parametrize("frequency", [0, -5, float("nan")])
def test_pwm_needs_a_positive_frequency(bcm: FakeGPIO, frequency: float) -> None:
    bcm.setup(18, bcm.OUT)
    with pytest.raises(ValueError, match=r"frequency must be greater than 0\.0"):
        bcm.PWM(18, frequency)


def test_lgpio_refuses_frequencies_above_10_khz_when_the_wave_starts(bcm: FakeGPIO) -> None:
    bcm.setup(18, bcm.OUT)
    pwm = bcm.PWM(18, 20_000)  # rpi-lgpio takes it here...
    with pytest.raises(LgpioError, match="bad PWM frequency"):
        pwm.start(50)  # ...and lgpio refuses it here
    pwm.ChangeFrequency(1000)
    pwm.start(50)
    with pytest.raises(LgpioError, match="bad PWM frequency"):
        pwm.ChangeFrequency(0.05)
    assert pwm.frequency == 1000.0


def test_one_pwm_object_per_channel_while_it_lives(bcm: FakeGPIO) -> None:
    bcm.setup(18, bcm.OUT)
    first = bcm.PWM(18, 100)
    with pytest.raises(RuntimeError) as raised:
        bcm.PWM(18, 200)
    assert str(raised.value) == PWM_EXISTS
    # Stopping and cleaning up do not free the channel in rpi-lgpio; only the object's end.
    first.start(10)
    first.stop()
    bcm.cleanup(18)
    bcm.setup(18, bcm.OUT)
    with pytest.raises(RuntimeError, match="already exists"):
        bcm.PWM(18, 200)
    del first
    gc.collect()
    assert bcm.PWM(18, 200).frequency == 200.0


@pytest.mark.parametrize("dc", [-0.1, 100.1, float("nan"), 1e9])
def test_duty_cycles_are_0_to_100(bcm: FakeGPIO, dc: float) -> None:
    bcm.setup(18, bcm.OUT)
    pwm = bcm.PWM(18, 100)
    with pytest.raises(ValueError) as raised:
        pwm.start(dc)
    assert str(raised.value) == BAD_DUTY
    pwm.start(0)
    with pytest.raises(ValueError, match=r"dutycycle must have a value from 0\.0 to 100\.0"):
        pwm.ChangeDutyCycle(dc)
    assert bcm.duties(18) == [0.0]


def test_a_stopped_pwm_takes_a_duty_cycle_but_shows_nothing(bcm: FakeGPIO) -> None:
    bcm.setup(18, bcm.OUT, initial=bcm.LOW)
    pwm = bcm.PWM(18, 100)
    pwm.ChangeDutyCycle(70)  # allowed, as in rpi-lgpio, but the LED stays dark
    assert bcm.duties(18) == [0.0] and not pwm.running
    pwm.start(30)
    pwm.ChangeDutyCycle(60)
    pwm.stop()
    pwm.ChangeDutyCycle(90)
    assert bcm.duties(18) == [0.0, 30.0, 60.0, 0.0]


def test_a_pwm_cannot_drive_its_pin_after_cleanup(bcm: FakeGPIO) -> None:
    bcm.setup(18, bcm.OUT)
    pwm = bcm.PWM(18, 100)
    pwm.start(40)
    bcm.cleanup(18)
    assert bcm.released(18) and bcm.duties(18) == [0.0, 40.0, None]
    for drive in (lambda: pwm.ChangeDutyCycle(50), pwm.stop, lambda: pwm.start(10)):
        with pytest.raises(RuntimeError, match="released by cleanup"):
            drive()
    assert bcm.released(18)


def test_output_cannot_fight_a_running_pwm(bcm: FakeGPIO) -> None:
    bcm.setup(18, bcm.OUT)
    pwm = bcm.PWM(18, 100)
    pwm.start(40)
    with pytest.raises(RuntimeError, match="running PWM"):
        bcm.output(18, bcm.HIGH)
    pwm.stop()
    bcm.output(18, bcm.HIGH)
    assert bcm.duties(18) == [0.0, 40.0, 0.0, 100.0]


def test_fail_next_raises_once_and_knows_the_operations(bcm: FakeGPIO) -> None:
    bcm.fail_next("setup", LgpioError("GPIO busy"))
    with pytest.raises(LgpioError, match="GPIO busy"):
        bcm.setup(18, bcm.OUT)
    assert bcm.released(18)
    bcm.setup(18, bcm.OUT)
    with pytest.raises(ValueError, match="no such operation"):
        bcm.fail_next("set_up", RuntimeError())


# -- board and adafruit_dht -------------------------------------------------------------


def test_board_has_the_header_pins_only(vendor: FakeVendor) -> None:
    assert repr(vendor.board.D4) == "board.D4"
    assert vendor.board.D27.id == 27
    with pytest.raises(AttributeError):
        vendor.board.D28  # noqa: B018


@pytest.mark.parametrize("pin", [4, "D4", "board.D4"])
def test_a_dht_needs_a_board_pin_object(vendor: FakeVendor, pin: object) -> None:
    with pytest.raises(TypeError, match="board pin"):
        vendor.dht.DHT22(pin, use_pulseio=False)  # type: ignore[arg-type]
    assert vendor.dht.devices == []


def test_a_dht_answers_from_its_last_frame_within_two_seconds(
    vendor: FakeVendor, fake_time: FakeTime
) -> None:
    vendor.dht.script([(20.0, 40.0), RuntimeError("Checksum did not validate"), (22.0, 44.0)])
    device = vendor.dht.DHT22(vendor.board.D4, use_pulseio=False)
    assert (device.temperature, device.humidity) == (20.0, 40.0)
    fake_time.advance(1.0)
    assert device.temperature == 20.0  # too soon: the old frame again, silently
    assert device.cache_hits == ["humidity", "temperature"]
    fake_time.advance(2.0)
    with pytest.raises(RuntimeError, match="Checksum"):
        device.temperature  # noqa: B018
    assert device.temperature == 20.0  # a failed frame keeps the last good values
    fake_time.advance(2.1)
    assert (device.temperature, device.humidity) == (22.0, 44.0)
    assert len(device.attempts) == 3
    fake_time.advance(2.1)
    with pytest.raises(AssertionError, match="script ran out"):
        device.temperature  # noqa: B018


def test_a_dht_cannot_be_read_after_exit(vendor: FakeVendor) -> None:
    vendor.dht.script([(20.0, 40.0)])
    device = vendor.dht.DHT11(vendor.board.D17, use_pulseio=False)
    device.exit()
    with pytest.raises(RuntimeError, match="after exit"):
        device.humidity  # noqa: B018
    assert device.attempts == [] and device.script == [(20.0, 40.0)]
