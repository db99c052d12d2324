"""A lean entrance for the hot WebThings requests, in front of Quart and inside the front door.

Reading a property, reading all properties and writing a property are most of what a gateway
or a page does, and every client starts by reading the Thing Description. Quart's per-request
machinery (request context, routing, response objects) costs more than most of these
operations, so :class:`Lean` answers these requests directly, calling
the same operations (:mod:`.operations`) as the Quart routes and answering failures with the
same wire shape (:mod:`.wire`). It sits inside the front door and the app's middlewares, so the
Host check, CORS and anything a middleware adds hold for it as for every route.

Anything else goes to Quart unchanged: other paths and methods, a thing's URL asked for another
representation than the WebThings TD (the page, the W3C TD), PUT bodies larger than the
body limit (what was read is replayed), and every request while the app has a
request hook (``before_request``, ``after_request``, ``teardown_request``, URL value
preprocessors) for the app or the WebThings blueprint, or a replaced WebThings view: a user who
extends the Quart app keeps Quart's behaviour. A failed read is answered by Quart too (the
operation has no side effect, so running it again there gives the same error).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quart import Quart

from ..errors import ThingtalkError
from . import operations, webthings
from .state import AppState, origins
from .wire import JSON, dumps, error_body

ASGIApp = Any
_JSON_HEADER = (b"content-type", JSON.encode())
_VARY_ACCEPT = (operations.VARY_ACCEPT[0].lower().encode(), operations.VARY_ACCEPT[1].encode())
_VIEWS = {
    "webthings.things": webthings.get_things,
    "webthings.thing": webthings.get_thing,
    "webthings.property": webthings.get_property,
    "webthings.properties": webthings.get_properties,
    "webthings.put_property": webthings.put_property,
}
#: What a path names: every thing's TD, a thing's TD, all its properties, one property.
THINGS, THING, PROPERTIES, PROPERTY = range(4)


class Lean:
    """The lean entrance: ``Lean(app, app.asgi_app, state)``."""

    def __init__(self, app: Quart, inner: ASGIApp, state: AppState) -> None:
        self.app = app
        self.inner = inner
        self.state = state
        self.prefix = state.options.base_path.rstrip("/") + "/"
        self.root = self.prefix.rstrip("/") or "/"  # the thing's TD, or the list of things
        self.multiple = state.multiple
        self.max_body = state.options.max_body_size

    def plain(self) -> bool:
        """True while nothing registered on the Quart app would see these requests."""
        app = self.app
        for hooks in (
            app.before_request_funcs,
            app.after_request_funcs,
            app.teardown_request_funcs,
            app.url_value_preprocessors,
        ):
            if hooks.get(None) or hooks.get("webthings"):
                return False
        # (the list of things is a route only when there are several)
        return all(app.view_functions.get(e, view) is view for e, view in _VIEWS.items())

    def match(self, path: str) -> tuple[int, int | None, str] | None:
        """``(what, thing_id, property name or "")`` of a path the lean entrance serves."""
        if path == self.root:
            return (THINGS, None, "") if self.multiple else (THING, None, "")
        if not path.startswith(self.prefix):
            return None
        parts = path[len(self.prefix) :].split("/")
        thing_id: int | None = None
        if self.multiple:
            index = parts.pop(0)
            if not index.isdigit() or not index.isascii() or str(int(index)) != index:
                return None
            thing_id = int(index)
            if not parts:
                return THING, thing_id, ""
        if not parts or parts[0] != "properties" or len(parts) > 2:
            return None
        if len(parts) == 1:
            return PROPERTIES, thing_id, ""
        return (PROPERTY, thing_id, parts[1]) if parts[1] else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        method = scope.get("method")
        if scope["type"] == "http" and method in ("GET", "PUT"):
            found = self.match(scope["path"])
            if found is not None and self.plain():
                what, thing_id, name = found
                if method == "GET":
                    if await self._read(scope, what, thing_id, name, send):
                        return
                elif what == PROPERTY and not self._declared_too_large(scope):
                    await self._write(scope, thing_id, name, receive, send)
                    return
        await self.inner(scope, receive, send)

    async def _read(
        self, scope: Any, what: int, thing_id: int | None, name: str, send: Any
    ) -> bool:
        state = self.state
        others: Mapping[str, Any] = {}
        try:
            if what == PROPERTY:
                body = operations.read_property(state, thing_id, name)
            elif what == PROPERTIES:
                body = operations.read_properties(state, thing_id)
            else:
                others = state.index_representations if what == THINGS else state.representations
                if operations.negotiate(_header(scope, b"accept"), others) != JSON:
                    return False  # the page or the W3C TD: Quart's renderers
                if what == THINGS:
                    body = operations.describe_things(state, origins(scope))
                else:
                    body = operations.describe_thing(state, thing_id, origins(scope))
        except Exception:  # Quart answers it, the same way as always
            return False
        await _answer(send, 200, body, vary_accept=bool(others))
        return True

    def _declared_too_large(self, scope: Any) -> bool:
        for key, value in scope["headers"]:
            if key == b"content-length":
                return not value.isdigit() or int(value) > self.max_body
        return False

    async def _write(
        self, scope: Any, thing_id: int | None, name: str, receive: Any, send: Any
    ) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body:  # Quart answers 413, from what was read and the rest
                await self.inner(scope, _replay(b"".join(chunks), receive), send)
                return
            if not message.get("more_body", False):
                break
        try:
            self.state.resolve(thing_id).thing.find_property(name)
            body = await operations.write_property(self.state, thing_id, name, b"".join(chunks))
        except ThingtalkError as error:
            await _answer(send, int(error.status), dumps(error_body(error)))
            return
        await _answer(send, 200, body)


def _replay(body: bytes, receive: Any) -> Any:
    """A ``receive`` that yields ``body`` (already read) first, then the rest of the request."""
    replayed = False

    async def replay() -> Any:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": True}
        return await receive()

    return replay


def _header(scope: Any, name: bytes) -> str | None:
    """The first ``name`` header of the request (lower-case ``name``), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _answer(send: Any, status: int, body: bytes, *, vary_accept: bool = False) -> None:
    headers = [_JSON_HEADER, (b"content-length", str(len(body)).encode())]
    if vary_accept:
        headers.append(_VARY_ACCEPT)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
