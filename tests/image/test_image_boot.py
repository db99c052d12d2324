"""Boot the Debian arm64 test image in QEMU and check the appliance from outside the VM.

Runs under `make image-test` (as root), which builds the image and sets APPLIANCE_IMAGE to it.
One boot with a settings file on the boot partition, a power cut, a second boot with a
malformed settings file; in it, /etc/appliance/appliance.toml is edited and the appliance
restarted, as the owner's guide (image/README.md) says.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import ready_line_pattern

from .qemu_vm import (
    Lan,
    Vm,
    extract_kernel,
    have_tools,
    install_test_shell,
    lan,
    run,
    write_boot_file,
)

IMAGE = os.environ.get("APPLIANCE_IMAGE")
# Software emulation on 2 cores: kernel, systemd, then Python importing the appliance.
BOOT_TIMEOUT = float(os.environ.get("APPLIANCE_BOOT_TIMEOUT", "480"))
SETTINGS = "appliance-settings.toml"
HOSTNAME = f"wot-ci-{secrets.token_hex(2)}"
THING_NAME = "CI lamp"
EDITED_NAME = "Edited lamp"

pytestmark = [
    pytest.mark.image_boot,
    pytest.mark.timeout(1500),
    pytest.mark.skipif(not IMAGE, reason="boots the image in QEMU: run `make image-test` as root"),
]


def log(message: str) -> None:
    print(f"    [image] {message}", flush=True)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.geteuid() != 0:
        pytest.fail("the boot test needs root (network namespace, tap device)")
    if missing := have_tools():
        pytest.fail(f"missing {', '.join(missing)}: run image/scripts/install-deps.sh")
    return tmp_path_factory.mktemp("image-boot")


@pytest.fixture(scope="module")
def image(workdir: Path) -> Path:
    """A copy of the built image, so the test's boots leave the artifact untouched; the copy
    gets the test's shell on a virtio port (qemu_vm.install_test_shell)."""
    assert IMAGE and Path(IMAGE).is_file(), f"APPLIANCE_IMAGE={IMAGE} is not a file"
    copy = workdir / "disk.img"
    run("cp", "--sparse=always", IMAGE, str(copy))
    install_test_shell(copy, workdir)
    return copy


@pytest.fixture(scope="module")
def boot_files(image: Path, workdir: Path) -> tuple[Path, Path, str]:
    return extract_kernel(image, workdir)


@pytest.fixture(scope="module")
def net(workdir: Path) -> Iterator[Lan]:
    with lan(workdir) as ns:
        yield ns


def boot(image: Path, boot_files: tuple[Path, Path, str], net: Lan, console: Path) -> Vm:
    kernel, initrd, cmdline = boot_files
    vm = Vm(image=image, kernel=kernel, initrd=initrd, cmdline=cmdline, console=console, net=net)
    vm.start()
    log(f"QEMU started; waiting for the appliance on 127.0.0.1:{vm.http_port} (port 80 in the VM)")
    vm.wait_http("/", BOOT_TIMEOUT)
    log(f"appliance answered {vm.uptime():.0f} s after power-on")
    return vm


