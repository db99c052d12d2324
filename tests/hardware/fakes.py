"""Hand-written stand-ins for RPi.GPIO (as rpi-lgpio implements it), adafruit_dht and board.

Unlike MagicMocks they refuse what the real libraries refuse, with the real exception types
and messages, and they record what the pins did over time. Tests then assert what the LED
showed and whether the pins were released, not which calls the code made.

The behaviour follows rpi-lgpio 0.6 (``RPi/GPIO/__init__.py``), lgpio (``lgGpio.c``) and
adafruit-circuitpython-dht 4 (``adafruit_dht.py``). Where the fakes are stricter than the
real libraries (a call they accept but that is surely a bug), a comment says so.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any, NamedTuple, Protocol

from pytest_mock import MockerFixture


class FakeTime:
    """A monotonic clock that only moves when slept on or advanced, recording each sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        """The current fake monotonic time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Move time on by ``seconds``, recording the sleep."""
        assert seconds > 0, "sleeping for nothing is a bug"
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        """Move time on without a sleep, as work that takes time does."""
        self.now += seconds

    def wall(self) -> datetime:
        """Wall time that follows the monotonic clock, for ``Reading.taken_at``."""
        return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=self.now)


class RealTime:
    """The machine's clock, for tests that run on real time (the appliance's event loop)."""

    def clock(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def advance(self, seconds: float) -> None:
        """Nothing: a fake measurement on real time takes no time."""


class Clock(Protocol):
    """What the fakes need of time: to read it, and to let it pass during a measurement."""

    def clock(self) -> float:
        """The current monotonic time."""
        ...

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        ...


# -- RPi.GPIO ---------------------------------------------------------------------------


class LgpioError(Exception):
    """lgpio's ``error``, which rpi-lgpio lets through from lgpio calls (``str`` is a repr)."""

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return repr(self.value)


class PinChange(NamedTuple):
    """What a pin started showing at ``time``: a duty cycle in %, or ``None`` when not driven.

    A static output is 0.0 (LOW) or 100.0 (HIGH); ``None`` means an input or a released
    pin. ``pin`` is the BCM GPIO number whatever numbering mode the code chose.
    """

    time: float
    pin: int
    duty: float | None


@dataclass
class _Line:
    """A GPIO line this process has claimed through ``setup``."""

    direction: int
    level: int = 0
    pull: int = 20


MODE_NOT_SET = (
    "Please set pin numbering mode using GPIO.setmode(GPIO.BOARD) or GPIO.setmode(GPIO.BCM)"
)
NOT_AN_OUTPUT = "You must setup() the GPIO channel as an output first"
PWM_EXISTS = "A PWM object already exists for this GPIO channel"
BAD_DUTY = "dutycycle must have a value from 0.0 to 100.0"
BAD_CHANNEL = "The channel sent is invalid on a Raspberry Pi"
BAD_CHANNEL_LIST = "Channel must be an integer or list/tuple of integers"
#: lgpio's tx_pwm takes 0.1-10000 Hz; rpi-lgpio's PWM() only checks > 0, so a higher
#: frequency fails later, at start() (or ChangeFrequency while running).
LGPIO_PWM_FREQUENCIES = (0.1, 10_000.0)
#: The pins on the 40-pin header, BOARD number to BCM number (B+ and later), as rpi-lgpio.
BOARD_TO_BCM = {
    3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23,
    18: 24, 19: 10, 21: 9, 22: 25, 23: 11, 24: 8, 26: 7, 29: 5, 31: 6, 32: 12,
    33: 13, 35: 19, 36: 16, 37: 26, 38: 20, 40: 21,
}  # fmt: skip
GPIO_OPERATIONS = frozenset(
    {
        "setmode",
        "setup",
        "output",
        "input",
        "cleanup",
        "PWM",
        "start",
        "ChangeDutyCycle",
        "ChangeFrequency",
        "stop",
    }
)


class FakeGPIO(ModuleType):
    """``RPi.GPIO`` as rpi-lgpio implements it, recording each pin's output over time.

    For tests: ``timeline`` (every change of every pin), ``duties(pin)``, ``duty(pin)``,
    ``released(pin)``, ``pwm(pin)``; ``line_levels`` says what an undriven line reads;
    ``fail_next(operation, error)`` makes the next call of an operation raise, as failing
    hardware does.
    """

    VERSION = "0.7.2"
    UNKNOWN = -1
    BOARD = 10
    BCM = 11
    PUD_OFF = 20
    PUD_DOWN = 21
    PUD_UP = 22
    OUT = 0
    IN = 1
    LOW = 0
    HIGH = 1
    RISING = 31
    FALLING = 32
    BOTH = 33
    RPI_INFO = {"P1_REVISION": 3, "TYPE": "Pi 4 Model B", "PROCESSOR": "BCM2711"}
    RPI_REVISION = 3

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__("RPi.GPIO", "A fake RPi.GPIO that enforces the API and records pins.")
        self._clock = clock
        self._mode: int | None = None
        self._warnings = True
        self._lines: dict[int, _Line] = {}
        # rpi-lgpio keeps its PWM objects in a WeakValueDictionary: a channel is free for a
        # new PWM only once the old object is garbage, not when it is stopped or cleaned up.
        self._pwms: weakref.WeakValueDictionary[int, FakePWM] = weakref.WeakValueDictionary()
        self._faults: dict[str, BaseException] = {}
        self.timeline: list[PinChange] = []
        #: What a line reads when nothing here drives it (the outside circuit); LOW if unset.
        self.line_levels: dict[int, int] = {}

    # -- for tests ---------------------------------------------------------------------

    def duties(self, pin: int) -> list[float | None]:
        """Every duty cycle the BCM ``pin`` showed, in order (``None``: not driven)."""
        return [change.duty for change in self.timeline if change.pin == pin]

    def duty(self, pin: int) -> float | None:
        """What the BCM ``pin`` shows now (``None``: not driven, or never touched)."""
        seen = self.duties(pin)
        return seen[-1] if seen else None

    def duty_at(self, pin: int, when: float) -> float | None:
        """What the BCM ``pin`` showed at time ``when``."""
        duty = None
        for change in self.timeline:
            if change.pin == pin and change.time <= when:
                duty = change.duty
        return duty

    def released(self, pin: int) -> bool:
        """True when this process does not hold the BCM ``pin`` (never set up, or cleaned up)."""
        return pin not in self._lines

    def pwm(self, pin: int) -> FakePWM | None:
        """The live PWM object on the BCM ``pin``, if any."""
        return self._pwms.get(pin)

    def fail_next(self, operation: str, error: BaseException) -> None:
        """Make the next call of ``operation`` (e.g. "setup", "stop") raise ``error``."""
        if operation not in GPIO_OPERATIONS:
            raise ValueError(f"no such operation {operation!r}; one of {sorted(GPIO_OPERATIONS)}")
        self._faults[operation] = error

    # -- RPi.GPIO's functions ----------------------------------------------------------

    def getmode(self) -> int | None:
        """BOARD, BCM, or None before ``setmode``."""
        return self._mode

    def setmode(self, new_mode: int) -> None:
        """Choose BOARD or BCM numbering; a different mode once one is set is refused."""
        self._fault("setmode")
        if self._mode is not None and new_mode != self._mode:
            raise ValueError("A different mode has already been set!")
        if new_mode not in (self.BOARD, self.BCM):
            raise ValueError("An invalid mode was passed to setmode()")
        self._mode = new_mode

    def setwarnings(self, value: bool) -> None:
        """Turn the library's warnings on or off."""
        self._warnings = bool(value)

    def setup(
        self,
        chanlist: int | Iterable[int],
        direction: int,
        pull_up_down: int = PUD_OFF,
        initial: int | None = None,
    ) -> None:
        """Claim channels as inputs (with a pull) or outputs (with an initial level)."""
        self._fault("setup")
        # The same checks in the same order as rpi-lgpio.
        if direction == self.OUT:
            if pull_up_down != self.PUD_OFF:
                raise ValueError("pull_up_down parameter is not valid for outputs")
        elif direction == self.IN:
            if initial is not None:
                raise ValueError("initial parameter is not valid for inputs")
            if pull_up_down not in (self.PUD_UP, self.PUD_DOWN, self.PUD_OFF):
                raise ValueError(
                    "Invalid value for pull_up_down - should be either PUD_OFF, PUD_UP or PUD_DOWN"
                )
        else:
            raise ValueError("An invalid direction was passed to setup()")
        for pin in self._gpio_list(chanlist):
            if direction == self.IN:
                self._lines[pin] = _Line(self.IN, pull=pull_up_down)
                self._show(pin, None)
                continue
            # rpi-lgpio reads the line when no initial level is given and keeps it: an
            # output set up without ``initial`` may come up HIGH.
            level = self._read(pin) if initial is None else int(bool(initial))
            self._lines[pin] = _Line(self.OUT, level=level)
            self._show(pin, 100.0 if level else 0.0)

    def output(self, channel: int | Iterable[int], value: int | Iterable[int]) -> None:
        """Drive output channels HIGH or LOW."""
        self._fault("output")
        pins = self._gpio_list(channel)
        values = tuple(bool(v) for v in value) if isinstance(value, Iterable) else (bool(value),)
        if len(pins) != len(values):
            if len(pins) > 1 and len(values) == 1:
                values = values * len(pins)
            else:
                raise RuntimeError("Number of channels != number of values")
        for pin, high in zip(pins, values, strict=True):
            line = self._lines.get(pin)
            if line is None or line.direction != self.OUT:
                raise RuntimeError("The GPIO channel has not been set up as an OUTPUT")
            pwm = self._pwms.get(pin)
            if pwm is not None and pwm.running:
                # Stricter than rpi-lgpio, which writes the level only for lgpio's PWM thread
                # to overwrite it at the next edge: the write is lost, so it is a bug.
                raise RuntimeError(f"GPIO{pin} is running PWM; output() would be overwritten")
            line.level = int(high)
            self._show(pin, 100.0 if high else 0.0)

    def input(self, channel: int) -> int:
        """Read a channel set up as input or output (an output reads its own level)."""
        self._fault("input")
        pin = self._to_gpio(channel)
        if pin not in self._lines:
            raise RuntimeError("You must setup() the GPIO channel first")
        return self._read(pin)

    def gpio_function(self, channel: int) -> int:
        """OUT for a channel this process drives, else IN (all rpi-lgpio can tell)."""
        line = self._lines.get(self._to_gpio(channel))
        return self.OUT if line is not None and line.direction == self.OUT else self.IN

    def cleanup(self, chanlist: int | Iterable[int] | None = None) -> None:
        """Release the channels (all, and forget the mode, when none are named)."""
        self._fault("cleanup")
        if self._mode is None:
            # rpi-lgpio: no chip was ever opened (setmode opens it), so nothing to do.
            return
        release_all = chanlist is None
        pins = sorted(self._lines) if chanlist is None else list(self._gpio_list(chanlist))
        if not pins and self._warnings:
            warnings.warn(
                Warning(
                    "No channels have been set up yet - nothing to clean up!  Try cleaning up "
                    "at the end of your program instead!"
                ),
                stacklevel=2,
            )
        for pin in pins:
            # Like rpi-lgpio, a PWM object survives its line's cleanup (still "running" if
            # it was); the fake refuses its further output, see FakePWM._emit.
            if self._lines.pop(pin, None) is not None:
                self._show(pin, None)
        if release_all:
            self._mode = None

    def PWM(self, channel: int, frequency: float) -> FakePWM:
        """Make the software PWM of an output channel."""
        return FakePWM(self, channel, frequency)

    # -- internals ---------------------------------------------------------------------

    def _fault(self, operation: str) -> None:
        error = self._faults.pop(operation, None)
        if error is not None:
            raise error

    def _to_gpio(self, channel: Any) -> int:
        if self._mode is None:
            raise RuntimeError(MODE_NOT_SET)
        # Stricter than rpi-lgpio, which converts with int() (True is channel 1, 18.0 is 18).
        if isinstance(channel, bool) or not isinstance(channel, int):
            raise ValueError(BAD_CHANNEL_LIST)
        if self._mode == self.BOARD:
            if channel not in BOARD_TO_BCM:
                raise ValueError(BAD_CHANNEL)
            return BOARD_TO_BCM[channel]
        # Stricter than rpi-lgpio, which takes 0-53 (the SoC's lines): only 0-27 reach the
        # header, so any other number is a wiring mistake on every Pi the appliance supports.
        if not 0 <= channel <= 27:
            raise ValueError(BAD_CHANNEL)
        return channel

    def _gpio_list(self, chanlist: Any) -> tuple[int, ...]:
        if isinstance(chanlist, list | tuple):
            return tuple(self._to_gpio(channel) for channel in chanlist)
        return (self._to_gpio(chanlist),)

    def _read(self, pin: int) -> int:
        line = self._lines.get(pin)
        if line is not None and line.direction == self.OUT:
            return line.level
        if pin in self.line_levels:
            return self.line_levels[pin]
        pulled_up = line is not None and line.pull == self.PUD_UP
        return self.HIGH if pulled_up else self.LOW

    def _show(self, pin: int, duty: float | None) -> None:
        # Changes only, as a scope shows them: rewriting the same level is no event.
        if self.duties(pin)[-1:] != [duty]:
            self.timeline.append(PinChange(self._clock(), pin, duty))


class FakePWM:
    """rpi-lgpio's ``PWM``: software PWM on a channel already set up as an output."""

    def __init__(self, gpio: FakeGPIO, channel: int, frequency: float) -> None:
        gpio._fault("PWM")
        pin = gpio._to_gpio(channel)
        if pin in gpio._pwms:
            raise RuntimeError(PWM_EXISTS)
        line = gpio._lines.get(pin)
        if line is None or line.direction != gpio.OUT:
            raise RuntimeError(NOT_AN_OUTPUT)
        self._gpio = gpio
        self.pin = pin
        self.frequency = _check_frequency(frequency)
        self.duty_cycle = 0.0
        self.running = False
        gpio._pwms[pin] = self

    def start(self, dc: float) -> None:
        """Start the wave at duty cycle ``dc`` %."""
        self._gpio._fault("start")
        self.duty_cycle = _check_duty(dc)
        _check_lgpio_frequency(self.frequency)
        self.running = True
        self._emit(self.duty_cycle)

    def ChangeDutyCycle(self, dc: float) -> None:
        """Change the duty cycle to ``dc`` %."""
        self._gpio._fault("ChangeDutyCycle")
        self.duty_cycle = _check_duty(dc)
        # rpi-lgpio allows this on a stopped PWM: it keeps the value and outputs nothing
        # (start(dc) then sets its own). So does the fake, and the timeline shows that the
        # LED did not change, which is what a test of "the LED showed X" should catch.
        if self.running:
            self._emit(self.duty_cycle)

    def ChangeFrequency(self, frequency: float) -> None:
        """Change the frequency to ``frequency`` Hz."""
        self._gpio._fault("ChangeFrequency")
        checked = _check_frequency(frequency)
        if self.running:
            _check_lgpio_frequency(checked)
            self._emit(self.duty_cycle)
        self.frequency = checked

    def stop(self) -> None:
        """Stop the wave, leaving the pin LOW."""
        self._gpio._fault("stop")
        self._emit(0.0)
        self.running = False

    def _emit(self, duty: float) -> None:
        line = self._gpio._lines.get(self.pin)
        if line is None or line.direction != self._gpio.OUT:
            # Stricter than rpi-lgpio, where lgpio's tx_pwm and gpio_write silently claim a
            # released line again as an output: that undoes cleanup(), so it is a bug.
            raise RuntimeError(
                f"GPIO{self.pin} was released by cleanup(); driving its PWM would claim it again"
            )
        line.level = 1 if duty > 0 else 0
        self._gpio._show(self.pin, duty)


def _check_frequency(frequency: float) -> float:
    value = float(frequency)
    # rpi-lgpio refuses <= 0; NaN slips through its check, but is surely a bug.
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError("frequency must be greater than 0.0")
    return value


def _check_lgpio_frequency(frequency: float) -> None:
    low, high = LGPIO_PWM_FREQUENCIES
    if not low <= frequency <= high:
        raise LgpioError("bad PWM frequency")


def _check_duty(dc: float) -> float:
    value = float(dc)
    if not 0.0 <= value <= 100.0:  # NaN fails too, as in rpi-lgpio
        raise ValueError(BAD_DUTY)
    return value


# -- board and adafruit_dht -------------------------------------------------------------


@dataclass(frozen=True)
class BoardPin:
    """A pin object of Blinka's ``board`` module (``board.D4``), not a number or a string."""

    id: int

    def __repr__(self) -> str:
        return f"board.D{self.id}"


class FakeBoard(ModuleType):
    """Blinka's ``board`` on a Pi: ``D0`` to ``D27`` and nothing else."""

    def __init__(self) -> None:
        super().__init__("board", "A fake Blinka board module with the header's pins.")
        for n in range(28):
            setattr(self, f"D{n}", BoardPin(n))


#: adafruit_dht answers from its last frame when asked again within 2 s of starting one.
DHT_CACHE_SECONDS = 2.0
#: A bit-banged frame: 0.1 s high, the start pulse, then 0.25 s of listening.
DHT_FRAME_SECONDS = 0.35


@dataclass(eq=False)
class FakeDhtDevice:
    """A DHT22 or DHT11 that plays a script of frames: (temperature, humidity) or exceptions.

    Like adafruit_dht, each ``temperature`` or ``humidity`` measures a new frame unless one
    started less than 2 s ago, in which case it answers that frame's values again (so the
    humidity read just after the temperature comes from the same frame). ``attempts`` holds
    the (start, end) of each frame measured; ``cache_hits`` names each answer from the cache.
    """

    model: str
    pin: BoardPin
    use_pulseio: bool
    time: Clock
    script: list[Any]
    duration: float = DHT_FRAME_SECONDS
    attempts: list[tuple[float, float]] = field(default_factory=list)
    cache_hits: list[str] = field(default_factory=list)
    exits: int = 0
    _last_called: float | None = None
    _temperature: Any = None
    _humidity: Any = None

    @property
    def exited(self) -> bool:
        """True once ``exit()`` was called."""
        return self.exits > 0

    @property
    def temperature(self) -> Any:
        """Measure (or answer from the last frame) and return the temperature."""
        self._measure("temperature")
        return self._temperature

    @property
    def humidity(self) -> Any:
        """Measure (or answer from the last frame) and return the humidity."""
        self._measure("humidity")
        return self._humidity

    def exit(self) -> None:
        """Release the pin."""
        self.exits += 1

    def _measure(self, quantity: str) -> None:
        if self.exited:
            # With pulseio the real library fails here (its PulseIn is deinitialised); bit-
            # banged it would read on, but reading a device the code released is a bug.
            raise RuntimeError(f"the {self.model} on {self.pin!r} was read after exit()")
        start = self.time.clock()
        if self._last_called is not None and start - self._last_called <= DHT_CACHE_SECONDS:
            self.cache_hits.append(quantity)
            return
        self._last_called = start
        self.time.advance(self.duration)
        self.attempts.append((start, self.time.clock()))
        if not self.script:
            raise AssertionError(f"the {self.model}'s script ran out: more frames than expected")
        frame = self.script.pop(0)
        if isinstance(frame, BaseException):
            raise frame
        self._temperature, self._humidity = frame


class FakeAdafruitDht(ModuleType):
    """``adafruit_dht``: ``DHT22(pin, use_pulseio=...)`` and ``DHT11(...)`` on board pins.

    For tests: ``script(frames)`` gives the next device opened its frames, ``devices`` lists
    those opened, ``fail_next_open(error)`` makes the next open raise.
    """

    def __init__(self, clock: Clock) -> None:
        super().__init__("adafruit_dht", "A fake adafruit_dht that plays scripted frames.")
        self._time = clock
        self._scripts: list[list[Any]] = []
        self._open_fault: BaseException | None = None
        self.devices: list[FakeDhtDevice] = []

    def script(self, frames: list[Any]) -> None:
        """The frames the next device opened will measure, in order."""
        self._scripts.append(list(frames))

    def fail_next_open(self, error: BaseException) -> None:
        """Make the next ``DHT22``/``DHT11`` raise ``error``."""
        self._open_fault = error

    def DHT22(self, pin: BoardPin, use_pulseio: bool = True) -> FakeDhtDevice:
        """Open a DHT22 on a board pin."""
        return self._open("DHT22", pin, use_pulseio)

    def DHT11(self, pin: BoardPin, use_pulseio: bool = True) -> FakeDhtDevice:
        """Open a DHT11 on a board pin."""
        return self._open("DHT11", pin, use_pulseio)

    def _open(self, model: str, pin: BoardPin, use_pulseio: bool) -> FakeDhtDevice:
        # Stricter than adafruit_dht, which bit-banged only trips over a bad pin at the
        # first read: it wants a board pin object (board.D4), never a number or a string.
        if not isinstance(pin, BoardPin):
            raise TypeError(f"{model} needs a board pin such as board.D4, got {pin!r}")
        if self._open_fault is not None:
            error, self._open_fault = self._open_fault, None
            raise error
        script = self._scripts.pop(0) if self._scripts else []
        device = FakeDhtDevice(model, pin, bool(use_pulseio), self._time, script)
        self.devices.append(device)
        return device


# -- all of them in sys.modules ----------------------------------------------------------


@dataclass
class FakeVendor:
    """The three fake vendor modules, as a test sees them."""

    gpio: FakeGPIO
    dht: FakeAdafruitDht
    board: FakeBoard

    @property
    def modules(self) -> dict[str, ModuleType]:
        """The ``sys.modules`` entries: ``RPi`` (a package holding GPIO) and the three fakes."""
        rpi = ModuleType("RPi")
        rpi.GPIO = self.gpio  # type: ignore[attr-defined]
        return {"RPi": rpi, "RPi.GPIO": self.gpio, "adafruit_dht": self.dht, "board": self.board}


def install_fakes(mocker: MockerFixture, clock: Clock | None = None) -> FakeVendor:
    """Put fresh fakes in ``sys.modules`` for one test (pytest-mock undoes it afterwards)."""
    clock = clock or RealTime()
    vendor = FakeVendor(FakeGPIO(clock.clock), FakeAdafruitDht(clock), FakeBoard())
    mocker.patch.dict(sys.modules, vendor.modules)
    return vendor
