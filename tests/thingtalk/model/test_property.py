"""Property: wiring to the thing, validation against metadata, read-only, batch writes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from thingtalk import Property, Thing, Value
from thingtalk.errors import DeviceError, InvalidValue, NotFound, ReadOnly

from .conftest import Broken, Recorder, wait


async def add(
    thing: Thing,
    name: str,
    initial: Any,
    metadata: dict[str, Any] | None = None,
    calls: list[Any] | None = None,
) -> Property:
    prop = Property(name, Value(initial, calls.append if calls is not None else None), metadata)
    await thing.add_property(prop)
    return prop


# -- wiring -------------------------------------------------------------------------


class HookThing(Thing):
    """Records property_action calls; the hook waits for a gate so the test sees it running."""

    def __init__(self) -> None:
        super().__init__("urn:dev:test:hook", "Hook")
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()
        self.pushed: list[tuple[str, Any]] = []

    async def property_action(self, prop: Property) -> None:
        self.entered.set()
        await self.gate.wait()
        self.pushed.append((prop.name, prop.get_value()))


@pytest.fixture
async def hook_thing():
    t = HookThing()
    yield t
    await t.close()


async def test_update_reaches_observers_and_the_property_action_hook(
    hook_thing: HookThing, recorder: Recorder
) -> None:
    calls: list[Any] = []
    prop = await add(hook_thing, "on", False, {"type": "boolean"}, calls)
    hook_thing.add_observer(recorder)

    await prop.set_value(True)

    assert calls == [True]
    assert recorder.properties == [("on", True)]
    # The hook runs as a task the thing tracks, not inline and not fire-and-forget.
    await wait(hook_thing.entered.wait())
    running = [t for t in hook_thing.tasks if not t.done()]
    assert len(running) == 1
    hook_thing.gate.set()
    await wait(running[0])
    assert hook_thing.pushed == [("on", True)]
    assert running[0] not in hook_thing.tasks


async def test_set_property_runs_the_hook_too(hook_thing: HookThing) -> None:
    await add(hook_thing, "level", 0, {"type": "integer"})
    hook_thing.gate.set()
    await hook_thing.set_property("level", 7)
    await wait(asyncio.gather(*hook_thing.tasks))
    assert hook_thing.pushed == [("level", 7)]


async def test_sync_reaches_observers_but_not_the_hook(
    hook_thing: HookThing, recorder: Recorder
) -> None:
    calls: list[Any] = []
    prop = await add(hook_thing, "on", False, {"type": "boolean"}, calls)
    hook_thing.add_observer(recorder)

    await prop.set_value(True, with_action=False)

    assert calls == []
    assert prop.get_value() is True
    assert recorder.properties == [("on", True)]
    assert hook_thing.tasks == set()
    assert not hook_thing.entered.is_set()


async def test_external_update_reaches_observers_only_on_change(
    thing: Thing, recorder: Recorder
) -> None:
    calls: list[Any] = []
    prop = await add(thing, "humidity", 40, {"type": "number"}, calls)
    thing.add_observer(recorder)

    await prop.value.notify_of_external_update(41)
    await prop.value.notify_of_external_update(41)

    assert calls == []
    assert recorder.properties == [("humidity", 41)]
    assert thing.get_property("humidity") == 41


async def test_sync_property_skips_the_forwarder_and_notifies(
    thing: Thing, recorder: Recorder
) -> None:
    calls: list[Any] = []
    await add(thing, "on", False, {"type": "boolean"}, calls)
    thing.add_observer(recorder)

    await thing.sync_property("on", True)

    assert calls == []
    assert thing.get_property("on") is True
    assert recorder.properties == [("on", True)]


async def test_sync_property_still_validates(thing: Thing) -> None:
    await add(thing, "level", 5, {"type": "integer", "minimum": 0})
    with pytest.raises(InvalidValue, match="'level'"):
        await thing.sync_property("level", -1)
    assert thing.get_property("level") == 5


async def test_removed_observer_hears_nothing(thing: Thing, recorder: Recorder) -> None:
    prop = await add(thing, "x", 0)
    thing.add_observer(recorder)
    thing.remove_observer(recorder)
    await prop.set_value(1)
    assert recorder.properties == []


async def test_a_raising_observer_does_not_stop_the_others(
    thing: Thing, recorder: Recorder
) -> None:
    calls: list[Any] = []
    prop = await add(thing, "x", 0, None, calls)
    thing.add_observer(Broken())
    thing.add_observer(recorder)
    other = Recorder()
    thing.add_observer(other)

    await prop.set_value(1)

    assert calls == [1]
    assert prop.get_value() == 1
    assert recorder.properties == [("x", 1)]
    assert other.properties == [("x", 1)]


async def test_a_property_belongs_to_one_thing_and_names_are_unique(thing: Thing) -> None:
    prop = await add(thing, "x", 0)
    with pytest.raises(ValueError):
        await thing.add_property(Property("x", Value(1)))
    other = Thing("urn:dev:test:other", "Other")
    with pytest.raises(ValueError):
        await other.add_property(prop)
    assert not other.has_property("x")


async def test_metadata_is_copied(thing: Thing) -> None:
    metadata: dict[str, Any] = {"type": "integer", "maximum": 10}
    await add(thing, "x", 0, metadata)
    metadata["maximum"] = 1000
    with pytest.raises(InvalidValue):
        await thing.set_property("x", 500)


async def test_get_properties_and_unknown_names(thing: Thing) -> None:
    await add(thing, "a", 1)
    await add(thing, "b", "two")
    assert thing.get_properties() == {"a": 1, "b": "two"}
    assert thing.has_property("a") and not thing.has_property("c")
    with pytest.raises(NotFound, match="'c'"):
        thing.get_property("c")
    with pytest.raises(NotFound):
        await thing.set_property("c", 1)
    with pytest.raises(NotFound):
        await thing.sync_property("c", 1)
    with pytest.raises(NotFound):
        await thing.set_properties({"a": 2, "c": 1})
    assert thing.get_property("a") == 1


# -- validation ---------------------------------------------------------------------

# (metadata, values it accepts, values it refuses)
CASES: list[tuple[dict[str, Any], list[Any], list[Any]]] = [
    ({"type": "integer"}, [0, 3, -7], [1.5, True, False, "1", None]),
    ({"type": "boolean"}, [True, False], [1, 0, "true", None]),
    ({"type": "number"}, [1, 1.5, -0.25], [True, "1", None]),
    ({"type": "string"}, ["", "on"], [1, True, None]),
    ({"type": "integer", "minimum": 0, "maximum": 100}, [0, 50, 100], [-1, 101]),
    ({"type": "number", "exclusiveMinimum": 0}, [0.001], [0, -1]),
    ({"type": "string", "enum": ["red", "green"]}, ["red", "green"], ["blue", "Red"]),
    ({"enum": [1, 2]}, [1, 2], [True, 3]),
    ({"type": "integer", "multipleOf": 5}, [0, 5, 100], [3, 101]),
    ({"type": "number", "multipleOf": 0.1}, [0.3, 0.7, 2.3, 1.1, 20], [0.35, 1.05]),
    ({"type": "number", "multipleOf": 0.5}, [1.5, 2], [1.25]),
    ({"type": "string", "pattern": "^[0-9a-f]{6}$"}, ["00ff00"], ["green", "00FF00"]),
    ({"type": "string", "maxLength": 3}, ["abc"], ["abcd"]),
    (
        {"type": "array", "items": {"type": "integer"}, "maxItems": 2},
        [[], [1, 2]],
        [[1, "2"], [1, 2, 3]],
    ),
    (
        {"type": "object", "required": ["r"], "properties": {"r": {"type": "integer"}}},
        [{"r": 1}],
        [{}, {"r": "1"}],
    ),
]


@pytest.mark.parametrize(
    ("metadata", "value"),
    [(m, v) for m, good, _ in CASES for v in good],
)
async def test_valid_values_are_accepted(
    thing: Thing, metadata: dict[str, Any], value: Any
) -> None:
    calls: list[Any] = []
    await add(thing, "p", None, metadata, calls)
    await thing.set_property("p", value)
    assert thing.get_property("p") == value
    assert calls == [value]


@pytest.mark.parametrize(
    ("metadata", "value"),
    [(m, v) for m, _, bad in CASES for v in bad],
)
async def test_invalid_values_are_refused_and_change_nothing(
    thing: Thing, recorder: Recorder, metadata: dict[str, Any], value: Any
) -> None:
    calls: list[Any] = []
    prop = await add(thing, "prop_name", "initial", metadata, calls)
    thing.add_observer(recorder)

    with pytest.raises(InvalidValue) as excinfo:
        await thing.set_property("prop_name", value)
    with pytest.raises(InvalidValue):
        await prop.set_value(value)
    with pytest.raises(InvalidValue):
        await prop.set_value(value, with_action=False)

    assert "'prop_name'" in excinfo.value.message  # the reason names the property
    assert excinfo.value.code == "invalid-value"
    assert excinfo.value.status == 400
    assert thing.get_property("prop_name") == "initial"
    assert calls == []
    assert recorder.properties == []


async def test_the_reason_says_what_is_wrong(thing: Thing) -> None:
    await add(thing, "brightness", 50, {"type": "integer", "minimum": 0, "maximum": 100})
    with pytest.raises(InvalidValue, match=r"brightness.*101.*maximum.*100"):
        await thing.set_property("brightness", 101)


async def test_annotations_alone_accept_anything(thing: Thing) -> None:
    await add(
        thing,
        "p",
        0,
        {"@type": "LevelProperty", "title": "P", "unit": "percent", "description": "d"},
    )
    for value in (1, "x", None, [1], {"a": 1}):
        await thing.set_property("p", value)
        assert thing.get_property("p") == value


def test_a_broken_schema_is_refused_when_the_property_is_made() -> None:
    with pytest.raises(ValueError, match="'p'"):
        Property("p", Value(0), {"type": "integr"})


# -- read-only ----------------------------------------------------------------------


async def test_read_only_refuses_client_writes(thing: Thing, recorder: Recorder) -> None:
    calls: list[Any] = []
    await add(thing, "level", 10, {"type": "number", "readOnly": True}, calls)
    thing.add_observer(recorder)

    with pytest.raises(ReadOnly, match="'level'") as excinfo:
        await thing.set_property("level", 20)
    with pytest.raises(ReadOnly):
        await thing.set_properties({"level": 20})

    assert excinfo.value.status == 400
    assert excinfo.value.code == "read-only"
    assert thing.get_property("level") == 10
    assert calls == []
    assert recorder.properties == []


async def test_read_only_allows_device_updates(thing: Thing, recorder: Recorder) -> None:
    calls: list[Any] = []
    prop = await add(thing, "level", 10, {"type": "number", "readOnly": True}, calls)
    thing.add_observer(recorder)

    await prop.value.notify_of_external_update(11)
    await thing.sync_property("level", 12)
    await prop.set_value(13)  # the device side may also drive it

    assert thing.get_property("level") == 13
    assert calls == [13]
    assert [v for _, v in recorder.properties] == [11, 12, 13]


# -- several at once ----------------------------------------------------------------


async def test_set_properties_applies_all_when_all_are_valid(thing: Thing) -> None:
    calls: list[Any] = []
    await add(thing, "on", False, {"type": "boolean"}, calls)
    await add(thing, "brightness", 0, {"type": "integer", "maximum": 100}, calls)
    await thing.set_properties({"on": True, "brightness": 80})
    assert thing.get_properties() == {"on": True, "brightness": 80}
    assert calls == [True, 80]


async def test_set_properties_applies_nothing_when_one_value_is_bad(
    thing: Thing, recorder: Recorder
) -> None:
    calls: list[Any] = []
    await add(thing, "on", False, {"type": "boolean"}, calls)
    await add(thing, "brightness", 0, {"type": "integer", "maximum": 100}, calls)
    thing.add_observer(recorder)

    with pytest.raises(InvalidValue, match="'brightness'"):
        await thing.set_properties({"on": True, "brightness": 101})

    assert thing.get_properties() == {"on": False, "brightness": 0}
    assert calls == []
    assert recorder.properties == []


async def test_a_failing_hook_is_logged_and_does_not_undo_the_write(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Failing(Thing):
        async def property_action(self, prop: Property) -> None:
            raise OSError("bus error")

    thing = Failing(title="Failing")
    await add(thing, "on", False, {"type": "boolean"})
    await thing.set_property("on", True)
    await wait(asyncio.gather(*thing.tasks, return_exceptions=True))

    assert thing.get_property("on") is True
    assert thing.tasks == set()
    assert any("property_action on" in r.getMessage() for r in caplog.records)
    await thing.close()


async def test_a_device_that_refuses_a_write_keeps_the_value_and_says_why() -> None:
    def jammed(value: Any) -> None:
        raise OSError("the dimmer does not answer")

    thing = Thing(title="Jammed")
    await thing.add_property(Property("level", Value(10, jammed), {"type": "integer"}))
    with pytest.raises(DeviceError, match="'level' = 20: the dimmer does not answer") as excinfo:
        await thing.set_property("level", 20)
    assert excinfo.value.status == 502
    assert isinstance(excinfo.value.__cause__, OSError)
    assert thing.get_property("level") == 10
    with pytest.raises(DeviceError):
        await thing.set_properties({"level": 30})
    assert thing.get_property("level") == 10


async def test_a_library_error_from_the_device_reaches_the_client_as_it_is() -> None:
    def picky(value: Any) -> None:
        raise InvalidValue("the dimmer takes even levels only")

    thing = Thing(title="Picky")
    await thing.add_property(Property("level", Value(10, picky), {"type": "integer"}))
    with pytest.raises(InvalidValue, match="even levels"):
        await thing.set_property("level", 21)
