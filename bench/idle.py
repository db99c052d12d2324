"""Idle wakeups: context switches of a process's threads per second, from ``/proc``.

A thread that sleeps and is woken (a timer, a poll, a socket) counts one voluntary switch; one
preempted counts a nonvoluntary one. Their sum over every thread of the process, over a quiet
window, is how often the process costs the CPU anything while it has nothing to do: on a
battery or a Pi Zero that is what idle costs.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .servers import Server


def context_switches(pid: int) -> int:
    """Voluntary plus nonvoluntary context switches of all of ``pid``'s threads so far."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        for line in text.splitlines():
            if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                total += int(line.split()[1])
    return total


def wakeups_per_s(pids: list[int], seconds: float) -> list[float]:
    """Each process's context switches per second over the same ``seconds`` of idle."""
    before = [context_switches(pid) for pid in pids]
    started = time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - started
    return [(context_switches(pid) - b) / elapsed for pid, b in zip(pids, before, strict=True)]


def appliance_wakeups(seconds: float, core: int | None = None) -> dict[str, Any]:
    """Start ``appliance serve --hardware simulated`` (lamp and polled sensor), count its wakeups.

    Discovery is off (mDNS traffic on the network would count, and differs from place to place).
    """
    with tempfile.TemporaryDirectory(prefix="bench-appliance-") as state:
        command = [
            sys.executable, "-m", "appliance.cli", "serve", "--hardware", "simulated",
            "--host", "127.0.0.1", "--port", "{port}", "--state-dir", state, "--no-discovery",
            "--log-level", "WARNING",
        ]  # fmt: skip
        server = Server("appliance", command, ready_path="/0/properties/brightness", core=core)
        server.start()
        try:
            time.sleep(1.0)
            (rate,) = wakeups_per_s([server.pid], seconds)
            return {
                "command": "appliance serve --hardware simulated --no-discovery",
                "idle_s": seconds,
                "wakeups_per_s": rate,
                "idle_rss_kib": server.rss_kib(),
                "startup_ms": server.startup_s[0] * 1000,
            }
        finally:
            server.stop()
