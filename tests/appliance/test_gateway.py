"""What the WebThings gateway needs from the appliance: invocable actions, events kept apart.

The gateway validates an action's input with Ajv in strict mode (gateway-addon), compiling the
``input`` schema of the WebThings TD; ``examples/node-wot/gateway-ajv.js`` does exactly that. The
reference examples keep ``unit`` there (the WebThings conformance tester checks it), and the
same Ajv refuses them, which is why the appliance serves with ``strict_input_schemas``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from quart.testing import QuartClient

from appliance.config import Config, DiscoveryConfig, HardwareConfig, StateConfig
from appliance.service import Appliance, build_appliance
from tests.support import gateway_validates, lamp_server, started

FADE = {"brightness": 40, "duration": 10}


@pytest.fixture
async def appliance(tmp_path: Path) -> AsyncIterator[tuple[Appliance, QuartClient]]:
    config = Config(
        hardware=HardwareConfig(backend="simulated"),
        state=StateConfig(dir=str(tmp_path)),
        discovery=DiscoveryConfig(enabled=False),
    )
    appliance = build_appliance(config)
    try:
        async with started(appliance.server.create()) as client:
            yield appliance, client
    finally:
        appliance.close_hardware()


async def get(client: QuartClient, path: str, accept: str = "application/json") -> Any:
    response = await client.get(path, headers={"Accept": accept})
    assert response.status_code == 200
    return json.loads(await response.get_data())


async def test_the_gateway_can_invoke_every_action_of_the_appliance(
    appliance: tuple[Appliance, QuartClient],
) -> None:
    _, client = appliance
    for td in await get(client, "/"):
        inputs = {name: FADE for name in td["actions"]}
        verdicts = gateway_validates(td, inputs)
        assert verdicts == {name: {"valid": True} for name in td["actions"]}, td["title"]
    lamp = await get(client, "/0")
    assert lamp["actions"]["fade"]["input"]["properties"]["brightness"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 100,
    }
    # An invalid input is still refused by the gateway's validation, and by ours.
    assert gateway_validates(lamp, {"fade": {"brightness": 400, "duration": 10}}) == {
        "fade": {"valid": False}
    }


async def test_the_annotations_stay_where_they_do_no_harm(
    appliance: tuple[Appliance, QuartClient],
) -> None:
    _, client = appliance
    lamp = await get(client, "/0")
    assert lamp["properties"]["brightness"]["unit"] == "percent"  # the gateway shows it
    w3c = await get(client, "/0", "application/td+json")
    fade = w3c["actions"]["fade"]["input"]["properties"]
    assert (fade["brightness"]["unit"], fade["duration"]["unit"]) == ("percent", "milliseconds")


async def test_the_reference_lamp_keeps_unit_as_the_conformance_tester_demands() -> None:
    async with started(lamp_server().create()) as client:
        td = await get(client, "/")
    assert td["actions"]["fade"]["input"]["properties"]["duration"]["unit"] == "milliseconds"
    # ... which is exactly what the gateway's Ajv refuses.
    assert gateway_validates(td, {"fade": FADE}) == {
        "fade": {"error": 'strict mode: unknown keyword: "unit"'}
    }


async def test_the_appliance_events_carry_ids_and_microsecond_timestamps(
    appliance: tuple[Appliance, QuartClient],
) -> None:
    thing, client = appliance
    thing.sensor.add_available_event("ping", {"type": "string"})
    first = thing.sensor.raise_event("ping", "a")
    second = thing.sensor.raise_event("ping", "a")
    records = [e["ping"] for e in await get(client, "/1/events")]
    assert [r["id"] for r in records] == [first.id, second.id]
    stamps = [r["timestamp"] for r in records]
    assert stamps[0] < stamps[1]  # the gateway keys them apart: name + timestamp
    assert all(len(s) == len("2026-01-01T00:00:00.000000+00:00") for s in stamps)
