"""A property: a named, described, validated :class:`~thingtalk.value.Value` of a thing."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import ReadOnly
from .validation import Schema
from .value import Value

if TYPE_CHECKING:
    from .thing import Thing


class Property:
    """A property of a thing.

    ``metadata`` is its data schema (``type``, ``minimum``, ``maximum``, ``enum``,
    ``multipleOf``, ``readOnly`` and any other JSON-Schema keyword) plus annotations
    (``@type``, ``title``, ``description``, ``unit``). Every write is checked against it
    before anything changes.
    """

    def __init__(self, name: str, value: Value, metadata: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.value = value
        self.metadata: dict[str, Any] = copy.deepcopy(dict(metadata or {}))
        self.schema = Schema(self.metadata, what=f"property {name!r}")
        self.thing: Thing | None = None

    def bind(self, thing: Thing) -> None:
        """Attach to ``thing``: wire the value's events to its notify and action hooks."""
        if self.thing is not None:
            raise ValueError(f"property {self.name!r} already belongs to a thing")
        self.thing = thing
        self.value.on("update", self._on_update)
        self.value.on("sync", self._on_sync)

    def unbind(self) -> None:
        """Detach from the thing: the value's events no longer reach it."""
        self.value.remove_listener("update", self._on_update)
        self.value.remove_listener("sync", self._on_sync)
        self.thing = None

    def _on_update(self, _value: Any) -> None:
        assert self.thing is not None
        self.thing.property_notify(self)
        self.thing.spawn(self.thing.property_action(self), name=f"property_action {self.name}")

    def _on_sync(self, _value: Any) -> None:
        assert self.thing is not None
        self.thing.property_notify(self)

    @property
    def read_only(self) -> bool:
        """True when clients may not write this property."""
        return bool(self.metadata.get("readOnly", False))

    def validate(self, value: Any) -> Any:
        """The value a client's write stores, in the declared type (``73.0`` becomes ``73`` for
        an ``integer``); :class:`~thingtalk.errors.InvalidValue` or :class:`ReadOnly` for a bad
        write."""
        if self.read_only:
            raise ReadOnly(f"property {self.name!r} is read-only")
        return self.schema.admit(value, what=f"value for property {self.name!r}")

    def get_value(self) -> Any:
        """The current value."""
        return self.value.get()

    async def set_value(self, value: Any, *, with_action: bool = True) -> None:
        """Validate, then set: with an action, drive the device and emit ``"update"``;
        without, store it and emit ``"sync"``."""
        value = self.schema.admit(value, what=f"value for property {self.name!r}")
        await self.value.set(value, with_action=with_action)
