"""What one subscriber has still to be sent, bounded whatever the thing or the client does.

A property's value is state, not history: a subscriber that falls behind needs the latest
value of each property, not every value it missed. So the outbox keeps three kinds of
message, in the order they came:

- **state** (:meth:`Outbox.put_state`, a property's value): one per key; a newer value
  replaces the one still waiting (where it stands, or moved to the end with
  ``move_to_end``, which keeps the order of SSE ids). Never dropped: there are only as many
  as the thing has properties, and a subscriber never sees a property's values out of order.
- **queued** (:meth:`Outbox.put`, events and action statuses): at most ``max_queued`` in
  ``max_queued_bytes``; beyond that the oldest is dropped and counted in :attr:`dropped`.
- **replies** (:meth:`Outbox.put_reply`, answers to the client's own requests): never
  dropped. The socket's receive loop waits for :meth:`room` before it reads the next
  request, so a client that reads no answers is itself read no further (the kernel then
  holds its requests back) instead of growing this.

The memory one stuck subscriber costs is therefore bounded by its properties, the queue's
bytes and ``max_replies`` answers.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Hashable
from typing import Generic, TypeVar

M = TypeVar("M", str, bytes)

_STATE, _QUEUED, _REPLY = 0, 1, 2


class Outbox(Generic[M]):
    """The messages one subscriber is still to get (see the module's docstring)."""

    def __init__(
        self,
        max_queued: int,
        max_queued_bytes: int,
        max_replies: int,
        *,
        move_to_end: bool = False,
    ) -> None:
        self.max_queued = max_queued
        self.max_queued_bytes = max_queued_bytes
        self.max_replies = max_replies
        self.move_to_end = move_to_end
        self._items: OrderedDict[Hashable, tuple[int, M]] = OrderedDict()
        self._queued: deque[int] = deque()  # keys of the queued messages, oldest first
        self._queued_bytes = 0
        self._replies = 0
        self._seq = 0
        # The reader waiting for a message, if any. A future made only when the reader finds
        # nothing (not an Event cleared and set per message): a fan-out puts a message into
        # every subscriber's outbox for each change, so this is per subscriber per change.
        self._waiter: asyncio.Future[None] | None = None
        self._room = asyncio.Event()
        self._room.set()
        self.closed = False
        self.dropped = 0  # queued messages dropped because the subscriber fell behind

    def __len__(self) -> int:
        return len(self._items)

    def _key(self) -> int:
        self._seq += 1
        return self._seq

    def put_state(self, key: Hashable, message: M) -> None:
        """Queue the latest value of ``key``, replacing one still waiting."""
        if self.closed:
            return
        slot = ("state", key)
        if self.move_to_end and slot in self._items:
            self._items.move_to_end(slot)
        self._items[slot] = (_STATE, message)
        self._wake()

    def put(self, message: M) -> None:
        """Queue an event or action status; the oldest such go when over the bounds."""
        if self.closed:
            return
        key = self._key()
        self._items[key] = (_QUEUED, message)
        self._queued.append(key)
        self._queued_bytes += len(message)
        while len(self._queued) > self.max_queued or (
            self._queued_bytes > self.max_queued_bytes and len(self._queued) > 1
        ):
            oldest = self._queued.popleft()
            _, dropped = self._items.pop(oldest)
            self._queued_bytes -= len(dropped)
            self.dropped += 1
        self._wake()

    def put_reply(self, message: M) -> None:
        """Queue an answer to the client; never dropped (the reader waits for :meth:`room`)."""
        if self.closed:
            return
        self._items[self._key()] = (_REPLY, message)
        self._replies += 1
        if self._replies >= self.max_replies:
            self._room.clear()
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def room(self) -> None:
        """Wait until fewer than ``max_replies`` answers are waiting (or the outbox closed)."""
        await self._room.wait()

    async def get(self) -> M | None:
        """The next message, waiting for one; None once the outbox is closed."""
        while (message := self.take()) is None:
            if self.closed:
                return None
            await self.wait()
        return message

    async def wait(self) -> None:
        """Return once a message is waiting or the outbox is closed."""
        while not (self._items or self.closed):
            # One reader per outbox (its subscriber's sender). A waiter left done was
            # cancelled with the reader that awaited it.
            if self._waiter is None or self._waiter.done():
                self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter

    def take(self) -> M | None:
        """The next message without waiting; None when there is none."""
        if not self._items:
            return None
        _, (kind, message) = self._items.popitem(last=False)
        if kind == _QUEUED:
            # Queued messages never move, so the one leaving is the oldest queued.
            self._queued.popleft()
            self._queued_bytes -= len(message)
        elif kind == _REPLY:
            self._replies -= 1
            if self._replies < self.max_replies:
                self._room.set()
        return message

    def close(self) -> None:
        """Drop everything waiting; :meth:`get` answers None and :meth:`room` stops waiting."""
        self.closed = True
        self._items.clear()
        self._queued.clear()
        self._queued_bytes = self._replies = 0
        self._wake()
        self._room.set()
