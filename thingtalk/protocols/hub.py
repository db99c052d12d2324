"""Fan-out of a thing's changes to its WebThings websocket sessions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from ..action import Action
from ..descriptions.webthings import action_description, event_description
from ..event import Event
from ..property import Property
from .outbox import Outbox
from .wire import dumps

if TYPE_CHECKING:
    from ..thing import Thing

log = logging.getLogger(__name__)


# How long an HTTP answer waits for caught-up websockets to take what was queued before it.
FLUSH_SECONDS = 0.25


class Session:
    """One websocket's outbox and event subscriptions."""

    def __init__(self, outbox: Outbox[str]) -> None:
        self.outbox = outbox
        self.subscriptions: set[str] = set()
        self.sending = False  # a message is on its way to the socket
        self._progress = asyncio.Event()

    def mark(self, sending: bool) -> None:
        """The socket's sender took a message (``True``) or has handed over all it took
        and found the outbox empty (``False``)."""
        self.sending = sending
        self._progress.set()

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing on its way: the client has everything."""
        return not self.sending and len(self.outbox) == 0

    async def flushed(self) -> None:
        """Return once the outbox is empty and its last message went out (or it closed)."""
        while not (self.idle or self.outbox.closed):
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
        if not self.sessions:
            self.thing.remove_observer(self)

    async def flush(self, behind: set[Session], seconds: float = FLUSH_SECONDS) -> None:
        """Wait (at most ``seconds``) until the sessions that were caught up have taken what
        was queued since: an HTTP answer that follows a change awaits this, so websocket
        subscribers hear of the change first (the WebThings gateway drops an ``actionStatus``
        of a request whose POST it has not seen answered). ``behind`` are the sessions that
        had a backlog before the change: they are not waited for, so a slow client never
        delays another client's answer."""
        waiting = [s for s in self.sessions if s not in behind]
        if not waiting:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await asyncio.gather(*(s.flushed() for s in waiting))

    def backlogged(self) -> set[Session]:
        """The sessions that have not yet taken everything queued for them."""
        return {s for s in self.sessions if not s.idle}

    def property_changed(self, thing: Thing, prop: Property) -> None:
        """Send ``propertyStatus``: a session behind gets the latest value, not each one."""
        message = {"messageType": "propertyStatus", "data": {prop.name: prop.value.last_value}}
        text = dumps(message).decode()
        for session in self.sessions:
            session.outbox.put_state(prop.name, text)

    def action_changed(self, thing: Thing, action: Action) -> None:
        """Send ``actionStatus``."""
        data = action_description(action, self.href_prefix)
        text = dumps({"messageType": "actionStatus", "data": data}).decode()
        for session in self.sessions:
            session.outbox.put(text)

    def event_raised(self, thing: Thing, event: Event) -> None:
        """Send ``event`` to the sessions subscribed to it."""
        subscribers = [s for s in self.sessions if event.name in s.subscriptions]
        if not subscribers:
            return
        data = event_description(event, precise=self.precise_event_times)
        text = dumps({"messageType": "event", "data": data}).decode()
        for session in subscribers:
            session.outbox.put(text)
