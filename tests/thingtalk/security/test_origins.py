"""Web pages of other origins: refused unless allow-listed; bodies must be JSON.

The matrix: origin x route (every write of both dialects, the reads, both websocket
protocols, the SSE streams) x content type. A refused request changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from quart.testing import QuartClient
from quart.testing.connections import WebsocketResponseError
from websockets.typing import Origin, Subprotocol

from tests.support import lamp_server, serving, started

from .conftest import GATEWAY, HOST, JSON_TYPE, OWN, READS, WRITES, Write, prepare, send
from .conftest import state as lamp_state

FOREIGN = [
    "https://evil.example",
    "http://evil.example:8888",
    "null",  # a sandboxed frame, a file: page, a redirect across sites
    "http://localhost:9999",  # this machine's name, but another port: another origin
    "https://localhost:8888",  # another scheme: another origin
    "http://localhost.evil.example:8888",
    "not an origin",
]
ALLOWED = [None, OWN, "HTTP://LOCALHOST:8888"]  # no Origin: no browser (the gateway, curl)
CROSS_SITE_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "text/plain; charset=utf-8",
]
JSON_TYPES = [
    JSON_TYPE,
    "application/json; charset=utf-8",
    "Application/JSON",
    "application/td+json",
]


@pytest.fixture
async def client() -> AsyncIterator[QuartClient]:
    async with started(lamp_server().create()) as client:
        yield client


@pytest.fixture
async def gateway_client() -> AsyncIterator[QuartClient]:
    async with started(lamp_server(allowed_origins=[GATEWAY]).create()) as client:
        yield client


async def error_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(await response.get_data())
    return body


@pytest.mark.parametrize("write", WRITES, ids=str)
@pytest.mark.parametrize("origin", FOREIGN)
async def test_a_foreign_page_changes_nothing(
    client: QuartClient, origin: str, write: Write
) -> None:
    path = await prepare(client, write)
    before = await lamp_state(client)
    response = await send(client, write, path, {"Origin": origin})
    assert response.status_code == 403, await response.get_data()
    assert "access-control-allow-origin" not in response.headers
    body = await error_of(response)
    assert body.get("error") == "forbidden"
    assert "may not use these things" in str(body.get("message") or body.get("detail"))
    assert await lamp_state(client) == before


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("origin", FOREIGN)
async def test_a_foreign_page_reads_nothing(client: QuartClient, origin: str, path: str) -> None:
    response = await client.get(path, headers={"Host": HOST, "Origin": origin})
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("origin", FOREIGN)
async def test_a_foreign_preflight_is_refused(client: QuartClient, origin: str) -> None:
    response = await client.options(
        "/properties/brightness",
        headers={"Host": HOST, "Origin": origin, "Access-Control-Request-Method": "PUT"},
    )
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-methods" not in response.headers


@pytest.mark.parametrize("write", WRITES, ids=str)
@pytest.mark.parametrize("origin", ALLOWED)
async def test_own_page_and_non_browsers_may_write(
    client: QuartClient, origin: str | None, write: Write
) -> None:
    path = await prepare(client, write)
    headers = {} if origin is None else {"Origin": origin}
    response = await send(client, write, path, headers)
    assert response.status_code in (200, 201, 204), await response.get_data()
    # The server's own page is same-origin: it needs (and gets) no CORS grant.
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("write", [w for w in WRITES if w.body is not None], ids=str)
@pytest.mark.parametrize("content_type", [*CROSS_SITE_TYPES, None])
async def test_a_body_that_is_not_json_is_refused(
    client: QuartClient, content_type: str | None, write: Write
) -> None:
    """What a cross-site form or a "simple" fetch can send without a preflight, refused even
    without an Origin (an old browser may leave it out)."""
    path = await prepare(client, write)
    before = await lamp_state(client)
    response = await send(client, write, path, {}, content_type)
    assert response.status_code == 415, await response.get_data()
    body = await error_of(response)
    assert body["error"] == "unsupported-media-type"
    assert await lamp_state(client) == before


@pytest.mark.parametrize("write", [w for w in WRITES if w.body is not None], ids=str)
@pytest.mark.parametrize("content_type", JSON_TYPES)
async def test_json_bodies_are_taken(client: QuartClient, content_type: str, write: Write) -> None:
    path = await prepare(client, write)
    response = await send(client, write, path, {}, content_type)
    assert response.status_code in (200, 201, 204), await response.get_data()


async def test_a_bodyless_post_with_a_cross_site_type_is_refused(client: QuartClient) -> None:
    # <form enctype="text/plain" method="post"> with no fields: an empty body, still a form.
    before = await lamp_state(client)
    for path in ("/actions", "/wot/actions/fade"):
        response = await client.post(path, headers={"Host": HOST, "Content-Type": "text/plain"})
        assert response.status_code == 415
    assert await lamp_state(client) == before


# -- allow-listed origins --------------------------------------------------------------


@pytest.mark.parametrize("write", WRITES, ids=str)
async def test_an_allow_listed_origin_may_write(gateway_client: QuartClient, write: Write) -> None:
    path = await prepare(gateway_client, write)
    response = await send(gateway_client, write, path, {"Origin": GATEWAY})
    assert response.status_code in (200, 201, 204), await response.get_data()
    assert response.headers["access-control-allow-origin"] == GATEWAY
    assert "Origin" in response.headers["vary"]
    assert "Location" in response.headers["access-control-expose-headers"]


async def test_an_allow_listed_origin_gets_its_preflight(gateway_client: QuartClient) -> None:
    response = await gateway_client.options(
        "/properties/brightness",
        headers={
            "Host": HOST,
            "Origin": GATEWAY,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == GATEWAY
    assert "PUT" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed and "authorization" in allowed
    read = await gateway_client.get("/properties", headers={"Host": HOST, "Origin": GATEWAY})
    assert read.headers["access-control-allow-origin"] == GATEWAY


async def test_the_allow_list_opens_only_what_it_names(gateway_client: QuartClient) -> None:
    before = await lamp_state(gateway_client)
    for origin in ("http://gateway.local", "https://gateway.local:8080", "http://evil.example"):
        response = await gateway_client.put(
            "/properties/brightness",
            json={"brightness": 1},
            headers={"Host": HOST, "Origin": origin},
        )
        assert response.status_code == 403, origin
    assert await lamp_state(gateway_client) == before


def test_any_origin_needs_tokens() -> None:
    with pytest.raises(ValueError, match="needs tokens"):
        lamp_server(allowed_origins=["*"])
    with pytest.raises(ValueError, match="not an origin"):
        lamp_server(allowed_origins=["gateway.local"])
    lamp_server(allowed_origins=["*"], tokens=["a-long-enough-token"])


async def test_any_origin_with_tokens_still_needs_the_token() -> None:
    server = lamp_server(allowed_origins=["*"], tokens=["a-long-enough-token"])
    async with started(server.create()) as client:
        headers = {"Host": HOST, "Origin": "https://anywhere.example"}
        refused = await client.put("/properties/on", json={"on": False}, headers=headers)
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == "*"  # the page can read why
        headers["Authorization"] = "Bearer a-long-enough-token"
        taken = await client.put("/properties/on", json={"on": False}, headers=headers)
        assert taken.status_code == 200
        assert taken.headers["access-control-allow-origin"] == "*"


# -- websockets (both protocols) ---------------------------------------------------------


@pytest.mark.parametrize("subprotocols", [[], ["webthingprotocol"]], ids=["webthings", "wtp"])
@pytest.mark.parametrize("origin", FOREIGN)
async def test_a_foreign_page_cannot_open_a_websocket(
    client: QuartClient, origin: str, subprotocols: list[str]
) -> None:
    with pytest.raises(WebsocketResponseError) as refused:
        async with client.websocket(
            "/", headers={"Host": HOST, "Origin": origin}, subprotocols=subprotocols
        ) as ws:
            await ws.send(json.dumps({"messageType": "setProperty", "data": {"on": False}}))
            await ws.receive()
    assert refused.value.response.status_code == 403
    assert await (await client.get("/properties/on")).get_json() == {"on": True}


@pytest.mark.parametrize("origin", [OWN, None])
async def test_own_page_opens_the_websocket(client: QuartClient, origin: str | None) -> None:
    headers = {"Host": HOST} if origin is None else {"Host": HOST, "Origin": origin}
    async with client.websocket("/", headers=headers) as ws:
        await ws.send(json.dumps({"messageType": "setProperty", "data": {"on": False}}))
        assert json.loads(await ws.receive())["messageType"] == "propertyStatus"


async def test_websockets_and_sse_through_hypercorn(port: int) -> None:
    """The same refusals over real sockets: websockets of both protocols and the SSE streams."""
    server = lamp_server(host="127.0.0.1", port=port, allowed_origins=[GATEWAY])
    async with serving(server) as url:
        ws_url = f"ws://127.0.0.1:{port}/"
        for subprotocols in (None, [Subprotocol("webthingprotocol")]):
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(
                    ws_url, origin=Origin("https://evil.example"), subprotocols=subprotocols
                ):
                    pass
            assert refused.value.response.status_code == 403
            for origin in (f"http://127.0.0.1:{port}", GATEWAY):
                async with websockets.connect(
                    ws_url, origin=Origin(origin), subprotocols=subprotocols
                ):
                    pass
        async with httpx.AsyncClient(base_url=url) as http:
            for path in ("/wot/sse/properties", "/wot/sse/events/overheated"):
                response = await http.get(path, headers={"Origin": "https://evil.example"})
                assert response.status_code == 403, path
                async with http.stream("GET", path, headers={"Origin": GATEWAY}) as stream:
                    assert stream.status_code == 200
                    assert stream.headers["access-control-allow-origin"] == GATEWAY
            # A form posted across sites: refused before anything runs.
            response = await http.post(
                "/actions",
                content=b'{"fade": {"input": {"brightness": 1, "duration": 1}}}',
                headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
            )
            assert response.status_code == 403
            response = await http.post(
                "/wot/actions/fade",
                content=b'{"brightness": 1, "duration": 1}',
                headers={"Content-Type": "text/plain"},
            )
            assert response.status_code == 415
            assert response.headers["content-type"] == "application/problem+json"
            assert (await http.get("/actions")).json() == []
