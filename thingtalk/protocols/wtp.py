"""The Web Thing Protocol: the W3C WoT websocket sub-protocol ``webthingprotocol`` (CG draft).

It shares each thing's URL with the WebThings websocket: a client that asks for the
``webthingprotocol`` sub-protocol in its handshake gets this protocol, any other client the
WebThings websocket, exactly as before. One connection can drive every thing the server
serves: each request names its thing by ``thingID`` (the TD's ``id``; when it is missing, the
thing whose URL the socket was opened on).

Messages are JSON objects with ``thingID``, ``messageID``, ``messageType`` (``request`` in,
``response`` and ``notification`` out), ``operation`` and an optional ``correlationID`` that
responses and notifications echo. Errors are ``response`` messages with an ``error`` member in
RFC 9457 Problem Details form; a broken message gets one and the socket stays open.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from quart import current_app, websocket

from ..descriptions import w3c
from ..errors import BadRequest, NotFound, PayloadTooLarge, ThingtalkError
from ..timestamp import timestamp
from .outbox import Outbox
from .pump import pump
from .state import AppState, ServedThing, app_state
from .wire import dumps, loads, problem_details

if TYPE_CHECKING:
    from ..action import Action
    from ..event import Event
    from ..property import Property
    from ..thing import Thing

log = logging.getLogger(__name__)

SUBPROTOCOL = w3c.WTP_SUBPROTOCOL
ERROR_TYPES = "https://w3c.github.io/web-thing-protocol/errors#"
_COMMON_ERRORS = frozenset({400, 403, 404, 500, 503})


def wtp_problem(error: ThingtalkError) -> dict[str, Any]:
    """``error`` as the Problem Details of a Web Thing Protocol error response."""
    body = problem_details(error)
    if body["status"] in _COMMON_ERRORS:
        body["type"] = f"{ERROR_TYPES}{body['status']}"
    return body


def _name(message: dict[str, Any]) -> str:
    name = message.get("name")
    if not isinstance(name, str):
        raise BadRequest(f"a {message.get('operation')} request needs a string 'name'")
    return name


def _values(message: dict[str, Any]) -> dict[str, Any]:
    values = message.get("values")
    if not isinstance(values, dict) or not values:
        raise BadRequest("expected 'values': a non-empty object of property values")
    return values


class _Watcher:
    """Follows one thing for one connection: which properties and events it subscribed to."""

    def __init__(self, connection: Connection, served: ServedThing) -> None:
        self.connection = connection
        self.served = served
        # name -> (operation that subscribed, its correlationID): the last subscription wins.
        self.properties: dict[str, tuple[str, str | None]] = {}
        self.events: dict[str, tuple[str, str | None]] = {}

    def update(self) -> None:
        """Observe the thing while anything is subscribed, and only then."""
        if self.properties or self.events:
            self.served.thing.add_observer(self)
        else:
            self.served.thing.remove_observer(self)

    def property_changed(self, thing: Thing, prop: Property) -> None:
        """Notify an observed property's new value."""
        subscription = self.properties.get(prop.name)
        if subscription is not None:
            operation, correlation = subscription
            message = self.connection.message(
                self.served,
                "notification",
                operation,
                correlation,
                name=prop.name,
                value=prop.value.last_value,
            )
            # State, not history: a connection behind gets the latest value of each property.
            self.connection.outbox.put_state((self.served.thing.id, prop.name), message)

    def action_changed(self, thing: Thing, action: Action) -> None:
        """Action progress is queried, not pushed, in this protocol."""

    def event_raised(self, thing: Thing, event: Event) -> None:
        """Notify a subscribed event."""
        subscription = self.events.get(event.name)
        if subscription is not None:
            operation, correlation = subscription
            members: dict[str, Any] = {"name": event.name}
            if event.data is not None:
                members["data"] = event.data
            message = self.connection.message(
                self.served, "notification", operation, correlation, **members
            )
            self.connection.outbox.put(message)


Handler = Callable[["Connection", ServedThing, dict[str, Any]], Awaitable[None]]


