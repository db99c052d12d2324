"""Fan-out of a thing's changes to its WebThings websocket sessions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from ..action import Action
from ..descriptions.webthings import action_description, event_description
from ..event import Event
from ..property import Property
from .wire import dumps

if TYPE_CHECKING:
    from ..thing import Thing

log = logging.getLogger(__name__)

# How long an HTTP answer waits for the websockets to take what was queued before it.
FLUSH_SECONDS = 1.0


class Session:
    """One websocket's outgoing queue and event subscriptions."""

    def __init__(self, max_queue: int) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(max_queue)
        self.subscriptions: set[str] = set()
        self.overflowed = asyncio.Event()
        self.offered = 0  # messages queued so far
        self.sent = 0  # messages handed to the socket so far
        self.closed = False
        self._progress = asyncio.Event()

    def offer(self, message: str) -> None:
        """Queue ``message``; a client too slow to keep up is dropped, not the server's memory."""
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed.set()
        else:
            self.offered += 1

    def mark_sent(self) -> None:
        """One queued message went out (called by the socket's sender)."""
        self.sent += 1
        self._progress.set()

    def close(self) -> None:
        """The socket is gone: nothing queued will go out any more."""
        self.closed = True
        self._progress.set()

    async def flushed(self) -> None:
        """Return once every message queued before this call has gone out."""
        target = self.offered
        while self.sent < target and not (self.closed or self.overflowed.is_set()):
            self._progress.clear()
            await self._progress.wait()


class Hub:
    """Observes one thing and encodes each change once for all its sessions."""

    def __init__(
        self, thing: Thing, href_prefix: str, *, precise_event_times: bool = False
    ) -> None:
        self.thing = thing
        self.href_prefix = href_prefix
        self.precise_event_times = precise_event_times
        self.sessions: set[Session] = set()

    def join(self, session: Session) -> None:
        """Start sending the thing's changes to ``session``."""
        if not self.sessions:
            self.thing.add_observer(self)
        self.sessions.add(session)

    def leave(self, session: Session) -> None:
        """Stop sending to ``session``."""
        self.sessions.discard(session)
        session.close()
        if not self.sessions:
            self.thing.remove_observer(self)

    async def flush(self, seconds: float = FLUSH_SECONDS) -> None:
        """Wait (at most ``seconds``) until what was queued for every session has gone out.

        An HTTP answer that follows a change awaits this, so that websocket subscribers hear
        of the change first (the WebThings gateway drops an ``actionStatus`` for a request
        whose POST it has not seen answered yet). A stalled client delays it by ``seconds``
        at most.
        """
        if not self.sessions:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await asyncio.gather(*(s.flushed() for s in list(self.sessions)))

    def _broadcast(self, message: dict[str, Any]) -> None:
        text = dumps(message).decode()
        for session in self.sessions:
            session.offer(text)

    def property_changed(self, thing: Thing, prop: Property) -> None:
        """Send ``propertyStatus``."""
        self._broadcast(
            {"messageType": "propertyStatus", "data": {prop.name: prop.value.last_value}}
        )

    def action_changed(self, thing: Thing, action: Action) -> None:
        """Send ``actionStatus``."""
        self._broadcast(
            {"messageType": "actionStatus", "data": action_description(action, self.href_prefix)}
        )

    def event_raised(self, thing: Thing, event: Event) -> None:
        """Send ``event`` to the sessions subscribed to it."""
        subscribers = [s for s in self.sessions if event.name in s.subscriptions]
        if not subscribers:
            return
        data = event_description(event, precise=self.precise_event_times)
        text = dumps({"messageType": "event", "data": data}).decode()
        for session in subscribers:
            session.offer(text)
