"""The thing: properties, actions and events under one identity."""

from __future__ import annotations

import asyncio
import builtins
import logging
import re
from collections import OrderedDict, deque
from collections.abc import Coroutine, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self

from .action import Action
from .errors import BadRequest, Busy, NotFound
from .event import Event
from .property import Property
from .validation import Schema

DEFAULT_ACTION_HISTORY = 200
DEFAULT_EVENT_HISTORY = 200


class ThingObserver(Protocol):
    """Something that follows a thing (a websocket, an SSE stream). Calls must not block."""

    def property_changed(self, thing: Thing, prop: Property) -> None: ...

    def action_changed(self, thing: Thing, action: Action) -> None: ...

    def event_raised(self, thing: Thing, event: Event) -> None: ...


@dataclass(frozen=True, slots=True)
class AvailableAction:
    """An action a thing offers: its metadata, input schema and request class."""

    name: str
    metadata: dict[str, Any]
    cls: builtins.type[Action]
    input_schema: Schema | None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "thing"


class Thing:
    """A web thing. Declare one the seed's way::

        class Light(Thing):
            id = "urn:dev:ops:my-lamp-1234"
            title = "My Lamp"
            type = ["OnOffSwitch", "Light"]
            description = "A web connected lamp"

            async def build(self):
                await self.add_property(Property("on", Value(True), {"type": "boolean"}))
                return self

    or pass the same as constructor arguments. ``build`` runs once, when the server starts
    (or when :meth:`ensure_built` is awaited).
    """

    id: ClassVar[str | None] = None
    title: ClassVar[str] = ""
    type: ClassVar[list[str] | str] = []
    description: ClassVar[str] = ""

    def __init__(
        self,
        id_: str | None = None,
        title: str | None = None,
        type_: list[str] | str | None = None,
        description: str | None = None,
        *,
        action_history: int = DEFAULT_ACTION_HISTORY,
        event_history: int = DEFAULT_EVENT_HISTORY,
    ) -> None:
        cls = type(self)
        title = title if title is not None else (cls.title or cls.__name__)
        types = type_ if type_ is not None else cls.type
        # Instance attributes shadow the declarative class attributes of the same names.
        self.title: str = title  # type: ignore[misc]
        self.id: str = id_ or cls.id or f"urn:dev:ops:{_slug(title)}"  # type: ignore[misc]
        self.type: list[str] = [types] if isinstance(types, str) else list(types)  # type: ignore[misc]
        self.description: str = description if description is not None else cls.description  # type: ignore[misc]
        if action_history < 1 or event_history < 1:
            raise ValueError("action_history and event_history must be at least 1")
        self.action_history = action_history
        self.properties: dict[str, Property] = {}
        self.available_actions: dict[str, AvailableAction] = {}
        self.available_events: dict[str, dict[str, Any]] = {}
        self.actions: OrderedDict[str, Action] = OrderedDict()
        self.events: deque[Event] = deque(maxlen=event_history)
        self.observers: set[ThingObserver] = set()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.logger = logging.getLogger(f"thingtalk.thing.{_slug(self.title)}")
        self._built = False
        self._build_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r}>"

    # -- life cycle ---------------------------------------------------------------

    async def build(self) -> Self:
        """Add properties, actions and events. Override it; the default adds nothing."""
        return self

    async def ensure_built(self) -> Self:
        """Run :meth:`build` once; concurrent callers wait for it rather than build again.

        A build that raises leaves the thing as it was before (what it added is removed,
        the tasks it spawned are cancelled) and the error reaches its caller; the next
        caller, one that was waiting included, builds again.
        """
        async with self._build_lock:
            if self._built:
                return self
            before = (
                dict(self.properties),
                dict(self.available_actions),
                dict(self.available_events),
                set(self.tasks),
            )
            try:
                await self.build()
            except BaseException:
                await self._undo_build(*before)
                raise
            self._built = True
        return self

    async def _undo_build(
        self,
        properties: dict[str, Property],
        actions: dict[str, AvailableAction],
        events: dict[str, dict[str, Any]],
        tasks: set[asyncio.Task[Any]],
    ) -> None:
        for name, prop in self.properties.items():
            if name not in properties:
                prop.unbind()
        self.properties, self.available_actions, self.available_events = (
            properties,
            actions,
            events,
        )
        spawned = self.tasks - tasks
        for task in spawned:
            task.cancel()
        await asyncio.gather(*spawned, return_exceptions=True)

    def spawn(
        self, coro: Coroutine[Any, Any, Any], *, name: str | None = None
    ) -> asyncio.Task[Any]:
        """Run ``coro`` as a task the thing keeps until it ends and cancels on :meth:`close`."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.logger.error("task %s failed", task.get_name(), exc_info=task.exception())

    async def close(self) -> None:
        """Cancel running actions and background tasks, and wait for them to stop."""
        for action in list(self.actions.values()):
            if not action.finished:
                await action.cancel()
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- properties ---------------------------------------------------------------

    async def add_property(self, prop: Property) -> None:
        """Add a property; its value changes now reach this thing's observers."""
        if prop.name in self.properties:
            raise ValueError(f"{self!r} already has a property {prop.name!r}")
        prop.bind(self)
        self.properties[prop.name] = prop

    def find_property(self, name: str) -> Property:
        """The property ``name``, or :class:`NotFound`."""
        try:
            return self.properties[name]
        except KeyError:
            raise NotFound(f"{self.title!r} has no property {name!r}") from None

    def has_property(self, name: str) -> bool:
        """True if the thing has a property of that name."""
        return name in self.properties

    def get_property(self, name: str) -> Any:
        """The value of property ``name``."""
        return self.find_property(name).get_value()

    def get_properties(self) -> dict[str, Any]:
        """All property values by name."""
        return {name: prop.value.last_value for name, prop in self.properties.items()}

    async def set_property(self, name: str, value: Any) -> None:
        """A client's write: refuse read-only or invalid values, then drive the device."""
        prop = self.find_property(name)
        await prop.value.set(prop.validate(value))

    async def set_properties(self, values: Mapping[str, Any]) -> None:
        """Several writes at once: all are checked before any is applied."""
        props = [(self.find_property(name), value) for name, value in values.items()]
        props = [(prop, prop.validate(value)) for prop, value in props]
        for prop, value in props:
            await prop.value.set(value)

    async def sync_property(self, name: str, value: Any) -> None:
        """Record a value the device already has (cloud, MQTT): no forwarder, emits ``"sync"``."""
        await self.find_property(name).set_value(value, with_action=False)

    def property_notify(self, prop: Property) -> None:
        """Tell observers that ``prop`` changed."""
        for observer in list(self.observers):
            self._call(observer.property_changed, prop)

    async def property_action(self, prop: Property) -> None:
        """Hook called after a client changed ``prop``: override to push it to a device."""

    # -- actions ------------------------------------------------------------------

    def add_available_action(
        self, name: str, metadata: Mapping[str, Any] | None, cls: builtins.type[Action]
    ) -> None:
        """Offer action ``name``; requests are instances of ``cls``."""
        meta = dict(metadata or {})
        schema = meta.get("input")
        self.available_actions[name] = AvailableAction(
            name, meta, cls, Schema(schema, what=f"input of action {name!r}") if schema else None
        )

    def find_available_action(self, name: str) -> AvailableAction:
        """The action ``name`` the thing offers, or :class:`NotFound`."""
        try:
            return self.available_actions[name]
        except KeyError:
            raise NotFound(f"{self.title!r} has no action {name!r}") from None

    def validate_action_input(self, name: str, input_: Any) -> AvailableAction:
        """Check ``input_`` against the action's input schema; the action must exist."""
        return self._admit_input(name, input_)[0]

    def _admit_input(self, name: str, input_: Any) -> tuple[AvailableAction, Any]:
        # The input as the action will see it: in its schema's types (73.0 -> 73 for integers).
        available = self.find_available_action(name)
        if available.input_schema is not None:
            input_ = available.input_schema.admit(input_, what=f"input of action {name!r}")
        elif input_ is not None:
            raise BadRequest(f"action {name!r} takes no input")
        return available, input_

    def perform_action(self, name: str, input_: Any = None) -> Action:
        """Validate, record and start a request of action ``name``."""
        available, input_ = self._admit_input(name, input_)
        self._make_room_for_action()
        action = available.cls(self, name, input_)
        self.actions[action.id] = action
        self.action_notify(action)
        action.start()
        return action

    def _make_room_for_action(self) -> None:
        # The history is bounded: the oldest finished requests go first; running ones are
        # never dropped, so a full history of running requests refuses new ones.
        while len(self.actions) >= self.action_history:
            oldest = next((a for a in self.actions.values() if a.finished), None)
            if oldest is None:
                raise Busy(f"{len(self.actions)} action requests are still running; try later")
            del self.actions[oldest.id]

    def get_action(self, name: str, action_id: str) -> Action:
        """The request ``action_id`` of action ``name``, or :class:`NotFound`."""
        action = self.actions.get(action_id)
        if action is None or action.name != name:
            raise NotFound(f"no request {action_id!r} of action {name!r}")
        return action

    def get_actions(self, name: str | None = None) -> Iterator[Action]:
        """Requests in the history, oldest first, optionally of one action only."""
        return (a for a in self.actions.values() if name is None or a.name == name)

    async def remove_action(self, name: str, action_id: str) -> None:
        """Cancel the request if it runs, and drop it from the history."""
        action = self.get_action(name, action_id)
        await action.cancel()
        self.actions.pop(action_id, None)

    def action_notify(self, action: Action) -> None:
        """Tell observers that a request changed status."""
        for observer in list(self.observers):
            self._call(observer.action_changed, action)

    # -- events -------------------------------------------------------------------

    def add_available_event(self, name: str, metadata: Mapping[str, Any] | None = None) -> None:
        """Declare event ``name`` with its data schema."""
        self.available_events[name] = dict(metadata or {})

    def find_available_event(self, name: str) -> dict[str, Any]:
        """The metadata of event ``name``, or :class:`NotFound`."""
        try:
            return self.available_events[name]
        except KeyError:
            raise NotFound(f"{self.title!r} has no event {name!r}") from None

    def add_event(self, event: Event) -> None:
        """Record ``event`` (the history is bounded) and tell observers."""
        self.find_available_event(event.name)
        self.events.append(event)
        for observer in list(self.observers):
            self._call(observer.event_raised, event)

    def raise_event(self, name: str, data: Any = None) -> Event:
        """Create and record an event."""
        event = Event(self, name, data)
        self.add_event(event)
        return event

    def get_events(self, name: str | None = None) -> Iterator[Event]:
        """Events in the history, oldest first, optionally of one name only."""
        return (e for e in self.events if name is None or e.name == name)

    # -- observers ----------------------------------------------------------------

    def add_observer(self, observer: ThingObserver) -> None:
        """Start telling ``observer`` about changes."""
        self.observers.add(observer)

    def remove_observer(self, observer: ThingObserver) -> None:
        """Stop telling ``observer`` about changes."""
        self.observers.discard(observer)

    def _call(self, method: Any, arg: Any) -> None:
        # One broken observer must not keep the others (or the device) from hearing.
        try:
            method(self, arg)
        except Exception:
            self.logger.exception("observer %r failed", method)
