"""The examples as users run them: their command lines, their logs, their Hypercorn entry point."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.support import EXAMPLES, free_port, load_example, started


@pytest.mark.parametrize("name", ["single_thing", "multiple_things"])
def test_help_lists_host_port_and_no_discovery(name: str) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    for option in ("--host", "--port", "--no-discovery"):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("name", "path", "expected"),
    [
        ("single_thing", "/properties/brightness", {"brightness": 50}),
        ("multiple_things", "/0/properties/on", {"on": True}),
    ],
)
def test_example_serves_and_logs_where_it_listens(name: str, path: str, expected: object) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(EXAMPLES / f"{name}.py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-discovery",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, "the example exited"
                assert time.monotonic() < deadline, "the example never answered"
                time.sleep(0.05)
        assert response.json() == expected
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert f"http://127.0.0.1:{port}/" in err


@pytest.mark.parametrize(
    ("name", "path"), [("single_thing", "/properties/on"), ("multiple_things", "/0/properties/on")]
)
async def test_create_app_is_the_hypercorn_entry_point(name: str, path: str) -> None:
    async with started(load_example(name).create_app()) as client:
        response = await client.get(path)
        assert await response.get_json() == {"on": True}
