"""The Quart app factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from quart import Quart, Response, request
from werkzeug.exceptions import HTTPException

from ..errors import MethodNotAllowed, NotFound, PayloadTooLarge, ThingtalkError
from ..things import ThingsCollection
from . import page, sockets, w3c, webthings
from .asgi import FrontDoor
from .hosts import HostCheck
from .lean import Lean
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
) -> Quart:
    """A Quart app serving ``collection``.

    ``allowed_hosts`` are names the Host header may carry besides the machine's own names
    and addresses; ``None`` turns the DNS-rebinding check off. ``middlewares`` wrap the app
    inside the Host check, first listed innermost. Things are built when the app starts
    serving and closed (running actions cancelled) when it stops.
    """
    options = options or Options()
    app = Quart("thingtalk")
    app.config["MAX_CONTENT_LENGTH"] = options.max_body_size
    state = AppState.build(collection, options)
    app.extensions["thingtalk"] = state

    # One blueprint per protocol; their rules never overlap, so the order is free.
    app.register_blueprint(webthings.blueprint(state))  # WebThings REST
    app.register_blueprint(sockets.blueprint(state))  # WebThings and Web Thing Protocol sockets
    app.register_blueprint(w3c.blueprint(state))  # W3C TD 1.1, HTTP Basic and SSE profiles
    app.register_blueprint(page.blueprint(state))  # the page for people

    @app.errorhandler(ThingtalkError)
    async def _thingtalk_error(error: ThingtalkError) -> Response:
        return error_response(error, problem=w3c.wants_problem_details(), instance=request.path)

    @app.errorhandler(HTTPException)
    async def _http_error(error: HTTPException) -> Response:
        mapped: ThingtalkError
        if error.code == 404:
            mapped = NotFound(f"nothing at {request.path}")
        elif error.code == 405:
            mapped = MethodNotAllowed(f"{request.method} is not allowed on {request.path}")
        elif error.code == 413:
            mapped = PayloadTooLarge(f"the body is larger than {options.max_body_size} bytes")
        else:
            mapped = ThingtalkError(error.description or str(error))
            mapped.status = error.code or 500
            mapped.code = (error.name or "error").lower().replace(" ", "-")
        return error_response(mapped, problem=w3c.wants_problem_details(), instance=request.path)

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
    # Quart types asgi_app with its own TypedDicts; the middleware speaks plain ASGI.
    app.asgi_app = FrontDoor(inner, host_check)  # type: ignore[assignment, method-assign]
    return app
