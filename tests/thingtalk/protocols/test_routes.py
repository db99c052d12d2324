"""Every WebThings route and status code: success, trailing slashes, OPTIONS, and the errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart.testing import QuartClient

from tests.support import eventually, lamp_server, started

from .conftest import TIMESTAMP, multiple_server

# Every test here runs through the lean router and through Quart alone.
pytestmark = pytest.mark.usefixtures("entrance")
FADE = {"fade": {"input": {"brightness": 80, "duration": 1}}}


@pytest.fixture(params=["single", "multiple", "base_path"])
async def setup(request: pytest.FixtureRequest) -> AsyncIterator[tuple[QuartClient, str]]:
    """A client and the lamp's prefix: at the root, at ``/0``, and under ``/lamp``."""
    if request.param == "single":
        server, prefix = lamp_server(), ""
    elif request.param == "multiple":
        server, prefix = multiple_server(), "/0"
    else:
        server, prefix = lamp_server(base_path="/lamp"), "/lamp"
    async with started(server.create()) as client:
        yield client, prefix


@pytest.fixture
async def client() -> AsyncIterator[QuartClient]:
    async with started(lamp_server().create()) as client:
        yield client


@pytest.fixture
async def multi() -> AsyncIterator[QuartClient]:
    async with started(multiple_server().create()) as client:
        yield client


async def body_of(response: Any) -> Any:
    data = await response.get_data()
    return json.loads(data) if data else None


def assert_no_cors(response: Any) -> None:
    """A client that is no web page of another origin gets no CORS grant (tests/security has
    the allow-listed origins)."""
    assert "access-control-allow-origin" not in response.headers


