"""The outbox alone: latest state per topic, a bounded queue of messages, first-put order."""

from __future__ import annotations

import asyncio
import logging

import pytest

from thingtalk.mqtt.outbox import Outbox, Publication


def take(outbox: Outbox) -> list[tuple[str, bytes]]:
    taken = []
    while (publication := outbox.get_nowait()) is not None:
        taken.append((publication.topic, publication.payload))
    return taken


def test_state_is_conflated_in_place_and_messages_keep_their_order() -> None:
    outbox = Outbox(limit=10)
    outbox.put_state(Publication("t/level", b"1", retain=True))
    outbox.put(Publication("t/events/e", b"a"))
    outbox.put_state(Publication("t/on", b"true", retain=True))
    for level in range(2, 100):
        outbox.put_state(Publication("t/level", str(level).encode(), retain=True))
    outbox.put(Publication("t/events/e", b"b"))
    assert len(outbox) == 4
    # The newest level, in the turn of the first one: a busy topic cannot starve the others.
    assert take(outbox) == [
        ("t/level", b"99"),
        ("t/events/e", b"a"),
        ("t/on", b"true"),
        ("t/events/e", b"b"),
    ]
    assert outbox.superseded == 98


def test_a_full_queue_drops_the_oldest_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "thingtalk.mqtt.outbox")
    outbox = Outbox(limit=3)
    for n in range(10):
        outbox.put(Publication("t/events/e", str(n).encode()))
    assert outbox.dropped == 7
    assert [p for _, p in take(outbox)] == [b"7", b"8", b"9"]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2  # one when dropping starts, one summary when it drained
    assert "dropping the oldest" in messages[0] and "7 messages were dropped" in messages[1]


def test_a_failed_message_goes_back_to_the_front_state_does_not() -> None:
    outbox = Outbox(limit=3)
    outbox.put(Publication("t/events/e", b"2"))
    outbox.put_back(Publication("t/events/e", b"1"))
    outbox.put_back(Publication("t/level", b"5", retain=True))  # re-published on reconnect
    assert take(outbox) == [("t/events/e", b"1"), ("t/events/e", b"2")]


async def test_get_waits_for_a_publication() -> None:
    outbox = Outbox(limit=3)
    waiter = asyncio.create_task(outbox.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    outbox.put_state(Publication("t/on", b"true", retain=True))
    assert (await asyncio.wait_for(waiter, 1)).payload == b"true"
    outbox.put_state(Publication("t/on", b"false", retain=True))
    outbox.clear_state()
    assert outbox.get_nowait() is None
