"""Server-Sent Events for the W3C HTTP SSE profile: a numbered, bounded journal per thing.

Every property change and event of a thing is written once into its :class:`Journal` with
a sequence number, encoded once as JSON, and offered to the open streams that want it.
An event's SSE ``id`` is ``<epoch>-<sequence>``; a client that reconnects with
``Last-Event-ID`` gets what it missed from the journal (bounded, so a client away for too
long gets what is left). The epoch changes on every start, so an id from an earlier run
replays nothing rather than the wrong things.

Framing. On the one-affordance streams (observeproperty, subscribeevent) each message is an
unnamed SSE event (``id`` and ``data`` only): the affordance is the URL, and EventSource
clients (Eclipse Thingweb node-wot among them) hand only unnamed events to ``onmessage``.
On the "all" streams (observeallproperties, subscribeallevents) each message also carries
``event: <name>`` so the client can tell the affordances apart.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..limits import Limits
from .outbox import Outbox
from .wire import dumps

if TYPE_CHECKING:
    from ..action import Action
    from ..event import Event
    from ..property import Property
    from ..thing import Thing

Kind = Literal["property", "event"]
KEEPALIVE = b": keepalive\n\n"


@dataclass(frozen=True, slots=True)
class Entry:
    """One journalled change: a property's new value or an event's data, as JSON text."""

    seq: int
    kind: Kind
    name: str
    data: str


class Stream:
    """One open SSE response: what it wants, and the :class:`~.outbox.Outbox` it is sent from.

    A property's frames are conflated (a stream behind gets the latest value of each property,
    moved to the end so ids keep increasing); events queue, bounded. A stream whose last frame
    has not left for ``subscriber_deadline`` seconds has stopped reading and is ended.
    """

    def __init__(self, journal: Journal, kind: Kind, name: str | None, limits: Limits) -> None:
        self.journal = journal
        self.kind = kind
        self.name = name
        self.named = name is None  # the "all" streams name each message
        self.deadline = limits.subscriber_deadline
        self.outbox: Outbox[bytes] = Outbox(
            limits.max_queued, limits.max_queued_bytes, 1, move_to_end=True
        )
        self.sending_since: float | None = None  # when the frame being sent was handed over

    def wants(self, entry: Entry) -> bool:
        """Whether ``entry`` belongs on this stream."""
        return entry.kind == self.kind and (self.name is None or entry.name == self.name)

    def frame(self, entry: Entry) -> bytes:
        """``entry`` as an SSE message."""
        event = f"event: {entry.name}\n" if self.named else ""
        return f"id: {self.journal.event_id(entry)}\n{event}data: {entry.data}\n\n".encode()

    def stuck(self, now: float) -> bool:
        """True if the frame being sent has not left for longer than the deadline."""
        return self.sending_since is not None and now - self.sending_since > self.deadline

    def offer(self, entry: Entry) -> None:
        """Queue ``entry``; a stream that stopped reading is ended (it may resume by id)."""
        if not self.wants(entry):
            return
        if self.stuck(asyncio.get_running_loop().time()):
            self.journal.streams.discard(self)
            self.end()
            return
        if entry.kind == "property":
            self.outbox.put_state(entry.name, self.frame(entry))
        else:
            self.outbox.put(self.frame(entry))

    def end(self) -> None:
        """End the response; what is still queued is dropped (the client resumes by id)."""
        self.outbox.close()


class Journal:
    """Observes one thing for as long as it is served, numbering each change (a ThingObserver)."""

    def __init__(self, thing: Thing, size: int) -> None:
        self.thing = thing
        self.epoch = secrets.token_hex(4)
        self.seq = 0
        self.entries: deque[Entry] = deque(maxlen=size)
        self.streams: set[Stream] = set()

    def attach(self) -> None:
        """Start recording the thing's changes."""
        self.thing.add_observer(self)

    def detach(self) -> None:
        """Stop recording and end the open streams."""
        self.thing.remove_observer(self)
        self.end_streams()

    def end_streams(self) -> None:
        """End the open streams (their clients may resume by id later)."""
        for stream in list(self.streams):
            stream.end()
        self.streams.clear()

    def event_id(self, entry: Entry) -> str:
        """The SSE id of ``entry``."""
        return f"{self.epoch}-{entry.seq}"

    def _record(self, kind: Kind, name: str, data: Any) -> None:
        self.seq += 1
        entry = Entry(self.seq, kind, name, dumps(data).decode())
        self.entries.append(entry)
        for stream in list(self.streams):
            stream.offer(entry)

    def property_changed(self, thing: Thing, prop: Property) -> None:
        """Journal the property's new value."""
        self._record("property", prop.name, prop.value.last_value)

    def action_changed(self, thing: Thing, action: Action) -> None:
        """Action progress is not part of the SSE profile."""

    def event_raised(self, thing: Thing, event: Event) -> None:
        """Journal the event's data."""
        self._record("event", event.name, event.data)

    def missed(self, last_event_id: str | None) -> list[Entry]:
        """The entries after ``last_event_id``: none for no id, an id of another run, or one
        that is not ours at all (garbage resumes from now, never fails the stream)."""
        if not last_event_id:
            return []
        epoch, _, number = last_event_id.strip().partition("-")
        # ASCII digits only ("²".isdigit() is true), and no more than a sequence can have.
        if epoch != self.epoch or not (number.isascii() and number.isdigit()):
            return []
        if len(number) > len(str(self.seq)):
            return []
        seq = int(number)
        return [e for e in self.entries if e.seq > seq]

    def open(
        self, kind: Kind, name: str | None, last_event_id: str | None, limits: Limits
    ) -> tuple[Stream, list[bytes]]:
        """Register a stream and return it with the frames it missed (atomic: no await)."""
        stream = Stream(self, kind, name, limits)
        replay = [stream.frame(e) for e in self.missed(last_event_id) if stream.wants(e)]
        self.streams.add(stream)
        return stream, replay

    async def iterate(
        self, stream: Stream, replay: list[bytes], keepalive: float
    ) -> AsyncIterator[bytes]:
        """The body of an SSE response: replay, then live frames and keepalive comments."""
        loop = asyncio.get_running_loop()
        try:
            # A first comment gets the headers and the stream to the client at once.
            yield b": stream open\nretry: 2000\n\n"
            pending = iter(replay)
            while True:
                frame = next(pending, None)
                if frame is None:
                    try:
                        async with asyncio.timeout(keepalive):
                            frame = await stream.outbox.get()
                    except TimeoutError:
                        frame = KEEPALIVE
                    if frame is None:
                        return
                # The generator is resumed once the frame has been handed to the client.
                stream.sending_since = loop.time()
                yield frame
                stream.sending_since = None
        finally:
            # Reached when the client goes away too: the server cancels or closes the body.
            self.streams.discard(stream)
