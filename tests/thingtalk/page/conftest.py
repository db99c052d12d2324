"""A lamp and a sensor served on a loopback port in a thread, and Chromium to look at them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from tests.support import free_port
from thingtalk import Action, MultipleThings, Property, Thing, Value, WebThingServer

# Where the browser is looked for, in order: the CHROMIUM environment variable (an explicit
# choice, so a wrong one fails rather than falls through), Debian's and Ubuntu's paths, Google's
# package, then the same names on the PATH.
CHROMIUM_ENV = "CHROMIUM"
CHROMIUM_PATHS = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
T = TypeVar("T")


class Fade(Action):
    """Set the brightness after a short wait, then report overheating."""

    async def perform_action(self) -> None:
        await asyncio.sleep(self.input["duration"] / 1000)
        await self.thing.set_property("brightness", self.input["brightness"])
        self.thing.raise_event("overheated", 102)


class Lamp(Thing):
    """A dimmable lamp whose forwarders record what they were asked to drive."""

    title = "Test Lamp"
    type = ["OnOffSwitch", "Light"]
    description = "A lamp for the page tests"

    def __init__(self) -> None:
        super().__init__()
        self.driven: list[tuple[str, Any]] = []

    async def build(self) -> Lamp:
        await self.add_property(
            Property(
                "on",
                Value(True, lambda v: self.driven.append(("on", v))),
                {"@type": "OnOffProperty", "title": "On/Off", "type": "boolean"},
            )
        )
        await self.add_property(
            Property(
                "brightness",
                Value(50, lambda v: self.driven.append(("brightness", v))),
                {
                    "@type": "BrightnessProperty",
                    "title": "Brightness",
                    "type": "integer",
                    "description": "The level of light from 0-100",
                    "minimum": 0,
                    "maximum": 100,
                    "unit": "percent",
                },
            )
        )
        self.add_available_action(
            "fade",
            {
                "title": "Fade",
                "description": "Fade the lamp to a given level",
                "input": {
                    "type": "object",
                    "required": ["brightness", "duration"],
                    "properties": {
                        "brightness": {
                            "type": "integer",
                            "minimum": 0,
                            "maximum": 100,
                            "unit": "percent",
                            "title": "Level",
                        },
                        "duration": {
                            "type": "integer",
                            "minimum": 1,
                            "unit": "milliseconds",
                            "title": "Duration",
                        },
                    },
                },
            },
            Fade,
        )
        self.add_available_event(
            "overheated",
            {"title": "Overheated", "type": "number", "unit": "degree celsius"},
        )
        return self


class Sensor(Thing):
    """Read-only readings that the tests update the way a poller would."""

    title = "Test Sensor"
    type = ["MultiLevelSensor", "TemperatureSensor"]
    description = "Humidity and temperature"

    def __init__(self) -> None:
        super().__init__()
        self.humidity = Value(40.0)
        self.temperature = Value(21.5)
        self.stale = Value(False)

    async def build(self) -> Sensor:
        await self.add_property(
            Property(
                "humidity",
                self.humidity,
                {
                    "@type": "LevelProperty",
                    "title": "Humidity",
                    "type": "number",
                    "minimum": 0,
                    "maximum": 100,
                    "unit": "percent",
                    "readOnly": True,
                },
            )
        )
        await self.add_property(
            Property(
                "temperature",
                self.temperature,
                {
                    "@type": "TemperatureProperty",
                    "title": "Temperature",
                    "type": "number",
                    "unit": "degree celsius",
                    "readOnly": True,
                },
            )
        )
        await self.add_property(
            Property(
                "stale",
                self.stale,
                {"title": "Stale reading", "type": "boolean", "readOnly": True},
            )
        )
        return self


class Served:
    """A WebThingServer on Hypercorn in its own thread and event loop."""

    def __init__(self, single: bool = False, port: int | None = None, **options: Any) -> None:
        self.lamp = Lamp()
        self.sensor = Sensor()
        self.port = port or free_port()
        self.token: str | None = next(iter(options.get("tokens", ())), None)
        self.url = f"http://127.0.0.1:{self.port}"
        self.first = "/" if single else "/0"
        self.server = WebThingServer(
            self.lamp if single else MultipleThings([self.lamp, self.sensor], "Test Appliance"),
            host="127.0.0.1",
            port=self.port,
            discovery=False,
            **options,
        )
        self.loop: asyncio.AbstractEventLoop | None = None
        self.shutdown: asyncio.Event | None = None
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="page-test-server", daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.shutdown = asyncio.Event()
            await self.server.serve(self.shutdown)

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by start() or stop()
            self.failure = exc

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.failure is not None:
                raise RuntimeError("the test server failed to start") from self.failure
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}{self.first}", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"the test server did not answer on {self.url}")

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the server's loop (where the things live) and return its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def headers(self) -> dict[str, str]:
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str) -> Any:
        headers = {"Accept": "application/json", **self.headers()}
        response = httpx.get(f"{self.url}{path}", headers=headers)
        response.raise_for_status()
        return response.json()

    def put(self, path: str, body: Any) -> Any:
        response = httpx.put(f"{self.url}{path}", json=body, headers=self.headers())
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        if self.loop is not None and self.shutdown is not None:
            self.loop.call_soon_threadsafe(self.shutdown.set)
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the test server did not stop"


def wait_until(check: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll ``check`` until it holds (no fixed sleeps: returns as soon as it does)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture(params=[False], ids=["multiple"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    """The lamp at /0 and the sensor at /1 on a free loopback port (or, parametrized
    indirectly with True, the lamp alone at /)."""
    server = Served(single=request.param)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable to drive, or None if this machine has none."""
    for candidate in (*CHROMIUM_PATHS, *(shutil.which(name) for name in CHROMIUM_NAMES)):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def chromium_executable() -> str:
    """The browser for the page tests; fails (or, off Linux, skips) saying how to get one.

    The page is part of the product, so on Linux, where the suite runs and Chromium is one
    `apt-get install` away (.ci/run installs it), a missing browser is a failure. Elsewhere
    (a macOS or Windows checkout) there is no Debian package to install: the browser tests
    skip there, loudly, unless CHROMIUM names a browser.
    """
    override = os.environ.get(CHROMIUM_ENV)
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            pytest.fail(f"{CHROMIUM_ENV}={override} is not an executable file", pytrace=False)
        return override
    found = find_chromium()
    if found is not None:
        return found
    looked = ", ".join((*CHROMIUM_PATHS, *(f"{name} on the PATH" for name in CHROMIUM_NAMES)))
    if sys.platform.startswith("linux"):
        pytest.fail(
            f"BROWSER TESTS FAILED: no Chromium found (looked for {looked}). Install it with "
            f"`apt-get install chromium`, or set {CHROMIUM_ENV} to a Chromium or Chrome binary.",
            pytrace=False,
        )
    pytest.skip(
        f"BROWSER TESTS SKIPPED: no Chromium found on {sys.platform}; "
        f"set {CHROMIUM_ENV} to a Chromium or Chrome binary to run them"
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """The system's Chromium driven by Playwright (which cannot download its own browsers here).

    Module-scoped: Playwright's sync API keeps an event loop marked running in this thread
    while it is open, which would stop later asyncio tests from running their own.
    """
    executable = chromium_executable()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Problems(list[str]):
    """Console errors and uncaught exceptions seen on a page."""


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
def page(browser: Any, served: Served, problems: Problems) -> Iterator[Any]:
    """A fresh browser page; the test fails if the page logged an error or threw."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)

    def on_console(message: Any) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    try:
        yield tab
        assert not problems, f"the page reported errors: {list(problems)}"
    finally:
        context.close()
