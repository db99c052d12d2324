"""Stopping with clients connected: sockets close with 1001 and streams end, nothing is cut off."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from tests.support import TIMEOUT, free_port, lamp_server


async def test_stopping_closes_sockets_going_away_and_ends_streams(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = lamp_server(host="127.0.0.1", port=free_port())
    shutdown = asyncio.Event()
    serving = asyncio.create_task(server.serve(shutdown))
    url = f"127.0.0.1:{server.port}"
    for _ in range(200):
        with contextlib.suppress(OSError):
            webthings = await websockets.connect(f"ws://{url}/")
            break
        await asyncio.sleep(0.05)  # polling until the server listens
    wtp = await websockets.connect(f"ws://{url}/", subprotocols=[Subprotocol("webthingprotocol")])
    async with (
        httpx.AsyncClient(timeout=TIMEOUT) as client,
        client.stream("GET", f"http://{url}/wot/sse/properties") as stream,
    ):
        lines = stream.aiter_lines()
        assert await anext(lines) == ": stream open"
        shutdown.set()
        rest = [line async for line in lines]  # ends instead of hanging until cancelled
    assert all(line.startswith(("retry:", ":")) or not line for line in rest)
    for socket in (webthings, wtp):
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), TIMEOUT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    await asyncio.wait_for(serving, TIMEOUT)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
