"""Helpers for the WebThingServer tests: a thing with long-running actions."""

from __future__ import annotations

from tests.support import Blocker
from thingtalk import Action, Thing


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


__all__ = ["Blocker", "Machine"]
