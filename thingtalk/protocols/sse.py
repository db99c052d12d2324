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
    """One open SSE response: what it wants, and a bounded queue of frames to send."""

    def __init__(self, journal: Journal, kind: Kind, name: str | None, max_queue: int) -> None:
        self.journal = journal
        self.kind = kind
        self.name = name
        self.named = name is None  # the "all" streams name each message
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(max_queue)

    def wants(self, entry: Entry) -> bool:
        """Whether ``entry`` belongs on this stream."""
        return entry.kind == self.kind and (self.name is None or entry.name == self.name)

    def frame(self, entry: Entry) -> bytes:
        """``entry`` as an SSE message."""
        event = f"event: {entry.name}\n" if self.named else ""
        return f"id: {self.journal.event_id(entry)}\n{event}data: {entry.data}\n\n".encode()

    def offer(self, entry: Entry) -> None:
        """Queue ``entry``; a stream too slow to keep up is ended (it may resume by id)."""
        if not self.wants(entry):
            return
        try:
            self.queue.put_nowait(self.frame(entry))
        except asyncio.QueueFull:
            self.journal.streams.discard(self)
            self.end()

    def end(self) -> None:
        """End the response; what is still queued is dropped (the client resumes by id)."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


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
        """The entries after ``last_event_id`` (none for an id of another run or no id)."""
        if not last_event_id:
            return []
        epoch, _, number = last_event_id.strip().partition("-")
        if epoch != self.epoch or not number.isdigit():
            return []
        seq = int(number)
        return [e for e in self.entries if e.seq > seq]

    def open(
        self, kind: Kind, name: str | None, last_event_id: str | None, max_queue: int
    ) -> tuple[Stream, list[bytes]]:
        """Register a stream and return it with the frames it missed (atomic: no await)."""
        stream = Stream(self, kind, name, max_queue)
        replay = [stream.frame(e) for e in self.missed(last_event_id) if stream.wants(e)]
        self.streams.add(stream)
        return stream, replay

    async def iterate(
        self, stream: Stream, replay: list[bytes], keepalive: float
    ) -> AsyncIterator[bytes]:
        """The body of an SSE response: replay, then live frames and keepalive comments."""
        try:
            # A first comment gets the headers and the stream to the client at once.
            yield b": stream open\nretry: 2000\n\n"
            for frame in replay:
                yield frame
            while True:
                try:
                    async with asyncio.timeout(keepalive):
                        queued = await stream.queue.get()
                except TimeoutError:
                    yield KEEPALIVE
                    continue
                if queued is None:
                    return
                yield queued
        finally:
            # Reached when the client goes away too: the server cancels or closes the body.
            self.streams.discard(stream)