async def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is ``status`` with the one error shape."""
    assert response.status_code == status, await response.get_data()
    assert response.content_type == "application/json"
    body = await body_of(response)
    assert set(body) == {"error", "message"}
    assert isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["error"] == code
    assert_no_cors(response)
    return body


async def brightness(client: QuartClient, prefix: str) -> int:
    value: int = (await body_of(await client.get(f"{prefix}/properties/brightness")))["brightness"]
    return value


# -- success ------------------------------------------------------------------


async def test_every_route(setup: tuple[QuartClient, str]) -> None:
    client, prefix = setup
    response = await client.get(prefix or "/")
    assert response.status_code == 200
    assert (await body_of(response))["title"] == "My Lamp"
    assert_no_cors(response)

    for path, expected in [
        ("/properties", {"on": True, "brightness": 50}),
        ("/properties/on", {"on": True}),
        ("/properties/brightness", {"brightness": 50}),
        ("/actions", []),
        ("/actions/fade", []),
        ("/events", []),
        ("/events/overheated", []),
    ]:
        response = await client.get(prefix + path)
        assert response.status_code == 200, path
        assert response.content_type == "application/json"
        assert await body_of(response) == expected, path
        assert_no_cors(response)

    response = await client.put(f"{prefix}/properties/on", json={"on": False})
    assert (response.status_code, await body_of(response)) == (200, {"on": False})
    assert_no_cors(response)

    for path in ("/actions", "/actions/fade"):
        response = await client.post(prefix + path, json=FADE)
        assert response.status_code == 201
        assert_no_cors(response)
        body = await body_of(response)
        href = body["fade"]["href"]
        assert response.headers["Location"] == href
        assert href.startswith(f"{prefix}/actions/fade/")
        assert body["fade"]["status"] == "created"
        assert TIMESTAMP.match(body["fade"]["timeRequested"])

        async def done(href: str = href) -> bool:
            body = await body_of(await client.get(href))
            return bool(body["fade"]["status"] == "completed")

        await eventually(done)
        response = await client.delete(href)
        assert response.status_code == 204
        assert await response.get_data() == b""
        assert_no_cors(response)
        assert (await client.get(href)).status_code == 404

    events = await body_of(await client.get(f"{prefix}/events/overheated"))
    assert [e["overheated"]["data"] for e in events] == [102, 102]


async def test_trailing_slashes_are_optional(setup: tuple[QuartClient, str]) -> None:
    client, prefix = setup
    assert (await client.get(f"{prefix}/")).status_code == 200
    for path in ("/properties/", "/properties/on/", "/actions/", "/actions/fade/", "/events/"):
        assert (await client.get(prefix + path)).status_code == 200, path
    assert (await client.get(f"{prefix}/events/overheated/")).status_code == 200
    response = await client.put(f"{prefix}/properties/brightness/", json={"brightness": 7})
    assert (response.status_code, await body_of(response)) == (200, {"brightness": 7})
    response = await client.post(f"{prefix}/actions/fade/", json=FADE)
    assert response.status_code == 201
    href = (await body_of(response))["fade"]["href"]
    assert (await client.get(f"{href}/")).status_code == 200
    assert (await client.delete(f"{href}/")).status_code == 204


async def test_things_listing_with_trailing_slash(multi: QuartClient) -> None:
    response = await multi.get("/")
    assert response.status_code == 200
    assert len(await body_of(response)) == 2
    assert_no_cors(response)
    assert (await multi.get("/1/")).status_code == 200


@pytest.mark.parametrize(
    "path", ["/", "/properties/on", "/actions/fade", "/nowhere", "/actions/fade/123"]
)
async def test_options_is_204_with_the_methods(client: QuartClient, path: str) -> None:
    response = await client.options(path)
    assert response.status_code == 204
    assert await response.get_data() == b""
    assert_no_cors(response)
    assert response.headers["allow"] == "GET, HEAD, PUT, POST, DELETE, OPTIONS"


async def test_head_of_a_property(client: QuartClient) -> None:
    response = await client.head("/properties/on")
    assert response.status_code == 200
    assert_no_cors(response)


# -- not found ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/properties/colour", None),
        ("PUT", "/properties/colour", {"colour": "red"}),
        ("GET", "/actions/explode", None),
        ("POST", "/actions/explode", {"explode": {}}),
        ("POST", "/actions", {"explode": {}}),
        ("GET", "/actions/fade/no-such-id", None),
        ("DELETE", "/actions/fade/no-such-id", None),
        ("GET", "/actions/explode/no-such-id", None),
        ("GET", "/events/melted", None),
        ("GET", "/nowhere", None),
        ("GET", "/properties/on/more", None),
    ],
)
async def test_unknown_names_are_404(
    setup: tuple[QuartClient, str], method: str, path: str, body: Any
) -> None:
    client, prefix = setup
    kwargs = {} if body is None else {"json": body}
    response = await client.open(prefix + path, method=method, **kwargs)
    await assert_error(response, 404, "not-found")
    assert await body_of(await client.get(f"{prefix}/actions")) == []


async def test_action_id_under_another_name_is_404(client: QuartClient) -> None:
    href = (await body_of(await client.post("/actions", json=FADE)))["fade"]["href"]
    action_id = href.rsplit("/", 1)[-1]
    await assert_error(await client.get(f"/actions/other/{action_id}"), 404)
    await assert_error(await client.delete(f"/actions/other/{action_id}"), 404)
    assert (await client.get(href)).status_code == 200


@pytest.mark.parametrize("path", ["/2", "/2/properties", "/2/properties/on", "/-1", "/x/actions"])
async def test_unknown_thing_is_404(multi: QuartClient, path: str) -> None:
    await assert_error(await multi.get(path), 404, "not-found")


async def test_single_thing_has_no_index_routes(client: QuartClient) -> None:
    await assert_error(await client.get("/0"), 404)
    await assert_error(await client.get("/0/properties"), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/properties/on"), ("POST", "/properties"), ("PUT", "/actions"), ("POST", "/")],
)
async def test_wrong_method_is_405(client: QuartClient, method: str, path: str) -> None:
    await assert_error(await client.open(path, method=method, json={}), 405)


# -- bad requests change nothing ----------------------------------------------


@pytest.mark.parametrize(
    "value", [101, -1, "bright", 50.5, None, True, [50], {"value": 50}], ids=repr
)
async def test_invalid_value_is_400_and_changes_nothing(
    setup: tuple[QuartClient, str], value: Any
) -> None:
    client, prefix = setup
    response = await client.put(f"{prefix}/properties/brightness", json={"brightness": value})
    body = await assert_error(response, 400)
    assert "brightness" in body["message"]
    assert await brightness(client, prefix) == 50


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"brightness=60",
        b'{"brightness": 60',
        b"\xff\xfe",
        b"[]",
        b"60",
        b'"60"',
        b"null",
        b"{}",
        b'{"on": true}',
        b'{"brightness": 60, "on": false}',
        b'{"Brightness": 60}',
    ],
    ids=repr,
)
async def test_malformed_or_misshapen_put_is_400(client: QuartClient, data: bytes) -> None:
    response = await client.put(
        "/properties/brightness", data=data, headers={"Content-Type": "application/json"}
    )
    await assert_error(response, 400)
    assert await body_of(await client.get("/properties")) == {"on": True, "brightness": 50}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/actions", []),
        ("/actions", {}),
        ("/actions", "fade"),
        ("/actions", {"fade": 5}),
        ("/actions", {"fade": {"input": {"brightness": 80, "duration": 1}, "extra": 1}}),
        ("/actions", {**FADE, "other": {}}),
        ("/actions", {"fade": {}}),
        ("/actions", {"fade": {"input": {"brightness": 101, "duration": 1}}}),
        ("/actions", {"fade": {"input": {"brightness": 80}}}),
        ("/actions", {"fade": {"input": {"brightness": 80, "duration": 0}}}),
        ("/actions", {"fade": {"input": "fast"}}),
        ("/actions/fade", {"dim": {"input": {"brightness": 80, "duration": 1}}}),
        ("/actions/fade", {"input": {"brightness": 80, "duration": 1}}),
    ],
    ids=repr,
)
async def test_bad_action_request_is_400_and_starts_nothing(
    client: QuartClient, path: str, body: Any
) -> None:
    await assert_error(await client.post(path, json=body), 400)
    assert await body_of(await client.get("/actions")) == []
    assert await brightness(client, "") == 50


async def test_malformed_action_json_is_400(client: QuartClient) -> None:
    for data in (b"", b"{", b"fade"):
        response = await client.post(
            "/actions", data=data, headers={"Content-Type": "application/json"}
        )
        await assert_error(response, 400)
    assert await body_of(await client.get("/actions")) == []


async def test_read_only_put_is_400(multi: QuartClient) -> None:
    response = await multi.put("/1/properties/level", json={"level": 10})
    await assert_error(response, 400, "read-only")
    assert await body_of(await multi.get("/1/properties/level")) == {"level": 40.0}


async def test_oversized_body_is_413(client: QuartClient) -> None:
    padding = "x" * (64 * 1024)
    response = await client.put(
        "/properties/brightness",
        data=json.dumps({"brightness": 60, "padding": padding}).encode(),
        headers={"Content-Type": "application/json"},
    )
    await assert_error(response, 413, "payload-too-large")
    assert await brightness(client, "") == 50


async def test_body_limit_is_configurable() -> None:
    async with started(lamp_server(max_body_size=64).create()) as client:
        small = {"brightness": 60}
        assert (await client.put("/properties/brightness", json=small)).status_code == 200
        big = {"fade": {"input": {"brightness": 80, "duration": 1}}, "x": "y" * 100}
        await assert_error(await client.post("/actions", json=big), 413)
        assert await body_of(await client.get("/actions")) == []
