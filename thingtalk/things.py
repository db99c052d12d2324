"""Which things a server serves: one, or several under one name."""

from __future__ import annotations

from collections.abc import Sequence

from .thing import Thing


class SingleThing:
    """One thing, served at the base path."""

    def __init__(self, thing: Thing) -> None:
        self.thing = thing

    @property
    def things(self) -> list[Thing]:
        """The served things."""
        return [self.thing]

    @property
    def name(self) -> str:
        """The name to advertise."""
        return str(self.thing.title)


class MultipleThings:
    """Several things under one name, served at ``/<index>``."""

    def __init__(self, things: Sequence[Thing], name: str) -> None:
        if not things:
            raise ValueError("MultipleThings needs at least one thing")
        self._things = list(things)
        self.name = name

    @property
    def things(self) -> list[Thing]:
        """The served things, in index order."""
        return list(self._things)


ThingsCollection = SingleThing | MultipleThings
