"""W3C WoT over HTTP: the TD 1.1, the HTTP Basic and HTTP SSE profiles, ``/.well-known/wot``.

URL layout (``<thing>`` is the thing's URL: the base path, or ``<base>/<index>`` for several):

- ``GET <thing>`` with ``Accept: application/td+json``: the W3C TD (plain ``application/json``
  still gets the WebThings TD, browsers the page).
- ``GET /.well-known/wot`` (WoT Discovery): the TD of a single thing, or for several things
  the TD of a minimal Thing Description Directory whose ``things`` property,
  ``GET <base>/wot/things``, lists their TDs.
- HTTP Basic, under ``<thing>/wot/`` so they never collide with the WebThings routes
  (``<thing>/properties/<name>`` answers ``{name: value}`` there, the bare value here):
  ``GET|PUT wot/properties/<name>`` (readproperty, writeproperty -> 204),
  ``GET|PUT wot/properties`` (readallproperties, writemultipleproperties -> 204),
  ``POST wot/actions/<name>`` (invokeaction: synchronous actions -> 200 and the output,
  asynchronous -> 201, ``Location`` and an ActionStatus), ``GET|DELETE
  wot/actions/<name>/<id>`` (queryaction, cancelaction -> 204), ``GET wot/actions``
  (queryallactions).
- HTTP SSE (``text/event-stream``): ``wot/sse/properties[/<name>]`` (observe one or all
  properties) and ``wot/sse/events[/<name>]`` (subscribe to one or all events); see
  :mod:`.sse` for the framing and ``Last-Event-ID`` resumption.

Errors on these routes are RFC 9457 Problem Details (``application/problem+json``): the app's
one error handler asks :func:`wants_problem_details` which shape the failing request gets.
"""

from __future__ import annotations

import re
from typing import Any

from quart import Blueprint, Response, current_app, request

from ..descriptions import w3c
from ..errors import ActionFailed, BadRequest
from .sse import Kind
from .state import AppState, ServedThing, app_state, origins
from .webthings import read_json, thing_paths
from .wire import W3C_PATH, dumps, json_response, loads

BLUEPRINT = "w3c"
WELL_KNOWN = "/.well-known/wot"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# The event streams' paths: the connection caps count them apart from plain requests.
_SSE_PATH = re.compile(r"(^|/)wot/sse(/|$)")


def describe(served: ServedThing, state: AppState) -> dict[str, Any]:
    """The W3C TD of ``served`` as this request's client reaches it."""
    origin, ws_origin = origins()
    return w3c.thing_description(
        served.thing,
        href_prefix=served.href_prefix,
        origin=origin,
        ws_origin=ws_origin,
        extra_context=state.options.context,
        bearer=state.needs_token,
    )


def _td_response(body: Any) -> Response:
    return Response(dumps(body), content_type=w3c.TD_MEDIA_TYPE)


async def render_td(served: ServedThing) -> Response:
    """The ``application/td+json`` representation of a thing's URL."""
    response = _td_response(describe(served, app_state(current_app)))
    response.headers["Vary"] = "Accept"  # the URL's other representations: WebThings TD, page
    return response


async def well_known() -> Response:
    """WoT Discovery's well-known URL: the thing's TD, or the directory's TD for several."""
    state = app_state(current_app)
    if not state.multiple:
        return _td_response(describe(state.served[0], state))
    origin, _ = origins()
    base = state.options.base_path.rstrip("/")
    return _td_response(
        w3c.directory_description(origin=origin, base_path=base, things_href="wot/things")
    )


async def list_things() -> Response:
    """The directory's ``things`` property: every served thing's W3C TD."""
    state = app_state(current_app)
    tds = [describe(s, state) for s in state.served]
    return json_response(tds, content_type="application/ld+json")


# -- HTTP Basic profile -----------------------------------------------------------


def _served(thing_id: int | None) -> ServedThing:
    return app_state(current_app).resolve(thing_id)


async def read_property(name: str, thing_id: int | None = None) -> Response:
    """readproperty: the bare JSON value."""
    return json_response(_served(thing_id).thing.get_property(name))


async def write_property(name: str, thing_id: int | None = None) -> Response:
    """writeproperty: PUT the bare value -> 204."""
    thing = _served(thing_id).thing
    thing.find_property(name)
    await thing.set_property(name, await read_json())
    return Response(b"", status=204)


async def read_all_properties(thing_id: int | None = None) -> Response:
    """readallproperties: ``{name: value}`` for every property."""
    return json_response(_served(thing_id).thing.get_properties())


async def write_multiple_properties(thing_id: int | None = None) -> Response:
    """writemultipleproperties: PUT ``{name: value, ...}``; all checked before any is set."""
    body = await read_json()
    if not isinstance(body, dict) or not body:
        raise BadRequest('expected a JSON object of property values, like {"on": true}')
    await _served(thing_id).thing.set_properties(body)
    return Response(b"", status=204)


