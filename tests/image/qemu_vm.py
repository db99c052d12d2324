"""Boot the Debian test image in QEMU (arm64 `virt`, software emulation) and talk to it.

The VM gets two NICs: user-mode networking with the appliance's port 80 forwarded to a loopback
port of this machine (the HTTP checks), and a tap device moved into a network namespace the test
owns (user-mode networking carries no multicast, so mDNS is checked there).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SECTOR = 512
MTOOLS_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


def run(*cmd: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command, failing with its output when it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def boot_partition(image: Path) -> str:
    """The FAT partition of `image` as an mtools drive spec (`file@@offset`)."""
    table = json.loads(run("sfdisk", "--json", str(image)).stdout)["partitiontable"]
    part = table["partitions"][0]
    assert part["type"] == "c", f"first partition is not FAT32 (LBA): {part}"
    return f"{image}@@{part['start'] * SECTOR}"


def read_boot_file(image: Path, name: str) -> str:
    """A text file from the image's boot partition."""
    return run("mtype", "-i", boot_partition(image), f"::/{name}", env=MTOOLS_ENV).stdout


def write_boot_file(image: Path, name: str, text: str, scratch: Path) -> None:
    """Put (or replace) a file on the image's boot partition, as a user's card reader would."""
    src = scratch / name
    src.write_text(text)
    run("mcopy", "-o", "-i", boot_partition(image), str(src), f"::/{name}", env=MTOOLS_ENV)


def extract_kernel(image: Path, dest: Path) -> tuple[Path, Path, str]:
    """Copy the kernel and initrd from the boot partition; return them and its cmdline.txt."""
    drive = boot_partition(image)
    config = read_boot_file(image, "config.txt")
    kernel = re.search(r"^kernel=(\S+)", config, re.M)
    initrd = re.search(r"^initramfs (\S+)", config, re.M)
    assert kernel and initrd, f"config.txt names no kernel/initramfs:\n{config}"
    paths = []
    for name in (kernel[1], initrd[1]):
        run("mcopy", "-o", "-i", drive, f"::/{name}", str(dest / name), env=MTOOLS_ENV)
        paths.append(dest / name)
    return paths[0], paths[1], read_boot_file(image, "cmdline.txt").strip()


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Lan:
    """A network namespace with a DHCP server, where the VM's tap NIC is plugged in."""

    name: str
    tap: str
    workdir: Path
    address: str = "10.213.77.1"
    prefix: int = 24
    dnsmasq: subprocess.Popen[bytes] | None = None

    def plug(self) -> None:
        """Move the VM's tap device here and serve DHCP on it."""
        run("ip", "link", "set", self.tap, "netns", self.name)
        run("ip", "-n", self.name, "addr", "add", f"{self.address}/{self.prefix}", "dev", self.tap)
        run("ip", "-n", self.name, "link", "set", self.tap, "up")
        base = self.address.rsplit(".", 1)[0]
        self.dnsmasq = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.name,
                "dnsmasq",
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--port=0",
                f"--interface={self.tap}",
                "--bind-interfaces",
                f"--dhcp-range={base}.10,{base}.50,12h",
                f"--dhcp-leasefile={self.workdir / 'dnsmasq.leases'}",
                f"--pid-file={self.workdir / 'dnsmasq.pid'}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def unplug(self) -> None:
        """Stop DHCP; the tap device goes away with the VM."""
        if self.dnsmasq is not None:
            self.dnsmasq.terminate()
            self.dnsmasq.wait(10)
            self.dnsmasq = None

    def exec(self, *cmd: str, timeout: float) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace."""
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *cmd],
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@contextlib.contextmanager
def lan(workdir: Path) -> Iterator[Lan]:
    """A fresh namespace, named after this process so parallel runs don't collide."""
    name = f"appl-img-{os.getpid()}"
    ns = Lan(name=name, tap=f"applt{os.getpid() % 100000}", workdir=workdir)
    run("ip", "netns", "add", name)
    try:
        run("ip", "-n", name, "link", "set", "lo", "up")
        yield ns
    finally:
        ns.unplug()
        subprocess.run(["ip", "netns", "del", name], check=False)


