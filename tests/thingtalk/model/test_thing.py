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
