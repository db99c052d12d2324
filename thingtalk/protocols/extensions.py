"""The seed's extension points in the shapes it took them: Starlette routes and middleware.

The thingtalk seed ran on Starlette, so its programs pass ``starlette.routing.Route`` (and
``WebSocketRoute``, ``Mount``) as ``additional_routes`` and ``starlette.middleware.Middleware``
as ``additional_middlewares``. Both are plain ASGI underneath, so they are served as they are:
a Starlette route is tried before the app's own routes (as the seed tried additional routes
first) and answers with Starlette's own request and response objects; a Starlette
``Middleware`` wraps the app like any ASGI middleware factory. Nothing is translated, so
nothing is half-supported: a Quart view never sees a Starlette request or the reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .asgi import ASGIApp, Receive, Scope, Send

# starlette.routing.Match.FULL: the path and the method (or websocket) match.
_FULL = 2


def is_starlette_route(route: object) -> bool:
    """Whether ``route`` is a Starlette route (``Route``, ``WebSocketRoute``, ``Mount``...)."""
    return callable(getattr(route, "matches", None)) and callable(getattr(route, "handle", None))


def is_starlette_middleware(middleware: object) -> bool:
    """Whether ``middleware`` is a ``starlette.middleware.Middleware`` (``cls`` + arguments)."""
    return all(hasattr(middleware, name) for name in ("cls", "args", "kwargs"))


def as_middleware_factory(middleware: Any) -> Callable[[ASGIApp], ASGIApp]:
    """An ASGI middleware factory (``app -> app``) from a factory or a Starlette Middleware."""
    if is_starlette_middleware(middleware):
        cls, args, kwargs = middleware.cls, middleware.args, middleware.kwargs

        def factory(app: ASGIApp) -> ASGIApp:
            wrapped: ASGIApp = cls(app, *args, **kwargs)
            return wrapped

        return factory
    if callable(middleware):
        plain: Callable[[ASGIApp], ASGIApp] = middleware
        return plain
    raise TypeError(
        f"additional_middlewares takes ASGI middleware factories (app -> app) or "
        f"starlette.middleware.Middleware objects, not {middleware!r}"
    )


class StarletteRoutes:
    """ASGI: requests a Starlette route fully matches go to it; the rest to the app."""

    def __init__(self, app: ASGIApp, routes: Sequence[Any]) -> None:
        self.app = app
        self.routes = list(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if getattr(match, "value", match) == _FULL:
                    scope = {**scope, **child_scope}
                    await route.handle(scope, receive, send)
                    return
        await self.app(scope, receive, send)
