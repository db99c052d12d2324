"""Bearer tokens: every route the app registers needs one, except reading the TDs and the
page's files; the websockets take it as a header or as ``?jwt=``; the TDs declare it."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from quart import Quart
from quart import typing as quart_typing
from quart.testing.connections import WebsocketResponseError
from websockets.typing import Subprotocol

from tests.support import lamp_class, serving, started
from tests.thingtalk.protocols.conftest import Sensor
from thingtalk import MultipleThings, Route, WebThingServer

from .conftest import FADE_INPUT, HOST, TOKEN

#: What a client without a token may GET, named here and not taken from the library, so that
#: opening one more route is a decision this test has to be told about.
PUBLIC = {"webthings.thing", "webthings.things", "w3c.well_known", "w3c.things", "page.asset"}
BEARER = {"Host": HOST, "Authorization": f"Bearer {TOKEN}"}


async def health() -> Any:
    return {"ok": True}


def token_server(**options: Any) -> WebThingServer:
    """The lamp and a sensor, with a token, and one route added by the user."""
    options.setdefault("tokens", [TOKEN])
    return WebThingServer(
        MultipleThings([lamp_class()(), Sensor()], "Lamp and sensor"),
        discovery=False,
        additional_routes=[Route("/health", health), Route("/health", health, ("POST",))],
        **options,
    )


@pytest.fixture
async def app() -> AsyncIterator[Quart]:
    app = token_server().create()
    async with started(app):
        yield app


def concrete(rule: str) -> str:
    """A path for a URL rule: the lamp's affordances, an action id, a page file."""

    def value(match: re.Match[str]) -> str:
        name, before = match.group(1), rule[: match.start()]
        if name == "thing_id":
            return "0"
        if name == "action_id":
            return "no-such-request"
        if name == "filename":
            return "page.js"
        if before.endswith(("properties/", "properties/<name>/")):
            return "brightness"
        if before.endswith("events/"):
            return "overheated"
        return "fade"

    return re.sub(r"<(?:\w+:)?(\w+)>", value, rule)


def routes(app: Quart) -> list[tuple[str, str, str, bool]]:
    """``(endpoint, method, path, websocket)`` for every rule the app registered."""
    found = []
    for rule in app.url_map.iter_rules():
        websocket = bool(getattr(rule, "websocket", False))
        methods = {"GET"} if websocket else set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        for method in sorted(methods):
            found.append((rule.endpoint, method, concrete(rule.rule), websocket))
    return found


def body_for(path: str) -> Any:
    if path.endswith("/wot/actions/fade"):
        return FADE_INPUT
    if path.endswith("/wot/properties/brightness"):
        return 10
    if "/wot/properties" in path:
        return {"brightness": 10}
    if "/actions" in path:
        return {"fade": {"input": FADE_INPUT}}
    return {"brightness": 10}


async def attempt(
    client: quart_typing.TestClientProtocol, method: str, path: str, headers: dict[str, str]
) -> Any:
    kwargs: dict[str, Any] = {"headers": {"Host": HOST, **headers}}
    if method in ("PUT", "POST"):
        kwargs["json"] = body_for(path)
    return await client.open(path, method=method, **kwargs)


async def lamp(client: quart_typing.TestClientProtocol) -> Any:
    return await (await client.get("/0/properties", headers=BEARER)).get_json()


def test_every_route_is_enumerated(app: Quart) -> None:
    found = {endpoint for endpoint, *_ in routes(app)}
    # The enumeration sees the routes of every protocol and the one the user added.
    assert {"webthings.put_property", "w3c.invoke_action", "socket.thing_socket"} <= found
    assert {"health", "page.asset"} <= found
    assert found >= PUBLIC


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
    ids=["none", "wrong", "basic", "no-scheme", "longer"],
)
async def test_every_route_needs_the_token(app: Quart, credentials: dict[str, str]) -> None:
    client = app.test_client()
    before = await lamp(client)
    for endpoint, method, path, websocket in routes(app):
        if websocket:
            with pytest.raises(WebsocketResponseError) as refused:
                async with client.websocket(path, headers={"Host": HOST, **credentials}) as ws:
                    await ws.send(json.dumps({"messageType": "setProperty", "data": {"on": 0}}))
                    await ws.receive()
            response = refused.value.response
        else:
            response = await attempt(client, method, path, credentials)
        if endpoint in PUBLIC and method == "GET":
            assert response.status_code == 200, (endpoint, path)
            continue
        assert response.status_code == 401, (endpoint, method, path)
        assert response.headers["www-authenticate"].startswith("Bearer"), path
        if not websocket:
            body = json.loads(await response.get_data())
            assert body["error"] == "unauthorized"
            assert TOKEN not in json.dumps(body)
    assert await lamp(client) == before
    assert await (await client.get("/0/actions", headers=BEARER)).get_json() == []


