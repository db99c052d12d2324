"""A deadline on each of a socket's sends that costs no timer per message.

A fan-out sends one message to every subscriber for each change, and almost every send is
over at once (the kernel takes the bytes). An ``asyncio.timeout`` around each send would make
and cancel a timer per subscriber per change for the rare send that hangs. Instead a send
only notes that it started; one timer per socket, armed when a send starts and none is armed,
looks when it fires whether the send it was armed for is still going on, and if a later one
is, re-arms itself for that one's deadline. A socket sending without pause is thus looked at
about once per deadline, and an idle socket's timer fires at most once more, then sleeps.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class SendDeadline:
    """``with SendDeadline(seconds) as deadline:`` around a task's sends, each bracketed by
    :meth:`start` and :meth:`stop`: a send still going on after ``seconds`` cancels the task,
    and the block raises :class:`TimeoutError` (as ``asyncio.timeout`` would)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[object] | None = None
        self._sends = 0  # sends started so far: the number of the latest
        self._since: float | None = None  # when the send going on started
        self._timer: asyncio.TimerHandle | None = None
        self._timed = 0  # the send the timer was armed for
        self._expired = False
        self._cancelling = 0  # the task's pending cancellations when the block began

    def __enter__(self) -> SendDeadline:
        self._task = asyncio.current_task()
        assert self._task is not None, "a deadline is for a task's sends"
        self._cancelling = self._task.cancelling()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._expired and kind is asyncio.CancelledError:
            assert self._task is not None
            # Cancelled by this deadline alone (not by someone else as well): time is up.
            if self._task.uncancel() <= self._cancelling:
                raise TimeoutError from error

    def start(self) -> None:
        """A send starts."""
        self._sends += 1
        self._since = self._loop.time()
        if self._timer is None:
            self._arm()

    def stop(self) -> None:
        """The send is over."""
        self._since = None

    def _arm(self) -> None:
        assert self._since is not None
        self._timed = self._sends
        self._timer = self._loop.call_at(self._since + self.seconds, self._check)

    def _check(self) -> None:
        self._timer = None
        if self._since is None:
            return  # nothing on its way: the next send arms the timer again
        # The very send the timer was armed for is still going on: its time is up. (Told by
        # number, not by the clock, which a timer may fire a little ahead of.)
        if self._sends == self._timed:
            assert self._task is not None
            self._expired = True
            self._task.cancel()
        else:
            self._arm()  # a later send is going on: wait for its own deadline
