"""Helpers the test suites share: the examples, started apps, served apps, condition waits."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from quart import Quart
from quart.testing import QuartClient

from thingtalk import Action, Thing, WebThingServer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NODE_DIR = EXAMPLES / "node-wot"
TIMEOUT = 5.0


def node_executable() -> str:
    """Node.js, with the pinned packages of ``examples/node-wot`` installed (``npm ci``) if missing.

    Node.js and npm are test requirements (see the README): without them this fails.
    """
    executable = shutil.which("node")
    assert executable is not None, (
        "node is not installed, so the tests that drive Node.js clients cannot run: "
        "install Node.js and npm (`apt-get install nodejs npm`)"
    )
    if not (NODE_DIR / "node_modules" / ".package-lock.json").is_file() or not all(
        (NODE_DIR / "node_modules" / name).is_dir() for name in ("@node-wot/core", "ajv")
    ):
        npm = shutil.which("npm")
        assert npm is not None, "node is installed but npm is not; cannot install examples/node-wot"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            check=True,
            timeout=300,
        )
    return executable


def gateway_validates(td: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """What the WebThings gateway's Ajv makes of ``inputs`` for the actions of ``td`` (a
    WebThings TD): ``{name: {"valid": bool} | {"error": why the schema was refused}}``."""
    done = subprocess.run(
        [node_executable(), "gateway-ajv.js"],
        cwd=NODE_DIR,
        input=json.dumps({"td": td, "inputs": inputs}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` once (the examples folder is not a package).

    The examples ship with the project: a missing one fails the test that wanted it.
    """
    module_name = f"_example_{name}"
    if module_name not in sys.modules:
        path = EXAMPLES / f"{name}.py"
        assert path.is_file(), f"examples/{name}.py is missing"
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    return sys.modules[module_name]


def lamp_class() -> type[Thing]:
    """The example lamp (``examples/single_thing.py``)."""
    lamp: type[Thing] = load_example("single_thing").Lamp
    return lamp


def lamp_server(thing: Thing | None = None, /, **options: Any) -> WebThingServer:
    """A server of a fresh example lamp (or of ``thing``), without mDNS unless asked."""
    options.setdefault("discovery", False)
    return WebThingServer(thing if thing is not None else lamp_class()(), **options)


@contextlib.asynccontextmanager
async def started(app: Quart) -> AsyncIterator[QuartClient]:
    """A test client of ``app`` with its startup (building the things) and shutdown run."""
    async with app.test_app() as test_app:
        client = test_app.test_client()
        assert isinstance(client, QuartClient)
        yield client


async def eventually(condition: Callable[[], Any], within: float = TIMEOUT) -> Any:
    """Wait until ``condition()`` (sync or async) is truthy and return it."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.005)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serving(server: WebThingServer) -> AsyncIterator[str]:
    """Serve ``server`` on Hypercorn (its ``host``/``port``) and yield its base URL."""
    shutdown = asyncio.Event()
    task = asyncio.create_task(server.serve(shutdown))

    async def listening() -> bool:
        if task.done():
            task.result()  # raise why it stopped
            raise AssertionError("the server stopped")
        try:
            _, writer = await asyncio.open_connection(server.host, server.port)
        except OSError:
            return False
        writer.close()
        await writer.wait_closed()
        return True

    await eventually(listening)
    try:
        yield f"http://{server.host}:{server.port}"
    finally:
        shutdown.set()
        await asyncio.wait_for(task, 15)


class Blocker(Action):
    """Runs until released (or cancelled); tells when it started and how it ended."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.reached_end = False
        self.cleaned_up = False

    async def perform_action(self) -> Any:
        self.started.set()
        try:
            await self.release.wait()
            self.reached_end = True
            return "released"
        finally:
            self.cleaned_up = True


def ready_line_pattern() -> re.Pattern[str]:
    """The line the appliance logs once it serves (``READY_LINE`` in appliance/service.py), as
    a regex: the READMEs quote it and the image's boot test reads it from the journal."""
    from appliance.service import READY_LINE

    fields = {"%r": "'[^']*'", "%s": r"\S+?", "%d": r"\d+"}
    parts = re.split(r"(%[rsd])", READY_LINE)
    return re.compile("".join(fields.get(part, re.escape(part)) for part in parts))
