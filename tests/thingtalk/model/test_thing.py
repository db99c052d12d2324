"""Thing declaration, build, close, observers; SingleThing and MultipleThings."""

from __future__ import annotations

import asyncio

import pytest

from thingtalk import MultipleThings, Property, SingleThing, Thing, Value

from .conftest import Broken, Recorder, wait


class Light(Thing):
    id = "urn:dev:ops:my-lamp-1234"
    title = "My Lamp"
    type = ["OnOffSwitch", "Light"]
    description = "A web connected lamp"

    builds = 0

    async def build(self) -> Light:
        type(self).builds += 1
        await self.add_property(
            Property("on", Value(True), {"@type": "OnOffProperty", "type": "boolean"})
        )
        await self.add_property(
            Property("brightness", Value(50), {"type": "integer", "minimum": 0, "maximum": 100})
        )
        self.add_available_event("overheated", {"type": "number"})
        return self


async def test_a_subclass_declared_with_class_attributes() -> None:
    Light.builds = 0
    light = Light()
    assert light.id == "urn:dev:ops:my-lamp-1234"
    assert light.title == "My Lamp"
    assert light.type == ["OnOffSwitch", "Light"]
    assert light.description == "A web connected lamp"
    assert light.properties == {}  # nothing until it is built

    assert await light.ensure_built() is light
    assert await light.ensure_built() is light
    assert Light.builds == 1
    assert light.get_properties() == {"on": True, "brightness": 50}
    assert "overheated" in light.available_events


class SlowFlakyThing(Thing):
    """Its build waits for a gate, then fails the first ``failures`` times, having
    already added a property and spawned a task (as a real build might)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.gate = asyncio.Event()
        self.builds = 0
        self.spawned: list[asyncio.Task[None]] = []

    async def build(self) -> SlowFlakyThing:
        self.builds += 1
        self.level = Value(0)
        await self.add_property(Property("level", self.level, {"type": "integer"}))
        self.spawned.append(self.spawn(asyncio.Event().wait()))
        await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the sensor did not answer")
        self.add_available_event("ready")
        return self


async def test_concurrent_callers_share_one_build() -> None:
    thing = SlowFlakyThing(failures=0)
    callers = [asyncio.ensure_future(thing.ensure_built()) for _ in range(3)]
    await asyncio.sleep(0)  # every caller is now waiting on the one build
    thing.gate.set()
    assert await wait(asyncio.gather(*callers)) == [thing, thing, thing]
    assert thing.builds == 1
    assert list(thing.properties) == ["level"]


async def test_a_failed_build_changes_nothing_and_the_next_call_builds_again() -> None:
    thing = SlowFlakyThing(failures=1)
    thing.gate.set()
    with pytest.raises(RuntimeError, match="did not answer"):
        await thing.ensure_built()
    assert thing.properties == {} and thing.available_events == {}
    first_task = thing.spawned[0]
    assert first_task.cancelled() and first_task not in thing.tasks
    failed_value = thing.level

    assert await thing.ensure_built() is thing
    assert thing.builds == 2
    assert list(thing.properties) == ["level"] and "ready" in thing.available_events
    # The failed build's property no longer reports to the thing.
    recorder = Recorder()
    thing.add_observer(recorder)
    await failed_value.notify_of_external_update(5)
    await thing.level.notify_of_external_update(7)
    assert recorder.properties == [("level", 7)]


async def test_a_waiting_caller_builds_again_after_a_failure() -> None:
    thing = SlowFlakyThing(failures=1)
    first = asyncio.ensure_future(thing.ensure_built())
    second = asyncio.ensure_future(thing.ensure_built())
    await asyncio.sleep(0)
    thing.gate.set()
    with pytest.raises(RuntimeError):
        await wait(first)
    assert await wait(second) is thing
    assert thing.builds == 2


async def test_instances_do_not_share_state() -> None:
    a, b = await Light().ensure_built(), await Light().ensure_built()
    await a.set_property("brightness", 10)
    assert b.get_property("brightness") == 50
    a.type.append("Extra")
    assert Light.type == ["OnOffSwitch", "Light"]
    assert b.type == ["OnOffSwitch", "Light"]


def test_a_single_type_string_becomes_a_list() -> None:
    class Sensor(Thing):
        type = "MultiLevelSensor"

    assert Sensor().type == ["MultiLevelSensor"]


def test_constructor_arguments_override_class_attributes() -> None:
    light = Light("urn:dev:ops:other", "Other Lamp", "Light", "another")
    assert (light.id, light.title, light.type, light.description) == (
        "urn:dev:ops:other",
        "Other Lamp",
        ["Light"],
        "another",
    )


def test_defaults_come_from_the_class_name() -> None:
    class KitchenSensor(Thing):
        pass

    sensor = KitchenSensor()
    assert sensor.title == "KitchenSensor"
    assert sensor.id == "urn:dev:ops:kitchensensor"
    assert sensor.type == []
    assert Thing(title="Living Room Lamp!").id == "urn:dev:ops:living-room-lamp"


def test_histories_must_hold_at_least_one() -> None:
    with pytest.raises(ValueError):
        Thing(action_history=0)
    with pytest.raises(ValueError):
        Thing(event_history=0)


async def test_close_cancels_spawned_tasks() -> None:
    thing = Thing()
    started = asyncio.Event()
    stopped = asyncio.Event()

    async def poll() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    task = thing.spawn(poll(), name="poller")
    await wait(started.wait())
    assert task in thing.tasks

    await wait(thing.close())

    assert task.cancelled()
    assert stopped.is_set()
    assert thing.tasks == set()


async def test_a_finished_task_is_forgotten(thing: Thing) -> None:
    async def quick() -> int:
        return 1

    task = thing.spawn(quick())
    assert await wait(task) == 1
    assert task not in thing.tasks


async def test_observers_hear_properties_actions_and_events_despite_a_broken_one() -> None:
    from thingtalk import Action

    thing = await Light().ensure_built()
    thing.add_available_action("noop", None, Action)
    recorder = Recorder()
    thing.add_observer(Broken())
    thing.add_observer(recorder)

    await thing.set_property("on", False)
    action = thing.perform_action("noop")
    await wait(action.done.wait())
    thing.raise_event("overheated", 102)

    assert recorder.properties == [("on", False)]
    assert [s for _, s in recorder.actions] == ["created", "pending", "completed"]
    assert recorder.events == [("overheated", 102)]
    await thing.close()


def test_single_thing() -> None:
    light = Light()
    single = SingleThing(light)
    assert single.things == [light]
    assert single.name == "My Lamp"


def test_multiple_things_keeps_order_and_needs_one() -> None:
    a, b = Light(), Thing(title="Sensor")
    multiple = MultipleThings([a, b], "My things")
    assert multiple.things == [a, b]
    assert multiple.name == "My things"
    multiple.things.clear()  # a copy: the served list cannot be changed behind its back
    assert multiple.things == [a, b]
    with pytest.raises(ValueError):
        MultipleThings([], "Nothing")
