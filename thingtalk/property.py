"""A property: a named, described, validated :class:`~thingtalk.value.Value` of a thing."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, overload

from .errors import ReadOnly
from .validation import Schema
from .value import Value

if TYPE_CHECKING:
    from .thing import Thing

# The orders a property's arguments come in: this library's (and the thingtalk seed's, whose
# third argument may be the thing), and webthing-python's, which names the thing first.
_ORDERS = {
    "name": ("name", "value", "metadata"),
    "seed": ("name", "value", "thing", "metadata"),
    "webthing": ("thing", "name", "value", "metadata"),
}


def _arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Map a property's arguments, in any of the three orders, to their names."""
    if args and not isinstance(args[0], str):
        order = _ORDERS["webthing"]
    elif len(args) >= 3 and not (args[2] is None or isinstance(args[2], Mapping)):
        order = _ORDERS["seed"]
    else:
        order = _ORDERS["name"]
    if len(args) > len(order):
        raise TypeError(f"Property() takes at most {len(order)} arguments ({len(args)} given)")
    bound = dict(zip(order, args, strict=False))
    for key, value in kwargs.items():
        if key not in _ORDERS["webthing"]:
            raise TypeError(f"Property() got an unexpected keyword argument {key!r}")
        if key in bound:
            raise TypeError(f"Property() got multiple values for argument {key!r}")
        bound[key] = value
    for key in ("name", "value"):
        if key not in bound:
            raise TypeError(f"Property() missing required argument {key!r}")
    return bound


class Property:
    """A property of a thing.

    ``Property(name, value, metadata)``, or webthing-python's ``Property(thing, name, value,
    metadata)``; either way :meth:`Thing.add_property` attaches it. ``metadata`` is its data
    schema (``type``, ``minimum``, ``maximum``, ``enum``, ``multipleOf``, ``readOnly`` and
    any other JSON-Schema keyword) plus annotations (``@type``, ``title``, ``description``,
    ``unit``). Every write is checked against it before anything changes.
    """

    @overload
    def __init__(
        self,
        name: str,
        value: Value,
        metadata: Mapping[str, Any] | None = None,
        *,
        thing: Thing | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self, thing: Thing, name: str, value: Value, metadata: Mapping[str, Any] | None = None
    ) -> None: ...

    @overload
    def __init__(
        self, name: str, value: Value, thing: Thing, metadata: Mapping[str, Any] | None = None
    ) -> None: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        bound = _arguments(args, kwargs)
        name: str = bound["name"]
        self.name = name
        self.value: Value = bound["value"]
        self.metadata: dict[str, Any] = copy.deepcopy(dict(bound.get("metadata") or {}))
        self.schema = Schema(self.metadata, what=f"property {name!r}")
        # The thing it is meant for (webthing-python names it here); attached by add_property.
        self.thing: Thing | None = bound.get("thing")
        self.bound = False
        # The last change of the value this property told its thing about (see Thing).
        self.notified: int | None = None
        self.acted: int | None = None

    def bind(self, thing: Thing) -> None:
        """Attach to ``thing``: wire the value's events to its notify and action hooks."""
        if self.bound:
            raise ValueError(f"property {self.name!r} already belongs to a thing")
        if self.thing is not None and self.thing is not thing:
            raise ValueError(f"property {self.name!r} was made for another thing")
        self.thing = thing
        self.bound = True
        self.value.on("update", self._on_update)
        self.value.on("sync", self._on_sync)

    def unbind(self) -> None:
        """Detach from the thing: the value's events no longer reach it."""
        self.value.remove_listener("update", self._on_update)
        self.value.remove_listener("sync", self._on_sync)
        self.thing = None
        self.bound = False

    def _on_update(self, _value: Any) -> None:
        assert self.thing is not None
        self.thing.property_notify(self)
        action = self.thing.property_action(self)
        if inspect.iscoroutine(action):
            self.thing.spawn(action, name=f"property_action {self.name}")

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

    def set_value(self, value: Any, *, with_action: bool = True) -> Coroutine[Any, Any, None]:
        """Validate, then set: with an action, drive the device and emit ``"update"``;
        without, store it and emit ``"sync"``. Await it, or call it from a worker thread."""
        value = self.schema.admit(value, what=f"value for property {self.name!r}")
        return self.value.set(value, with_action=with_action)
