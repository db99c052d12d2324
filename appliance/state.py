"""The lamp's state on disk, written so that a power cut never leaves a broken file.

Each save writes a temporary file in the same directory, fsyncs it, renames it over the old
one and fsyncs the directory: after a crash the file is either the previous state or the new
one, never a mix. A save that fails raises :class:`OSError`, and the lamp refuses the change
it was for: a write is acknowledged only once it is durable.

Loading keeps whatever can be kept: a missing file means the defaults; a damaged one (not
JSON, wrong types, out of range, a directory) keeps each field that is still valid, is moved
aside as ``<file>.corrupt-<time>`` for a person to look at, and says so in one log line.
Anything the service itself ever wrote loads, ``73.0`` for a brightness included.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

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


_AT = re.compile(r" - at `\$[^`]*`$")
#: No state file is this long; a longer one is damaged, and is not read into memory whole.
MAX_STATE_BYTES = 4096


def recover(data: bytes) -> tuple[LampState, dict[str, str]]:
    """The state in ``data`` with each damaged field at its default, and what was damaged
    (by field; ``"file"`` when nothing in it could be read)."""
    if len(data) > MAX_STATE_BYTES:
        return LampState(), {"file": f"longer than {MAX_STATE_BYTES} bytes"}
    try:
        raw = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        return LampState(), {"file": f"not JSON ({exc})"}
    if not isinstance(raw, dict):
        return LampState(), {"file": f"a JSON {type(raw).__name__}, not an object"}
    kept: dict[str, Any] = {}
    damaged: dict[str, str] = {}
    for name in LampState.__struct_fields__:
        if name not in raw:
            damaged[name] = "missing"
            continue
        value = raw[name]
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # how an integer brightness was once written (73.0)
        try:
            msgspec.convert({name: value}, LampState)
        except msgspec.ValidationError as exc:
            damaged[name] = _AT.sub("", str(exc))
            continue
        kept[name] = value
    return msgspec.convert(kept, LampState), damaged


class StateStore:
    """Loads and saves :class:`LampState` in a state directory.

    ``save`` runs the blocking write in a thread and serialises writes, so the newest state
    always lands last; when it returns, that state (or a newer one) is on disk, and when it
    raises, the state may not be.
    """

    def __init__(self, directory: Path | str, name: str = STATE_FILE) -> None:
        self.path = Path(directory) / name
        self._lock = asyncio.Lock()
        self._pending: LampState | None = None
        self.saved: LampState | None = None

    def load(self) -> LampState:
        """The saved state; what is damaged in it at its defaults (see the module's docstring)."""
        self._remove_leftovers()
        try:
            with self.path.open("rb") as file:
                data = file.read(MAX_STATE_BYTES + 1)
        except FileNotFoundError:
            log.info("no saved lamp state at %s; starting with the defaults", self.path)
            return LampState()
        except IsADirectoryError:
            aside = self._set_aside()
            log.warning(
                "cannot read the lamp state: %s is a directory; starting with the defaults%s",
                self.path,
                f"; it is kept as {aside}" if aside else "",
            )
            return LampState()
        except OSError as exc:
            # An I/O error need not be damage: leave the file for the next start.
            log.warning("cannot read %s (%s); starting with the defaults", self.path, exc)
            return LampState()
        state, damaged = recover(data)
        if not damaged:
            self.saved = state
            return state
        aside = self._set_aside()
        kept = [f"{n}={getattr(state, n)!r}" for n in state.__struct_fields__ if n not in damaged]
        log.warning(
            "the lamp state %s is corrupt (%s); %s%s",
            self.path,
            "; ".join(f"{where}: {what}" for where, what in damaged.items()),
            f"kept {', '.join(kept)}, the rest at the defaults"
            if kept
            else "starting with the defaults",
            f"; the damaged file is kept as {aside}" if aside else "",
        )
        try:
            self.save_now(state)  # what was recovered survives the next start too
        except OSError as exc:
            log.warning("cannot save the recovered lamp state to %s (%s)", self.path, exc)
        return state

    def _set_aside(self) -> Path | None:
        """Move the damaged file out of the way (``<file>.corrupt-<time>``), or None."""
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        number = 1
        while aside.exists():
            number += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{number}")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            log.warning("cannot move the damaged %s aside (%s)", self.path, exc)
            return None
        return aside

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
        """Write ``state`` without blocking the loop; concurrent saves coalesce to the newest.

        Raises :class:`OSError` when it cannot be written (a full or read-only disk).
        """
        self._pending = state
        async with self._lock:
            pending, self._pending = self._pending, None
            if pending is None:
                return  # a save that started while we waited already wrote a newer state
            await asyncio.to_thread(self.save_now, pending)