def probe(net: Lan, host: str, *, reverse: bool = False, timeout: float = 120) -> dict[str, Any]:
    """Browse mDNS from inside the namespace with python-zeroconf (and ask Avahi for the
    reverse names of the VM's addresses if `reverse`)."""
    script = Path(__file__).with_name("mdns_probe.py")
    started = time.monotonic()
    extra = ["--reverse"] if reverse else []
    proc = net.exec(
        sys.executable,
        str(script),
        "--host",
        host,
        "--timeout",
        str(timeout),
        "--source",
        net.address,
        *extra,
        timeout=timeout * 2 + 60,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    log(f"mDNS browse took {time.monotonic() - started:.0f} s")
    return seen


@pytest.fixture(scope="module")
def first_boot(
    image: Path, boot_files: tuple[Path, Path, str], net: Lan, workdir: Path
) -> Iterator[Vm]:
    write_boot_file(
        image, SETTINGS, f'hostname = "{HOSTNAME}"\n\n[discovery]\nname = "{THING_NAME}"\n', workdir
    )
    vm = boot(image, boot_files, net, workdir / "console-1.log")
    yield vm
    vm.kill()


@pytest.fixture(scope="module")
def first_adverts(first_boot: Vm, net: Lan) -> dict[str, Any]:
    return probe(net, HOSTNAME, reverse=True)


@pytest.fixture(scope="module")
def second_boot(
    first_boot: Vm,
    first_adverts: dict[str, Any],
    image: Path,
    boot_files: tuple[Path, Path, str],
    net: Lan,
    workdir: Path,
) -> Iterator[tuple[Vm, int]]:
    """Set a brightness, cut the power, put a malformed settings file in, boot again."""
    brightness = (
        37 if first_boot.http("GET", "/0/properties/brightness")["brightness"] != 37 else 63
    )
    first_boot.http("PUT", "/0/properties/brightness", {"brightness": brightness})
    assert first_boot.http("GET", "/0/properties/brightness") == {"brightness": brightness}
    first_boot.kill()
    log(f"brightness {brightness} set, then QEMU killed (power cut)")
    write_boot_file(image, SETTINGS, 'hostname = "unterminated\n[server\nport = 80\n', workdir)
    vm = boot(image, boot_files, net, workdir / "console-2.log")
    yield vm, brightness
    vm.kill()


def test_boot_partition_is_debian_raspi_layout(image: Path, boot_files: tuple[Path, Path, str]):
    """RASPIFIRM (FAT) + RASPIROOT (ext4), root found by label, a small initramfs."""
    table = json.loads(run("sfdisk", "--json", str(image)).stdout)["partitiontable"]
    labels = []
    for part in table["partitions"]:
        offset = part["start"] * 512
        probe_out = run(
            "blkid",
            "--probe",
            "--offset",
            str(offset),
            "-s",
            "LABEL",
            "-s",
            "TYPE",
            "-o",
            "export",
            str(image),
        ).stdout
        labels.append(dict(line.split("=", 1) for line in probe_out.split()))
    assert [(p["LABEL"], p["TYPE"]) for p in labels] == [
        ("RASPIFIRM", "vfat"),
        ("RASPIROOT", "ext4"),
    ]
    kernel, initrd, cmdline = boot_files
    assert "root=LABEL=RASPIROOT" in cmdline.split()
    size_mib = initrd.stat().st_size / 2**20
    log(f"initramfs {size_mib:.1f} MiB, kernel {kernel.stat().st_size / 2**20:.1f} MiB")
    assert size_mib < 20, "the initramfs should hold only the listed modules"
    if shutil.which("cpio") and shutil.which("zstd"):
        listing = subprocess.run(
            f"zstd -dc {initrd} | cpio -it --quiet", shell=True, capture_output=True, text=True
        ).stdout
        for module in ("virtio_blk.ko", "sdhci-iproc.ko", "mmc_block.ko", "ext4.ko"):
            assert module in listing, f"{module} missing from the initramfs"


def test_serves_lamp_and_sensor(first_boot: Vm):
    """Port 80 answers with both Thing Descriptions; the lamp and the sensor read back."""
    things = first_boot.http("GET", "/")
    assert isinstance(things, list) and len(things) == 2, things
    brightness = first_boot.http("GET", "/0/properties/brightness")
    assert set(brightness) == {"brightness"} and 0 <= brightness["brightness"] <= 100
    on = first_boot.http("GET", "/0/properties/on")
    assert isinstance(on["on"], bool)
    humidity = first_boot.http("GET", "/1/properties/humidity")
    temperature = first_boot.http("GET", "/1/properties/temperature")
    log(f"lamp {brightness} {on}; sensor {humidity} {temperature}")
    assert set(humidity) == {"humidity"} and set(temperature) == {"temperature"}


def test_adverts_carry_the_settings_hostname(first_adverts: dict[str, Any], net: Lan):
    """A python-zeroconf browser on the VM's network sees both service types, served by the
    host name the settings file on the boot partition asked for."""
    for type_ in ("_webthing._tcp.local.", "_wot._tcp.local."):
        ours = [i for i in first_adverts["adverts"][type_] if i["server"] == f"{HOSTNAME}.local."]
        assert ours, f"no {type_} advert from {HOSTNAME}.local.: {first_adverts['adverts']}"
        for info in ours:
            assert info["port"] == 80
            # A gateway on this network needs an address it can reach.
            assert any(
                a.startswith(net.address.rsplit(".", 1)[0] + ".") for a in info["addresses"]
            ), info["addresses"]
            log(f"{info['name']} -> {info['server']}:{info['port']} {info['txt']}")
        # [discovery] name from the settings file names the adverts.
        assert any(i["name"].startswith(f"{THING_NAME}.") for i in ours), ours
    assert all("path" in i["txt"] for i in first_adverts["adverts"]["_webthing._tcp.local."])
    for info in first_adverts["adverts"]["_wot._tcp.local."]:
        assert {"td", "type", "scheme"} <= set(info["txt"])


def test_avahi_shares_port_5353(first_adverts: dict[str, Any]):
    """Avahi answers beside the appliance's python-zeroconf adverts: both have sockets on UDP
    5353 and both answer. The reverse-address record (in-addr.arpa) comes from Avahi alone:
    python-zeroconf never publishes one."""
    reverse = first_adverts["reverse"]
    assert reverse, f"no VM address on the test network in the adverts: {first_adverts}"
    log(f"Avahi's reverse answers: {reverse}")
    names = [n for answers in reverse.values() for n in answers]
    assert names, "Avahi did not answer the reverse-address query"
    assert all(re.fullmatch(rf"{HOSTNAME}(-\d+)?\.local\.", n) for n in names), names


def test_journal_says_when_it_serves(first_boot: Vm):
    """The line the owner's guide tells people to look for, and how long the boot took."""
    journal = first_boot.shell(
        "journalctl -b --no-pager -o short-monotonic -u appliance-settings -u appliance"
    )
    ready = [line for line in journal.splitlines() if ready_line_pattern().search(line)]
    assert ready, f"no ready line in the journal:\n{journal}"
    log(f"journal: {ready[0].strip()}")
    assert f"'{THING_NAME}' on simulated hardware" in ready[0]
    assert f"http://{HOSTNAME}.local:80/" in ready[0]
    log("systemd-analyze: " + first_boot.shell("systemd-analyze time || true").strip())


def test_avahi_keeps_the_host_name(first_adverts: dict[str, Any]):
    """Avahi owns <hostname>.local (and its reverse records); the appliance owns its services."""
    names = [n for answers in first_adverts["reverse"].values() for n in answers]
    assert names and all(n == f"{HOSTNAME}.local." for n in names), names


def test_brightness_survives_a_power_cut(second_boot: tuple[Vm, int]):
    vm, brightness = second_boot
    assert vm.http("GET", "/0/properties/brightness") == {"brightness": brightness}


def test_malformed_settings_leave_defaults_and_say_why(second_boot: tuple[Vm, int], net: Lan):
    vm, _ = second_boot
    # apply-settings writes to the journal and the console.
    vm.wait_console(r"appliance-settings\.toml is malformed", 60)
    things = vm.http("GET", "/")
    assert len(things) == 2
    # The host name from the first boot stays; nothing of the broken file applies, and the
    # first boot's [discovery] name is gone with it: the default name is advertised.
    adverts = probe(net, HOSTNAME)["adverts"]["_webthing._tcp.local."]
    ours = [i for i in adverts if i["server"] == f"{HOSTNAME}.local."]
    assert ours, adverts
    log(f"adverts after the malformed file: {[i['name'] for i in ours]}")
    assert not any(i["name"].startswith(f"{THING_NAME}.") for i in ours)


def test_an_edit_of_the_config_applies_on_restart(second_boot: tuple[Vm, int], net: Lan):
    """Edit /etc/appliance/appliance.toml in the VM, check it, `systemctl restart appliance`:
    the new [discovery] name is advertised. (This boot's settings file is malformed, so
    /etc/appliance/appliance.toml is the whole config; a valid one would still win for the
    keys it sets.)"""
    vm, _ = second_boot
    vm.shell(
        f"sed -i 's/^\\[discovery\\]$/&\\nname = \"{EDITED_NAME}\"/' /etc/appliance/appliance.toml"
    )
    log("edited: " + vm.shell("grep -A2 '^\\[discovery\\]' /etc/appliance/appliance.toml"))
    vm.shell("appliance check-config --config /etc/appliance/appliance.toml")
    started = time.monotonic()
    vm.shell("systemctl restart appliance")
    vm.wait_http("/", BOOT_TIMEOUT)
    log(f"systemctl restart appliance: serving again after {time.monotonic() - started:.0f} s")
    ours = [
        i
        for i in probe(net, HOSTNAME)["adverts"]["_webthing._tcp.local."]
        if i["server"] == f"{HOSTNAME}.local."
    ]
    log(f"adverts after the restart: {[i['name'] for i in ours]}")
    assert any(i["name"].startswith(f"{EDITED_NAME}.") for i in ours), ours
    journal = vm.shell("journalctl -b --no-pager -o cat -u appliance")
    assert f"appliance '{EDITED_NAME}' on simulated hardware" in journal
