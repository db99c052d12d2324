"""Events a thing raises."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from .timestamp import now, precise_timestamp, timestamp

if TYPE_CHECKING:
    from datetime import datetime

    from .thing import Thing


class Event:
    """One occurrence of an event, with optional data.

    ``id`` tells two occurrences apart for a consumer that deduplicates; ``time`` is the
    WebThings timestamp (whole seconds), ``moment`` the exact time it stands for.
    """

    __slots__ = ("data", "id", "moment", "name", "thing", "time")

    def __init__(self, thing: Thing, name: str, data: Any = None, id_: str | None = None) -> None:
        self.thing = thing
        self.name = name
        self.data = data
        self.id = id_ or uuid.uuid4().hex
        self.moment: datetime = now()
        self.time = timestamp(self.moment)

    @property
    def precise_time(self) -> str:
        """``moment`` with microseconds: unique among a thing's events (see Thing.add_event)."""
        return precise_timestamp(self.moment)
