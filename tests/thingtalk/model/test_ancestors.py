"""The model takes the ancestors' calls: webthing-python's and the thingtalk seed's.

webthing-python: ``Property(thing, name, value, metadata)``, ``thing.add_property(p)``
without ``await``, ``Action.__init__(self, id_, thing, name, input_)``, action classes made
as ``cls(thing, input_=...)``, and a blocking ``perform_action`` that calls the thing's
setters from its thread. The seed: ``type = [...],`` class attributes, ``await`` on
``add_property`` and ``add_event``, async ``Value.on`` listeners, and its three
``self.value.on(...)`` lines in a Property subclass.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from typing import Any

import pytest

from tests.support import eventually
from thingtalk import Action, Event, Property, Thing, Value

from .conftest import Recorder, wait

LEVEL = {"type": "integer", "minimum": 0, "maximum": 100}


# -- Property and add_property ----------------------------------------------------------


def test_a_property_may_name_its_thing_first_as_in_webthing_python() -> None:
    thing = Thing("urn:dev:ops:t", "T")
    prop = Property(thing, "level", Value(5), metadata=LEVEL)
    assert (prop.name, prop.get_value(), prop.metadata) == ("level", 5, LEVEL)
    result = thing.add_property(prop)  # no await: it takes effect at once
    assert thing.find_property("level") is prop and prop.thing is thing
    assert result is not None  # an awaitable that is harmless to drop (no warning)


def test_the_seed_order_and_keywords_are_accepted_too() -> None:
    thing = Thing("urn:dev:ops:t", "T")
    seed = Property("a", Value(1), thing, LEVEL)  # the seed: (name, value, thing, metadata)
    keywords = Property(name="b", value=Value(2), metadata=LEVEL, thing=thing)
    plain = Property("c", Value(3), LEVEL)
    for prop in (seed, keywords, plain):
        thing.add_property(prop)
        assert prop.thing is thing and prop.metadata == LEVEL


def test_wrong_property_arguments_are_type_errors() -> None:
    with pytest.raises(TypeError, match="value"):
        Property("a")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="unexpected keyword"):
        Property("a", Value(1), colour="red")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="multiple values"):
        Property("a", Value(1), name="b")  # type: ignore[call-overload]


def test_a_property_made_for_one_thing_cannot_join_another() -> None:
    one, other = Thing("urn:dev:ops:one", "One"), Thing("urn:dev:ops:other", "Other")
    prop = Property(one, "level", Value(5))
    with pytest.raises(ValueError, match="another thing"):
        other.add_property(prop)


async def test_add_property_may_still_be_awaited() -> None:
    thing = Thing("urn:dev:ops:t", "T")
    await thing.add_property(Property("level", Value(5), LEVEL))
    await thing.add_available_action("noop", None, Action)
    await thing.add_available_event("ping")
    await thing.add_event(Event(thing, "ping"))
    assert thing.get_property("level") == 5 and [e.name for e in thing.get_events()] == ["ping"]


def test_the_seeds_class_attributes_with_trailing_commas() -> None:
    class Light(Thing):
        type = (["OnOffSwitch", "Light"],)  # the README's `type = ['OnOffSwitch', 'Light'],`
        description = ("A web connected lamp",)

    light = Light("urn:dev:ops:my-lamp-1234", "My Lamp")
    assert light.type == ["OnOffSwitch", "Light"]
    assert light.description == "A web connected lamp"


# -- actions ----------------------------------------------------------------------------


class SleepyFade(Action):
    """webthing-python's shape: made with (thing, input_), blocking perform_action."""

    def __init__(self, thing: Thing, input_: Any) -> None:
        Action.__init__(self, uuid.uuid4().hex, thing, "fade", input_=input_)
        self.thread: int | None = None

    def perform_action(self) -> None:  # type: ignore[override]
        self.thread = threading.get_ident()
        time.sleep(self.input["duration"] / 1000)
        self.thing.set_property("level", self.input["level"])  # type: ignore[unused-coroutine]
        self.thing.add_event(Event(self.thing, "faded", self.input["level"]))


