"""The HTTP Basic profile routes: bare values, status codes, actions, Problem Details."""

from __future__ import annotations

import json
from typing import Any

from quart.testing import QuartClient

from tests.support import eventually

from .conftest import PROBLEM


async def call(
    client: QuartClient, method: str, path: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, Any, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    response = await client.open(path, method=method, data=data)
    text = await response.get_data()
    return response.status_code, (json.loads(text) if text else None), response


def assert_problem(status: int, body: Any, response: Any, expected: int) -> None:
    assert status == expected, body
    assert response.content_type == PROBLEM
    assert body["status"] == expected
    assert body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    assert body["instance"].startswith("/")


async def test_readproperty_answers_the_bare_value(lamp: QuartClient) -> None:
    assert (await call(lamp, "GET", "/wot/properties/brightness"))[:2] == (200, 50)
    assert (await call(lamp, "GET", "/wot/properties/on"))[:2] == (200, True)
    # The WebThings route is unchanged.
    assert (await call(lamp, "GET", "/properties/on"))[:2] == (200, {"on": True})


async def test_writeproperty_puts_the_bare_value_and_answers_204(lamp: QuartClient) -> None:
    status, body, _ = await call(lamp, "PUT", "/wot/properties/brightness", 70)
    assert (status, body) == (204, None)
    assert (await call(lamp, "GET", "/wot/properties/brightness"))[:2] == (200, 70)
    assert (await call(lamp, "GET", "/properties/brightness"))[:2] == (200, {"brightness": 70})


async def test_bad_writes_get_problem_details_and_change_nothing(lamp: QuartClient) -> None:
    for body, raw in ((101, None), ("bright", None), (None, b"{nope"), (None, b"")):
        status, problem, response = await call(lamp, "PUT", "/wot/properties/brightness", body, raw)
        assert_problem(status, problem, response, 400)
    assert (await call(lamp, "GET", "/wot/properties/brightness"))[:2] == (200, 50)
    status, problem, response = await call(lamp, "PUT", "/wot/properties/volume", 3)
    assert_problem(status, problem, response, 404)
    status, problem, response = await call(lamp, "GET", "/wot/properties/volume")
    assert_problem(status, problem, response, 404)
    assert "volume" in problem["detail"]


async def test_read_only_property_refuses_writes(gadget: QuartClient) -> None:
    status, problem, response = await call(gadget, "PUT", "/wot/properties/serial", "B-2")
    assert_problem(status, problem, response, 400)
    assert problem["error"] == "read-only"
    assert (await call(gadget, "GET", "/wot/properties/serial"))[:2] == (200, "A-1")


async def test_readallproperties_and_writemultipleproperties(lamp: QuartClient) -> None:
    assert (await call(lamp, "GET", "/wot/properties"))[:2] == (
        200,
        {"on": True, "brightness": 50},
    )
    status, _, _ = await call(lamp, "PUT", "/wot/properties", {"on": False, "brightness": 10})
    assert status == 204
    assert (await call(lamp, "GET", "/wot/properties"))[1] == {"on": False, "brightness": 10}


async def test_writemultipleproperties_is_all_or_nothing(lamp: QuartClient) -> None:
    for body in ({"on": True, "brightness": 500}, {"on": True, "volume": 1}, [1], {}, 5):
        status, _, response = await call(lamp, "PUT", "/wot/properties", body)
        assert status in (400, 404), body
        assert response.content_type == PROBLEM
    assert (await call(lamp, "GET", "/wot/properties"))[1] == {"on": True, "brightness": 50}


async def test_asynchronous_action_201_location_then_query(lamp: QuartClient) -> None:
    status, body, response = await call(
        lamp, "POST", "/wot/actions/fade", {"brightness": 20, "duration": 1}
    )
    assert status == 201
    assert body["status"] in ("pending", "running")
    assert response.headers["Location"] == body["href"]
    assert body["href"].startswith("/wot/actions/fade/")
    assert "timeRequested" in body

    async def completed() -> Any:
        _, status_now, _ = await call(lamp, "GET", body["href"])
        return status_now if status_now["status"] == "completed" else None

    final = await eventually(completed)
    assert final["timeEnded"] and final["href"] == body["href"]
    assert (await call(lamp, "GET", "/wot/properties/brightness"))[1] == 20
    _, all_actions, _ = await call(lamp, "GET", "/wot/actions")
    assert [a["href"] for a in all_actions["fade"]] == [body["href"]]


async def test_cancelaction_204_then_gone(gadget: QuartClient) -> None:
    _, first, _ = await call(gadget, "POST", "/wot/actions/wait", 60)
    _, second, _ = await call(gadget, "POST", "/wot/actions/wait", 60)
    _, listing, _ = await call(gadget, "GET", "/wot/actions")
    assert [a["href"] for a in listing["wait"]] == [second["href"], first["href"]]  # newest first
    assert listing["blink"] == [] and listing["explode"] == []
    status, body, _ = await call(gadget, "DELETE", first["href"])
    assert (status, body) == (204, None)
    status, problem, response = await call(gadget, "GET", first["href"])
    assert_problem(status, problem, response, 404)
    status, problem, response = await call(gadget, "DELETE", first["href"])
    assert_problem(status, problem, response, 404)
    await call(gadget, "DELETE", second["href"])


async def test_synchronous_action_answers_200_with_the_output(gadget: QuartClient) -> None:
    status, body, response = await call(gadget, "POST", "/wot/actions/blink", {"times": 3})
    assert (status, body) == (200, {"blinks": 3})
    assert "Location" not in response.headers


async def test_failing_synchronous_action_is_a_500_problem(gadget: QuartClient) -> None:
    status, problem, response = await call(gadget, "POST", "/wot/actions/explode")
    assert_problem(status, problem, response, 500)
    assert problem["detail"] == "the fuse blew"


async def test_bad_action_input_starts_nothing(gadget: QuartClient, lamp: QuartClient) -> None:
    for body in ({"times": 0}, {}, "three"):
        status, problem, response = await call(gadget, "POST", "/wot/actions/blink", body)
        assert_problem(status, problem, response, 400)
    status, problem, response = await call(lamp, "POST", "/wot/actions/fade", {"brightness": 1})
    assert_problem(status, problem, response, 400)
    status, problem, response = await call(lamp, "POST", "/wot/actions/fly", {})
    assert_problem(status, problem, response, 404)
    assert (await call(gadget, "GET", "/wot/actions"))[1]["blink"] == []
    assert (await call(lamp, "GET", "/wot/actions"))[1] == {"fade": []}


async def test_wrong_method_on_a_w3c_route_is_a_problem_too(lamp: QuartClient) -> None:
    status, problem, response = await call(lamp, "POST", "/wot/properties/on", True)
    assert_problem(status, problem, response, 405)
    # ... while the WebThings routes keep their own error body.
    status, body, response = await call(lamp, "POST", "/properties/on", {"on": True})
    assert status == 405 and response.content_type == "application/json"
    assert set(body) == {"error", "message"}
