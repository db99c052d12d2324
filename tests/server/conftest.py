"""Helpers for the WebThingServer tests: the example lamp, a started app, condition waits."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from quart import Quart
from quart.testing import QuartClient

from appliance import Action, Thing, WebThingServer

TIMEOUT = 5.0
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "single_thing.py"


def lamp_class() -> type[Thing]:
    """The example lamp (``examples/single_thing.py``; the folder is not a package)."""
    name = "_example_single_thing"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, EXAMPLE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    lamp: type[Thing] = sys.modules[name].Lamp
    return lamp


def lamp_server(thing: Thing | None = None, **options: Any) -> WebThingServer:
    """A server of the lamp (or ``thing``) without mDNS."""
    options.setdefault("discovery", False)
    return WebThingServer(thing if thing is not None else lamp_class()(), **options)


@contextlib.asynccontextmanager
async def started(app: Quart) -> AsyncIterator[QuartClient]:
    """A test client of ``app`` with its startup and shutdown hooks run."""
    async with app.test_app() as test_app:
        yield test_app.test_client()


async def eventually(condition: Callable[[], Any], within: float = TIMEOUT) -> Any:
    """Wait until ``condition()`` (sync or async) is truthy and return it."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.005)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Blocker(Action):
    """Runs until released (or cancelled); tells when it started and how it ended."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.reached_end = False
        self.cleaned_up = False

    async def perform_action(self) -> Any:
        self.started.set()
        try:
            await self.release.wait()
            self.reached_end = True
            return "released"
        finally:
            self.cleaned_up = True


class Machine(Thing):
    """A thing with a long-running action, a quick one and an event, for server tests."""

    title = "Machine"
    type = ["Thing"]
    description = "Runs jobs"

    async def build(self) -> Machine:
        self.add_available_action("block", {"title": "Block"}, Blocker)
        self.add_available_action("tick", {"title": "Tick"}, Action)
        self.add_available_event("ticked", {"type": "integer"})
        return self
