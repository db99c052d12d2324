"""The Quart app factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from quart import Quart, Response, has_websocket_context, request, websocket
from werkzeug.exceptions import HTTPException
from werkzeug.routing.exceptions import RoutingException, WebsocketMismatch

from ..errors import MethodNotAllowed, NotFound, PayloadTooLarge, ThingtalkError
from ..things import ThingsCollection
from . import page, sockets, w3c, webthings
from .asgi import FrontDoor
from .hosts import HostCheck
from .lean import Lean
from .limits import ConnectionLimits
from .pump import BoundedWebsocketConnection, PumpedWebsocket
from .security import PUBLIC_ENDPOINTS, Security
from .state import AppState, Options, app_state
from .wire import error_response

log = logging.getLogger(__name__)

ASGIMiddleware = Callable[[Any], Any]


def create_app(
    collection: ThingsCollection,
    options: Options | None = None,
    *,
    allowed_hosts: Iterable[str] | None = (),
    middlewares: Iterable[ASGIMiddleware] = (),
    security: Security | None = None,
) -> Quart:
    """A Quart app serving ``collection``.

    ``allowed_hosts`` are names the Host header may carry besides the machine's own names
    and addresses; ``None`` turns the DNS-rebinding check off. ``security`` says which
    other origins may use the things and which tokens they need (none by default: only the
    server's own page and clients that are no browsers, without tokens). ``middlewares``
    wrap the app inside those checks, first listed innermost. Things are built when the app
    starts serving and closed (running actions cancelled) when it stops.
    """
    options = options or Options()
    app = Quart("thingtalk")
    app.asgi_websocket_class = BoundedWebsocketConnection  # a client's burst waits in TCP
    app.websocket_class = PumpedWebsocket  # a send per subscriber per change, nothing more
    app.config["MAX_CONTENT_LENGTH"] = options.max_body_size
    state = AppState.build(collection, options)
    state.needs_token = security is not None and security.needs_token
    app.extensions["thingtalk"] = state

    # One blueprint per protocol; their rules never overlap, so the order is free.
    app.register_blueprint(webthings.blueprint(state))  # WebThings REST
    app.register_blueprint(sockets.blueprint(state))  # WebThings and Web Thing Protocol sockets
    app.register_blueprint(w3c.blueprint(state))  # W3C TD 1.1, HTTP Basic and SSE profiles
    app.register_blueprint(page.blueprint(state))  # the page for people

    @app.errorhandler(ThingtalkError)
    async def _thingtalk_error(error: ThingtalkError) -> Response:
        path, problem = _failing()
        return error_response(error, problem=problem, instance=path)

    @app.errorhandler(HTTPException)
    async def _http_error(error: HTTPException) -> Response:
        path, problem = _failing()
        mapped: ThingtalkError
        if has_websocket_context() and (
            error.code in (404, 405) or isinstance(error, WebsocketMismatch)
        ):
            mapped = NotFound(f"no websocket at {path}; a thing's websocket is at its own URL")
        elif error.code == 404:
            mapped = NotFound(f"nothing at {path}")
        elif error.code == 405:
            mapped = MethodNotAllowed(f"{request.method} is not allowed on {path}")
        elif error.code == 413:
            mapped = PayloadTooLarge(f"the body is larger than {options.max_body_size} bytes")
        else:
            mapped = ThingtalkError(error.description or str(error))
            mapped.status = error.code or 500
            mapped.code = (error.name or "error").lower().replace(" ", "-")
        return error_response(mapped, problem=problem, instance=path)

    @app.before_serving
    async def _build() -> None:
        state.stopping.clear()  # the app may serve again after a stop
        for served in state.served:
            await served.thing.ensure_built()

    @app.after_serving
    async def _close() -> None:
        await asyncio.gather(*(s.thing.close() for s in app_state(app).served))

    host_check = None if allowed_hosts is None else HostCheck(allowed_hosts)
    inner: Any = app.asgi_app
    if options.lean:  # the hot requests skip Quart's machinery (protocols/lean.py)
        inner = Lean(app, inner, state)
    for middleware in middlewares:
        inner = middleware(inner)
    inner = ConnectionLimits(inner, options.limits, w3c.is_stream_path)
    front_door = FrontDoor(inner, host_check, security, public_check(app))
    # Quart types asgi_app with its own TypedDicts; the middleware speaks plain ASGI.
    app.asgi_app = front_door  # type: ignore[assignment, method-assign]
    return app


def public_check(app: Quart) -> Callable[[str, str, bool], bool]:
    """Whether a request without a token may have what it asks for: a GET of one of the
    :data:`PUBLIC_ENDPOINTS`, as the app's routes (those added later too) resolve it."""

    def public(method: str, path: str, websocket: bool) -> bool:
        if websocket or method not in ("GET", "HEAD"):
            return False
        try:
            endpoint, _ = app.url_map.bind("localhost").match(path, method, websocket=False)
        except (HTTPException, RoutingException):
            return False
        return endpoint in PUBLIC_ENDPOINTS

    return public


def _failing() -> tuple[str, bool]:
    """The failing request's path, and whether its error is Problem Details (W3C routes).

    A websocket handshake fails here too (a path that is no thing): the answer is then an
    HTTP response to the handshake, in the WebThings shape.
    """
    if has_websocket_context():
        return websocket.path, False
    return request.path, w3c.wants_problem_details()
