"""The page in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Problems, Served, wait_until

pytestmark = pytest.mark.browser


def open_thing(page: Any, served: Served, path: str) -> Any:
    page.goto(f"{served.url}{path}")
    card = page.locator("article.thing")
    expect(card.get_by_role("status")).to_have_text("Live")
    return card


def test_a_thing_url_opens_its_page_without_errors(
    page: Any, served: Served, problems: Problems
) -> None:
    card = open_thing(page, served, "/0")
    expect(page).to_have_title("Test Lamp")
    expect(card.get_by_role("heading", name="Test Lamp")).to_be_visible()
    expect(card.get_by_role("switch", name="On/Off")).to_be_checked()
    expect(card.get_by_role("slider", name="Brightness")).to_have_value("50")
    expect(card.get_by_role("button", name="Fade")).to_be_visible()
    expect(page.get_by_role("link", name="All things")).to_have_attribute("href", ".")
    page.screenshot(path="/tmp/page-lamp.png", full_page=True)
    assert not problems


def test_the_index_shows_every_thing(page: Any, served: Served, problems: Problems) -> None:
    page.goto(served.url)
    cards = page.locator("article.thing")
    expect(cards).to_have_count(2)
    for card in cards.all():
        expect(card.get_by_role("status")).to_have_text("Live")
    expect(page.get_by_role("link", name="Test Sensor")).to_have_attribute("href", "/1")
    expect(page.get_by_role("slider", name="Brightness")).to_have_value("50")
    expect(page.locator('[data-property="humidity"] .value')).to_have_text("40")
    page.screenshot(path="/tmp/page-index.png", full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path="/tmp/page-index-dark.png", full_page=True)
    assert not problems


def test_the_slider_dims_the_lamp(page: Any, served: Served) -> None:
    card = open_thing(page, served, "/0")
    slider = card.get_by_role("slider", name="Brightness")
    slider.fill("30")
    expect(card.locator('[data-property="brightness"] output')).to_have_text("30%")
    wait_until(
        lambda: served.get("/0/properties/brightness") == {"brightness": 30},
        what="brightness 30 over HTTP",
    )
    assert served.lamp.driven[-1] == ("brightness", 30)

    # The keyboard moves it too, one step per key, each step driving the lamp.
    slider.focus()
    slider.press("ArrowRight")
    wait_until(
        lambda: served.get("/0/properties/brightness") == {"brightness": 31},
        what="brightness 31 over HTTP",
    )
    assert ("brightness", 31) in served.lamp.driven


def test_dragging_the_slider_drives_the_lamp(page: Any, served: Served) -> None:
    card = open_thing(page, served, "/0")
    slider = card.get_by_role("slider", name="Brightness")
    box = slider.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + 2, y, steps=8)  # all the way to the left
    page.mouse.up()
    expect(slider).to_have_value("0")
    wait_until(
        lambda: served.get("/0/properties/brightness") == {"brightness": 0},
        what="brightness 0 over HTTP",
    )
    assert served.lamp.driven[-1] == ("brightness", 0)


def test_a_change_over_the_api_shows_on_the_page(page: Any, served: Served) -> None:
    card = open_thing(page, served, "/0")
    served.put("/0/properties/brightness", {"brightness": 77})
    expect(card.get_by_role("slider", name="Brightness")).to_have_value("77")
    expect(card.locator('[data-property="brightness"] output')).to_have_text("77%")
    served.put("/0/properties/on", {"on": False})
    expect(card.get_by_role("switch", name="On/Off")).not_to_be_checked()


def test_the_switch_toggles_the_lamp(page: Any, served: Served) -> None:
    card = open_thing(page, served, "/0")
    switch = card.get_by_role("switch", name="On/Off")
    switch.click()
    expect(switch).not_to_be_checked()
    wait_until(lambda: served.get("/0/properties/on") == {"on": False}, what="on false")
    assert served.lamp.driven[-1] == ("on", False)
    switch.click()
    wait_until(lambda: served.get("/0/properties/on") == {"on": True}, what="on true")
    assert served.lamp.driven[-1] == ("on", True)


def test_a_sensor_reading_appears_and_the_chart_grows(page: Any, served: Served) -> None:
    card = open_thing(page, served, "/1")
    humidity = card.locator('[data-property="humidity"]')
    chart = humidity.locator("svg")
    expect(humidity.locator(".value")).to_have_text("40")
    expect(chart).to_have_attribute("data-points", "1")
    expect(card.locator('[data-property="temperature"] .unit')).to_have_text("°C")

    for count, reading in enumerate([55.5, 48.25, 61.0], start=2):
        served.call(served.sensor.humidity.notify_of_external_update(reading))
        expect(humidity.locator(".value")).to_have_text(re.compile(rf"^{reading:g}$"))
        expect(chart).to_have_attribute("data-points", str(count))
    expect(chart).to_have_attribute("aria-label", re.compile(r"last 4 readings"))

    served.call(served.sensor.stale.notify_of_external_update(True))
    expect(card.locator('[data-property="stale"] .badge')).to_have_text("Yes")
    page.screenshot(path="/tmp/page-sensor.png", full_page=True)


def test_an_action_runs_and_its_event_is_listed(page: Any, served: Served) -> None:
    card = open_thing(page, served, "/0")
    card.get_by_label("Level").fill("10")
    card.get_by_label("Duration").fill("5")
    card.get_by_role("button", name="Fade").click()
    log = card.get_by_role("list", name="Recent events of Test Lamp")
    expect(log).to_contain_text("Fade: completed")
    expect(log).to_contain_text("Overheated: 102 °C")
    expect(card.get_by_role("slider", name="Brightness")).to_have_value("10")
    page.screenshot(path="/tmp/page-lamp-events.png", full_page=True)


def test_a_refused_action_says_why(page: Any, served: Served, problems: Problems) -> None:
    card = open_thing(page, served, "/0")
    page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    card.get_by_label("Level").fill("500")
    card.get_by_label("Duration").fill("5")
    card.get_by_role("button", name="Fade").click()
    expect(card.get_by_role("alert")).to_contain_text("Fade:")
    assert list(served.lamp.get_actions()) == []
    assert len(problems) == 1 and "status of 400" in problems[0]  # the refused POST, logged
    problems.clear()


def test_the_page_reconnects_after_the_socket_drops(
    page: Any, served: Served, problems: Problems
) -> None:
    card = open_thing(page, served, "/0")
    # Close the page's socket from the server side by closing its session's outbox.
    app = served.server.app
    assert app is not None
    hub = app.extensions["thingtalk"].served[0].hub
    sessions = list(hub.sessions)
    assert sessions
    served.call(_drop(sessions))
    expect(card.get_by_role("status")).to_have_text(re.compile("Offline|Connecting"))
    expect(card.get_by_role("status")).to_have_text("Live")
    served.put("/0/properties/brightness", {"brightness": 12})
    expect(card.get_by_role("slider", name="Brightness")).to_have_value("12")
    problems.clear()  # the browser logs the dropped socket; that is the point here


async def _drop(sessions: list[Any]) -> None:
    for session in sessions:
        session.outbox.close()


@pytest.mark.parametrize("served", [True], ids=["single"], indirect=True)
def test_a_single_thing_at_the_root(page: Any, served: Served, problems: Problems) -> None:
    card = open_thing(page, served, "/")
    expect(page.get_by_role("link", name="All things")).to_have_count(0)
    slider = card.get_by_role("slider", name="Brightness")
    slider.fill("64")
    wait_until(
        lambda: served.get("/properties/brightness") == {"brightness": 64},
        what="brightness 64 over HTTP",
    )
    served.put("/properties/on", {"on": False})
    expect(card.get_by_role("switch", name="On/Off")).not_to_be_checked()
    assert not problems
