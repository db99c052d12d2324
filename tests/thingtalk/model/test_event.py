"""Events: recording, bounded history, unknown names."""

from __future__ import annotations

import re

import pytest

from thingtalk import Thing
from thingtalk.descriptions.webthings import event_description
from thingtalk.errors import NotFound

from .conftest import TIMESTAMP, Recorder

PRECISE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$")


def test_raise_event_records_it_with_a_timestamp(recorder: Recorder) -> None:
    thing = Thing()
    thing.add_available_event("overheated", {"type": "number", "unit": "degree celsius"})
    thing.add_observer(recorder)

    event = thing.raise_event("overheated", 102)

    assert list(thing.get_events()) == [event]
    assert TIMESTAMP.fullmatch(event.time)
    assert event_description(event) == {
        "overheated": {"timestamp": event.time, "data": 102, "id": event.id}
    }
    assert recorder.events == [("overheated", 102)]


def test_an_event_without_data_has_no_data_field() -> None:
    thing = Thing()
    thing.add_available_event("ping")
    description = event_description(thing.raise_event("ping"))
    assert set(description["ping"]) == {"timestamp", "id"}


def gateway_key(name: str, record: dict) -> str:
    """How the WebThings gateway (thing-url-adapter's createEvent) keys an event it received:
    ``data.id`` when the data has one, else the name and the timestamp."""
    data = record.get("data")
    if isinstance(data, dict) and "id" in data:
        return str(data["id"])
    return f"{name}-{record['timestamp']}"


def test_every_event_has_its_own_id() -> None:
    thing = Thing()
    thing.add_available_event("tick")
    events = [thing.raise_event("tick", 1) for _ in range(50)]
    assert len({e.id for e in events}) == 50
    assert {event_description(e)["tick"]["id"] for e in events} == {e.id for e in events}


def test_precise_times_keep_events_of_one_second_apart_for_the_gateway() -> None:
    thing = Thing()
    thing.add_available_event("tick")
    events = [thing.raise_event("tick", 1) for _ in range(50)]  # well within a second
    plain = {gateway_key("tick", event_description(e)["tick"]) for e in events}
    assert len(plain) < 50  # whole seconds: the gateway would merge them
    precise = [event_description(e, precise=True)["tick"] for e in events]
    assert len({gateway_key("tick", r) for r in precise}) == 50
    stamps = [r["timestamp"] for r in precise]
    assert stamps == sorted(stamps)
    assert all(PRECISE.fullmatch(s) for s in stamps)
    assert all(s[:19] == e.time[:19] for s, e in zip(stamps, events, strict=True))


def test_unknown_event_is_refused_and_not_recorded(recorder: Recorder) -> None:
    thing = Thing()
    thing.add_observer(recorder)
    with pytest.raises(NotFound, match="'nope'"):
        thing.raise_event("nope", 1)
    assert list(thing.get_events()) == []
    assert recorder.events == []


def test_event_history_keeps_only_the_newest() -> None:
    thing = Thing(event_history=3)
    thing.add_available_event("tick")
    thing.add_available_event("tock")
    for i in range(5):
        thing.raise_event("tick", i)
    thing.raise_event("tock", "x")

    assert [(e.name, e.data) for e in thing.get_events()] == [
        ("tick", 3),
        ("tick", 4),
        ("tock", "x"),
    ]
    assert [e.data for e in thing.get_events("tick")] == [3, 4]


def test_event_history_default_is_bounded() -> None:
    thing = Thing()
    thing.add_available_event("tick")
    for i in range(1000):
        thing.raise_event("tick", i)
    events = list(thing.get_events())
    assert 0 < len(events) < 1000
    assert events[-1].data == 999
