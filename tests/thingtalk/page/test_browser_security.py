"""The page in Chromium when the server is locked: with tokens, and through the WebThings
gateway's proxy (a stand-in that does what the gateway does, see ``gateway.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support import free_port

from .conftest import Served, wait_until
from .gateway import GatewayProxy

pytestmark = pytest.mark.browser
TOKEN = "page-test-token-0123456789"


class Tab:
    """A fresh browser context and page, with what it reported; the failures a locked server
    causes by design (a 401 before the token, a websocket the proxy does not carry) are
    expected, anything else fails the test."""

    def __init__(self, browser: Any, expected: tuple[str, ...]) -> None:
        self.context = browser.new_context(viewport={"width": 1100, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.problems: list[str] = []
        self.expected = expected
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def _console(self, message: Any) -> None:
        if message.type == "error" and not any(e in message.text for e in self.expected):
            self.problems.append(f"console: {message.text}")

    def close(self) -> None:
        self.context.close()
        assert not self.problems, self.problems


@pytest.fixture
def locked() -> Iterator[Served]:
    server = Served(tokens=[TOKEN])
    server.start()
    try:
        yield server
    finally:
        server.stop()


def slide_to(card: Any, value: int) -> None:
    card.get_by_role("slider", name="Brightness").fill(str(value))


def test_the_page_asks_for_the_token_once(browser: Any, locked: Served) -> None:
    tab = Tab(browser, ("401",))
    page = tab.page
    page.goto(f"{locked.url}/0")
    form = page.get_by_role("form", name="Access token")
    expect(form).to_be_visible()
    expect(form.get_by_role("alert")).to_have_text("This appliance needs an access token.")
    form.get_by_label("Access token").fill("not-the-token")
    form.get_by_role("button", name="Unlock").click()
    expect(form.get_by_role("alert")).to_contain_text("was not accepted")
    form.get_by_label("Access token").fill(TOKEN)
    form.get_by_role("button", name="Unlock").click()
    card = page.locator("article.thing")
    expect(card.get_by_role("status")).to_have_text("Live")
    slide_to(card, 30)
    wait_until(lambda: locked.get("/0/properties/brightness") == {"brightness": 30}, what="30")
    # Kept for next time: a reload goes straight to the live card.
    page.reload()
    expect(page.locator("article.thing").get_by_role("status")).to_have_text("Live")
    expect(page.get_by_role("form", name="Access token")).to_have_count(0)
    tab.close()


def test_a_token_in_the_fragment_unlocks_and_leaves_the_address_bar(
    browser: Any, locked: Served
) -> None:
    tab = Tab(browser, ())
    page = tab.page
    page.goto(f"{locked.url}/#token={TOKEN}")
    cards = page.locator("article.thing")
    expect(cards).to_have_count(2)
    for card in cards.all():
        expect(card.get_by_role("status")).to_have_text("Live")
    assert "token" not in page.url
    # The websocket carries it too: a change elsewhere shows up live.
    locked.put("/0/properties/brightness", {"brightness": 12})
    expect(page.locator('[data-property="brightness"] output').first).to_have_text("12%")
    tab.close()


@pytest.fixture
def behind_gateway(request: pytest.FixtureRequest) -> Iterator[tuple[Served, GatewayProxy]]:
    """The appliance behind the gateway stand-in; with the gateway's origin allow-listed
    when the test is parametrized with True."""
    proxy_port = free_port()
    origins = [f"http://127.0.0.1:{proxy_port}"] if request.param else []
    served = Served(allowed_origins=origins)
    served.start()
    proxy = GatewayProxy(proxy_port, served.url)
    proxy.start()
    try:
        yield served, proxy
    finally:
        proxy.stop()
        served.stop()


@pytest.mark.parametrize("behind_gateway", [True], indirect=True, ids=["allow-listed"])
def test_the_page_through_the_gateway_proxy(
    browser: Any, behind_gateway: tuple[Served, GatewayProxy]
) -> None:
    served, proxy = behind_gateway
    tab = Tab(browser, ("WebSocket",))  # the gateway proxies no websockets
    page = tab.page
    page.goto(proxy.page_url("/0"))
    card = page.locator("article.thing")
    expect(card.get_by_role("heading", name="Test Lamp")).to_be_visible()
    expect(card.get_by_role("slider", name="Brightness")).to_have_value("50")
    slide_to(card, 40)  # no socket: the page writes over HTTP through the proxy
    wait_until(lambda: served.get("/0/properties/brightness") == {"brightness": 40}, what="40")
    # What arrived: the browser's Origin is the gateway's, the Host the appliance's own.
    assert f"http://127.0.0.1:{proxy.port}" in proxy.origins_seen
    expect(card.locator(".problem")).to_have_text("")
    # The links stay under the proxy too: the index, then a thing from there.
    page.get_by_role("link", name="All things").click()
    expect(page.locator("article.thing")).to_have_count(2)
    page.get_by_role("link", name="Test Sensor").click()
    expect(page.locator('[data-property="humidity"] .value')).to_have_text("40")
    assert page.url.startswith(f"{proxy.url}/proxy/")
    tab.close()


@pytest.mark.parametrize("behind_gateway", [False], indirect=True, ids=["not-listed"])
def test_without_the_allow_list_the_proxied_page_cannot_write(
    browser: Any, behind_gateway: tuple[Served, GatewayProxy]
) -> None:
    served, proxy = behind_gateway
    tab = Tab(browser, ("WebSocket", "403"))
    page = tab.page
    page.goto(proxy.page_url("/0"))
    card = page.locator("article.thing")
    expect(card.get_by_role("heading", name="Test Lamp")).to_be_visible()
    slide_to(card, 40)
    expect(card.locator(".problem")).to_contain_text("may not use these things")
    assert served.get("/0/properties/brightness") == {"brightness": 50}
    tab.close()
