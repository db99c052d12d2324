"""The lamp: a dimmable LED as a web thing, with a fade action that ramps the real duty cycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from hardware import Led
from thingtalk.action import Action
from thingtalk.errors import Unavailable
from thingtalk.property import Property
from thingtalk.thing import Thing
from thingtalk.value import Value

from .state import MAX_BRIGHTNESS, MIN_BRIGHTNESS, LampState

log = logging.getLogger(__name__)

#: Time between two duty-cycle steps of a fade: smooth to the eye, cheap on a Pi Zero.
FADE_STEP = 0.02
#: The longest fade a client may ask for, in milliseconds (an hour).
MAX_FADE_MS = 3_600_000

StateListener = Callable[[LampState], Awaitable[None]]

# The lamp's affordances, stated once: the properties, and the fade whose target is a
# brightness (the same schema) and whose range is the state file's.
ON: dict[str, Any] = {
    "@type": "OnOffProperty",
    "title": "On/Off",
    "type": "boolean",
    "description": "Whether the lamp is turned on",
}
BRIGHTNESS: dict[str, Any] = {
    "@type": "BrightnessProperty",
    "title": "Brightness",
    "type": "integer",
    "description": f"The level of light from {MIN_BRIGHTNESS}-{MAX_BRIGHTNESS}",
    "minimum": MIN_BRIGHTNESS,
    "maximum": MAX_BRIGHTNESS,
    "unit": "percent",
}
FADE: dict[str, Any] = {
    "title": "Fade",
    "description": "Fade the lamp to a given level",
    "input": {
        "type": "object",
        "required": ["brightness", "duration"],
        "properties": {
            "brightness": {k: BRIGHTNESS[k] for k in ("type", "minimum", "maximum", "unit")},
            "duration": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_FADE_MS,
                "unit": "milliseconds",
            },
        },
    },
}


class FadeAction(Action):
    """Ramp the lamp to ``input.brightness`` over ``input.duration`` milliseconds."""

    thing: Lamp

    async def perform_action(self) -> None:
        await self.thing.fade(self.input["brightness"], self.input["duration"] / 1000)


class Lamp(Thing):
    """A dimmable lamp on a PWM LED.

    ``on`` and ``brightness`` drive the LED through their value setters: off means duty 0
    while the brightness is kept, so switching on again restores it. Every change a client
    makes is handed to ``on_change`` (the state file) first, and reaches the LED (and the
    property) only once that returned: a change that cannot be saved is refused with
    :class:`~thingtalk.errors.Unavailable` (503) and changes nothing, so no acknowledged
    write is lost at the next start. Writes take turns, so each saves the state it makes.
    """

    title = "Lamp"
    type = ["OnOffSwitch", "Light"]
    description = "A dimmable LED"

    def __init__(
        self,
        led: Led,
        initial: LampState | None = None,
        on_change: StateListener | None = None,
        *,
        id_: str = "urn:dev:ops:appliance-lamp",
        fade_step: float = FADE_STEP,
    ) -> None:
        super().__init__(id_=id_)
        self.led = led
        self.initial = initial or LampState()
        self.on_change = on_change
        self.fade_step = fade_step
        self._fade_task: asyncio.Task[Any] | None = None
        self._writing = asyncio.Lock()  # one change at a time: saved, then shown
        # What the LED shows; set before any await, so a fade step never sees a stale "on".
        self._on = self.initial.on
        self._brightness = self.initial.brightness

    @property
    def state(self) -> LampState:
        """The current on/brightness."""
        return LampState(on=self._on, brightness=self._brightness)

    async def build(self) -> Lamp:
        await self.add_property(Property("on", Value(self.initial.on, self._set_on), ON))
        await self.add_property(
            Property("brightness", Value(self.initial.brightness, self._set_brightness), BRIGHTNESS)
        )
        self.add_available_action("fade", FADE, FadeAction)
        # Restore what was saved: the LED starts dark.
        self._show()
        return self

    # -- value setters: called before a client's write is stored -------------------------

    async def _set_on(self, on: bool) -> None:
        async with self._writing:
            await self._save(LampState(on=on, brightness=self._brightness))
            self._on = on
            self._show()

    async def _set_brightness(self, brightness: int) -> None:
        fade = self._fade_task
        if fade is not None and fade is not asyncio.current_task() and not fade.done():
            # A client's own level wins over a fade still running.
            await self._cancel_fade()
        async with self._writing:
            await self._save(LampState(on=self._on, brightness=brightness))
            self._brightness = brightness
            self._show()

    def _show(self, level: float | None = None) -> None:
        """Drive the LED from the lamp's state (``level`` overrides the brightness)."""
        self.led.set_level((self._brightness if level is None else level) if self._on else 0)

    async def _save(self, state: LampState) -> None:
        """Make ``state`` durable, or refuse the change it is for (503, nothing changed)."""
        if self.on_change is None:
            return
        try:
            await self.on_change(state)
        except OSError as exc:
            log.warning("refused a lamp change: cannot save %s (%s)", state, exc)
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise Unavailable(
                f"the lamp's state cannot be saved ({reason}); nothing changed, try again later"
            ) from exc

    async def _keep(self, state: LampState) -> None:
        """Save a state the lamp reached by itself (a fade stopped part way), if it can."""
        # Logged when it fails; the LED stays where it stopped and the next write saves it.
        async with self._writing:
            with contextlib.suppress(Unavailable):
                await self._save(state)

    # -- fading -----------------------------------------------------------------------

    async def fade(self, target: int, duration: float) -> None:
        """Ramp brightness to ``target`` over ``duration`` seconds, never blocking the loop.

        The LED gets a new (fractional) level every ``fade_step`` seconds and the brightness
        property follows in whole percent; the final level is stored and saved like a
        client's write. While the lamp is off only the brightness moves. A newer fade, a
        client setting the brightness, or a DELETE of the request cancels it where it is.
        """
        await self._cancel_fade()
        me = asyncio.current_task()
        self._fade_task = me
        prop = self.find_property("brightness")
        done = False
        try:
            start = float(self._brightness)
            loop = asyncio.get_running_loop()
            began = loop.time()
            while duration > 0 and (progress := (loop.time() - began) / duration) < 1.0:
                level = start + (target - start) * progress
                self._brightness = round(level)
                self._show(level)
                # Subscribers see the ramp; the state file gets where it ends.
                await prop.value.notify_of_external_update(self._brightness)
                await asyncio.sleep(self.fade_step)
            await prop.set_value(target)
            done = True
        finally:
            if self._fade_task is me:
                self._fade_task = None
            if not done:
                # Stopped part way: settle on the whole percent the property shows, and keep it.
                self._show()
                await self._keep(LampState(on=self._on, brightness=self._brightness))

    async def _cancel_fade(self) -> None:
        task, self._fade_task = self._fade_task, None
        if task is None or task.done() or task is asyncio.current_task():
            return
        for action in self.get_actions("fade"):
            if action.task is task:
                await action.cancel()  # marks the request cancelled, and waits for it
                return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
