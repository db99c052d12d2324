"""The page behind a reverse proxy that serves the things under a path prefix.

The WebThings gateway shows a thing's page through ``/proxy/<device-id>/...``. Here a small
ASGI prefix proxy (``prefix_proxy`` in the conftest) serves everything under a prefix and
answers 404 outside it, so a page that loads anything from the site root breaks visibly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import Problems, Served, wait_until

pytestmark = pytest.mark.browser

PREFIX = "/proxy/virtual-things-2"


@pytest.fixture(params=[False], ids=["multiple"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    """The lamp and the sensor under PREFIX (indirectly parametrized True: the lamp alone)."""
    server = Served(single=request.param, prefix=PREFIX)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_proxy_hides_the_site_root(served: Served) -> None:
    root = f"http://127.0.0.1:{served.port}"
    for path in ("/_page/page.js", "/0", "/"):
        assert httpx.get(f"{root}{path}").status_code == 404, path
    assert served.get("/0")["title"] == "Test Lamp"  # the same paths under the prefix


@pytest.mark.parametrize("served", [False, True], ids=["multiple", "single"], indirect=True)
@pytest.mark.parametrize("slash", ["", "/"], ids=["bare", "trailing-slash"])
def test_a_things_page_works_under_the_prefix(
    page: Any, served: Served, problems: Problems, slash: str
) -> None:
    path = "/" if served.first == "/" else f"{served.first}{slash}"
    page.goto(f"{served.url}{path}")
    card = page.locator("article.thing")
    expect(card.get_by_role("status")).to_have_text("Live")  # the websocket, through the proxy
    expect(card.get_by_role("slider", name="Brightness")).to_have_value("50")
    base = "" if served.first == "/" else served.first

    card.get_by_role("slider", name="Brightness").fill("30")
    wait_until(
        lambda: served.get(f"{base}/properties/brightness") == {"brightness": 30},
        what="brightness 30 over HTTP",
    )
    served.put(f"{base}/properties/on", {"on": False})
    expect(card.get_by_role("switch", name="On/Off")).not_to_be_checked()

    fade = card.locator('[data-action="fade"]')
    fade.get_by_label("Level").fill("70")
    fade.get_by_label("Duration").fill("10")
    fade.get_by_role("button", name="Fade").click()
    expect(card.get_by_role("slider", name="Brightness")).to_have_value("70")
    if served.first != "/":
        expect(page.get_by_role("link", name="All things")).to_be_visible()
    assert not problems


def test_the_index_works_under_the_prefix(page: Any, served: Served, problems: Problems) -> None:
    page.goto(f"{served.url}/")
    cards = page.locator("article.thing")
    expect(cards).to_have_count(2)
    for card in cards.all():
        expect(card.get_by_role("status")).to_have_text("Live")
    link = page.get_by_role("link", name="Test Sensor")
    expect(link).to_have_attribute("href", f"{PREFIX}/1")
    link.click()
    expect(page).to_have_url(f"{served.url}/1")
    expect(page.locator("article.thing").get_by_role("status")).to_have_text("Live")
    assert not problems
