"""Fan-out of a thing's changes to its WebThings websocket sessions."""

from __future__ import annotations

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


class Session:
    """One websocket's outbox and event subscriptions."""

    def __init__(self, outbox: Outbox[str]) -> None:
        self.outbox = outbox
        self.subscriptions: set[str] = set()


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
        text = dumps({"messageType": "event", "data": event_description(event)}).decode()
        for session in subscribers:
            session.outbox.put(text)
