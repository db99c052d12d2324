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


DEFAULTS = LampState()

# Each kind of damage, and what survives it: every field that is still valid.
DAMAGE: list[tuple[bytes, LampState]] = [
    (b"", DEFAULTS),  # empty (a crash before the first write's data reached the disk)
    (b"{", DEFAULTS),  # truncated
    (b'{"on": true, "bright', DEFAULTS),  # truncated mid-key
    (b"\x00\x00\x00", DEFAULTS),  # zeros (a power cut on some file systems)
    (b'{"on": true, "brightness": "\xff\xfe"}', DEFAULTS),  # invalid UTF-8: not JSON at all
    (b"[]", DEFAULTS),  # not an object
    (b"73", DEFAULTS),
    (b"[" * 20_000 + b"]" * 20_000, DEFAULTS),  # nested past any sense (and over the size)
    (b'{"on": ' + b"[" * 500 + b"]" * 500 + b', "brightness": 30}', LampState(brightness=30)),
    (b'{"on": true, "brightness": 101}', LampState(on=True)),  # out of range
    (b'{"on": true, "brightness": -1}', LampState(on=True)),
    (b'{"on": true, "brightness": 73.5}', LampState(on=True)),  # not whole
    (b'{"on": true, "brightness": "73"}', LampState(on=True)),  # wrong type
    (b'{"on": true, "brightness": null}', LampState(on=True)),
    (b'{"on": "yes", "brightness": 30}', LampState(brightness=30)),
    (b'{"on": true}', LampState(on=True)),  # a field missing
    (b'{"brightness": 30}', LampState(brightness=30)),
]


@pytest.mark.parametrize(("content", "kept"), DAMAGE, ids=[repr(c[:24]) for c, _ in DAMAGE])
def test_damage_keeps_what_is_valid_and_sets_the_file_aside(
    tmp_path: Path, content: bytes, kept: LampState, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / STATE_FILE).write_bytes(content)
    with caplog.at_level(logging.WARNING):
        assert StateStore(tmp_path).load() == kept
    [line] = [r.getMessage() for r in caplog.records]  # one clear line
    assert "corrupt" in line and "kept as" in line
    [aside] = tmp_path.glob(f"{STATE_FILE}.corrupt-*")
    assert aside.read_bytes() == content  # for a person to look at
    assert aside.name in line
    # What was recovered is saved at once: the next start has it without the damaged file.
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert StateStore(tmp_path).load() == kept
    assert not caplog.records


def test_everything_the_service_ever_wrote_loads(tmp_path: Path) -> None:
    # An integer brightness was once saved as a float (a client's 73.0 stored as it came).
    for written, state in [
        (b'{"on":true,"brightness":73.0}\n', LampState(on=True, brightness=73)),
        (b'{"on":false,"brightness":1e2}', LampState(brightness=100)),
        (b'{"on":true,"brightness":0}', LampState(on=True, brightness=0)),
        (b'{"brightness":0,"on":true,"colour":"red"}', LampState(on=True, brightness=0)),
    ]:
        (tmp_path / STATE_FILE).write_bytes(written)
        assert StateStore(tmp_path).load() == state
        assert not list(tmp_path.glob("*.corrupt-*"))


def test_a_directory_in_place_of_the_file_is_set_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / STATE_FILE).mkdir()  # a directory where the file should be
    store = StateStore(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert store.load() == LampState()
    assert "cannot read" in caplog.text
    store.save_now(LampState(on=True, brightness=5))  # and saving works again
    assert StateStore(tmp_path).load() == LampState(on=True, brightness=5)


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
