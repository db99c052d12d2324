"""The W3C WoT Thing Description 1.1 dialect (``forms``), from the same model as the WebThings one.

Every affordance and the thing itself carry forms with an explicit ``op``, ``href`` and
``contentType``: the HTTP Basic profile's plain JSON routes, the HTTP SSE profile's event
streams, and the Web Thing Protocol websocket. Every href is absolute (``base``, the thing's
URL with a trailing slash, joined with the route's path), so a consumer that ignores
``base`` resolves it as well as one that applies it; ``base`` is kept. The same relative
paths (:data:`PATHS`) are the protocols layer's URL rules, so the description and the routes
cannot drift apart.

The description is JSON-LD that a processor can expand: its ``@context`` holds the TD
contexts and an inline prefix map for the WebThings capability schemas (whose URL is an HTML
page, not a loadable context), and each WebThings ``@type`` (``Light``, ``OnOffProperty``)
is written with that prefix (``webthings:Light``).
"""

from __future__ import annotations

import copy
from typing import Any

from ..action import Action, ActionStatus
from ..thing import Thing

TD_CONTEXT = "https://www.w3.org/2022/wot/td/v1.1"
# TD 1.1 lets a description name the 1.0 context first, then the 1.1 one, so that TD 1.0
# consumers accept it: node-wot 0.9 validates against a schema that demands the 1.0 URI first.
TD10_CONTEXT = "https://www.w3.org/2019/wot/td/v1"
DISCOVERY_CONTEXT = "https://www.w3.org/2022/wot/discovery"
TD_MEDIA_TYPE = "application/td+json"
HTTP_BASIC_PROFILE = "https://www.w3.org/2022/wot/profile/http-basic/v1"
HTTP_SSE_PROFILE = "https://www.w3.org/2022/wot/profile/http-sse/v1"
WTP_SUBPROTOCOL = "webthingprotocol"
# The prefix of the WebThings capability names (``@type``) in the W3C TD.
WEBTHINGS_PREFIX = "webthings"
JSON = "application/json"
NOSEC = {"nosec_sc": {"scheme": "nosec"}}
# Declared when the server needs bearer tokens; websockets also take the token as ?jwt=.
BEARER = {"bearer_sc": {"scheme": "bearer", "in": "header"}}


def security(bearer: bool) -> dict[str, Any]:
    """``securityDefinitions`` and ``security`` of a W3C TD."""
    if bearer:
        return {"securityDefinitions": copy.deepcopy(BEARER), "security": "bearer_sc"}
    return {"securityDefinitions": copy.deepcopy(NOSEC), "security": "nosec_sc"}


# Relative to the thing's URL. Kept apart from the WebThings routes (``properties/<name>``
# there answers ``{name: value}``; the W3C readproperty answers the bare value).
PATHS = {
    "properties": "wot/properties",
    "property": "wot/properties/{name}",
    "actions": "wot/actions",
    "action": "wot/actions/{name}",
    "action_request": "wot/actions/{name}/{action_id}",
    "observe_all": "wot/sse/properties",
    "observe": "wot/sse/properties/{name}",
    "events": "wot/sse/events",
    "event": "wot/sse/events/{name}",
}

# What an affordance's metadata may say about the affordance itself; the rest of an
# event's metadata is the schema of its data (the WebThings dialect mixes the two).
_AFFORDANCE_KEYS = frozenset({"@type", "title", "titles", "description", "descriptions"})
# WebThings-only or protocol keys never copied from metadata into a W3C affordance.
_DROPPED = frozenset({"links", "forms", "href"})

# The HTTP Basic profile's action states; our created/pending are its pending/running.
STATE = {
    ActionStatus.CREATED: "pending",
    ActionStatus.PENDING: "running",
    ActionStatus.COMPLETED: "completed",
    ActionStatus.FAILED: "failed",
    ActionStatus.CANCELLED: "failed",
}


def href(kind: str, **parts: str) -> str:
    """The relative href of route ``kind`` (a key of :data:`PATHS`)."""
    return PATHS[kind].format(**parts)


def is_synchronous(metadata: dict[str, Any]) -> bool:
    """Whether an action answers with its output (``synchronous: true`` in its metadata)."""
    return metadata.get("synchronous") is True


def _form(href_: str, op: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"href": href_, "op": op, "contentType": JSON, **extra}


def _sse_form(href_: str, op: list[str]) -> dict[str, Any]:
    # contentType is the JSON of each event's data: node-wot decodes every message with it.
    # No `response` member: node-wot would compare it with that JSON type and drop the data.
    return _form(href_, op, subprotocol="sse")