@dataclass
class Vm:
    """One boot of the image; `kill()` is a power cut (no shutdown)."""

    image: Path
    kernel: Path
    initrd: Path
    cmdline: str
    console: Path
    net: Lan
    http_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0

    def start(self) -> None:
        """Start QEMU, then plug its tap NIC into the test's namespace."""
        # The image's own cmdline.txt (root=LABEL=RASPIROOT ...), with the console on
        # the virt machine's PL011 serial port instead of the Pi's.
        args = [a for a in self.cmdline.split() if not a.startswith("console=")]
        # The journal goes to the console too, so a failure's console tail says what happened.
        append = " ".join([*args, "console=ttyAMA0", "systemd.journald.forward_to_console=1"])
        self.console.write_bytes(b"")
        cmd = [
            "qemu-system-aarch64",
            "-M",
            "virt",
            "-cpu",
            "cortex-a72",
            "-smp",
            "2",
            "-m",
            "1024",
            "-accel",
            "tcg,thread=multi",
            "-no-reboot",
            "-display",
            "none",
            "-monitor",
            "none",
            "-serial",
            f"file:{self.console}",
            "-kernel",
            str(self.kernel),
            "-initrd",
            str(self.initrd),
            "-append",
            append,
            "-drive",
            f"file={self.image},format=raw,if=none,id=disk0,cache=writeback",
            "-device",
            "virtio-blk-pci,drive=disk0",
            "-object",
            "rng-random,filename=/dev/urandom,id=rng0",
            "-device",
            "virtio-rng-pci,rng=rng0",
            "-netdev",
            f"user,id=lan0,hostfwd=tcp:127.0.0.1:{self.http_port}-:80",
            "-device",
            "virtio-net-pci,netdev=lan0,romfile=,mac=52:54:00:a0:00:01",
            "-netdev",
            f"tap,id=lan1,ifname={self.net.tap},script=no,downscript=no",
            "-device",
            "virtio-net-pci,netdev=lan1,romfile=,mac=52:54:00:a0:00:02",
        ]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        # QEMU creates the tap device while it initialises, before the guest runs.
        tap = Path("/sys/class/net") / self.net.tap
        while not tap.exists():
            self.check_alive()
            if time.monotonic() - self.started > 30:
                raise TimeoutError(f"QEMU made no {self.net.tap} device in 30 s")
            time.sleep(0.05)
        self.net.plug()

    def check_alive(self) -> None:
        """Fail with QEMU's own words if it has exited."""
        assert self.proc is not None
        if self.proc.poll() is not None:
            stderr = self.proc.stderr
            err = stderr.read().decode() if stderr and not stderr.closed else ""
            raise RuntimeError(
                f"QEMU exited ({self.proc.returncode}): {err.strip()}\n"
                f"console tail:\n{self.console_tail()}"
            )

    def console_text(self) -> str:
        return self.console.read_text(errors="replace")

    def console_tail(self, lines: int = 40) -> str:
        return "\n".join(self.console_text().splitlines()[-lines:])

    def wait_console(self, pattern: str, timeout: float) -> re.Match[str]:
        """Wait until the serial console shows `pattern` (a regex)."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            match = regex.search(self.console_text())
            if match:
                return match
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"no {pattern!r} on the console in {timeout:.0f} s; "
                    f"tail:\n{self.console_tail()}"
                )
            time.sleep(0.5)

    def http(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        """One JSON request to the appliance through the forwarded port."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def wait_http(self, path: str, timeout: float) -> Any:
        """Wait until the appliance answers `path` with 200 (the port is open before that:
        QEMU accepts forwarded connections and resets them while nothing listens)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.http("GET", path, timeout=10)
            except (OSError, urllib.error.URLError, ValueError):
                self.check_alive()
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"GET {path} did not answer in {timeout:.0f} s; console "
                        f"tail:\n{self.console_tail()}"
                    ) from None
                time.sleep(1)

    def kill(self) -> None:
        """Power cut: SIGKILL, no shutdown, nothing flushed by the guest."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()  # else an unclosed-file ResourceWarning, an error in pytest
        self.net.unplug()

    def uptime(self) -> float:
        return time.monotonic() - self.started


def have_tools() -> list[str]:
    """The commands this module needs that are missing."""
    tools = ["qemu-system-aarch64", "mcopy", "mtype", "sfdisk", "ip", "dnsmasq"]
    return [t for t in tools if shutil.which(t) is None]
