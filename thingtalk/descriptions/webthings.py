"""The WebThings dialect of the Thing Description (``links``, what the WebThings gateway reads)."""

from __future__ import annotations

import copy
from typing import Any

from ..action import Action
from ..event import Event
from ..thing import Thing

WEBTHINGS_CONTEXT = "https://webthings.io/schemas"
NOSEC = {"nosec_sc": {"scheme": "nosec"}}
# Declared when the server needs bearer tokens (Authorization: Bearer, or ?jwt= on websockets).
BEARER = {"bearer_sc": {"scheme": "bearer"}}


def security(bearer: bool) -> dict[str, Any]:
    """``securityDefinitions`` and ``security`` of a WebThings TD."""
    if bearer:
        return {"securityDefinitions": copy.deepcopy(BEARER), "security": "bearer_sc"}
    return {"securityDefinitions": copy.deepcopy(NOSEC), "security": "nosec_sc"}


# The JSON Schema (draft-07) keywords Ajv compiles without plugins. The WebThings gateway
# validates action input with Ajv in strict mode, which refuses any other keyword (`unit`,
# `@type`) and any `format` (Ajv knows none until ajv-formats is added).
_PLAIN_KEYWORDS = frozenset(
    {
        "$id", "$schema", "$ref", "$comment", "type", "enum", "const",
        "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
        "maxProperties", "minProperties", "required",
        "title", "description", "default", "examples", "readOnly", "writeOnly", "deprecated",
        "contentMediaType", "contentEncoding",
    }
)  # fmt: skip
_SCHEMA_KEYWORDS = frozenset(
    {"additionalItems", "contains", "additionalProperties", "propertyNames", "if", "then", "else",
     "not", "contentSchema"}
)  # fmt: skip
_SCHEMA_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf"})
_SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "definitions", "$defs"})


def plain_schema(schema: Any) -> Any:
    """``schema`` with only the JSON Schema keywords a strict validator compiles.

    Annotations such as ``unit`` and ``@type`` (and ``format``) are dropped at every level;
    what is left validates exactly what the full schema validates here.
    """
    if not isinstance(schema, dict):
        return copy.deepcopy(schema)  # true/false schemas, and values of plain keywords
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _PLAIN_KEYWORDS:
            out[key] = copy.deepcopy(value)
        elif key in _SCHEMA_KEYWORDS:
            out[key] = plain_schema(value)
        elif key in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            out[key] = [plain_schema(item) for item in value]
        elif key in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            out[key] = {name: plain_schema(item) for name, item in value.items()}
        elif key == "items":
            items = [plain_schema(i) for i in value] if isinstance(value, list) else None
            out[key] = items if items is not None else plain_schema(value)
        elif key == "dependencies" and isinstance(value, dict):
            # Each entry is a list of property names or a schema.
            out[key] = {
                name: copy.deepcopy(dep) if isinstance(dep, list) else plain_schema(dep)
                for name, dep in value.items()
            }
    return out


def affordances(
    thing: Thing, href_prefix: str, *, strict_input_schemas: bool = False
) -> dict[str, Any]:
    """The ``properties``, ``actions`` and ``events`` maps, one ``links`` entry each.

    With ``strict_input_schemas`` each action's ``input`` is its :func:`plain_schema`.
    """
    properties = {}
    for name, prop in thing.properties.items():
        meta = copy.deepcopy(prop.metadata)
        meta["links"] = [{"rel": "property", "href": f"{href_prefix}/properties/{name}"}]
        properties[name] = meta
    actions = {}
    for name, available in thing.available_actions.items():
        meta = copy.deepcopy(available.metadata)
        if strict_input_schemas and "input" in meta:
            meta["input"] = plain_schema(meta["input"])
        meta["links"] = [{"rel": "action", "href": f"{href_prefix}/actions/{name}"}]
        actions[name] = meta
    events = {}
    for name, metadata in thing.available_events.items():
        meta = copy.deepcopy(metadata)
        meta["links"] = [{"rel": "event", "href": f"{href_prefix}/events/{name}"}]
        events[name] = meta
    return {"properties": properties, "actions": actions, "events": events}


def thing_description(
    thing: Thing,
    *,
    href_prefix: str,
    origin: str,
    ws_origin: str,
    context: str = WEBTHINGS_CONTEXT,
    strict_input_schemas: bool = False,
    bearer: bool = False,
) -> dict[str, Any]:
    """The WebThings TD of ``thing`` served at ``origin + href_prefix`` (declaring the bearer
    scheme when ``bearer``).

    ``origin`` is ``scheme://host[:port]`` as the client reached us and ``ws_origin`` the
    matching ``ws``/``wss`` origin; the links come in the order the WebThings API fixes:
    properties, actions, events, then the websocket and the HTML page as alternates.
    """
    path = href_prefix or "/"
    description: dict[str, Any] = {
        "@context": context,
        "id": thing.id,
        "title": thing.title,
        "@type": list(thing.type),
        "description": thing.description,
        "base": f"{origin}{path}",
        "href": path,
        **security(bearer),
        **affordances(thing, href_prefix, strict_input_schemas=strict_input_schemas),
        "links": [
            {"rel": "properties", "href": f"{href_prefix}/properties"},
            {"rel": "actions", "href": f"{href_prefix}/actions"},
            {"rel": "events", "href": f"{href_prefix}/events"},
            {"rel": "alternate", "href": f"{ws_origin}{path}"},
            # The page lives at the thing's own URL; the reference client expects exactly the
            # href prefix here (empty for a single thing at the root: the base itself).
            {"rel": "alternate", "mediaType": "text/html", "href": href_prefix},
        ],
    }
    return description


def action_description(action: Action, href_prefix: str = "") -> dict[str, Any]:
    """A request as ``{name: {href, timeRequested, status, ...}}``; ``href`` is under
    ``href_prefix``, the thing's path."""
    description: dict[str, Any] = {
        "href": f"{href_prefix}/actions/{action.name}/{action.id}",
        "timeRequested": action.time_requested,
        "status": str(action.status),
    }
    if action.input is not None:
        description["input"] = action.input
    if action.time_completed is not None:
        description["timeCompleted"] = action.time_completed
    if action.output is not None:
        description["output"] = action.output
    if action.error is not None:
        description["error"] = action.error
    return {action.name: description}


def event_description(event: Event, *, precise: bool = False) -> dict[str, Any]:
    """An occurrence as ``{name: {"timestamp": ..., "data": ..., "id": ...}}`` (no ``data``
    when None). ``precise`` gives the timestamp in microseconds, unique among the thing's
    events, for consumers that key events by name and timestamp (the WebThings gateway)."""
    description: dict[str, Any] = {"timestamp": event.precise_time if precise else event.time}
    if event.data is not None:
        description["data"] = event.data
    description["id"] = event.id
    return {event.name: description}
