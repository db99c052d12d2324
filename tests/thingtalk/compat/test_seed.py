"""The thingtalk seed's README programs run as written, served by ``uvicorn module:app``."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.thingtalk.protocols.conftest import real_socket

from .conftest import running, uvicorn


async def test_the_seeds_light_serves_under_uvicorn(tmp_path: Path) -> None:
    async with running(uvicorn("seed_light:app"), tmp_path) as program:
        await program.wait_answering()
        async with httpx.AsyncClient(base_url=program.url, timeout=10) as http:
            td = (await http.get("/", headers={"Accept": "application/json"})).json()
            assert (td["id"], td["title"]) == ("urn:dev:ops:my-lamp-1234", "My Lamp")
            assert td["@type"] == ["OnOffSwitch", "Light"]  # `type = [...],` read right
            assert td["description"] == "A web connected lamp"
            assert sorted(td["properties"]) == ["brightness", "on"]
            put = await http.put("/properties/brightness", json={"brightness": 30})
            assert put.json() == {"brightness": 30}
            async with real_socket(f"ws://127.0.0.1:{program.port}/") as ws:
                await ws.send({"messageType": "setProperty", "data": {"on": False}})
                assert await ws.receive() == {
                    "messageType": "propertyStatus",
                    "data": {"on": False},
                }
                assert await ws.nothing_within(0.3)  # once, not twice
        assert await program.interrupt() == 0
    output = program.output()
    assert "Brightness is now 30" in output and "On-State is now False" in output
    assert program.troubles() == []


async def test_the_seeds_sensor_polls_and_its_listener_lines_notify_once(tmp_path: Path) -> None:
    async with running(uvicorn("seed_sensor:app"), tmp_path) as program:
        await program.wait_answering()
        async with real_socket(f"ws://127.0.0.1:{program.port}/") as ws:
            levels = []
            for _ in range(5):
                message = await ws.receive(within=10)
                assert message["messageType"] == "propertyStatus"
                levels.append(message["data"]["level"])
        # Each reading is one more than the last: each change was told exactly once.
        assert levels == [levels[0] + i for i in range(5)], levels
        assert await program.interrupt() == 0
    assert program.troubles() == []
