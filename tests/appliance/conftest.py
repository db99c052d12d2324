"""Helpers for the runtime tests: waiting on conditions, free ports, a real `appliance` process."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import free_port

DEADLINE = 10.0


async def until(predicate: Callable[[], bool], within: float = DEADLINE, what: str = "") -> None:
    """Wait until ``predicate()`` holds, polling the loop; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not predicate():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.005)


def wait_sync(predicate: Callable[[], bool], within: float = DEADLINE, what: str = "") -> None:
    """Blocking :func:`until`, for code driving subprocesses."""
    end = time.monotonic() + within
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


def appliance_command() -> list[str]:
    """The installed `appliance` console script, or the module if the venv lacks it."""
    script = Path(sys.executable).parent / "appliance"
    if script.exists():
        return [str(script)]
    found = shutil.which("appliance")
    return [found] if found else [sys.executable, "-m", "appliance.cli"]


class ApplianceProcess:
    """`appliance serve` in a subprocess, with its stderr collected to a file."""

    def __init__(self, args: list[str], workdir: Path, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = workdir / f"appliance-{port}-{time.monotonic_ns()}.log"
        self._log_file = self.log.open("wb")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [*appliance_command(), "serve", *args],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env=env,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"appliance exited with {self.proc.returncode}:\n{self.output()}")
        try:
            return httpx.get(f"{self.url}/0/properties", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, within: float = 20.0) -> None:
        wait_sync(self.ready, within, "the appliance to answer")

    def terminate(self, within: float = 10.0) -> int:
        """SIGTERM, and the exit code (fails if it takes longer than ``within``)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(within)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"no exit {within} s after SIGTERM:\n{self.output()}") from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log_file.close()


@pytest.fixture
def start_appliance(tmp_path: Path) -> Iterator[Callable[..., ApplianceProcess]]:
    """Start `appliance serve` on a free loopback port with simulated hardware."""
    started: list[ApplianceProcess] = []

    def start(*extra: str, port: int | None = None, **_: Any) -> ApplianceProcess:
        port = port or free_port()
        args = ["--hardware", "simulated", "--host", "127.0.0.1", "--port", str(port), *extra]
        proc = ApplianceProcess(args, tmp_path, port)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.close()
