"""Shared helpers for the W3C WoT tests: the examples, the TD 1.1 schema, clients, a served app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker
from quart.testing import QuartClient

from tests.support import lamp_server, load_example, started
from thingtalk import Action, Property, Thing, Value, WebThingServer

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
SCHEMA = ROOT / "tests" / "data" / "td-schema" / "td-1.1-json-schema-validation.json"
TD = "application/td+json"
PROBLEM = "application/problem+json"


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


def gadget_server(**options: Any) -> WebThingServer:
    """A server of a fresh gadget, without mDNS."""
    return WebThingServer(Gadget(), discovery=False, **options)


def pair_server(**options: Any) -> WebThingServer:
    """The lamp at ``/0`` and the gadget at ``/1``."""
    lamp: type[Thing] = load_example("single_thing").Lamp
    return WebThingServer([lamp(), Gadget()], name="Pair", discovery=False, **options)


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
