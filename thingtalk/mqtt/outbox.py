"""What a bridge has yet to send: the latest state per topic, and a bounded queue of messages.

Things must never wait for the broker: an observer only drops a publication in here and
returns. State (property values, the TD, availability, discovery configs: retained topics
where only the newest payload matters) is conflated by topic, so however often a value
changes while the broker is slow or away, one publication of the newest value is pending.
Messages (events, action statuses, errors: each one counts) wait in a FIFO of bounded
length; when it is full the oldest is dropped, counted and logged.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Publication:
    """One PUBLISH: topic, payload, QoS, retain flag; ``on_sent`` runs once the broker has it."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    on_sent: Callable[[], None] | None = None
    seq: int = field(default=0, compare=False)


class Outbox:
    """Conflated state and a bounded message queue, taken in the order they were first put."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the outbox needs room for at least one message")
        self.limit = limit
        self._state: dict[str, Publication] = {}
        self._messages: deque[Publication] = deque()
        self._seq = itertools.count()
        self._ready = asyncio.Event()
        #: Messages dropped because the queue was full, since the start.
        self.dropped = 0
        #: State publications replaced by a newer payload before they were sent.
        self.superseded = 0
        self._dropped_in_burst = 0

    def __len__(self) -> int:
        return len(self._state) + len(self._messages)

    def put_state(self, publication: Publication) -> None:
        """Publish the newest payload of a retained topic; a pending older one is replaced
        in place (it keeps its turn, so a busy topic cannot starve the others)."""
        pending = self._state.get(publication.topic)
        if pending is not None:
            self.superseded += 1
            publication.seq = pending.seq
        else:
            publication.seq = next(self._seq)
        self._state[publication.topic] = publication
        self._ready.set()

    def put(self, publication: Publication) -> None:
        """Queue a message; when the queue is full the oldest message is dropped."""
        if len(self._messages) >= self.limit:
            self._messages.popleft()
            self.dropped += 1
            if self._dropped_in_burst == 0:
                log.warning(
                    "MQTT outgoing queue full (%d messages): dropping the oldest events "
                    "and action statuses until the broker catches up",
                    self.limit,
                )
            self._dropped_in_burst += 1
        publication.seq = next(self._seq)
        self._messages.append(publication)
        self._ready.set()

    def put_back(self, publication: Publication) -> None:
        """Return a message whose publication failed to the front of the queue."""
        if not publication.retain and len(self._messages) < self.limit:
            self._messages.appendleft(publication)
            self._ready.set()

    def clear_state(self) -> None:
        """Forget pending state (a new connection publishes all of it afresh)."""
        self._state.clear()

    def get_nowait(self) -> Publication | None:
        """The next publication, or None if nothing is pending."""
        state = next(iter(self._state.values()), None)
        message = self._messages[0] if self._messages else None
        if state is not None and (message is None or state.seq < message.seq):
            del self._state[state.topic]
            return state
        if message is not None:
            return self._messages.popleft()
        if self._dropped_in_burst:
            log.warning(
                "MQTT outgoing queue drained; %d messages were dropped (%d since the start)",
                self._dropped_in_burst,
                self.dropped,
            )
            self._dropped_in_burst = 0
        return None

    async def get(self) -> Publication:
        """Wait for the next publication."""
        while (publication := self.get_nowait()) is None:
            self._ready.clear()
            await self._ready.wait()
        return publication