class Connection:
    """One ``webthingprotocol`` websocket: its outgoing queue, subscriptions and tasks."""

    def __init__(self, state: AppState, default: ServedThing) -> None:
        self.state = state
        self.default = default
        limits = state.options.limits
        self.outbox: Outbox[str] = Outbox(
            limits.max_queued, limits.max_queued_bytes, limits.max_replies
        )
        self.watchers: dict[int, _Watcher] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    # -- sending ------------------------------------------------------------------

    def message(
        self,
        served: ServedThing,
        message_type: str,
        operation: str | None,
        correlation: str | None,
        **members: Any,
    ) -> str:
        """A message of this protocol, encoded."""
        message: dict[str, Any] = {
            "thingID": served.thing.id,
            "messageID": str(uuid.uuid4()),
            "messageType": message_type,
            "operation": operation,
            **members,
            "timestamp": timestamp(),
        }
        if correlation is not None:
            message["correlationID"] = correlation
        return dumps(message).decode()

    def respond(self, served: ServedThing, request: dict[str, Any], **members: Any) -> None:
        """Queue the response to ``request`` (never dropped: the socket waits for room)."""
        correlation = request.get("correlationID")
        operation = request.get("operation")
        message = self.message(
            served,
            "response",
            operation if isinstance(operation, str) else None,
            correlation if isinstance(correlation, str) else None,
            **members,
        )
        self.outbox.put_reply(message)

    def fail(self, served: ServedThing, request: Any, error: ThingtalkError) -> None:
        """Queue an error response to ``request`` (which may be malformed)."""
        request = request if isinstance(request, dict) else {}
        members: dict[str, Any] = {}
        if isinstance(request.get("name"), str):
            members["name"] = request["name"]
        self.respond(served, request, **members, error=wtp_problem(error))

    # -- receiving ----------------------------------------------------------------

    def resolve(self, thing_id: Any) -> ServedThing:
        """The served thing a request names (the socket's own when it names none)."""
        if thing_id is None:
            return self.default
        for served in self.state.served:
            if served.thing.id == thing_id:
                return served
        raise NotFound(f"no thing with id {thing_id!r} is served here")

    def watcher(self, served: ServedThing) -> _Watcher:
        """This connection's watcher of ``served``."""
        index = self.state.served.index(served)
        if index not in self.watchers:
            self.watchers[index] = _Watcher(self, served)
        return self.watchers[index]

    async def handle(self, raw: str | bytes) -> None:
        """Carry out one request; answer malformed or failing ones with an error response."""
        served = self.default
        message: Any = None
        limit = self.state.options.max_body_size
        try:
            if len(raw) > limit:
                raise PayloadTooLarge(f"message of {len(raw)} bytes; the limit is {limit}")
            message = loads(raw, self.state.options.limits.max_json_depth)
            if not isinstance(message, dict):
                raise BadRequest("a message must be a JSON object")
            served = self.resolve(message.get("thingID"))
            if message.get("messageType") != "request":
                raise BadRequest("a consumer sends messages with messageType 'request'")
            handler = HANDLERS.get(message.get("operation"))  # type: ignore[arg-type]
            if handler is None:
                raise BadRequest(f"unknown operation {message.get('operation')!r}")
            await handler(self, served, message)
        except ThingtalkError as error:
            self.fail(served, message, error)
        except Exception:
            # A device that failed (a bug, not the client's doing) must not end the socket.
            log.exception("web thing protocol request to %r failed", served.thing)
            self.fail(served, message, ThingtalkError("the thing failed to carry out the request"))

    def spawn(self, coro: Awaitable[None]) -> None:
        """Run ``coro`` as a task the connection keeps and cancels when it closes."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        """Drop the subscriptions and stop waiting for synchronous actions."""
        for watcher in self.watchers.values():
            watcher.served.thing.remove_observer(watcher)
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


# -- operations ---------------------------------------------------------------------


async def _read_property(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    name = _name(m)
    c.respond(served, m, name=name, value=served.thing.get_property(name))


async def _write_property(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    name = _name(m)
    if "value" not in m:
        raise BadRequest("a writeproperty request needs a 'value'")
    await served.thing.set_property(name, m["value"])
    c.respond(served, m, name=name, value=served.thing.get_property(name))


async def _read_all(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    c.respond(served, m, values=served.thing.get_properties())


async def _read_multiple(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    names = m.get("names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise BadRequest("expected 'names': a non-empty array of property names")
    for name in names:
        if not served.thing.has_property(name):
            raise BadRequest(f"no property found with the name {name!r}")
    c.respond(served, m, values={n: served.thing.get_property(n) for n in names})


async def _write_multiple(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    values = _values(m)
    for name in values:
        if not served.thing.has_property(name):
            raise BadRequest(f"no property found with the name {name!r}")
    await served.thing.set_properties(values)
    c.respond(served, m, values={n: served.thing.get_property(n) for n in values})


async def _write_all(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    values = _values(m)
    writable = {n for n, p in served.thing.properties.items() if not p.read_only}
    missing = sorted(writable - set(values))
    if missing:
        raise BadRequest(f"writeallproperties needs a value for every writable property: {missing}")
    await _write_multiple(c, served, m)


def _subscribe(
    c: Connection, served: ServedThing, m: dict[str, Any], kind: str, names: list[str]
) -> None:
    watcher = c.watcher(served)
    table = watcher.properties if kind == "property" else watcher.events
    correlation = m.get("correlationID")
    for name in names:
        table[name] = (m["operation"], correlation if isinstance(correlation, str) else None)
    watcher.update()


def _unsubscribe(c: Connection, served: ServedThing, kind: str, names: list[str] | None) -> None:
    watcher = c.watcher(served)
    table = watcher.properties if kind == "property" else watcher.events
    if names is None:
        table.clear()
    for name in names or ():
        table.pop(name, None)
    watcher.update()


async def _observe(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    name = _name(m)
    served.thing.find_property(name)
    _subscribe(c, served, m, "property", [name])
    c.respond(served, m, name=name)


async def _unobserve(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    name = _name(m)
    served.thing.find_property(name)
    _unsubscribe(c, served, "property", [name])
    c.respond(served, m, name=name)


async def _observe_all(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    _subscribe(c, served, m, "property", list(served.thing.properties))
    c.respond(served, m)


async def _unobserve_all(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    _unsubscribe(c, served, "property", None)
    c.respond(served, m)


async def _subscribe_event(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    name = _name(m)
    served.thing.find_available_event(name)
    _subscribe(c, served, m, "event", [name])
    c.respond(served, m, name=name)


async def _unsubscribe_event(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    name = _name(m)
    served.thing.find_available_event(name)
    _unsubscribe(c, served, "event", [name])
    c.respond(served, m, name=name)


async def _subscribe_all(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    _subscribe(c, served, m, "event", list(served.thing.available_events))
    c.respond(served, m)


async def _unsubscribe_all(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    _unsubscribe(c, served, "event", None)
    c.respond(served, m)


async def _invoke(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    name = _name(m)
    available = served.thing.find_available_action(name)
    action = served.thing.perform_action(name, m.get("input"))
    if not w3c.is_synchronous(available.metadata):
        c.respond(served, m, name=name, status=w3c.action_status(action))
        return

    async def finish() -> None:
        # Waited for in a task of its own, so the socket keeps serving meanwhile.
        await action.done.wait()
        error = w3c.action_error(action)
        if error is not None:
            c.respond(served, m, name=name, error=error)
        else:
            members = {} if action.output is None else {"output": action.output}
            c.respond(served, m, name=name, **members)

    c.spawn(finish())


def _find_action(served: ServedThing, m: dict[str, Any]) -> Action:
    action_id = m.get("actionID")
    if not isinstance(action_id, str):
        raise BadRequest(f"a {m.get('operation')} request needs a string 'actionID'")
    action = served.thing.actions.get(action_id)
    if action is None:
        raise NotFound(f"no action instance with the actionID {action_id!r}")
    return action


async def _query(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    action = _find_action(served, m)
    c.respond(served, m, name=action.name, status=w3c.action_status(action))


async def _cancel(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    action = _find_action(served, m)
    await served.thing.remove_action(action.name, action.id)
    c.respond(served, m, name=action.name, actionID=action.id)


async def _query_all(c: Connection, served: ServedThing, m: dict[str, Any]) -> None:
    c.respond(served, m, statuses=w3c.all_action_statuses(served.thing))


HANDLERS: dict[str, Handler] = {
    "readproperty": _read_property,
    "writeproperty": _write_property,
    "readallproperties": _read_all,
    "readmultipleproperties": _read_multiple,
    "writeallproperties": _write_all,
    "writemultipleproperties": _write_multiple,
    "observeproperty": _observe,
    "unobserveproperty": _unobserve,
    "observeallproperties": _observe_all,
    "unobserveallproperties": _unobserve_all,
    "invokeaction": _invoke,
    "queryaction": _query,
    "cancelaction": _cancel,
    "queryallactions": _query_all,
    "subscribeevent": _subscribe_event,
    "unsubscribeevent": _unsubscribe_event,
    "subscribeallevents": _subscribe_all,
    "unsubscribeallevents": _unsubscribe_all,
}


# -- the socket -----------------------------------------------------------------------


async def serve(thing_id: int | None = None) -> None:
    """Serve one ``webthingprotocol`` client until it leaves."""
    state = app_state(current_app)
    try:
        served = state.resolve(thing_id)
    except NotFound:
        await websocket.close(1008)
        return
    await websocket.accept(subprotocol=SUBPROTOCOL)
    connection = Connection(state, served)
    try:
        await pump(connection.handle, connection.outbox, state.options.limits, state.stopping)
    finally:
        await connection.close()
