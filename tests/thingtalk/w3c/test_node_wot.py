"""A real third-party consumer: Eclipse Thingweb node-wot drives the example lamp from its TD.

The client is pinned in ``examples/node-wot/package.json`` + ``package-lock.json`` and installed by
``make test`` (``npm ci``); this test installs it the same way if it is missing. Node.js and
npm are test requirements (see the README), so without them the test fails rather than skips.
"""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from tests.support import free_port, lamp_server, node_executable, serving

from .conftest import ROOT

NODE_DIR = ROOT / "examples" / "node-wot"
pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def node() -> str:
    return node_executable()


async def test_node_wot_reads_writes_observes_invokes_and_subscribes(node: str) -> None:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "examples" / "single_thing.py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-discovery",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await _wait_listening(port, server)
        consumer = await asyncio.create_subprocess_exec(
            node,
            "consume.js",
            # WoT Discovery's URL: node-wot 0.9 asks for the TD with no Accept header, and
            # this URL answers with the W3C TD whatever the client accepts.
            f"http://127.0.0.1:{port}/.well-known/wot",
            cwd=NODE_DIR,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(consumer.communicate(), 60)
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 15)
    lines = stdout.decode().strip().splitlines()
    assert lines, f"node-wot printed nothing; stderr:\n{stderr.decode()[-3000:]}"
    result = json.loads(lines[-1])
    assert "error" not in result, result["error"]
    assert consumer.returncode == 0
    assert (result["title"], result["id"]) == ("My Lamp", "urn:dev:ops:my-lamp-1234")
    assert result["read"] == 50
    assert result["readAll"] == {"on": True, "brightness": 50}
    assert result["readAfterWrite"] == 42
    # The observe (SSE) notifications arrived: the write, then the fade's result.
    assert result["observed"][:2] == [55, 90]
    assert result["events"] == [102]
    invoked = result["invoked"]
    assert invoked["status"] in ("pending", "running")
    assert invoked["href"].startswith("/wot/actions/fade/")
    assert result["readAtEnd"] == 90


async def _wait_listening(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(300):
        if process.returncode is not None:
            assert process.stderr is not None
            raise AssertionError(f"the example exited: {(await process.stderr.read()).decode()}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError(f"the example did not listen on port {port}")


async def test_node_wot_with_a_bearer_token(node: str) -> None:
    """With tokens on, node-wot reads the bearer scheme from the TD and sends the token
    (reads, writes, actions); without the token it gets nothing."""
    port = free_port()
    token = "node-wot-token-0123456789"
    server = lamp_server(host="127.0.0.1", port=port, tokens=[token])
    async with serving(server):
        url = f"http://127.0.0.1:{port}/.well-known/wot"
        for given, fails in ((token, False), (None, True)):
            consumer = await asyncio.create_subprocess_exec(
                node,
                "consume.js",
                url,
                *([given] if given else []),
                cwd=NODE_DIR,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            stdout, stderr = await asyncio.wait_for(consumer.communicate(), 60)
            lines = stdout.decode().strip().splitlines()
            assert lines, f"node-wot printed nothing; stderr:\n{stderr.decode()[-3000:]}"
            result = json.loads(lines[-1])
            if fails:
                assert "error" in result and consumer.returncode == 1
                continue
            assert "error" not in result, result["error"]
            assert result["read"] == 50
            assert result["readAfterWrite"] == 42
            assert result["invoked"]["href"].startswith("/wot/actions/fade/")
            assert result["readAtEnd"] == 90
            # node-wot 0.9 opens its EventSource without headers: no SSE with tokens on.
