"""The lamp's state on disk, written so that a power cut never leaves a broken file.

Each save writes a temporary file in the same directory, fsyncs it, renames it over the old
one and fsyncs the directory: after a crash the file is either the previous state or the new
one, never a mix. A missing or unreadable file means the defaults, with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Annotated

import msgspec

log = logging.getLogger(__name__)

STATE_FILE = "lamp.json"
#: The brightness range, in percent: the lamp's property and the state file share it.
MIN_BRIGHTNESS, MAX_BRIGHTNESS = 0, 100


class LampState(msgspec.Struct, frozen=True, kw_only=True):
    """What the lamp remembers: whether it is on, and its brightness (0-100 %)."""

    on: bool = False
    brightness: Annotated[int, msgspec.Meta(ge=MIN_BRIGHTNESS, le=MAX_BRIGHTNESS)] = 50


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old or the new file."""
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # The rename lives in the directory; without this fsync a power cut can forget it.
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class StateStore:
    """Loads and saves :class:`LampState` in a state directory.

    ``save`` runs the blocking write in a thread and serialises writes, so the newest state
    always lands last; when it returns, that state (or a newer one) is on disk.
    """

    def __init__(self, directory: Path | str, name: str = STATE_FILE) -> None:
        self.path = Path(directory) / name
        self._lock = asyncio.Lock()
        self._pending: LampState | None = None
        self.saved: LampState | None = None

    def load(self) -> LampState:
        """The saved state, or the defaults (with a warning) if it is missing or unreadable."""
        self._remove_leftovers()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            log.info("no saved lamp state at %s; starting with the defaults", self.path)
            return LampState()
        except OSError as exc:
            log.warning("cannot read %s (%s); starting with the defaults", self.path, exc)
            return LampState()
        try:
            state = msgspec.json.decode(data, type=LampState)
        except msgspec.DecodeError as exc:
            log.warning("%s is corrupt (%s); starting with the defaults", self.path, exc)
            return LampState()
        self.saved = state
        return state

    def _remove_leftovers(self) -> None:
        # A crash mid-write leaves its temporary file behind; the real file is intact.
        with contextlib.suppress(OSError):
            for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
                leftover.unlink(missing_ok=True)

    def save_now(self, state: LampState) -> None:
        """Write ``state`` at once, blocking (for scripts and for the last save at exit)."""
        if state == self.saved:
            return
        write_atomically(self.path, msgspec.json.encode(state) + b"\n")
        self.saved = state

    async def save(self, state: LampState) -> None:
        """Write ``state`` without blocking the loop; concurrent saves coalesce to the newest."""
        self._pending = state
        async with self._lock:
            pending, self._pending = self._pending, None
            if pending is None:
                return  # a save that started while we waited already wrote a newer state
            await asyncio.to_thread(self.save_now, pending)