class ThreadWatcher(Recorder):
    """Also records which thread each notification came on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()

    def property_changed(self, thing: Thing, prop: Property) -> None:
        self.threads.add(threading.get_ident())
        super().property_changed(thing, prop)

    def event_raised(self, thing: Thing, event: Event) -> None:
        self.threads.add(threading.get_ident())
        super().event_raised(thing, event)


async def fade_thing() -> Thing:
    thing = Thing("urn:dev:ops:lamp", "Lamp")

    async def build() -> Thing:
        thing.add_property(Property(thing, "level", Value(0), metadata=LEVEL))
        thing.add_available_action(
            "fade",
            # The input allows any level; the property itself refuses what is out of range.
            {"input": {"type": "object", "properties": {"level": {"type": "integer"}}}},
            SleepyFade,
        )
        thing.add_available_event("faded", {"type": "integer"})
        return thing

    thing.build = build  # type: ignore[method-assign]
    return await thing.ensure_built()


def test_action_takes_webthing_pythons_argument_order() -> None:
    thing = Thing("urn:dev:ops:t", "T")
    action = Action("abc123", thing, "fade", {"level": 1})
    assert (action.id, action.thing, action.name, action.input) == (
        "abc123",
        thing,
        "fade",
        {"level": 1},
    )
    ours = Action(thing, "fade", {"level": 1}, "def456")
    assert (ours.id, ours.name, ours.input) == ("def456", "fade", {"level": 1})


async def test_a_blocking_action_runs_in_a_thread_and_its_setters_reach_the_loop() -> None:
    thing = await fade_thing()
    watcher = ThreadWatcher()
    thing.add_observer(watcher)
    try:
        action = thing.perform_action("fade", {"level": 70, "duration": 200})
        assert isinstance(action, SleepyFade)
        # The loop keeps serving while the action sleeps in its thread.
        started = time.monotonic()
        ticks = 0
        while not action.done.is_set():
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks >= 5, "the loop was blocked while the action slept"
        assert time.monotonic() - started >= 0.15
        assert action.status == "completed"
        assert action.thread is not None and action.thread != threading.get_ident()
        assert thing.get_property("level") == 70
        assert watcher.properties == [("level", 70)] and watcher.events == [("faded", 70)]
        assert watcher.threads == {threading.get_ident()}  # observers hear on the loop
    finally:
        await thing.close()


async def test_a_refused_write_from_the_thread_fails_the_request_with_the_reason() -> None:
    thing = await fade_thing()
    try:
        action = thing.perform_action("fade", {"level": 700, "duration": 1})
        await wait(action.done.wait())
        assert action.status == "failed"
        assert action.error is not None and "700" in action.error
        assert thing.get_property("level") == 0
    finally:
        await thing.close()


async def test_values_reported_from_another_thread_reach_observers_on_the_loop() -> None:
    thing = Thing("urn:dev:ops:sensor", "Sensor")
    level = Value(0.0)
    thing.add_property(Property(thing, "level", level, metadata={"type": "number"}))
    await thing.ensure_built()
    watcher = ThreadWatcher()
    thing.add_observer(watcher)
    reporter = threading.Thread(
        target=lambda: [level.notify_of_external_update(v) for v in (1.5, 2.5)]
    )
    reporter.start()
    await asyncio.to_thread(reporter.join)
    assert watcher.properties == [("level", 1.5), ("level", 2.5)]
    assert watcher.threads == {threading.get_ident()}
    assert thing.get_property("level") == 2.5


async def test_notify_of_external_update_needs_no_await_in_the_loop() -> None:
    thing = Thing("urn:dev:ops:sensor", "Sensor")
    level = Value(0.0)
    thing.add_property(Property(thing, "level", level))
    recorder = Recorder()
    thing.add_observer(recorder)
    level.notify_of_external_update(3.5)  # type: ignore[unused-coroutine]  # webthing-python's
    assert recorder.properties == [("level", 3.5)]


# -- listeners --------------------------------------------------------------------------


async def test_async_listeners_run_and_awaiting_the_change_waits_for_them() -> None:
    value = Value(0)
    heard: list[tuple[str, Any]] = []

    async def on_update(v: Any) -> None:
        await asyncio.sleep(0.01)
        heard.append(("update", v))

    async def on_sync(v: Any) -> None:
        heard.append(("sync", v))

    value.on("update", on_update)
    value.on("sync", on_sync)
    await value.set(1)
    assert heard == [("update", 1)]
    await value.notify_of_external_update(2)
    assert heard == [("update", 1), ("sync", 2)]
    value.notify_of_external_update(3)  # type: ignore[unused-coroutine]  # runs unawaited too
    await wait(_until(lambda: ("sync", 3) in heard))


async def test_a_failing_async_listener_is_logged_and_the_change_stands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    value = Value(0)

    async def broken(_: Any) -> None:
        raise RuntimeError("listener broke")

    value.on("update", broken)
    with caplog.at_level(logging.ERROR):
        await value.set(4)
    assert value.get() == 4
    assert "listener broke" in caplog.text


class SeedProperty(Property):
    """The seed README's three lines, copied into a Property subclass."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.value.on("update", lambda _: self.thing.property_notify(self))  # type: ignore[union-attr]
        self.value.on("sync", lambda _: self.thing.property_notify(self))  # type: ignore[union-attr]
        self.value.on("update", lambda _: self.thing.property_action(self))  # type: ignore[union-attr]


class PushingThing(Thing):
    def __init__(self) -> None:
        super().__init__("urn:dev:ops:pushing", "Pushing")
        self.pushed: list[Any] = []

    async def property_action(self, prop: Property) -> None:
        self.pushed.append(prop.get_value())


async def test_the_seeds_listener_lines_do_not_double_notifications() -> None:
    thing = PushingThing()
    recorder = Recorder()
    await thing.add_property(SeedProperty("level", Value(0), LEVEL))
    thing.add_observer(recorder)
    await thing.set_property("level", 10)
    await thing.find_property("level").value.notify_of_external_update(11)
    await thing.sync_property("level", 12)
    await wait(_until(lambda: thing.pushed))
    await asyncio.sleep(0)  # let any second hook task run, were there one
    assert recorder.properties == [("level", 10), ("level", 11), ("level", 12)]
    assert thing.pushed == [10]
    await thing.close()


async def test_property_notify_called_by_hand_still_notifies() -> None:
    thing = Thing("urn:dev:ops:t", "T")
    thing.add_property(Property("level", Value(1)))
    recorder = Recorder()
    thing.add_observer(recorder)
    thing.property_notify(thing.find_property("level"))
    thing.property_notify(thing.find_property("level"))
    assert recorder.properties == [("level", 1), ("level", 1)]


async def _until(condition: Any) -> None:
    await eventually(condition)
