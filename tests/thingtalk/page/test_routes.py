"""How the page is served: representations by Accept, the index, the static files (no browser)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart

from thingtalk import MultipleThings, SingleThing, WebThingServer

from .conftest import Lamp, Sensor

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
async def app() -> AsyncIterator[Quart]:
    server = WebThingServer(MultipleThings([Lamp(), Sensor()], "Test <Appliance>"), discovery=False)
    quart = server.create()
    async with quart.test_app():
        yield quart


@pytest.fixture
async def single() -> AsyncIterator[Quart]:
    quart = WebThingServer(SingleThing(Lamp()), discovery=False, base_path="/lamp").create()
    async with quart.test_app():
        yield quart


async def get(app: Quart, path: str, accept: str | None, **headers: str) -> Any:
    if accept is not None:
        headers["Accept"] = accept
    return await app.test_client().get(path, headers=headers)


async def test_a_browser_gets_the_page_at_a_thing_url(app: Quart) -> None:
    response = await get(app, "/0", BROWSER_ACCEPT)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    body = await response.get_data(as_text=True)
    assert "<title>Test Lamp</title>" in body
    assert 'data-source="/0"' in body
    # Relative, so the page also loads where a proxy serves it under a prefix of its own.
    assert 'src="_page/page.js"' in body
    assert "Accept" in response.headers["Vary"]
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/*"])
async def test_other_clients_still_get_the_td(app: Quart, accept: str | None) -> None:
    response = await get(app, "/0", accept)
    assert response.mimetype == "application/json"
    td = await response.get_json()
    assert td["title"] == "Test Lamp"
    assert {"rel": "alternate", "mediaType": "text/html", "href": "/0"} in td["links"]


async def test_the_root_is_an_index_for_browsers_and_the_td_list_for_the_gateway(
    app: Quart,
) -> None:
    page = await get(app, "/", BROWSER_ACCEPT)
    assert page.mimetype == "text/html"
    body = await page.get_data(as_text=True)
    assert "<h1>Test &lt;Appliance&gt;</h1>" in body  # escaped
    assert 'data-source="/"' in body and 'src="_page/page.js"' in body
    for accept in (None, "*/*", "application/json"):
        listing = await get(app, "/", accept)
        assert listing.mimetype == "application/json"
        assert [td["title"] for td in await listing.get_json()] == ["Test Lamp", "Test Sensor"]


async def test_a_single_thing_under_a_base_path(single: Quart) -> None:
    response = await get(single, "/lamp", BROWSER_ACCEPT)
    body = await response.get_data(as_text=True)
    assert 'data-source="/lamp"' in body
    assert 'src="lamp/_page/page.js"' in body
    assert "All things" not in body
    script = await get(single, "/lamp/_page/page.js", None)
    assert script.status_code == 200


@pytest.mark.parametrize(
    ("name", "mimetype"),
    [("page.js", "text/javascript"), ("page.css", "text/css"), ("icon.svg", "image/svg+xml")],
)
async def test_the_static_files_are_served(app: Quart, name: str, mimetype: str) -> None:
    response = await get(app, f"/_page/{name}", None)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers.get("ETag")
    assert len(await response.get_data()) > 0
    again = await get(app, f"/_page/{name}", None, **{"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("name", ["missing.js", "..%2Fpage.py", "%2e%2e"])
async def test_nothing_else_is_served_from_there(app: Quart, name: str) -> None:
    response = await get(app, f"/_page/{name}", None)
    assert response.status_code == 404
    assert (await response.get_json())["error"] == "not-found"


async def test_under_a_base_path_the_index_page_reaches_its_assets() -> None:
    server = WebThingServer(
        MultipleThings([Lamp(), Sensor()], "Pair"), discovery=False, base_path="/things"
    )
    quart = server.create()
    async with quart.test_app():
        for path, assets in (("/things", "things/_page/"), ("/things/", "_page/")):
            body = await (await get(quart, path, BROWSER_ACCEPT)).get_data(as_text=True)
            assert f'src="{assets}page.js"' in body, path
        body = await (await get(quart, "/things/1", BROWSER_ACCEPT)).get_data(as_text=True)
        assert 'src="_page/page.js"' in body and '<a href=".">' in body  # /things/


async def test_the_page_respects_the_host_check(app: Quart) -> None:
    for path in ("/0", "/_page/page.js", "/"):
        response = await get(app, path, BROWSER_ACCEPT, Host="evil.example")
        assert response.status_code == 403


@pytest.mark.parametrize(
    ("path", "script"),
    [
        ("/0", "_page/page.js"),
        ("/0/", "../_page/page.js"),
        ("/", "_page/page.js"),
        ("/0?jwt=gw.token", "_page/page.js?jwt=gw.token"),
        # The WebThings gateway's token rides along, encoded: it cannot leave the attribute.
        ('/1/?jwt=a"><script>x', "../_page/page.js?jwt=a%22%3E%3Cscript%3Ex"),
    ],
)
async def test_the_page_finds_its_files_relative_to_itself(
    app: Quart, path: str, script: str
) -> None:
    body = await (await get(app, path, BROWSER_ACCEPT)).get_data(as_text=True)
    assert f'<script src="{script}" defer>' in body
    assert "<script>x" not in body
