"""No acknowledged write is lost: a change that cannot be saved is refused (503) and changes
nothing, the service stays up and recovers by itself when the disk does, and whatever it
acknowledged survives ``kill -9`` and comes back at the next start."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from appliance.lamp import Lamp
from appliance.state import STATE_FILE, LampState, StateStore
from hardware import SimulatedLed
from tests.support import started
from thingtalk import MultipleThings, WebThingServer

from .conftest import ApplianceProcess, wait_sync

Start = Callable[..., ApplianceProcess]


class Disk:
    """A state store's disk that can be made to fail, the way a full or read-only one does."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.error: OSError | None = None
        import appliance.state

        real = appliance.state.write_atomically

        def write(path: Path, data: bytes) -> None:
            if self.error is not None:
                raise self.error
            real(path, data)

        monkeypatch.setattr(appliance.state, "write_atomically", write)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Disk:
    return Disk(monkeypatch)


@pytest.fixture
async def lamp_app(tmp_path: Path) -> AsyncIterator[tuple[Any, Lamp, SimulatedLed, StateStore]]:
    led = SimulatedLed()
    store = StateStore(tmp_path)
    lamp = Lamp(led, store.load(), store.save, fade_step=0.005)
    server = WebThingServer(MultipleThings([lamp], "lamp"), discovery=False)
    async with started(server.create()) as client:
        yield client, lamp, led, store


FULL = OSError(errno.ENOSPC, "No space left on device")
READ_ONLY = OSError(errno.EROFS, "Read-only file system")


@pytest.mark.parametrize("error", [FULL, READ_ONLY], ids=["full", "read-only"])
async def test_a_write_that_cannot_be_saved_is_refused_and_changes_nothing(
    lamp_app: tuple[Any, Lamp, SimulatedLed, StateStore], disk: Disk, error: OSError
) -> None:
    client, _, led, store = lamp_app
    response = await client.put("/0/properties/brightness", json={"brightness": 30})
    assert response.status_code == 200
    level = led.level
    disk.error = error
    response = await client.put("/0/properties/brightness", json={"brightness": 70})
    assert response.status_code == 503
    body = await response.get_json()
    assert body["error"] == "unavailable" and error.strerror in body["message"]
    response = await client.put("/0/properties/on", json={"on": True})
    assert response.status_code == 503
    # Nothing changed: not the served values, not the LED, not the file.
    assert await (await client.get("/0/properties")).get_json() == {"on": False, "brightness": 30}
    assert led.level == level
    assert StateStore(store.path.parent).load() == LampState(on=False, brightness=30)
    # The same refusal over the websocket, which stays open.
    async with client.websocket("/0") as ws:
        await ws.send('{"messageType": "setProperty", "data": {"brightness": 71}}')
        message = json.loads(await ws.receive())
        assert message["messageType"] == "error"
        assert message["data"]["status"] == "503 Service Unavailable"
        # The disk is back: the next write goes through, with nobody restarting anything.
        disk.error = None
        await ws.send('{"messageType": "setProperty", "data": {"brightness": 72}}')
        assert json.loads(await ws.receive())["data"] == {"brightness": 72}
    assert StateStore(store.path.parent).load() == LampState(on=False, brightness=72)


async def test_a_fade_that_cannot_be_saved_fails_and_says_why(
    lamp_app: tuple[Any, Lamp, SimulatedLed, StateStore], disk: Disk
) -> None:
    client, lamp, _, _ = lamp_app
    disk.error = FULL
    fade = {"fade": {"input": {"brightness": 90, "duration": 20}}}
    href = (await (await client.post("/0/actions", json=fade)).get_json())["fade"]["href"]
    await _until_finished(lamp)
    status = (await (await client.get(href)).get_json())["fade"]
    assert status["status"] == "failed" and "cannot be saved" in status["error"]


async def _until_finished(lamp: Lamp) -> None:
    from .conftest import until

    await until(lambda: all(a.finished for a in lamp.get_actions()), what="the fade to end")


# -- a real appliance process, its state on a small tmpfs ----------------------------------


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs to fill up and remount read-only (needs root and CAP_SYS_ADMIN)."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(
            "CANNOT MOUNT A TMPFS HERE, so a really full and read-only state directory is not "
            f"tested (the injected failing writer above is): {result.stderr.strip()}"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def remount(mount: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mount)], check=True)


def fill(mount: Path) -> Path:
    """Fill the file system to the last byte."""
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


def put(app: ApplianceProcess, name: str, value: Any) -> httpx.Response:
    return httpx.put(f"{app.url}/0/properties/{name}", json={name: value}, timeout=10)


def served(app: ApplianceProcess) -> Any:
    return httpx.get(f"{app.url}/0/properties", timeout=10).json()


def saved(state_dir: Path) -> Any:
    return json.loads((state_dir / STATE_FILE).read_text())


