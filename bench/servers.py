"""Start a server as a subprocess on a free loopback port; time its start; read its RSS and CPU."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATH = "/properties/brightness"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pin_cores() -> tuple[int | None, int | None]:
    """Pin this process (and so the load generators it starts) to the last CPU.

    Returns (the CPU for servers, the CPU for the load), or (None, None) on a single CPU.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    os.sched_setaffinity(0, {cpus[-1]})
    return cpus[0], cpus[-1]


def http_status(port: int, path: str = PATH, timeout: float = 1.0) -> int | None:
    """The status of ``GET path`` on loopback, or None when nothing answers yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            sock.sendall(request.encode())
            head = sock.recv(64)
    except OSError:
        return None
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


class Server:
    """One server process: ``command`` is a list with ``{port}`` placeholders."""

    def __init__(
        self, name: str, command: list[str], ready_path: str = PATH, core: int | None = None
    ) -> None:
        self.name = name
        self.core = core  # the CPU the process is pinned to, None for any
        self.template = command
        self.ready_path = ready_path  # answers 200 once the server is up
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log")  # noqa: SIM115
        self.startup_s: list[float] = []

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 30.0) -> float:
        """Start the process; seconds from spawning it to the first 200 answer."""
        self.port = free_port()
        command = [part.format(port=self.port) for part in self.template]
        started = time.perf_counter()
        core = self.core
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=None if core is None else lambda: os.sched_setaffinity(0, {core}),
        )
        while time.perf_counter() - started < timeout:
            if http_status(self.port, self.ready_path) == 200:
                elapsed = time.perf_counter() - started
                self.startup_s.append(elapsed)
                return elapsed
            if self.process.poll() is not None:
                break
            time.sleep(0.005)
        self.stop()
        self.log.seek(0)
        tail = self.log.read()[-2000:].decode(errors="replace")
        raise RuntimeError(
            f"{self.name} did not answer 200 on {self.ready_path}: {' '.join(command)}\n{tail}"
        )

    def stop(self) -> None:
        """Stop the process (SIGINT, then SIGKILL if it lingers)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def rss_kib(self) -> int:
        """The resident set size (VmRSS) in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_s(self) -> float:
        """User plus system CPU seconds used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
