"""Shared helpers for the W3C WoT tests: the examples, the TD 1.1 schema, clients, a served app."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker
from quart import Quart
from quart.testing import QuartClient

from appliance import Action, Property, Thing, Value, WebThingServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCHEMA = ROOT / "tests" / "data" / "td-schema" / "td-1.1-json-schema-validation.json"
TD = "application/td+json"
PROBLEM = "application/problem+json"
TIMEOUT = 5.0


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` (the examples folder is not a package)."""
    module_name = f"_w3c_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def td_validator() -> Draft7Validator:
    """The official TD 1.1 JSON Schema with format checks (uri, date-time, ...)."""
    schema = json.loads(SCHEMA.read_text())
    return Draft7Validator(schema, format_checker=FormatChecker())


def assert_valid_td(td: dict[str, Any]) -> None:
    """Fail with every schema violation of ``td``."""
    errors = sorted(td_validator().iter_errors(td), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


class Blink(Action):
    """A synchronous action with an output."""

    async def perform_action(self) -> Any:
        await asyncio.sleep(0.01)
        return {"blinks": self.input["times"]}


class Explode(Action):
    """A synchronous action that fails."""

    async def perform_action(self) -> Any:
        raise RuntimeError("the fuse blew")


class Wait(Action):
    """An asynchronous action that runs until cancelled or released."""

    async def perform_action(self) -> Any:
        await asyncio.sleep(self.input)
        return "waited"


class Gadget(Thing):
    """A thing with what the lamp lacks: synchronous actions, a read-only property, a bare event."""

    id = "urn:dev:ops:gadget-1"
    title = "Gadget"
    type = ["OnOffSwitch"]
    description = "A test gadget"

    async def build(self) -> Gadget:
        await self.add_property(Property("on", Value(False), {"type": "boolean"}))
        await self.add_property(
            Property("serial", Value("A-1"), {"type": "string", "readOnly": True})
        )
        self.add_available_action(
            "blink",
            {
                "synchronous": True,
                "input": {
                    "type": "object",
                    "required": ["times"],
                    "properties": {"times": {"type": "integer", "minimum": 1}},
                },
                "output": {"type": "object"},
            },
            Blink,
        )
        self.add_available_action("explode", {"synchronous": True}, Explode)
        self.add_available_action("wait", {"input": {"type": "number", "minimum": 0}}, Wait)
        self.add_available_event("ping")
        return self


def lamp_server(**options: Any) -> WebThingServer:
    """A server of a fresh example lamp, without mDNS."""
    lamp: type[Thing] = load_example("single_thing").Lamp
    return WebThingServer(lamp(), discovery=False, **options)


def gadget_server(**options: Any) -> WebThingServer:
    """A server of a fresh gadget, without mDNS."""
    return WebThingServer(Gadget(), discovery=False, **options)


def pair_server(**options: Any) -> WebThingServer:
    """The lamp at ``/0`` and the gadget at ``/1``."""
    lamp: type[Thing] = load_example("single_thing").Lamp
    return WebThingServer([lamp(), Gadget()], name="Pair", discovery=False, **options)


@contextlib.asynccontextmanager
async def started(app: Quart) -> AsyncIterator[QuartClient]:
    """A test client of ``app`` with its startup (building the things) done."""
    async with app.test_app() as test_app:
        yield test_app.test_client()


async def eventually(condition: Callable[[], Any], within: float = TIMEOUT) -> Any:
    """Poll ``condition`` (sync or async) until it is truthy; fail after ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serving(server: WebThingServer) -> AsyncIterator[str]:
    """Serve ``server`` on Hypercorn and yield its base URL (no trailing slash)."""
    shutdown = asyncio.Event()
    task = asyncio.create_task(server.serve(shutdown))

    async def listening() -> bool:
        if task.done():
            task.result()
            raise AssertionError("the server stopped")
        try:
            _, writer = await asyncio.open_connection(server.host, server.port)
        except OSError:
            return False
        writer.close()
        await writer.wait_closed()
        return True

    await eventually(listening)
    try:
        yield f"http://{server.host}:{server.port}"
    finally:
        shutdown.set()
        await asyncio.wait_for(task, 15)


@pytest.fixture
async def lamp() -> AsyncIterator[QuartClient]:
    """A test client of the example lamp."""
    async with started(lamp_server().create()) as client:
        yield client


@pytest.fixture
async def gadget() -> AsyncIterator[QuartClient]:
    """A test client of the gadget."""
    async with started(gadget_server().create()) as client:
        yield client
