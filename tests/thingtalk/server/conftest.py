"""Helpers for the WebThingServer tests: the example lamp, a started app, condition waits."""

from __future__ import annotations

from typing import Any

from tests.support import Blocker, lamp_class
from thingtalk import Action, Thing, WebThingServer


def lamp_server(thing: Thing | None = None, **options: Any) -> WebThingServer:
    """A server of the lamp (or ``thing``) without mDNS."""
    options.setdefault("discovery", False)
    return WebThingServer(thing if thing is not None else lamp_class()(), **options)


class Machine(Thing):
    """A thing with a long-running action, a quick one and an event, for server tests."""

    title = "Machine"
    type = ["Thing"]
    description = "Runs jobs"

    async def build(self) -> Machine:
        self.add_available_action("block", {"title": "Block"}, Blocker)
        self.add_available_action("tick", {"title": "Tick"}, Action)
        self.add_available_event("ticked", {"type": "integer"})
        return self