def test_a_full_then_read_only_state_directory_mid_run(start_appliance: Start, tmpfs: Path) -> None:
    app = start_appliance("--state-dir", str(tmpfs), "--no-discovery")
    app.wait_ready()
    assert put(app, "brightness", 30).status_code == 200
    assert saved(tmpfs)["brightness"] == 30

    filler = fill(tmpfs)
    refused = put(app, "brightness", 70)
    assert refused.status_code == 503, refused.text
    assert "No space left on device" in refused.json()["message"]
    assert served(app)["brightness"] == 30 and saved(tmpfs)["brightness"] == 30
    filler.unlink()  # space again: the next write simply works
    assert put(app, "brightness", 70).json() == {"brightness": 70}
    assert saved(tmpfs)["brightness"] == 70

    remount(tmpfs, "ro")
    try:
        refused = put(app, "on", True)
        assert refused.status_code == 503 and "Read-only" in refused.json()["message"]
        assert served(app) == {"on": False, "brightness": 70} == saved(tmpfs)
        # Writing what is already saved needs no disk, and is answered.
        assert put(app, "brightness", 70).status_code == 200
    finally:
        remount(tmpfs, "rw")
    assert put(app, "on", True).status_code == 200
    assert saved(tmpfs) == {"on": True, "brightness": 70}
    assert "refused a lamp change" in app.output()

    assert app.terminate() == 0, app.output()
    again = start_appliance("--state-dir", str(tmpfs), "--no-discovery")
    again.wait_ready()
    assert served(again) == {"on": True, "brightness": 70}
    assert again.terminate() == 0


# -- kill -9 while clients write -------------------------------------------------------------


def test_kill_9_during_writes_loses_no_acknowledged_write(
    start_appliance: Start, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    app = start_appliance("--state-dir", str(state_dir), "--no-discovery")
    app.wait_ready()
    acknowledged: list[int] = []
    in_flight: list[int] = []
    stop = threading.Event()

    def write() -> None:
        # One client, one write at a time: the last acknowledged value and the one in flight
        # are exactly known when the kill comes.
        with httpx.Client(base_url=app.url, timeout=10) as client:
            value = 0
            while not stop.is_set():
                value = (value + 1) % 101
                in_flight[:] = [value]
                try:
                    response = client.put("/0/properties/brightness", json={"brightness": value})
                except httpx.HTTPError:
                    return
                if response.status_code == 200:
                    acknowledged.append(value)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        wait_sync(lambda: len(acknowledged) >= 150, 60, "150 acknowledged writes")
        app.proc.send_signal(signal.SIGKILL)
        app.proc.wait()
    finally:
        stop.set()
        writer.join(15)
    last = acknowledged[-1]
    again = start_appliance("--state-dir", str(state_dir), "--no-discovery")
    again.wait_ready()
    restored = served(again)["brightness"]
    assert restored in (last, *in_flight), (restored, last, in_flight)
    assert "corrupt" not in again.output()
    assert [p.name for p in state_dir.iterdir()] == [STATE_FILE]
    assert again.terminate() == 0


# -- damaged state at start, and values of any shape the service wrote ----------------------


def test_a_damaged_state_file_keeps_what_is_valid_and_is_kept_aside(
    start_appliance: Start, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / STATE_FILE).write_text('{"on": true, "brightness": 300}')
    app = start_appliance("--state-dir", str(state_dir), "--no-discovery")
    app.wait_ready()
    assert served(app) == {"on": True, "brightness": 50}
    [line] = [line for line in app.output().splitlines() if "corrupt" in line]
    assert "brightness" in line and "kept on=True" in line
    [aside] = state_dir.glob(f"{STATE_FILE}.corrupt-*")
    assert aside.read_text() == '{"on": true, "brightness": 300}'
    assert aside.name in line
    assert app.terminate() == 0


def test_a_float_brightness_is_saved_and_restored_as_an_integer(
    start_appliance: Start, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    app = start_appliance("--state-dir", str(state_dir), "--no-discovery")
    app.wait_ready()
    response = httpx.put(
        f"{app.url}/0/properties/brightness",
        content=b'{"brightness": 73.0}',
        headers={"Content-Type": "application/json"},
    )
    assert response.content == b'{"brightness":73}'
    assert (state_dir / STATE_FILE).read_bytes() == b'{"on":false,"brightness":73}\n'
    assert app.terminate() == 0
    again = start_appliance("--state-dir", str(state_dir), "--no-discovery")
    again.wait_ready()
    assert served(again) == {"on": False, "brightness": 73}
    assert "corrupt" not in again.output()
    assert again.terminate() == 0


def test_the_old_float_state_of_an_earlier_version_loads(
    start_appliance: Start, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / STATE_FILE).write_text('{"on":true,"brightness":73.0}\n')
    app = start_appliance("--state-dir", str(state_dir), "--no-discovery")
    app.wait_ready()
    assert served(app) == {"on": True, "brightness": 73}
    assert "corrupt" not in app.output()
    assert app.terminate() == 0
    shutil.rmtree(state_dir)
