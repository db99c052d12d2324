"""The observable value behind a property."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from pyee import EventEmitter

from .loops import DONE, Done, awaited, call_in, foreign, running_loop

Forwarder = Callable[[Any], Awaitable[None] | None]

log = logging.getLogger(__name__)


class Listening(Coroutine[Any, Any, None]):
    """The async listeners one change started: await it to wait for them (or don't).

    A coroutine (its work is started already), so it may be awaited, scheduled, or dropped.
    """

    __slots__ = ("_waiting", "tasks")

    def __init__(self, tasks: list[asyncio.Task[Any]]) -> None:
        self.tasks = tasks
        self._waiting: Generator[Any, None, Any] | None = None

    def __await__(self) -> Generator[Any, None, None]:
        # A listener's failure is logged where it happens; it does not fail the change.
        yield from asyncio.gather(*self.tasks, return_exceptions=True).__await__()

    def _waiter(self) -> Generator[Any, None, Any]:
        if self._waiting is None:
            self._waiting = self.__await__()
        return self._waiting

    def send(self, value: Any) -> Any:
        """The coroutine protocol: go on waiting."""
        return self._waiter().send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        """The coroutine protocol: raise inside the wait."""
        error = typ if isinstance(typ, BaseException) else (typ() if val is None else val)
        return self._waiter().throw(error)

    def close(self) -> None:
        """Stop waiting (the listeners go on)."""
        if self._waiting is not None:
            self._waiting.close()


class Value(EventEmitter):
    """A value that drives a device through its *forwarder* and tells listeners of changes.

    Events (pyee; listeners get the new value; ``async def`` listeners are run as tasks,
    and awaiting the call that emitted waits for them):

    - ``"update"``: a client set the value; the forwarder was called (``set(v)``).
    - ``"sync"``: the device already has the value (a sensor reading, a cloud or MQTT
      state) and the forwarder was *not* called (``set(v, with_action=False)`` and
      ``notify_of_external_update(v)``). Emitted only when the value changed, so a
      poller reporting the same reading makes no noise.

    ``set`` and ``notify_of_external_update`` may be awaited in the loop, or called
    without ``await`` from a worker thread: they then run on the thing's loop and return
    once done. ``notify_of_external_update`` may also be called without ``await`` in the
    loop, as webthing-python programs do.
    """

    def __init__(self, initial_value: Any, value_forwarder: Forwarder | None = None) -> None:
        super().__init__()
        self.last_value = initial_value
        self.value_forwarder = value_forwarder
        # The loop of the thing the value belongs to (set when the thing is built).
        self.loop: asyncio.AbstractEventLoop | None = None
        # While listeners run: a number for this change, so that a thing notified twice of
        # one change (the seed's own listener lines beside ours) tells subscribers once.
        self.emitting: int | None = None
        self._changes = 0
        self._started: list[asyncio.Task[Any]] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def get(self) -> Any:
        """The current value."""
        return self.last_value

    def set(self, value: Any, *, with_action: bool = True) -> Coroutine[Any, Any, None]:
        """Set the value; with an action, drive the device first, then emit ``"update"``."""
        if foreign(self.loop):
            assert self.loop is not None
            call_in(self.loop, self._set, value, with_action)
            return DONE
        return self._set(value, with_action)

    async def _set(self, value: Any, with_action: bool) -> None:
        if not with_action:
            await self._notify(value)
            return
        if self.value_forwarder is not None:
            result = self.value_forwarder(value)
            if inspect.isawaitable(result):
                await result
        # Stored only after the forwarder succeeded: a device that refused keeps the old value.
        self.last_value = value
        started = self._emit_change("update", value)
        if started:
            await Listening(started)

    def notify_of_external_update(self, value: Any) -> Coroutine[Any, Any, None]:
        """Record a value the device reported; emit ``"sync"`` if it changed.

        Takes effect at once; awaiting the result waits for ``async def`` listeners too.
        """
        if foreign(self.loop):
            assert self.loop is not None
            call_in(self.loop, self._notify, value)
            return DONE
        if value == self.last_value and type(value) is type(self.last_value):
            return DONE
        self.last_value = value
        started = self._emit_change("sync", value)
        return Listening(started) if started else DONE

    async def _notify(self, value: Any) -> None:
        await self.notify_of_external_update(value)

    def _emit_change(self, event: str, value: Any) -> list[asyncio.Task[Any]]:
        """Emit ``event``; the tasks of the async listeners it started."""
        self._changes += 1
        outer = self.emitting, self._started
        started: list[asyncio.Task[Any]] = []
        self.emitting, self._started = self._changes, started
        try:
            self.emit(event, value)
        finally:
            self.emitting, self._started = outer
        return started

    def _emit_run(
        self, f: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        # pyee calls listeners and drops what they return: run what an async one returns.
        result = f(*args, **kwargs)
        if inspect.isawaitable(result) and not isinstance(result, Done):
            task = self._run_listener(result)
            if task is not None and self._started is not None:
                self._started.append(task)

    def _run_listener(self, awaitable: Awaitable[Any]) -> asyncio.Task[Any] | None:
        loop = running_loop()
        if loop is None:
            # No loop at all (a program driving values before anything serves): run it here.
            asyncio.run(awaited(awaitable))
            return None
        task = loop.create_task(awaited(awaitable), name="value listener")
        self._tasks.add(task)
        task.add_done_callback(self._listener_done)
        return task

    def _listener_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a listener of a value failed", exc_info=task.exception())
