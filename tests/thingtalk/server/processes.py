"""The example lamp in a process of its own, with a given file limit; its memory."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.support import EXAMPLES, ROOT, free_port


def limited(soft: int, hard: int) -> None:
    """Set this process's limit of open files (for ``preexec_fn``)."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def rss_mib(pid: int) -> float:
    """The resident memory of process ``pid``, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@contextlib.contextmanager
def lamp_process(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The example lamp in its own process, with the usual file limit of 1,024."""
    port = free_port()
    log = (tmp_path / "lamp.log").open("wb")
    command = [sys.executable, str(EXAMPLES / "single_thing.py"), "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        [*command, "--port", str(port), "--no-discovery"],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=lambda: limited(1024, 1024),
    )
    try:
        yield port, proc
    finally:
        proc.kill()
        proc.wait()
        log.close()