async def test_the_token_opens_every_route(app: Quart) -> None:
    client = app.test_client()
    for endpoint, method, path, websocket in routes(app):
        if websocket or "/sse/" in path:
            continue  # streams: below, over real sockets
        response = await attempt(client, method, path, {"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code not in (401, 403), (endpoint, method, path)
    assert (await lamp(client))["brightness"] != 50  # the writes went through


async def test_the_bearer_scheme_is_case_insensitive(app: Quart) -> None:
    client = app.test_client()
    for scheme in ("bearer", "BEARER", "Bearer"):
        headers = {"Host": HOST, "Authorization": f"{scheme} {TOKEN}"}
        assert (await client.get("/0/properties", headers=headers)).status_code == 200


async def test_several_tokens_and_a_custom_verifier() -> None:
    seen: list[str] = []

    async def verify(token: str) -> bool:
        seen.append(token)
        return token == "issued-by-my-identity-provider"

    app = token_server(
        tokens=["first-token-0123456789", "second-token-0123456789"], verify_token=verify
    ).create()
    async with started(app) as client:
        for token in ("first-token-0123456789", "second-token-0123456789"):
            headers = {"Host": HOST, "Authorization": f"Bearer {token}"}
            assert (await client.get("/0/properties", headers=headers)).status_code == 200
        assert seen == []  # the listed tokens never reach the verifier
        for token, status in (("issued-by-my-identity-provider", 200), ("forged", 401)):
            headers = {"Host": HOST, "Authorization": f"Bearer {token}"}
            assert (await client.get("/0/properties", headers=headers)).status_code == status
        assert seen == ["issued-by-my-identity-provider", "forged"]


async def test_a_verifier_that_raises_refuses(caplog: pytest.LogCaptureFixture) -> None:
    def verify(token: str) -> bool:
        raise RuntimeError(f"cannot decode {token}")

    async with started(token_server(tokens=(), verify_token=verify).create()) as client:
        headers = {"Host": HOST, "Authorization": "Bearer some-secret-value"}
        assert (await client.get("/0/properties", headers=headers)).status_code == 401
    assert "some-secret-value" not in caplog.text


async def test_tokens_never_reach_the_log(caplog: pytest.LogCaptureFixture, app: Quart) -> None:
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    await client.get("/0/properties", headers={"Host": HOST, "Authorization": "Bearer guess"})
    await client.get("/0/properties", headers=BEARER)
    assert TOKEN not in caplog.text and "guess" not in caplog.text
    assert TOKEN not in repr(token_server().security)


@pytest.mark.parametrize("subprotocols", [[], ["webthingprotocol"]], ids=["webthings", "wtp"])
async def test_websockets_take_the_header_or_the_jwt_parameter(
    app: Quart, subprotocols: list[str]
) -> None:
    client = app.test_client()
    for path, headers in ((f"/0?jwt={TOKEN}", {"Host": HOST}), ("/0", BEARER)):
        async with client.websocket(path, headers=headers, subprotocols=subprotocols) as ws:
            await ws.send("{}")
            assert json.loads(await ws.receive())  # an error message: the socket is open
    # ?jwt= is for websockets only: plain HTTP needs the header.
    response = await client.get(f"/0/properties?jwt={TOKEN}", headers={"Host": HOST})
    assert response.status_code == 401


async def test_the_tds_declare_the_bearer_scheme(app: Quart) -> None:
    client = app.test_client()
    webthings = await (
        await client.get("/0", headers={"Host": HOST, "Accept": "application/json"})
    ).get_json()
    assert webthings["securityDefinitions"] == {"bearer_sc": {"scheme": "bearer"}}
    assert webthings["security"] == "bearer_sc"
    headers = {"Host": HOST, "Accept": "application/td+json"}
    w3c = await (await client.get("/0", headers=headers)).get_json()
    assert w3c["securityDefinitions"] == {"bearer_sc": {"scheme": "bearer", "in": "header"}}
    assert w3c["security"] == "bearer_sc"
    listed = await (await client.get("/wot/things", headers={"Host": HOST})).get_json()
    assert all(td["security"] == "bearer_sc" for td in listed)


async def test_without_tokens_the_tds_say_nosec() -> None:
    async with started(token_server(tokens=()).create()) as client:
        td = await (
            await client.get("/0", headers={"Host": HOST, "Accept": "application/json"})
        ).get_json()
        assert td["security"] == "nosec_sc"
        assert (await client.get("/0/properties", headers={"Host": HOST})).status_code == 200


async def test_tokens_over_real_sockets(port: int) -> None:
    """Through Hypercorn: REST, SSE, both websocket protocols (header and ?jwt=)."""
    async with serving(token_server(host="127.0.0.1", port=port)) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            refused = await http.put("/0/properties/on", json={"on": False})
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"].startswith("Bearer")
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert (
                await http.put("/0/properties/on", json={"on": False}, headers=auth)
            ).status_code == 200
            assert (await http.get("/0/wot/sse/properties")).status_code == 401
            async with http.stream("GET", "/0/wot/sse/properties", headers=auth) as stream:
                assert stream.status_code == 200
            assert (await http.get("/.well-known/wot")).status_code == 200
        ws_url = f"ws://127.0.0.1:{port}/0"
        for subprotocols in (None, [Subprotocol("webthingprotocol")]):
            with pytest.raises(websockets.InvalidStatus) as no_token:
                async with websockets.connect(ws_url, subprotocols=subprotocols):
                    pass
            assert no_token.value.response.status_code == 401
            async with websockets.connect(f"{ws_url}?jwt={TOKEN}", subprotocols=subprotocols):
                pass
            async with websockets.connect(
                ws_url,
                subprotocols=subprotocols,
                additional_headers={"Authorization": f"Bearer {TOKEN}"},
            ):
                pass


async def test_a_foreign_page_gets_nothing_on_any_route(app: Quart) -> None:
    """The Origin gate comes before the token, on every route the app registers: even the
    public ones and even with the token, a page of another origin is refused."""
    client = app.test_client()
    before = await lamp(client)
    for endpoint, method, path, websocket in routes(app):
        headers = {**BEARER, "Origin": "https://evil.example"}
        if websocket:
            with pytest.raises(WebsocketResponseError) as refused:
                async with client.websocket(path, headers=headers) as ws:
                    await ws.send(json.dumps({"messageType": "setProperty", "data": {"on": 0}}))
                    await ws.receive()
            response = refused.value.response
        else:
            response = await attempt(client, method, path, headers)
        assert response.status_code == 403, (endpoint, method, path)
        assert "access-control-allow-origin" not in response.headers
    assert await lamp(client) == before
