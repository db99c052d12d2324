"""What is stored, served and saved has the declared type: ``73.0`` for an integer is ``73``."""

from __future__ import annotations

from typing import Any

import pytest

from thingtalk import Action, Property, Thing, Value
from thingtalk.errors import InvalidValue

from .conftest import Recorder, wait

INTEGER = {"type": "integer", "minimum": 0, "maximum": 100}


class Remember(Action):
    """An action that keeps the input it was given."""

    async def perform_action(self) -> Any:
        return self.input


async def thing_with(metadata: dict[str, Any], initial: Any = 0) -> tuple[Thing, list[Any]]:
    driven: list[Any] = []
    thing = Thing(title="T")
    await thing.add_property(Property("p", Value(initial, driven.append), metadata))
    return thing, driven


@pytest.mark.parametrize(("sent", "stored"), [(73.0, 73), (1e2, 100), (-0.0, 0), (5, 5)])
async def test_an_integral_float_is_stored_as_an_integer(sent: float, stored: int) -> None:
    thing, driven = await thing_with(INTEGER)
    recorder = Recorder()
    thing.add_observer(recorder)
    await thing.set_property("p", sent)
    for seen in (thing.get_property("p"), driven[-1], recorder.properties[-1][1]):
        assert seen == stored and type(seen) is int


async def test_a_fraction_is_still_refused_and_changes_nothing() -> None:
    thing, driven = await thing_with(INTEGER, 10)
    with pytest.raises(InvalidValue, match="is not of type 'integer'"):
        await thing.set_property("p", 73.5)
    assert thing.get_property("p") == 10 and driven == []


async def test_numbers_and_untyped_values_are_left_as_they_came() -> None:
    thing, _ = await thing_with({"type": "number"}, 1.5)
    await thing.set_property("p", 2.0)
    assert type(thing.get_property("p")) is float
    loose, _ = await thing_with({"type": ["integer", "number"]})
    await loose.set_property("p", 2.0)
    assert type(loose.get_property("p")) is float
    untyped, _ = await thing_with({"title": "anything"})
    await untyped.set_property("p", 2.0)
    assert type(untyped.get_property("p")) is float


async def test_batch_writes_and_syncs_store_the_declared_type() -> None:
    thing, _ = await thing_with(INTEGER)
    await thing.set_properties({"p": 40.0})
    assert type(thing.get_property("p")) is int
    await thing.sync_property("p", 41.0)
    assert thing.get_property("p") == 41 and type(thing.get_property("p")) is int


async def test_nested_objects_and_arrays_follow_their_schemas() -> None:
    schema = {
        "type": "object",
        "properties": {
            "level": {"type": "integer"},
            "ratio": {"type": "number"},
            "steps": {"type": "array", "items": {"type": "integer"}},
            "pair": {"type": "array", "items": [{"type": "integer"}, {"type": "number"}]},
            "more": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    }
    thing, _ = await thing_with(schema, {})
    await thing.set_property(
        "p",
        {
            "level": 3.0,
            "ratio": 3.0,
            "steps": [1.0, 2.0],
            "pair": [4.0, 4.0, 4.0],
            "more": {"x": 6.0},
            "extra": 7.0,
        },
    )
    value = thing.get_property("p")
    assert value == {
        "level": 3,
        "ratio": 3.0,
        "steps": [1, 2],
        "pair": [4, 4.0, 4.0],
        "more": {"x": 6},
        "extra": 7.0,
    }
    assert [type(v) for v in (value["level"], value["ratio"], value["extra"])] == [
        int,
        float,
        float,
    ]
    assert [type(v) for v in value["pair"]] == [int, float, float]
    assert type(value["more"]["x"]) is int


async def test_action_input_is_conformed_to_its_schema() -> None:
    thing = Thing(title="T")
    schema = {
        "type": "object",
        "required": ["brightness", "duration"],
        "properties": {"brightness": INTEGER, "duration": {"type": "integer", "minimum": 1}},
    }
    thing.add_available_action("fade", {"input": schema}, Remember)
    action = thing.perform_action("fade", {"brightness": 80.0, "duration": 1e1})
    await wait(action.done.wait())
    assert action.input == {"brightness": 80, "duration": 10}
    assert [type(v) for v in action.output.values()] == [int, int]
