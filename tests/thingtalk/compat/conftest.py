"""Running a program written for an ancestor, as its user would, and talking to it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx

from tests.support import ROOT, free_port

PROGRAMS = Path(__file__).resolve().parent / "programs"
START_SECONDS = 30.0


class Program:
    """A program in a subprocess: its port, its output, and a way to stop it."""

    def __init__(self, process: asyncio.subprocess.Process, port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def troubles(self) -> list[str]:
        """Lines of the output that tell of something gone wrong in the program.

        A network without multicast fails the mDNS adverts (logged with a traceback, and the
        things are still served): that is the machine's, and not counted.
        """
        markers = (
            "Traceback",
            "never awaited",
            "never retrieved",
            "Exception in callback",
            "ERROR:",
        )
        found, in_mdns_failure = [], False
        for line in self.output().splitlines():
            if "mDNS" in line and ("ERROR" in line or "WARNING" in line):
                in_mdns_failure = True
                continue
            if in_mdns_failure and (line.startswith((" ", "Traceback")) or not line.strip()):
                continue
            in_mdns_failure = False
            if any(marker in line for marker in markers) or " ERROR " in f" {line} ":
                found.append(line)
        return found

    async def wait_answering(self, path: str = "/") -> None:
        """Wait until ``path`` answers (or fail with the program's output)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_SECONDS
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                if self.process.returncode is not None:
                    raise AssertionError(f"the program exited:\n{self.output()[-4000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    response = await http.get(f"{self.url}{path}")
                    if response.status_code == 200:
                        return
                if loop.time() > deadline:
                    raise AssertionError(f"no answer on {self.url}{path}:\n{self.output()[-4000:]}")
                await asyncio.sleep(0.05)

    async def interrupt(self, within: float = 20.0) -> int:
        """Ctrl-C: SIGINT, then its exit status."""
        self.process.send_signal(signal.SIGINT)
        return await asyncio.wait_for(self.process.wait(), within)


@contextlib.asynccontextmanager
async def running(
    command: Sequence[str], workdir: Path, *, port: int | None = None, cwd: Path = PROGRAMS
) -> AsyncIterator[Program]:
    """Run ``command`` (``{port}`` in it is replaced by a free port) until the block ends."""
    port = port or free_port()
    log = workdir / f"program-{port}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *(part.replace("{port}", str(port)) for part in command),
            cwd=cwd,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)},
        )
    program = Program(process, port, log)
    try:
        yield program
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def python(script: str, *args: str) -> list[str]:
    """The command running ``programs/<script>`` with this interpreter."""
    return [sys.executable, str(PROGRAMS / script), *args]


def uvicorn(app: str, *args: str) -> list[str]:
    """``uvicorn <app>`` on 127.0.0.1 and the program's port, as its users run it."""
    return [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", "{port}", *args]


def hypercorn(app: str, *args: str) -> list[str]:
    """The ``hypercorn`` command line on 127.0.0.1 and the program's port."""
    return [sys.executable, "-m", "hypercorn", app, "--bind", "127.0.0.1:{port}", *args]
