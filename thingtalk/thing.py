"""The thing: properties, actions and events under one identity."""

from __future__ import annotations

import asyncio
import builtins
import functools
import inspect
import logging
import re
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Protocol, Self

from .action import Action
from .errors import BadRequest, Busy, DeviceError, NotFound, ThingtalkError
from .event import Event
from .loops import DONE, call_in, foreign
from .property import Property
from .timestamp import timestamp
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
    # webthing-python's action classes take ``(thing, input_)``; ours ``(thing, name, input_)``.
    named: bool = True

    def make(self, thing: Thing, input_: Any) -> Action:
        """A new request of this action."""
        if self.named:
            return self.cls(thing, self.name, input_)
        make: Callable[..., Action] = self.cls  # webthing-python's own signature
        return make(thing, input_=input_)


def _takes_name(cls: builtins.type[Action]) -> bool:
    """Whether ``cls`` is made as ``cls(thing, name, input_)`` (or ``cls(thing, input_=...)``)."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(None, "name", None)
    except TypeError:
        try:
            signature.bind(None, input_=None)
        except TypeError:
            return True  # neither: let the call itself say what is wrong
        return False
    return True


def _types(types: Any) -> list[str]:
    """A thing's ``@type`` as a list of strings.

    Also takes what the seed's README writes, ``type = ['OnOffSwitch', 'Light'],`` (the
    trailing comma makes it a tuple holding the list).
    """
    if isinstance(types, str):
        return [types]
    flat: list[str] = []
    for item in types:
        flat.extend(_types(item))
    return flat


def _text(text: Any) -> str:
    """A description; a tuple of strings (``description = 'A lamp',``) is joined."""
    if isinstance(text, tuple):
        return " ".join(str(part) for part in text)
    return str(text)


async def _drive(prop: Property, value: Any) -> None:
    try:
        await prop.value.set(value)
    except ThingtalkError:
        raise
    except Exception as exc:
        reason = str(exc) or type(exc).__name__
        raise DeviceError(f"the device did not take {prop.name!r} = {value!r}: {reason}") from exc


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
    # A tuple is accepted too: the seed's README writes `type = ['OnOffSwitch', 'Light'],`.
    type: ClassVar[Sequence[Any] | str] = []
    description: ClassVar[str | tuple[str, ...]] = ""

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
        self.title: str = _text(title)  # type: ignore[misc]
        self.id: str = id_ or cls.id or f"urn:dev:ops:{_slug(self.title)}"  # type: ignore[misc]
        self.type: list[str] = _types(types)  # type: ignore[misc]
        self.description: str = _text(  # type: ignore[misc]
            description if description is not None else cls.description
        )
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
        self.event_loop: asyncio.AbstractEventLoop | None = None  # the loop serving it
        self._built = False
        self._build_lock = asyncio.Lock()
        # Seed programs wire `property_action` to their values themselves, beside the
        # property's own wiring: one change still calls the hook once (see _once_per_change).
        self.property_action = self._once_per_change(  # type: ignore[method-assign, assignment]
            self.property_action
        )

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
        self._adopt(asyncio.get_running_loop())
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

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """Live on ``loop``: calls from other threads are run there."""
        self.event_loop = loop
        for prop in self.properties.values():
            prop.value.loop = loop

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

    def add_property(self, prop: Property) -> Awaitable[None]:
        """Add a property; its value changes now reach this thing's observers.

        Takes effect at once: ``await self.add_property(p)`` (the seed's way, in ``build``)
        and ``thing.add_property(p)`` (webthing-python's, anywhere) do the same.
        """
        if prop.name in self.properties:
            raise ValueError(f"{self!r} already has a property {prop.name!r}")
        prop.bind(self)
        if self.event_loop is not None:
            prop.value.loop = self.event_loop
        self.properties[prop.name] = prop
        return DONE

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

    def set_property(self, name: str, value: Any) -> Coroutine[Any, Any, None]:
        """A client's write: refuse read-only or invalid values, then drive the device.

        A forwarder that raises leaves the value as it was; the client gets a
        :class:`DeviceError` with the device's message (or the library error it raised).
        Await it; from a worker thread (a synchronous action) call it without ``await``:
        it runs on the thing's loop and returns once done.
        """
        prop = self.find_property(name)
        value = prop.validate(value)
        loop = prop.value.loop
        if foreign(loop):
            assert loop is not None
            call_in(loop, _drive, prop, value)
            return DONE
        return _drive(prop, value)

    async def set_properties(self, values: Mapping[str, Any]) -> None:
        """Several writes at once: all are checked before any is applied."""
        props = [(self.find_property(name), value) for name, value in values.items()]
        props = [(prop, prop.validate(value)) for prop, value in props]
        for prop, value in props:
            await _drive(prop, value)

    def sync_property(self, name: str, value: Any) -> Coroutine[Any, Any, None]:
        """Record a value the device already has (cloud, MQTT): no forwarder, emits ``"sync"``.

        Await it, or call it from another thread (an MQTT client's)."""
        return self.find_property(name).set_value(value, with_action=False)

    def property_notify(self, prop: Property) -> None:
        """Tell observers that ``prop`` changed (once per change, however often asked)."""
        change = prop.value.emitting
        if change is not None:
            if prop.notified == change:
                return
            prop.notified = change
        for observer in list(self.observers):
            self._call(observer.property_changed, prop)

    async def property_action(self, prop: Property) -> None:
        """Hook called after a client changed ``prop``: override to push it to a device."""

    def _once_per_change(
        self, hook: Callable[[Property], Awaitable[None]]
    ) -> Callable[[Property], Awaitable[None]]:
        @functools.wraps(hook)
        def once(prop: Property) -> Awaitable[None]:
            change = prop.value.emitting
            if change is not None:
                if prop.acted == change:
                    return DONE
                prop.acted = change
            return hook(prop)

        return once

    # -- actions ------------------------------------------------------------------

    def add_available_action(
        self, name: str, metadata: Mapping[str, Any] | None, cls: builtins.type[Action]
    ) -> Awaitable[None]:
        """Offer action ``name``; requests are instances of ``cls`` (made as ``cls(thing, name,
        input_)``, or ``cls(thing, input_=...)`` for webthing-python's action classes)."""
        meta = dict(metadata or {})
        schema = meta.get("input")
        self.available_actions[name] = AvailableAction(
            name,
            meta,
            cls,
            Schema(schema, what=f"input of action {name!r}") if schema else None,
            _takes_name(cls),
        )
        return DONE

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
        action = available.make(self, input_)
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

    def add_available_event(
        self, name: str, metadata: Mapping[str, Any] | None = None
    ) -> Awaitable[None]:
        """Declare event ``name`` with its data schema."""
        self.available_events[name] = dict(metadata or {})
        return DONE

    def find_available_event(self, name: str) -> dict[str, Any]:
        """The metadata of event ``name``, or :class:`NotFound`."""
        try:
            return self.available_events[name]
        except KeyError:
            raise NotFound(f"{self.title!r} has no event {name!r}") from None

    def add_event(self, event: Event) -> Awaitable[None]:
        """Record ``event`` (the history is bounded) and tell observers.

        Takes effect at once (awaiting it, as the seed does, is harmless); from a worker
        thread it is run on the thing's loop.
        """
        if foreign(self.event_loop):
            assert self.event_loop is not None
            call_in(self.event_loop, self._add_event_on_loop, event)
            return DONE
        self.find_available_event(event.name)
        last = self.events[-1].moment if self.events else None
        if last is not None and event.moment <= last:
            # Two events in the same microsecond: keep their precise times apart.
            event.moment = last + timedelta(microseconds=1)
            event.time = timestamp(event.moment)
        self.events.append(event)
        for observer in list(self.observers):
            self._call(observer.event_raised, event)
        return DONE

    async def _add_event_on_loop(self, event: Event) -> None:
        self.add_event(event)

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
