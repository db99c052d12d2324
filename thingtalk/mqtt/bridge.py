"""The MQTT bridge: things on a broker, both ways, without ever making a thing wait for it.

The client is aiomqtt on paho-mqtt. paho-mqtt is the Eclipse project's Python client, kept
up to date with the protocol (3.1.1 and 5, TLS, last will, session takeover) and used by
Home Assistant itself; aiomqtt drives paho's network loop from the asyncio event loop's
reader and writer callbacks (no network thread; only the blocking TCP/TLS connect runs in
the default executor) and wraps it in a typed async context manager with a message
iterator. Reconnecting is left to the caller, which is what we want: the bridge owns its
backoff and what it re-publishes after a reconnect.

What the bridge does (topics in :mod:`thingtalk.descriptions.mqtt`):

- on every connection: the TD and every property value, retained, then ``online`` on the
  availability topic, whose last will is ``offline``; writes and invocations are subscribed;
- as things change (it is their observer): property values (retained), action statuses and
  events go to an :class:`~thingtalk.mqtt.outbox.Outbox`, whence one task publishes them;
- writes go through ``thing.set_property`` (the HTTP write's validation and forwarder),
  invocations through ``thing.perform_action``; what is refused is answered on the thing's
  errors topic with the HTTP error body, and nothing changes;
- a lost connection is retried with capped, jittered exponential backoff; ``stop()`` says
  ``offline`` and disconnects cleanly (so the broker keeps the will to itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import msgspec

from ..action import Action
from ..descriptions import mqtt as dialect
from ..descriptions import w3c
from ..descriptions.errors import error_body
from ..descriptions.webthings import WEBTHINGS_CONTEXT
from ..errors import BadRequest, ThingtalkError
from ..event import Event
from ..property import Property
from ..thing import Thing
from ..things import MultipleThings, SingleThing
from .outbox import Outbox, Publication
from .settings import MqttSettings

if TYPE_CHECKING:
    import aiomqtt

log = logging.getLogger(__name__)

ONLINE = b"online"
OFFLINE = b"offline"

Handler = Callable[[bytes], Awaitable[None] | None]
BridgeThings = Thing | Sequence[Thing] | SingleThing | MultipleThings


def topic_slug(text: str) -> str:
    """``text`` as one readable topic level: lower case, letters, digits and ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "thing"


def require_aiomqtt() -> None:
    """Raise an error that says what to install if aiomqtt is missing."""
    try:
        import aiomqtt  # noqa: F401
    except ImportError:
        raise RuntimeError(
            "the MQTT bridge needs aiomqtt: pip install 'webthing-appliance[mqtt]'"
        ) from None


@dataclass(eq=False, slots=True)
class Bridged:
    """A thing on the broker: its topics, and where it is served over HTTP (if it is)."""

    thing: Thing
    topics: dialect.ThingTopics
    http: dialect.HttpOrigin | None


@dataclass(slots=True)
class BridgeStats:
    """Counters for logs, tests and the benchmark."""

    connects: int = 0
    published: int = 0
    received: int = 0
    refused: int = 0


def _collection(things: BridgeThings) -> tuple[list[Thing], str | None]:
    """The things, and the name of several (None for a single thing)."""
    if isinstance(things, Thing):
        return [things], None
    if isinstance(things, SingleThing):
        return [things.thing], None
    if isinstance(things, MultipleThings):
        return things.things, things.name
    items = list(things)
    if not items:
        raise ValueError("the MQTT bridge needs at least one thing")
    return items, "Things"


