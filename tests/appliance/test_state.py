"""The lamp's state file: round trips, bad files, and no torn file even under kill -9."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import msgspec
import pytest

from appliance.state import STATE_FILE, LampState, StateStore, write_atomically

from .conftest import wait_sync


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    assert StateStore(tmp_path / "new").load() == LampState()


def test_save_and_load(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state")
    store.save_now(LampState(on=True, brightness=73))
    assert StateStore(tmp_path / "state").load() == LampState(on=True, brightness=73)
    assert [p.name for p in (tmp_path / "state").iterdir()] == [STATE_FILE]  # no temp files


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"\x00\x00\x00", b'{"on": true, "brightness": 101}', b'{"on": "yes"}', b"[]"],
)
def test_corrupt_file_means_defaults_with_a_warning(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / STATE_FILE).write_bytes(content)
    with caplog.at_level(logging.WARNING):
        assert StateStore(tmp_path).load() == LampState()
    assert "corrupt" in caplog.text


def test_unreadable_file_means_defaults(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / STATE_FILE).mkdir()  # a directory where the file should be
    with caplog.at_level(logging.WARNING):
        assert StateStore(tmp_path).load() == LampState()
    assert "cannot read" in caplog.text


async def test_async_saves_land_in_order(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    states = [LampState(on=i % 2 == 0, brightness=i) for i in range(30)]
    await asyncio.gather(*(store.save(s) for s in states))
    assert StateStore(tmp_path).load() == states[-1]


async def test_a_save_returns_once_it_is_on_disk(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    await store.save(LampState(on=True, brightness=9))
    assert msgspec.json.decode((tmp_path / STATE_FILE).read_bytes()) == {
        "on": True,
        "brightness": 9,
    }


def test_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = StateStore(tmp_path)
    store.save_now(LampState(on=True, brightness=40))

    def broken_fsync(fd: int) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk on fire"):
        write_atomically(store.path, b'{"on": false, "brightness": 1}')
    monkeypatch.undo()
    assert StateStore(tmp_path).load() == LampState(on=True, brightness=40)
    assert [p.name for p in tmp_path.iterdir()] == [STATE_FILE]


WRITER = textwrap.dedent(
    """
    import sys
    from appliance.state import LampState, StateStore

    store = StateStore(sys.argv[1])
    i = 0
    while True:
        i += 1
        store.save_now(LampState(on=i % 2 == 0, brightness=i % 101))
    """
)


@pytest.mark.parametrize("round_", range(5))
def test_kill_9_between_writes_never_leaves_a_torn_file(tmp_path: Path, round_: int) -> None:
    path = tmp_path / STATE_FILE
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)])
    try:
        # Let it write for a while: until the brightness has gone round at least past 20.
        def written_enough() -> bool:
            try:
                return msgspec.json.decode(path.read_bytes(), type=LampState).brightness > 20
            except (FileNotFoundError, msgspec.DecodeError):
                return False

        wait_sync(written_enough, 30, "the writer to get going")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    raw = path.read_bytes()
    state = msgspec.json.decode(raw, type=LampState)  # a whole, valid file
    assert raw == msgspec.json.encode(state) + b"\n"
    assert StateStore(tmp_path).load() == state
    assert [p.name for p in tmp_path.iterdir()] == [STATE_FILE]  # leftovers cleared on load
