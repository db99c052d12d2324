"""The lean entrance answers as Quart does, and steps aside when Quart must see a request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import lamp_server, started
from thingtalk.protocols import lean

from .conftest import multiple_server

REQUESTS: list[tuple[str, str, Any]] = [
    ("GET", "/properties/brightness", None),
    ("GET", "/properties", None),
    ("GET", "/properties/nope", None),
    ("PUT", "/properties/brightness", {"brightness": 30}),
    ("PUT", "/properties/brightness", {"brightness": 300}),
    ("PUT", "/properties/brightness", {"on": True}),
    ("PUT", "/properties/brightness", {"brightness": 1, "on": True}),
    ("PUT", "/properties/brightness", [1]),
    ("PUT", "/properties/nope", {"nope": 1}),
    ("PUT", "/properties", {"brightness": 1}),
]


# Ways clients ask for a thing's URL: the gateway and node-wot (JSON or nothing), a browser
# (the page), a W3C consumer (the W3C TD), a client that accepts nothing we have.
ACCEPTS = [
    None,
    "application/json",
    "*/*",
    "text/html,application/xhtml+xml,*/*;q=0.8",
    "application/td+json",
    "application/json;q=0.5, application/td+json",
    "image/png",
]


def _shown(response: Any) -> dict[str, str]:
    keep = ("content-type", "access-control-allow-origin", "vary")
    return {k.lower(): v for k, v in response.headers.items() if k.lower() in keep}


async def answers(
    server: Any, prefix: str, roots: list[str]
) -> list[tuple[int, Any, dict[str, str]]]:
    out = []
    async with started(server.create()) as client:
        for root in roots:
            for accept in ACCEPTS:
                headers = {"Accept": accept} if accept else {}
                response = await client.get(root, headers=headers)
                out.append((response.status_code, await response.get_data(), _shown(response)))
        for method, path, body in REQUESTS:
            response = await client.open(prefix + path, method=method, json=body)
            out.append((response.status_code, await response.get_data(), _shown(response)))
        # a malformed body, an empty one, one over the limit
        for data in (b"{", b"", b'{"brightness": 1' + b" " * 70_000 + b"}"):
            response = await client.put(prefix + "/properties/brightness", data=data)
            out.append((response.status_code, await response.get_data(), {}))
    return out


@pytest.mark.parametrize("layout", ["single", "multiple", "base_path"])
async def test_lean_and_quart_answer_alike(layout: str) -> None:
    def server(**options: Any) -> Any:
        if layout == "multiple":
            return multiple_server(**options)
        return lamp_server(base_path="/lamp" if layout == "base_path" else "", **options)

    prefix = {"single": "", "multiple": "/0", "base_path": "/lamp"}[layout]
    roots = {"single": ["/"], "multiple": ["/", "/0", "/1"], "base_path": ["/lamp"]}[layout]
    lean_answers = await answers(server(lean=True), prefix, roots)
    assert lean_answers == await answers(server(lean=False), prefix, roots)


async def test_the_lean_entrance_answers_the_hot_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[str] = []
    real = lean._answer

    async def spy(send: Any, status: int, body: bytes, **options: Any) -> None:
        served.append(body.decode()[:20])
        await real(send, status, body, **options)

    monkeypatch.setattr(lean, "_answer", spy)
    async with started(lamp_server().create()) as client:
        assert (await client.get("/properties/brightness")).status_code == 200
        assert (
            await client.put("/properties/brightness", json={"brightness": 7})
        ).status_code == 200
        assert (await client.get("/")).status_code == 200  # the TD
        page = await client.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 200  # the page: Quart's
        assert (await client.get("/actions")).status_code == 200  # Quart's
    assert served == ['{"brightness":50}', '{"brightness":7}', '{"@context":"https:/']


async def test_a_request_hook_sends_every_request_through_quart() -> None:
    app = lamp_server().create()
    seen: list[str] = []

    @app.before_request
    async def hook() -> None:
        from quart import request

        seen.append(request.path)

    async with started(app) as client:
        await client.get("/properties/brightness")
        await client.put("/properties/brightness", json={"brightness": 9})
        await client.get("/properties")
    assert seen == ["/properties/brightness", "/properties/brightness", "/properties"]


async def test_the_front_door_checks_hold_on_the_lean_entrance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: list[int] = []
    real = lean._answer

    async def spy(send: Any, status: int, body: bytes, **options: Any) -> None:
        served.append(status)
        await real(send, status, body, **options)

    monkeypatch.setattr(lean, "_answer", spy)
    async with started(lamp_server(tokens=["s3cret"]).create()) as client:
        path = "/properties/brightness"
        assert (await client.get(path)).status_code == 401
        assert (await client.put(path, json={"brightness": 5})).status_code == 401
        evil = {"Authorization": "Bearer s3cret", "Origin": "http://evil.example"}
        assert (await client.get(path, headers=evil)).status_code == 403
        assert (await client.get(path, headers={"Host": "evil.example"})).status_code in (
            401,
            403,
        )
        assert served == []  # none of them reached the lean entrance
        good = {"Authorization": "Bearer s3cret"}
        assert (await client.get(path, headers=good)).status_code == 200
        assert served == [200]
