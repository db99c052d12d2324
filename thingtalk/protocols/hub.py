"""Fan-out of a thing's changes to its WebThings websocket sessions."""

from __future__ import annotations

import asyncio
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


class Session:
    """One websocket's outgoing queue and event subscriptions."""

    def __init__(self, max_queue: int) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(max_queue)
        self.subscriptions: set[str] = set()
        self.overflowed = asyncio.Event()

    def offer(self, message: str) -> None:
        """Queue ``message``; a client too slow to keep up is dropped, not the server's memory."""
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed.set()


class Hub:
    """Observes one thing and encodes each change once for all its sessions."""

    def __init__(self, thing: Thing, href_prefix: str) -> None:
        self.thing = thing
        self.href_prefix = href_prefix
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
        text = dumps({"messageType": "event", "data": event_description(event)}).decode()
        for session in subscribers:
            session.offer(text)
