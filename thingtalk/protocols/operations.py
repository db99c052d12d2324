"""The hot WebThings operations, defined once: the Quart routes and the lean router both call them.

Each takes the app's :class:`AppState`, the route's ``thing_id`` (None for a single thing) and
the property name (or the client's origins), and returns the JSON body of the 200 answer;
failures raise the library's errors, which each entrance turns into the same wire shape
(:mod:`.wire`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ..descriptions.webthings import thing_description
from ..errors import BadRequest
from .state import AppState, ServedThing
from .wire import JSON, dumps, loads

#: The header of a JSON TD that other representations share a URL with (the page, the W3C
#: TD): a cache keeps one answer per Accept.
VARY_ACCEPT = ("Vary", "Accept")


def negotiate(accept: str | None, offered: Iterable[str]) -> str:
    """The media type to answer ``Accept: accept`` with: JSON, or one of ``offered``."""
    offered = list(offered)
    if not offered or not accept:
        return JSON
    best = parse_accept_header(accept, MIMEAccept).best_match([JSON, *offered])
    return best or JSON


def description(served: ServedThing, state: AppState, origins: tuple[str, str]) -> dict[str, Any]:
    """The WebThings TD of ``served`` for a client that reached us at ``origins``."""
    origin, ws_origin = origins
    return thing_description(
        served.thing,
        href_prefix=served.href_prefix,
        origin=origin,
        ws_origin=ws_origin,
        context=state.options.context,
        strict_input_schemas=state.options.strict_input_schemas,
        bearer=state.needs_token,
    )


def describe_thing(state: AppState, thing_id: int | None, origins: tuple[str, str]) -> bytes:
    """The thing's WebThings TD."""
    return dumps(description(state.resolve(thing_id), state, origins))


def describe_things(state: AppState, origins: tuple[str, str]) -> bytes:
    """Every thing's WebThings TD, in a list."""
    return dumps([description(served, state, origins) for served in state.served])


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
