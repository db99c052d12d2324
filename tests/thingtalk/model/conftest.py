"""Shared helpers for the model tests."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from typing import Any

import pytest

from thingtalk import Action, Event, Property, Thing

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")
TIMEOUT = 2.0


async def wait(awaitable: Awaitable[Any]) -> Any:
    """Await with a timeout, so a broken condition fails the test instead of hanging it."""
    return await asyncio.wait_for(awaitable, TIMEOUT)


class Recorder:
    """A ThingObserver that writes down what it hears."""

    def __init__(self) -> None:
        self.properties: list[tuple[str, Any]] = []
        self.actions: list[tuple[str, str]] = []
        self.events: list[tuple[str, Any]] = []

    def property_changed(self, thing: Thing, prop: Property) -> None:
        self.properties.append((prop.name, prop.get_value()))

    def action_changed(self, thing: Thing, action: Action) -> None:
        self.actions.append((action.id, str(action.status)))

    def event_raised(self, thing: Thing, event: Event) -> None:
        self.events.append((event.name, event.data))


class Broken:
    """A ThingObserver whose every call raises."""

    def property_changed(self, thing: Thing, prop: Property) -> None:
        raise RuntimeError("observer broke")

    def action_changed(self, thing: Thing, action: Action) -> None:
        raise RuntimeError("observer broke")

    def event_raised(self, thing: Thing, event: Event) -> None:
        raise RuntimeError("observer broke")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def thing():
    """A bare thing, closed after the test so no task outlives it."""
    t = Thing("urn:dev:test:thing", "Test Thing")
    yield t
    await t.close()
