"""Calls that work from anywhere: awaited in the loop, or blocking from a worker thread.

A thing lives on one event loop (the one serving it). Programs written for webthing-python
call its methods without ``await``, and from worker threads (a synchronous action runs in
one); programs written for thingtalk ``await`` the same methods. These helpers let one
method serve both:

- :class:`Done` is an awaitable that has already happened: awaiting it returns at once,
  and dropping it is harmless (unlike a coroutine, nothing warns that it was never awaited).
  It is also a :class:`~collections.abc.Coroutine`, so code that hands such a call to
  ``asyncio.run_coroutine_threadsafe`` or ``create_task`` (the thingtalk seed's MQTT
  callbacks did) keeps working.
- :func:`foreign` tells whether the caller runs outside the thing's loop while that loop
  runs (a worker thread); :func:`call_in` then runs a coroutine on the loop and waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class Done(Coroutine[Any, Any, T]):
    """A coroutine whose work is already done: awaiting or running it gives its result at
    once, any number of times, and dropping it is harmless."""

    __slots__ = ("result",)

    def __init__(self, result: T) -> None:
        self.result = result

    def __await__(self) -> Generator[Any, None, T]:
        return self.result
        yield  # makes this a generator: awaiting never suspends

    def send(self, value: Any) -> Any:
        """Finish at once with the result (the coroutine protocol)."""
        raise StopIteration(self.result)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        """Raise what is thrown in: nothing is left to run."""
        if isinstance(typ, BaseException):
            raise typ
        raise typ if val is None else val

    def close(self) -> None:
        """Nothing to close."""


DONE: Done[None] = Done(None)


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The loop running in this thread, or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def foreign(loop: asyncio.AbstractEventLoop | None) -> bool:
    """True when ``loop`` runs and the caller is not on it (a worker thread, another loop)."""
    return loop is not None and loop.is_running() and running_loop() is not loop


def call_in(
    loop: asyncio.AbstractEventLoop,
    function: Callable[..., Coroutine[Any, Any, T]],
    *args: Any,
    **kwargs: Any,
) -> T:
    """Run ``function(*args, **kwargs)`` on ``loop`` from another thread; wait for its result."""
    return asyncio.run_coroutine_threadsafe(function(*args, **kwargs), loop).result()


async def awaited(awaitable: Awaitable[T]) -> T:
    """``awaitable`` as a coroutine (what ``create_task`` takes)."""
    return await awaitable


@contextlib.contextmanager
def background_thread_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a thread for the ``with`` block (the thingtalk seed's helper).

    The seed wrote ``with background_thread_loop() as loop: app = WebThingServer(loop,
    Light).create()``; that still works, though the server no longer needs the loop: the
    things are built on the loop that serves them. The loop is stopped and closed at the end
    of the block.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="background loop", daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