class MqttBridge:
    """Puts things on an MQTT broker. ``await start()`` once the loop runs (it returns at
    once and connects in the background), ``await stop()`` at the end; with a server::

        bridge = MqttBridge(lamp, MqttSettings("mqtt://broker.local"),
                            http_base="http://lamp.local:8888")
        WebThingServer(lamp, additional_on_startup=[bridge.start],
                       additional_on_shutdown=[bridge.stop])

    ``things`` is what ``WebThingServer`` takes: one thing lives at the base topic
    (``settings.base_topic``, by default ``thingtalk/<slug of its id>``); several (a list or
    ``MultipleThings``) at ``<base topic>/<slug of each title>`` (by default under
    ``thingtalk/<slug of the collection's name>``). ``http_base`` is the server's origin
    (and base path): the TD on the broker then has the HTTP forms too, with several
    things at ``/0``, ``/1``, ... as the server lays them out.
    """

    def __init__(
        self,
        things: BridgeThings,
        settings: MqttSettings | None = None,
        *,
        http_base: str | None = None,
        context: str | None = WEBTHINGS_CONTEXT,
    ) -> None:
        self.settings = settings = settings or MqttSettings()
        items, name = _collection(things)
        if name is None:
            self.root = settings.base_topic or f"thingtalk/{topic_slug(str(items[0].id))}"
        else:
            self.root = settings.base_topic or f"thingtalk/{topic_slug(name)}"
        self.availability_topic = f"{self.root}/availability"
        self.client_id = settings.client_id or f"thingtalk-{topic_slug(self.root)}"
        self.context = context
        self.things = self._lay_out(items, several=name is not None, http_base=http_base)
        self._by_thing = {b.thing: b for b in self.things}
        self.broker = dialect.Broker(
            settings.broker_url, settings.qos, authenticated=settings.credentials[0] is not None
        )
        self.outbox = Outbox(settings.queue_size)
        self.stats = BridgeStats()
        self._retained: dict[str, tuple[bytes, Callable[[], None] | None]] = {}
        self._handlers: dict[str, Handler] = {}
        self._task: asyncio.Task[None] | None = None
        self._session = False
        self._session_over = asyncio.Event()
        self._sending: Publication | None = None
        self._failures = 0

    def _lay_out(
        self, items: list[Thing], *, several: bool, http_base: str | None
    ) -> list[Bridged]:
        origin = path = None
        if http_base is not None:
            parts = urlsplit(http_base)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"http_base {http_base!r} must be an http(s):// URL")
            origin, path = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
        bridged: list[Bridged] = []
        keys: set[str] = set()
        for index, thing in enumerate(items):
            base = self.root
            if several:
                key = topic_slug(thing.title)
                if key in keys:  # two things with one title: the later ones get their index
                    key = f"{key}-{index}"
                keys.add(key)
                base = f"{self.root}/{key}"
            http = None
            if origin is not None:
                prefix = f"{path}/{index}" if several else (path or "")
                http = dialect.HttpOrigin(origin, prefix)
            bridged.append(Bridged(thing, dialect.ThingTopics(base), http))
        return bridged

    # -- the extension points (Home Assistant discovery uses them) -------------------

    def retain(
        self, topic: str, payload: bytes, *, on_sent: Callable[[], None] | None = None
    ) -> None:
        """Keep ``payload`` retained at ``topic``: published now (or once connected) and again
        after every reconnect. An empty payload deletes the broker's retained message."""
        dialect.check_topic(topic)
        self._retained[topic] = (payload, on_sent)
        self.outbox.put_state(self._publication(topic, payload, retain=True, on_sent=on_sent))

    def forget(self, topic: str) -> None:
        """Stop re-publishing ``topic`` after reconnects (what the broker retains stays)."""
        self._retained.pop(topic, None)

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish one message (not retained), queued like an event."""
        dialect.check_topic(topic)
        self.outbox.put(self._publication(topic, payload))

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Call ``handler(payload)`` for messages on ``topic`` (an exact topic, no
        wildcards), from the next connection on: call it before :meth:`start`."""
        dialect.check_topic(topic)
        self._handlers[topic] = handler

    # -- life cycle ---------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a session with the broker is up."""
        return self._session

    @property
    def idle(self) -> bool:
        """True when connected with nothing left to publish: everything the bridge had to
        say is with the broker (acknowledged, at QoS 1 and 2)."""
        return self._session and not self.outbox and self._sending is None

    async def start(self) -> None:
        """Build the things, follow them, and connect in the background (never waits for
        the broker: an unreachable one is retried while the things go on)."""
        if self._task is not None:
            return
        require_aiomqtt()
        for bridged in self.things:
            thing = await bridged.thing.ensure_built()
            for name in [*thing.properties, *thing.available_actions, *thing.available_events]:
                dialect.check_topic_level(name, f"{thing.title!r}: affordance")
        for bridged in self.things:
            bridged.thing.add_observer(self)
        self._task = asyncio.create_task(self._run(), name=f"mqtt bridge {self.root}")

    async def stop(self) -> None:
        """Say ``offline`` (retained), disconnect cleanly, and stop following the things."""
        task, self._task = self._task, None
        if task is None:
            return
        for bridged in self.things:
            bridged.thing.remove_observer(self)
        timeout = self.settings.stop_timeout
        if self._session:
            said = asyncio.Event()
            offline = self._publication(self.availability_topic, OFFLINE, retain=True)
            offline.on_sent = said.set
            self.outbox.put_state(offline)  # after everything pending: that is flushed first
            # Until the broker has it, or the session is lost (then the will says it).
            waiters = [asyncio.create_task(e.wait()) for e in (said, self._session_over)]
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            if not said.is_set():
                log.warning("MQTT: could not say `offline`; the broker's last will says it")
        task.cancel()
        # The client's exit sends DISCONNECT and waits for the broker; don't wait forever.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), timeout)
        self._session = False
        log.info("MQTT bridge %s stopped", self.root)

    async def _run(self) -> None:
        import aiomqtt  # here, not at import: the package loads without the mqtt extra

        delay = self.settings.reconnect_min
        while True:
            try:
                async with self._client() as client:
                    delay = self.settings.reconnect_min
                    await self._serve(client)
            except aiomqtt.MqttError as exc:
                self._lost(str(exc) or type(exc).__name__)
            except Exception:
                log.exception("MQTT bridge %s failed; reconnecting", self.root)
                self._failures += 1
            finally:
                self._session = False
            # "Equal jitter": at least half the delay, so retries stay spaced, and spread
            # over the other half, so a fleet cut off together does not return in step.
            await asyncio.sleep(delay / 2 + random.uniform(0, delay / 2))
            delay = min(delay * 2, self.settings.reconnect_max)

    def _lost(self, reason: str) -> None:
        self._failures += 1
        where = f"{self.settings.broker_url} as {self.client_id!r}"
        if self._failures == 1:
            log.warning("MQTT broker %s: %s; retrying with backoff", where, reason)
        else:
            log.debug("MQTT broker %s: %s (attempt %d)", where, reason, self._failures)

    def _client(self) -> aiomqtt.Client:
        import aiomqtt

        s = self.settings
        username, password = s.credentials
        tls = None
        if s.tls:
            tls = aiomqtt.TLSParameters(
                ca_certs=s.ca_file, certfile=s.cert_file, keyfile=s.key_file
            )
        protocol = aiomqtt.ProtocolVersion.V5 if s.protocol == "5" else aiomqtt.ProtocolVersion.V311
        return aiomqtt.Client(
            s.host,
            s.port,
            username=username,
            password=password,
            identifier=self.client_id,
            protocol=protocol,
            will=aiomqtt.Will(self.availability_topic, OFFLINE, s.qos, retain=True),
            keepalive=s.keepalive,
            timeout=s.timeout,
            tls_params=tls,
            # Writes arrive faster than a slow forwarder takes them: bound what waits.
            max_queued_incoming_messages=s.queue_size,
            # paho leaves Nagle's algorithm on: a PUBLISH queued behind our PUBACK of a
            # write then waits for the broker's delayed ACK (measured: publish lag p50 22 ms).
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
            logger=logging.getLogger("thingtalk.mqtt.client"),
        )

    async def _serve(self, client: aiomqtt.Client) -> None:
        """One session: subscribe, publish everything afresh, then send and receive."""
        if self._failures:
            log.info(
                "MQTT: reconnected to %s (after %d failed attempts)",
                self.settings.broker_url,
                self._failures,
            )
        else:
            log.info("MQTT: connected to %s as %r", self.settings.broker_url, self.client_id)
        self._failures = 0
        self.stats.connects += 1
        filters = [f for b in self.things for f in b.topics.subscriptions] + list(self._handlers)
        wanted: list[tuple[str, int]] = [(f, self.settings.qos) for f in filters]
        granted = await client.subscribe(wanted)
        for topic, code in zip(filters, granted, strict=False):
            if getattr(code, "is_failure", code == 0x80):
                log.warning("MQTT: the broker refused the subscription to %s (%s)", topic, code)
        self._publish_everything()
        self._session = True
        self._session_over = asyncio.Event()
        sender = asyncio.create_task(self._send(client), name="mqtt send")
        receiver = asyncio.create_task(self._receive(client), name="mqtt receive")
        try:
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._session = False
            self._session_over.set()
            for task in (sender, receiver):
                task.cancel()
            await asyncio.gather(sender, receiver, return_exceptions=True)
        for task in done:
            task.result()  # the reason the session ended

    def _publish_everything(self) -> None:
        # Afresh on every connection: a broker that lost its retained messages, or a
        # change made while it was away, is put right. Availability last, once the rest
        # is queued ahead of it.
        self.outbox.clear_state()
        for topic, (payload, on_sent) in self._retained.items():
            self.outbox.put_state(self._publication(topic, payload, retain=True, on_sent=on_sent))
        for bridged in self.things:
            self.outbox.put_state(
                self._publication(bridged.topics.td, self._td(bridged), retain=True)
            )
            for prop in bridged.thing.properties.values():
                self._put_property(bridged, prop)
        self.outbox.put_state(self._publication(self.availability_topic, ONLINE, retain=True))

    def _td(self, bridged: Bridged) -> bytes:
        td = dialect.thing_description(
            bridged.thing,
            bridged.topics,
            self.broker,
            http=bridged.http,
            extra_context=self.context,
        )
        return msgspec.json.encode(td)

    async def _send(self, client: aiomqtt.Client) -> None:
        while True:
            publication = self._sending = await self.outbox.get()
            try:
                await client.publish(
                    publication.topic,
                    publication.payload,
                    qos=publication.qos,
                    retain=publication.retain,
                )
            except BaseException:
                # State is published afresh on the next connection; a message waits for it.
                self.outbox.put_back(publication)
                raise
            finally:
                self._sending = None
            self.stats.published += 1
            if publication.on_sent is not None:
                publication.on_sent()

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            self.stats.received += 1
            payload = message.payload
            if not isinstance(payload, bytes | bytearray):
                payload = b"" if payload is None else str(payload).encode()
            await self._dispatch(message.topic.value, bytes(payload), message.retain)

    async def _dispatch(self, topic: str, payload: bytes, retained: bool) -> None:
        handler = self._handlers.get(topic)
        if handler is not None:
            try:
                result = handler(payload)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("MQTT handler of %s failed", topic)
            return
        for bridged in self.things:
            parsed = bridged.topics.parse(topic)
            if parsed is not None:
                break
        else:
            return
        if retained:
            # A retained command would run again on every reconnect of every bridge.
            log.warning(
                "MQTT: ignored a retained message on %s; commands must not be retained", topic
            )
            return
        kind, name = parsed
        try:
            if kind == "set":
                await bridged.thing.set_property(name, _decode(payload))
            else:
                bridged.thing.perform_action(name, _decode(payload) if payload.strip() else None)
        except ThingtalkError as error:
            self._refuse(bridged, topic, error)
        except Exception as exc:
            # The device failed (its forwarder raised): the client hears, as over HTTP.
            log.exception("MQTT: %s on %s failed", kind, topic)
            self._refuse(bridged, topic, ThingtalkError(f"{type(exc).__name__}: {exc}"))

    def _refuse(self, bridged: Bridged, topic: str, error: ThingtalkError) -> None:
        self.stats.refused += 1
        log.debug("MQTT: refused %s: %s", topic, error.message)
        self.outbox.put(
            self._publication(bridged.topics.errors, msgspec.json.encode(error_body(error)))
        )

    # -- the things' observer: never blocks, never waits for the broker --------------

    def property_changed(self, thing: Thing, prop: Property) -> None:
        """Publish the new value (retained; only the newest pending value is kept)."""
        bridged = self._by_thing.get(thing)
        if bridged is not None:
            self._put_property(bridged, prop)

    def action_changed(self, thing: Thing, action: Action) -> None:
        """Publish the request's status."""
        bridged = self._by_thing.get(thing)
        if bridged is not None:
            status = msgspec.json.encode(w3c.action_status(action))
            self.outbox.put(self._publication(bridged.topics.action_status(action.name), status))

    def event_raised(self, thing: Thing, event: Event) -> None:
        """Publish the event's data."""
        bridged = self._by_thing.get(thing)
        if bridged is not None:
            data = msgspec.json.encode(event.data)
            self.outbox.put(self._publication(bridged.topics.event(event.name), data))

    def _put_property(self, bridged: Bridged, prop: Property) -> None:
        payload = msgspec.json.encode(prop.get_value())
        self.outbox.put_state(
            self._publication(bridged.topics.property_value(prop.name), payload, retain=True)
        )

    def _publication(
        self,
        topic: str,
        payload: bytes,
        *,
        retain: bool = False,
        on_sent: Callable[[], None] | None = None,
    ) -> Publication:
        return Publication(topic, payload, self.settings.qos, retain, on_sent)


def _decode(payload: bytes) -> Any:
    try:
        return msgspec.json.decode(payload)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
