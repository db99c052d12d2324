"""The hot WebThings operations, defined once: the Quart routes and the lean router both call them.

Each takes the app's :class:`AppState`, the route's ``thing_id`` (None for a single thing) and
the property name, and returns the JSON body of the 200 answer; failures raise the library's
errors, which each entrance turns into the same wire shape (:mod:`.wire`).
"""

from __future__ import annotations

from typing import Any

from ..errors import BadRequest
from .state import AppState
from .wire import dumps, loads


def one_entry(body: Any, what: str) -> tuple[str, Any]:
    """The only ``(name, value)`` of a ``{name: value}`` body; any other shape is a BadRequest."""
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest(f'expected a JSON object with exactly one {what}, like {{"name": ...}}')
    return next(iter(body.items()))


def read_property(state: AppState, thing_id: int | None, name: str) -> bytes:
    """``{name: value}``."""
    thing = state.resolve(thing_id).thing
    return dumps({name: thing.get_property(name)})


def read_properties(state: AppState, thing_id: int | None) -> bytes:
    """All property values."""
    return dumps(state.resolve(thing_id).thing.get_properties())


async def write_property(
    state: AppState, thing_id: int | None, name: str, data: bytes | str
) -> bytes:
    """Set a property from the body ``{name: value}``; answers ``{name: value it now has}``."""
    thing = state.resolve(thing_id).thing
    prop = thing.find_property(name)
    if not data:
        raise BadRequest("the request needs a JSON body")
    key, value = one_entry(loads(data), "property")
    if key != name:
        raise BadRequest(f"the body names property {key!r} but the URL names {name!r}")
    await thing.set_property(name, value)
    return dumps({name: prop.get_value()})
