"""What clients cost the server's memory: bounded while they misbehave, freed when they go."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from pathlib import Path

import httpx

from tests.support import TIMEOUT, eventually
from tests.thingtalk.protocols.raw import RawSocket, open_raw

from .processes import lamp_process, rss_mib


async def _answering(port: int, proc: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:

        async def up() -> bool:
            assert proc.poll() is None, "the lamp exited"
            with contextlib.suppress(httpx.HTTPError):
                return (await http.get(f"http://127.0.0.1:{port}/properties")).status_code == 200
            return False

        await eventually(up, 30)


async def test_oversized_messages_are_refused_without_being_kept(tmp_path: Path) -> None:
    # Twenty clients each sending a 10 MB message once took the server to ~430 MiB.
    with lamp_process(tmp_path) as (port, proc):
        await _answering(port, proc)
        before = rss_mib(proc.pid)
        clients: list[RawSocket] = [
            await open_raw(port, source=f"127.0.0.{2 + i}") for i in range(10)
        ]
        try:
            for client in clients:
                client.send(b"x" * (5 << 20))
            codes = await asyncio.gather(*(c.close_code(within=60) for c in clients))
            assert codes == [1009] * 10  # message too big, refused as it arrived
            for client in clients:
                with contextlib.suppress(ConnectionError):
                    await asyncio.wait_for(client.writer.drain(), 60)  # all 50 MB sent
            assert rss_mib(proc.pid) - before < 20  # not the 50 MB sent
        finally:
            for client in clients:
                client.close()
