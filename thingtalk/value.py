"""The observable value behind a property."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from pyee import EventEmitter

Forwarder = Callable[[Any], Awaitable[None] | None]


class Value(EventEmitter):
    """A value that drives a device through its *forwarder* and tells listeners of changes.

    Events (pyee, synchronous listeners called with the new value):

    - ``"update"``: a client set the value; the forwarder was called (``set(v)``).
    - ``"sync"``: the device already has the value (a sensor reading, a cloud or MQTT
      state) and the forwarder was *not* called (``set(v, with_action=False)`` and
      ``notify_of_external_update(v)``). Emitted only when the value changed, so a
      poller reporting the same reading makes no noise.
    """

    def __init__(self, initial_value: Any, value_forwarder: Forwarder | None = None) -> None:
        super().__init__()
        self.last_value = initial_value
        self.value_forwarder = value_forwarder

    def get(self) -> Any:
        """The current value."""
        return self.last_value

    async def set(self, value: Any, *, with_action: bool = True) -> None:
        """Set the value; with an action, drive the device first, then emit ``"update"``."""
        if not with_action:
            await self.notify_of_external_update(value)
            return
        if self.value_forwarder is not None:
            result = self.value_forwarder(value)
            if inspect.isawaitable(result):
                await result
        # Stored only after the forwarder succeeded: a device that refused keeps the old value.
        self.last_value = value
        self.emit("update", value)

    async def notify_of_external_update(self, value: Any) -> None:
        """Record a value the device reported; emit ``"sync"`` if it changed."""
        if value == self.last_value and type(value) is type(self.last_value):
            return
        self.last_value = value
        self.emit("sync", value)
