"""Events: recording, bounded history, unknown names."""

from __future__ import annotations

import pytest

from thingtalk import Thing
from thingtalk.descriptions.webthings import event_description
from thingtalk.errors import NotFound

from .conftest import TIMESTAMP, Recorder


def test_raise_event_records_it_with_a_timestamp(recorder: Recorder) -> None:
    thing = Thing()
    thing.add_available_event("overheated", {"type": "number", "unit": "degree celsius"})
    thing.add_observer(recorder)

    event = thing.raise_event("overheated", 102)

    assert list(thing.get_events()) == [event]
    assert TIMESTAMP.fullmatch(event.time)
    assert event_description(event) == {"overheated": {"timestamp": event.time, "data": 102}}
    assert recorder.events == [("overheated", 102)]


def test_an_event_without_data_has_no_data_field() -> None:
    thing = Thing()
    thing.add_available_event("ping")
    description = event_description(thing.raise_event("ping"))
    assert set(description["ping"]) == {"timestamp"}


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
