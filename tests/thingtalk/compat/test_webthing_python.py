"""Programs written for webthing-python run with only the import line changed.

They are run as their users run them (a subprocess, Ctrl-C to stop), checked with the
WebThings conformance sequence over real sockets, and stopped the way webthing-python's
examples stop (``except KeyboardInterrupt: server.stop()``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from tests.thingtalk.protocols.conftest import HttpxHttp, real_socket
from tests.thingtalk.protocols.test_conformance import run_conformance

from .conftest import python, running


@contextlib.asynccontextmanager
async def http_to(url: str) -> AsyncIterator[HttpxHttp]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield HttpxHttp(client)


async def test_the_single_thing_program_passes_the_conformance_sequence(tmp_path: Path) -> None:
    async with running(python("webthing_lamp.py", "{port}"), tmp_path) as program:
        await program.wait_answering()
        async with http_to(program.url) as http:
            await run_conformance(http, real_socket, "")
        assert await program.interrupt() == 0
        output = program.output()
        assert "stopping the server" in output and "done" in output.splitlines()[-1]
        assert program.troubles() == []


async def test_the_multiple_things_program_passes_and_its_thread_reports_readings(
    tmp_path: Path,
) -> None:
    async with running(python("webthing_lamp_and_sensor.py", "{port}"), tmp_path) as program:
        await program.wait_answering("/1")
        async with http_to(program.url) as http:
            code, listing = await http("GET", "/")
            assert code == 200
            assert [t["title"] for t in listing] == ["My Lamp", "My Humidity Sensor"]
            # The timer thread's readings reach websocket subscribers of the sensor.
            async with real_socket(f"ws://127.0.0.1:{program.port}/1") as ws:
                message = await ws.receive(within=10)
                assert message["messageType"] == "propertyStatus"
                level = message["data"]["level"]
                assert isinstance(level, float) and 0 <= level <= 100
            code, body = await http("GET", "/1/properties/level")
            assert code == 200 and isinstance(body["level"], float)
            await run_conformance(http, real_socket, "/0")
        assert await program.interrupt() == 0
        output = program.output()
        assert "Brightness is now 90" in output  # the lamp's forwarders ran
        assert output.rstrip().endswith("done")
        assert program.troubles() == []
