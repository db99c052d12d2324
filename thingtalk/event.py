"""Events a thing raises."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .timestamp import timestamp

if TYPE_CHECKING:
    from .thing import Thing


class Event:
    """One occurrence of an event, with optional data."""

    __slots__ = ("data", "name", "thing", "time")

    def __init__(self, thing: Thing, name: str, data: Any = None) -> None:
        self.thing = thing
        self.name = name
        self.data = data
        self.time = timestamp()
