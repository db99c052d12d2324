"""The WebThings REST API: routes for things, properties, actions and events."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, current_app, request

from ..descriptions.webthings import action_description, event_description
from ..errors import BadRequest
from . import operations
from .operations import one_entry as _one_entry
from .state import AppState, app_state, origins
from .wire import JSON, json_response, loads

Routes = list[tuple[str, str, Any, list[str]]]


async def read_json() -> Any:
    """The request body as JSON; an empty or malformed body is a :class:`BadRequest`."""
    data = await request.get_data(cache=False)
    if not data:
        raise BadRequest("the request needs a JSON body")
    return loads(data, app_state(current_app).options.limits.max_json_depth)


def action_input(name: str, request_body: Any) -> Any:
    """The input of one action request ``{"input": ...}``; any other shape is a BadRequest."""
    if not isinstance(request_body, dict) or set(request_body) - {"input"}:
        raise BadRequest(f'expected {{"{name}": {{"input": ...}}}}')
    return request_body.get("input")


async def get_things() -> Response:
    """All things' TDs (multiple things only), or another representation (the index page)."""
    state = app_state(current_app)
    chosen = operations.negotiate(request.headers.get("Accept"), state.index_representations)
    if chosen != JSON:
        return await state.index_representations[chosen]()
    return _td_response(operations.describe_things(state, origins()), state.index_representations)


async def get_thing(thing_id: int | None = None) -> Response:
    """The thing's TD, or another representation the client asks for (page, W3C TD)."""
    state = app_state(current_app)
    served = state.resolve(thing_id)
    chosen = operations.negotiate(request.headers.get("Accept"), state.representations)
    if chosen != JSON:
        return await state.representations[chosen](served)
    return _td_response(
        operations.describe_thing(state, thing_id, origins()), state.representations
    )


def _td_response(body: bytes, others: dict[str, Any]) -> Response:
    response = Response(body, content_type=JSON)
    if others:
        response.headers.add(*operations.VARY_ACCEPT)
    return response


async def get_properties(thing_id: int | None = None) -> Response:
    """All property values."""
    return Response(operations.read_properties(app_state(current_app), thing_id), content_type=JSON)


async def get_property(name: str, thing_id: int | None = None) -> Response:
    """``{name: value}``."""
    body = operations.read_property(app_state(current_app), thing_id, name)
    return Response(body, content_type=JSON)


async def put_property(name: str, thing_id: int | None = None) -> Response:
    """Set a property from ``{name: value}``; answers with the value it now has."""
    state = app_state(current_app)
    state.resolve(thing_id).thing.find_property(name)  # a 404 before the body is read
    data = await request.get_data(cache=False)
    return Response(await operations.write_property(state, thing_id, name, data), content_type=JSON)


async def get_actions(thing_id: int | None = None, name: str | None = None) -> Response:
    """The action history, optionally of one action."""
    served = app_state(current_app).resolve(thing_id)
    if name is not None:
        served.thing.find_available_action(name)
    return json_response(
        [action_description(a, served.href_prefix) for a in served.thing.get_actions(name)]
    )


async def post_action(thing_id: int | None = None, name: str | None = None) -> Response:
    """Request an action: ``{name: {"input": ...}}`` -> 201 and the request's description."""
    served = app_state(current_app).resolve(thing_id)
    if name is not None:
        served.thing.find_available_action(name)
    key, body = _one_entry(await read_json(), "action")
    if name is not None and key != name:
        raise BadRequest(f"the body names action {key!r} but the URL names {name!r}")
    behind = served.hub.backlogged()
    action = served.thing.perform_action(key, action_input(key, body))
    description = action_description(action, served.href_prefix)  # as created
    # Websocket subscribers hear `created` before the client hears the answer to its POST.
    await served.hub.flush(behind)
    response = json_response(description, 201)
    response.headers["Location"] = description[key]["href"]
    return response


async def get_action(name: str, action_id: str, thing_id: int | None = None) -> Response:
    """One action request."""
    served = app_state(current_app).resolve(thing_id)
    action = served.thing.get_action(name, action_id)
    return json_response(action_description(action, served.href_prefix))


async def delete_action(name: str, action_id: str, thing_id: int | None = None) -> Response:
    """Cancel a request and drop it: 204, no body."""
    served = app_state(current_app).resolve(thing_id)
    await served.thing.remove_action(name, action_id)
    return Response(b"", status=204)


async def get_events(thing_id: int | None = None, name: str | None = None) -> Response:
    """The event history, optionally of one event."""
    state = app_state(current_app)
    thing = state.resolve(thing_id).thing
    if name is not None:
        thing.find_available_event(name)
    precise = state.options.precise_event_times
    return json_response([event_description(e, precise=precise) for e in thing.get_events(name)])


def thing_paths(state: AppState) -> str:
    """The URL rule of a thing: the base path, or ``<base>/<int:thing_id>``."""
    base = state.options.base_path.rstrip("/")
    return f"{base}/<int:thing_id>" if state.multiple else base


def blueprint(state: AppState) -> Blueprint:
    """The WebThings REST routes for ``state``'s things."""
    bp = Blueprint("webthings", __name__)
    thing = thing_paths(state)
    if state.multiple:
        bp.add_url_rule(state.options.base_path.rstrip("/") or "/", "things", get_things)
    routes: Routes = [
        (thing or "/", "thing", get_thing, ["GET"]),
        (f"{thing}/properties", "properties", get_properties, ["GET"]),
        (f"{thing}/properties/<name>", "property", get_property, ["GET"]),
        (f"{thing}/properties/<name>", "put_property", put_property, ["PUT"]),
        (f"{thing}/actions", "actions", get_actions, ["GET"]),
        (f"{thing}/actions", "post_action", post_action, ["POST"]),
        (f"{thing}/actions/<name>", "named_actions", get_actions, ["GET"]),
        (f"{thing}/actions/<name>", "post_named_action", post_action, ["POST"]),
        (f"{thing}/actions/<name>/<action_id>", "action", get_action, ["GET"]),
        (f"{thing}/actions/<name>/<action_id>", "delete_action", delete_action, ["DELETE"]),
        (f"{thing}/events", "events", get_events, ["GET"]),
        (f"{thing}/events/<name>", "named_events", get_events, ["GET"]),
    ]
    for rule, endpoint, view, methods in routes:
        bp.add_url_rule(rule, endpoint, view, methods=methods)
    return bp
