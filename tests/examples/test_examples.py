"""The examples as users run them: their command lines, their logs, their Hypercorn entry point."""

from __future__ import annotations

import signal
import socket
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
    for option in ("--host", "--port", "--no-discovery", "--log-level", "--access-log"):
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
        lamp = path.rsplit("/properties", 1)[0]
        httpx.put(f"http://127.0.0.1:{port}{lamp}/properties/brightness", json={"brightness": 31})
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert f"http://127.0.0.1:{port}/" in err
    assert err.count("Running on") == 1, err  # Hypercorn's line, once
    assert "Brightness is now 31" in err  # the forwarder's log line reaches the console
    assert "Traceback" not in err


@pytest.mark.parametrize("name", ["single_thing", "multiple_things"])
def test_a_port_in_use_is_one_line_and_exit_2(name: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, str(EXAMPLES / f"{name}.py"), "--host", "127.0.0.1", "--port",
             str(port), "--no-discovery"],
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"ERROR thingtalk.server: port {port} is in use; choose another port"
    ]


def test_the_access_log_is_optional() -> None:
    port = free_port()
    command = [sys.executable, str(EXAMPLES / "single_thing.py"), "--host", "127.0.0.1",
               "--port", str(port), "--no-discovery"]  # fmt: skip
    logs = []
    for extra in ([], ["--access-log"]):
        proc = subprocess.Popen([*command, *extra], stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/properties/on", timeout=2)
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGTERM)
            logs.append(proc.communicate(timeout=30)[1])
    assert "GET /properties/on" not in logs[0]
    assert "GET /properties/on" in logs[1]


@pytest.mark.parametrize(
    ("name", "path"), [("single_thing", "/properties/on"), ("multiple_things", "/0/properties/on")]
)
async def test_create_app_is_the_hypercorn_entry_point(name: str, path: str) -> None:
    async with started(load_example(name).create_app()) as client:
        response = await client.get(path)
        assert await response.get_json() == {"on": True}