def _wtp_form(ws_href: str, op: list[str]) -> dict[str, Any]:
    return _form(ws_href, op, subprotocol=WTP_SUBPROTOCOL)


def vocabulary_prefix(context: str) -> dict[str, str]:
    """The inline context naming the WebThings capability schemas at ``context``."""
    return {WEBTHINGS_PREFIX: context.rstrip("/#") + "#"}


def _typed(types: Any) -> Any:
    """WebThings ``@type`` names as compact IRIs under the prefix (``webthings:Light``);
    names that already are compact IRIs or IRIs (``saref:LightSwitch``) stay as they are."""
    if isinstance(types, str):
        return types if ":" in types else f"{WEBTHINGS_PREFIX}:{types}"
    if isinstance(types, list):
        return [_typed(t) for t in types]
    return copy.deepcopy(types)


def _clean(metadata: dict[str, Any], *, typed: bool) -> dict[str, Any]:
    cleaned = {k: copy.deepcopy(v) for k, v in metadata.items() if k not in _DROPPED}
    if typed and "@type" in cleaned:
        cleaned["@type"] = _typed(cleaned["@type"])
    return cleaned


def _properties(thing: Thing, base: str, ws_href: str, typed: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, prop in thing.properties.items():
        affordance = _clean(prop.metadata, typed=typed)
        affordance.setdefault("observable", True)
        ops = ["readproperty"] if prop.read_only else ["readproperty", "writeproperty"]
        observe = ["observeproperty", "unobserveproperty"]
        affordance["forms"] = [
            _form(base + href("property", name=name), ops),
            _sse_form(base + href("observe", name=name), observe),
            _wtp_form(ws_href, ops + observe),
        ]
        out[name] = affordance
    return out


def _actions(thing: Thing, base: str, ws_href: str, typed: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, available in thing.available_actions.items():
        affordance = _clean(available.metadata, typed=typed)
        synchronous = is_synchronous(available.metadata)
        affordance["synchronous"] = synchronous
        # queryaction/cancelaction over HTTP use the URL an asynchronous invocation returns
        # (Location and the ActionStatus href), as the HTTP Basic profile does.
        wtp_ops = ["invokeaction"]
        if not synchronous:
            wtp_ops += ["queryaction", "cancelaction"]
        affordance["forms"] = [
            _form(base + href("action", name=name), "invokeaction"),
            _wtp_form(ws_href, wtp_ops),
        ]
        out[name] = affordance
    return out


def event_data_schema(metadata: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of an event's data: its ``data`` member, or the non-annotation keys."""
    data = metadata.get("data")
    if isinstance(data, dict):
        return copy.deepcopy(data)
    schema = {
        k: copy.deepcopy(v)
        for k, v in metadata.items()
        if k not in _AFFORDANCE_KEYS and k not in _DROPPED
    }
    return schema or None


def _events(thing: Thing, base: str, ws_href: str, typed: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, metadata in thing.available_events.items():
        affordance = {k: copy.deepcopy(v) for k, v in metadata.items() if k in _AFFORDANCE_KEYS}
        if typed and "@type" in affordance:
            affordance["@type"] = _typed(affordance["@type"])
        data = event_data_schema(metadata)
        if data is not None:
            affordance["data"] = data
        ops = ["subscribeevent", "unsubscribeevent"]
        affordance["forms"] = [
            _sse_form(base + href("event", name=name), ops),
            _wtp_form(ws_href, ops),
        ]
        out[name] = affordance
    return out


def _root_forms(thing: Thing, base: str, ws_href: str) -> list[dict[str, Any]]:
    forms: list[dict[str, Any]] = []
    wtp: list[str] = []
    if thing.properties:
        forms.append(
            _form(base + href("properties"), ["readallproperties", "writemultipleproperties"])
        )
        forms.append(
            _sse_form(
                base + href("observe_all"), ["observeallproperties", "unobserveallproperties"]
            )
        )
        wtp += [
            "readallproperties",
            "readmultipleproperties",
            "writeallproperties",
            "writemultipleproperties",
            "observeallproperties",
            "unobserveallproperties",
        ]
    forms.append(_form(base + href("actions"), "queryallactions"))
    wtp.append("queryallactions")
    if thing.available_events:
        forms.append(
            _sse_form(base + href("events"), ["subscribeallevents", "unsubscribeallevents"])
        )
        wtp += ["subscribeallevents", "unsubscribeallevents"]
    forms.append(_wtp_form(ws_href, wtp))
    return forms


def thing_description(
    thing: Thing,
    *,
    href_prefix: str,
    origin: str,
    ws_origin: str,
    extra_context: str | None = None,
    bearer: bool = False,
) -> dict[str, Any]:
    """The W3C TD 1.1 of ``thing`` served at ``origin + href_prefix`` (declaring the bearer
    scheme when ``bearer``).

    ``extra_context`` (the WebThings schemas by default in the server) is the vocabulary of
    the capability names used in ``@type``: it becomes the ``webthings`` prefix.
    """
    path = href_prefix or "/"
    ws_href = f"{ws_origin}{path}"
    base = f"{origin}{href_prefix}/"
    typed = bool(extra_context)
    context: list[Any] = [TD10_CONTEXT, TD_CONTEXT]
    if extra_context:
        context.append(vocabulary_prefix(extra_context))
    description: dict[str, Any] = {
        "@context": context,
        "id": thing.id,
        "title": thing.title,
    }
    if thing.type:
        description["@type"] = _typed(list(thing.type)) if typed else list(thing.type)
    if thing.description:
        description["description"] = thing.description
    description.update(
        {
            "base": base,
            "profile": [HTTP_BASIC_PROFILE, HTTP_SSE_PROFILE],
            **security(bearer),
            "properties": _properties(thing, base, ws_href, typed),
            "actions": _actions(thing, base, ws_href, typed),
            "events": _events(thing, base, ws_href, typed),
            "forms": _root_forms(thing, base, ws_href),
        }
    )
    return description


def action_status(action: Action, href_prefix: str | None = None) -> dict[str, Any]:
    """The ActionStatus of a request: the HTTP Basic profile's (``status`` and ``href``
    under ``href_prefix``) or, without a prefix, the Web Thing Protocol's (``state`` and
    ``actionID``). Both carry the same times, output and error."""
    state = STATE[action.status]
    status: dict[str, Any]
    if href_prefix is None:
        status = {"actionID": action.id, "state": state}
    else:
        path = href("action_request", name=action.name, action_id=action.id)
        status = {"status": state, "href": f"{href_prefix}/{path}"}
    status["timeRequested"] = action.time_requested
    if action.time_completed is not None:
        status["timeEnded"] = action.time_completed
    if action.status is ActionStatus.COMPLETED and action.output is not None:
        status["output"] = action.output
    error = action_error(action)
    if error is not None:
        status["error"] = error
    return status


def all_action_statuses(
    thing: Thing, href_prefix: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """queryallactions: each action's request statuses, newest first (every action listed)."""
    statuses: dict[str, list[dict[str, Any]]] = {name: [] for name in thing.available_actions}
    for action in reversed(list(thing.get_actions())):
        statuses.setdefault(action.name, []).append(action_status(action, href_prefix))
    return statuses


def action_error(action: Action) -> dict[str, Any] | None:
    """A failed or cancelled request's error as RFC 9457 Problem Details, else None."""
    if action.status is ActionStatus.FAILED:
        return {
            "type": "about:blank",
            "title": "Internal Server Error",
            "status": 500,
            "detail": action.error or "the action failed",
        }
    if action.status is ActionStatus.CANCELLED:
        return {
            "type": "about:blank",
            "title": "Conflict",
            "status": 409,
            "detail": "the action was cancelled before it completed",
        }
    return None


def directory_description(
    *, origin: str, base_path: str, things_href: str, bearer: bool = False
) -> dict[str, Any]:
    """The TD of a minimal WoT Discovery Thing Description Directory listing the served TDs
    (``things_href`` relative to the directory's base; the form's href is absolute)."""
    base = f"{origin}{base_path}/"
    return {
        "@context": [TD_CONTEXT, DISCOVERY_CONTEXT],
        "@type": "ThingDirectory",
        "title": "Thing Description Directory",
        "base": base,
        # Reading the list of TDs needs no token; the scheme is the one the things declare.
        **security(False),
        "properties": {
            "things": {
                "description": "The Thing Descriptions of the things served here",
                "type": "array",
                "items": {"type": "object"},
                "readOnly": True,
                "observable": False,
                "forms": [
                    {
                        "href": base + things_href,
                        "op": "readproperty",
                        "contentType": "application/ld+json",
                        "htv:methodName": "GET",
                    }
                ],
            }
        },
    }