async def invoke_action(name: str, thing_id: int | None = None) -> Response:
    """invokeaction: synchronous -> 200 with the output; asynchronous -> 201 + Location."""
    served = _served(thing_id)
    available = served.thing.find_available_action(name)
    data = await request.get_data(cache=False)
    max_depth = app_state(current_app).options.limits.max_json_depth
    action = served.thing.perform_action(name, loads(data, max_depth) if data else None)
    if w3c.is_synchronous(available.metadata):
        await action.done.wait()
        error = w3c.action_error(action)
        if error is not None:
            raise ActionFailed(error["detail"])
        return json_response(action.output)
    status = w3c.action_status(action, served.href_prefix)
    response = json_response(status, 201)
    response.headers["Location"] = status["href"]
    return response


async def query_action(name: str, action_id: str, thing_id: int | None = None) -> Response:
    """queryaction: the request's ActionStatus."""
    served = _served(thing_id)
    action = served.thing.get_action(name, action_id)
    return json_response(w3c.action_status(action, served.href_prefix))


async def cancel_action(name: str, action_id: str, thing_id: int | None = None) -> Response:
    """cancelaction: cancel and forget the request -> 204."""
    await _served(thing_id).thing.remove_action(name, action_id)
    return Response(b"", status=204)


async def query_all_actions(thing_id: int | None = None) -> Response:
    """queryallactions: ActionStatus lists by action name, newest first."""
    served = _served(thing_id)
    return json_response(w3c.all_action_statuses(served.thing, served.href_prefix))


# -- HTTP SSE profile -------------------------------------------------------------


def _stream(thing_id: int | None, kind: Kind, name: str | None) -> Response:
    state = app_state(current_app)
    served = state.resolve(thing_id)
    journal = served.journal
    stream, replay = journal.open(
        kind, name, request.headers.get("Last-Event-ID"), state.options.limits
    )
    body = journal.iterate(stream, replay, state.options.sse_keepalive)
    response = Response(body, content_type="text/event-stream", headers=SSE_HEADERS)
    response.timeout = None  # a stream stays open for as long as the client listens
    return response


async def observe_property(name: str, thing_id: int | None = None) -> Response:
    """observeproperty: the property's new values as an event stream."""
    _served(thing_id).thing.find_property(name)
    return _stream(thing_id, "property", name)


async def observe_all_properties(thing_id: int | None = None) -> Response:
    """observeallproperties: every property's new values, each event named by property."""
    return _stream(thing_id, "property", None)


async def subscribe_event(name: str, thing_id: int | None = None) -> Response:
    """subscribeevent: the event's data as an event stream."""
    _served(thing_id).thing.find_available_event(name)
    return _stream(thing_id, "event", name)


async def subscribe_all_events(thing_id: int | None = None) -> Response:
    """subscribeallevents: every event, each named by event."""
    return _stream(thing_id, "event", None)


def is_stream_path(path: str) -> bool:
    """True for the URL of an SSE stream (``.../wot/sse/...``), which stays open."""
    return _SSE_PATH.search(path) is not None


def wants_problem_details() -> bool:
    """True when the current request is on a W3C route (or, unrouted, under a ``wot/`` path).

    Asked only when a request fails, so successful requests pay nothing for it.
    """
    if request.url_rule is not None:
        return request.blueprint == BLUEPRINT
    return W3C_PATH.search(request.path) is not None


def blueprint(state: AppState) -> Blueprint:
    """The W3C routes and the TD representation; the SSE journals record while serving."""
    bp = Blueprint(BLUEPRINT, __name__)
    state.representations[w3c.TD_MEDIA_TYPE] = render_td

    @bp.before_app_serving
    async def _record() -> None:
        for served in state.served:
            served.journal.attach()

    @bp.after_app_serving
    async def _end_streams() -> None:
        for served in state.served:
            served.journal.detach()

    thing = thing_paths(state)
    p = {k: f"{thing}/{v.replace('{', '<').replace('}', '>')}" for k, v in w3c.PATHS.items()}
    routes: list[tuple[str, str, Any, str]] = [
        (p["property"], "read_property", read_property, "GET"),
        (p["property"], "write_property", write_property, "PUT"),
        (p["properties"], "read_all_properties", read_all_properties, "GET"),
        (p["properties"], "write_multiple_properties", write_multiple_properties, "PUT"),
        (p["action"], "invoke_action", invoke_action, "POST"),
        (p["action_request"], "query_action", query_action, "GET"),
        (p["action_request"], "cancel_action", cancel_action, "DELETE"),
        (p["actions"], "query_all_actions", query_all_actions, "GET"),
        (p["observe"], "observe_property", observe_property, "GET"),
        (p["observe_all"], "observe_all_properties", observe_all_properties, "GET"),
        (p["event"], "subscribe_event", subscribe_event, "GET"),
        (p["events"], "subscribe_all_events", subscribe_all_events, "GET"),
        (WELL_KNOWN, "well_known", well_known, "GET"),
    ]
    if state.multiple:
        base = state.options.base_path.rstrip("/")
        routes.append((f"{base}/wot/things", "things", list_things, "GET"))
    for rule, endpoint, view, method in routes:
        bp.add_url_rule(rule, endpoint, view, methods=[method])
    return bp
