"""The WebThings dialect of the Thing Description (``links``, what the WebThings gateway reads)."""

from __future__ import annotations

import copy
from typing import Any

from ..thing import Thing

WEBTHINGS_CONTEXT = "https://webthings.io/schemas"
NOSEC = {"nosec_sc": {"scheme": "nosec"}}


def affordances(thing: Thing, href_prefix: str) -> dict[str, Any]:
    """The ``properties``, ``actions`` and ``events`` maps, one ``links`` entry each."""
    properties = {}
    for name, prop in thing.properties.items():
        meta = copy.deepcopy(prop.metadata)
        meta["links"] = [{"rel": "property", "href": f"{href_prefix}/properties/{name}"}]
        properties[name] = meta
    actions = {}
    for name, available in thing.available_actions.items():
        meta = copy.deepcopy(available.metadata)
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
) -> dict[str, Any]:
    """The WebThings TD of ``thing`` served at ``origin + href_prefix``.

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
        "securityDefinitions": copy.deepcopy(NOSEC),
        "security": "nosec_sc",
        **affordances(thing, href_prefix),
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
