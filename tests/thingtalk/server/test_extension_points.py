"""WebThingServer's extension points: extra routes, ASGI middlewares, startup and shutdown."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import httpx
import pytest
import websockets
from quart import Blueprint, jsonify, request

from tests.support import free_port, lamp_server, serving, started
from thingtalk import Route


def tagging(tag: str) -> Any:
    """An ASGI middleware factory that appends ``x-chain: <tag>`` to every HTTP answer."""

    def factory(app: Any) -> Any:
        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return

            async def tagged_send(message: Any) -> None:
                if message["type"] == "http.response.start":
                    message = dict(message)
                    message["headers"] = [*message.get("headers", ()), (b"x-chain", tag.encode())]
                await send(message)

            await app(scope, receive, tagged_send)

        return middleware

    return factory


async def test_additional_route_and_blueprint() -> None:
    async def health() -> Any:
        return jsonify({"ok": True})

    async def echo() -> Any:
        return jsonify(await request.get_json())

    extra = Blueprint("extra", __name__, url_prefix="/extra")

    @extra.route("/hello/<name>")
    async def hello(name: str) -> Any:
        return jsonify({"hello": name})

    server = lamp_server(
        additional_routes=[
            Route("/health", health),
            Route("/echo", echo, ("POST",)),
            extra,
        ]
    )
    async with started(server.create()) as client:
        response = await client.get("/health")
        assert (response.status_code, await response.get_json()) == (200, {"ok": True})
        response = await client.post("/echo", json={"a": 1})
        assert await response.get_json() == {"a": 1}
        assert (await client.get("/echo")).status_code == 405
        response = await client.get("/extra/hello/lamp")
        assert await response.get_json() == {"hello": "lamp"}
        assert (await client.get("/extra/hello/lamp/")).status_code == 200
        # The things' own routes are untouched, and the extras sit behind the Host check.
        assert (await client.get("/properties/on")).status_code == 200
        assert (await client.get("/health", headers={"Host": "evil.com"})).status_code == 403


async def test_additional_middlewares_wrap_every_answer() -> None:
    server = lamp_server(additional_middlewares=[tagging("first"), tagging("second")])
    async with started(server.create()) as client:
        for path in ("/", "/properties/on", "/no-such-route"):
            response = await client.get(path)
            # The first listed is innermost: it sees the answer first.
            assert response.headers.getlist("x-chain") == ["first", "second"], path
        response = await client.put("/properties/on", json={"on": False})
        assert response.headers.getlist("x-chain") == ["first", "second"]
        # Inside the Host check: a refused request never reaches them.
        refused = await client.get("/", headers={"Host": "evil.com"})
        assert refused.status_code == 403
        assert refused.headers.getlist("x-chain") == []


async def test_middleware_and_routes_through_hypercorn() -> None:
    async def health() -> Any:
        return jsonify({"ok": True})

    server = lamp_server(
        host="127.0.0.1",
        port=free_port(),
        additional_middlewares=[tagging("outer")],
        additional_routes=[Route("/health", health)],
    )
    async with serving(server) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/properties")
        assert response.status_code == 200
        assert response.headers["x-chain"] == "outer"
        assert (await http.get("/health")).json() == {"ok": True}


async def test_startup_and_shutdown_handlers_sync_and_async() -> None:
    calls: list[str] = []
    thing = lamp_server().things.things[0]

    def sync_start() -> None:
        calls.append("sync start")

    async def async_start() -> None:
        await asyncio.sleep(0)
        # Things are built before the handlers run.
        calls.append(f"async start {sorted(thing.properties)}")

    def sync_stop() -> None:
        calls.append("sync stop")

    async def async_stop() -> None:
        await asyncio.sleep(0)
        calls.append("async stop")

    server = lamp_server(
        thing,
        additional_on_startup=[sync_start, async_start],
        additional_on_shutdown=[sync_stop, async_stop],
    )
    app = server.create()
    assert server.create() is app
    assert calls == []
    async with started(app) as client:
        assert calls == ["sync start", "async start ['brightness', 'on']"]
        assert (await client.get("/")).status_code == 200
        assert (await client.get("/properties")).status_code == 200
        assert len(calls) == 2
    assert calls == [
        "sync start",
        "async start ['brightness', 'on']",
        "sync stop",
        "async stop",
    ]


async def test_handlers_run_once_under_hypercorn() -> None:
    counts = {"start": 0, "stop": 0}

    def start() -> None:
        counts["start"] += 1

    async def stop() -> None:
        counts["stop"] += 1

    server = lamp_server(
        host="127.0.0.1",
        port=free_port(),
        additional_on_startup=[start],
        additional_on_shutdown=[stop],
    )
    async with serving(server) as url, httpx.AsyncClient(base_url=url) as http:
        for _ in range(3):
            assert (await http.get("/")).status_code == 200
        assert counts == {"start": 1, "stop": 0}
    assert counts == {"start": 1, "stop": 1}


async def test_the_gc_is_frozen_at_startup_only_when_asked() -> None:
    # gc.freeze() is the whole process's; a program that embeds the server decides.
    gc.unfreeze()
    try:
        async with started(lamp_server().create()):
            assert gc.get_freeze_count() == 0
        async with started(lamp_server(freeze_gc=True).create()):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


async def test_the_seeds_starlette_routes_and_middleware_are_served_as_they_are() -> None:
    """The seed passed Starlette objects; they run as Starlette runs them, behind the Host
    check and CORS like every route."""
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route as StarletteRoute
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"hello": request.path_params["name"]})

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    class Tag:
        """A Starlette-style pure ASGI middleware class with an option."""

        def __init__(self, app: Any, tag: str) -> None:
            self.app = app
            self.tag = tag

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await tagging(self.tag)(self.app)(scope, receive, send)

    port = free_port()
    server = lamp_server(
        host="127.0.0.1",
        port=port,
        additional_routes=[
            StarletteRoute("/hello/{name}", hello),
            WebSocketRoute("/echo", echo),
        ],
        additional_middlewares=[Middleware(Tag, tag="starlette")],
    )
    async with serving(server) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/hello/seed")
        assert (response.status_code, response.json()) == (200, {"hello": "seed"})
        assert response.headers["x-chain"] == "starlette"
        assert response.headers["access-control-allow-origin"] == "*"
        # A request the Starlette route does not fully match (another method) is the app's.
        assert (await http.post("/hello/seed")).json()["error"] == "not-found"
        lamp = await http.get("/properties/on")
        assert lamp.json() == {"on": True} and lamp.headers["x-chain"] == "starlette"
        refused = await http.get("/hello/seed", headers={"Host": "attacker.example"})
        assert refused.status_code == 403
        async with websockets.connect(f"ws://127.0.0.1:{port}/echo") as ws:
            await ws.send("ping")
            assert await ws.recv() == "ping"


def test_a_route_of_another_kind_is_refused_saying_what_to_pass() -> None:
    tornado_style = (r"/health/?", object)
    with pytest.raises(TypeError, match=r"thingtalk\.Route .* Blueprint, or a Starlette Route"):
        lamp_server(additional_routes=[tornado_style])
    with pytest.raises(TypeError, match="middleware factories"):
        lamp_server(additional_middlewares=["not middleware"])
