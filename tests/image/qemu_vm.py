"""Boot the Debian test image in QEMU (arm64 `virt`, software emulation) and talk to it.

The VM gets two NICs: user-mode networking with the appliance's port 80 forwarded to a loopback
port of this machine (the HTTP checks), and a tap device moved into a network namespace the test
owns (user-mode networking carries no multicast, so mDNS is checked there).

It also gets a virtio serial port wired to a Unix socket of the test. The image has no password
and no SSH, so the test's own copy of it (never the built artifact) gets one more unit, written
into its root file system with debugfs before the first boot: a root shell on that port, through
which the test does what a user would do on the Pi (edit a file, `systemctl restart appliance`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
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
#: The virtio port the test's shell listens on, as /dev/virtio-ports/<name> in the VM.
SHELL_PORT = "appliance-test-shell"
SHELL_UNIT_NAME = "appliance-test-shell.service"
SHELL_UNIT = f"""\
[Unit]
Description=Boot test only: a root shell on the virtio port {SHELL_PORT}
StartLimitIntervalSec=0

[Service]
ExecStart=/bin/sh -c 'until [ -e /dev/virtio-ports/{SHELL_PORT} ]; do sleep 1; done; \\
  exec /bin/sh <>/dev/virtio-ports/{SHELL_PORT} >&0 2>&0'
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
"""


def run(*cmd: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command, failing with its output when it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def partitions(image: Path) -> list[dict[str, Any]]:
    """The image's MBR partition table, as sfdisk reads it."""
    table = json.loads(run("sfdisk", "--json", str(image)).stdout)["partitiontable"]
    return list(table["partitions"])


def boot_partition(image: Path) -> str:
    """The FAT partition of `image` as an mtools drive spec (`file@@offset`)."""
    part = partitions(image)[0]
    assert part["type"] == "c", f"first partition is not FAT32 (LBA): {part}"
    return f"{image}@@{part['start'] * SECTOR}"


def root_partition(image: Path) -> str:
    """The ext4 partition of `image` as an e2fsprogs device spec (`file?offset=N`)."""
    part = partitions(image)[1]
    assert part["type"] == "83", f"second partition is not Linux: {part}"
    return f"{image}?offset={part['start'] * SECTOR}"


def install_test_shell(image: Path, scratch: Path) -> None:
    """Add the test's shell unit (see the module's doc) to the root file system of `image`,
    enabled, with debugfs: no loop device, no mount. Only before the image's first boot: a file
    system that needs its journal replayed (after a power cut) is not for debugfs to write."""
    unit = scratch / SHELL_UNIT_NAME
    unit.write_text(SHELL_UNIT)
    unit.chmod(0o644)
    target = f"/etc/systemd/system/{SHELL_UNIT_NAME}"
    wants = f"/etc/systemd/system/multi-user.target.wants/{SHELL_UNIT_NAME}"
    commands = scratch / "debugfs-commands"
    commands.write_text(f"write {unit} {target}\nsymlink {wants} {target}\n")
    device = root_partition(image)
    run("debugfs", "-w", "-f", str(commands), device)
    # debugfs reports a failed command on stderr and still exits 0: read both back.
    written = run("debugfs", "-R", f"cat {target}", device).stdout
    assert written == SHELL_UNIT, f"debugfs did not write {target}: {written!r}"
    link = run("debugfs", "-R", f"stat {wants}", device).stdout
    assert target in link, f"debugfs did not link {wants}: {link!r}"


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
    shell_socket: socket.socket | None = None

    def start(self) -> None:
        """Start QEMU, then plug its tap NIC into the test's namespace."""
        # The image's own cmdline.txt (root=LABEL=RASPIROOT ...), with the console on
        # the virt machine's PL011 serial port instead of the Pi's.
        args = [a for a in self.cmdline.split() if not a.startswith("console=")]
        # The journal goes to the console too, so a failure's console tail says what happened.
        append = " ".join([*args, "console=ttyAMA0", "systemd.journald.forward_to_console=1"])
        self.console.write_bytes(b"")
        # QEMU connects to this socket as it starts; the guest's shell unit opens the port.
        shell_path = self.console.with_suffix(".shell.sock")
        shell_path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(shell_path))
        listener.listen(1)
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
            "-device",
            "virtio-serial-pci,id=vser0",
            "-chardev",
            f"socket,id=shell0,path={shell_path}",
            "-device",
            f"virtserialport,bus=vser0.0,chardev=shell0,name={SHELL_PORT}",
        ]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        with listener:
            listener.settimeout(30)
            try:
                self.shell_socket, _ = listener.accept()
            except TimeoutError:
                self.check_alive()
                raise TimeoutError("QEMU did not connect to the shell socket in 30 s") from None
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

    def shell(self, command: str, timeout: float = 120) -> str:
        """Run `command` as root in the VM (sh -c) and return its output (stdout and stderr);
        fail with the output if it exits non-zero. The shell unit starts late in the boot:
        call this once the appliance answers."""
        assert self.shell_socket is not None, "the VM is not running"
        marker = f"@@{secrets.token_hex(4)}"
        line = f'/bin/sh -c {shlex.quote(command)} </dev/null 2>&1; echo "{marker} $?"\n'
        self.shell_socket.settimeout(timeout)
        self.shell_socket.sendall(line.encode())
        done = re.compile(rf"{marker} (\d+)\n")
        received = b""
        deadline = time.monotonic() + timeout
        while not (match := done.search(received.decode(errors="replace"))):
            if time.monotonic() > deadline:
                raise TimeoutError(f"`{command}` did not finish in {timeout:.0f} s: {received!r}")
            try:
                chunk = self.shell_socket.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise RuntimeError(f"the VM's shell closed during `{command}`: {received!r}")
            received += chunk
        output = received.decode(errors="replace")[: match.start()]
        if match[1] != "0":
            raise RuntimeError(f"`{command}` exited {match[1]} in the VM:\n{output}")
        return output

    def kill(self) -> None:
        """Power cut: SIGKILL, no shutdown, nothing flushed by the guest."""
        if self.shell_socket is not None:
            self.shell_socket.close()
            self.shell_socket = None
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
    tools = ["qemu-system-aarch64", "mcopy", "mtype", "sfdisk", "ip", "dnsmasq", "debugfs"]
    return [t for t in tools if shutil.which(t) is None]
